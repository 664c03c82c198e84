//! `rampart audit` end to end through the built binary.
//!
//! The `outputs_*` tests cover the output formats: line numbers in JSON and
//! SARIF, JUnit counts, one PolicyReport per namespace, `--fail-on` and
//! exceptions as SARIF suppressions. They audit manifests written here: a
//! privileged Deployment in `prod` and, in a second file after an empty
//! document, a host-network Pod in `dev`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rampart_testkit::xml;
use serde_json::Value;

const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: registry.example/web:1.0
        securityContext:
          privileged: true
";

/// Line of `privileged: true` in [`WEB`].
const PRIVILEGED_LINE: u64 = 17;

const DEV: &str = "\
---
# Source: chart/templates/disabled.yaml
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: dev
spec:
  hostNetwork: true
  containers:
  - name: shell
    image: busybox:1.36
";

/// Line of `hostNetwork: true` in [`DEV`].
const HOST_NETWORK_LINE: u64 = 10;

const EXCEPTIONS: &str = "\
exceptions:
  - control: host-network
    namespace: dev
    kind: Pod
    name: debug
    reason: the debug pod inspects the node's network
    expires: 2099-12-31
";

/// Writes the manifests under `dir/k8s` and the exceptions file.
fn write_fixture(dir: &Path) {
    std::fs::create_dir_all(dir.join("k8s")).unwrap();
    std::fs::write(dir.join("k8s/web.yaml"), WEB).unwrap();
    std::fs::write(dir.join("k8s/dev.yaml"), DEV).unwrap();
    std::fs::write(dir.join("exceptions.yaml"), EXCEPTIONS).unwrap();
}

fn rampart(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn audit_output(dir: &Path, format: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "audit",
        "k8s",
        "-o",
        format,
        "--timestamp",
        "2026-01-02T03:04:05Z",
    ];
    args.extend_from_slice(extra);
    rampart(&args, dir)
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

fn schemas() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rampart-report/tests/schemas")
}

fn sarif_result<'a>(document: &'a Value, rule: &str) -> &'a Value {
    document["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["ruleId"] == rule)
        .unwrap_or_else(|| panic!("no {rule} result"))
}

#[test]
fn outputs_json_has_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let document = json(&stdout(&audit_output(dir.path(), "json", &[])));
    let findings = document["findings"].as_array().unwrap();

    let privileged = findings
        .iter()
        .find(|finding| finding["control"] == "privileged-container")
        .unwrap();
    assert_eq!(privileged["location"]["source"], "k8s/web.yaml");
    assert_eq!(privileged["location"]["line"], PRIVILEGED_LINE);
    assert_eq!(privileged["location"]["column"], 11);

    // The explicit document that holds only a comment counts, as it does
    // for a reader who counts `---` markers; the text before the first
    // marker does not.
    let host_network = findings
        .iter()
        .find(|finding| finding["control"] == "host-network")
        .unwrap();
    assert_eq!(host_network["location"]["source"], "k8s/dev.yaml");
    assert_eq!(host_network["location"]["document"], 2);
    assert_eq!(host_network["location"]["line"], HOST_NETWORK_LINE);

    // Findings about a namespace that no object declares have no location.
    for finding in findings
        .iter()
        .filter(|f| f["resource"]["kind"] != "Namespace")
    {
        assert!(
            finding["location"]["line"]
                .as_u64()
                .is_some_and(|line| line > 0),
            "{finding}"
        );
    }
}

#[test]
fn outputs_table_shows_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let table = stdout(&audit_output(dir.path(), "table", &[]));
    assert!(
        table.contains(&format!("k8s/web.yaml:{PRIVILEGED_LINE}")),
        "{table}"
    );
}

#[test]
fn outputs_stdin_has_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["audit", "-", "-o", "json"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), WEB.as_bytes()).unwrap();
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    let document = json(&stdout(&output));
    let privileged = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["control"] == "privileged-container")
        .unwrap();
    assert_eq!(privileged["location"]["source"], "-");
    assert_eq!(privileged["location"]["line"], PRIVILEGED_LINE);
}

