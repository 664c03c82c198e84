//! Source positions of findings: block and flow style, JSON, block scalars,
//! anchors, aliases and merge keys, multi-document streams with empty
//! documents, and List items. A property test checks, over generated
//! streams, that every object `parse_manifests` reads is found where its
//! fields are written. The corpus tier locates every finding of the Pod
//! Security Admission fixtures.

use std::path::Path;

use proptest::prelude::*;
use rampart_posture::{
    AuditOptions, TextPosition, audit, locate_field, locate_findings, parse_manifests,
};

/// Returns the 1-based line and column of the `occurrence`-th (0-based)
/// match of `needle` in `text`, with the column counted in characters.
fn position_of(text: &str, needle: &str, occurrence: usize) -> (usize, usize) {
    let (offset, _) = text
        .match_indices(needle)
        .nth(occurrence)
        .unwrap_or_else(|| panic!("{needle:?} #{occurrence} not in the text"));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

fn located(text: &str, document: usize, item: Option<usize>, field: &str) -> TextPosition {
    locate_field(text, document, item, Some(field))
        .unwrap_or_else(|| panic!("document {document} item {item:?} not found for {field}"))
}

fn assert_at(position: TextPosition, expected: (usize, usize), exact: bool) {
    assert_eq!((position.line, position.column), expected, "{position:?}");
    assert_eq!(position.exact, exact, "{position:?}");
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
        command:
        - sh
        - -c
        - |
          echo start
          privileged: true is only text here
        securityContext:
          privileged: true
      - name: sidecar
        image: busybox
        env:
        - name: TOKEN
          value: >-
            folded
            secret
";

#[test]
fn block_style_field() {
    let position = located(
        DEPLOYMENT,
        1,
        None,
        "spec.template.spec.containers[0].securityContext.privileged",
    );
    assert_at(
        position,
        position_of(DEPLOYMENT, "privileged: true\n", 0),
        true,
    );
    assert_eq!(position.line, 20);
    assert_eq!(position.column, 11);
}

#[test]
fn absent_field_gives_parent() {
    let position = located(
        DEPLOYMENT,
        1,
        None,
        "spec.template.spec.containers[1].securityContext.allowPrivilegeEscalation",
    );
    assert_at(position, position_of(DEPLOYMENT, "name: sidecar", 0), false);

    let position = located(
        DEPLOYMENT,
        1,
        None,
        "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
    );
    assert_at(
        position,
        position_of(DEPLOYMENT, "securityContext:", 0),
        false,
    );
}

#[test]
fn block_scalar_value_gives_key_line() {
    let position = located(
        DEPLOYMENT,
        1,
        None,
        "spec.template.spec.containers[1].env[0].value",
    );
    assert_at(position, position_of(DEPLOYMENT, "value: >-", 0), true);
}

#[test]
fn annotation_key_with_dots() {
    let position = located(
        DEPLOYMENT,
        1,
        None,
        "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]",
    );
    assert_at(
        position,
        position_of(DEPLOYMENT, "container.apparmor", 0),
        true,
    );
}

#[test]
fn object_without_field_gives_document_start() {
    let position = locate_field(DEPLOYMENT, 1, None, None).expect("document 1");
    assert_at(position, (1, 1), true);
}

#[test]
fn missing_document_or_item() {
    assert_eq!(locate_field(DEPLOYMENT, 2, None, Some("spec")), None);
    assert_eq!(locate_field(DEPLOYMENT, 1, Some(0), Some("spec")), None);
    assert_eq!(locate_field("", 1, None, Some("spec")), None);
}

#[test]
fn invalid_yaml_gives_none() {
    let text = "kind: Pod\nspec: [unclosed\n";
    assert_eq!(locate_field(text, 1, None, Some("spec")), None);
}

#[test]
fn json_input() {
    let text = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "p"},
  "spec": {
    "containers": [
      {"name": "a", "image": "x"},
      {"name": "b", "securityContext": {"runAsUser": 0, "privileged": true}}
    ]
  }
}
"#;
    let position = located(
        text,
        1,
        None,
        "spec.containers[1].securityContext.privileged",
    );
    assert_at(position, position_of(text, "\"privileged\"", 0), true);

    let position = located(
        text,
        1,
        None,
        "spec.containers[0].securityContext.privileged",
    );
    assert_at(position, position_of(text, "{\"name\": \"a\"", 0), false);
}

#[test]
fn flow_style_in_block() {
    let text = "\
kind: Pod
spec:
  containers: [{name: a, image: x}, {name: b, securityContext: {privileged: true}}]
  volumes: [ {name: v, hostPath: {path: /var/run/docker.sock}} ]
";
    let position = located(
        text,
        1,
        None,
        "spec.containers[1].securityContext.privileged",
    );
    assert_at(position, position_of(text, "privileged", 0), true);
    let position = located(text, 1, None, "spec.volumes[0].hostPath.path");
    assert_at(position, position_of(text, "path:", 0), true);
}

