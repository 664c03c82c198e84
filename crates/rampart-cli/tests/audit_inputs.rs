//! `rampart audit` inputs through the built binary: directories, stdin,
//! bad files next to good ones, exceptions, framework selection and the
//! RBAC query.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PRIVILEGED_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: priv
  namespace: apps
spec:
  containers:
  - name: c
    image: registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    securityContext:
      privileged: true
";

const TIMESTAMP: &str = "2026-06-01T00:00:00Z";

fn rampart(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn report(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn controls_of(report: &Value, name: &str) -> Vec<String> {
    let mut controls: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["resource"]["name"] == name)
        .map(|finding| finding["control"].as_str().unwrap().to_owned())
        .collect();
    controls.sort();
    controls.dedup();
    controls
}

#[test]
fn inputs_bad_files_reported_others_audited() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "k8s/good.yaml", PRIVILEGED_POD);
    let broken = format!(
        "{}---\nkind: [unclosed\n",
        PRIVILEGED_POD.replace("name: priv", "name: first")
    );
    write(dir.path(), "k8s/broken.yaml", &broken);
    let deep = format!("a: {}1{}\n", "{x: ".repeat(500), "}".repeat(500));
    write(dir.path(), "k8s/deep.yaml", &deep);
    write(dir.path(), "k8s/binary.yaml", "\u{0}\u{1}");
    let wrong_schema = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: wrong}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        name: c
";
    write(dir.path(), "k8s/wrong.yaml", wrong_schema);
    std::fs::write(dir.path().join("k8s/latin1.yaml"), b"kind: \xe9t\xe9\n").unwrap();

    let output = rampart(&["audit", "k8s", "-o", "json=out.json"], dir.path());
    assert_eq!(output.status.code(), Some(2), "bad inputs give exit code 2");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The parser notices the unclosed bracket at the end of the text and
    // names the line where the sequence starts.
    assert!(
        stderr.contains("k8s/broken.yaml:14: document 2: invalid YAML"),
        "{stderr}"
    );
    assert!(stderr.contains("starts at line 13"), "{stderr}");
    assert!(
        stderr.contains("k8s/deep.yaml:1: document 1: invalid YAML"),
        "{stderr}"
    );
    assert!(stderr.contains("k8s/latin1.yaml: not UTF-8"), "{stderr}");
    assert!(
        stderr.contains("k8s/wrong.yaml:9: document 1: Deployment \"wrong\" does not match its schema: spec.template.spec.containers: invalid type: map"),
        "the schema error names the field and its line: {stderr}"
    );

    let report = report(&dir.path().join("out.json"));
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert!(controls_of(&report, "priv").contains(&"privileged-container".to_owned()));
    assert!(
        controls_of(&report, "first").contains(&"privileged-container".to_owned()),
        "the valid document before the broken one is audited"
    );
}

#[test]
fn inputs_directories_recursive_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tree/a/b/pod.yml", PRIVILEGED_POD);
    write(dir.path(), "tree/notes.txt", "kind: [not yaml");
    write(dir.path(), "tree/.git/config.yaml", "kind: [not yaml");
    let crd = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
    write(
        dir.path(),
        "tree/widget.json",
        &format!(
            "{{\"apiVersion\": \"example.com/v1\", \"kind\": \"Widget\", \"metadata\": {{\"name\": \"j\"}}}}\n---\n{crd}"
        ),
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["audit", "tree", "-", "-o", "json=out.json"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rendered = PRIVILEGED_POD.replace("name: priv", "name: from-helm");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("---\n# Source: chart/templates/pod.yaml\n{rendered}").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report = report(&dir.path().join("out.json"));
    assert_eq!(report["summary"]["objects"], 2, "{}", report["summary"]);
    assert_eq!(
        report["summary"]["skipped_by_kind"]["example.com/v1/Widget"],
        2
    );
    assert!(controls_of(&report, "from-helm").contains(&"privileged-container".to_owned()));
    let stdin_finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["resource"]["name"] == "from-helm")
        .unwrap();
    assert_eq!(stdin_finding["location"]["source"], "-");
}

