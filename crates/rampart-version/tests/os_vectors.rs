//! Runs the upstream dpkg, rpm and apk-tools test vectors copied into
//! `tests/vectors/` (origins in `tests/vectors/README.md`). Each test checks
//! every row, collects all mismatches and prints them before failing.

use rampart_version::{apk, dpkg, rpm};
use serde_json::Value;

mod common;

use common::{check_comparisons, read_vector};

#[test]
fn dpkg_compare_vectors() {
    let count = check_comparisons("dpkg.tsv", dpkg::compare);
    assert_eq!(count, 40);
}

#[test]
fn rpm_rpmvercmp_vectors() {
    let count = check_comparisons("rpm.tsv", |a, b| Ok(rpm::rpmvercmp(a, b)));
    assert_eq!(count, 68);
}

/// The rpm rows contain no `:` or `-`, so they also hold for the EVR compare.
#[test]
fn rpm_evr_compare_vectors() {
    let count = check_comparisons("rpm.tsv", rpm::compare);
    assert_eq!(count, 68);
}

#[test]
fn apk_compare_vectors() {
    let count = check_comparisons("apk.tsv", apk::compare);
    assert_eq!(count, 538);
}

#[test]
fn apk_validity_vectors() {
    let name = "apk-validity.tsv";
    let text = read_vector(name);
    let rows = rows_keeping_empty_version(&text);
    let mut failures = Vec::new();

    for (line, version, expected) in &rows {
        let result = apk::validate(version);
        let valid = match *expected {
            "valid" => true,
            "invalid" => false,
            other => {
                failures.push(format!("{name}:{line}: unknown expectation {other:?}"));
                continue;
            }
        };
        if result.is_ok() != valid {
            failures.push(format!(
                "{name}:{line}: validate({version:?}) = {result:?}, expected {expected}"
            ));
        }
        if valid != version.parse::<apk::ApkVersion>().is_ok() {
            failures.push(format!(
                "{name}:{line}: ApkVersion::parse({version:?}) disagrees with validate"
            ));
        }
    }

    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    assert_eq!(rows.len(), 23);
}

/// Splits `version<TAB>expect` rows. The empty version has an empty first
/// column, so the line starts with a tab and must not be trimmed away.
fn rows_keeping_empty_version(text: &str) -> Vec<(usize, &str, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.is_empty())
        .filter_map(|(index, line)| {
            line.split_once('\t')
                .map(|(version, expected)| (index + 1, version, expected))
        })
        .collect()
}

#[test]
fn dpkg_parse_vectors() {
    let name = "dpkg-parse.json";
    let document: Value = match serde_json::from_str(&read_vector(name)) {
        Ok(document) => document,
        Err(error) => panic!("{name} is not valid JSON: {error}"),
    };
    let Some(cases) = document["cases"].as_array() else {
        panic!("{name} has no \"cases\" array");
    };
    let mut failures = Vec::new();

    for (index, case) in cases.iter().enumerate() {
        let Some(input) = case["input"].as_str() else {
            failures.push(format!("{name} case {index}: missing input"));
            continue;
        };
        let lenient = dpkg::DpkgVersion::parse_lenient(input);
        let strict = dpkg::DpkgVersion::parse(input);

        match (case["ok"].as_bool(), case["severity"].as_str()) {
            (Some(true), _) => match &strict {
                Ok(version) => {
                    let fields = (
                        Some(u64::from(version.epoch)),
                        Some(version.upstream.as_str()),
                        Some(version.revision.as_str()),
                    );
                    let expected = (
                        case["epoch"].as_u64(),
                        case["upstream"].as_str(),
                        case["revision"].as_str(),
                    );
                    if fields != expected {
                        failures.push(format!("{name} case {index}: parse({input:?}) = {fields:?}, expected {expected:?}"));
                    }
                }
                Err(error) => failures.push(format!(
                    "{name} case {index}: parse({input:?}) failed: {error}"
                )),
            },
            (Some(false), Some("error")) => {
                if lenient.is_ok() {
                    failures.push(format!(
                        "{name} case {index}: parse_lenient({input:?}) succeeded, expected an error"
                    ));
                }
            }
            (Some(false), Some("warning")) => {
                if let Err(error) = &lenient {
                    failures.push(format!(
                        "{name} case {index}: parse_lenient({input:?}) failed on a warning: {error}"
                    ));
                }
                if strict.is_ok() {
                    failures.push(format!(
                        "{name} case {index}: parse({input:?}) succeeded, expected a warning"
                    ));
                }
            }
            other => failures.push(format!(
                "{name} case {index}: unknown expectation {other:?}"
            )),
        }
    }

    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(cases.len(), 60);
}
