//! Admission coverage: security webhooks that fail open or that whole
//! namespaces or labelled objects skip, clusters with no image
//! verification, and namespaces without Pod Security Admission
//! enforcement.

mod image_verification;
mod pod_security;
mod webhooks;

use std::collections::{BTreeMap, BTreeSet};

use crate::audit::Context;
use crate::control::{Category, Control, Severity};
use crate::finding::{Sink, effective_namespace};
use crate::manifest::{Object, Resource, Workload};
use crate::selector;

use pod_security::SYSTEM_NAMESPACES;
use webhooks::Webhook;

pub(crate) static FAILS_OPEN: Control = Control {
    id: "webhook-failure-policy-ignore",
    title: "Security webhook fails open",
    category: Category::Admission,
    severity: Severity::Medium,
    rationale: "With failurePolicy: Ignore, the API server admits a request unchecked when the webhook is down, slow or unreachable, so whoever can disrupt the webhook (or waits for an outage) bypasses the policy it enforces.",
    remediation: "Set failurePolicy: Fail (the admissionregistration.k8s.io/v1 default) and run the webhook with several replicas and a PodDisruptionBudget so that it stays available.",
    pss_level: None,
    cis: &[],
    nist_800_190: &["4.4.3", "4.4.5"],
    nsa: &["Pod security"],
    mitre: &["T1562.001"],
    kubescape: &[],
};

pub(crate) static EXCLUDES_NAMESPACES: Control = Control {
    id: "webhook-excludes-workload-namespaces",
    title: "Security webhook skips namespaces that run workloads",
    category: Category::Admission,
    severity: Severity::Medium,
    rationale: "The namespaceSelector of a policy webhook decides where its policies apply; pods in the namespaces it leaves out are admitted without any check.",
    remediation: "Widen the namespaceSelector so that it covers every namespace with workloads, leaving out only the webhook's own namespace and kube-system, or label the namespaces that the selector expects.",
    pss_level: None,
    cis: &[],
    nist_800_190: &["4.4.3", "4.4.5"],
    nsa: &["Pod security"],
    mitre: &["T1562.001"],
    kubescape: &[],
};

pub(crate) static OBJECT_OPT_OUT: Control = Control {
    id: "webhook-object-selector-opt-out",
    title: "Security webhook lets objects opt out by label",
    category: Category::Admission,
    severity: Severity::Medium,
    rationale: "An objectSelector with NotIn or DoesNotExist skips every object that carries the label, and whoever creates a pod or workload chooses its labels, so any user who can create pods can bypass the webhook.",
    remediation: "Remove the opt-out requirement from objectSelector; exempt trusted workloads inside the policy engine (exceptions bound to namespaces or service accounts) instead.",
    pss_level: None,
    cis: &[],
    nist_800_190: &["4.4.3", "4.4.5"],
    nsa: &["Pod security"],
    mitre: &["T1562.001"],
    kubescape: &[],
};

pub(crate) static NO_IMAGE_VERIFICATION: Control = Control {
    id: "no-image-verification-admission",
    title: "No admission control verifies image signatures",
    category: Category::Admission,
    severity: Severity::Medium,
    rationale: "Without signature or provenance verification at admission, any image that someone can push or reference runs, including a tampered or typo-squatted one.",
    remediation: "Install an image verifier (Sigstore policy-controller, Kyverno verifyImages, Connaisseur, Ratify with Gatekeeper) and require signatures from your build system for the images you run.",
    pss_level: None,
    cis: &["5.5.1"],
    nist_800_190: &["4.1.5"],
    nsa: &["Threat detection and supply chain"],
    mitre: &["T1204.003", "T1525"],
    kubescape: &["C-0289"],
};