#[test]
fn anchors_and_aliases() {
    let text = "\
kind: Pod
spec:
  containers:
  - name: a
    securityContext: &privileged
      privileged: true
  - name: b
    securityContext: *privileged
";
    // The alias leads to where the value is written.
    let position = located(
        text,
        1,
        None,
        "spec.containers[1].securityContext.privileged",
    );
    assert_at(position, position_of(text, "privileged: true", 0), true);
    let position = located(text, 1, None, "spec.containers[1].securityContext");
    assert_at(position, position_of(text, "securityContext: *", 0), true);
}

#[test]
fn merge_keys() {
    let text = "\
kind: Pod
spec:
  containers:
  - &base
    name: base
    securityContext:
      privileged: false
    image: a
  - <<: *base
    name: override
    image: b
  - <<: [{securityContext: {runAsUser: 0}}, *base]
    name: list
";
    // Keys written in the mapping win over merged ones.
    let position = located(text, 1, None, "spec.containers[1].image");
    assert_at(position, position_of(text, "image: b", 0), true);
    let position = located(
        text,
        1,
        None,
        "spec.containers[1].securityContext.privileged",
    );
    assert_at(position, position_of(text, "privileged: false", 0), true);
    // Earlier merge sources win over later ones.
    let position = located(
        text,
        1,
        None,
        "spec.containers[2].securityContext.runAsUser",
    );
    assert_at(position, position_of(text, "runAsUser", 0), true);
    let position = located(text, 1, None, "spec.containers[2].image");
    assert_at(position, position_of(text, "image: a", 0), true);
}

#[test]
fn quoted_merge_key_is_ordinary() {
    let text = "\
base: &base {image: a}
kind: Pod
spec:
  \"<<\": *base
";
    // A merge would find `image` on line 1; an ordinary key leaves only
    // `spec` to point at.
    let position = located(text, 1, None, "spec.image");
    assert_at(position, position_of(text, "spec:", 0), false);
}

#[test]
fn empty_documents_numbered_as_parse_manifests() {
    let text = "\
---
# Source: chart/templates/disabled.yaml
---
~
---
apiVersion: v1
kind: Pod
metadata: {name: first}
spec: {containers: [{name: c, image: x}]}
...
---
---
null
--- !!null
---
apiVersion: v1
kind: Pod
metadata:
  name: second
spec:
  containers:
  - name: c
    image: x
";
    let manifests = parse_manifests(text, "stream.yaml").unwrap();
    let names: Vec<(&str, usize)> = manifests
        .objects
        .iter()
        .map(|object| (object.name(), object.origin.document))
        .collect();
    // Explicit documents count even when empty or null, as `parse_manifests` numbers them.
    assert_eq!(names, vec![("first", 3), ("second", 7)]);
    for object in &manifests.objects {
        let position = located(text, object.origin.document, None, "metadata.name");
        let name = format!("name: {}", object.name());
        assert_at(position, position_of(text, &name, 0), true);
    }
}

#[test]
fn list_items() {
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: one}
  spec:
    containers: [{name: c, image: x}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: two
  spec:
    hostPID: true
    containers:
    - name: c
      image: x
";
    let manifests = parse_manifests(text, "list.yaml").unwrap();
    let two = manifests
        .objects
        .iter()
        .find(|object| object.name() == "two")
        .unwrap();
    assert_eq!(two.origin.item, Some(1));
    let position = located(text, two.origin.document, two.origin.item, "spec.hostPID");
    assert_at(position, position_of(text, "hostPID", 0), true);
    let position = locate_field(text, 1, Some(1), None).unwrap();
    assert_at(
        position,
        position_of(text, "apiVersion: v1\n  kind: Pod", 1),
        true,
    );
    assert_eq!(locate_field(text, 1, Some(2), None), None);
}

