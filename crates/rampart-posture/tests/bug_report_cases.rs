//! Cases rebuilt from public bug reports of peer tools (the folders under
//! `tests/fixtures/cases`): the audit reports the findings each case
//! requires and none of those it forbids.

mod common;

use std::path::{Path, PathBuf};

use common::cases::{check_case, check_expected, read_expected, read_inputs};
use serde_json::json;

fn fixture_cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases");
    let entries = std::fs::read_dir(&root)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", root.display()));
    let mut dirs: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.join("expected.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cases")
        .join(name)
}

#[test]
fn fixture_cases_hold() {
    let dirs = fixture_cases();
    let names: Vec<String> = dirs
        .iter()
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"kube-linter-72-env-secretkeyref".to_owned()));
    assert!(names.contains(&"kubescape-734-privileged-initcontainer".to_owned()));

    let mut problems = Vec::new();
    for (dir, name) in dirs.iter().zip(&names) {
        for problem in check_case(dir) {
            problems.push(format!("{name}: {problem}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The copies under `tests/fixtures/cases` against the shared originals,
/// so that a case corrected upstream is noticed.
#[test]
fn shared_cases_hold() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let shared = corpus.join("../cases");
    for dir in fixture_cases() {
        let name = dir.file_name().unwrap();
        let original = shared.join(name);
        assert!(original.is_dir(), "{} is missing", original.display());
        let problems = check_case(&original);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert_eq!(
            read_expected(&dir),
            read_expected(&original),
            "{} differs from the shared case",
            dir.display()
        );
    }
}

#[test]
fn secret_key_ref_not_literal() {
    let dir = case_dir("kube-linter-72-env-secretkeyref");
    let objects = read_inputs(&dir);

    // The literal in the sidecar is one finding at its exact path, and the
    // secretKeyRef variables are reported only as secrets in environment
    // variables, a lower severity.
    let wrong_path = json!({"findings_must_include": [{
        "check": "secret-in-env-literal",
        "container": "sidecar",
        "path": "spec.template.spec.containers[1].env[1].value",
    }]});
    assert_eq!(check_expected(&objects, &wrong_path).len(), 1);

    let forbid_literal = json!({"findings_must_not_include": [{
        "check": "secret-in-env-literal",
        "env": "DB_PASSWORD",
    }]});
    assert_eq!(check_expected(&objects, &forbid_literal).len(), 1);

    let as_env = json!({"findings_must_include": [
        {"check": "secret-as-env-var", "container": "app", "env": "AWS_ACCESS_KEY_ID",
         "path": "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef"},
        {"check": "secret-as-env-var", "container": "app", "env": "AWS_ACCESS_KEY_SECRET",
         "path": "spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef"},
    ]});
    let problems = check_expected(&objects, &as_env);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn privileged_init_container_pss() {
    let dir = case_dir("kubescape-734-privileged-initcontainer");
    let objects = read_inputs(&dir);

    let pss = json!({"findings_must_include": [
        {"check": "pss-privileged", "kind": "Pod", "name": "init-priv", "container": "setup",
         "path": "spec.initContainers[0].securityContext.privileged"},
        {"check": "pss-capabilities_baseline", "kind": "Deployment", "name": "init-sysadmin",
         "container": "tune",
         "path": "spec.template.spec.initContainers[0].securityContext.capabilities.add"},
    ]});
    let problems = check_expected(&objects, &pss);
    assert!(problems.is_empty(), "{problems:?}");

    let app_clean = json!({"findings_must_not_include": [
        {"check": "pss-privileged", "container": "app"},
        {"check": "added-dangerous-capability", "container": "app"},
    ]});
    let problems = check_expected(&objects, &app_clean);
    assert!(problems.is_empty(), "{problems:?}");
}