pub(crate) static NO_ENFORCE: Control = Control {
    id: "namespace-without-pss-enforce",
    title: "Namespace does not enforce a Pod Security Standard",
    category: Category::Admission,
    severity: Severity::Medium,
    rationale: "Without a pod-security.kubernetes.io/enforce label of baseline or restricted, Pod Security Admission admits privileged pods, host namespaces and hostPath volumes in the namespace.",
    remediation: "Label the namespace with pod-security.kubernetes.io/enforce: baseline (or restricted), after checking its workloads with a warn label or a dry run.",
    pss_level: None,
    cis: &[
        "5.2.1", "5.2.2", "5.2.3", "5.2.4", "5.2.5", "5.2.8", "5.2.11", "5.2.12", "5.2.13",
    ],
    nist_800_190: &["4.4.3"],
    nsa: &["Pod security"],
    mitre: &["T1611"],
    kubescape: &[
        "C-0192", "C-0193", "C-0194", "C-0195", "C-0196", "C-0199", "C-0202", "C-0203", "C-0204",
    ],
};

pub(crate) static NOT_RESTRICTED: Control = Control {
    id: "namespace-pss-enforce-not-restricted",
    title: "Namespace does not enforce the restricted Pod Security Standard",
    category: Category::Admission,
    severity: Severity::Low,
    rationale: "The baseline level still admits pods that run as root, keep allowPrivilegeEscalation and add capabilities; the restricted level rejects them.",
    remediation: "Label the namespace with pod-security.kubernetes.io/enforce: restricted once its workloads pass the restricted checks.",
    pss_level: None,
    cis: &["5.2.6", "5.2.7", "5.2.9", "5.2.10"],
    nist_800_190: &["4.4.3"],
    nsa: &["Pod security"],
    mitre: &["T1611"],
    kubescape: &["C-0197", "C-0198", "C-0200", "C-0201"],
};

pub(crate) static CONTROLS: [&Control; 6] = [
    &FAILS_OPEN,
    &EXCLUDES_NAMESPACES,
    &OBJECT_OPT_OUT,
    &NO_IMAGE_VERIFICATION,
    &NO_ENFORCE,
    &NOT_RESTRICTED,
];

/// Label the API server sets on every namespace to its name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Most namespace names listed in one message.
const LISTED_NAMESPACES: usize = 5;

pub(crate) fn check(context: &Context<'_>, sink: &mut Sink) {
    let webhooks = webhooks::webhooks(context.objects);
    check_webhooks(context, &webhooks, sink);
    if context.options.whole_cluster {
        image_verification::check(context.objects, &webhooks, sink);
    }
    pod_security::check(context.objects, sink);
}

fn check_webhooks(context: &Context<'_>, webhooks: &[Webhook<'_>], sink: &mut Sink) {
    let namespaces = NamespaceIndex::new(context.objects);

    // Each configuration with a security gate counts once per control,
    // since findings name the configuration.
    let mut configurations: BTreeSet<(&str, &str)> = BTreeSet::new();
    for webhook in webhooks.iter().filter(|w| w.is_security_gate()) {
        if configurations.insert((webhook.config.kind(), webhook.config.name())) {
            let namespace = effective_namespace(webhook.config);
            sink.evaluated_in(&FAILS_OPEN, namespace);
            sink.evaluated_in(&EXCLUDES_NAMESPACES, namespace);
            sink.evaluated_in(&OBJECT_OPT_OUT, namespace);
        }
        check_fails_open(webhook, sink);
        check_namespace_selector(webhook, &namespaces, sink);
        check_object_selector(webhook, sink);
    }
}

fn check_fails_open(webhook: &Webhook<'_>, sink: &mut Sink) {
    if !webhook.fails_open() {
        return;
    }
    let resources = webhook.resources().join(", ");
    sink.fail(
        &FAILS_OPEN,
        webhook.config,
        None,
        Some(format!("{}.failurePolicy", webhook.path())),
        format!(
            "{} has failurePolicy Ignore, so {resources} requests are admitted unchecked whenever the webhook does not answer",
            webhook.describe()
        ),
    );
}

