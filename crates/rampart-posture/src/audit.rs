//! The audit: every control over a set of objects, with the per-framework
//! scores.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::control::{Control, Framework, Severity, catalogue};
use crate::controls::{admission, escape, id_rank, images, network, pss, rbac, resources, secrets};
use crate::finding::{FastHash, Finding, ResourceRef, Sink, Warning, effective_namespace};
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
    /// Objects that could not be checked completely, in input order.
    pub warnings: Vec<Warning>,
    /// The part of `evaluated` whose namespace is known, by namespace
    /// (`None` for cluster-scoped objects and subjects), then by control.
    /// Per-object controls are all counted here.
    // NOTE: controls that relate objects (RBAC, NetworkPolicy, admission)
    // count here only where they call `Sink::evaluated_in`.
    pub evaluated_by_namespace: BTreeMap<Option<String>, BTreeMap<&'static str, u64>>,
}

/// Runs every control over `objects`.
pub fn audit(objects: &[Object], options: &AuditOptions) -> AuditResult {
    // The controls that relate objects run beside the per-object ones: on
    // their own they would leave all but one core idle.
    let (mut sink, related) = rayon::join(
        || check_each_object(objects, options),
        || {
            let context = Context { objects, options };
            let (rbac, (network, admission)) = rayon::join(
                || run_related(&context, rbac::check),
                || {
                    rayon::join(
                        || run_related(&context, network::check),
                        || run_related(&context, admission::check),
                    )
                },
            );
            [rbac, network, admission]
        },
    );
    for other in related {
        sink.merge(other);
    }

    let (mut findings, warnings, evaluated, evaluated_by_namespace) = sink.into_parts();
    sort_findings(&mut findings);
    AuditResult {
        findings,
        evaluated,
        warnings,
        evaluated_by_namespace,
    }
}

/// Runs the per-object controls over every object, in parallel.
fn check_each_object(objects: &[Object], options: &AuditOptions) -> Sink {
    let service_accounts = service_account_settings(objects);
    let pss_plan = pss::Plan::new(options.pss_version);
    let parts: Vec<Sink> = objects
        .par_iter()
        .fold(Sink::default, |mut sink, object| {
            sink.begin_object(object);
            check_object(object, options, &pss_plan, &service_accounts, &mut sink);
            sink
        })
        .collect();
    // One merge into a sink of the final size moves each finding once,
    // where a pairwise reduce moved it once per level of the tree.
    let mut sink = Sink::default();
    sink.findings
        .reserve_exact(parts.iter().map(|part| part.findings.len()).sum());
    for part in parts {
        sink.merge(part);
    }
    sink.end_objects();
    sink
}

/// Runs one control that relates objects into a sink of its own.
fn run_related(context: &Context<'_>, check: fn(&Context<'_>, &mut Sink)) -> Sink {
    let mut sink = Sink::default();
    check(context, &mut sink);
    sink
}

fn check_object(
    object: &Object,
    options: &AuditOptions,
    pss_plan: &pss::Plan,
    service_accounts: &ServiceAccounts<'_>,
    sink: &mut Sink,
) {
    let Resource::Workload(workload) = &object.resource else {
        return;
    };
    let Some(pod) = workload.pod_view() else {
        return;
    };
    pss::check(object, &pod, pss_plan, sink);
    escape::check(object, &pod, sink);
    secrets::check(object, &pod, service_accounts, sink);
    images::check(object, &pod, &options.allowed_registries, sink);
    resources::check(object, workload, &pod, sink);
}

/// Sorts findings by severity (highest first), control id, resource,
/// field and message, and findings equal in all of these by their
/// position in `findings`.
///
/// Severity, control and resource are first replaced by numbers that sort
/// the same way, because comparing the strings of two resources on each
/// step of the sort took most of its time.
fn sort_findings(findings: &mut Vec<Finding>) {
    let Some(keys) = sort_keys(findings) else {
        findings.par_sort_by(compare_findings);
        return;
    };
    let mut order: Vec<(SortKey, usize)> = keys.into_iter().zip(0..).collect();
    order.par_sort_unstable_by(|(key_a, a), (key_b, b)| {
        let (first, second) = (&findings[*a], &findings[*b]);
        key_a
            .cmp(key_b)
            .then_with(|| first.field.cmp(&second.field))
            .then_with(|| first.message.cmp(&second.message))
            .then_with(|| a.cmp(b))
    });
    let mut slots: Vec<Option<Finding>> = findings.drain(..).map(Some).collect();
    findings.extend(order.into_iter().map(|(_, index)| {
        slots[index]
            .take()
            .expect("each position appears once in the order")
    }));
}

/// The order of [`sort_findings`], comparing every key as it is.
fn compare_findings(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.control.id.cmp(b.control.id))
        .then_with(|| a.resource.cmp(&b.resource))
        .then_with(|| a.field.cmp(&b.field))
        .then_with(|| a.message.cmp(&b.message))
}

/// Severity (highest first), rank of the control id and rank of the
/// resource.
type SortKey = (Reverse<Severity>, usize, usize);

