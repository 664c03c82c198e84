//! rampart's audit JSON (`rampart.audit/v1`): options, object counts,
//! framework scores, per-control results and every finding with its origin.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

use super::AuditReport;
use rampart_posture::{Control, Finding, TextPosition, catalogue};

pub(super) fn render(report: &AuditReport) -> String {
    let document = json!({
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
        "findings": [],
        "exceptions": {
            "accepted": report.exceptions.accepted,
            "expired": report.exceptions.expired,
            "unused": report.exceptions.unused,
        },
        "errors": report.errors,
        "gaps": report.gaps,
        "warnings": report.warnings,
    });
    // The findings, which can number hundreds of thousands, are written
    // straight from their structs, without a `Value` each.
    let mut document = document;
    let findings = FindingList(report);
    let mut text = String::new();
    let Value::Object(map) = &mut document else {
        unreachable!("the document is an object");
    };
    map.remove("findings");
    let mut out = Vec::with_capacity(256 * report.result.findings.len() + 4096);
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"  "),
    );
    Document {
        head: map,
        findings,
    }
    .serialize(&mut serializer)
    .expect("JSON values serialize");
    text.push_str(std::str::from_utf8(&out).expect("serde_json writes UTF-8"));
    text.push('\n');
    text
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

/// The document: the small sections as a map, then the findings.
struct Document<'a> {
    head: &'a serde_json::Map<String, Value>,
    findings: FindingList<'a>,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.head.len() + 1))?;
        for (key, value) in self.head {
            map.serialize_entry(key, value)?;
            if key == "controls" {
                map.serialize_entry("findings", &self.findings)?;
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

/// One finding with its location, in the order the schema lists them.
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

/// Source, document, List item, and the 1-based line and column of the
/// finding's field when known.
struct Location<'a>(&'a rampart_posture::Origin, Option<TextPosition>);

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
