//! The comparison as terminal tables: the two images and the database, the
//! findings per severity with the delta, the package changes, the image
//! facts, then the findings only in A, only in B and in both. Every text
//! from an image or an advisory passes through [`printable`].

use comfy_table::{Cell, Table, presets};

use super::{
    ChangedFinding, CountRow, DiffReport, PackageChanges, Side, fact_rows, reduction_text, signed,
};
use crate::sbom::short_digest;
use crate::scan::table::{bold, severity_cell};
use crate::scan::{distro_name, rfc3339};
use crate::table::printable;

/// Renders the report, ending with a newline. Without `color` the output
/// contains no escape sequences.
pub(super) fn render(report: &DiffReport, color: bool) -> String {
    let mut out = String::new();
    out.push_str(&format!("A: {}\n", side_line(&report.a)));
    out.push_str(&format!("B: {}\n", side_line(&report.b)));
    let database = &report.a.database;
    if report.same_database {
        out.push_str(&format!(
            "Database: built {}, schema {} (the same for both)\n",
            rfc3339(database.built_at),
            database.schema_version
        ));
    } else {
        out.push_str(&format!(
            "Database: A built {}, B built {} (different databases)\n",
            rfc3339(database.built_at),
            rfc3339(report.b.database.built_at)
        ));
    }
    for warning in &report.warnings {
        out.push_str("warning: ");
        out.push_str(&printable(warning));
        out.push('\n');
    }
    out.push('\n');

    let mut rows: Vec<Vec<Cell>> = report
        .severities
        .iter()
        .map(|row| {
            let rating = rampart_advisory::Rating::ALL
                .into_iter()
                .find(|rating| rating.name() == row.label)
                .unwrap_or_default();
            count_cells(severity_cell(rating, color), row)
        })
        .collect();
    for row in [
        &report.total,
        &report.unique,
        &report.kev,
        &report.fixable,
        &report.not_fixed,
    ] {
        rows.push(count_cells(bold(Cell::new(&row.label), color), row));
    }
    out.push_str(&table(
        &["VULNERABILITIES", "A", "B", "DELTA", "REDUCTION"],
        rows,
        color,
    ));
    out.push_str("\n\n");

    let package_rows = [
        ("OS packages", &report.os_packages),
        ("language packages", &report.language_packages),
    ]
    .into_iter()
    .map(|(label, changes)| package_cells(label, changes))
    .collect();
    out.push_str(&table(
        &[
            "PACKAGES",
            "A",
            "B",
            "REMOVED",
            "ADDED",
            "CHANGED",
            "UNCHANGED",
        ],
        package_rows,
        color,
    ));
    out.push_str("\n\n");

    let fact_rows = fact_rows(report)
        .into_iter()
        .map(|(label, a, b)| {
            vec![
                Cell::new(label),
                Cell::new(printable(&a)),
                Cell::new(printable(&b)),
            ]
        })
        .collect();
    out.push_str(&table(&["IMAGE", "A", "B"], fact_rows, color));
    out.push_str("\n\n");

    changed_section(&mut out, "Only in A (gone in B)", &report.only_in_a, color);
    changed_section(&mut out, "Only in B (new in B)", &report.only_in_b, color);

    out.push_str(&format!("In both: {}\n", report.in_both.len()));
    if !report.in_both.is_empty() {
        let rows = report
            .in_both
            .iter()
            .map(|common| {
                let version = if common.a.package.version == common.b.package.version {
                    common.a.package.version.clone()
                } else {
                    format!(
                        "{} -> {}",
                        common.a.package.version, common.b.package.version
                    )
                };
                let status = if common.a.status == common.b.status {
                    common.a.status.to_string()
                } else {
                    format!("{} -> {}", common.a.status, common.b.status)
                };
                vec![
                    severity_cell(common.a.severity, color),
                    Cell::new(printable(&common.a.id)),
                    Cell::new(printable(&common.a.package.name)),
                    Cell::new(printable(&version)),
                    Cell::new(status),
                    Cell::new(printable(common.b.fixed_version.as_deref().unwrap_or(""))),
                    Cell::new(if common.b.kev.is_some() { "yes" } else { "" }),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "SEVERITY",
                "VULNERABILITY",
                "PACKAGE",
                "VERSION",
                "STATUS",
                "FIXED IN (B)",
                "KEV",
            ],
            rows,
            color,
        ));
        out.push('\n');
    }

    let packages = [
        ("OS", &report.os_packages),
        ("language", &report.language_packages),
    ];
    for (label, changes) in packages {
        package_lists(&mut out, label, changes);
    }

    out.push_str(&format!(
        "\nTotal: A {}, B {} ({}, {} reduction); critical and high: A {}, B {}\n",
        report.total.a,
        report.total.b,
        signed(report.total.delta()),
        reduction_text(&report.total),
        critical_and_high(report, true),
        critical_and_high(report, false),
    ));
    out
}

