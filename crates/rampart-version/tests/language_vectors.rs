//! Runs every row of the upstream PEP 440 and SemVer vectors copied into
//! `tests/vectors/` (origins in `tests/vectors/README.md`), and checks the Go
//! order against the version table of `golang.org/x/mod/semver`'s tests.

use std::cmp::Ordering;

use rampart_version::pep440::Pep440Version;
use rampart_version::semver::SemverVersion;
use rampart_version::{go, pep440, semver};

mod common;

use common::{check_comparisons, read_vector, rows};

fn json_cases(name: &str) -> Vec<serde_json::Value> {
    let document: serde_json::Value = serde_json::from_str(&read_vector(name))
        .unwrap_or_else(|error| panic!("{name} is not valid JSON: {error}"));
    match document.get("cases").and_then(serde_json::Value::as_array) {
        Some(cases) => cases.clone(),
        None => panic!("{name} has no \"cases\" array"),
    }
}

#[test]
fn pep440_comparison_vectors() {
    let count = check_comparisons("pep440.tsv", pep440::compare);
    assert_eq!(count, 6350, "pep440.tsv row count changed");
}

#[test]
fn pep440_normalization_vectors() {
    let cases = json_cases("pep440-normalize.json");
    let mut failures = Vec::new();
    for case in &cases {
        let (Some(input), Some(expected)) = (
            case.get("input").and_then(serde_json::Value::as_str),
            case.get("normalized").and_then(serde_json::Value::as_str),
        ) else {
            failures.push(format!("case {case} lacks a string input or normalized"));
            continue;
        };
        match input.parse::<Pep440Version>() {
            Ok(version) if version.to_string() == expected => {}
            Ok(version) => failures.push(format!(
                "{input:?} normalized to {:?}, expected {expected:?}",
                version.to_string()
            )),
            Err(error) => failures.push(format!("{input:?} was rejected: {error}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(cases.len(), 76, "pep440-normalize.json case count changed");
}

#[test]
fn pep440_invalid_vectors() {
    let cases = json_cases("pep440-invalid.json");
    let mut failures = Vec::new();
    for case in &cases {
        let Some(input) = case.get("input").and_then(serde_json::Value::as_str) else {
            failures.push(format!("case {case} lacks a string input"));
            continue;
        };
        if let Ok(version) = input.parse::<Pep440Version>() {
            failures.push(format!("{input:?} was accepted as {version}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(cases.len(), 15, "pep440-invalid.json case count changed");
}

#[test]
fn semver_comparison_vectors() {
    let count = check_comparisons("semver.tsv", semver::compare);
    assert_eq!(count, 57, "semver.tsv row count changed");
}

#[test]
fn semver_validity_vectors() {
    let rows = rows("semver-valid.tsv");
    let mut failures = Vec::new();
    for (line, columns) in &rows {
        let [version, expected] = columns.as_slice() else {
            failures.push(format!(
                "semver-valid.tsv:{line}: expected 2 columns, found {columns:?}"
            ));
            continue;
        };
        let result = version.parse::<SemverVersion>();
        match (expected.as_str(), &result) {
            ("valid", Ok(parsed)) if parsed.to_string() == *version => {}
            ("valid", Ok(parsed)) => failures.push(format!(
                "semver-valid.tsv:{line}: {version:?} displays as {parsed}"
            )),
            ("valid", Err(error)) => failures.push(format!("semver-valid.tsv:{line}: {error}")),
            ("invalid", Err(_)) => {}
            ("invalid", Ok(_)) => {
                failures.push(format!("semver-valid.tsv:{line}: {version:?} was accepted"))
            }
            (other, _) => failures.push(format!(
                "semver-valid.tsv:{line}: unknown expectation {other:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    assert_eq!(rows.len(), 9, "semver-valid.tsv row count changed");
}

/// The `tests` table of `semver/semver_test.go` in golang/mod at commit
/// 8b446299501e373f4d7a7d8869d5646e9bfb2e96: each input with its canonical
/// form, `""` for invalid input. `TestCompare` there expects inputs with the
/// same canonical form to compare equal and the others to follow table
/// order.
const GO_TABLE: [(&str, &str); 32] = [
    ("bad", ""),
    ("v1-alpha.beta.gamma", ""),
    ("v1-pre", ""),
    ("v1+meta", ""),
    ("v1-pre+meta", ""),
    ("v1.2-pre", ""),
    ("v1.2+meta", ""),
    ("v1.2-pre+meta", ""),
    ("v1.0.0-alpha", "v1.0.0-alpha"),
    ("v1.0.0-alpha.1", "v1.0.0-alpha.1"),
    ("v1.0.0-alpha.beta", "v1.0.0-alpha.beta"),
    ("v1.0.0-beta", "v1.0.0-beta"),
    ("v1.0.0-beta.2", "v1.0.0-beta.2"),
    ("v1.0.0-beta.11", "v1.0.0-beta.11"),
    ("v1.0.0-rc.1", "v1.0.0-rc.1"),
    ("v1", "v1.0.0"),
    ("v1.0", "v1.0.0"),
    ("v1.0.0", "v1.0.0"),
    ("v1.2", "v1.2.0"),
    ("v1.2.0", "v1.2.0"),
    ("v1.2.3-456", "v1.2.3-456"),
    ("v1.2.3-456.789", "v1.2.3-456.789"),
    ("v1.2.3-456-789", "v1.2.3-456-789"),
    ("v1.2.3-456a", "v1.2.3-456a"),
    ("v1.2.3-pre", "v1.2.3-pre"),
    ("v1.2.3-pre+meta", "v1.2.3-pre"),
    ("v1.2.3-pre.1", "v1.2.3-pre.1"),
    ("v1.2.3-zzz", "v1.2.3-zzz"),
    ("v1.2.3", "v1.2.3"),
    ("v1.2.3+meta", "v1.2.3"),
    ("v1.2.3+meta-pre", "v1.2.3"),
    ("v1.2.3+meta-pre.sha.256a", "v1.2.3"),
];

#[test]
fn go_validity_and_canonical_table() {
    let mut failures = Vec::new();
    for (input, canonical) in GO_TABLE {
        match (input.parse::<go::GoVersion>(), canonical) {
            (Err(_), "") => {}
            (Ok(version), "") => failures.push(format!("{input:?} was accepted as {version}")),
            (Ok(version), expected) if version.canonical() == expected => {}
            (Ok(version), expected) => failures.push(format!(
                "{input:?} canonical {:?}, expected {expected:?}",
                version.canonical()
            )),
            (Err(error), _) => failures.push(format!("{input:?} was rejected: {error}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn go_order_table() {
    let valid: Vec<(usize, &str, &str)> = GO_TABLE
        .iter()
        .enumerate()
        .filter(|(_, (_, canonical))| !canonical.is_empty())
        .map(|(index, (input, canonical))| (index, *input, *canonical))
        .collect();
    let mut failures = Vec::new();
    for &(i, a, canonical_a) in &valid {
        for &(j, b, canonical_b) in &valid {
            let expected = if canonical_a == canonical_b {
                Ordering::Equal
            } else {
                i.cmp(&j)
            };
            match go::compare(a, b) {
                Ok(ordering) if ordering == expected => {}
                Ok(ordering) => failures.push(format!(
                    "compare({a:?}, {b:?}) = {ordering:?}, expected {expected:?}"
                )),
                Err(error) => failures.push(format!("compare({a:?}, {b:?}) failed: {error}")),
            }
        }
    }
    // The extra cases of `TestCompare`.
    for (a, b, expected) in [
        ("v1", "v1", Ordering::Equal),
        ("v2", "v1", Ordering::Greater),
        ("v1", "v2", Ordering::Less),
        ("v1.19", "v1.2", Ordering::Greater),
    ] {
        match go::compare(a, b) {
            Ok(ordering) if ordering == expected => {}
            Ok(ordering) => failures.push(format!(
                "compare({a:?}, {b:?}) = {ordering:?}, expected {expected:?}"
            )),
            Err(error) => failures.push(format!("compare({a:?}, {b:?}) failed: {error}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} pairs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Go module versions in ascending order: a pseudo-version before the
/// first tag, a pseudo-version after `v0.3.0` (form `vX.Y.(Z+1)-0.`), a
/// pseudo-version after a pre-release tag (form `-pre.0.`), releases, and a
/// `+incompatible` major version.
#[test]
fn go_module_versions_ascending() {
    let ascending = [
        "v0.0.0-20170915032832-14c0d48ead0c",
        "v0.0.0-20191109021931-daa7c04131f5",
        "v0.3.0",
        "v0.3.1-0.20190429073117-b5426c86b553",
        "v0.3.1",
        "v1.5.2",
        "v1.6.0-rc.1",
        "v1.6.0-rc.1.0.20200101000000-0123456789ab",
        "v1.6.0",
        "v2.0.0+incompatible",
        "v2.0.1+incompatible",
    ];
    let mut failures = Vec::new();
    for (i, a) in ascending.iter().enumerate() {
        for (j, b) in ascending.iter().enumerate() {
            match go::compare(a, b) {
                Ok(ordering) if ordering == i.cmp(&j) => {}
                Ok(ordering) => failures.push(format!(
                    "compare({a:?}, {b:?}) = {ordering:?}, expected {:?}",
                    i.cmp(&j)
                )),
                Err(error) => failures.push(format!("compare({a:?}, {b:?}) failed: {error}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} pairs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
