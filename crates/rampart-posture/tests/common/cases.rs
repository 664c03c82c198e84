//! Cases rebuilt from public bug reports of peer tools: each folder contains
//! small manifests and an `expected.json` that states which findings must
//! and must not be reported.
//!
//! A finding pattern names the control (`check`) and any of `kind`,
//! `namespace`, `name`, `container` and `path` (the field path), which must
//! match exactly, and `env` or `capability`, which the finding's message
//! must name as a whole word. `pss_level` maps an object name to
//! `violates baseline` or `violates restricted`.

use std::path::{Path, PathBuf};

use rampart_posture::{AuditOptions, Finding, Object, PssLevel, audit, parse_manifests};
use serde_json::{Map, Value};

/// Reads every manifest in the case folder `dir` (all `.yaml`, `.yml` and
/// `.json` files but `expected.json`).
pub fn read_inputs(dir: &Path) -> Vec<Object> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let manifest = [".yaml", ".yml", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext));
            manifest && name != "expected.json"
        })
        .collect();
    files.sort();

    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
        let source = file.display().to_string();
        let manifests = parse_manifests(&text, &source).unwrap_or_else(|error| panic!("{error}"));
        assert!(
            manifests.invalid.is_empty(),
            "{source}: {:?}",
            manifests.invalid
        );
        objects.extend(manifests.objects);
    }
    objects
}

/// Reads the `expected.json` of the case folder `dir`.
pub fn read_expected(dir: &Path) -> Value {
    let path = dir.join("expected.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{}: invalid JSON: {error}", path.display()))
}

/// Audits the case in `dir` with default options and returns what breaks
/// its `expected.json`, one line each.
pub fn check_case(dir: &Path) -> Vec<String> {
    let objects = read_inputs(dir);
    assert!(!objects.is_empty(), "{}: no objects", dir.display());
    check_expected(&objects, &read_expected(dir))
}

/// Audits `objects` with default options and returns what breaks
/// `expected`, one line each.
pub fn check_expected(objects: &[Object], expected: &Value) -> Vec<String> {
    let result = audit(objects, &AuditOptions::default());
    let findings = &result.findings;

    let mut problems = Vec::new();
    for pattern in patterns(expected, "findings_must_include") {
        if !findings.iter().any(|finding| matches(finding, pattern)) {
            problems.push(format!(
                "missing finding {}",
                Value::Object(pattern.clone())
            ));
        }
    }
    for pattern in patterns(expected, "findings_must_not_include") {
        for finding in findings.iter().filter(|finding| matches(finding, pattern)) {
            problems.push(format!(
                "unexpected finding {} {} {:?}: {}",
                finding.control.id,
                finding.resource.display(),
                finding.field,
                finding.message
            ));
        }
    }
    let levels = expected.get("pss_level").and_then(Value::as_object);
    for (name, verdict) in levels.into_iter().flatten() {
        let verdict = verdict.as_str().unwrap_or_default();
        let in_level = |level: Option<PssLevel>| match verdict {
            "violates baseline" => level == Some(PssLevel::Baseline),
            "violates restricted" => level.is_some(),
            other => panic!("unknown pss_level verdict {other:?}"),
        };
        let violates = findings
            .iter()
            .any(|finding| finding.resource.name == *name && in_level(finding.control.pss_level));
        if !violates {
            problems.push(format!("{name} should {verdict}, but has no such finding"));
        }
    }
    problems
}

fn patterns<'a>(expected: &'a Value, list: &str) -> Vec<&'a Map<String, Value>> {
    let entries = expected.get(list).and_then(Value::as_array);
    entries
        .into_iter()
        .flatten()
        .map(|entry| {
            entry
                .as_object()
                .unwrap_or_else(|| panic!("{list} entry is not an object: {entry}"))
        })
        .collect()
}

/// Returns whether `finding` has every property `pattern` names.
fn matches(finding: &Finding, pattern: &Map<String, Value>) -> bool {
    pattern.iter().all(|(key, value)| {
        let value = value
            .as_str()
            .unwrap_or_else(|| panic!("pattern value {key} is not a string"));
        match key.as_str() {
            "check" => finding.control.id == value,
            "kind" => finding.resource.kind == value,
            "namespace" => finding.resource.namespace.as_deref() == Some(value),
            "name" => finding.resource.name == value,
            "container" => finding.container.as_deref() == Some(value),
            "path" => finding.field.as_deref() == Some(value),
            "env" | "capability" => names_word(&finding.message, value),
            other => panic!("unknown finding pattern key {other:?}"),
        }
    })
}

fn names_word(message: &str, word: &str) -> bool {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|token| token == word)
}