fn critical_and_high(report: &DiffReport, a: bool) -> usize {
    report
        .severities
        .iter()
        .filter(|row| row.label == "critical" || row.label == "high")
        .map(|row| if a { row.a } else { row.b })
        .sum()
}

fn side_line(side: &Side) -> String {
    let mut line = printable(&side.source.name);
    if let Some(digest) = side
        .source
        .manifest_digest
        .as_deref()
        .or(side.source.image_id.as_deref())
    {
        line.push_str(&format!(" ({})", printable(short_digest(digest))));
    }
    line.push_str(&format!(
        ", {}",
        printable(&distro_name(side.distro.as_ref()))
    ));
    line
}

fn count_cells(label: Cell, row: &CountRow) -> Vec<Cell> {
    vec![
        label,
        Cell::new(row.a),
        Cell::new(row.b),
        Cell::new(signed(row.delta())),
        Cell::new(reduction_text(row)),
    ]
}

fn package_cells(label: &str, changes: &PackageChanges) -> Vec<Cell> {
    if !changes.compared {
        let mut cells = vec![Cell::new(label)];
        cells.extend((0..6).map(|_| Cell::new("n/a")));
        return cells;
    }
    vec![
        Cell::new(label),
        Cell::new(changes.a),
        Cell::new(changes.b),
        Cell::new(changes.removed.len()),
        Cell::new(changes.added.len()),
        Cell::new(changes.changed.len()),
        Cell::new(changes.unchanged),
    ]
}

fn changed_section(out: &mut String, title: &str, list: &[ChangedFinding], color: bool) {
    out.push_str(&format!("{title}: {}\n", list.len()));
    if list.is_empty() {
        out.push('\n');
        return;
    }
    let rows = list
        .iter()
        .map(|changed| {
            let finding = &changed.finding;
            vec![
                severity_cell(finding.severity, color),
                Cell::new(printable(&finding.id)),
                Cell::new(printable(&finding.package.name)),
                Cell::new(printable(&finding.package.version)),
                Cell::new(printable(finding.fixed_version.as_deref().unwrap_or(""))),
                Cell::new(if finding.kev.is_some() { "yes" } else { "" }),
                Cell::new(printable(&changed.cause.describe())),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "SEVERITY",
            "VULNERABILITY",
            "PACKAGE",
            "VERSION",
            "FIXED IN",
            "KEV",
            "CAUSE",
        ],
        rows,
        color,
    ));
    out.push_str("\n\n");
}

fn package_lists(out: &mut String, label: &str, changes: &PackageChanges) {
    let removed: Vec<String> = changes
        .removed
        .iter()
        .map(|p| format!("{} {}", p.name, p.versions.join(", ")))
        .collect();
    let added: Vec<String> = changes
        .added
        .iter()
        .map(|p| format!("{} {}", p.name, p.versions.join(", ")))
        .collect();
    let changed: Vec<String> = changes
        .changed
        .iter()
        .map(|p| format!("{} {} -> {}", p.name, p.from.join(", "), p.to.join(", ")))
        .collect();
    for (title, items) in [
        (format!("{label} packages only in A"), removed),
        (format!("{label} packages only in B"), added),
        (format!("{label} packages at another version in B"), changed),
    ] {
        if items.is_empty() {
            continue;
        }
        out.push_str(&format!("{title} ({}):\n", items.len()));
        out.push_str(&wrap(&items, LIST_WIDTH));
    }
}

/// Width of the wrapped package lists.
const LIST_WIDTH: usize = 100;

/// Joins items with `, ` into indented lines of at most `width` characters
/// (an item longer than that gets a line of its own).
fn wrap(items: &[String], width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for (index, item) in items.iter().enumerate() {
        let item = printable(item);
        let piece = if index + 1 < items.len() {
            format!("{item},")
        } else {
            item
        };
        if !line.is_empty() && line.len() + 1 + piece.len() > width {
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    if !line.is_empty() {
        out.push_str("  ");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn table(header: &[&str], rows: Vec<Vec<Cell>>, color: bool) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.force_no_tty();
    if color {
        table.enforce_styling();
    }
    table.set_header(
        header
            .iter()
            .map(|title| bold(Cell::new(title), color))
            .collect::<Vec<_>>(),
    );
    for row in rows {
        table.add_row(row);
    }
    for index in 0..header.len() {
        if let Some(column) = table.column_mut(index) {
            column.set_padding((0, 2));
        }
    }
    table.trim_fmt()
}
