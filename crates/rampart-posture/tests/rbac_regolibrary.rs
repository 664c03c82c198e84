//! Agreement with Kubescape's regolibrary RBAC rules on their own test
//! cases. Each rule reports one finding per subject (a user, group or
//! service account) with a failing grant. The test counts the subjects
//! that rampart's matching controls report on the same input.
//!
//! Where rampart reports another number on purpose, `DISAGREEMENTS` lists
//! the case, rampart's count and the reason, and the test asserts both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rampart_posture::{AuditOptions, Object, ResourceRef, audit, parse_manifests};

/// The rampart controls each regolibrary rule corresponds to.
const RULES: &[(&str, &[&str])] = &[
    ("rule-can-list-get-secrets-v1", &["rbac-read-secrets"]),
    ("rule-can-create-pod", &["rbac-create-pods"]),
    ("exec-into-container-v1", &["rbac-exec-into-pods"]),
    ("rule-can-bind-escalate", &["rbac-escalate-or-bind"]),
    (
        "rule-can-impersonate-users-groups-v1",
        &["rbac-impersonate"],
    ),
    (
        "rule-list-all-cluster-admins-v1",
        &["rbac-cluster-admin", "rbac-namespace-admin"],
    ),
    ("cluster-admin-role", &["rbac-cluster-admin"]),
    ("anonymous-access-enabled", &["rbac-anonymous-access"]),
    (
        "ensure-default-service-accounts-has-only-default-roles",
        &["rbac-default-service-account-bound"],
    ),
    ("rule-can-create-pv", &["rbac-create-persistent-volumes"]),
    ("rule-can-access-proxy-subresource", &["rbac-node-proxy"]),
    (
        "rule-can-approve-cert-signing-request",
        &["rbac-approve-csr"],
    ),
    (
        "rule-can-modify-admission-webhooks",
        &["rbac-modify-admission-webhooks"],
    ),
    (
        "rule-can-create-service-account-token",
        &["rbac-create-service-account-tokens"],
    ),
    ("rule-can-portforward-v1", &["rbac-port-forward"]),
];

/// A RoleBinding grants only in its namespace, and the API server checks
/// requests for cluster-scoped resources without one, so these grants
/// allow nothing. The regolibrary rules do not look at the binding kind.
const CLUSTER_SCOPED_VIA_ROLEBINDING: &str = "a RoleBinding cannot grant a cluster-scoped resource (nodes, persistentvolumes, certificatesigningrequests, webhook configurations): the API server checks requests for them without a namespace";

/// `pods/*` in a rule is a literal resource name: Kubernetes' only
/// resource wildcards are `*` and `*/SUBRESOURCE`.
const LITERAL_POD_STAR: &str = "the rule's resource is pods/*, which Kubernetes matches literally, so it grants neither pods/exec nor pods/portforward";

/// Cases where rampart's count differs from Kubescape's on purpose:
/// (rule, case, rampart's count, reason).
const DISAGREEMENTS: &[(&str, &str, usize, &str)] = &[
    ("exec-into-container-v1", "clusterrole", 0, LITERAL_POD_STAR),
    (
        "rule-can-portforward-v1",
        "clusterrole-clusterrolebinding",
        0,
        LITERAL_POD_STAR,
    ),
    (
        "anonymous-access-enabled",
        "fail",
        0,
        "the binding is Kubernetes' default system:public-info-viewer, which grants GET on /healthz, /livez, /readyz and /version only; its ClusterRole is not in the input, so rampart warns that the binding is unresolved",
    ),
    (
        "ensure-default-service-accounts-has-only-default-roles",
        "passed_rolebinding_one_subject",
        1,
        "the RoleBinding named pod, which Kubernetes never creates, grants ClusterRole test to the default service account; rampart does not trust the kubernetes.io/bootstrapping label to mark a default",
    ),
    (
        "rule-can-create-pv",
        "clusterrole-rolebinding",
        0,
        CLUSTER_SCOPED_VIA_ROLEBINDING,
    ),
    (
        "rule-can-access-proxy-subresource",
        "clusterrole-rolebinding",
        0,
        CLUSTER_SCOPED_VIA_ROLEBINDING,
    ),
    (
        "rule-can-access-proxy-subresource",
        "role-rolebinding",
        0,
        CLUSTER_SCOPED_VIA_ROLEBINDING,
    ),
    (
        "rule-can-approve-cert-signing-request",
        "role-rolebinding",
        0,
        CLUSTER_SCOPED_VIA_ROLEBINDING,
    ),
    (
        "rule-can-modify-admission-webhooks",
        "clusterrole-rolebinding",
        0,
        CLUSTER_SCOPED_VIA_ROLEBINDING,
    ),
    (
        "rule-can-modify-admission-webhooks",
        "role-rolebinding",
        0,
        CLUSTER_SCOPED_VIA_ROLEBINDING,
    ),
];

