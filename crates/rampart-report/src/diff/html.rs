//! The comparison as one self-contained HTML page: inline CSS, inline SVG
//! charts (findings per severity, A against B, and package counts) and
//! tables that sort when a header is clicked, by a short inline script.
//! The page loads nothing: its Content-Security-Policy allows no source
//! other than the page itself, so it opens offline and cannot reach out.
//!
//! Every text from an image, an advisory or the user passes through
//! [`escape`]; URLs are written only when [`web_url`] accepts them.

use std::fmt::Write as _;

use rampart_advisory::Rating;
use rampart_match::Finding;

use super::{
    ChangedFinding, CountRow, DiffReport, Direction, Side, fact_rows, reduction_text, signed,
};
use crate::scan::{distro_name, first_web_url, rfc3339};

/// Colours of side A and side B in the charts.
const COLOR_A: &str = "#b4443c";
const COLOR_B: &str = "#2f7d5b";

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1180px;padding:0 1rem;color:#1d2330;background:#fff}
h1{font-size:1.5rem;margin-bottom:.25rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d8dce4;padding-bottom:.25rem}
.meta{color:#4a5263;margin:.2rem 0}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d8dce4;border-radius:6px;padding:.75rem 1rem;min-width:9rem}
.card .big{font-size:1.6rem;font-weight:600}
.charts{display:flex;gap:2rem;flex-wrap:wrap}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #e4e7ed;padding:.3rem .7rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:' \\25B2'}
table.sortable th[aria-sort=descending]::after{content:' \\25BC'}
td.num,th.num{text-align:right}
.sev-critical{color:#8b0000;font-weight:700}
.sev-high{color:#b4443c;font-weight:600}
.sev-medium{color:#a06800}
.sev-low{color:#2d6a8f}
.sev-negligible,.sev-unknown{color:#6b7280}
.warning{background:#fff7e0;border-left:4px solid #e0a800;padding:.5rem .75rem;margin:.5rem 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
svg text{font-family:system-ui,sans-serif}
";

/// Sorts a table by the clicked column: numbers and `data-sort` values
/// numerically, other text by locale with digit runs compared as numbers
/// (`CVE-2026-9669` before `CVE-2026-124851`). A second click reverses; a
/// header with `data-first="descending"` (severity) starts with the highest.
const SCRIPT: &str = "
(function(){
  function key(cell){var v=cell.getAttribute('data-sort');if(v===null){v=cell.textContent.trim();}
    var n=Number(v.replace(/^\\+/,''));return (v!==''&&!isNaN(n))?{n:n}:{s:v.toLowerCase()};}
  function cmp(a,b){if(a.n!==undefined&&b.n!==undefined){return a.n-b.n;}
    var x=a.s!==undefined?a.s:String(a.n),y=b.s!==undefined?b.s:String(b.n);
    return x.localeCompare(y,undefined,{numeric:true});}
  document.querySelectorAll('table.sortable').forEach(function(table){
    var headers=table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers,function(th,index){
      th.addEventListener('click',function(){
        var current=th.getAttribute('aria-sort');
        var ascending=current?current!=='ascending':th.getAttribute('data-first')!=='descending';
        Array.prototype.forEach.call(headers,function(h){h.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',ascending?'ascending':'descending');
        var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(r1,r2){var c=cmp(key(r1.cells[index]),key(r2.cells[index]));return ascending?c:-c;});
        rows.forEach(function(row){body.appendChild(row);});
      });
    });
  });
})();
";

/// Renders the page, ending with a newline.
pub(super) fn render(report: &DiffReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = format!(
        "rampart diff: {} vs {}",
        report.a.source.name, report.b.source.name
    );
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");

    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    side_meta(&mut out, "A", &report.a);
    side_meta(&mut out, "B", &report.b);
    let database = if report.same_database {
        format!(
            "Both images were scanned with one vulnerability database, built {} ({} sources).",
            rfc3339(report.a.database.built_at),
            report.a.database.sources.len()
        )
    } else {
        format!(
            "Different databases: A was scanned with one built {}, B with one built {}.",
            rfc3339(report.a.database.built_at),
            rfc3339(report.b.database.built_at)
        )
    };
    let _ = writeln!(
        out,
        "<p class=\"meta\" id=\"database\">{}</p>",
        escape(&database)
    );
    let _ = writeln!(
        out,
        "<p class=\"meta\">Report made {} by rampart {}.</p>",
        escape(&rfc3339(report.created)),
        escape(&report.tool_version)
    );
    for warning in &report.warnings {
        let _ = writeln!(out, "<div class=\"warning\">{}</div>", escape(warning));
    }

    cards(&mut out, report);

    out.push_str("<h2>Findings and packages</h2>\n<div class=\"charts\">\n");
    severity_chart(&mut out, report);
    package_chart(&mut out, report);
    out.push_str("</div>\n");
    counts_table(&mut out, report);

    out.push_str("<h2>Packages</h2>\n");
    packages_table(&mut out, report);
    out.push_str("<h2>Image facts</h2>\n");
    facts_table(&mut out, report);

    changed_table(
        &mut out,
        "only-in-a",
        "Only in A (gone in B)",
        &report.only_in_a,
    );
    changed_table(
        &mut out,
        "only-in-b",
        "Only in B (new in B)",
        &report.only_in_b,
    );
    common_table(&mut out, report);
    package_changes_table(&mut out, report);

    let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

fn side_meta(out: &mut String, label: &str, side: &Side) {
    let mut text = format!(
        "{label}: {} — {}",
        side.source.name,
        distro_name(side.distro.as_ref())
    );
    if let Some(digest) = &side.source.manifest_digest {
        text.push_str(&format!(" — {digest}"));
    }
    let _ = writeln!(out, "<p class=\"meta\">{}</p>", escape(&text));
}

fn cards(out: &mut String, report: &DiffReport) {
    out.push_str("<div class=\"cards\">\n");
    let reduction = reduction_text(&report.total);
    let items = [
        ("Findings in A", report.total.a.to_string()),
        ("Findings in B", report.total.b.to_string()),
        ("Reduction", reduction),
        ("Gone in B", report.only_in_a.len().to_string()),
        ("New in B", report.only_in_b.len().to_string()),
    ];
    for (label, value) in items {
        let _ = writeln!(
            out,
            "<div class=\"card\"><div>{}</div><div class=\"big\">{}</div></div>",
            escape(label),
            escape(&value)
        );
    }
    out.push_str("</div>\n");
}

/// Grouped bars: for each group, one bar for A and one for B.
fn bar_chart(out: &mut String, id: &str, title: &str, groups: &[(String, usize, usize)]) {
    let width = 80 + groups.len() * 90;
    let height = 280;
    let top = 44;
    let bottom = 40;
    let plot = height - top - bottom;
    let max = groups
        .iter()
        .map(|(_, a, b)| (*a).max(*b))
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = writeln!(
        out,
        "<svg id=\"{id}\" role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"600\">{}</text>",
        escape(title)
    );
    let axis_y = top + plot;
    let _ = writeln!(
        out,
        "<line x1=\"50\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#9aa1ad\"/>",
        width - 10
    );
    for (index, (label, a, b)) in groups.iter().enumerate() {
        group_bars(out, 60 + index * 90, axis_y, plot, max, label, *a, *b);
    }
    let legend_y = height - 8;
    let _ = writeln!(
        out,
        "<rect x=\"60\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{COLOR_A}\"/>\
         <text x=\"78\" y=\"{legend_y}\" font-size=\"12\">A</text>\
         <rect x=\"110\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{COLOR_B}\"/>\
         <text x=\"128\" y=\"{legend_y}\" font-size=\"12\">B</text>",
        legend_y - 10,
        legend_y - 10
    );
    out.push_str("</svg>\n");
}

/// Draws one group of [`bar_chart`]: A's bar, B's bar, their values and
/// the group label under the axis.
#[allow(clippy::too_many_arguments)]
fn group_bars(
    out: &mut String,
    x: usize,
    axis_y: usize,
    plot: usize,
    max: usize,
    label: &str,
    a: usize,
    b: usize,
) {
    for (offset, (value, color, side)) in [(a, COLOR_A, "A"), (b, COLOR_B, "B")]
        .into_iter()
        .enumerate()
    {
        let bar_height = value * plot / max;
        let bar_x = x + offset * 34;
        let bar_y = axis_y - bar_height;
        let _ = writeln!(
            out,
            "<rect class=\"bar bar-{side}\" x=\"{bar_x}\" y=\"{bar_y}\" width=\"30\" \
             height=\"{bar_height}\" fill=\"{color}\"><title>{}: {side} {value}</title></rect>",
            escape(label)
        );
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{value}</text>",
            bar_x + 15,
            bar_y.saturating_sub(4).max(12)
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
        x + 32,
        axis_y + 16,
        escape(label)
    );
}

fn severity_chart(out: &mut String, report: &DiffReport) {
    let groups: Vec<(String, usize, usize)> = report
        .severities
        .iter()
        .map(|row| (row.label.clone(), row.a, row.b))
        .collect();
    bar_chart(out, "severity-chart", "Findings per severity", &groups);
}

fn package_chart(out: &mut String, report: &DiffReport) {
    let groups = vec![
        ("OS".to_owned(), report.os_packages.a, report.os_packages.b),
        (
            "language".to_owned(),
            report.language_packages.a,
            report.language_packages.b,
        ),
    ];
    bar_chart(out, "package-chart", "Packages", &groups);
}

fn counts_table(out: &mut String, report: &DiffReport) {
    out.push_str(
        "<table id=\"counts\"><thead><tr><th>Vulnerabilities</th><th class=\"num\">A</th>\
         <th class=\"num\">B</th><th class=\"num\">Delta</th><th class=\"num\">Reduction</th>\
         </tr></thead><tbody>\n",
    );
    let row = |out: &mut String, label: &str, class: &str, row: &CountRow| {
        let _ = writeln!(
            out,
            "<tr><td class=\"{class}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(label),
            row.a,
            row.b,
            signed(row.delta()),
            reduction_text(row)
        );
    };
    for severity in &report.severities {
        row(
            out,
            &severity.label,
            &format!("sev-{}", severity.label),
            severity,
        );
    }
    row(out, "total", "", &report.total);
    row(out, "unique vulnerabilities", "", &report.unique);
    row(out, "in CISA KEV", "", &report.kev);
    row(out, "fixable", "", &report.fixable);
    row(out, "not fixed", "", &report.not_fixed);
    out.push_str("</tbody></table>\n");
}

fn packages_table(out: &mut String, report: &DiffReport) {
    out.push_str(
        "<table id=\"packages\"><thead><tr><th>Group</th><th class=\"num\">A</th>\
         <th class=\"num\">B</th><th class=\"num\">Removed</th><th class=\"num\">Added</th>\
         <th class=\"num\">Changed</th><th class=\"num\">Unchanged</th></tr></thead><tbody>\n",
    );
    for (label, changes) in [
        ("OS", &report.os_packages),
        ("language", &report.language_packages),
    ] {
        if !changes.compared {
            let _ = writeln!(
                out,
                "<tr><td>{label}</td>{}</tr>",
                "<td class=\"num\">n/a</td>".repeat(6)
            );
            continue;
        }
        let _ = writeln!(
            out,
            "<tr><td>{label}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>",
            changes.a,
            changes.b,
            changes.removed.len(),
            changes.added.len(),
            changes.changed.len(),
            changes.unchanged
        );
    }
    out.push_str("</tbody></table>\n");
}

fn facts_table(out: &mut String, report: &DiffReport) {
    out.push_str(
        "<table id=\"facts\"><thead><tr><th>Fact</th><th>A</th><th>B</th></tr></thead><tbody>\n",
    );
    for (label, a, b) in fact_rows(report) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(label),
            escape(&a),
            escape(&b)
        );
    }
    out.push_str("</tbody></table>\n");
}

/// Returns the rank of a severity for sorting, critical highest.
fn severity_rank(rating: Rating) -> usize {
    Rating::ALL
        .iter()
        .position(|r| *r == rating)
        .unwrap_or_default()
}

fn severity_cell(rating: Rating) -> String {
    format!(
        "<td class=\"sev-{0}\" data-sort=\"{1}\">{0}</td>",
        rating.name(),
        severity_rank(rating)
    )
}

fn id_cell(finding: &Finding) -> String {
    match first_web_url(finding) {
        Some(url) => format!(
            "<td><a href=\"{}\" rel=\"noreferrer\">{}</a></td>",
            escape(&url),
            escape(&finding.id)
        ),
        None => format!("<td>{}</td>", escape(&finding.id)),
    }
}

fn changed_table(out: &mut String, id: &str, title: &str, list: &[ChangedFinding]) {
    let _ = writeln!(out, "<h2>{} ({})</h2>", escape(title), list.len());
    if list.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<table class=\"sortable\" id=\"{id}\"><thead><tr><th data-first=\"descending\">Severity</th><th>Vulnerability</th>\
         <th>Package</th><th>Version</th><th>Status</th><th>Fixed in</th><th>KEV</th>\
         <th>Cause</th></tr></thead><tbody>"
    );
    for changed in list {
        let finding = &changed.finding;
        let _ = writeln!(
            out,
            "<tr>{}{}<td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            severity_cell(finding.severity),
            id_cell(finding),
            escape(&finding.package.name),
            escape(&finding.package.version),
            finding.status,
            escape(finding.fixed_version.as_deref().unwrap_or("")),
            if finding.kev.is_some() { "yes" } else { "" },
            escape(&changed.cause.describe())
        );
    }
    out.push_str("</tbody></table>\n");
}

fn common_table(out: &mut String, report: &DiffReport) {
    let _ = writeln!(out, "<h2>In both ({})</h2>", report.in_both.len());
    if report.in_both.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    out.push_str(
        "<table class=\"sortable\" id=\"in-both\"><thead><tr><th data-first=\"descending\">Severity</th>\
         <th>Vulnerability</th><th>Package</th><th>Version in A</th><th>Version in B</th>\
         <th>Status in A</th><th>Status in B</th><th>Fixed in (B)</th><th>KEV</th></tr></thead>\
         <tbody>\n",
    );
    for common in &report.in_both {
        let _ = writeln!(
            out,
            "<tr>{}{}<td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            severity_cell(common.a.severity),
            id_cell(&common.a),
            escape(&common.a.package.name),
            escape(&common.a.package.version),
            escape(&common.b.package.version),
            common.a.status,
            common.b.status,
            escape(common.b.fixed_version.as_deref().unwrap_or("")),
            if common.b.kev.is_some() { "yes" } else { "" }
        );
    }
    out.push_str("</tbody></table>\n");
}

fn package_changes_table(out: &mut String, report: &DiffReport) {
    let groups = [
        ("OS", &report.os_packages),
        ("language", &report.language_packages),
    ];
    let count: usize = groups
        .iter()
        .map(|(_, c)| c.removed.len() + c.added.len() + c.changed.len())
        .sum();
    let _ = writeln!(out, "<h2>Package changes ({count})</h2>");
    if count == 0 {
        out.push_str("<p>None.</p>\n");
        return;
    }
    out.push_str(
        "<table class=\"sortable\" id=\"package-changes\"><thead><tr><th>Group</th>\
         <th>Package</th><th>Type</th><th>Version in A</th><th>Version in B</th>\
         <th>Change</th></tr></thead><tbody>\n",
    );
    for (label, changes) in groups {
        let mut row = |name: &str, kind: &str, a: String, b: String, change: &str| {
            let _ = writeln!(
                out,
                "<tr><td>{label}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td>\
                 <td><code>{}</code></td><td>{change}</td></tr>",
                escape(name),
                escape(kind),
                escape(&a),
                escape(&b)
            );
        };
        for package in &changes.removed {
            row(
                &package.name,
                &package.package_type,
                package.versions.join(", "),
                String::new(),
                "removed",
            );
        }
        for package in &changes.added {
            row(
                &package.name,
                &package.package_type,
                String::new(),
                package.versions.join(", "),
                "added",
            );
        }
        for package in &changes.changed {
            let change = match package.direction {
                Direction::Upgraded => "upgraded",
                Direction::Downgraded => "downgraded",
                Direction::Changed => "changed",
            };
            row(
                &package.name,
                &package.package_type,
                package.from.join(", "),
                package.to.join(", "),
                change,
            );
        }
    }
    out.push_str("</tbody></table>\n");
}

/// Escapes text for HTML content and double- or single-quoted attributes.
/// Control characters other than tab and newline become spaces.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '\t' | '\n' => escaped.push(c),
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\"\u{1b}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; "
        );
    }
}
