//! NetworkPolicy coverage: namespaces without a default deny, workloads
//! that no policy selects, rules that allow every peer, and policies that
//! select no workload. Kubernetes NetworkPolicy and Cilium's policy kinds
//! both count (see `policy` for how each is read).
//!
//! Which workloads count: every pod-bearing object except PodTemplate
//! (nothing runs from it) and pods with `hostNetwork: true`, because
//! NetworkPolicy does not apply to host-network pods and the escape
//! controls report them already.

mod policy;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use crate::audit::Context;
use crate::control::{Category, Control, Severity};
use crate::finding::{FastHash, Finding, ResourceRef, Sink, effective_namespace};
use crate::manifest::{Object, Resource, Workload};

use policy::{Direction, PodIdentity, Policy};

pub(crate) static NO_DEFAULT_DENY_INGRESS: Control = Control {
    id: "namespace-without-default-deny-ingress",
    title: "Namespace has no default-deny ingress NetworkPolicy",
    category: Category::NetworkPolicy,
    severity: Severity::Medium,
    rationale: "Pods accept connections from every pod in the cluster until a policy selects them, so one compromised container can reach every service in the namespace. A default deny makes each allowed flow explicit.",
    remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] and no rule that allows every source, then allow the flows each workload needs with narrower policies.",
    pss_level: None,
    cis: &["5.3.2"],
    nist_800_190: &["4.3.3"],
    nsa: &["Network separation and hardening: network policies"],
    mitre: &["T1046"],
    kubescape: &["C-0054", "C-0049", "C-0206"],
};

pub(crate) static NO_DEFAULT_DENY_EGRESS: Control = Control {
    id: "namespace-without-default-deny-egress",
    title: "Namespace has no default-deny egress NetworkPolicy",
    category: Category::NetworkPolicy,
    severity: Severity::Medium,
    rationale: "Without an egress default deny, a compromised container can connect to every pod, to the cloud metadata endpoint and to any host on the internet, which helps lateral movement and data exfiltration.",
    remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes: [Egress] and no rule that allows every destination, then allow DNS and the destinations each workload needs.",
    pss_level: None,
    cis: &["5.3.2"],
    nist_800_190: &["4.3.3", "4.4.2"],
    nsa: &["Network separation and hardening: network policies"],
    mitre: &["T1046"],
    kubescape: &["C-0054", "C-0049", "C-0206"],
};

pub(crate) static NOT_SELECTED: Control = Control {
    id: "workload-not-selected-by-networkpolicy",
    title: "Workload not selected by any NetworkPolicy",
    category: Category::NetworkPolicy,
    severity: Severity::Medium,
    rationale: "A pod that no policy selects is not isolated in either direction: it accepts and opens connections to every peer.",
    remediation: "Select the pods with a NetworkPolicy in their namespace (a default deny with podSelector: {} covers all of them), or fix the labels that the intended policy's podSelector expects.",
    pss_level: None,
    cis: &["5.3.2"],
    nist_800_190: &["4.3.3", "4.4.2"],
    nsa: &["Network separation and hardening: network policies"],
    mitre: &["T1046"],
    kubescape: &["C-0260", "C-0030"],
};

pub(crate) static ALLOWS_ALL: Control = Control {
    id: "networkpolicy-allows-all",
    title: "NetworkPolicy rule allows every peer",
    category: Category::NetworkPolicy,
    severity: Severity::Medium,
    rationale: "A rule without peers, with an empty peer, or with 0.0.0.0/0 or ::/0 and no except opens the selected pods to every source or destination, which undoes the isolation the policy sets up.",
    remediation: "Name the peers the pods need (podSelector, namespaceSelector or a narrow ipBlock), or add except ranges such as the cluster and metadata addresses to a wide ipBlock.",
    pss_level: None,
    cis: &["5.3.2"],
    nist_800_190: &["4.3.3", "4.4.2"],
    nsa: &["Network separation and hardening: network policies"],
    mitre: &["T1046"],
    kubescape: &[],
};

