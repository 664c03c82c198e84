//! The RBAC graph, the RBAC controls and `who_can`, on small manifests.

use rampart_posture::{
    AuditOptions, AuditResult, BindingKind, Finding, Grant, Object, Query, RbacGraph, RoleKind,
    Scope, Severity, Subject, SubjectKind, audit, parse_manifests, who_can,
};

fn objects(yaml: &str) -> Vec<Object> {
    let manifests = parse_manifests(yaml, "test.yaml").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);
    manifests.objects
}

fn audit_yaml(yaml: &str, whole_cluster: bool) -> AuditResult {
    let options = AuditOptions {
        whole_cluster,
        ..AuditOptions::default()
    };
    audit(&objects(yaml), &options)
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
    names.dedup();
    names
}

fn user(name: &str) -> Subject {
    Subject {
        kind: SubjectKind::User,
        name: name.to_owned(),
        namespace: None,
    }
}

const ESCALATE_BIND: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: core-group-roles}
rules:
- apiGroups: [""]
  resources: [roles, clusterroles]
  verbs: [escalate, bind]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rbac-group-roles}
rules:
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, clusterroles]
  verbs: [escalate, bind]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: core}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: core-group-roles}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: core-user}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: rbac}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rbac-group-roles}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: rbac-user}
"#;

#[test]
fn escalate_bind_needs_rbac_group() {
    let result = audit_yaml(ESCALATE_BIND, false);
    let found = findings(&result, "rbac-escalate-or-bind");
    assert_eq!(names(&found), ["User/rbac-user"]);
    assert_eq!(found[0].field.as_deref(), Some("rules[0].verbs"));
    assert_eq!(found[0].severity, Severity::High);
    assert!(
        found[0].message.contains("ClusterRoleBinding rbac"),
        "{}",
        found[0].message
    );
    assert!(found[0].message.contains("ClusterRole rbac-group-roles"));
    assert!(
        found[0].message.contains(
            "(escalate, bind on roles.rbac.authorization.k8s.io, clusterroles.rbac.authorization.k8s.io)"
        ),
        "{}",
        found[0].message
    );
    // Located at the granting rule, in the role's document.
    assert_eq!(found[0].origin.as_ref().unwrap().document, 2);
}

#[test]
fn subjects_evaluated_once_per_control() {
    let result = audit_yaml(ESCALATE_BIND, false);
    assert_eq!(result.evaluated["rbac-escalate-or-bind"], 2);
    assert_eq!(result.evaluated["rbac-read-secrets"], 2);
    assert_eq!(result.evaluated["rbac-wildcard-in-role"], 2);
}

const AGGREGATION: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {example.com/aggregate-to-monitoring: "true"}
    matchExpressions:
    - {key: tier, operator: NotIn, values: [debug]}
    - {key: owner, operator: Exists}
  - matchExpressions:
    - {key: extra, operator: In, values: [a, b]}
    - {key: retired, operator: DoesNotExist}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: z-secret-reader
  labels: {example.com/aggregate-to-monitoring: "true", owner: platform}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: a-pod-reader
  labels: {example.com/aggregate-to-monitoring: "true", owner: platform}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: debugger
  labels: {example.com/aggregate-to-monitoring: "true", owner: platform, tier: debug}
rules:
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: unowned
  labels: {example.com/aggregate-to-monitoring: "true"}
rules:
- apiGroups: [""]
  resources: [pods/portforward]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: extra-b
  labels: {extra: b}
rules:
- apiGroups: [""]
  resources: [serviceaccounts/token]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: extra-retired
  labels: {extra: a, retired: "yes"}
rules:
- apiGroups: [""]
  resources: [nodes/proxy]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: namespaced-not-aggregated
  namespace: monitoring
  labels: {example.com/aggregate-to-monitoring: "true", owner: platform}
rules:
- apiGroups: [""]
  resources: [pods/attach]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects:
- {kind: ServiceAccount, name: prometheus, namespace: monitoring}
"#;

