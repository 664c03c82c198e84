//! The audit table for the terminal: what was audited, the framework
//! scores, the findings grouped by control, then errors, gaps and warnings.
//! Every text from the input passes through [`printable`].

use comfy_table::{Table, presets};
use rampart_posture::{Finding, Severity, TextPosition};

use super::{AuditReport, place};
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
        let kinds: Vec<String> = report
            .skipped
            .iter()
            .map(|(kind, count)| format!("{count} {}", printable(kind)))
            .collect();
        out.push_str(&format!(
            "Skipped:      {skipped} objects of kinds no control reads ({})\n",
            kinds.join(", ")
        ));
    }
    out.push_str(&format!("PSS version:  {}\n\n", report.pss_version));

    out.push_str(&scores_table(report));
    out.push('\n');

    let active: Vec<(&Finding, Option<TextPosition>)> = report
        .located_findings()
        .filter(|(finding, _)| !finding.is_excepted())
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
            if score.evaluated == 0 {
                "n/a".to_owned()
            } else {
                format!("{:.1}%", score.score)
            },
            format!("{} of {}", score.failed_controls, score.controls),
            format!("{} of {}", score.failed, score.evaluated),
        ]);
    }
    pad(&mut table, 4);
    table.trim_fmt() + "\n"
}

/// Lays the findings out in aligned columns. Written by hand rather than
/// with comfy-table, because an audit can have hundreds of thousands of
/// rows and comfy-table keeps a styled cell object for each one.
fn findings_table(active: &[(&Finding, Option<TextPosition>)], color: bool) -> String {
    const HEADER: [&str; 6] = [
        "SEVERITY",
        "CONTROL",
        "RESOURCE",
        "CONTAINER",
        "LOCATION",
        "MESSAGE",
    ];
    let rows: Vec<[String; 6]> = active
        .iter()
        .map(|(finding, position)| {
            let location = finding
                .origin
                .as_ref()
                .map(|origin| place(&origin.source, *position))
                .unwrap_or_default();
            [
                finding.severity.as_str().to_owned(),
                finding.control.id.to_owned(),
                printable(&finding.resource.display()),
                finding
                    .container
                    .as_deref()
                    .map(printable)
                    .unwrap_or_default(),
                printable(&location),
                printable(&finding.message),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut out = String::with_capacity(rows.len() * 160);
    let header: Vec<String> = HEADER.iter().map(|title| (*title).to_owned()).collect();
    push_row(&mut out, &header, &widths, |_, text| bold(text, color));
    for (row, (finding, _)) in rows.iter().zip(active) {
        push_row(&mut out, row, &widths, |column, text| {
            if column == 0 {
                colored_severity(finding.severity, text, color)
            } else {
                text.to_owned()
            }
        });
    }
    out
}

/// Appends one row: each cell padded to its column's width and two spaces,
/// the last cell unpadded. `style` wraps a cell's text after padding is
/// measured, so escape sequences do not shift the columns.
fn push_row(
    out: &mut String,
    cells: &[String],
    widths: &[usize],
    style: impl Fn(usize, &str) -> String,
) {
    let last = cells.len() - 1;
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        out.push_str(&style(index, cell));
        if index < last {
            let padding = width - cell.chars().count() + 2;
            out.extend(std::iter::repeat_n(' ', padding));
        }
    }
    let trimmed = out.trim_end_matches(' ').len();
    out.truncate(trimmed);
    out.push('\n');
}

fn bold(text: &str, color: bool) -> String {
    if color {
        format!("\u{1b}[1m{text}\u{1b}[0m")
    } else {
        text.to_owned()
    }
}

fn colored_severity(severity: Severity, text: &str, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    let code = match severity {
        Severity::Critical => "1;91",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

fn summary_line(report: &AuditReport, active: &[(&Finding, Option<TextPosition>)]) -> String {
    let count = |severity: Severity| {
        active
            .iter()
            .filter(|(f, _)| f.severity == severity)
            .count()
    };
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
