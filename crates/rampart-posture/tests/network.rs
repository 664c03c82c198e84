//! NetworkPolicy controls: default deny per namespace, workloads no policy
//! selects, rules that allow every peer, and policies that select nothing,
//! for Kubernetes NetworkPolicy and Cilium policies.

use std::path::Path;

use rampart_posture::{AuditOptions, AuditResult, Finding, Severity, audit, parse_manifests};

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

fn names(findings: &[&Finding]) -> Vec<String> {
    let mut names: Vec<String> = findings.iter().map(|f| f.resource.display()).collect();
    names.sort();
    names
}

const NOT_SELECTED: &str = "workload-not-selected-by-networkpolicy";
const NO_DENY_INGRESS: &str = "namespace-without-default-deny-ingress";
const NO_DENY_EGRESS: &str = "namespace-without-default-deny-egress";
const ALLOWS_ALL: &str = "networkpolicy-allows-all";
const SELECTS_NOTHING: &str = "networkpolicy-selects-no-workload";

fn deployment(name: &str, namespace: &str, labels: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {labels}}}
  template:
    metadata: {{labels: {labels}}}
    spec:
      containers: [{{name: app, image: app:1}}]
---
"
    )
}

/// Checks the matchExpressions case: `demo` is selected by no policy,
/// `worker` is selected through an `In` requirement alone.
fn assert_matchexpressions_case(dir: &Path) {
    let text = std::fs::read_to_string(dir.join("manifests.yaml")).unwrap();
    let result = audit_text(&text, false);
    let unselected = findings(&result, NOT_SELECTED);
    assert_eq!(names(&unselected), ["Deployment/default/demo"]);
    assert_eq!(
        unselected[0].field.as_deref(),
        Some("spec.template.metadata.labels")
    );
    assert_eq!(result.evaluated[NOT_SELECTED], 2);

    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    for item in expected["findings_must_include"].as_array().unwrap() {
        assert!(
            result.findings.iter().any(|f| matches_expected(f, item)),
            "missing {item}"
        );
    }
    for item in expected["findings_must_not_include"].as_array().unwrap() {
        assert!(
            !result.findings.iter().any(|f| matches_expected(f, item)),
            "unexpected {item}"
        );
    }
}

fn matches_expected(finding: &Finding, item: &serde_json::Value) -> bool {
    finding.control.id == item["check"]
        && finding.resource.kind == item["kind"]
        && finding.resource.namespace.as_deref() == item["namespace"].as_str()
        && finding.resource.name == item["name"]
}

#[test]
fn matchexpressions_selector_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cases/checkov-7668-netpol-matchexpressions");
    assert_matchexpressions_case(&dir);
}

#[test]
fn shared_matchexpressions_case() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    assert_matchexpressions_case(&corpus.join("../cases/checkov-7668-netpol-matchexpressions"));
}

#[test]
fn namespace_without_policy_fails_both_directions() {
    let text = deployment("web", "shop", "{app: web}")
        + "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
    let result = audit_text(&text, false);
    let ingress = findings(&result, NO_DENY_INGRESS);
    let egress = findings(&result, NO_DENY_EGRESS);
    assert_eq!(names(&ingress), ["Namespace/shop"]);
    assert_eq!(names(&egress), ["Namespace/shop"]);
    assert!(
        ingress[0].origin.is_some(),
        "finding names the Namespace object"
    );
    assert_eq!(result.evaluated[NO_DENY_INGRESS], 1);
}

#[test]
fn namespace_from_workload_defaults() {
    // No Namespace object and no namespace field: the workload lives in
    // `default`, and the finding names that namespace without an origin.
    let text = "apiVersion: v1
kind: Pod
metadata: {name: solo}
spec:
  containers: [{name: app, image: app:1}]
";
    let result = audit_text(text, false);
    let ingress = findings(&result, NO_DENY_INGRESS);
    assert_eq!(names(&ingress), ["Namespace/default"]);
    assert!(ingress[0].origin.is_none());
}

#[test]
fn default_deny_all_passes() {
    let text = deployment("web", "shop", "{app: web}")
        + "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
";
    let result = audit_text(&text, false);
    assert!(findings(&result, NO_DENY_INGRESS).is_empty());
    assert!(findings(&result, NO_DENY_EGRESS).is_empty());
    assert!(findings(&result, NOT_SELECTED).is_empty());
    assert!(findings(&result, ALLOWS_ALL).is_empty());
}