#[test]
fn outputs_sarif_start_line_of_privileged() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let text = stdout(&audit_output(dir.path(), "sarif", &[]));
    let document = json(&text);
    let result = sarif_result(&document, "privileged-container");
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "k8s/web.yaml");
    assert_eq!(physical["region"]["startLine"], PRIVILEGED_LINE);
    let line = WEB.lines().nth(PRIVILEGED_LINE as usize - 1).unwrap();
    assert_eq!(line.trim(), "privileged: true");
    assert_eq!(result["level"], "error");

    let schema: Value =
        json(&std::fs::read_to_string(schemas().join("sarif-schema-2.1.0.json")).unwrap());
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn outputs_sarif_exception_suppresses() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let without = json(&stdout(&audit_output(dir.path(), "sarif", &[])));
    assert!(
        sarif_result(&without, "host-network")
            .get("suppressions")
            .is_none()
    );

    let with = json(&stdout(&audit_output(
        dir.path(),
        "sarif",
        &["--exceptions", "exceptions.yaml"],
    )));
    let result = sarif_result(&with, "host-network");
    let suppression = &result["suppressions"][0];
    assert_eq!(suppression["kind"], "external");
    assert!(
        suppression["justification"]
            .as_str()
            .unwrap()
            .starts_with("the debug pod inspects the node's network"),
        "{suppression}"
    );
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(physical["region"]["startLine"], HOST_NETWORK_LINE);
    assert!(
        sarif_result(&with, "privileged-container")
            .get("suppressions")
            .is_none()
    );
}

#[test]
fn outputs_junit_counts() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let report = json(&stdout(&audit_output(dir.path(), "json", &[])));
    let text = stdout(&audit_output(dir.path(), "junit", &[]));
    let root = xml::parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    assert_eq!(root.name, "testsuites");

    let attribute = |element: &xml::Element, name: &str| -> u64 {
        element.attribute(name).unwrap().parse().unwrap()
    };
    let controls = report["controls"].as_array().unwrap();
    let evaluated: u64 = controls
        .iter()
        .map(|control| control["evaluated"].as_u64().unwrap())
        .sum();
    let failed: u64 = controls
        .iter()
        .map(|control| control["failed"].as_u64().unwrap())
        .sum();
    assert_eq!(attribute(&root, "tests"), evaluated);
    assert_eq!(attribute(&root, "failures"), failed);
    assert_eq!(attribute(&root, "errors"), 0);

    let privileged = root
        .children_named("testsuite")
        .find(|suite| suite.attribute("name") == Some("privileged-container"))
        .unwrap();
    // Both workloads were evaluated; only the Deployment failed.
    assert_eq!(attribute(privileged, "tests"), 2);
    assert_eq!(attribute(privileged, "failures"), 1);
    let passed = privileged
        .children_named("properties")
        .flat_map(|properties| properties.children_named("property"))
        .find(|property| property.attribute("name") == Some("passed"))
        .unwrap();
    assert_eq!(passed.attribute("value"), Some("1"));
    let case = privileged.children_named("testcase").next().unwrap();
    assert_eq!(case.attribute("name"), Some("Deployment/prod/web"));
    let failure = case.children_named("failure").next().unwrap();
    assert_eq!(failure.attribute("type"), Some("high"));
}

#[test]
fn outputs_policyreport_per_namespace() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let text = stdout(&audit_output(
        dir.path(),
        "policyreport",
        &["--exceptions", "exceptions.yaml"],
    ));
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let identities: Vec<(&str, Option<&str>)> = documents
        .iter()
        .map(|document| {
            (
                document["kind"].as_str().unwrap(),
                document["metadata"]["namespace"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        identities,
        vec![
            ("ClusterPolicyReport", None),
            ("PolicyReport", Some("dev")),
            ("PolicyReport", Some("prod")),
        ]
    );

    let prod = &documents[2];
    let privileged = prod["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["policy"] == "privileged-container")
        .unwrap();
    assert_eq!(privileged["result"], "fail");
    assert_eq!(privileged["severity"], "high");
    assert_eq!(privileged["resources"][0]["name"], "web");
    let dev = &documents[1];
    let host_network = dev["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["policy"] == "host-network")
        .unwrap();
    assert_eq!(host_network["result"], "skip");
    assert!(dev["summary"]["skip"].as_u64().unwrap() >= 1);
    assert!(prod["summary"]["pass"].as_u64().unwrap() > 0);
}

#[test]
fn outputs_fail_on_high_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let failed = audit_output(dir.path(), "sarif=report.sarif", &["--fail-on", "high"]);
    assert_eq!(
        failed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    // The outputs are written before the exit code is decided.
    let written = std::fs::read_to_string(dir.path().join("report.sarif")).unwrap();
    assert_eq!(
        sarif_result(&json(&written), "privileged-container")["level"],
        "error"
    );

    let passed = audit_output(dir.path(), "json", &["--fail-on", "critical"]);
    assert_eq!(
        passed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&passed.stderr)
    );
}

#[test]
fn outputs_unknown_format_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let output = audit_output(dir.path(), "xml", &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("policyreport"), "{stderr}");
}
