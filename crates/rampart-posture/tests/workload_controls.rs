//! Per-object controls on cases the regolibrary tests do not cover:
//! sidecar probes, run-to-completion pods, NET_RAW, runtime socket paths,
//! digest validation, retired CronJob versions, read-only root filesystems
//! and the default namespace.

use rampart_posture::{
    AuditOptions, AuditResult, Finding, audit, audit_with_placed, parse_manifests,
};

fn audit_text(text: &str) -> AuditResult {
    let manifests = parse_manifests(text, "test.yaml").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);
    assert!(manifests.skipped.is_empty(), "{:?}", manifests.skipped);
    audit(&manifests.objects, &AuditOptions::default())
}

fn of<'a>(result: &'a AuditResult, control: &str) -> Vec<&'a Finding> {
    result
        .findings
        .iter()
        .filter(|finding| finding.control.id == control)
        .collect()
}

fn containers(findings: &[&Finding]) -> Vec<String> {
    let mut names: Vec<String> = findings
        .iter()
        .map(|finding| finding.container.clone().unwrap_or_default())
        .collect();
    names.sort();
    names
}

#[test]
fn sidecar_needs_probes() {
    let result = audit_text(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  initContainers:
  - {name: migrate, image: app}
  - {name: proxy, image: proxy, restartPolicy: Always}
  containers:
  - {name: app, image: app}
"#,
    );
    let liveness = of(&result, "missing-liveness-probe");
    assert_eq!(containers(&liveness), ["app", "proxy"]);
    let readiness = of(&result, "missing-readiness-probe");
    assert_eq!(containers(&readiness), ["app", "proxy"]);
    assert_eq!(
        readiness[1].field.as_deref(),
        Some("spec.initContainers[1]")
    );
}

#[test]
fn run_to_completion_pod_needs_no_probes() {
    let result = audit_text(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
  - {name: task, image: task}
---
apiVersion: v1
kind: Pod
metadata: {name: retried}
spec:
  restartPolicy: OnFailure
  containers:
  - {name: task, image: task}
"#,
    );
    assert!(of(&result, "missing-liveness-probe").is_empty());
    assert!(of(&result, "missing-readiness-probe").is_empty());
    assert_eq!(result.evaluated.get("missing-liveness-probe"), None);
    assert_eq!(
        result.evaluated.get("missing-memory-limit-or-request"),
        Some(&2)
    );
}

#[test]
fn net_raw_dropped_or_kept() {
    let result = audit_text(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: caps}
spec:
  containers:
  - {name: default, image: app}
  - name: drops-net-raw
    image: app
    securityContext: {capabilities: {drop: [NET_RAW]}}
  - name: drops-all-lowercase
    image: app
    securityContext: {capabilities: {drop: [all]}}
  - name: drops-cap-prefix
    image: app
    securityContext: {capabilities: {drop: [CAP_NET_RAW]}}
  - name: adds-back
    image: app
    securityContext: {capabilities: {drop: [ALL], add: [NET_RAW]}}
  - name: drops-other
    image: app
    securityContext: {capabilities: {drop: [NET_ADMIN]}}
  - name: privileged
    image: app
    securityContext: {privileged: true}
"#,
    );
    let found = of(&result, "net-raw-capability");
    let fields: Vec<(&str, &str)> = found
        .iter()
        .map(|finding| {
            let container = finding.container.as_deref().unwrap();
            (container, finding.field.as_deref().unwrap())
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("default", "spec.containers[0]"),
            (
                "adds-back",
                "spec.containers[4].securityContext.capabilities.add"
            ),
            (
                "drops-other",
                "spec.containers[5].securityContext.capabilities.drop"
            ),
        ]
    );
    assert_eq!(found[1].message, "container \"adds-back\" adds NET_RAW");

    let windows = audit_text(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: win}
spec:
  os: {name: windows}
  containers:
  - {name: app, image: app}
"#,
    );
    assert!(of(&windows, "net-raw-capability").is_empty());
}

#[test]
fn runtime_socket_host_paths() {
    let result = audit_text(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: agent}
spec:
  containers:
  - name: agent
    image: agent
    volumeMounts:
    - {name: sock, mountPath: /var/run/docker.sock}
    - {name: run, mountPath: /host/run, readOnly: true}
    - {name: var, mountPath: /host/var, readOnly: true}
  volumes:
  - {name: sock, hostPath: {path: /var/run/docker.sock}}
  - {name: run, hostPath: {path: /var/run/}}
  - {name: var, hostPath: {path: /var}}
  - {name: rootless, hostPath: {path: /run/user/1000/docker.sock}}
"#,
    );
    let sockets = of(&result, "container-runtime-socket");
    let messages: Vec<&str> = sockets
        .iter()
        .map(|finding| finding.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "volume \"sock\" mounts the container runtime socket /var/run/docker.sock from the host",
            "volume \"run\" mounts /var/run/ from the host, which contains the container runtime socket /run/docker.sock",
            "volume \"rootless\" mounts the container runtime socket /run/user/1000/docker.sock from the host",
        ]
    );

    let host_paths = of(&result, "host-path-mount");
    assert_eq!(host_paths.len(), 4);
    let unmounted = host_paths
        .iter()
        .find(|finding| finding.message.contains("\"rootless\""))
        .unwrap();
    assert!(
        unmounted
            .message
            .ends_with("(not mounted by any container)"),
        "{}",
        unmounted.message
    );
    assert_eq!(unmounted.container, None);
}

