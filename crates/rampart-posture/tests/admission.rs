//! Admission controls: security webhooks that fail open or skip
//! namespaces and labelled objects, image verification in a cluster, and
//! Pod Security Admission labels on namespaces.

use rampart_posture::{AuditOptions, AuditResult, Finding, audit, parse_manifests};

fn audit_text(text: &str, whole_cluster: bool) -> AuditResult {
    let manifests = parse_manifests(text, "test.yaml").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);
    let options = AuditOptions {
        whole_cluster,
        ..AuditOptions::default()
    };
    audit(&manifests.objects, &options)
}

fn findings<'a>(result: &'a AuditResult, control: &str) -> Vec<&'a Finding> {
    result
        .findings
        .iter()
        .filter(|finding| finding.control.id == control)
        .collect()
}

const FAILS_OPEN: &str = "webhook-failure-policy-ignore";
const EXCLUDES: &str = "webhook-excludes-workload-namespaces";
const OPT_OUT: &str = "webhook-object-selector-opt-out";
const NO_VERIFICATION: &str = "no-image-verification-admission";
const NO_ENFORCE: &str = "namespace-without-pss-enforce";
const NOT_RESTRICTED: &str = "namespace-pss-enforce-not-restricted";

/// Returns a webhook configuration of `kind` with one webhook; `extra` is
/// indented into the webhook entry.
fn webhook(
    kind: &str,
    name: &str,
    service_namespace: &str,
    resources: &str,
    extra: &str,
) -> String {
    format!(
        "apiVersion: admissionregistration.k8s.io/v1
kind: {kind}
metadata: {{name: {name}}}
webhooks:
- name: {name}.example.com
  clientConfig:
    service: {{name: {name}, namespace: {service_namespace}}}
  rules:
  - apiGroups: ['*']
    apiVersions: ['*']
    operations: [CREATE, UPDATE]
    resources: {resources}
  sideEffects: None
  admissionReviewVersions: [v1]
{extra}---
"
    )
}

fn pod(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  containers: [{{name: app, image: app:1}}]
---
"
    )
}

fn namespace(name: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {labels}}}\n---\n")
}

#[test]
fn validating_webhook_failing_open_reported() {
    let text = webhook(
        "ValidatingWebhookConfiguration",
        "policy",
        "policy",
        "[pods]",
        "  failurePolicy: Ignore\n",
    ) + &webhook(
        "ValidatingWebhookConfiguration",
        "strict",
        "policy",
        "[deployments]",
        "",
    );
    let result = audit_text(&text, false);
    let open = findings(&result, FAILS_OPEN);
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].resource.display(),
        "ValidatingWebhookConfiguration/policy"
    );
    assert_eq!(open[0].field.as_deref(), Some("webhooks[0].failurePolicy"));
    assert!(open[0].message.contains("pods"), "{}", open[0].message);
    assert_eq!(result.evaluated[FAILS_OPEN], 2);
}

#[test]
fn mutating_webhooks_need_an_engine() {
    let injector = webhook(
        "MutatingWebhookConfiguration",
        "sidecar-injector",
        "mesh",
        "[pods]",
        "  failurePolicy: Ignore\n",
    );
    let result = audit_text(&injector, false);
    assert!(findings(&result, FAILS_OPEN).is_empty());
    assert!(!result.evaluated.contains_key(FAILS_OPEN));

    let kyverno = webhook(
        "MutatingWebhookConfiguration",
        "kyverno-resource-mutating-webhook-cfg",
        "kyverno",
        "[pods]",
        "  failurePolicy: Ignore\n",
    );
    let result = audit_text(&kyverno, false);
    assert_eq!(findings(&result, FAILS_OPEN).len(), 1);
}

#[test]
fn unrelated_resources_are_not_gates() {
    let text = webhook(
        "ValidatingWebhookConfiguration",
        "cert-manager-webhook",
        "cert-manager",
        "[certificates, issuers]",
        "  failurePolicy: Ignore\n",
    );
    let result = audit_text(&text, false);
    assert!(findings(&result, FAILS_OPEN).is_empty());
}

#[test]
fn namespace_selector_exclusions() {
    let selector = "  namespaceSelector:\n    matchLabels: {policy: enforced}\n";
    let text = webhook(
        "ValidatingWebhookConfiguration",
        "gate",
        "gate-system",
        "['*']",
        selector,
    ) + &namespace("team-a", "{policy: enforced}")
        + &namespace("team-b", "{}")
        + &namespace("gate-system", "{}")
        + &namespace("kube-system", "{}")
        + &pod("a", "team-a")
        + &pod("b1", "team-b")
        + &pod("b2", "team-b")
        + &pod("gate", "gate-system")
        + &pod("dns", "kube-system")
        + &pod("unknown", "team-c");
    let result = audit_text(&text, false);
    let excluded = findings(&result, EXCLUDES);
    assert_eq!(excluded.len(), 1);
    assert_eq!(
        excluded[0].field.as_deref(),
        Some("webhooks[0].namespaceSelector")
    );
    let message = &excluded[0].message;
    // team-c has no Namespace object, so its labels are unknown; the
    // webhook's own namespace and kube-system are expected exclusions.
    assert!(message.contains("team-b (2 workload(s))"), "{message}");
    for absent in ["team-a", "team-c", "gate-system", "kube-system"] {
        assert!(!message.contains(absent), "{message}");
    }
}