#[test]
fn findings_located_by_source() {
    let first = DEPLOYMENT;
    let second = "\
apiVersion: v1
kind: Pod
metadata:
  name: host
spec:
  hostNetwork: true
  containers:
  - name: c
    image: x
";
    let mut manifests = parse_manifests(first, "first.yaml").unwrap();
    manifests.extend(parse_manifests(second, "second.yaml").unwrap());
    let result = audit(&manifests.objects, &AuditOptions::default());
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let positions = locate_findings(&result.findings, |source| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match source {
            "first.yaml" => Some(first.into()),
            "second.yaml" => Some(second.into()),
            _ => None,
        }
    });
    assert_eq!(calls.into_inner(), 2, "each source is read once");
    assert_eq!(positions.len(), result.findings.len());

    let index = result
        .findings
        .iter()
        .position(|finding| finding.control.id == "privileged-container")
        .expect("privileged-container finding");
    let position = positions[index].expect("privileged-container located");
    assert_eq!(position.line, 20);
    assert!(position.exact);

    let index = result
        .findings
        .iter()
        .position(|finding| finding.control.id == "host-network")
        .expect("host-network finding");
    let position = positions[index].expect("host-network located");
    assert_eq!(
        (position.line, position.column),
        position_of(second, "hostNetwork", 0)
    );
    // Namespace-level findings about a namespace that no object in the
    // input declares have no origin, so no position.
    for (finding, position) in result.findings.iter().zip(&positions) {
        assert_eq!(
            position.is_some(),
            finding.origin.is_some(),
            "{}: {position:?}",
            finding.control.id
        );
    }
}