pub(crate) static SELECTS_NO_WORKLOAD: Control = Control {
    id: "networkpolicy-selects-no-workload",
    title: "NetworkPolicy selects no workload",
    category: Category::NetworkPolicy,
    severity: Severity::Low,
    rationale: "A policy whose selector matches no pod protects nothing. It often means a label typo, so the pods it was written for run without isolation.",
    remediation: "Fix the podSelector (or endpointSelector) to match the pod template labels of the intended workloads, or delete the policy.",
    pss_level: None,
    cis: &[],
    nist_800_190: &["4.3.3"],
    nsa: &["Network separation and hardening: network policies"],
    mitre: &[],
    kubescape: &["C-0299"],
};

pub(crate) static CONTROLS: [&Control; 5] = [
    &NO_DEFAULT_DENY_INGRESS,
    &NO_DEFAULT_DENY_EGRESS,
    &NOT_SELECTED,
    &ALLOWS_ALL,
    &SELECTS_NO_WORKLOAD,
];

/// A workload whose pods NetworkPolicy applies to.
struct NetworkWorkload<'a> {
    object: &'a Object,
    namespace: &'a str,
    labels: &'a BTreeMap<String, String>,
    labels_path: String,
    service_account: &'a str,
    host_network: bool,
}

impl NetworkWorkload<'_> {
    fn identity(&self) -> PodIdentity<'_> {
        PodIdentity {
            namespace: self.namespace,
            labels: self.labels,
            service_account: self.service_account,
        }
    }
}

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

fn network_workloads(objects: &[Object]) -> Vec<NetworkWorkload<'_>> {
    let mut workloads = Vec::new();
    for object in objects {
        let Some(workload) = object.workload() else {
            continue;
        };
        if matches!(workload, Workload::PodTemplate(_)) {
            continue;
        }
        let Some(pod) = workload.pod_view() else {
            continue;
        };
        workloads.push(NetworkWorkload {
            object,
            namespace: effective_namespace(object).unwrap_or("default"),
            labels: pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS),
            labels_path: format!("{}.labels", pod.metadata_path),
            service_account: pod
                .spec
                .service_account_name
                .as_deref()
                .filter(|name| !name.is_empty())
                .unwrap_or("default"),
            host_network: pod.spec.host_network == Some(true),
        });
    }
    workloads
}

pub(crate) fn check(context: &Context<'_>, sink: &mut Sink) {
    let policies = policy::policies(context.objects);
    let workloads = network_workloads(context.objects);
    let index = PolicyIndex::new(&policies);

    check_namespaces(context, &index, &workloads, sink);
    check_workloads(&index, &workloads, sink);
    check_allow_all(&policies, sink);
    check_dangling(context, &policies, &workloads, sink);
}

/// The policies that can apply in each namespace: its own and the
/// cluster-wide ones, so that checks per workload or namespace do not scan
/// every policy of the cluster.
struct PolicyIndex<'p, 'a> {
    by_namespace: HashMap<&'a str, Vec<&'p Policy<'a>>, FastHash>,
    cluster_wide: Vec<&'p Policy<'a>>,
}

impl<'p, 'a> PolicyIndex<'p, 'a> {
    fn new(policies: &'p [Policy<'a>]) -> Self {
        let mut index = PolicyIndex {
            by_namespace: HashMap::default(),
            cluster_wide: Vec::new(),
        };
        for policy in policies {
            match policy.scope {
                policy::Scope::Namespace(namespace) => {
                    index
                        .by_namespace
                        .entry(namespace)
                        .or_default()
                        .push(policy);
                }
                policy::Scope::Cluster => index.cluster_wide.push(policy),
            }
        }
        index
    }

    /// Returns the policies that may apply in `namespace`, in input order
    /// within each group.
    fn covering(&self, namespace: &str) -> impl Iterator<Item = &'p Policy<'a>> + '_ {
        let own = self
            .by_namespace
            .get(namespace)
            .map(Vec::as_slice)
            .unwrap_or_default();
        own.iter().chain(self.cluster_wide.iter()).copied()
    }
}

