//! The scan table for the terminal: header lines that name the image, the
//! distro, the OS namespace and the database, then one table of the active
//! findings grouped by package, the warnings, and a summary line of counts.
//!
//! Suppressed findings are left out of the table and counted in the summary
//! line. Every text from the image or an advisory passes through
//! [`printable`], so no escape sequence reaches the terminal from the data.

use std::cmp::Reverse;
use std::collections::HashMap;

use comfy_table::{Attribute, Cell, Color, Table, presets};
use rampart_advisory::Rating;
use rampart_match::{Finding, MatchedPackage};

use super::{RenderOptions, ScanReport, Summary, distro_name, epss_text, rfc3339, warnings};
use crate::sbom::short_digest;
use crate::table::printable;

const HEADER: [&str; 6] = [
    "PACKAGE / VULNERABILITY",
    "SEVERITY",
    "STATUS",
    "FIXED IN",
    "KEV",
    "EPSS",
];

/// Renders the table, ending with a newline. With `options.color`, headers
/// and package rows are bold and severities coloured. Without it the output
/// contains no escape sequences.
pub(super) fn render(report: &ScanReport, options: RenderOptions) -> String {
    let mut out = header_lines(report);
    out.push('\n');

    let active: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|finding| finding.is_active())
        .collect();
    if active.is_empty() {
        out.push_str("No vulnerabilities found.\n");
    } else {
        out.push_str(&findings_table(&active, options.color));
        out.push('\n');
    }

    for warning in warnings(report) {
        out.push_str("warning: ");
        out.push_str(&printable(warning));
        out.push('\n');
    }
    out.push_str(&summary_line(&Summary::of(&report.findings)));
    out.push('\n');
    out
}

fn header_lines(report: &ScanReport) -> String {
    let source = &report.inventory.source;
    let mut image = printable(&source.name);
    if let Some(digest) = source
        .manifest_digest
        .as_deref()
        .or(source.image_id.as_deref())
    {
        image.push_str(&format!(" ({})", printable(short_digest(digest))));
    }

    let database = &report.database;
    let mut database_text = format!(
        "built {}, schema {}",
        rfc3339(database.built_at),
        database.schema_version
    );
    if database.too_old {
        database_text.push_str(", older than the configured maximum age");
    }

    let lines = [
        ("Image:", image),
        (
            "Distro:",
            printable(&distro_name(report.inventory.distro.as_ref())),
        ),
        (
            "OS namespace:",
            printable(report.os_namespace.as_deref().unwrap_or("none")),
        ),
        ("Database:", database_text),
    ];
    let mut out = String::new();
    for (label, value) in lines {
        out.push_str(&format!("{label:<14}{value}\n"));
    }
    out
}

fn findings_table(active: &[&Finding], color: bool) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    // The caller decides about colour, so comfy-table must not probe
    // whether stdout is a terminal.
    table.force_no_tty();
    if color {
        table.enforce_styling();
    }

    table.set_header(HEADER.iter().map(|title| bold(Cell::new(title), color)));

    for (package, findings) in group_by_package(active) {
        let label = format!(
            "{} {}",
            printable(&package.name),
            printable(&package.version)
        );
        table.add_row(vec![bold(Cell::new(label), color)]);
        for finding in findings {
            table.add_row(finding_row(finding, color));
        }
    }

    for index in 0..HEADER.len() {
        if let Some(column) = table.column_mut(index) {
            column.set_padding((0, 2));
        }
    }
    table.trim_fmt()
}

fn finding_row(finding: &Finding, color: bool) -> Vec<Cell> {
    vec![
        Cell::new(format!("  {}", printable(&finding.id))),
        severity_cell(finding.severity, color),
        Cell::new(finding.status.name()),
        Cell::new(
            finding
                .fixed_version
                .as_deref()
                .map(printable)
                .unwrap_or_default(),
        ),
        Cell::new(if finding.kev.is_some() { "KEV" } else { "" }),
        Cell::new(finding.epss.as_ref().map(epss_text).unwrap_or_default()),
    ]
}

/// Colours a severity: critical bright red and bold, high red, medium
/// yellow, low cyan, negligible and unknown dim.
pub(crate) fn severity_cell(rating: Rating, color: bool) -> Cell {
    let cell = Cell::new(rating.name());
    if !color {
        return cell;
    }
    match rating {
        Rating::Critical => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Rating::High => cell.fg(Color::DarkRed),
        Rating::Medium => cell.fg(Color::Yellow),
        Rating::Low => cell.fg(Color::Cyan),
        Rating::Negligible | Rating::Unknown => cell.add_attribute(Attribute::Dim),
    }
}

pub(crate) fn bold(cell: Cell, color: bool) -> Cell {
    if color {
        cell.add_attribute(Attribute::Bold)
    } else {
        cell
    }
}

/// Groups findings by package. Findings are first sorted by severity, highest
/// first (a stable sort, so the given order decides ties), and packages
/// appear in the order of their first finding: the package with the most
/// severe finding comes first.
fn group_by_package<'a>(active: &[&'a Finding]) -> Vec<(&'a MatchedPackage, Vec<&'a Finding>)> {
    let mut sorted = active.to_vec();
    sorted.sort_by_key(|finding| Reverse(finding.severity));

    let mut groups: Vec<(&MatchedPackage, Vec<&Finding>)> = Vec::new();
    let mut index: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for finding in sorted {
        let package = &finding.package;
        let key = (
            package.purl.as_str(),
            package.name.as_str(),
            package.version.as_str(),
        );
        match index.get(&key) {
            Some(&position) => groups[position].1.push(finding),
            None => {
                index.insert(key, groups.len());
                groups.push((package, vec![finding]));
            }
        }
    }
    groups
}

/// Formats the summary line, as in
/// `Total: 5 (high 3, medium 1, negligible 1) · fixable 4 · KEV 1 · suppressed 2`.
/// Severities with no findings are left out of the brackets.
pub(super) fn summary_line(summary: &Summary) -> String {
    let counts = [
        (Rating::Critical, summary.critical),
        (Rating::High, summary.high),
        (Rating::Medium, summary.medium),
        (Rating::Low, summary.low),
        (Rating::Negligible, summary.negligible),
        (Rating::Unknown, summary.unknown),
    ];
    let per_severity: Vec<String> = counts
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(rating, count)| format!("{} {count}", rating.name()))
        .collect();

    let mut line = format!("Total: {}", summary.total);
    if !per_severity.is_empty() {
        line.push_str(&format!(" ({})", per_severity.join(", ")));
    }
    line.push_str(&format!(
        " · fixable {} · KEV {} · suppressed {}",
        summary.fixable, summary.kev, summary.suppressed
    ));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_all_parts() {
        let summary = Summary {
            critical: 3,
            high: 40,
            medium: 80,
            low: 30,
            negligible: 0,
            unknown: 4,
            total: 157,
            fixable: 150,
            kev: 2,
            suppressed: 5,
        };
        assert_eq!(
            summary_line(&summary),
            "Total: 157 (critical 3, high 40, medium 80, low 30, unknown 4) · fixable 150 · KEV 2 · suppressed 5"
        );
    }

    #[test]
    fn summary_line_empty() {
        assert_eq!(
            summary_line(&Summary::default()),
            "Total: 0 · fixable 0 · KEV 0 · suppressed 0"
        );
    }
}