#[test]
fn aggregation_selects_exactly() {
    let result = audit_yaml(AGGREGATION, false);
    let prometheus = ["ServiceAccount/monitoring/prometheus"];

    let secrets = findings(&result, "rbac-read-secrets");
    assert_eq!(names(&secrets), prometheus);
    assert_eq!(secrets[0].field.as_deref(), Some("rules[1].verbs"));
    // The rule is located in the role it came from, z-secret-reader.
    assert_eq!(secrets[0].origin.as_ref().unwrap().document, 2);
    assert!(
        secrets[0]
            .message
            .contains("aggregated from ClusterRole z-secret-reader"),
        "{}",
        secrets[0].message
    );
    assert_eq!(
        names(&findings(&result, "rbac-create-service-account-tokens")),
        prometheus
    );

    // Excluded by NotIn, by Exists, by DoesNotExist, and a Role is never
    // aggregated.
    assert!(findings(&result, "rbac-exec-into-pods").is_empty());
    assert!(findings(&result, "rbac-port-forward").is_empty());
    assert!(findings(&result, "rbac-node-proxy").is_empty());
}

#[test]
fn aggregation_orders_and_dedups_rules() {
    let objects = objects(AGGREGATION);
    let graph = RbacGraph::build(&objects, false);
    let query = Query::parse("get", "pods").unwrap();
    let grants = graph.who_can(&query, None);
    // Both selected roles have the same pods rule; the controller keeps
    // the first, from a-pod-reader, which sorts first by name.
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].via_role.name, "monitoring");
    assert_eq!(grants[0].rule_role.name, "a-pod-reader");
    assert_eq!(grants[0].rule_index, 0);
    assert_eq!(grants[0].via_binding.kind, BindingKind::ClusterRoleBinding);
}

const NESTED_AGGREGATION: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: team-admin}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {aggregate-to-admin: "true"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: team-edit
  labels: {aggregate-to-admin: "true"}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {aggregate-to-edit: "true"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: exec
  labels: {aggregate-to-edit: "true"}
rules:
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lead, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: team-admin}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: lead}
"#;

#[test]
fn nested_aggregation_reaches_fixed_point() {
    let result = audit_yaml(NESTED_AGGREGATION, false);
    let exec = findings(&result, "rbac-exec-into-pods");
    assert_eq!(names(&exec), ["User/lead"]);
    assert!(
        exec[0].message.contains("in namespace team"),
        "{}",
        exec[0].message
    );
    assert!(exec[0].message.contains("aggregated from ClusterRole exec"));
}

const CLUSTER_ROLE_IN_NAMESPACE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: broad}
rules:
- apiGroups: [""]
  resources: [secrets, persistentvolumes, users, serviceaccounts]
  verbs: [get, create, impersonate]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: team-broad, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: broad}
subjects:
- {kind: ServiceAccount, name: ci}
"#;