#[test]
fn malformed_digest_not_pinned() {
    let result = audit_text(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: digests}
spec:
  containers:
  - {name: short, image: "nginx@sha256:abc"}
  - name: pinned
    image: "nginx:1.27@sha256:0000000000000000000000000000000000000000000000000000000000000000"
"#,
    );
    let unpinned = of(&result, "image-not-pinned-by-digest");
    assert_eq!(containers(&unpinned), ["short"]);
    assert!(
        unpinned[0]
            .message
            .contains("which is not 64 lowercase hex digits"),
        "{}",
        unpinned[0].message
    );
    // A digest, even a malformed one, replaces the tag.
    assert!(of(&result, "image-latest-tag").is_empty());
}

#[test]
fn cronjob_v1beta1_audited() {
    let result = audit_text(
        r#"
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: nightly, namespace: jobs}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          hostPID: true
          restartPolicy: OnFailure
          containers:
          - {name: task, image: task}
"#,
    );
    let found = of(&result, "host-pid");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].resource.api_version, "batch/v1");
    assert_eq!(found[0].resource.kind, "CronJob");
    assert_eq!(
        found[0].field.as_deref(),
        Some("spec.jobTemplate.spec.template.spec.hostPID")
    );
}

#[test]
fn root_filesystem_checked_per_container() {
    let result = audit_text(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  initContainers:
  - name: migrate
    image: app
    securityContext: {readOnlyRootFilesystem: false}
  containers:
  - name: app
    image: app
    securityContext: {readOnlyRootFilesystem: true}
  - {name: proxy, image: proxy}
---
apiVersion: v1
kind: Pod
metadata: {name: windows, namespace: shop}
spec:
  os: {name: windows}
  containers:
  - {name: app, image: app}
"#,
    );
    let writable = of(&result, "writable-root-filesystem");
    assert_eq!(containers(&writable), ["migrate", "proxy"]);
    assert!(
        writable
            .iter()
            .all(|finding| finding.resource.name == "web")
    );
    let migrate = writable
        .iter()
        .find(|finding| finding.container.as_deref() == Some("migrate"))
        .unwrap();
    assert_eq!(
        migrate.field.as_deref(),
        Some("spec.initContainers[0].securityContext.readOnlyRootFilesystem")
    );
    assert!(
        migrate
            .message
            .contains("sets readOnlyRootFilesystem to false")
    );
    // Kubernetes rejects the field on Windows pods, so they are not evaluated.
    assert_eq!(result.evaluated["writable-root-filesystem"], 1);
}

#[test]
fn default_namespace_explicit_or_implied() {
    let result = audit_text(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: explicit, namespace: default}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: a, image: a}]}
---
apiVersion: v1
kind: Pod
metadata: {name: implied}
spec: {containers: [{name: a, image: a}]}
---
apiVersion: v1
kind: Pod
metadata: {name: placed, namespace: shop}
spec: {containers: [{name: a, image: a}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: default}
rules: []
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress]}
"#,
    );
    let found = of(&result, "default-namespace");
    let mut names: Vec<&str> = found
        .iter()
        .map(|finding| finding.resource.name.as_str())
        .collect();
    names.sort_unstable();
    // The default ServiceAccount is created by Kubernetes, and a
    // NetworkPolicy in the default namespace protects it.
    assert_eq!(names, ["explicit", "implied", "reader"]);
    assert!(
        found
            .iter()
            .all(|f| f.field.as_deref() == Some("metadata.namespace"))
    );
    let implied = found
        .iter()
        .find(|finding| finding.resource.name == "implied")
        .unwrap();
    assert!(
        implied.message.contains("names no namespace"),
        "{}",
        implied.message
    );
    assert_eq!(result.evaluated["default-namespace"], 5);
}

#[test]
fn default_namespace_on_skipped_kinds() {
    // Each reader gets a document. rampart's readers take block YAML,
    // one-line flow style and JSON. A tag goes to libyaml, and a tag in a
    // flow mapping over two lines goes to libyaml through a JSON value.
    // The List's items take the list's apiVersion and kind.
    let text = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
---
{apiVersion: v1, kind: Secret, metadata: {name: token}}
---
{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "default"}}
---
apiVersion: v1
kind: ConfigMapList
items:
- metadata: {name: settings, namespace: default}
- metadata: {name: kube-root-ca.crt, namespace: default}
- metadata: {name: elsewhere, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: kubernetes, namespace: default}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: custom, namespace: default}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: !!map {name: data, namespace: default}
---
{apiVersion: v1, kind: LimitRange,
 metadata: !!map {name: limits}}
