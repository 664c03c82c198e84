//! rampart's audit JSON (`rampart.audit/v1`): options, object counts,
//! framework scores, per-control results and every finding with its origin.
//!
//! The document has the layout of `serde_json`'s `PrettyFormatter` with a
//! two-space indent. The findings, which can number hundreds of
//! thousands, are written by hand in chunks on all cores, and the tests
//! compare them byte for byte with `serde_json`'s output.

use std::io::{self, Write};

use rayon::prelude::*;
use serde_json::{Value, json};

use super::AuditReport;
use super::text::push_json_string;
use rampart_posture::{Control, Finding, TextPosition, catalogue};

/// Findings per chunk rendered on one core.
const CHUNK_FINDINGS: usize = 2048;

/// Bytes reserved per finding. The findings of the 50,000-object set of
/// `benches/k8s_gen.py` average about 620 bytes.
const BYTES_PER_FINDING: usize = 640;

/// Renders the document as a string, ending with a newline.
pub(super) fn render(report: &AuditReport) -> String {
    let mut buffer = Vec::new();
    write(report, &mut buffer).expect("writing to memory does not fail");
    String::from_utf8(buffer).expect("the document is written from strings")
}

/// Writes the document to `out`, ending with a newline.
pub(super) fn write(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let head = json!({
        "schema": "rampart.audit/v1",
        "tool": {"name": "rampart", "version": env!("CARGO_PKG_VERSION")},
        "created": report.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "target": {"sources": report.sources},
        "options": {
            "pss_version": report.pss_version.to_string(),
            "frameworks": report.frameworks.iter().map(|f| f.id()).collect::<Vec<_>>(),
            "allowed_registries": report.allowed_registries,
        },
        "summary": summary(report),
        "frameworks": report.scores.iter().map(|score| json!({
            "id": score.framework.id(),
            "title": score.framework.title(),
            "score": (score.score * 10.0).round() / 10.0,
            "evaluated": score.evaluated,
            "failed": score.failed,
            "controls": score.controls,
            "failed_controls": score.failed_controls,
        })).collect::<Vec<_>>(),
        "controls": catalogue()
            .iter()
            .filter(|control| report.selected(control))
            .map(|control| control_entry(report, control))
            .collect::<Vec<_>>(),
        "exceptions": {
            "accepted": report.exceptions.accepted,
            "expired": report.exceptions.expired,
            "unused": report.exceptions.unused,
        },
        "errors": report.errors,
        "gaps": report.gaps,
        "warnings": report.warnings,
    });
    let Value::Object(head) = head else {
        unreachable!("the document is an object");
    };

    // The head's keys come out sorted, as `serde_json::Map` keeps them,
    // and the findings follow the controls.
    let mut text = String::from("{");
    for (index, (key, value)) in head.iter().enumerate() {
        text.push_str(if index == 0 { "\n  " } else { ",\n  " });
        push_json_string(&mut text, key);
        text.push_str(": ");
        push_nested_value(&mut text, value);
        if key == "controls" {
            text.push_str(",\n  \"findings\": ");
            out.write_all(text.as_bytes())?;
            text.clear();
            write_findings(report, out)?;
        }
    }
    text.push_str("\n}\n");
    out.write_all(text.as_bytes())
}

/// Appends `value` pretty-printed one level deep: every line after the
/// first gets two more spaces. JSON strings cannot contain a raw line
/// break, so each one in `serde_json`'s output is between tokens.
fn push_nested_value(out: &mut String, value: &Value) {
    let text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    out.push_str(&text.replace('\n', "\n  "));
}

fn summary(report: &AuditReport) -> Value {
    let mut by_severity = serde_json::Map::new();
    for severity in ["critical", "high", "medium", "low"] {
        let count = report
            .result
            .findings
            .iter()
            .filter(|f| !f.is_excepted() && f.severity.as_str() == severity)
            .count();
        by_severity.insert(severity.to_owned(), json!(count));
    }
    json!({
        "objects": report.objects.values().sum::<usize>(),
        "objects_by_kind": report.objects,
        "skipped_by_kind": report.skipped,
        "findings": report.result.findings.iter().filter(|f| !f.is_excepted()).count(),
        "findings_by_severity": by_severity,
        "excepted": report.result.findings.iter().filter(|f| f.is_excepted()).count(),
    })
}

fn control_entry(report: &AuditReport, control: &Control) -> Value {
    let result = report.controls.get(control.id).cloned().unwrap_or_default();
    json!({
        "id": control.id,
        "title": control.title,
        "category": control.category,
        "severity": control.severity,
        "pss_level": control.pss_level,
        "rationale": control.rationale,
        "remediation": control.remediation,
        "mappings": {
            "cis": control.cis,
            "nist_800_190": control.nist_800_190,
            "nsa": control.nsa,
            "mitre": control.mitre,
            "kubescape": control.kubescape,
        },
        "evaluated": result.evaluated,
        "failed": result.failed,
        "excepted": result.excepted,
    })
}