#[test]
fn implied_policy_types() {
    // Without policyTypes a policy isolates ingress always and egress only
    // when it has egress rules; an empty egress list is no egress rule.
    let text = deployment("web", "shop", "{app: web}")
        + "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ingress-only, namespace: shop}
spec:
  podSelector: {}
  egress: []
";
    let result = audit_text(&text, false);
    assert!(findings(&result, NO_DENY_INGRESS).is_empty());
    assert_eq!(findings(&result, NO_DENY_EGRESS).len(), 1);

    let with_egress = deployment("web", "shop", "{app: web}")
        + "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: both, namespace: shop}
spec:
  podSelector: {}
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
";
    let result = audit_text(&with_egress, false);
    assert!(findings(&result, NO_DENY_INGRESS).is_empty());
    assert!(findings(&result, NO_DENY_EGRESS).is_empty());
}

#[test]
fn allow_all_rule_breaks_default_deny() {
    let text = deployment("web", "shop", "{app: web}")
        + "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress:
  - {}
  egress:
  - to:
    - podSelector: {matchLabels: {app: db}}
    - ipBlock: {cidr: 0.0.0.0/0}
";
    let result = audit_text(&text, false);
    assert_eq!(findings(&result, NO_DENY_INGRESS).len(), 1);
    assert_eq!(findings(&result, NO_DENY_EGRESS).len(), 1);

    let open = findings(&result, ALLOWS_ALL);
    let mut fields: Vec<&str> = open.iter().map(|f| f.field.as_deref().unwrap()).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["spec.egress[0].to[1].ipBlock.cidr", "spec.ingress[0]"]
    );
    assert!(open.iter().all(|f| f.severity == Severity::Medium));
    assert!(
        open.iter()
            .all(|f| f.resource.display() == "NetworkPolicy/shop/open")
    );
}

#[test]
fn narrow_peers_are_not_allow_all() {
    let text = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: narrow, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{namespaceSelector: {}}, {podSelector: {}}]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]
";
    let result = audit_text(text, false);
    assert!(findings(&result, ALLOWS_ALL).is_empty());
    assert_eq!(result.evaluated[ALLOWS_ALL], 1);
}

#[test]
fn port_limited_allow_all_is_low() {
    let text = deployment("web", "shop", "{app: web}")
        + "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: https, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 443}]
    from: [{ipBlock: {cidr: '::/0'}}]
";
    let result = audit_text(&text, false);
    let open = findings(&result, ALLOWS_ALL);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].severity, Severity::Low);
    assert_eq!(
        open[0].field.as_deref(),
        Some("spec.ingress[0].from[0].ipBlock.cidr")
    );
    // Every source may reach port 443 only, so the policy still denies
    // the rest by default.
    assert!(findings(&result, NO_DENY_INGRESS).is_empty());
}

#[test]
fn rules_of_unlisted_type_are_ignored() {
    // policyTypes names Egress only, so Kubernetes ignores the ingress rules.
    let text = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  ingress: [{}]
";
    let result = audit_text(text, false);
    assert!(findings(&result, ALLOWS_ALL).is_empty());
}

#[test]
fn selector_semantics_for_workloads() {
    let text = deployment("tierless", "shop", "{app: a}")
        + &deployment("prod", "shop", "{app: b, tier: prod}")
        + &deployment("elsewhere", "other", "{app: a}")
        + "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: not-prod, namespace: shop}
spec:
  podSelector:
    matchExpressions:
    - {key: tier, operator: NotIn, values: [prod]}
";
    let result = audit_text(&text, false);
    // NotIn matches a pod without the key; the policy in `shop` selects
    // nothing in `other`.
    assert_eq!(
        names(&findings(&result, NOT_SELECTED)),
        ["Deployment/other/elsewhere", "Deployment/shop/prod"]
    );
}

#[test]
fn host_network_and_templates_skipped() {
    let text = "apiVersion: v1
kind: Pod
metadata: {name: node-agent, namespace: infra}
spec:
  hostNetwork: true
  containers: [{name: app, image: app:1}]
---
apiVersion: v1
kind: PodTemplate
metadata: {name: template, namespace: infra}
template:
  spec:
    containers: [{name: app, image: app:1}]
";
    let result = audit_text(text, false);
    assert!(findings(&result, NOT_SELECTED).is_empty());
    assert!(findings(&result, NO_DENY_INGRESS).is_empty());
    assert!(!result.evaluated.contains_key(NOT_SELECTED));
}

