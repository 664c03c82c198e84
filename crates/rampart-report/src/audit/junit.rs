//! JUnit XML for CI test reports (GitLab, Jenkins and others that read the
//! Ant JUnit format).
//!
//! Each selected control that evaluated something is one `testsuite`, named
//! by the control id. Each resource the control failed is one `testcase`
//! with a `failure` whose `type` is the severity and whose text lists the
//! findings with `file:line` and field. A resource whose findings an
//! exception accepts is a `skipped` testcase. Passing resources have no
//! testcase of their own, because the audit counts them without naming
//! them: the suite's `tests` attribute is the number of resources the
//! control evaluated, so `tests - failures - skipped` of them passed.
//! Inputs that could not be read are `error` testcases of one more suite,
//! `rampart-input`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use rampart_posture::{Control, Finding, ResourceRef, TextPosition, catalogue};

use super::{AuditReport, place};

/// Name and test case class of the suite of input errors.
const INPUT_SUITE: &str = "rampart-input";

/// A finding with the position of its field.
type Located<'a> = (&'a Finding, Option<TextPosition>);

/// One suite before it is written.
struct Suite {
    name: String,
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
    properties: Vec<(&'static str, String)>,
    cases: Vec<Case>,
}

struct Case {
    classname: String,
    name: String,
    outcome: Outcome,
}

enum Outcome {
    Failure {
        message: String,
        kind: String,
        text: String,
    },
    Skipped {
        message: String,
    },
    Error {
        message: String,
    },
}

/// Renders the JUnit XML document, ending with a newline.
pub(super) fn render(report: &AuditReport) -> String {
    let mut by_control: BTreeMap<&str, Vec<Located<'_>>> = BTreeMap::new();
    for (finding, position) in report.located_findings() {
        by_control
            .entry(finding.control.id)
            .or_default()
            .push((finding, position));
    }

    let mut suites: Vec<Suite> = catalogue()
        .iter()
        .filter(|control| report.selected(control))
        .filter_map(|control| {
            let findings = by_control.get(control.id).map(Vec::as_slice);
            control_suite(report, control, findings.unwrap_or_default())
        })
        .collect();
    if !report.errors.is_empty() {
        suites.push(input_suite(report));
    }

    let timestamp = report.created.format("%Y-%m-%dT%H:%M:%S").to_string();
    let sum = |count: fn(&Suite) -> u64| suites.iter().map(count).sum::<u64>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"rampart audit\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{timestamp}\">",
        sum(|suite| suite.tests),
        sum(|suite| suite.failures),
        sum(|suite| suite.errors),
        sum(|suite| suite.skipped),
    );
    for suite in &suites {
        write_suite(&mut out, suite, &timestamp);
    }
    out.push_str("</testsuites>\n");
    out
}

