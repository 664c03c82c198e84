//! Markdown for pull-request comments, in GitHub Flavored Markdown (GFM).
//! The comment has a heading with the image and distro, a table of counts
//! per severity and a table of the active findings sorted by severity. The
//! suppressed findings follow in a collapsed `<details>` block and the
//! warnings in a blockquote.
//!
//! Package names, versions, advisory text, suppression reasons and warnings
//! come from the image, the feeds or the user's files. Each is written either
//! as a code span ([`code`]) or escaped ([`escape`]), so none of them can end
//! a table cell, add formatting or a link with its own text, or inject HTML
//! into the comment.

use std::cmp::Reverse;

use rampart_advisory::Rating;
use rampart_match::{Finding, Suppression, SuppressionKind};

use super::{ScanReport, Summary, distro_name, first_web_url, rfc3339, warnings};

/// GitHub rejects a comment body longer than this many characters.
const MAX_COMMENT_CHARS: usize = 65_536;

/// Characters kept free for table headers, `<details>` tags, the notes on
/// left-out rows and the blank lines between blocks.
const RESERVED_CHARS: usize = 2_048;

/// Renders the Markdown, ending with a newline.
///
/// The output fits in one GitHub comment. When the rows of the two finding
/// tables would exceed [`MAX_COMMENT_CHARS`], the rows that do not fit are
/// left out (suppressed findings first, then the least severe active ones),
/// and a note under each table gives their number.
pub(super) fn render(report: &ScanReport) -> String {
    let heading = heading(report);
    let counts = severity_table(&Summary::of(&report.findings));
    let warnings = warnings(report);
    let warning_block = (!warnings.is_empty()).then(|| warning_quote(&warnings));

    let fixed_chars = [Some(&heading), Some(&counts), warning_block.as_ref()]
        .into_iter()
        .flatten()
        .map(|block| block.chars().count())
        .sum::<usize>();
    let mut budget = MAX_COMMENT_CHARS.saturating_sub(fixed_chars + RESERVED_CHARS);

    let mut active: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|finding| finding.is_active())
        .collect();
    // A stable sort, so the report order decides between equal severities.
    active.sort_by_key(|finding| Reverse(finding.severity));
    let findings_block = if active.is_empty() {
        "No vulnerabilities found.".to_owned()
    } else {
        findings_table(&active, &mut budget)
    };

    let suppressed: Vec<(&Finding, &Suppression)> = report
        .findings
        .iter()
        .filter_map(|finding| finding.suppressed.as_ref().map(|reason| (finding, reason)))
        .collect();
    let suppressed_block =
        (!suppressed.is_empty()).then(|| suppressed_details(&suppressed, &mut budget));

    let blocks = [
        Some(heading),
        Some(counts),
        Some(findings_block),
        suppressed_block,
        warning_block,
    ];
    let mut out = blocks
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n\n");
    out.push('\n');
    out
}

/// Appends `rows` to `lines` while they fit in `budget` characters, and a
/// note on the rows left out.
fn push_rows(
    lines: &mut Vec<String>,
    rows: impl ExactSizeIterator<Item = String>,
    budget: &mut usize,
) {
    let total = rows.len();
    let mut written = 0;
    for row in rows {
        // The row and its line break.
        let cost = row.chars().count() + 1;
        if cost > *budget {
            break;
        }
        *budget -= cost;
        lines.push(row);
        written += 1;
    }

    let left_out = total - written;
    if left_out > 0 {
        let rows = if left_out == 1 { "row is" } else { "rows are" };
        lines.push(String::new());
        lines.push(format!(
            "{left_out} more {rows} left out to keep this comment within GitHub's limit of \
             {MAX_COMMENT_CHARS} characters. The JSON and SARIF outputs list every finding."
        ));
    }
}

fn heading(report: &ScanReport) -> String {
    let source = &report.inventory.source;
    let mut facts = vec![escape(&distro_name(report.inventory.distro.as_ref()))];
    if let Some(namespace) = &report.os_namespace {
        facts.push(format!("OS namespace {}", code(namespace)));
    }
    let mut database = format!("database built {}", rfc3339(report.database.built_at));
    if report.database.too_old {
        database.push_str(" (older than the configured maximum age)");
    }
    facts.push(database);

    format!(
        "## Vulnerability scan of {}\n\n{}",
        code(&source.name),
        facts.join(" · ")
    )
}

fn severity_table(summary: &Summary) -> String {
    let rows = [
        ("Critical", summary.critical),
        ("High", summary.high),
        ("Medium", summary.medium),
        ("Low", summary.low),
        ("Negligible", summary.negligible),
        ("Unknown", summary.unknown),
    ];
    let mut lines = vec![
        "| Severity | Count |".to_owned(),
        "| --- | ---: |".to_owned(),
    ];
    for (name, count) in rows {
        lines.push(format!("| {name} | {count} |"));
    }
    lines.push(format!("| **Total** | **{}** |", summary.total));
    lines.push(String::new());
    lines.push(format!(
        "Fixable: {} · in CISA KEV: {} · suppressed: {}",
        summary.fixable, summary.kev, summary.suppressed
    ));
    lines.join("\n")
}