/// Writes the `findings` array, one level deep.
///
/// Chunks of findings are rendered in parallel, a batch at a time, into
/// buffers that are reused, and each batch is written while the next one
/// is rendered. The document never exists whole in memory.
fn write_findings(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let findings = &report.result.findings;
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    let chunks: Vec<(usize, &[Finding])> = findings.chunks(CHUNK_FINDINGS).enumerate().collect();
    let batch = 2 * rayon::current_num_threads();
    let mut rendered: Vec<String> = Vec::new();
    let mut spare: Vec<String> = vec![String::new(); batch];
    for group in chunks.chunks(batch) {
        let mut written = Ok(());
        rayon::in_place_scope(|scope| {
            scope.spawn(|_| render_chunks(report, group, &mut spare));
            written = write_parts(out, &rendered);
        });
        written?;
        std::mem::swap(&mut rendered, &mut spare);
    }
    write_parts(out, &rendered)?;
    out.write_all(b"\n  ]")
}

/// Renders each chunk into the buffer of the same position, replacing
/// what the buffer contained, and drops the buffers left over.
fn render_chunks(report: &AuditReport, group: &[(usize, &[Finding])], buffers: &mut Vec<String>) {
    buffers.resize_with(group.len(), String::new);
    buffers
        .par_iter_mut()
        .zip(group)
        .for_each(|(buffer, (chunk, findings))| {
            buffer.clear();
            buffer.reserve(findings.len() * BYTES_PER_FINDING);
            let start = chunk * CHUNK_FINDINGS;
            for (offset, finding) in findings.iter().enumerate() {
                let index = start + offset;
                buffer.push_str(if index == 0 { "[\n    " } else { ",\n    " });
                push_finding(buffer, finding, report.position(index));
            }
        });
}

fn write_parts(out: &mut dyn Write, parts: &[String]) -> io::Result<()> {
    for part in parts {
        out.write_all(part.as_bytes())?;
    }
    Ok(())
}