#[test]
fn role_binding_scopes_cluster_role_to_namespace() {
    let result = audit_yaml(CLUSTER_ROLE_IN_NAMESPACE, false);
    let account = ["ServiceAccount/team/ci"];

    let secrets = findings(&result, "rbac-read-secrets");
    assert_eq!(names(&secrets), account);
    assert_eq!(secrets[0].severity, Severity::Medium);
    assert!(
        secrets[0].message.contains("in namespace team"),
        "{}",
        secrets[0].message
    );

    // Service accounts are namespaced, users and persistent volumes are
    // not, so the RoleBinding grants only the first.
    let impersonate = findings(&result, "rbac-impersonate");
    assert_eq!(names(&impersonate), account);
    assert!(
        impersonate[0]
            .message
            .contains("impersonate on serviceaccounts")
    );
    assert!(
        !impersonate[0].message.contains("users"),
        "{}",
        impersonate[0].message
    );
    assert!(findings(&result, "rbac-create-persistent-volumes").is_empty());

    let objects = objects(CLUSTER_ROLE_IN_NAMESPACE);
    let get_secrets = |namespace| who_can(&objects, "get", "secrets", namespace).unwrap();
    let in_team = get_secrets(Some("team"));
    assert_eq!(in_team.len(), 1);
    assert_eq!(in_team[0].scope, Scope::Namespace("team".to_owned()));
    assert_eq!(in_team[0].subject.namespace.as_deref(), Some("team"));
    assert!(get_secrets(Some("other")).is_empty());
    assert_eq!(get_secrets(None).len(), 1);
    assert!(
        who_can(&objects, "impersonate", "users", None)
            .unwrap()
            .is_empty()
    );
    // Asked in the RoleBinding's own namespace, a cluster-scoped resource
    // is still out of its reach.
    assert!(
        who_can(&objects, "impersonate", "users", Some("team"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        who_can(&objects, "impersonate", "serviceaccounts", Some("team"))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn cluster_binding_reaches_every_namespace() {
    let yaml = CLUSTER_ROLE_IN_NAMESPACE.replace(
        "kind: RoleBinding\nmetadata: {name: team-broad, namespace: team}",
        "kind: ClusterRoleBinding\nmetadata: {name: team-broad}",
    );
    let yaml = yaml.replace(
        "{kind: ServiceAccount, name: ci}",
        "{kind: ServiceAccount, name: ci, namespace: team}",
    );
    let result = audit_yaml(&yaml, false);
    let secrets = findings(&result, "rbac-read-secrets");
    assert_eq!(secrets[0].severity, Severity::High);
    assert!(secrets[0].message.contains("cluster-wide"));
    assert_eq!(findings(&result, "rbac-create-persistent-volumes").len(), 1);

    let objects = objects(&yaml);
    let grants = who_can(&objects, "get", "secrets", Some("anywhere")).unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].scope, Scope::Cluster);
    assert_eq!(
        who_can(&objects, "impersonate", "users", None)
            .unwrap()
            .len(),
        1
    );
}

const MISSING_ROLES: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: apps}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: wrong-kind}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
- {kind: ServiceAccount, name: no-namespace}
"#;

#[test]
fn unresolved_bindings_warn_without_findings() {
    let result = audit_yaml(MISSING_ROLES, false);
    let rbac: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|finding| finding.control.id.starts_with("rbac-"))
        .collect();
    assert!(rbac.is_empty(), "{rbac:?}");

    let messages: Vec<&str> = result.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("refers to Role apps/secret-reader, which is not in the input"));
    assert!(messages[1].contains("a ClusterRoleBinding can refer only to a ClusterRole"));
    assert!(messages[2].contains("subjects[1]"));
    assert_eq!(result.warnings[0].resource.kind, "RoleBinding");
    assert_eq!(result.warnings[0].origin.as_ref().unwrap().document, 1);

    let cluster = audit_yaml(MISSING_ROLES, true);
    assert!(
        cluster.warnings[0]
            .message
            .contains("does not exist in the cluster")
    );
}

const CLUSTER_ADMIN_BINDINGS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:authenticated}
- {kind: ServiceAccount, name: default, namespace: web}
- {kind: ServiceAccount, name: deployer, namespace: ci}
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:masters}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: owner, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
"#;

fn severity_of(found: &[&Finding], name: &str) -> Severity {
    let matching: Vec<Severity> = found
        .iter()
        .filter(|finding| finding.resource.display() == name)
        .map(|finding| finding.severity)
        .collect();
    assert_eq!(matching.len(), 1, "{name}: {found:?}");
    matching[0]
}

