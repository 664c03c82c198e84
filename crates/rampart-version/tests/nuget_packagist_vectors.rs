//! Runs the NuGet.Versioning and composer/semver test vectors copied into
//! `tests/vectors/` (origins in `tests/vectors/README.md`). Each test checks
//! every case, collects all mismatches and prints them before failing.

use std::cmp::Ordering;

use rampart_version::nuget::{self, NuGetVersion};
use rampart_version::packagist::{self, PackagistVersion};
use serde_json::Value;

mod common;

use common::{read_vector, rows};

fn json_document(name: &str) -> Value {
    serde_json::from_str(&read_vector(name))
        .unwrap_or_else(|error| panic!("{name} is not valid JSON: {error}"))
}

fn json_array(document: &Value, name: &str, key: &str) -> Vec<Value> {
    match document.get(key).and_then(Value::as_array) {
        Some(cases) => cases.clone(),
        None => panic!("{name} has no {key:?} array"),
    }
}

fn string_field<'a>(case: &'a Value, key: &str) -> Option<&'a str> {
    case.get(key).and_then(Value::as_str)
}

fn assert_no_failures(name: &str, failures: &[String], total: usize) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases in {name} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn nuget_comparison_vectors() {
    let name = "nuget.tsv";
    let rows = rows(name);
    let mut failures = Vec::new();
    for (line, columns) in &rows {
        let [a, relation, b] = columns.as_slice() else {
            failures.push(format!(
                "{name}:{line}: expected 3 columns, found {columns:?}"
            ));
            continue;
        };
        let (forward, backward) = match (nuget::compare(a, b), nuget::compare(b, a)) {
            (Ok(forward), Ok(backward)) => (forward, backward),
            (Err(error), _) | (_, Err(error)) => {
                failures.push(format!("{name}:{line}: {error}"));
                continue;
            }
        };
        let relation_true = match relation.as_str() {
            "<" => forward == Ordering::Less && backward == Ordering::Greater,
            "=" => forward == Ordering::Equal && backward == Ordering::Equal,
            "!=" => forward != Ordering::Equal && backward == forward.reverse(),
            other => {
                failures.push(format!("{name}:{line}: unknown relation {other:?}"));
                continue;
            }
        };
        if !relation_true {
            failures.push(format!(
                "{name}:{line}: expected {a:?} {relation} {b:?}, compare gave {forward:?} and reversed {backward:?}"
            ));
        }
    }
    assert_no_failures(name, &failures, rows.len());
    assert_eq!(rows.len(), 54, "{name} row count changed");
}

/// Checks one parse case's optional `numbers`, `release`, `metadata`,
/// `full` and `prerelease` fields against the parsed version.
fn nuget_parse_mismatches(case: &Value, input: &str, version: &NuGetVersion) -> Vec<String> {
    let mut mismatches = Vec::new();

    if let Some(expected) = case.get("numbers").and_then(Value::as_array) {
        let expected: Vec<u64> = expected.iter().filter_map(Value::as_u64).collect();
        let actual: Vec<u64> = version.numbers().iter().map(|&n| u64::from(n)).collect();
        if actual.get(..expected.len()) != Some(expected.as_slice()) {
            mismatches.push(format!(
                "{input:?}: numbers {actual:?}, expected {expected:?}"
            ));
        }
    }
    if let Some(expected) = string_field(case, "release") {
        let actual = version.release_labels().join(".");
        if actual != expected {
            mismatches.push(format!(
                "{input:?}: release {actual:?}, expected {expected:?}"
            ));
        }
    }
    if let Some(expected) = string_field(case, "metadata") {
        let actual = version.metadata().join(".");
        if actual != expected {
            mismatches.push(format!(
                "{input:?}: metadata {actual:?}, expected {expected:?}"
            ));
        }
    }
    if let Some(expected) = string_field(case, "full") {
        let actual = version.to_string();
        if actual != expected {
            mismatches.push(format!(
                "{input:?}: full string {actual:?}, expected {expected:?}"
            ));
        }
    }
    if let Some(expected) = case.get("prerelease").and_then(Value::as_bool)
        && version.is_prerelease() != expected
    {
        mismatches.push(format!("{input:?}: prerelease is not {expected}"));
    }
    mismatches
}

#[test]
fn nuget_parse_vectors() {
    let name = "nuget-parse.json";
    let cases = json_array(&json_document(name), name, "cases");
    let mut failures = Vec::new();
    for case in &cases {
        let Some(input) = string_field(case, "input") else {
            failures.push(format!("case {case} lacks a string input"));
            continue;
        };
        match NuGetVersion::parse(input) {
            Ok(version) => failures.extend(nuget_parse_mismatches(case, input, &version)),
            Err(error) => failures.push(format!("{input:?} was rejected: {error}")),
        }
    }
    assert_no_failures(name, &failures, cases.len());
    assert_eq!(cases.len(), 104, "{name} case count changed");
}