/// Appends one finding, two levels deep, with its keys in the order the
/// schema lists them.
fn push_finding(out: &mut String, finding: &Finding, position: Option<TextPosition>) {
    const FIELD: &str = ",\n      \"";
    const NESTED_FIELD: &str = ",\n        \"";

    out.push_str("{\n      \"control\": ");
    push_json_string(out, finding.control.id);
    out.push_str(FIELD);
    out.push_str("severity\": ");
    push_json_string(out, finding.severity.as_str());

    let resource = &finding.resource;
    out.push_str(FIELD);
    out.push_str("resource\": {\n        \"api_version\": ");
    push_json_string(out, resource.api_version);
    out.push_str(NESTED_FIELD);
    out.push_str("kind\": ");
    push_json_string(out, resource.kind);
    if let Some(namespace) = &resource.namespace {
        out.push_str(NESTED_FIELD);
        out.push_str("namespace\": ");
        push_json_string(out, namespace);
    }
    out.push_str(NESTED_FIELD);
    out.push_str("name\": ");
    push_json_string(out, &resource.name);
    out.push_str("\n      }");

    if let Some(container) = &finding.container {
        out.push_str(FIELD);
        out.push_str("container\": ");
        push_json_string(out, container);
    }
    if let Some(field) = &finding.field {
        out.push_str(FIELD);
        out.push_str("field\": ");
        push_json_string(out, field);
    }
    out.push_str(FIELD);
    out.push_str("message\": ");
    push_json_string(out, &finding.message);
    if let Some(exception) = &finding.exception {
        out.push_str(FIELD);
        out.push_str("exception\": ");
        push_json_string(out, exception);
    }

    if let Some(origin) = &finding.origin {
        let mut number = itoa::Buffer::new();
        out.push_str(FIELD);
        out.push_str("location\": {\n        \"source\": ");
        push_json_string(out, &origin.source);
        out.push_str(NESTED_FIELD);
        out.push_str("document\": ");
        out.push_str(number.format(origin.document));
        if let Some(item) = origin.item {
            out.push_str(NESTED_FIELD);
            out.push_str("item\": ");
            out.push_str(number.format(item));
        }
        if let Some(position) = position {
            out.push_str(NESTED_FIELD);
            out.push_str("line\": ");
            out.push_str(number.format(position.line));
            out.push_str(NESTED_FIELD);
            out.push_str("column\": ");
            out.push_str(number.format(position.column));
        }
        out.push_str("\n      }");
    }
    out.push_str("\n    }");
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rampart_posture::{
        Applied, AuditOptions, Framework, Origin, PolicyVersion, audit, parse_manifests,
    };
    use serde::Serialize;
    use serde::ser::{SerializeMap, Serializer};

    use super::*;

    /// Renders the document with `serde_json` alone, as the reference for
    /// the hand-written findings.
    fn render_with_serde(report: &AuditReport) -> String {
        let rendered = render(report);
        let mut document: serde_json::Map<String, Value> = serde_json::from_str(&rendered).unwrap();
        document.remove("findings");
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(
            &mut out,
            serde_json::ser::PrettyFormatter::with_indent(b"  "),
        );
        Document {
            head: &document,
            report,
        }
        .serialize(&mut serializer)
        .unwrap();
        String::from_utf8(out).unwrap() + "\n"
    }

    struct Document<'a> {
        head: &'a serde_json::Map<String, Value>,
        report: &'a AuditReport,
    }

    impl Serialize for Document<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.head.len() + 1))?;
            for (key, value) in self.head {
                map.serialize_entry(key, value)?;
                if key == "controls" {
                    map.serialize_entry("findings", &FindingList(self.report))?;
                }
            }
            map.end()
        }
    }

    struct FindingList<'a>(&'a AuditReport);

    impl Serialize for FindingList<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(
                self.0
                    .located_findings()
                    .map(|(finding, position)| FindingEntry(finding, position)),
            )
        }
    }

    struct FindingEntry<'a>(&'a Finding, Option<TextPosition>);

    impl Serialize for FindingEntry<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let finding = self.0;
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("control", finding.control.id)?;
            map.serialize_entry("severity", &finding.severity)?;
            map.serialize_entry("resource", &*finding.resource)?;
            if let Some(container) = &finding.container {
                map.serialize_entry("container", container)?;
            }
            if let Some(field) = &finding.field {
                map.serialize_entry("field", field)?;
            }
            map.serialize_entry("message", &finding.message)?;
            if let Some(exception) = &finding.exception {
                map.serialize_entry("exception", exception)?;
            }
            if let Some(origin) = &finding.origin {
                map.serialize_entry("location", &Location(origin, self.1))?;
            }
            map.end()
        }
    }

    struct Location<'a>(&'a Origin, Option<TextPosition>);

    impl Serialize for Location<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let origin = self.0;
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("source", &*origin.source)?;
            map.serialize_entry("document", &origin.document)?;
            if let Some(item) = origin.item {
                map.serialize_entry("item", &item)?;
            }
            if let Some(position) = self.1 {
                map.serialize_entry("line", &position.line)?;
                map.serialize_entry("column", &position.column)?;
            }
            map.end()
        }
    }

    const MANIFESTS: &str = "\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: \"we\\\"b\\u0001\", namespace: \"pr\\\\od\"}
  spec:
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        hostNetwork: true
        containers:
        - name: \"a\\tpp\\u00e9\"
          image: \"web:1.0\"
          env: [{name: PASSWORD, value: \"hunter2hunter2\"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: \"ops\\u2028team\", apiGroup: rbac.authorization.k8s.io}]
";

    fn report(with_findings: bool) -> AuditReport {
        let manifests = parse_manifests(MANIFESTS, "k8s/a \"b\".yaml").unwrap();
        let mut result = audit(&manifests.objects, &AuditOptions::default());
        if !with_findings {
            result.findings.clear();
        }
        for (index, finding) in result.findings.iter_mut().enumerate() {
            if index % 3 == 0 {
                finding.exception = Some(format!("accepted \"{index}\"\n(until 2030-01-01)"));
            }
        }
        let count = result.findings.len();
        let mut report = AuditReport::new(
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            vec!["k8s".to_owned()],
            PolicyVersion::Latest,
            Framework::ALL.to_vec(),
            Vec::new(),
            Default::default(),
            Default::default(),
            result,
            Applied::default(),
        );
        // Every other finding has a position, as when a field is not found.
        let positions = (0..count)
            .map(|index| {
                (index % 2 == 0).then_some(TextPosition {
                    line: index + 1,
                    column: 10 * index + 3,
                    exact: true,
                })
            })
            .collect();
        report.set_positions(positions);
        report
    }

    #[test]
    fn findings_match_serde_output() {
        let report = report(true);
        assert!(report.result.findings.len() > 5);
        assert!(
            report
                .result
                .findings
                .iter()
                .any(|f| f.origin.as_ref().unwrap().item.is_some())
        );
        assert_eq!(render(&report), render_with_serde(&report));
    }

    #[test]
    fn empty_findings_match_serde_output() {
        let report = report(false);
        let rendered = render(&report);
        assert!(rendered.contains("\"findings\": [],"), "{rendered}");
        assert_eq!(rendered, render_with_serde(&report));
    }

    #[test]
    fn chunks_join_into_one_array() {
        let mut report = report(true);
        let one = report.result.findings[0].clone();
        let count = CHUNK_FINDINGS * 2 + 7;
        report.result.findings = vec![one; count];
        report.set_positions(vec![None; count]);
        let rendered = render(&report);
        let document: Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(document["findings"].as_array().unwrap().len(), count);
        assert_eq!(rendered, render_with_serde(&report));
    }
}
