//! The comparison in GitHub Flavored Markdown, for pull-request comments and
//! evaluation write-ups: the counts tables first, then the finding lists in
//! collapsed `<details>` blocks. Text from an image or an advisory is
//! escaped or written as a code span, as in the scan Markdown.

use super::{
    ChangedFinding, CountRow, DiffReport, PackageChanges, Side, fact_rows, reduction_text, signed,
};
use crate::scan::markdown::{code, escape, vulnerability_link};
use crate::scan::{distro_name, rfc3339};

/// GitHub rejects a comment body longer than this many characters.
const MAX_COMMENT_CHARS: usize = 65_536;

/// Characters kept free for headings, notes and the closing tags.
const RESERVED_CHARS: usize = 4_096;

/// Renders the Markdown, ending with a newline. Rows of the finding lists
/// that would make the text longer than one GitHub comment are left out,
/// with a note that gives their number.
pub(super) fn render(report: &DiffReport) -> String {
    let mut blocks = vec![
        format!(
            "### rampart diff: {} vs {}",
            side_name(&report.a),
            side_name(&report.b)
        ),
        intro(report),
    ];
    // Warnings come first: a count of zero may mean "not checked".
    if !report.warnings.is_empty() {
        blocks.push(
            report
                .warnings
                .iter()
                .map(|warning| format!("> **Warning:** {}", escape(warning)))
                .collect::<Vec<_>>()
                .join("\n>\n"),
        );
    }
    blocks.extend([
        counts_table(report),
        packages_table(report),
        facts_table(report),
    ]);
    let fixed: usize = blocks.iter().map(|block| block.chars().count()).sum();
    let mut budget = MAX_COMMENT_CHARS.saturating_sub(fixed + RESERVED_CHARS);

    let lists = [
        changed_details("Only in A (gone in B)", &report.only_in_a, &mut budget),
        changed_details("Only in B (new in B)", &report.only_in_b, &mut budget),
        common_details(report, &mut budget),
        package_details(report, &mut budget),
    ];
    // The lists go before the warnings, which stay last.
    let warnings = (!report.warnings.is_empty())
        .then(|| blocks.pop())
        .flatten();
    blocks.extend(lists.into_iter().flatten());
    blocks.extend(warnings);
    let mut out = blocks.join("\n\n");
    out.push('\n');
    out
}

fn side_name(side: &Side) -> String {
    code(&side.source.name)
}

fn intro(report: &DiffReport) -> String {
    let database = if report.same_database {
        format!(
            "Both scanned with one vulnerability database, built {}.",
            rfc3339(report.a.database.built_at)
        )
    } else {
        format!(
            "**Different databases:** A was scanned with one built {}, B with one built {}.",
            rfc3339(report.a.database.built_at),
            rfc3339(report.b.database.built_at)
        )
    };
    format!(
        "A is {} ({}), B is {} ({}). {database}",
        side_name(&report.a),
        escape(&distro_name(report.a.distro.as_ref())),
        side_name(&report.b),
        escape(&distro_name(report.b.distro.as_ref())),
    )
}

fn counts_table(report: &DiffReport) -> String {
    let mut lines = vec![
        "| Vulnerabilities | A | B | Delta | Reduction |".to_owned(),
        "|---|--:|--:|--:|--:|".to_owned(),
    ];
    let row = |label: String, row: &CountRow| {
        format!(
            "| {label} | {} | {} | {} | {} |",
            row.a,
            row.b,
            signed(row.delta()),
            reduction_text(row)
        )
    };
    for severity in &report.severities {
        lines.push(row(severity.label.clone(), severity));
    }
    lines.push(row("**total**".to_owned(), &report.total));
    lines.push(row("unique vulnerabilities".to_owned(), &report.unique));
    lines.push(row("in CISA KEV".to_owned(), &report.kev));
    lines.push(row("fixable".to_owned(), &report.fixable));
    lines.push(row("not fixed".to_owned(), &report.not_fixed));
    lines.join("\n")
}

fn packages_table(report: &DiffReport) -> String {
    let mut lines = vec![
        "| Packages | A | B | Removed | Added | Changed | Unchanged |".to_owned(),
        "|---|--:|--:|--:|--:|--:|--:|".to_owned(),
    ];
    for (label, changes) in [
        ("OS", &report.os_packages),
        ("language", &report.language_packages),
    ] {
        if !changes.compared {
            lines.push(format!("| {label} | n/a | n/a | n/a | n/a | n/a | n/a |"));
            continue;
        }
        lines.push(format!(
            "| {label} | {} | {} | {} | {} | {} | {} |",
            changes.a,
            changes.b,
            changes.removed.len(),
            changes.added.len(),
            changes.changed.len(),
            changes.unchanged
        ));
    }
    lines.join("\n")
}