#[test]
fn rbac_grant_at_role_rule() {
    let role = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
- apiGroups: [\"\"]
  resources: [pods]
  verbs: [get]
- apiGroups: [\"\"]
  resources: [secrets]
  verbs:
  - get
  - list
";
    let binding = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects:
- {kind: ServiceAccount, name: app, namespace: web}
";
    let mut manifests = parse_manifests(binding, "binding.yaml").unwrap();
    manifests.extend(parse_manifests(role, "role.yaml").unwrap());
    let result = audit(&manifests.objects, &AuditOptions::default());
    let positions = locate_findings(&result.findings, |source| match source {
        "role.yaml" => Some(role.into()),
        "binding.yaml" => Some(binding.into()),
        _ => None,
    });

    let index = result
        .findings
        .iter()
        .position(|finding| finding.control.id == "rbac-read-secrets")
        .expect("rbac-read-secrets finding");
    let finding = &result.findings[index];
    assert_eq!(finding.resource.display(), "ServiceAccount/web/app");
    assert_eq!(&*finding.origin.as_ref().unwrap().source, "role.yaml");
    let position = positions[index].expect("located");
    assert_eq!(
        (position.line, position.column),
        position_of(role, "verbs:\n  - get", 0)
    );
}

#[test]
fn unreadable_source_gives_none() {
    let manifests = parse_manifests(DEPLOYMENT, "gone.yaml").unwrap();
    let result = audit(&manifests.objects, &AuditOptions::default());
    assert!(!result.findings.is_empty());
    let positions = locate_findings(&result.findings, |_| None);
    assert!(positions.iter().all(Option::is_none));
}

// ------------------------------------------------------------ properties

/// How one generated document is written.
#[derive(Clone, Debug)]
enum Document {
    /// Nothing but a comment, which parse_manifests does not count.
    Empty,
    Null,
    Pod {
        name: String,
        containers: Vec<String>,
        flow: bool,
        privileged: Vec<bool>,
    },
}

fn document_strategy() -> impl Strategy<Value = Document> {
    let pod = (
        "[a-z][a-z0-9-]{0,12}",
        // Container names start with `c`, so that none is a YAML 1.1
        // boolean such as `y` or `no` when written plain.
        prop::collection::vec(("c[a-z0-9]{0,8}", any::<bool>()), 1..4),
        any::<bool>(),
    )
        .prop_map(|(name, containers, flow)| Document::Pod {
            name,
            privileged: containers
                .iter()
                .map(|(_, privileged)| *privileged)
                .collect(),
            containers: containers.into_iter().map(|(name, _)| name).collect(),
            flow,
        });
    prop_oneof![
        1 => Just(Document::Empty),
        1 => Just(Document::Null),
        4 => pod,
    ]
}

fn render(documents: &[Document]) -> String {
    let mut text = String::new();
    for document in documents {
        text.push_str("---\n");
        match document {
            Document::Empty => text.push_str("# nothing rendered\n"),
            Document::Null => text.push_str("~\n"),
            Document::Pod {
                name,
                containers,
                flow,
                privileged,
            } => {
                text.push_str(&format!(
                    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{name}\"\nspec:\n"
                ));
                if *flow {
                    let items: Vec<String> = containers
                        .iter()
                        .zip(privileged)
                        .map(|(container, privileged)| {
                            let context = if *privileged {
                                ", securityContext: {privileged: true}"
                            } else {
                                ""
                            };
                            format!("{{name: {container}, image: x{context}}}")
                        })
                        .collect();
                    text.push_str(&format!("  containers: [{}]\n", items.join(", ")));
                } else {
                    text.push_str("  containers:\n");
                    for (container, privileged) in containers.iter().zip(privileged) {
                        text.push_str(&format!("  - name: {container}\n    image: |\n      x\n"));
                        if *privileged {
                            text.push_str("    securityContext:\n      privileged: true\n");
                        }
                    }
                }
            }
        }
    }
    text
}

/// Returns the text of the 1-based `line`.
fn line_text(text: &str, line: usize) -> &str {
    text.lines().nth(line - 1).unwrap_or_default()
}

proptest! {
    #[test]
    fn generated_streams_located(documents in prop::collection::vec(document_strategy(), 0..6)) {
        let text = render(&documents);
        let manifests = parse_manifests(&text, "generated.yaml").unwrap();
        let pods: Vec<&Document> = documents
            .iter()
            .filter(|document| matches!(document, Document::Pod { .. }))
            .collect();
        prop_assert_eq!(manifests.objects.len(), pods.len());

        for (object, document) in manifests.objects.iter().zip(&pods) {
            let Document::Pod { name, containers, privileged, .. } = document else {
                unreachable!();
            };
            let origin = &object.origin;
            let position = located(&text, origin.document, None, "metadata.name");
            prop_assert!(position.exact);
            prop_assert_eq!(line_text(&text, position.line).trim(), format!("name: \"{name}\""));

            for (index, container) in containers.iter().enumerate() {
                let field = format!("spec.containers[{index}].name");
                let position = located(&text, origin.document, None, &field);
                prop_assert!(position.exact);
                let line = line_text(&text, position.line);
                let column = position.column - 1;
                let at: String = line.chars().skip(column).collect();
                prop_assert!(at.starts_with("name: "), "{} at column {}", line, position.column);
                prop_assert!(at["name: ".len()..].starts_with(container.as_str()));

                let field = format!("spec.containers[{index}].securityContext.privileged");
                let position = located(&text, origin.document, None, &field);
                prop_assert_eq!(position.exact, privileged[index]);
                let line = line_text(&text, position.line);
                if privileged[index] {
                    let at: String = line.chars().skip(position.column - 1).collect();
                    prop_assert!(at.starts_with("privileged: true"), "{}", line);
                } else {
                    prop_assert!(line.contains(&format!("name: {container}")), "{}", line);
                }
            }
        }
    }
}

// ------------------------------------------------------------ corpus tier

/// Locates every finding of every Pod Security Admission fixture: each
/// finding gets a position, and a field that exists in the document is
/// found at a line that names its last key.
/// Controls whose findings name a field that manifests usually leave
/// unset (`readOnlyRootFilesystem`, `metadata.namespace`).
const UNSET_FIELD_CONTROLS: [&str; 2] = ["writable-root-filesystem", "default-namespace"];

#[test]
fn psa_fixture_findings_located() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let root = corpus.join("vectors/psa");
    let manifest = std::fs::read_to_string(root.join("manifest.tsv")).unwrap();
    let mut findings_seen = 0usize;
    let mut exact = 0usize;
    for line in manifest.lines().filter(|line| !line.starts_with('#')) {
        let path = line.split('\t').next().unwrap_or_default();
        if path == "path" || path.is_empty() {
            continue;
        }
        let file = root.join(path);
        let text = std::fs::read_to_string(&file).unwrap();
        let source = file.display().to_string();
        let manifests = parse_manifests(&text, &source).unwrap();
        let result = audit(&manifests.objects, &AuditOptions::default());
        let positions = locate_findings(&result.findings, |_| Some(text.as_str().into()));
        for (finding, position) in result.findings.iter().zip(&positions) {
            if finding.origin.is_none() {
                continue;
            }
            let position =
                position.unwrap_or_else(|| panic!("{}: {} not located", path, finding.control.id));
            // These two report a field that the fixtures leave unset, so
            // they point at its parent and would only dilute the share.
            if UNSET_FIELD_CONTROLS.contains(&finding.control.id) {
                continue;
            }
            findings_seen += 1;
            let Some(field) = &finding.field else {
                continue;
            };
            if position.exact {
                exact += 1;
                let last_key = last_key(field);
                let line = line_text(&text, position.line);
                assert!(
                    last_key.is_none_or(|key| line.contains(key)),
                    "{}: {field} located at line {} ({line:?})",
                    Path::new(path).display(),
                    position.line
                );
            }
        }
    }
    assert!(findings_seen > 1000, "only {findings_seen} findings");
    assert!(
        exact > findings_seen / 2,
        "{exact} of {findings_seen} exact"
    );
}

/// Returns the last map key of a field path, or `None` when the path ends
/// with an index.
fn last_key(field: &str) -> Option<&str> {
    if field.ends_with(']') {
        let start = field.rfind('[')?;
        let inner = &field[start + 1..field.len() - 1];
        return inner.parse::<usize>().is_err().then_some(inner);
    }
    Some(field.rsplit(['.', ']']).next().unwrap_or(field))
}
