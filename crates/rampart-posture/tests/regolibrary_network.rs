//! Agreement with Kubescape's regolibrary test cases for the rules that
//! the NetworkPolicy and admission controls share an intent with. Each
//! case's input objects are audited as a manifest set, and the number of
//! distinct resources that the mapped rampart controls report is compared
//! with the number of Kubescape findings in the case's `expected.json`
//! (each Kubescape finding names one object).
//!
//! The committed fixtures are copies of every case of these rules. The
//! corpus-tier test runs the same comparison over the corpus and checks
//! that the copies are complete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rampart_posture::{AuditOptions, Manifests, audit, parse_manifests};

/// Kubescape rule and the rampart controls whose findings it corresponds to.
const RULES: &[(&str, &[&str])] = &[
    (
        "ingress-and-egress-blocked",
        &["workload-not-selected-by-networkpolicy"],
    ),
    (
        "ensure_network_policy_configured_in_labels",
        &["workload-not-selected-by-networkpolicy"],
    ),
    (
        "internal-networking",
        &[
            "namespace-without-default-deny-ingress",
            "namespace-without-default-deny-egress",
        ],
    ),
    (
        "dangling-networkpolicy",
        &["networkpolicy-selects-no-workload"],
    ),
    ("list-all-validating-webhooks", WEBHOOK_CONTROLS),
    ("list-all-mutating-webhooks", WEBHOOK_CONTROLS),
    (
        "pod-security-admission-applied-1",
        &["namespace-without-pss-enforce"],
    ),
    (
        "pod-security-admission-applied-2",
        &["namespace-without-pss-enforce"],
    ),
    (
        "pod-security-admission-baseline-applied-1",
        &["namespace-without-pss-enforce"],
    ),
    (
        "pod-security-admission-baseline-applied-2",
        &["namespace-without-pss-enforce"],
    ),
    (
        "pod-security-admission-restricted-applied-1",
        &["namespace-pss-enforce-not-restricted"],
    ),
    (
        "pod-security-admission-restricted-applied-2",
        &["namespace-pss-enforce-not-restricted"],
    ),
];

const WEBHOOK_CONTROLS: &[&str] = &[
    "webhook-failure-policy-ignore",
    "webhook-excludes-workload-namespaces",
    "webhook-object-selector-opt-out",
];

/// Cases where rampart deliberately reports a different number of
/// findings: (rule, case, rampart's count, reason).
const DISAGREEMENTS: &[(&str, &str, usize, &str)] = &[
    (
        "ingress-and-egress-blocked",
        "cronjob",
        0,
        "the CronJob's pods use hostNetwork, which NetworkPolicy does not apply to",
    ),
    (
        "internal-networking",
        "namespace-ccnp-match-expressions-selective-failed",
        0,
        "the namespace runs no workload in the input, and the default-deny controls evaluate only namespaces with workloads",
    ),
    (
        "dangling-networkpolicy",
        "failed_dangling_matchlabels",
        0,
        "the input holds no workload in the policy's namespace, so a manifest set cannot show whether the selector matches pods defined elsewhere; a whole-cluster audit reports it",
    ),
    (
        "pod-security-admission-applied-2",
        "test",
        1,
        "Kubescape accepts any webhook whose rule scope is not Cluster as another policy mechanism; this one is a mutating webhook that adds labels, which enforces nothing",
    ),
    (
        "list-all-validating-webhooks",
        "test",
        0,
        "Kubescape lists every webhook configuration for manual review; rampart reports only webhooks that fail open or that namespaces or objects can skip",
    ),
    (
        "list-all-mutating-webhooks",
        "test",
        0,
        "Kubescape lists every webhook configuration for manual review; rampart reports only webhooks that fail open or that namespaces or objects can skip",
    ),
];

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regolibrary")
}

/// Reads every file in `dir` as one manifest set.
fn read_inputs(dir: &Path) -> Manifests {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let mut manifests = Manifests::default();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed =
            parse_manifests(&text, &file.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            parsed.invalid.is_empty(),
            "{}: {:?}",
            file.display(),
            parsed.invalid
        );
        manifests.extend(parsed);
    }
    manifests
}

