//! The audit table for the terminal: what was audited, the framework
//! scores, the findings grouped by control, then errors, gaps and warnings.
//! Every text from the input passes through [`printable`].

use comfy_table::{Attribute, Cell, Color, Table, presets};
use rampart_posture::{Finding, Severity};

use super::AuditReport;
use crate::table::printable;

pub(super) fn render(report: &AuditReport, color: bool) -> String {
    let mut out = String::new();
    let objects: usize = report.objects.values().sum();
    let kinds: Vec<String> = report
        .objects
        .iter()
        .map(|(kind, count)| format!("{count} {kind}"))
        .collect();
    out.push_str(&format!(
        "Audited:      {objects} objects ({})\n",
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            kinds.join(", ")
        }
    ));
    let skipped: usize = report.skipped.values().sum();
    if skipped > 0 {
        out.push_str(&format!(
            "Skipped:      {skipped} objects of kinds no control reads\n"
        ));
    }
    out.push_str(&format!("PSS version:  {}\n\n", report.pss_version));

    out.push_str(&scores_table(report));
    out.push('\n');

    let active: Vec<&Finding> = report
        .result
        .findings
        .iter()
        .filter(|finding| !finding.is_excepted())
        .collect();
    if active.is_empty() {
        out.push_str("No findings.\n");
    } else {
        out.push_str(&findings_table(&active, color));
        out.push('\n');
    }

    for error in &report.errors {
        let place = match error.line {
            Some(line) => format!("{}:{line}", error.source),
            None => error.source.clone(),
        };
        out.push_str(&format!(
            "error: {}: {}\n",
            printable(&place),
            printable(&error.message)
        ));
    }
    for gap in &report.gaps {
        out.push_str(&format!("gap: {}\n", printable(gap)));
    }
    for warning in &report.warnings {
        out.push_str(&format!("warning: {}\n", printable(warning)));
    }
    for expired in &report.exceptions.expired {
        out.push_str(&format!(
            "warning: exception {} no longer applies\n",
            printable(expired)
        ));
    }
    out.push_str(&summary_line(report, &active));
    out
}

fn scores_table(report: &AuditReport) -> String {
    let mut table = plain_table();
    table.set_header(["FRAMEWORK", "SCORE", "CONTROLS FAILED", "CHECKS FAILED"]);
    for score in &report.scores {
        table.add_row([
            score.framework.title().to_owned(),
            format!("{:.1}%", score.score),
            format!("{} of {}", score.failed_controls, score.controls),
            format!("{} of {}", score.failed, score.evaluated),
        ]);
    }
    pad(&mut table, 4);
    table.trim_fmt() + "\n"
}

fn findings_table(active: &[&Finding], color: bool) -> String {
    let mut table = plain_table();
    if color {
        table.enforce_styling();
    }
    let header = ["SEVERITY", "CONTROL", "RESOURCE", "CONTAINER", "MESSAGE"];
    table.set_header(header.iter().map(|title| {
        let cell = Cell::new(title);
        if color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for finding in active {
        table.add_row(vec![
            severity_cell(finding.severity, color),
            Cell::new(finding.control.id),
            Cell::new(printable(&finding.resource.display())),
            Cell::new(
                finding
                    .container
                    .as_deref()
                    .map(printable)
                    .unwrap_or_default(),
            ),
            Cell::new(printable(&finding.message)),
        ]);
    }
    pad(&mut table, header.len());
    table.trim_fmt() + "\n"
}

fn summary_line(report: &AuditReport, active: &[&Finding]) -> String {
    let count = |severity: Severity| active.iter().filter(|f| f.severity == severity).count();
    let excepted = report.result.findings.len() - active.len();
    format!(
        "{} findings: {} critical, {} high, {} medium, {} low; {excepted} accepted by exceptions\n",
        active.len(),
        count(Severity::Critical),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
    )
}

fn plain_table() -> Table {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    // The caller decides about colour, so comfy-table must not probe
    // whether stdout is a terminal.
    table.force_no_tty();
    table
}

fn pad(table: &mut Table, columns: usize) {
    for index in 0..columns {
        if let Some(column) = table.column_mut(index) {
            column.set_padding((0, 2));
        }
    }
}

fn severity_cell(severity: Severity, color: bool) -> Cell {
    let cell = Cell::new(severity.as_str());
    if !color {
        return cell;
    }
    match severity {
        Severity::Critical => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Severity::High => cell.fg(Color::DarkRed),
        Severity::Medium => cell.fg(Color::Yellow),
        Severity::Low => cell.fg(Color::Cyan),
    }
}