fn findings_table(active: &[&Finding], budget: &mut usize) -> String {
    let mut lines = vec![
        "| Package | Installed | Fixed | Vulnerability | Severity | KEV |".to_owned(),
        "| --- | --- | --- | --- | --- | --- |".to_owned(),
    ];
    let rows = active.iter().map(|finding| {
        format!(
            "| {} | {} | {} | {} | {} | {} |",
            code(&finding.package.name),
            code(&finding.package.version),
            finding
                .fixed_version
                .as_deref()
                .map(code)
                .unwrap_or_default(),
            vulnerability_link(finding),
            severity_text(finding.severity),
            if finding.kev.is_some() { "yes" } else { "" },
        )
    });
    push_rows(&mut lines, rows, budget);
    lines.join("\n")
}

fn suppressed_details(suppressed: &[(&Finding, &Suppression)], budget: &mut usize) -> String {
    let noun = if suppressed.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    let mut lines = vec![
        "<details>".to_owned(),
        format!("<summary>{} suppressed {noun}</summary>", suppressed.len()),
        String::new(),
        "| Package | Installed | Vulnerability | Suppressed by | Reason |".to_owned(),
        "| --- | --- | --- | --- | --- |".to_owned(),
    ];
    let rows = suppressed.iter().map(|(finding, suppression)| {
        let mut rule = suppression_kind(suppression.kind).to_owned();
        if let Some(file) = &suppression.file {
            rule.push(' ');
            rule.push_str(&code(file));
        }
        format!(
            "| {} | {} | {} | {rule} | {} |",
            code(&finding.package.name),
            code(&finding.package.version),
            vulnerability_link(finding),
            escape(&suppression.reason),
        )
    });
    push_rows(&mut lines, rows, budget);
    lines.push(String::new());
    lines.push("</details>".to_owned());
    lines.join("\n")
}

fn warning_quote(warnings: &[&str]) -> String {
    let mut lines = vec!["> **Warnings**".to_owned(), ">".to_owned()];
    for warning in warnings {
        lines.push(format!("> - {}", escape(warning)));
    }
    lines.join("\n")
}

fn suppression_kind(kind: SuppressionKind) -> &'static str {
    match kind {
        SuppressionKind::Severity => "severity filter",
        SuppressionKind::Status => "status filter",
        SuppressionKind::IgnoreFile => "ignore file",
        SuppressionKind::Vex => "VEX",
    }
}

fn severity_text(rating: Rating) -> &'static str {
    match rating {
        Rating::Critical => "**critical**",
        other => other.name(),
    }
}

/// Returns the vulnerability id, linked to the finding's first web URL when it has one.
pub(crate) fn vulnerability_link(finding: &Finding) -> String {
    let id = escape(&finding.id);
    match first_web_url(finding) {
        // Parentheses would end the link destination early.
        Some(url) => format!("[{id}]({})", url.replace('(', "%28").replace(')', "%29")),
        None => id,
    }
}

/// Escapes text for a Markdown paragraph, list item or table cell.
///
/// Control characters, line breaks included, become spaces, so the text
/// stays on its line and in its cell. `&`, `<` and `>` become entities, so
/// no HTML tag or entity survives. The ASCII punctuation that starts inline
/// syntax in GitHub Flavored Markdown (`\`, `` ` ``, `*`, `_`, `[`, `]`, `|`,
/// `~`, `#`, `!`) gets a backslash, so no emphasis, code span, link, image,
/// strikethrough or cell break opens.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' => {
                escaped.push('\\');
                escaped.push(c);
            }
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Writes text as a code span that shows it literally. The fence is one
/// backtick longer than the longest backtick run in the text. `|` is escaped
/// as a GFM table cell requires, and GFM removes the backslash inside the
/// span. Control characters become spaces. Empty text gives an empty string,
/// because two backticks with nothing between them are no code span.
pub(crate) fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.is_empty() {
        return String::new();
    }

    let mut longest_run = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest_run = longest_run.max(run);
    }
    let fence = "`".repeat(longest_run + 1);

    // CommonMark strips one space from each end of a span that starts and
    // ends with a space, so a span that begins or ends with a backtick gets
    // padding that disappears again.
    let padding = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    let body = text.replace('|', "\\|");
    format!("{fence}{padding}{body}{padding}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_inline_syntax() {
        assert_eq!(
            escape("a|b *c* _d_ [e](f) `g` ~h~ #1 ![i]"),
            "a\\|b \\*c\\* \\_d\\_ \\[e\\](f) \\`g\\` \\~h\\~ \\#1 \\!\\[i\\]"
        );
    }

    #[test]
    fn escape_html_and_lines() {
        assert_eq!(
            escape("<img src=x onerror=alert(1)> &amp;\nnext"),
            "&lt;img src=x onerror=alert(1)&gt; &amp;amp; next"
        );
    }

    #[test]
    fn code_span_plain() {
        assert_eq!(code("3.0.20-1~deb12u2"), "`3.0.20-1~deb12u2`");
        assert_eq!(code(""), "");
    }

    #[test]
    fn code_span_backticks_and_pipes() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a\nb"), "`a b`");
    }
}