/// One regolibrary test case.
struct Case {
    rule: String,
    name: String,
    expected: usize,
    inputs: PathBuf,
}

fn controls_of(rule: &str) -> Option<&'static [&'static str]> {
    RULES
        .iter()
        .find(|(name, _)| *name == rule)
        .map(|(_, controls)| *controls)
}

fn read_inputs(dir: &Path) -> Vec<Object> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let manifests = parse_manifests(&text, &file.display().to_string()).unwrap();
        assert!(
            manifests.invalid.is_empty(),
            "{}: {:?}",
            file.display(),
            manifests.invalid
        );
        objects.extend(manifests.objects);
    }
    objects
}

/// Returns the number of distinct subjects that `controls` report on.
fn count_subjects(objects: &[Object], controls: &[&str]) -> usize {
    let result = audit(objects, &AuditOptions::default());
    let subjects: BTreeSet<&ResourceRef> = result
        .findings
        .iter()
        .filter(|finding| controls.contains(&finding.control.id))
        .map(|finding| &*finding.resource)
        .collect();
    subjects.len()
}

/// Runs every case and checks it against Kubescape's count or the listed
/// disagreement; returns the per-rule tally of (agreeing, total).
fn run(cases: &[Case]) -> BTreeMap<String, (usize, usize)> {
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut disagreements_seen = BTreeSet::new();
    for case in cases {
        let controls = controls_of(&case.rule).unwrap();
        let ours = count_subjects(&read_inputs(&case.inputs), controls);
        let disagreement = DISAGREEMENTS
            .iter()
            .find(|(rule, name, _, _)| *rule == case.rule && *name == case.name);
        let entry = tally.entry(case.rule.clone()).or_default();
        entry.1 += 1;
        match disagreement {
            Some((rule, name, count, _)) => {
                disagreements_seen.insert((*rule, *name));
                assert_ne!(
                    *count, case.expected,
                    "{rule}/{name} agrees; drop it from DISAGREEMENTS"
                );
                if ours != *count {
                    wrong.push(format!("{rule}/{name}: rampart {ours}, listed {count}"));
                }
            }
            None if ours == case.expected => entry.0 += 1,
            None => wrong.push(format!(
                "{}/{}: rampart {ours}, Kubescape {}",
                case.rule, case.name, case.expected
            )),
        }
    }
    for (rule, (agree, total)) in &tally {
        eprintln!("{rule}: {agree}/{total} cases agree");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(
        disagreements_seen.len(),
        DISAGREEMENTS.len(),
        "a disagreement names no case"
    );
    tally
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regolibrary")
}

/// Reads the committed cases from `rbac-cases.tsv` (rule, case, expected).
fn fixture_cases() -> Vec<Case> {
    let root = fixtures_root();
    let text = std::fs::read_to_string(root.join("rbac-cases.tsv")).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "malformed line {line:?}");
            Case {
                rule: fields[0].to_owned(),
                name: fields[1].to_owned(),
                expected: fields[2].parse().unwrap(),
                inputs: root.join(fields[0]).join(fields[1]),
            }
        })
        .collect()
}

#[test]
fn regolibrary_fixture_cases() {
    let cases = fixture_cases();
    assert_eq!(cases.len(), 33);
    let tally = run(&cases);
    assert_eq!(tally.len(), RULES.len());
}

/// Runs every case of the covered rules from the shared corpus, and
/// checks that the committed fixtures are those cases, unchanged.
#[test]
fn regolibrary_corpus_cases() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let root = corpus.join("vectors/regolibrary");
    let text = std::fs::read_to_string(root.join("cases.tsv")).unwrap();
    let mut cases = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields[0] == "case_dir" || controls_of(fields[1]).is_none() {
            continue;
        }
        cases.push(Case {
            rule: fields[1].to_owned(),
            name: fields[2].to_owned(),
            expected: fields[3].parse().unwrap(),
            inputs: root.join(fields[0]).join("input"),
        });
    }
    run(&cases);

    let fixtures = fixture_cases();
    assert_eq!(fixtures.len(), cases.len());
    let corpus_cases: BTreeMap<(&str, &str), &Case> = cases
        .iter()
        .map(|case| ((case.rule.as_str(), case.name.as_str()), case))
        .collect();
    for fixture in &fixtures {
        let case = corpus_cases[&(fixture.rule.as_str(), fixture.name.as_str())];
        assert_eq!(fixture.expected, case.expected);
        let listing = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|entry| {
                    let path = entry.unwrap().path();
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read(&path).unwrap())
                })
                .collect()
        };
        assert!(
            listing(&fixture.inputs) == listing(&case.inputs),
            "{}/{} differs from the corpus",
            case.rule,
            case.name
        );
    }
}
