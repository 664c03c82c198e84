//! The audit: every control over a set of objects, with the per-framework
//! scores.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::control::{Control, Framework, Severity, catalogue};
use crate::controls::{admission, escape, images, network, pss, rbac, resources, secrets};
use crate::finding::{Finding, ResourceRef, Sink, effective_namespace};
use crate::level::PolicyVersion;
use crate::manifest::{Object, Resource};

/// What the audit checks against.
#[derive(Clone, Debug, Default)]
pub struct AuditOptions {
    /// Pod Security Standards version (`latest` unless set).
    pub pss_version: PolicyVersion,
    /// Registry (or registry/path) prefixes images may come from; empty
    /// turns the allow-list control off.
    pub allowed_registries: Vec<String>,
    /// The objects are a whole cluster, so that what is absent from them
    /// (such as any image-verification webhook) is absent from the cluster.
    pub whole_cluster: bool,
}

/// The objects and options the controls that relate objects read.
pub struct Context<'a> {
    pub objects: &'a [Object],
    pub options: &'a AuditOptions,
}

/// The result of an audit: findings sorted by severity, then by resource,
/// and what each control evaluated.
#[derive(Debug, Default)]
pub struct AuditResult {
    pub findings: Vec<Finding>,
    pub evaluated: BTreeMap<&'static str, u64>,
}

/// Runs every control over `objects`.
pub fn audit(objects: &[Object], options: &AuditOptions) -> AuditResult {
    let service_accounts = service_account_settings(objects);
    let mut sink = objects
        .par_iter()
        .fold(Sink::default, |mut sink, object| {
            check_object(object, options, &service_accounts, &mut sink);
            sink
        })
        .reduce(Sink::default, |mut left, right| {
            left.merge(right);
            left
        });

    let context = Context { objects, options };
    rbac::check(&context, &mut sink);
    network::check(&context, &mut sink);
    admission::check(&context, &mut sink);

    let mut findings = sink.findings;
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.control.id.cmp(b.control.id))
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.field.cmp(&b.field))
    });
    AuditResult {
        findings,
        evaluated: sink.evaluated,
    }
}

fn check_object(
    object: &Object,
    options: &AuditOptions,
    service_accounts: &HashMap<(String, String), Option<bool>>,
    sink: &mut Sink,
) {
    let Resource::Workload(workload) = &object.resource else {
        return;
    };
    let Some(pod) = workload.pod_view() else {
        return;
    };
    pss::check(object, &pod, options.pss_version, sink);
    escape::check(object, &pod, sink);
    secrets::check(object, &pod, service_accounts, sink);
    images::check(object, &pod, &options.allowed_registries, sink);
    resources::check(object, workload, &pod, sink);
}

/// Returns each ServiceAccount's `automountServiceAccountToken`, keyed by
/// namespace and name.
fn service_account_settings(objects: &[Object]) -> HashMap<(String, String), Option<bool>> {
    objects
        .iter()
        .filter_map(|object| match &object.resource {
            Resource::ServiceAccount(account) => {
                let namespace = effective_namespace(object).unwrap_or("default").to_owned();
                let key = (namespace, object.name().to_owned());
                Some((key, account.automount_service_account_token))
            }
            _ => None,
        })
        .collect()
}

/// Pass and fail counts of one control.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ControlResult {
    /// Objects (or subjects, or namespaces) the control evaluated.
    pub evaluated: u64,
    /// Distinct resources with at least one finding that no exception accepts.
    pub failed: u64,
    /// Distinct resources whose findings an exception accepts, all of them.
    pub excepted: u64,
}

/// The score of one framework.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrameworkScore {
    pub framework: Framework,
    /// Percentage of evaluated (control, resource) pairs that passed or
    /// are excepted, or 100 when nothing was evaluated.
    pub score: f64,
    pub evaluated: u64,
    pub failed: u64,
    pub controls: usize,
    pub failed_controls: usize,
}

impl AuditResult {
    /// Returns the pass and fail counts of each control in the catalogue.
    pub fn control_results(&self) -> BTreeMap<&'static str, ControlResult> {
        let mut failing: HashMap<&str, HashSet<&ResourceRef>> = HashMap::new();
        let mut excepted: HashMap<&str, HashSet<&ResourceRef>> = HashMap::new();
        for finding in &self.findings {
            let target = if finding.is_excepted() {
                &mut excepted
            } else {
                &mut failing
            };
            target
                .entry(finding.control.id)
                .or_default()
                .insert(&finding.resource);
        }
        catalogue()
            .iter()
            .map(|control| {
                let failed = failing.get(control.id);
                let accepted = excepted.get(control.id).map_or(0, |resources| {
                    let still_failing = |resource: &&&ResourceRef| {
                        failed.is_some_and(|failed| failed.contains(**resource))
                    };
                    resources.iter().filter(|r| !still_failing(r)).count()
                });
                let result = ControlResult {
                    evaluated: self.evaluated.get(control.id).copied().unwrap_or(0),
                    failed: failed.map_or(0, HashSet::len) as u64,
                    excepted: accepted as u64,
                };
                (control.id, result)
            })
            .collect()
    }

    /// Returns the score of each framework in `frameworks`.
    pub fn scores(&self, frameworks: &[Framework]) -> Vec<FrameworkScore> {
        let results = self.control_results();
        frameworks
            .iter()
            .map(|framework| {
                let members: Vec<&Control> = catalogue()
                    .iter()
                    .copied()
                    .filter(|control| framework.includes(control))
                    .collect();
                let mut evaluated = 0;
                let mut failed = 0;
                let mut failed_controls = 0;
                for control in &members {
                    let result = &results[control.id];
                    evaluated += result.evaluated;
                    failed += result.failed.min(result.evaluated);
                    if result.failed > 0 {
                        failed_controls += 1;
                    }
                }
                let score = if evaluated == 0 {
                    100.0
                } else {
                    100.0 * (evaluated - failed) as f64 / evaluated as f64
                };
                FrameworkScore {
                    framework: *framework,
                    score,
                    evaluated,
                    failed,
                    controls: members.len(),
                    failed_controls,
                }
            })
            .collect()
    }

    /// Keeps only the findings of controls in one of `frameworks`.
    pub fn retain_frameworks(&mut self, frameworks: &[Framework]) {
        self.findings.retain(|finding| {
            frameworks
                .iter()
                .any(|framework| framework.includes(finding.control))
        });
    }

    /// Returns the active (not excepted) findings at or above `severity`.
    pub fn count_at_least(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|finding| !finding.is_excepted() && finding.severity >= severity)
            .count()
    }
}