/// Returns the [`SortKey`] of each finding, or `None` when a control is
/// not in the catalogue.
///
/// Resources are ranked in two steps: the distinct references (the
/// findings of one object share one), then their values, so that equal
/// resources behind different references get the same rank.
fn sort_keys(findings: &[Finding]) -> Option<Vec<SortKey>> {
    let controls: Vec<usize> = findings
        .iter()
        .map(|finding| id_rank(finding.control))
        .collect::<Option<_>>()?;

    let mut distinct: Vec<(usize, &ResourceRef)> = findings
        .iter()
        .map(|finding| (address(&finding.resource), &*finding.resource))
        .collect();
    distinct.par_sort_unstable_by_key(|(address, _)| *address);
    distinct.dedup_by_key(|(address, _)| *address);

    let mut by_value: Vec<usize> = (0..distinct.len()).collect();
    by_value.par_sort_unstable_by(|&a, &b| distinct[a].1.cmp(distinct[b].1));
    let mut ranks = vec![0; distinct.len()];
    let mut rank = 0;
    for (position, &index) in by_value.iter().enumerate() {
        if position > 0 && distinct[by_value[position - 1]].1 != distinct[index].1 {
            rank += 1;
        }
        ranks[index] = rank;
    }

    let keys = findings
        .par_iter()
        .zip(controls)
        .map(|(finding, control)| {
            let target = address(&finding.resource);
            let position = distinct
                .binary_search_by_key(&target, |(address, _)| *address)
                .expect("every reference is listed");
            (Reverse(finding.severity), control, ranks[position])
        })
        .collect();
    Some(keys)
}

fn address(resource: &Arc<ResourceRef>) -> usize {
    Arc::as_ptr(resource) as usize
}

/// Each ServiceAccount's `automountServiceAccountToken`, keyed by
/// namespace and name.
pub(crate) type ServiceAccounts<'a> = HashMap<(&'a str, &'a str), Option<bool>, FastHash>;

fn service_account_settings(objects: &[Object]) -> ServiceAccounts<'_> {
    objects
        .iter()
        .filter_map(|object| match &object.resource {
            Resource::ServiceAccount(account) => {
                let namespace = effective_namespace(object).unwrap_or("default");
                let key = (namespace, object.name());
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
        type Resources<'a> = HashSet<&'a ResourceRef, FastHash>;
        let mut failing: HashMap<&str, Resources<'_>, FastHash> = HashMap::default();
        let mut excepted: HashMap<&str, Resources<'_>, FastHash> = HashMap::default();
        for finding in &self.findings {
            let target = if finding.is_excepted() {
                &mut excepted
            } else {
                &mut failing
            };
            target
                .entry(finding.control.id)
                .or_default()
                .insert(&*finding.resource);
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

    /// Returns the score of each framework in `frameworks`, from the
    /// per-control `results` that [`AuditResult::control_results`] returns.
    pub fn scores(
        results: &BTreeMap<&'static str, ControlResult>,
        frameworks: &[Framework],
    ) -> Vec<FrameworkScore> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::escape::{HOST_PATH_MOUNT, PRIVILEGED_CONTAINER};
    use crate::controls::images::LATEST_TAG;

    fn resource(kind: &str, namespace: Option<&str>, name: &str) -> Arc<ResourceRef> {
        Arc::new(ResourceRef {
            api_version: "apps/v1".to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        })
    }

    fn finding(
        control: &'static Control,
        severity: Severity,
        resource: &Arc<ResourceRef>,
        field: &str,
        message: &str,
    ) -> Finding {
        Finding {
            control,
            severity,
            resource: Arc::clone(resource),
            origin: None,
            container: None,
            field: Some(field.to_owned()),
            message: message.to_owned(),
            exception: None,
        }
    }

    #[test]
    fn sort_matches_full_comparison() {
        let web = resource("Deployment", Some("shop"), "web");
        // Equal to `web` behind another reference, as RBAC subjects are.
        let web_again = resource("Deployment", Some("shop"), "web");
        let api = resource("Deployment", Some("shop"), "api");
        let cluster = resource("DaemonSet", None, "agent");
        let mut findings = vec![
            finding(&LATEST_TAG, Severity::Medium, &web, "b", "m"),
            finding(&HOST_PATH_MOUNT, Severity::Medium, &api, "a", "m"),
            finding(&HOST_PATH_MOUNT, Severity::High, &web_again, "a", "m"),
            finding(&PRIVILEGED_CONTAINER, Severity::High, &cluster, "a", "m"),
            finding(&LATEST_TAG, Severity::Medium, &web_again, "a", "z"),
            finding(&LATEST_TAG, Severity::Medium, &web, "a", "y"),
            finding(&HOST_PATH_MOUNT, Severity::High, &web, "a", "m"),
            finding(&HOST_PATH_MOUNT, Severity::Critical, &api, "c", "m"),
        ];
        // Tell the two equal findings apart by something the sort ignores.
        findings[6].container = Some("second".to_owned());

        let mut expected = findings.clone();
        expected.sort_by(compare_findings);
        sort_findings(&mut findings);

        let describe = |findings: &[Finding]| -> Vec<String> {
            findings
                .iter()
                .map(|f| {
                    format!(
                        "{} {} {} {:?} {} {:?}",
                        f.severity,
                        f.control.id,
                        f.resource.display(),
                        f.field,
                        f.message,
                        f.container
                    )
                })
                .collect()
        };
        assert_eq!(describe(&findings), describe(&expected));
    }

    #[test]
    fn sort_keys_rank_equal_resources_alike() {
        let web = resource("Deployment", Some("shop"), "web");
        let web_again = resource("Deployment", Some("shop"), "web");
        let api = resource("Deployment", Some("shop"), "api");
        let findings = vec![
            finding(&LATEST_TAG, Severity::Medium, &web, "a", "m"),
            finding(&LATEST_TAG, Severity::Medium, &api, "a", "m"),
            finding(&LATEST_TAG, Severity::Medium, &web_again, "a", "m"),
        ];
        let keys = sort_keys(&findings).expect("catalogue controls");
        assert_eq!(keys[0], keys[2]);
        assert!(keys[1] < keys[0]);
    }
}