#[test]
fn cluster_admin_default_role_assumed() {
    let result = audit_yaml(CLUSTER_ADMIN_BINDINGS, false);
    let admins = findings(&result, "rbac-cluster-admin");
    assert_eq!(
        severity_of(&admins, "Group/system:authenticated"),
        Severity::Critical
    );
    assert_eq!(
        severity_of(&admins, "ServiceAccount/web/default"),
        Severity::Critical
    );
    assert_eq!(
        severity_of(&admins, "ServiceAccount/ci/deployer"),
        Severity::High
    );
    assert_eq!(severity_of(&admins, "User/alice"), Severity::High);
    // system:masters bypasses RBAC; its own control reports it.
    assert_eq!(admins.len(), 4, "{admins:?}");
    assert!(
        admins[0].message.contains("(the Kubernetes default)"),
        "{}",
        admins[0].message
    );
    // The default role has no document, so the binding's roleRef is the
    // location.
    assert_eq!(admins[0].field.as_deref(), Some("roleRef.name"));

    let namespace_admins = findings(&result, "rbac-namespace-admin");
    assert_eq!(names(&namespace_admins), ["User/bob"]);
    assert_eq!(namespace_admins[0].severity, Severity::Medium);

    let masters = findings(&result, "rbac-system-masters-binding");
    assert_eq!(names(&masters), ["Group/system:masters"]);
    assert_eq!(masters[0].field.as_deref(), Some("subjects[4]"));

    let defaults = findings(&result, "rbac-default-service-account-bound");
    assert_eq!(names(&defaults), ["ServiceAccount/web/default"]);

    // Everyone who is cluster-admin can also read secrets.
    let secrets = findings(&result, "rbac-read-secrets");
    assert_eq!(
        severity_of(&secrets, "Group/system:authenticated"),
        Severity::Critical
    );
    assert_eq!(severity_of(&secrets, "User/alice"), Severity::High);
}

#[test]
fn subjects_counted_in_their_namespace() {
    let result = audit_yaml(CLUSTER_ADMIN_BINDINGS, false);
    let count = |namespace: Option<&str>, control: &str| {
        result.evaluated_by_namespace[&namespace.map(str::to_owned)]
            .get(control)
            .copied()
            .unwrap_or(0)
    };
    // system:authenticated, alice and bob; service accounts in web and ci.
    assert_eq!(result.evaluated["rbac-cluster-admin"], 5);
    assert_eq!(count(None, "rbac-cluster-admin"), 3);
    assert_eq!(count(Some("web"), "rbac-cluster-admin"), 1);
    assert_eq!(count(Some("ci"), "rbac-cluster-admin"), 1);
    assert_eq!(count(Some("team"), "rbac-cluster-admin"), 0);
    // rbac-system-masters-binding reports system:masters, so it counts the
    // group too, though it is a control-plane identity.
    assert_eq!(result.evaluated["rbac-system-masters-binding"], 6);
    assert_eq!(count(None, "rbac-system-masters-binding"), 4);
}

#[test]
fn default_masters_binding_not_counted() {
    let result = audit_yaml(DEFAULTS, true);
    assert_eq!(result.evaluated["rbac-system-masters-binding"], 2);
    assert_eq!(
        result.evaluated_by_namespace[&None]["rbac-system-masters-binding"],
        2
    );
}

#[test]
fn cluster_admin_not_assumed_for_cluster() {
    let result = audit_yaml(CLUSTER_ADMIN_BINDINGS, true);
    assert!(findings(&result, "rbac-cluster-admin").is_empty());
    assert_eq!(result.warnings.len(), 2);
    // The binding itself still names system:masters and a default account.
    assert_eq!(findings(&result, "rbac-system-masters-binding").len(), 1);
    assert_eq!(
        findings(&result, "rbac-default-service-account-bound").len(),
        1
    );
}

const DEFAULTS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cluster-admin
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
- nonResourceURLs: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cluster-admin
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:masters}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:controller:generic-garbage-collector
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: [delete, get, list, patch, update, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:controller:generic-garbage-collector
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:controller:generic-garbage-collector}
subjects:
- {kind: ServiceAccount, name: generic-garbage-collector, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:public-info-viewer
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
rules:
- nonResourceURLs: [/healthz, /livez, /readyz, /version, /version/]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:public-info-viewer
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:public-info-viewer}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:authenticated}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:unauthenticated}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: scheduler}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:controller:generic-garbage-collector}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:kube-scheduler}
"#;

