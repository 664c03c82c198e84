//! Agreement with upstream pod-security-admission on its own test
//! fixtures: each fixture is a Pod, and upstream allows or denies it at a
//! given level and policy version.

use std::collections::BTreeMap;
use std::path::Path;

use rampart_posture::{Level, PolicyVersion, Workload, evaluate, parse_manifests};

/// One row of a fixture manifest (path, level, version, expect, check).
struct Fixture {
    path: String,
    level: Level,
    version: PolicyVersion,
    expect_allow: bool,
    check: String,
}

fn read_manifest(root: &Path) -> Vec<Fixture> {
    let manifest = root.join("manifest.tsv");
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let mut fixtures = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.starts_with("path\t") || line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 5, "malformed manifest line {line:?}");
        fixtures.push(Fixture {
            path: fields[0].to_owned(),
            level: fields[1].parse().unwrap(),
            version: fields[2].parse().unwrap(),
            expect_allow: match fields[3] {
                "allow" => true,
                "deny" => false,
                other => panic!("unknown expectation {other:?} in {line:?}"),
            },
            check: fields[4].to_owned(),
        });
    }
    fixtures
}

/// Evaluates every fixture and returns the mismatches, as (check, path,
/// detail), after printing a per-check summary.
fn mismatches(root: &Path) -> (usize, Vec<(String, String, String)>) {
    let fixtures = read_manifest(root);
    let mut wrong = Vec::new();
    let mut per_check: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for fixture in &fixtures {
        let file = root.join(&fixture.path);
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let manifests = parse_manifests(&text, &fixture.path).unwrap();
        assert!(
            manifests.invalid.is_empty(),
            "{}: {:?}",
            fixture.path,
            manifests.invalid
        );
        let [Workload::Pod(pod)] = manifests.workloads().as_slice() else {
            panic!("{}: expected exactly one Pod", fixture.path);
        };
        let view = Workload::Pod(pod.clone());
        let violations = evaluate(&view.pod_view().unwrap(), fixture.level, fixture.version);
        let allowed = violations.is_empty();
        let entry = per_check.entry(&fixture.check).or_default();
        entry.0 += 1;
        if allowed != fixture.expect_allow {
            entry.1 += 1;
            let detail = if allowed {
                "rampart allows, upstream denies".to_owned()
            } else {
                let checks: Vec<String> = violations
                    .iter()
                    .map(|v| format!("{} at {}", v.check, v.path))
                    .collect();
                format!("rampart denies ({}), upstream allows", checks.join("; "))
            };
            wrong.push((fixture.check.clone(), fixture.path.clone(), detail));
        }
    }
    eprintln!("check: fixtures, mismatches");
    for (check, (total, bad)) in &per_check {
        eprintln!("  {check}: {total}, {bad}");
    }
    eprintln!(
        "agreement: {}/{}",
        fixtures.len() - wrong.len(),
        fixtures.len()
    );
    (fixtures.len(), wrong)
}

fn assert_agreement(root: &Path) -> usize {
    let (total, wrong) = mismatches(root);
    for (check, path, detail) in wrong.iter().take(40) {
        eprintln!("MISMATCH {check} {path}: {detail}");
    }
    assert!(
        wrong.is_empty(),
        "{} of {total} fixtures disagree with upstream",
        wrong.len()
    );
    total
}

#[test]
fn committed_fixtures_agree_with_upstream() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/psa");
    let total = assert_agreement(&root);
    assert!(total >= 100, "only {total} committed fixtures");
}

#[test]
fn corpus_fixtures_agree_with_upstream() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let total = assert_agreement(&corpus.join("vectors/psa"));
    assert_eq!(total, 3349, "the upstream fixture manifest changed size");
}
