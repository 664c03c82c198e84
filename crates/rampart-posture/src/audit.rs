//! The audit: every control over a set of objects, with the per-framework
//! scores.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::control::{Control, Framework, Severity, catalogue};
use crate::controls::{
    admission, escape, general, id_rank, images, network, pss, rbac, resources, secrets,
};
use crate::finding::{FastHash, Finding, ResourceRef, Sink, Warning, effective_namespace};
use crate::level::PolicyVersion;
use crate::manifest::{Object, PlacedObject, Resource};
use crate::pod::ContainerRef;

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
    /// `evaluated` by namespace (`None` for cluster-scoped objects and
    /// subjects), then by control. Each unit is counted in the namespace
    /// of the resource its findings name, so that a namespace's pass count
    /// is its evaluated units less its failed ones. Every control counts
    /// here, so the counts of a control add up to its total in `evaluated`.
    pub evaluated_by_namespace: BTreeMap<Option<String>, BTreeMap<&'static str, u64>>,
}

/// Runs every control over `objects`.
pub fn audit(objects: &[Object], options: &AuditOptions) -> AuditResult {
    audit_with_placed(objects, &[], options)
}

/// Runs every control over `objects`, and the `default-namespace` control
/// over `placed` too: the objects of kinds that no other control reads
/// (see [`Manifests::placed`](crate::Manifests::placed)).
pub fn audit_with_placed(
    objects: &[Object],
    placed: &[PlacedObject],
    options: &AuditOptions,
) -> AuditResult {
    // The controls that relate objects run beside the per-object ones: on
    // their own they would leave all but one core idle.
    let ((mut sink, mut segments), related) = rayon::join(
        || {
            let (mut sink, segments) = check_each_object(objects, options);
            general::check_placed(placed, &mut sink);
            (sink, segments)
        },
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
    for mut other in related {
        segments.push(std::mem::take(&mut other.findings));
        sink.merge(other);
    }

    let (rest, warnings, evaluated, evaluated_by_namespace) = sink.into_parts();
    segments.push(rest);
    AuditResult {
        findings: sort_findings(segments),
        evaluated,
        warnings,
        evaluated_by_namespace,
    }
}

/// Findings per segment of the per-object pass. A full segment is set
/// aside and never grows again, so that a finding is moved only by the
/// sort, where one growing vector moved each finding at every doubling.
const SEGMENT_FINDINGS: usize = 4096;

/// Capacity of a segment: room for the findings of a few more objects
/// after it is full, so that it rarely grows past its first allocation.
const SEGMENT_CAPACITY: usize = SEGMENT_FINDINGS + SEGMENT_FINDINGS / 8;

/// The counts, warnings and findings of one part of the per-object pass.
#[derive(Default)]
struct ObjectPass {
    sink: Sink,
    segments: Vec<Vec<Finding>>,
}

/// Runs the per-object controls over every object, in parallel, and
/// returns the counts and warnings, and the findings in segments.
fn check_each_object(objects: &[Object], options: &AuditOptions) -> (Sink, Vec<Vec<Finding>>) {
    let service_accounts = service_account_settings(objects);
    let pss_plan = pss::Plan::new(options.pss_version);
    let passes: Vec<ObjectPass> = objects
        .par_iter()
        .with_min_len(64)
        .fold(ObjectPass::default, |mut pass, object| {
            if pass.sink.findings.capacity() == 0 {
                pass.sink.findings.reserve_exact(SEGMENT_CAPACITY);
            }
            pass.sink.begin_object(object);
            check_object(
                object,
                options,
                &pss_plan,
                &service_accounts,
                &mut pass.sink,
            );
            if pass.sink.findings.len() >= SEGMENT_FINDINGS {
                let next = Vec::with_capacity(SEGMENT_CAPACITY);
                let full = std::mem::replace(&mut pass.sink.findings, next);
                pass.segments.push(full);
            }
            pass
        })
        .collect();

    let mut sink = Sink::default();
    let mut segments = Vec::new();
    for mut pass in passes {
        segments.append(&mut pass.segments);
        segments.push(std::mem::take(&mut pass.sink.findings));
        sink.merge(pass.sink);
    }
    sink.end_objects();
    (sink, segments)
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
    general::check_namespace(object, sink);
    general::check_version(object, sink);
    let Resource::Workload(workload) = &object.resource else {
        return;
    };
    let Some(pod) = workload.pod_view() else {
        return;
    };
    // Listed once, because each of the checks reads every container.
    let containers: Vec<ContainerRef<'_>> = pod.containers().collect();
    pss::check(object, &pod, &containers, pss_plan, sink);
    escape::check(object, &pod, &containers, sink);
    secrets::check(object, &pod, &containers, service_accounts, sink);
    images::check(object, &containers, &options.allowed_registries, sink);
    resources::check(object, workload, &pod, &containers, sink);
    general::check_pod(object, &pod, &containers, sink);
}

/// Returns the findings of all `segments` sorted by severity (highest
/// first), control id, resource, field and message, and findings equal in
/// all of these in the order of the segments.
///
/// Severity, control and resource are first packed into one number per
/// finding that sorts the same way, because comparing the strings of two
/// resources on each step of the sort took most of its time. Only findings
/// with equal numbers, such as those of the containers of one object, are
/// then compared by field and message.
fn sort_findings(segments: Vec<Vec<Finding>>) -> Vec<Finding> {
    let all: Vec<&Finding> = segments.iter().flatten().collect();
    let keys = u32::try_from(all.len()).ok().and_then(|_| sort_keys(&all));
    let Some(keys) = keys else {
        drop(all);
        let mut findings: Vec<Finding> = segments.into_iter().flatten().collect();
        findings.par_sort_by(compare_findings);
        return findings;
    };

    let mut order: Vec<(u64, u32)> = keys.into_iter().zip(0..).collect();
    order.par_sort_unstable();
    order
        .par_chunk_by_mut(|(a, _), (b, _)| a == b)
        .filter(|run| run.len() > 1)
        .for_each(|run| {
            run.sort_unstable_by(|(_, a), (_, b)| {
                let (first, second) = (all[*a as usize], all[*b as usize]);
                first
                    .field
                    .cmp(&second.field)
                    .then_with(|| first.message.cmp(&second.message))
                    .then_with(|| a.cmp(b))
            });
        });
    drop(all);

    let mut starts = Vec::with_capacity(segments.len());
    let mut total = 0;
    for segment in &segments {
        starts.push(total);
        total += segment.len();
    }
    // Collecting `Some` reuses each segment's allocation, so the findings
    // are moved once more, into the sorted vector.
    let mut slots: Vec<Vec<Option<Finding>>> = segments
        .into_iter()
        .map(|segment| segment.into_iter().map(Some).collect())
        .collect();
    order
        .into_iter()
        .map(|(_, index)| {
            let index = index as usize;
            let segment = starts.partition_point(|&start| start <= index) - 1;
            slots[segment][index - starts[segment]]
                .take()
                .expect("each finding appears once in the order")
        })
        .collect()
}

/// Compares findings in the order of [`sort_findings`], key by key.
fn compare_findings(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.control.id.cmp(b.control.id))
        .then_with(|| a.resource.cmp(&b.resource))
        .then_with(|| a.field.cmp(&b.field))
        .then_with(|| a.message.cmp(&b.message))
}