#[test]
fn exceptions_apply_until_expiry() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "k8s/pod.yaml", PRIVILEGED_POD);
    let exceptions = "\
exceptions:
  - control: privileged-container
    namespace: apps
    kind: Pod
    name: pri*
    reason: node agent, reviewed by the platform team
    expires: 2026-12-31
  - control: pss-privileged
    reason: expired acceptance
    expires: 2026-01-31
";
    write(dir.path(), "exceptions.yaml", exceptions);
    let args = [
        "audit",
        "k8s",
        "--exceptions",
        "exceptions.yaml",
        "--timestamp",
        TIMESTAMP,
        "-o",
        "json=out.json",
    ];
    let output = rampart(&args, dir.path());
    assert_eq!(output.status.code(), Some(0));
    let report = report(&dir.path().join("out.json"));
    let findings = report["findings"].as_array().unwrap();
    let excepted = |control: &str| {
        findings
            .iter()
            .find(|finding| finding["control"] == control)
            .map(|finding| finding["exception"].is_string())
    };
    assert_eq!(excepted("privileged-container"), Some(true));
    assert_eq!(
        excepted("pss-privileged"),
        Some(false),
        "an expired exception accepts nothing"
    );
    assert_eq!(report["exceptions"]["accepted"], 1);
    let expired = report["exceptions"]["expired"][0].as_str().unwrap();
    assert!(expired.contains("2026-01-31"), "{expired}");

    let args = [
        "audit",
        "k8s",
        "--exceptions",
        "exceptions.yaml",
        "--timestamp",
        TIMESTAMP,
        "--fail-on",
        "high",
        "-o",
        "json=out.json",
    ];
    let output = rampart(&args, dir.path());
    assert_eq!(
        output.status.code(),
        Some(1),
        "pss-privileged is still active"
    );

    write(
        dir.path(),
        "bad-exceptions.yaml",
        "exceptions:\n  - control: no-such-control\n    reason: r\n    expires: 2030-01-01\n",
    );
    let output = rampart(
        &["audit", "k8s", "--exceptions", "bad-exceptions.yaml"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-control"), "{stderr}");
}

#[test]
fn framework_selects_controls_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "k8s/pod.yaml", PRIVILEGED_POD);
    let args = [
        "audit",
        "k8s",
        "--framework",
        "pss-baseline",
        "-o",
        "json=out.json",
    ];
    let output = rampart(&args, dir.path());
    assert_eq!(output.status.code(), Some(0));
    let report = report(&dir.path().join("out.json"));
    let frameworks = report["frameworks"].as_array().unwrap();
    assert_eq!(frameworks.len(), 1);
    assert_eq!(frameworks[0]["id"], "pss-baseline");
    assert!(frameworks[0]["score"].as_f64().unwrap() < 100.0);
    let controls = controls_of(&report, "priv");
    assert_eq!(controls, ["pss-privileged"], "only baseline PSS controls");

    let output = rampart(&["audit", "k8s", "--framework", "soc2"], dir.path());
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn rbac_who_can_lists_grants() {
    let dir = tempfile::tempdir().unwrap();
    let rbac = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- apiGroups: [\"\"]
  resources: [secrets]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-secrets, namespace: apps}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: builder, namespace: ci}
";
    write(dir.path(), "rbac.yaml", rbac);
    let args = [
        "audit",
        "rbac",
        "--who-can",
        "get",
        "secrets",
        "-n",
        "apps",
        "rbac.yaml",
    ];
    let output = rampart(&args, dir.path());
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("ServiceAccount ci/builder"), "{stdout}");
    assert!(stdout.contains("RoleBinding apps/read-secrets"), "{stdout}");

    let args = [
        "audit",
        "rbac",
        "--who-can",
        "get",
        "secrets",
        "-n",
        "other",
        "rbac.yaml",
    ];
    let output = rampart(&args, dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("No subject"),
        "a RoleBinding grants only in its namespace: {stdout}"
    );
}

#[test]
fn list_controls_names_mappings() {
    let dir = tempfile::tempdir().unwrap();
    let output = rampart(&["audit", "--list-controls"], dir.path());
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("container-runtime-socket"), "{stdout}");
    assert!(stdout.contains("T1611"), "{stdout}");
    assert!(stdout.contains("CIS 5.2.2"), "{stdout}");
}
