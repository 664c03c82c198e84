//! Pod-bearing kinds, manifest parsing and violation paths.

use std::path::Path;

use rampart_posture::{Level, PolicyVersion, Violation, Workload, evaluate, parse_manifests};

fn violations_of(workload: &Workload, level: Level) -> Vec<Violation> {
    let view = workload.pod_view().expect("workload has a pod spec");
    evaluate(&view, level, PolicyVersion::Latest)
}

fn read_one(path: &Path) -> Workload {
    let text = std::fs::read_to_string(path).unwrap();
    let manifests = parse_manifests(&text, &path.display().to_string()).unwrap();
    let workloads = manifests.workloads();
    assert_eq!(workloads.len(), 1, "{}", path.display());
    workloads[0].clone()
}

/// Checks the privileged init container case: a privileged or SYS_ADMIN
/// init container breaks baseline, and the unprivileged app container
/// next to it is not reported.
fn assert_init_containers_reported(dir: &Path) {
    let pod = read_one(&dir.join("pod.yaml"));
    assert_eq!(pod.kind(), "Pod");
    assert_eq!(pod.name(), Some("init-priv"));
    let found = violations_of(&pod, Level::Baseline);
    let privileged: Vec<&Violation> = found.iter().filter(|v| v.check == "privileged").collect();
    assert_eq!(privileged.len(), 1, "{found:?}");
    assert_eq!(
        privileged[0].path,
        "spec.initContainers[0].securityContext.privileged"
    );
    assert_eq!(privileged[0].container.as_deref(), Some("setup"));
    assert!(privileged[0].message.contains("\"setup\""));
    assert!(!found.iter().any(|v| v.container.as_deref() == Some("app")));

    let deployment = read_one(&dir.join("deployment.yaml"));
    assert_eq!(deployment.kind(), "Deployment");
    let found = violations_of(&deployment, Level::Baseline);
    let capabilities: Vec<&Violation> = found
        .iter()
        .filter(|v| v.check == "capabilities_baseline")
        .collect();
    assert_eq!(capabilities.len(), 1, "{found:?}");
    assert_eq!(
        capabilities[0].path,
        "spec.template.spec.initContainers[0].securityContext.capabilities.add"
    );
    assert_eq!(capabilities[0].container.as_deref(), Some("tune"));
    assert!(capabilities[0].message.contains("SYS_ADMIN"));
}

#[test]
fn privileged_init_containers_reported() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/privileged-init");
    assert_init_containers_reported(&dir);
}

#[test]
fn shared_privileged_init_case() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let dir = corpus.join("../cases/kubescape-734-privileged-initcontainer");
    assert_init_containers_reported(&dir);
}

/// One object of each pod-bearing kind, each with a privileged container.
const ALL_KINDS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: pod}
spec:
  containers: [{name: app, image: app}]
  ephemeralContainers:
  - name: debug
    image: busybox
    securityContext: {privileged: true}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: pod-template}
template:
  spec:
    containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  template:
    spec:
      containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: deployment}
spec:
  selector: {matchLabels: {app: x}}
  template:
    spec:
      containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: statefulset}
spec:
  selector: {matchLabels: {app: x}}
  template:
    spec:
      containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: daemonset}
spec:
  selector: {matchLabels: {app: x}}
  template:
    spec:
      containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: replicaset}
spec:
  selector: {matchLabels: {app: x}}
  template:
    spec:
      containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: job}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cronjob}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: service}
spec:
  ports: [{port: 80}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: widget}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: listed-pod}
  spec:
    hostNetwork: true
    containers: [{name: app, image: app}]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: config}
"#;

#[test]
fn every_pod_bearing_kind_evaluated() {
    let manifests = parse_manifests(ALL_KINDS, "all-kinds.yaml").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);

    let expected = [
        (
            "Pod",
            "spec.ephemeralContainers[0].securityContext.privileged",
        ),
        (
            "PodTemplate",
            "template.spec.containers[0].securityContext.privileged",
        ),
        (
            "ReplicationController",
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "Deployment",
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "StatefulSet",
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "DaemonSet",
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "ReplicaSet",
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "Job",
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        (
            "CronJob",
            "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged",
        ),
        ("Pod", "spec.hostNetwork"),
    ];
    let expected_containers = [
        Some("debug"),
        Some("app"),
        Some("app"),
        Some("app"),
        Some("app"),
        Some("app"),
        Some("app"),
        Some("app"),
        Some("app"),
        None,
    ];
    assert_eq!(manifests.workloads().len(), expected.len());
    for (index, workload) in manifests.workloads().into_iter().enumerate() {
        let (kind, path) = expected[index];
        assert_eq!(workload.kind(), kind);
        let found = violations_of(workload, Level::Baseline);
        let paths: Vec<&str> = found.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, [path], "{kind} {:?}", workload.name());
        let container = found[0].container.as_deref();
        assert_eq!(container, expected_containers[index], "{kind}");
    }

    assert_eq!(manifests.skipped.get("v1/Service"), Some(&1));
    assert_eq!(manifests.skipped.get("example.com/v1/Widget"), Some(&1));
    assert_eq!(manifests.skipped.get("v1/ConfigMap"), Some(&1));
    assert_eq!(manifests.skipped.values().sum::<usize>(), 3);
}

