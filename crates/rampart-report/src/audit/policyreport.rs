//! Kubernetes Policy Reports (`wgpolicyk8s.io/v1alpha2`, the API of the
//! Kubernetes Policy working group that Kyverno and Policy Reporter read):
//! one `PolicyReport` per namespace and one `ClusterPolicyReport` for
//! cluster-scoped objects and subjects, as a YAML stream that
//! `kubectl apply -f` takes.
//!
//! Each finding is one result: `fail`, or `skip` when an exception accepts
//! it. Passing resources get no result of their own. Instead,
//! `summary.pass` counts them per control and resource, from what each
//! control evaluated in the namespace. Input errors and cluster gaps go
//! into the `ClusterPolicyReport` as `error` and `warn` results.
//!
//! The API server stores an object in etcd, which rejects requests over
//! 1.5 MiB by default, so a scope with more results is split into several
//! reports (`rampart-audit`, `rampart-audit-2`, ...) of at most
//! [`MAX_RESULTS_BYTES`] of results each. The first one carries the pass
//! count.

use std::collections::{BTreeMap, BTreeSet};

use rampart_posture::{Control, Finding, ResourceRef, TextPosition, catalogue};
use serde_json::{Map, Value, json};

use super::{AuditReport, place, yaml};

const API_VERSION: &str = "wgpolicyk8s.io/v1alpha2";

/// `metadata.name` of every report: one per namespace, and one cluster-wide.
const REPORT_NAME: &str = "rampart-audit";

/// `policy` of the results that report an input that could not be read.
const INPUT_POLICY: &str = "rampart-input";

/// `policy` of the results that report what a cluster audit could not see.
const GAP_POLICY: &str = "rampart-cluster-access";

/// Most bytes of results (as compact JSON) in one report, leaving room
/// under etcd's default 1.5 MiB request limit for the rest of the object.
const MAX_RESULTS_BYTES: usize = 1024 * 1024;

/// Renders the reports as a YAML stream, each document after a `---` line.
pub(super) fn render(report: &AuditReport) -> String {
    let mut scopes: BTreeMap<Option<&str>, Vec<(&Finding, Option<TextPosition>)>> = BTreeMap::new();
    // The ClusterPolicyReport is always written, so input errors have a
    // place and the output is never empty.
    scopes.insert(None, Vec::new());
    for namespace in report.result.evaluated_by_namespace.keys() {
        scopes.entry(namespace.as_deref()).or_default();
    }
    for (finding, position) in report.located_findings() {
        scopes
            .entry(finding.resource.namespace.as_deref())
            .or_default()
            .push((finding, position));
    }

    let mut out = String::new();
    for (namespace, findings) in &scopes {
        for document in documents(report, *namespace, findings) {
            out.push_str("---\n");
            out.push_str(&yaml::to_yaml(&document));
        }
    }
    out
}

/// Returns the reports of one scope: one, or several when the results
/// exceed [`MAX_RESULTS_BYTES`].
fn documents(
    report: &AuditReport,
    namespace: Option<&str>,
    findings: &[(&Finding, Option<TextPosition>)],
) -> Vec<Value> {
    let timestamp = json!({"seconds": report.created.timestamp(), "nanos": 0});
    let mut results: Vec<Value> = findings
        .iter()
        .map(|(finding, position)| finding_result(finding, *position, &timestamp))
        .collect();
    if namespace.is_none() {
        for error in &report.errors {
            let place = match error.line {
                Some(line) => format!("{}:{line}", error.source),
                None => error.source.clone(),
            };
            results.push(json!({
                "policy": INPUT_POLICY,
                "result": "error",
                "message": format!("{place}: {}", error.message),
                "source": "rampart",
                "timestamp": timestamp,
                "properties": {"source": error.source},
            }));
        }
        for gap in &report.gaps {
            results.push(json!({
                "policy": GAP_POLICY,
                "result": "warn",
                "message": gap,
                "source": "rampart",
                "timestamp": timestamp,
            }));
        }
    }

    let pass = passed(report, namespace, findings);
    split(results, MAX_RESULTS_BYTES)
        .into_iter()
        .enumerate()
        .map(|(index, results)| {
            let count = |outcome: &str| results.iter().filter(|r| r["result"] == outcome).count();
            let summary = json!({
                "pass": if index == 0 { pass } else { 0 },
                "fail": count("fail"),
                "warn": count("warn"),
                "error": count("error"),
                "skip": count("skip"),
            });
            let name = match index {
                0 => REPORT_NAME.to_owned(),
                _ => format!("{REPORT_NAME}-{}", index + 1),
            };
            let mut metadata = json!({
                "name": name,
                "labels": {"app.kubernetes.io/managed-by": "rampart"},
            });
            let kind = match namespace {
                Some(namespace) => {
                    metadata["namespace"] = json!(namespace);
                    "PolicyReport"
                }
                None => "ClusterPolicyReport",
            };
            json!({
                "apiVersion": API_VERSION,
                "kind": kind,
                "metadata": metadata,
                "results": results,
                "summary": summary,
            })
        })
        .collect()
}