/// Bits of a sort key for the rank of the control id and of the resource;
/// the severity takes the two bits above them.
const CONTROL_BITS: u32 = 20;
const RESOURCE_BITS: u32 = 40;

/// Returns, for each finding, its severity (highest first), the rank of
/// its control id and the rank of its resource packed into one number, or
/// `None` when a control is not in the catalogue or a rank does not fit.
fn sort_keys(findings: &[&Finding]) -> Option<Vec<u64>> {
    let (distinct, ranks) = resource_ranks(findings)?;
    findings
        .par_iter()
        .map(|finding| {
            let control = id_rank(finding.control).filter(|&rank| rank < 1 << CONTROL_BITS)?;
            let target = address(&finding.resource);
            let position = distinct
                .binary_search(&target)
                .expect("every reference is listed");
            let severity = match finding.severity {
                Severity::Critical => 0,
                Severity::High => 1,
                Severity::Medium => 2,
                Severity::Low => 3,
            };
            Some(
                severity << (CONTROL_BITS + RESOURCE_BITS)
                    | (control as u64) << RESOURCE_BITS
                    | ranks[position],
            )
        })
        .collect()
}

/// Returns the distinct resource references of `findings` by address,
/// sorted, and the rank of each one's value, or `None` when there are too
/// many to rank.
///
/// The findings of one object share one reference, so there are far fewer
/// references than findings. Equal resources behind different references
/// get the same rank.
fn resource_ranks(findings: &[&Finding]) -> Option<(Vec<usize>, Vec<u64>)> {
    let mut references: Vec<(usize, &ResourceRef)> = findings
        .par_iter()
        .map(|finding| (address(&finding.resource), &*finding.resource))
        .collect();
    references.par_sort_unstable_by_key(|(address, _)| *address);
    references.dedup_by_key(|(address, _)| *address);
    if references.len() as u64 >= 1 << RESOURCE_BITS {
        return None;
    }

    let mut by_value: Vec<usize> = (0..references.len()).collect();
    let encoded: Option<Vec<Vec<u8>>> = references
        .par_iter()
        .map(|(_, resource)| sort_bytes(resource))
        .collect();
    match &encoded {
        Some(encoded) => by_value.par_sort_unstable_by(|&a, &b| encoded[a].cmp(&encoded[b])),
        None => by_value.par_sort_unstable_by(|&a, &b| references[a].1.cmp(references[b].1)),
    }
    let equal = |a: usize, b: usize| match &encoded {
        Some(encoded) => encoded[a] == encoded[b],
        None => references[a].1 == references[b].1,
    };
    let mut ranks = vec![0_u64; references.len()];
    let mut rank = 0;
    for (position, &index) in by_value.iter().enumerate() {
        if position > 0 && !equal(by_value[position - 1], index) {
            rank += 1;
        }
        ranks[index] = rank;
    }
    let addresses = references.into_iter().map(|(address, _)| address).collect();
    Some((addresses, ranks))
}