#[test]
fn name_only_selector_needs_no_namespace_object() {
    let selector = "  namespaceSelector:\n    matchExpressions:\n    - {key: kubernetes.io/metadata.name, operator: NotIn, values: [legacy]}\n";
    let text = webhook(
        "ValidatingWebhookConfiguration",
        "gate",
        "gate-system",
        "[pods]",
        selector,
    ) + &pod("old", "legacy")
        + &pod("new", "apps");
    let result = audit_text(&text, false);
    let excluded = findings(&result, EXCLUDES);
    assert_eq!(excluded.len(), 1);
    assert!(
        excluded[0].message.contains("legacy"),
        "{}",
        excluded[0].message
    );
    assert!(
        !excluded[0].message.contains("apps"),
        "{}",
        excluded[0].message
    );
}

#[test]
fn object_selector_opt_out_reported() {
    let selector = "  objectSelector:\n    matchExpressions:\n    - {key: app, operator: Exists}\n    - {key: policy.example.com/skip, operator: DoesNotExist}\n";
    let opt_in_and_out = webhook(
        "ValidatingWebhookConfiguration",
        "gate",
        "gate",
        "[pods]",
        selector,
    );
    // The selector also requires `app`, so the webhook checks only objects
    // that carry it: a feature webhook, not a gate.
    let result = audit_text(&opt_in_and_out, false);
    assert!(findings(&result, OPT_OUT).is_empty());

    let selector = "  objectSelector:\n    matchExpressions:\n    - {key: policy.example.com/skip, operator: DoesNotExist}\n";
    let opt_out = webhook(
        "ValidatingWebhookConfiguration",
        "gate",
        "gate",
        "[pods]",
        selector,
    );
    let result = audit_text(&opt_out, false);
    let found = findings(&result, OPT_OUT);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].field.as_deref(),
        Some("webhooks[0].objectSelector.matchExpressions[0]")
    );
    assert!(found[0].message.contains("policy.example.com/skip"));
}

#[test]
fn image_verification_only_for_clusters() {
    let nothing = pod("app", "shop");
    let result = audit_text(&nothing, false);
    assert!(findings(&result, NO_VERIFICATION).is_empty());
    assert!(!result.evaluated.contains_key(NO_VERIFICATION));

    let result = audit_text(&nothing, true);
    let missing = findings(&result, NO_VERIFICATION);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].resource.kind, "Cluster");
    assert_eq!(result.evaluated[NO_VERIFICATION], 1);
}

#[test]
fn image_verifiers_recognized() {
    let sigstore = webhook(
        "ValidatingWebhookConfiguration",
        "policy.sigstore.dev",
        "cosign-system",
        "[pods]",
        "",
    );
    let kyverno = webhook(
        "MutatingWebhookConfiguration",
        "kyverno-resource-mutating-webhook-cfg",
        "kyverno",
        "[deployments]",
        "",
    );
    for text in [sigstore, kyverno] {
        let result = audit_text(&text, true);
        assert!(findings(&result, NO_VERIFICATION).is_empty(), "{text}");
    }

    // A verifier that intercepts no workload verifies no image.
    let elsewhere = webhook(
        "ValidatingWebhookConfiguration",
        "connaisseur-webhook",
        "connaisseur",
        "[configmaps]",
        "",
    );
    assert_eq!(
        findings(&audit_text(&elsewhere, true), NO_VERIFICATION).len(),
        1
    );
}

#[test]
fn gatekeeper_needs_a_signature_provider() {
    let gatekeeper = webhook(
        "ValidatingWebhookConfiguration",
        "gatekeeper-validating-webhook-configuration",
        "gatekeeper-system",
        "['*']",
        "",
    );
    let result = audit_text(&gatekeeper, true);
    assert_eq!(findings(&result, NO_VERIFICATION).len(), 1);

    let with_ratify = gatekeeper
        + "apiVersion: apps/v1
kind: Deployment
metadata: {name: verifier, namespace: gatekeeper-system}
spec:
  selector: {matchLabels: {app: verifier}}
  template:
    metadata: {labels: {app: verifier}}
    spec:
      containers: [{name: ratify, image: 'ghcr.io/ratify-project/ratify:v1.4.0'}]
";
    let result = audit_text(&with_ratify, true);
    assert!(findings(&result, NO_VERIFICATION).is_empty());
}

#[test]
fn pod_security_labels() {
    let text = namespace("none", "{}")
        + &namespace("open", "{pod-security.kubernetes.io/enforce: privileged}")
        + &namespace("base", "{pod-security.kubernetes.io/enforce: baseline}")
        + &namespace("strict", "{pod-security.kubernetes.io/enforce: restricted}")
        + &namespace("typo", "{pod-security.kubernetes.io/enforce: Baseline}")
        + &namespace("warned", "{pod-security.kubernetes.io/warn: restricted}")
        + &namespace("kube-system", "{}");
    let result = audit_text(&text, false);

    let mut no_enforce: Vec<&str> = findings(&result, NO_ENFORCE)
        .iter()
        .map(|f| f.resource.name.as_str())
        .collect();
    no_enforce.sort();
    assert_eq!(no_enforce, ["none", "open", "warned"]);

    // An invalid level is enforced as restricted by pod-security-admission.
    let mut not_restricted: Vec<&str> = findings(&result, NOT_RESTRICTED)
        .iter()
        .map(|f| f.resource.name.as_str())
        .collect();
    not_restricted.sort();
    assert_eq!(not_restricted, ["base", "none", "open", "warned"]);

    assert_eq!(result.evaluated[NO_ENFORCE], 6);
    let field = findings(&result, NO_ENFORCE)[0].field.clone();
    assert_eq!(
        field.as_deref(),
        Some("metadata.labels[\"pod-security.kubernetes.io/enforce\"]")
    );
}