/// Reports each namespace that has pod-network workloads and no default
/// deny in a direction. The finding names the Namespace object when the
/// input has one.
fn check_namespaces(
    context: &Context<'_>,
    index: &PolicyIndex<'_, '_>,
    workloads: &[NetworkWorkload<'_>],
    sink: &mut Sink,
) {
    let namespace_objects: BTreeMap<&str, &Object> = context
        .objects
        .iter()
        .filter(|object| matches!(object.resource, Resource::Namespace(_)))
        .map(|object| (object.name(), object))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for workload in workloads.iter().filter(|w| !w.host_network) {
        *counts.entry(workload.namespace).or_default() += 1;
    }

    for (namespace, count) in counts {
        for (control, direction) in [
            (&NO_DEFAULT_DENY_INGRESS, Direction::Ingress),
            (&NO_DEFAULT_DENY_EGRESS, Direction::Egress),
        ] {
            // The finding names the Namespace, which is cluster-scoped.
            sink.evaluated_in(control, None);
            if index
                .covering(namespace)
                .any(|p| p.default_denies(namespace, direction))
            {
                continue;
            }
            let in_namespace = index
                .covering(namespace)
                .filter(|p| p.covers_namespace(namespace))
                .count();
            let message = format!(
                "namespace {namespace:?} has {count} workload(s) and {in_namespace} network policy(ies) that apply to it, but none is a default deny for {}",
                direction.name()
            );
            let finding = match namespace_objects.get(namespace) {
                Some(object) => namespace_finding(control, object, message),
                None => Finding {
                    control,
                    severity: control.severity,
                    resource: Arc::new(ResourceRef {
                        api_version: "v1",
                        kind: "Namespace",
                        namespace: None,
                        name: namespace.to_owned(),
                    }),
                    origin: None,
                    container: None,
                    field: None,
                    message,
                    exception: None,
                },
            };
            sink.push(finding);
        }
    }
}

fn namespace_finding(control: &'static Control, object: &Object, message: String) -> Finding {
    Finding {
        control,
        severity: control.severity,
        resource: Arc::new(ResourceRef::of(object)),
        origin: Some(Arc::new(object.origin.clone())),
        container: None,
        field: None,
        message,
        exception: None,
    }
}

/// Workloads or policies per part of a check that runs on all cores.
const PART_SIZE: usize = 256;

fn check_workloads(
    index: &PolicyIndex<'_, '_>,
    workloads: &[NetworkWorkload<'_>],
    sink: &mut Sink,
) {
    let parts: Vec<Sink> = workloads
        .par_chunks(PART_SIZE)
        .map(|part| {
            let mut sink = Sink::default();
            for workload in part.iter().filter(|w| !w.host_network) {
                check_workload(index, workload, &mut sink);
            }
            sink
        })
        .collect();
    for part in parts {
        sink.merge(part);
    }
}

fn check_workload(index: &PolicyIndex<'_, '_>, workload: &NetworkWorkload<'_>, sink: &mut Sink) {
    sink.evaluated_in(&NOT_SELECTED, Some(workload.namespace));
    let identity = workload.identity();
    if index
        .covering(workload.namespace)
        .any(|policy| policy.isolates(&identity))
    {
        return;
    }
    let labels = if workload.labels.is_empty() {
        "no labels".to_owned()
    } else {
        let pairs: Vec<String> = workload
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("labels {}", pairs.join(","))
    };
    sink.fail(
        &NOT_SELECTED,
        workload.object,
        None,
        Some(workload.labels_path.clone()),
        format!(
            "no network policy that applies to namespace {:?} selects the pods ({labels}), so they are not isolated",
            workload.namespace
        ),
    );
}

fn check_allow_all(policies: &[Policy<'_>], sink: &mut Sink) {
    for policy in policies {
        sink.evaluated_in(&ALLOWS_ALL, effective_namespace(policy.object));
        for section in &policy.sections {
            for rule in &section.allow_all {
                let severity = if rule.ports_limited {
                    Severity::Low
                } else {
                    ALLOWS_ALL.severity
                };
                sink.fail_at(
                    &ALLOWS_ALL,
                    severity,
                    policy.object,
                    None,
                    Some(rule.field.clone()),
                    format!(
                        "{} rule {} {} for the pods it selects ({})",
                        rule.direction.name(),
                        rule.field,
                        rule.reason,
                        section.selector_text()
                    ),
                );
            }
        }
    }
}

/// Reports policies whose selectors match none of the workloads in the
/// input. A policy is evaluated only where the input shows the pods it
/// could select: the whole cluster, or a manifest set with workloads in
/// the policy's namespace (any namespace for a cluster-wide policy).
fn check_dangling(
    context: &Context<'_>,
    policies: &[Policy<'_>],
    workloads: &[NetworkWorkload<'_>],
    sink: &mut Sink,
) {
    let mut by_namespace: HashMap<&str, Vec<&NetworkWorkload<'_>>, FastHash> = HashMap::default();
    for workload in workloads {
        by_namespace
            .entry(workload.namespace)
            .or_default()
            .push(workload);
    }
    let all: Vec<&NetworkWorkload<'_>> = workloads.iter().collect();
    let parts: Vec<Sink> = policies
        .par_chunks(PART_SIZE)
        .map(|part| {
            let mut sink = Sink::default();
            for policy in part {
                let candidates = match policy.scope {
                    policy::Scope::Namespace(namespace) => by_namespace
                        .get(namespace)
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                    policy::Scope::Cluster => all.as_slice(),
                };
                check_selects_some(context, policy, candidates, &mut sink);
            }
            sink
        })
        .collect();
    for part in parts {
        sink.merge(part);
    }
}

/// Reports `policy` when its selectors match none of `candidates`, the
/// workloads it could select.
fn check_selects_some(
    context: &Context<'_>,
    policy: &Policy<'_>,
    candidates: &[&NetworkWorkload<'_>],
    sink: &mut Sink,
) {
    if !policy.has_only_narrow_selectors() {
        return;
    }
    if !context.options.whole_cluster && candidates.is_empty() {
        return;
    }
    sink.evaluated_in(&SELECTS_NO_WORKLOAD, effective_namespace(policy.object));
    if candidates.iter().any(|w| policy.selects(&w.identity())) {
        return;
    }

    let invalid = policy.sections.iter().find_map(|s| s.invalid_selector());
    let (field, message) = match invalid {
        Some((field, problem)) => (
            field,
            format!("the selector is invalid ({problem}), so the policy selects no pod"),
        ),
        None => {
            let selectors: Vec<String> =
                policy.sections.iter().map(|s| s.selector_text()).collect();
            let place = match policy.scope {
                policy::Scope::Namespace(namespace) => format!("namespace {namespace:?}"),
                policy::Scope::Cluster => "any namespace".to_owned(),
            };
            let field = match policy.object.resource {
                Resource::NetworkPolicy(_) => "spec.podSelector".to_owned(),
                _ => format!("{}.endpointSelector", policy.sections[0].path),
            };
            let source = if context.options.whole_cluster {
                "cluster"
            } else {
                "input"
            };
            (
                field,
                format!(
                    "the selector ({}) matches none of the {} workload(s) in {place} in the {source}",
                    selectors.join("; "),
                    candidates.len()
                ),
            )
        }
    };
    sink.fail(
        &SELECTS_NO_WORKLOAD,
        policy.object,
        None,
        Some(field),
        message,
    );
}