/// Returns `resource` as bytes that sort and compare as the resource
/// does, or `None` when one of its strings contains NUL.
///
/// The bytes are `api_version NUL kind NUL`, then NUL for no namespace or
/// `1 namespace NUL`, then `name`. NUL sorts below every other byte, so
/// this keeps the order of the fields and of each string. Sorting these
/// reads one short buffer per resource where comparing resources read up
/// to four strings each, spread over the heap.
fn sort_bytes(resource: &ResourceRef) -> Option<Vec<u8>> {
    let namespace = resource.namespace.as_deref();
    let strings = [resource.api_version, resource.kind, &resource.name];
    if strings
        .iter()
        .chain(&namespace)
        .any(|text| text.contains('\0'))
    {
        return None;
    }
    let length = strings
        .iter()
        .chain(&namespace)
        .map(|text| text.len())
        .sum::<usize>();
    let mut bytes = Vec::with_capacity(length + 4);
    bytes.extend_from_slice(resource.api_version.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(resource.kind.as_bytes());
    bytes.push(0);
    match namespace {
        Some(namespace) => {
            bytes.push(1);
            bytes.extend_from_slice(namespace.as_bytes());
            bytes.push(0);
        }
        None => bytes.push(0),
    }
    bytes.extend_from_slice(resource.name.as_bytes());
    Some(bytes)
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

    fn resource(kind: &'static str, namespace: Option<&str>, name: &str) -> Arc<ResourceRef> {
        Arc::new(ResourceRef {
            api_version: "apps/v1",
            kind,
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
        let segments = vec![findings[..3].to_vec(), Vec::new(), findings[3..].to_vec()];
        let sorted = sort_findings(segments);
        assert_eq!(describe(&sorted), describe(&expected));
    }

    #[test]
    fn sort_without_catalogue_control() {
        static UNLISTED: Control = Control {
            id: "a-unlisted",
            title: "Unlisted",
            category: crate::control::Category::Resources,
            severity: Severity::Medium,
            rationale: "",
            remediation: "",
            pss_level: None,
            cis: &[],
            nist_800_190: &[],
            nsa: &[],
            mitre: &[],
            kubescape: &[],
        };
        let web = resource("Deployment", Some("shop"), "web");
        let api = resource("Deployment", Some("shop"), "api");
        let findings = vec![
            finding(&LATEST_TAG, Severity::Medium, &web, "a", "m"),
            finding(&UNLISTED, Severity::Medium, &web, "a", "m"),
            finding(&UNLISTED, Severity::Medium, &api, "a", "m"),
            finding(&HOST_PATH_MOUNT, Severity::High, &api, "a", "m"),
        ];
        let mut expected = findings.clone();
        expected.sort_by(compare_findings);
        let sorted = sort_findings(vec![findings]);
        assert_eq!(describe(&sorted), describe(&expected));
        assert_eq!(sorted[1].control.id, "a-unlisted");
    }

    fn describe(findings: &[Finding]) -> Vec<String> {
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
    }

    #[test]
    fn sort_keys_rank_equal_resources_alike() {
        let web = resource("Deployment", Some("shop"), "web");
        let web_again = resource("Deployment", Some("shop"), "web");
        let api = resource("Deployment", Some("shop"), "api");
        let findings = [
            finding(&LATEST_TAG, Severity::Medium, &web, "a", "m"),
            finding(&LATEST_TAG, Severity::Medium, &api, "a", "m"),
            finding(&LATEST_TAG, Severity::Medium, &web_again, "a", "m"),
        ];
        let references: Vec<&Finding> = findings.iter().collect();
        let keys = sort_keys(&references).expect("catalogue controls");
        assert_eq!(keys[0], keys[2]);
        assert!(keys[1] < keys[0]);
    }
}