#[test]
fn template_annotations_checked_for_workloads() {
    let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      annotations:
        container.apparmor.security.beta.kubernetes.io/app: localhost/custom
    spec:
      containers: [{name: app, image: app}]
"#;
    let manifests = parse_manifests(text, "web.yaml").unwrap();
    // Admission judges the pods a Deployment creates, so only the pod
    // template's annotations count, not the Deployment's own.
    let found = violations_of(manifests.workloads()[0], Level::Baseline);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn invalid_object_reported_and_rest_read() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  containers: "not a list"
---
apiVersion: v1
kind: Pod
metadata: {name: fine}
spec:
  containers: [{name: app, image: app}]
"#;
    let manifests = parse_manifests(text, "mixed.yaml").unwrap();
    assert_eq!(manifests.workloads().len(), 1);
    assert_eq!(manifests.workloads()[0].name(), Some("fine"));
    assert_eq!(manifests.invalid.len(), 1);
    let invalid = &manifests.invalid[0];
    assert_eq!(invalid.origin.document, 1);
    assert_eq!(invalid.kind, "Pod");
    assert_eq!(invalid.name.as_deref(), Some("broken"));
}

#[test]
fn invalid_yaml_document_reported_with_line() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec: {containers: [{name: a, image: a}]}\n\
                ---\n# second\nkind: [unclosed\n...\nkind: third\n";
    let manifests = parse_manifests(text, "broken.yaml").unwrap();
    assert_eq!(
        manifests.workloads().len(),
        1,
        "the valid document is still read"
    );
    assert_eq!(manifests.invalid.len(), 1, "{:?}", manifests.invalid);
    let invalid = &manifests.invalid[0];
    assert_eq!(&*invalid.origin.source, "broken.yaml");
    assert_eq!(invalid.origin.document, 2);
    // libyaml detects the unclosed bracket on the next line and names the
    // line where the sequence starts.
    assert_eq!(invalid.origin.line, 8, "{}", invalid.message);
    assert!(
        invalid.message.contains("starts at line 7"),
        "{}",
        invalid.message
    );
    assert!(
        invalid.message.starts_with("invalid YAML: "),
        "{}",
        invalid.message
    );
    assert!(!invalid.message.contains('\n'), "{}", invalid.message);
    assert_eq!(
        manifests.skipped.get("/third"),
        Some(&1),
        "a document after `...` is read"
    );
}

#[test]
fn json_and_empty_documents_accepted() {
    let text = "---\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"}, \
                \"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"a\"}]}}\n";
    let manifests = parse_manifests(text, "pod.json").unwrap();
    assert_eq!(manifests.workloads().len(), 1);
    assert!(violations_of(manifests.workloads()[0], Level::Baseline).is_empty());
    assert!(!violations_of(manifests.workloads()[0], Level::Restricted).is_empty());
}

#[test]
fn pod_without_spec_has_no_view() {
    let manifests =
        parse_manifests("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "p.yaml").unwrap();
    assert!(manifests.workloads()[0].pod_view().is_none());
}

#[test]
fn thousands_of_documents_accepted() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: a}]\n";
    let text = vec![pod; 5000].join("---\n");
    let manifests = parse_manifests(&text, "many.yaml").unwrap();
    assert_eq!(manifests.workloads().len(), 5000);
}

#[test]
fn typed_list_items_take_the_list_type() {
    // API servers leave apiVersion and kind out of list items.
    let text = r#"{"apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": {"resourceVersion": "7"},
        "items": [{"metadata": {"name": "web", "namespace": "prod"},
                   "spec": {"selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "a", "image": "a"}]}}}}]}"#;
    let manifests = parse_manifests(text, "deployments.json").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);
    assert!(manifests.skipped.is_empty(), "{:?}", manifests.skipped);
    let workloads = manifests.workloads();
    assert_eq!(workloads.len(), 1);
    assert_eq!(workloads[0].kind(), "Deployment");
    assert_eq!(manifests.objects[0].origin.item, Some(0));
}

#[test]
fn deeply_nested_document_rejected() {
    let deep = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: deep}}\nspec:\n  extra: {}{}\n---\n{}",
        "[".repeat(100_000),
        "]".repeat(100_000),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: fine}\nspec: {containers: [{name: a, image: a}]}\n",
    );
    let manifests = parse_manifests(&deep, "deep.yaml").unwrap();
    assert_eq!(manifests.invalid.len(), 1, "{:?}", manifests.invalid);
    let invalid = &manifests.invalid[0];
    assert!(
        invalid.message.contains("nested more than 128 levels"),
        "{}",
        invalid.message
    );
    assert_eq!(invalid.origin.line, 5);
    assert_eq!(
        manifests.workloads().len(),
        1,
        "the next document is still read"
    );

    // Brackets inside quoted and block scalars do not nest.
    let quoted = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  a: \"{}\"\n  b: |\n    {}\n",
        "[".repeat(500),
        "{".repeat(500)
    );
    let manifests = parse_manifests(&quoted, "quoted.yaml").unwrap();
    assert!(manifests.invalid.is_empty(), "{:?}", manifests.invalid);
    assert_eq!(manifests.skipped.get("v1/ConfigMap"), Some(&1));
}