fn facts_table(report: &DiffReport) -> String {
    let mut lines = vec!["| Image | A | B |".to_owned(), "|---|---|---|".to_owned()];
    for (label, a, b) in fact_rows(report) {
        lines.push(format!("| {label} | {} | {} |", escape(&a), escape(&b)));
    }
    lines.join("\n")
}

/// Takes rows while they fit in `budget`, then notes how many were left out.
fn fit_rows(rows: Vec<String>, budget: &mut usize) -> Vec<String> {
    let total = rows.len();
    let mut kept = Vec::new();
    for row in rows {
        let cost = row.chars().count() + 1;
        if cost > *budget {
            break;
        }
        *budget -= cost;
        kept.push(row);
    }
    if kept.len() < total {
        kept.push(String::new());
        kept.push(format!(
            "{} more rows are left out to fit one comment; see the JSON or HTML report.",
            total - kept.len() + 1
        ));
    }
    kept
}

fn changed_details(title: &str, list: &[ChangedFinding], budget: &mut usize) -> Option<String> {
    if list.is_empty() {
        return None;
    }
    let rows = list
        .iter()
        .map(|changed| {
            let finding = &changed.finding;
            format!(
                "| {} | {} | {} | {} | {} | {} |",
                finding.severity.name(),
                vulnerability_link(finding),
                code(&finding.package.name),
                code(&finding.package.version),
                if finding.kev.is_some() { "yes" } else { "" },
                escape(&changed.cause.describe())
            )
        })
        .collect();
    let mut lines = vec![
        format!("<details><summary>{title}: {}</summary>", list.len()),
        String::new(),
        "| Severity | Vulnerability | Package | Version | KEV | Cause |".to_owned(),
        "|---|---|---|---|---|---|".to_owned(),
    ];
    lines.extend(fit_rows(rows, budget));
    lines.push(String::new());
    lines.push("</details>".to_owned());
    Some(lines.join("\n"))
}

fn common_details(report: &DiffReport, budget: &mut usize) -> Option<String> {
    if report.in_both.is_empty() {
        return None;
    }
    let rows = report
        .in_both
        .iter()
        .map(|common| {
            format!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                common.a.severity.name(),
                vulnerability_link(&common.a),
                code(&common.a.package.name),
                code(&common.a.package.version),
                code(&common.b.package.version),
                escape(&format!("{} / {}", common.a.status, common.b.status)),
                if common.b.kev.is_some() { "yes" } else { "" }
            )
        })
        .collect();
    let mut lines = vec![
        format!(
            "<details><summary>In both: {}</summary>",
            report.in_both.len()
        ),
        String::new(),
        "| Severity | Vulnerability | Package | Version in A | Version in B | Status A / B | KEV |"
            .to_owned(),
        "|---|---|---|---|---|---|---|".to_owned(),
    ];
    lines.extend(fit_rows(rows, budget));
    lines.push(String::new());
    lines.push("</details>".to_owned());
    Some(lines.join("\n"))
}

fn package_details(report: &DiffReport, budget: &mut usize) -> Option<String> {
    let groups = [
        ("OS", &report.os_packages),
        ("language", &report.language_packages),
    ];
    let count: usize = groups.iter().map(|(_, changes)| changes_len(changes)).sum();
    if count == 0 {
        return None;
    }
    let mut rows = Vec::new();
    for (label, changes) in groups {
        for package in &changes.removed {
            rows.push(format!(
                "| {label} | {} | {} | | removed |",
                code(&package.name),
                code(&package.versions.join(", "))
            ));
        }
        for package in &changes.added {
            rows.push(format!(
                "| {label} | {} | | {} | added |",
                code(&package.name),
                code(&package.versions.join(", "))
            ));
        }
        for package in &changes.changed {
            rows.push(format!(
                "| {label} | {} | {} | {} | {} |",
                code(&package.name),
                code(&package.from.join(", ")),
                code(&package.to.join(", ")),
                match package.direction {
                    super::Direction::Upgraded => "upgraded",
                    super::Direction::Downgraded => "downgraded",
                    super::Direction::Changed => "changed",
                }
            ));
        }
    }
    let mut lines = vec![
        format!("<details><summary>Package changes: {count}</summary>"),
        String::new(),
        "| Group | Package | Version in A | Version in B | Change |".to_owned(),
        "|---|---|---|---|---|".to_owned(),
    ];
    lines.extend(fit_rows(rows, budget));
    lines.push(String::new());
    lines.push("</details>".to_owned());
    Some(lines.join("\n"))
}

fn changes_len(changes: &PackageChanges) -> usize {
    changes.removed.len() + changes.added.len() + changes.changed.len()
}