"#;
    let manifests = parse_manifests(text, "test.yaml").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);
    assert_eq!(manifests.placed.len(), 9, "{:?}", manifests.placed);
    let result = audit_with_placed(
        &manifests.objects,
        &manifests.placed,
        &AuditOptions::default(),
    );

    let found = of(&result, "default-namespace");
    let mut names: Vec<String> = found.iter().map(|f| f.resource.display()).collect();
    names.sort_unstable();
    // The kubernetes Service and the kube-root-ca.crt ConfigMap are
    // created by Kubernetes, and custom kinds are not known to be namespaced.
    assert_eq!(
        names,
        [
            "ConfigMap/default/settings",
            "Ingress/default/web",
            "LimitRange/default/limits",
            "PersistentVolumeClaim/default/data",
            "Secret/default/token",
            "Service/default/web",
        ]
    );
    let secret = found.iter().find(|f| f.resource.kind == "Secret").unwrap();
    assert!(
        secret.message.contains("names no namespace"),
        "{}",
        secret.message
    );
    let settings = found
        .iter()
        .find(|f| f.resource.name == "settings")
        .unwrap();
    assert_eq!(settings.origin.as_ref().unwrap().item, Some(0));
    assert_eq!(result.evaluated["default-namespace"], 9);
    assert_eq!(
        result.evaluated_by_namespace[&Some("shop".to_owned())]["default-namespace"],
        1
    );
}

#[test]
fn retired_versions_audited_and_reported() {
    let text = r#"
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: legacy, namespace: shop}
spec:
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers:
      - name: app
        image: app
        securityContext: {privileged: true}
---
apiVersion: rbac.authorization.k8s.io/v1beta1
kind: ClusterRoleBinding
metadata: {name: admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: ci, namespace: shop}
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata: {name: web, namespace: shop}
"#;
    let manifests = parse_manifests(text, "test.yaml").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);
    let result = audit_with_placed(
        &manifests.objects,
        &manifests.placed,
        &AuditOptions::default(),
    );

    // The Deployment is read as apps/v1, its selector taken from the
    // template's labels, and audited like any other.
    let privileged = of(&result, "privileged-container");
    assert_eq!(privileged.len(), 1);
    assert_eq!(privileged[0].resource.api_version, "apps/v1");
    assert_eq!(names_of(&of(&result, "rbac-cluster-admin")), ["ci"]);

    let removed = of(&result, "removed-api-version");
    let mut described: Vec<(String, &str)> = removed
        .iter()
        .map(|f| (f.resource.display(), f.field.as_deref().unwrap_or_default()))
        .collect();
    described.sort_unstable();
    assert_eq!(
        described,
        [
            ("ClusterRoleBinding/admins".to_owned(), "apiVersion"),
            ("Deployment/shop/legacy".to_owned(), "apiVersion"),
            ("Ingress/shop/web".to_owned(), "apiVersion"),
        ]
    );
    let deployment = removed
        .iter()
        .find(|f| f.resource.kind == "Deployment")
        .unwrap();
    assert_eq!(
        deployment.message,
        "Deployment legacy is written as extensions/v1beta1, which Kubernetes 1.16 stopped serving; use apps/v1"
    );
}

fn names_of(findings: &[&Finding]) -> Vec<String> {
    findings.iter().map(|f| f.resource.name.clone()).collect()
}

#[test]
fn retired_webhooks_fail_open_by_default() {
    // admissionregistration.k8s.io/v1beta1 defaulted failurePolicy to
    // Ignore, where v1 defaults to Fail.
    let text = r#"
apiVersion: admissionregistration.k8s.io/v1beta1
kind: ValidatingWebhookConfiguration
metadata: {name: legacy-gate}
webhooks:
- name: unset.legacy-gate.example
  clientConfig:
    service: {name: gate, namespace: gate-system}
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
- name: fail.legacy-gate.example
  failurePolicy: Fail
  clientConfig:
    service: {name: gate, namespace: gate-system}
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
"#;
    let manifests = parse_manifests(text, "test.yaml").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);
    assert!(manifests.skipped.is_empty(), "{:?}", manifests.skipped);
    let result = audit(&manifests.objects, &AuditOptions::default());

    let ignore = of(&result, "webhook-failure-policy-ignore");
    assert_eq!(ignore.len(), 1, "{ignore:?}");
    assert_eq!(
        ignore[0].field.as_deref(),
        Some("webhooks[0].failurePolicy")
    );
    assert_eq!(of(&result, "removed-api-version").len(), 1);
}
