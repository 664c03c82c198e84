//! rampart's audit JSON (`rampart.audit/v1`): options, object counts,
//! framework scores, per-control results and every finding with its origin.

use serde_json::{Value, json};

use super::AuditReport;
use rampart_posture::{Control, Finding, catalogue};

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
        "findings": report.result.findings.iter().map(finding_entry).collect::<Vec<_>>(),
        "exceptions": {
            "accepted": report.exceptions.accepted,
            "expired": report.exceptions.expired,
            "unused": report.exceptions.unused,
        },
        "errors": report.errors,
        "gaps": report.gaps,
        "warnings": report.warnings,
    });
    let mut text = serde_json::to_string_pretty(&document).expect("JSON values serialize");
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

fn finding_entry(finding: &Finding) -> Value {
    let mut entry = serde_json::to_value(finding).expect("findings serialize");
    if let (Some(origin), Value::Object(map)) = (&finding.origin, &mut entry) {
        let mut location = json!({"source": &*origin.source, "document": origin.document});
        if let Some(item) = origin.item {
            location["item"] = json!(item);
        }
        map.insert("location".to_owned(), location);
    }
    entry
}