/// Reports a webhook whose `namespaceSelector` leaves out namespaces that
/// run workloads in the input, other than Kubernetes' own namespaces and
/// the namespace of the webhook's service. A namespace counts only when
/// its labels are known: from its Namespace object, or, for a selector that
/// only reads `kubernetes.io/metadata.name`, from its name.
fn check_namespace_selector(
    webhook: &Webhook<'_>,
    namespaces: &NamespaceIndex<'_>,
    sink: &mut Sink,
) {
    let Some(namespace_selector) = webhook.namespace_selector else {
        return;
    };
    if selector::is_empty(namespace_selector) {
        return;
    }
    let reads_only_name = selector::keys(namespace_selector).all(|key| key == NAME_LABEL);

    let mut excluded = Vec::new();
    for (&namespace, &count) in &namespaces.workloads {
        if SYSTEM_NAMESPACES.contains(&namespace) || webhook.service_namespace() == Some(namespace)
        {
            continue;
        }
        let name_only;
        let labels = match namespaces.labels.get(namespace) {
            Some(labels) => labels,
            None if reads_only_name => {
                name_only = BTreeMap::from([(NAME_LABEL.to_owned(), namespace.to_owned())]);
                &name_only
            }
            None => continue,
        };
        if !selector::matches(namespace_selector, labels) {
            excluded.push(format!("{namespace} ({count} workload(s))"));
        }
    }
    if excluded.is_empty() {
        return;
    }

    let total = excluded.len();
    let mut listed = excluded;
    listed.truncate(LISTED_NAMESPACES);
    let more = if total > LISTED_NAMESPACES {
        format!(" and {} more", total - LISTED_NAMESPACES)
    } else {
        String::new()
    };
    sink.fail(
        &EXCLUDES_NAMESPACES,
        webhook.config,
        None,
        Some(format!("{}.namespaceSelector", webhook.path())),
        format!(
            "{} skips namespaces {}{more}, because its namespaceSelector ({}) does not match them",
            webhook.describe(),
            listed.join(", "),
            selector::display(namespace_selector)
        ),
    );
}

fn check_object_selector(webhook: &Webhook<'_>, sink: &mut Sink) {
    let opt_outs = webhook.object_opt_outs();
    let Some(&(first, _, _)) = opt_outs.first() else {
        return;
    };
    let labels: Vec<String> = opt_outs
        .iter()
        .map(|(_, key, operator)| format!("{key} ({operator})"))
        .collect();
    sink.fail(
        &OBJECT_OPT_OUT,
        webhook.config,
        None,
        Some(format!(
            "{}.objectSelector.matchExpressions[{first}]",
            webhook.path()
        )),
        format!(
            "{} skips objects by label {}, which the creator of a pod or workload can set",
            webhook.describe(),
            labels.join(", ")
        ),
    );
}

/// Namespace labels from Namespace objects and workload counts per
/// namespace.
struct NamespaceIndex<'a> {
    labels: BTreeMap<&'a str, BTreeMap<String, String>>,
    workloads: BTreeMap<&'a str, usize>,
}

impl<'a> NamespaceIndex<'a> {
    fn new(objects: &'a [Object]) -> Self {
        let mut labels = BTreeMap::new();
        let mut workloads: BTreeMap<&str, usize> = BTreeMap::new();
        for object in objects {
            match &object.resource {
                Resource::Namespace(namespace) => {
                    let mut known = namespace.metadata.labels.clone().unwrap_or_default();
                    known
                        .entry(NAME_LABEL.to_owned())
                        .or_insert_with(|| object.name().to_owned());
                    labels.insert(object.name(), known);
                }
                Resource::Workload(workload) if !matches!(workload, Workload::PodTemplate(_)) => {
                    let namespace = effective_namespace(object).unwrap_or("default");
                    *workloads.entry(namespace).or_default() += 1;
                }
                _ => {}
            }
        }
        NamespaceIndex { labels, workloads }
    }
}