/// Returns the number of distinct resources the controls report for the
/// case in `dir`.
fn rampart_count(dir: &Path, controls: &[&str]) -> usize {
    let manifests = read_inputs(&dir.join("input"));
    let result = audit(&manifests.objects, &AuditOptions::default());
    result
        .findings
        .iter()
        .filter(|finding| controls.contains(&finding.control.id))
        .map(|finding| finding.resource.display())
        .collect::<BTreeSet<_>>()
        .len()
}

fn kubescape_count(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    expected.as_array().map_or(0, Vec::len)
}

/// Compares every case under `root/<rule>/<case>` (or `root/<rule>/test/<case>`
/// in the corpus layout) and returns the mismatches that are not listed
/// disagreements, after checking that every listed disagreement still
/// holds. Prints agreement per rule.
fn compare(root: &Path, case_dirs: &BTreeMap<&str, Vec<(String, PathBuf)>>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen_disagreements = BTreeSet::new();
    for (rule, controls) in RULES {
        let cases = &case_dirs[rule];
        let mut agreed = 0;
        for (case, dir) in cases {
            let ours = rampart_count(dir, controls);
            let theirs = kubescape_count(dir);
            let listed = DISAGREEMENTS
                .iter()
                .find(|(r, c, _, _)| r == rule && c == case);
            match listed {
                Some((_, _, count, reason)) => {
                    seen_disagreements.insert((*rule, case.as_str()));
                    if ours != *count || ours == theirs {
                        problems.push(format!(
                            "{rule}/{case}: listed disagreement ({reason}) expects rampart {count} vs Kubescape {theirs}, got rampart {ours}"
                        ));
                    }
                }
                None if ours == theirs => agreed += 1,
                None => problems.push(format!(
                    "{rule}/{case}: rampart reports {ours}, Kubescape {theirs}"
                )),
            }
        }
        eprintln!("{rule}: {agreed}/{} cases agree", cases.len());
    }
    for (rule, case, _, _) in DISAGREEMENTS {
        if !seen_disagreements.contains(&(*rule, *case)) {
            problems.push(format!(
                "{rule}/{case}: listed disagreement has no case under {}",
                root.display()
            ));
        }
    }
    problems
}

fn list_dirs(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                path,
            )
        })
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn regolibrary_fixture_cases() {
    let root = fixtures_root();
    let case_dirs: BTreeMap<&str, Vec<(String, PathBuf)>> = RULES
        .iter()
        .map(|(rule, _)| (*rule, list_dirs(&root.join(rule))))
        .collect();
    let total: usize = case_dirs.values().map(Vec::len).sum();
    assert_eq!(total, 48, "fixture cases");
    let problems = compare(&root, &case_dirs);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn regolibrary_corpus_cases() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let root = corpus.join("vectors/regolibrary");
    let table = std::fs::read_to_string(root.join("cases.tsv")).unwrap();
    let mut case_dirs: BTreeMap<&str, Vec<(String, PathBuf)>> =
        RULES.iter().map(|(rule, _)| (*rule, Vec::new())).collect();
    let mut expected_counts = BTreeMap::new();
    for line in table.lines().filter(|line| !line.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [dir, rule, case, expected, ..] = fields[..] else {
            continue;
        };
        if let Some(cases) = case_dirs.get_mut(rule) {
            cases.push((case.to_owned(), root.join(dir)));
            expected_counts.insert((rule.to_owned(), case.to_owned()), expected.to_owned());
        }
    }

    // The table's count agrees with expected.json, and the committed
    // fixtures hold every case.
    for (rule, cases) in &case_dirs {
        for (case, dir) in cases {
            let listed: usize = expected_counts[&((*rule).to_owned(), case.clone())]
                .parse()
                .unwrap();
            assert_eq!(listed, kubescape_count(dir), "{rule}/{case}");
            assert!(
                fixtures_root()
                    .join(rule)
                    .join(case)
                    .join("expected.json")
                    .is_file(),
                "{rule}/{case} has no fixture copy"
            );
        }
    }

    let problems = compare(&root, &case_dirs);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