/// Returns the suite of one control, or `None` when the control evaluated
/// nothing and found nothing.
fn control_suite(
    report: &AuditReport,
    control: &Control,
    findings: &[Located<'_>],
) -> Option<Suite> {
    let evaluated = report.controls.get(control.id).map_or(0, |r| r.evaluated);
    if evaluated == 0 && findings.is_empty() {
        return None;
    }

    // Findings of one resource become one test case, in report order.
    let mut resources: Vec<(&ResourceRef, Vec<Located<'_>>)> = Vec::new();
    let mut index_of: HashMap<&ResourceRef, usize> = HashMap::new();
    for (finding, position) in findings {
        let index = *index_of.entry(&finding.resource).or_insert_with(|| {
            resources.push((&finding.resource, Vec::new()));
            resources.len() - 1
        });
        resources[index].1.push((finding, *position));
    }
    let cases: Vec<Case> = resources
        .into_iter()
        .map(|(resource, findings)| resource_case(control, resource, &findings))
        .collect();

    let failures = cases
        .iter()
        .filter(|case| matches!(case.outcome, Outcome::Failure { .. }))
        .count() as u64;
    let skipped = cases.len() as u64 - failures;
    let mut properties = vec![
        ("title", control.title.to_owned()),
        ("severity", control.severity.as_str().to_owned()),
        ("category", control.category.title().to_owned()),
    ];
    for (name, values) in [
        ("cis", control.cis),
        ("nist-800-190", control.nist_800_190),
        ("mitre", control.mitre),
    ] {
        if !values.is_empty() {
            properties.push((name, values.join(", ")));
        }
    }
    // A control that relates objects may fail more resources than it
    // counted as evaluated; `tests` never drops below the test cases.
    let tests = evaluated.max(failures + skipped);
    properties.push(("passed", (tests - failures - skipped).to_string()));

    Some(Suite {
        name: control.id.to_owned(),
        tests,
        failures,
        errors: 0,
        skipped,
        properties,
        cases,
    })
}

fn resource_case(control: &Control, resource: &ResourceRef, findings: &[Located<'_>]) -> Case {
    let active: Vec<&Finding> = findings
        .iter()
        .map(|(finding, _)| *finding)
        .filter(|finding| !finding.is_excepted())
        .collect();
    let outcome = match active.iter().map(|finding| finding.severity).max() {
        Some(severity) => {
            let messages: Vec<&str> = active.iter().map(|f| f.message.as_str()).collect();
            let lines: Vec<String> = findings
                .iter()
                .map(|(finding, position)| finding_line(finding, *position))
                .collect();
            Outcome::Failure {
                message: messages.join("; "),
                kind: severity.as_str().to_owned(),
                text: lines.join("\n"),
            }
        }
        None => {
            let reasons: Vec<&str> = findings
                .iter()
                .filter_map(|(finding, _)| finding.exception.as_deref())
                .collect();
            Outcome::Skipped {
                message: format!("accepted by an exception: {}", reasons.join("; ")),
            }
        }
    };
    Case {
        classname: control.id.to_owned(),
        name: resource.display(),
        outcome,
    }
}

/// Returns `file:line field: message` for the failure text, marking
/// findings that an exception accepts.
fn finding_line(finding: &Finding, position: Option<TextPosition>) -> String {
    let mut line = String::new();
    if let Some(origin) = &finding.origin {
        line.push_str(&place(&origin.source, position));
        line.push(' ');
    }
    if let Some(field) = &finding.field {
        line.push_str(field);
        line.push_str(": ");
    }
    line.push_str(&finding.message);
    if let Some(exception) = &finding.exception {
        line.push_str(&format!(" (accepted: {exception})"));
    }
    line
}

fn input_suite(report: &AuditReport) -> Suite {
    let cases: Vec<Case> = report
        .errors
        .iter()
        .map(|error| {
            let source = match error.line {
                Some(line) => format!("{}:{line}", error.source),
                None => error.source.clone(),
            };
            Case {
                classname: INPUT_SUITE.to_owned(),
                name: source,
                outcome: Outcome::Error {
                    message: error.message.clone(),
                },
            }
        })
        .collect();
    Suite {
        name: INPUT_SUITE.to_owned(),
        tests: cases.len() as u64,
        failures: 0,
        errors: cases.len() as u64,
        skipped: 0,
        properties: Vec::new(),
        cases,
    }
}

fn write_suite(out: &mut String, suite: &Suite, timestamp: &str) {
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{timestamp}\">",
        attribute(&suite.name),
        suite.tests,
        suite.failures,
        suite.errors,
        suite.skipped,
    );
    if !suite.properties.is_empty() {
        out.push_str("    <properties>\n");
        for (name, value) in &suite.properties {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                attribute(name),
                attribute(value)
            );
        }
        out.push_str("    </properties>\n");
    }
    for case in &suite.cases {
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\">",
            attribute(&case.classname),
            attribute(&case.name)
        );
        match &case.outcome {
            Outcome::Failure {
                message,
                kind,
                text: body,
            } => {
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    attribute(message),
                    attribute(kind),
                    text(body)
                );
            }
            Outcome::Skipped { message } => {
                let _ = writeln!(out, "      <skipped message=\"{}\"/>", attribute(message));
            }
            Outcome::Error { message } => {
                let _ = writeln!(
                    out,
                    "      <error message=\"{}\" type=\"input-error\"/>",
                    attribute(message)
                );
            }
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

/// Escapes character data. Characters that XML 1.0 does not allow at all
/// (most C0 controls, U+FFFE and U+FFFF) become U+FFFD.
fn text(value: &str) -> String {
    escape(value, false)
}

/// Escapes an attribute value in double quotes. Tabs and line breaks are
/// written as character references, so attribute normalization keeps them.
fn attribute(value: &str) -> String {
    escape(value, true)
}

fn escape(value: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\'' if in_attribute => out.push_str("&apos;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(text("a < b && c > d"), "a &lt; b &amp;&amp; c &gt; d");
        assert_eq!(text("say \"hi\"\n"), "say \"hi\"\n");
        assert_eq!(
            attribute("say \"hi\" 'x'"),
            "say &quot;hi&quot; &apos;x&apos;"
        );
        assert_eq!(attribute("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
        assert_eq!(text("]]>"), "]]&gt;");
    }

    #[test]
    fn replaces_characters_xml_forbids() {
        assert_eq!(
            text("a\u{0}b\u{1b}c\u{FFFE}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        assert_eq!(text("\u{10FFFF}é"), "\u{10FFFF}é");
    }
}