#[test]
fn nuget_invalid_vectors() {
    let name = "nuget-invalid.json";
    let cases = json_array(&json_document(name), name, "cases");
    let mut failures = Vec::new();
    for case in &cases {
        let Some(input) = string_field(case, "input") else {
            failures.push(format!("case {case} lacks a string input"));
            continue;
        };
        if let Ok(version) = NuGetVersion::parse(input) {
            failures.push(format!("{input:?} was accepted as {version}"));
        }
    }
    assert_no_failures(name, &failures, cases.len());
    assert_eq!(cases.len(), 92, "{name} case count changed");
}

#[test]
fn packagist_normalize_vectors() {
    let name = "packagist-normalize.json";
    let document = json_document(name);
    let cases = json_array(&document, name, "normalize");
    let mut failures = Vec::new();
    for case in &cases {
        let (Some(input), Some(expected)) = (
            string_field(case, "input"),
            string_field(case, "normalized"),
        ) else {
            failures.push(format!("case {case} lacks a string input or normalized"));
            continue;
        };
        match packagist::normalize(input) {
            Ok(normalized) if normalized == expected => {}
            Ok(normalized) => failures.push(format!(
                "{input:?} normalized to {normalized:?}, expected {expected:?}"
            )),
            Err(error) => failures.push(format!("{input:?} was rejected: {error}")),
        }
    }
    assert_no_failures(name, &failures, cases.len());
    assert_eq!(cases.len(), 71, "{name} normalize case count changed");
}

#[test]
fn packagist_invalid_vectors() {
    let name = "packagist-normalize.json";
    let cases = json_array(&json_document(name), name, "invalid");
    let mut failures = Vec::new();
    for case in &cases {
        let Some(input) = string_field(case, "input") else {
            failures.push(format!("case {case} lacks a string input"));
            continue;
        };
        if let Ok(normalized) = packagist::normalize(input) {
            failures.push(format!("{input:?} was accepted as {normalized:?}"));
        }
    }
    assert_no_failures(name, &failures, cases.len());
    assert_eq!(cases.len(), 21, "{name} invalid case count changed");
}

#[test]
fn packagist_normalize_branch_vectors() {
    let name = "packagist-normalize.json";
    let cases = json_array(&json_document(name), name, "normalize_branch");
    let mut failures = Vec::new();
    for case in &cases {
        let (Some(input), Some(expected)) = (
            string_field(case, "input"),
            string_field(case, "normalized"),
        ) else {
            failures.push(format!("case {case} lacks a string input or normalized"));
            continue;
        };
        let normalized = packagist::normalize_branch(input);
        if normalized != expected {
            failures.push(format!(
                "{input:?} normalized to {normalized:?}, expected {expected:?}"
            ));
        }
    }
    assert_no_failures(name, &failures, cases.len());
    assert_eq!(
        cases.len(),
        13,
        "{name} normalize_branch case count changed"
    );
}

/// Evaluates `Comparator::compare(a, operator, b)`: two different branches
/// have no order, so only `!=` (and its spelling `<>`) is true for them.
fn comparator_result(order: Option<Ordering>, operator: &str) -> Option<bool> {
    let result = match (operator, order) {
        ("==" | "=", order) => order == Some(Ordering::Equal),
        ("!=" | "<>", order) => order != Some(Ordering::Equal),
        ("<", order) => order == Some(Ordering::Less),
        ("<=", order) => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        (">", order) => order == Some(Ordering::Greater),
        (">=", order) => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
        _ => return None,
    };
    Some(result)
}

#[test]
fn packagist_comparator_vectors() {
    let name = "packagist-comparator.tsv";
    let rows = rows(name);
    let mut failures = Vec::new();
    for (line, columns) in &rows {
        let [a, operator, b, expected] = columns.as_slice() else {
            failures.push(format!(
                "{name}:{line}: expected 4 columns, found {columns:?}"
            ));
            continue;
        };
        let (first, second) = match (PackagistVersion::parse(a), PackagistVersion::parse(b)) {
            (Ok(first), Ok(second)) => (first, second),
            (Err(error), _) | (_, Err(error)) => {
                failures.push(format!("{name}:{line}: {error}"));
                continue;
            }
        };
        let Some(result) = comparator_result(first.partial_cmp(&second), operator) else {
            failures.push(format!("{name}:{line}: unknown operator {operator:?}"));
            continue;
        };
        if result.to_string() != *expected {
            failures.push(format!(
                "{name}:{line}: {a:?} {operator} {b:?} is {result}, expected {expected}"
            ));
        }
    }
    assert_no_failures(name, &failures, rows.len());
    assert_eq!(rows.len(), 57, "{name} row count changed");
}