#[test]
fn cronjob_template_labels_read() {
    let text = "apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: jobs}
spec:
  schedule: '@daily'
  jobTemplate:
    spec:
      template:
        metadata: {labels: {job: report}}
        spec:
          restartPolicy: OnFailure
          containers: [{name: app, image: app:1}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: other, namespace: jobs}
spec:
  podSelector: {matchLabels: {job: other}}
";
    let result = audit_text(text, false);
    let unselected = findings(&result, NOT_SELECTED);
    assert_eq!(unselected.len(), 1);
    assert_eq!(
        unselected[0].field.as_deref(),
        Some("spec.jobTemplate.spec.template.metadata.labels")
    );
    let dangling = findings(&result, SELECTS_NOTHING);
    assert_eq!(names(&dangling), ["NetworkPolicy/jobs/other"]);
    assert_eq!(dangling[0].field.as_deref(), Some("spec.podSelector"));
}

#[test]
fn dangling_needs_workloads_in_input() {
    let policy = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate-nginx, namespace: default}
spec:
  podSelector: {matchLabels: {app: nginx}}
";
    // A manifest set without workloads in the namespace cannot show what
    // the policy selects.
    let result = audit_text(policy, false);
    assert!(findings(&result, SELECTS_NOTHING).is_empty());
    assert!(!result.evaluated.contains_key(SELECTS_NOTHING));

    // A whole cluster can.
    let result = audit_text(policy, true);
    assert_eq!(findings(&result, SELECTS_NOTHING).len(), 1);
}

#[test]
fn invalid_selector_selects_nothing() {
    let text = deployment("web", "shop", "{app: web}")
        + "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken, namespace: shop}
spec:
  podSelector:
    matchExpressions:
    - {key: app, operator: In}
";
    let result = audit_text(&text, false);
    assert_eq!(findings(&result, NOT_SELECTED).len(), 1);
    let dangling = findings(&result, SELECTS_NOTHING);
    assert_eq!(dangling.len(), 1);
    assert_eq!(
        dangling[0].field.as_deref(),
        Some("spec.podSelector.matchExpressions[0]")
    );
    assert!(
        dangling[0].message.contains("invalid"),
        "{}",
        dangling[0].message
    );
}

#[test]
fn cilium_policies_select_and_deny() {
    let text = deployment("web", "shop", "{app: web}")
        + &deployment("db", "shop", "{app: db}")
        + "apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {'k8s:app': web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: db}}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: shop-egress}
specs:
- nodeSelector: {}
  egress: [{}]
- endpointSelector:
    matchLabels: {'k8s:io.kubernetes.pod.namespace': shop}
  egress:
  - toEndpoints: [{}]
  - toEntities: [world]
    toPorts: [{ports: [{port: '443', protocol: TCP}]}]
";
    let result = audit_text(&text, false);
    // Every pod in `shop` is selected by the cluster-wide rule, so none is
    // reported, and that rule is an egress default deny for `shop` (port
    // 443 to the world is opened, the rest stays denied).
    assert!(findings(&result, NOT_SELECTED).is_empty());
    assert!(findings(&result, NO_DENY_EGRESS).is_empty());
    assert_eq!(findings(&result, NO_DENY_INGRESS).len(), 1);

    let open = findings(&result, ALLOWS_ALL);
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].field.as_deref(),
        Some("specs[1].egress[1].toEntities[0]")
    );
    assert_eq!(open[0].severity, Severity::Low);
    assert_eq!(
        open[0].resource.display(),
        "CiliumClusterwideNetworkPolicy/shop-egress"
    );
}

#[test]
fn cilium_default_deny_disabled() {
    let text = deployment("web", "shop", "{app: web}")
        + "apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: disabled, namespace: shop}
spec:
  endpointSelector: {}
  enableDefaultDeny: {ingress: false}
  ingress:
  - fromEndpoints: [{}]
";
    let result = audit_text(&text, false);
    assert_eq!(findings(&result, NOT_SELECTED).len(), 1);
    assert_eq!(findings(&result, NO_DENY_INGRESS).len(), 1);
}