#[test]
fn kubernetes_defaults_not_reported() {
    let result = audit_yaml(DEFAULTS, true);
    let rbac: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|finding| finding.control.id.starts_with("rbac-"))
        .collect();
    assert!(rbac.is_empty(), "{rbac:?}");
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    // Only system:authenticated and system:unauthenticated are checked.
    assert_eq!(result.evaluated["rbac-read-secrets"], 2);
    assert_eq!(result.evaluated.get("rbac-wildcard-in-role"), None);
}

#[test]
fn user_grant_to_kube_system_account_reported() {
    let yaml = format!(
        "{DEFAULTS}---\n{}",
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: gc-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: generic-garbage-collector, namespace: kube-system}
"#
    );
    let result = audit_yaml(&yaml, true);
    let admins = findings(&result, "rbac-cluster-admin");
    assert_eq!(
        names(&admins),
        ["ServiceAccount/kube-system/generic-garbage-collector"]
    );
}

const ANONYMOUS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-lister}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
- nonResourceURLs: [/healthz, /metrics]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: anonymous-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-lister}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:anonymous}
"#;

#[test]
fn anonymous_grants_reported() {
    let result = audit_yaml(ANONYMOUS, false);
    let anonymous = findings(&result, "rbac-anonymous-access");
    assert_eq!(anonymous.len(), 2, "{anonymous:?}");
    assert_eq!(anonymous[0].resource.display(), "User/system:anonymous");
    let fields: Vec<&str> = anonymous
        .iter()
        .filter_map(|f| f.field.as_deref())
        .collect();
    assert_eq!(fields, ["rules[0].verbs", "rules[1].verbs"]);
    assert!(
        anonymous[1].message.contains("get /metrics"),
        "{}",
        anonymous[1].message
    );
    assert!(!anonymous[1].message.contains("/healthz"));
}

const RESTRICTED: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: named}
rules:
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [app-tls]
  verbs: [get]
- apiGroups: [""]
  resources: [pods]
  resourceNames: [only-this]
  verbs: [create]
- apiGroups: [""]
  resources: [groups]
  resourceNames: [system:masters]
  verbs: [impersonate]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: named}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: named}
subjects:
- {kind: ServiceAccount, name: cert-reloader, namespace: tls}
"#;

#[test]
fn resource_names_restrict_findings() {
    let result = audit_yaml(RESTRICTED, false);
    let secrets = findings(&result, "rbac-read-secrets");
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].severity, Severity::Medium);
    assert!(
        secrets[0]
            .message
            .ends_with("only for the objects named app-tls"),
        "{}",
        secrets[0].message
    );

    // Creation cannot be restricted by name, so the rule allows nothing.
    assert!(findings(&result, "rbac-create-pods").is_empty());

    let impersonate = findings(&result, "rbac-impersonate");
    assert_eq!(impersonate.len(), 1);
    assert_eq!(impersonate[0].severity, Severity::Critical);

    let objects = objects(RESTRICTED);
    let grants = who_can(&objects, "get", "secrets", Some("tls")).unwrap();
    assert_eq!(grants.len(), 1);
    assert!(grants[0].is_restricted());
    assert_eq!(grants[0].resource_names, ["app-tls"]);
    assert!(
        who_can(&objects, "create", "pods", None)
            .unwrap()
            .is_empty()
    );
}

const WILDCARDS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: ci}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: ["*"]
- apiGroups: [apps]
  resources: ["*/scale", statefulsets]
  verbs: [update]
- apiGroups: ["*"]
  resources: [configmaps]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: aggregated
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {x: "y"}}]
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
"#;

#[test]
fn wildcard_roles_reported_on_role() {
    let result = audit_yaml(WILDCARDS, false);
    let wildcards = findings(&result, "rbac-wildcard-in-role");
    let fields: Vec<&str> = wildcards
        .iter()
        .filter_map(|f| f.field.as_deref())
        .collect();
    assert_eq!(fields, ["rules[0].verbs", "rules[1].resources"]);
    assert_eq!(wildcards[0].resource.display(), "Role/ci/deployer");
    assert_eq!(wildcards[0].origin.as_ref().unwrap().document, 1);
    assert!(wildcards[1].message.contains("*/scale"));
    assert_eq!(result.evaluated["rbac-wildcard-in-role"], 1);
}