/// Splits `results` into runs of at most `max_bytes` of compact JSON
/// each; a single larger result gets a run of its own. There is always at
/// least one run, maybe empty.
fn split(results: Vec<Value>, max_bytes: usize) -> Vec<Vec<Value>> {
    let mut runs = vec![Vec::new()];
    let mut bytes = 0;
    for result in results {
        let size = result.to_string().len();
        let current = runs.last_mut().expect("runs start with one");
        if !current.is_empty() && bytes + size > max_bytes {
            runs.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        runs.last_mut().expect("runs start with one").push(result);
    }
    runs
}

fn finding_result(finding: &Finding, position: Option<TextPosition>, timestamp: &Value) -> Value {
    let control = finding.control;
    let mut properties = Map::new();
    let mut property = |key: &str, value: String| {
        if !value.is_empty() {
            properties.insert(key.to_owned(), Value::String(value));
        }
    };
    property("field", finding.field.clone().unwrap_or_default());
    property("container", finding.container.clone().unwrap_or_default());
    if let Some(origin) = &finding.origin {
        property("location", place(&origin.source, position));
    }
    property("cis", control.cis.join(", "));
    property("nist-800-190", control.nist_800_190.join(", "));
    property("nsa", control.nsa.join("; "));
    property("mitre", control.mitre.join(", "));
    property("kubescape", control.kubescape.join(", "));
    property("exception", finding.exception.clone().unwrap_or_default());

    json!({
        "policy": control.id,
        "rule": control.title,
        "result": if finding.is_excepted() { "skip" } else { "fail" },
        "scored": true,
        "severity": finding.severity,
        "category": control.category.title(),
        "message": finding.message,
        "resources": [resource(&finding.resource)],
        "source": "rampart",
        "timestamp": timestamp,
        "properties": properties,
    })
}

fn resource(resource: &ResourceRef) -> Value {
    let mut reference = json!({
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "name": resource.name,
    });
    if let Some(namespace) = &resource.namespace {
        reference["namespace"] = json!(namespace);
    }
    reference
}

/// Counts the (control, resource) pairs of the scope that passed: what
/// each selected control evaluated there, less the resources it failed or
/// that an exception accepts.
fn passed(
    report: &AuditReport,
    namespace: Option<&str>,
    findings: &[(&Finding, Option<TextPosition>)],
) -> u64 {
    let key = namespace.map(str::to_owned);
    let Some(evaluated) = report.result.evaluated_by_namespace.get(&key) else {
        return 0;
    };
    let mut not_passed: BTreeMap<&str, BTreeSet<&ResourceRef>> = BTreeMap::new();
    for (finding, _) in findings {
        not_passed
            .entry(finding.control.id)
            .or_default()
            .insert(&finding.resource);
    }
    catalogue()
        .iter()
        .filter(|control| report.selected(control))
        .map(|control: &&Control| {
            let count = evaluated.get(control.id).copied().unwrap_or(0);
            let failed = not_passed.get(control.id).map_or(0, BTreeSet::len) as u64;
            count.saturating_sub(failed)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_by_size() {
        let results: Vec<Value> = (0..10)
            .map(|i| json!({"policy": format!("p{i}")}))
            .collect();
        let size = results[0].to_string().len();
        let runs = split(results.clone(), size * 3);
        let lengths: Vec<usize> = runs.iter().map(Vec::len).collect();
        assert_eq!(lengths, vec![3, 3, 3, 1]);
        assert_eq!(runs.concat(), results);

        assert_eq!(split(results.clone(), 1).len(), 10);
        assert_eq!(split(Vec::new(), 1), vec![Vec::<Value>::new()]);
    }
}