const EXEC_AND_PATHS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: debug, namespace: dev}
rules:
- apiGroups: [""]
  resources: ["pods/*"]
  verbs: [create]
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [get]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: debug, namespace: dev}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: debug}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: developers}
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:serviceaccount:dev:runner"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics}
rules:
- nonResourceURLs: ["/metrics*"]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: metrics}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics}
subjects:
- {kind: ServiceAccount, name: prometheus, namespace: monitoring}
"#;

#[test]
fn who_can_answers_kubectl_forms() {
    let objects = objects(EXEC_AND_PATHS);
    let graph = RbacGraph::build(&objects, false);
    let ask = |verb, resource, namespace| {
        let query = Query::parse(verb, resource).unwrap();
        graph.who_can(&query, namespace)
    };

    // pods/* is a literal resource name; only the get rule covers exec.
    let exec: Vec<Grant> = ask("get", "pods/exec", Some("dev"));
    assert_eq!(exec.len(), 2);
    assert_eq!(exec[0].subject.kind, SubjectKind::Group);
    assert_eq!(
        exec[1].subject,
        Subject {
            kind: SubjectKind::ServiceAccount,
            name: "runner".to_owned(),
            namespace: Some("dev".to_owned()),
        }
    );
    assert_eq!(exec[0].rule_index, 1);
    assert_eq!(exec[0].via_role.kind, RoleKind::Role);
    assert!(ask("create", "pods/exec", Some("dev")).is_empty());

    assert_eq!(ask("create", "deployments", None).len(), 2);
    assert_eq!(ask("create", "deployments.apps", Some("dev")).len(), 2);
    assert!(ask("create", "deployments.extensions", None).is_empty());

    let metrics = ask("get", "/metrics/cadvisor", None);
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].subject.name, "prometheus");
    assert!(ask("get", "/healthz", None).is_empty());
    assert!(
        ask("get", "/metrics", Some("dev"))
            .iter()
            .all(|g| g.scope == Scope::Cluster)
    );
}

#[test]
fn who_can_lists_exec_findings_alike() {
    let result = audit_yaml(EXEC_AND_PATHS, false);
    let exec = findings(&result, "rbac-exec-into-pods");
    assert_eq!(
        names(&exec),
        ["Group/developers", "ServiceAccount/dev/runner"]
    );
    assert!(
        exec.iter()
            .all(|f| f.field.as_deref() == Some("rules[1].verbs"))
    );
    assert!(
        exec[0].message.contains("get on pods/exec"),
        "{}",
        exec[0].message
    );

    let pods = findings(&result, "rbac-create-pods");
    assert_eq!(pods.len(), 2);
    assert!(
        pods[0].message.contains("create on deployments.apps"),
        "{}",
        pods[0].message
    );
    assert_eq!(pods[0].resource.kind, "Group");
    assert_eq!(
        user("x").resource_ref().api_version,
        "rbac.authorization.k8s.io/v1"
    );
}

#[test]
fn grant_serializes_scope_flat() {
    let objects = objects(CLUSTER_ROLE_IN_NAMESPACE);
    let grants = who_can(&objects, "get", "secrets", None).unwrap();
    let json = serde_json::to_value(&grants[0]).unwrap();
    assert_eq!(json["scope"], "namespace");
    assert_eq!(json["namespace"], "team");
    assert_eq!(json["subject"]["kind"], "ServiceAccount");
    assert_eq!(json["via_binding"]["kind"], "RoleBinding");
    assert_eq!(json["rule_role"]["name"], "broad");
    assert_eq!(json["rule_index"], 0);
    assert!(json.get("resource_names").is_none());
}
