//! Agreement of the per-object controls with Kubescape's regolibrary rule
//! tests: each rule's cases are audited, and the units rampart reports
//! must be the units the case expects, except for the listed
//! disagreements, which must keep disagreeing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::regolibrary::{self, Case, CaseRow, Outcome, Unit};
use rampart_posture::{AuditOptions, Finding, Severity, audit_with_placed, control};

/// How one regolibrary rule maps to rampart.
struct Mapping {
    rule: &'static str,
    /// The rampart controls whose findings count for the rule.
    controls: &'static [&'static str],
    unit: Unit,
    /// Keeps the findings of `controls` that the rule covers.
    keep: fn(&Finding) -> bool,
    /// Builds the audit options from the case's control inputs.
    options: fn(&Case) -> AuditOptions,
}

fn any(_: &Finding) -> bool {
    true
}

fn defaults(_: &Case) -> AuditOptions {
    AuditOptions::default()
}

/// Returns whether the finding's message names `word` as a whole word,
/// such as a capability or a variable name.
fn names(finding: &Finding, word: &str) -> bool {
    finding
        .message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|token| token == word)
}

const fn rule(rule: &'static str, controls: &'static [&'static str], unit: Unit) -> Mapping {
    Mapping {
        rule,
        controls,
        unit,
        keep: any,
        options: defaults,
    }
}

const MAPPINGS: &[Mapping] = &[
    // Kubescape counts SYS_ADMIN as privileged; rampart reports it as an
    // added dangerous capability.
    Mapping {
        keep: |finding| finding.control.id == "privileged-container" || names(finding, "SYS_ADMIN"),
        ..rule(
            "rule-privileged-container",
            &["privileged-container", "added-dangerous-capability"],
            Unit::Container,
        )
    },
    rule(
        "host-pid-ipc-privileges",
        &["host-pid", "host-ipc"],
        Unit::Element,
    ),
    rule("host-pid-privileges", &["host-pid"], Unit::Element),
    rule("host-ipc-privileges", &["host-ipc"], Unit::Element),
    rule("host-network-access", &["host-network"], Unit::Element),
    rule(
        "containers-mounting-docker-socket",
        &["container-runtime-socket"],
        Unit::Element,
    ),
    rule("alert-any-hostpath", &["host-path-mount"], Unit::Element),
    // Kubescape reports each writable mount, rampart each volume with its
    // worst mount, so only the object's verdict compares.
    Mapping {
        keep: |finding| finding.severity == Severity::High,
        ..rule("alert-rw-hostpath", &["host-path-mount"], Unit::Object)
    },
    rule(
        "insecure-capabilities",
        &["added-dangerous-capability"],
        Unit::Container,
    ),
    rule(
        "rule-allow-privilege-escalation",
        &["allow-privilege-escalation"],
        Unit::Container,
    ),
    rule(
        "drop-capability-netraw",
        &["net-raw-capability"],
        Unit::Container,
    ),
    rule(
        "non-root-containers",
        &["pss-runAsNonRoot", "pss-runAsUser"],
        Unit::Container,
    ),
    rule("container-hostPort", &["pss-hostPorts"], Unit::Element),
    rule(
        "set-seccomp-profile",
        &["pss-seccompProfile_restricted"],
        Unit::Container,
    ),
    rule(
        "set-seccomp-profile-RuntimeDefault",
        &["pss-seccompProfile_restricted"],
        Unit::Container,
    ),
    rule(
        "rule-secrets-in-env-var",
        &["secret-as-env-var"],
        Unit::Element,
    ),
    // Kubescape also reports envFrom.secretRef here, which rampart reports
    // as a secret exposed as environment variables.
    Mapping {
        keep: |finding| {
            finding.control.id == "secret-in-env-literal"
                || finding
                    .field
                    .as_deref()
                    .is_some_and(|field| field.contains(".envFrom["))
        },
        ..rule(
            "rule-credentials-in-env-var",
            &["secret-in-env-literal", "secret-as-env-var"],
            Unit::Element,
        )
    },
    rule(
        "automount-service-account",
        &["service-account-token-automount"],
        Unit::Object,
    ),
    rule(
        "image-not-pinned-to-digest",
        &["image-not-pinned-by-digest"],
        Unit::Container,
    ),
    Mapping {
        options: |case| AuditOptions {
            allowed_registries: case.control_input("imageRepositoryAllowList"),
            ..AuditOptions::default()
        },
        ..rule(
            "container-image-repository",
            &["image-registry-not-allowed"],
            Unit::Container,
        )
    },
    rule(
        "resources-memory-limit-and-request",
        &["missing-memory-limit-or-request"],
        Unit::Container,
    ),
    rule(
        "resources-cpu-limit-and-request",
        &["missing-cpu-limit-or-request"],
        Unit::Container,
    ),
    rule(
        "configured-liveness-probe",
        &["missing-liveness-probe"],
        Unit::Container,
    ),
    rule(
        "configured-readiness-probe",
        &["missing-readiness-probe"],
        Unit::Container,
    ),
    rule(
        "immutable-container-filesystem",
        &["writable-root-filesystem"],
        Unit::Container,
    ),
    rule(
        "pods-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "podtemplate-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "role-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "rolebinding-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "serviceaccount-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "configmap-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "csistoragecapacity-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "endpoints-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "endpointslice-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "horizontalpodautoscaler-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "ingress-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "lease-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "persistentvolumeclaim-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "poddisruptionbudget-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
    rule(
        "service-in-default-namespace",
        &["default-namespace"],
        Unit::Object,
    ),
];

/// A case where rampart deliberately reports other units than Kubescape.
struct Disagreement {
    rule: &'static str,
    case: &'static str,
    reason: &'static str,
}

const NO_RANGES: &str = "Kubescape also checks the requests and limits against minimum and maximum values from data.json; rampart has no such inputs and checks only that they are set.";
const LIMIT_IS_REQUEST: &str = "Kubescape reports the missing request of a container that sets only the limit; Kubernetes copies the limit into an unset request, so rampart does not.";

const DISAGREEMENTS: &[Disagreement] = &[
    Disagreement {
        rule: "non-root-containers",
        case: "deployment-fail",
        reason: "Kubescape also fails a container whose runAsGroup is 0. rampart follows the Pod Security Standards, which check the user (runAsNonRoot, runAsUser) and not the group.",
    },
    Disagreement {
        rule: "resources-cpu-limit-and-request",
        case: "pod-only-requests",
        reason: LIMIT_IS_REQUEST,
    },
    Disagreement {
        rule: "resources-cpu-limit-and-request",
        case: "workload-exceeded",
        reason: "The container sets only limits.cpu, which Kubernetes copies into the request, and the limit exceeds the maximum in data.json; rampart checks neither.",
    },
    Disagreement {
        rule: "resources-cpu-limit-and-request",
        case: "workload-mixed-unit",
        reason: NO_RANGES,
    },
    Disagreement {
        rule: "resources-memory-limit-and-request",
        case: "pod-only-requests",
        reason: LIMIT_IS_REQUEST,
    },
    Disagreement {
        rule: "resources-memory-limit-and-request",
        case: "workload-exceeded",
        reason: NO_RANGES,
    },
    Disagreement {
        rule: "resources-memory-limit-and-request",
        case: "workload-milli-suffix",
        reason: NO_RANGES,
    },
    Disagreement {
        rule: "resources-memory-limit-and-request",
        case: "workload-mixed-unit",
        reason: NO_RANGES,
    },
    Disagreement {
        rule: "rule-credentials-in-env-var",
        case: "deployment",
        reason: "Kubescape reports the value \"JWT\" because it contains the word JWT. rampart recognizes a JSON Web Token by its format (three base64url parts, the first starting with eyJ), which the bare word is not.",
    },
    Disagreement {
        rule: "rule-credentials-in-env-var",
        case: "pod",
        reason: "Kubescape reports the value my_key_value because it contains _key_. rampart matches known credential formats, and a name that marks a credential, which some-name does not.",
    },
    Disagreement {
        rule: "rule-credentials-in-env-var",
        case: "pod-allowed-values-keys",
        reason: "Kubescape reports my_key_value (see the pod case) and accepts my_password=my/secret/file/path through sensitiveValuesAllowed in data.json. rampart has no per-value allow-list, so it reports my_password; an exception accepts such a finding.",
    },
    Disagreement {
        rule: "set-seccomp-profile-RuntimeDefault",
        case: "workloads",
        reason: "Kubescape requires the RuntimeDefault profile. rampart follows the restricted Pod Security Standard, which also accepts a Localhost profile.",
    },
];

fn mapping(rule: &str) -> Option<&'static Mapping> {
    MAPPINGS.iter().find(|mapping| mapping.rule == rule)
}

fn disagreement(rule: &str, case: &str) -> Option<&'static Disagreement> {
    DISAGREEMENTS
        .iter()
        .find(|entry| entry.rule == rule && entry.case == case)
}

/// Audits one case and maps both sides to the rule's unit.
fn run(mapping: &Mapping, case: &Case) -> Outcome {
    let options = (mapping.options)(case);
    let result = audit_with_placed(&case.objects, &case.placed, &options);
    let findings: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|finding| mapping.controls.contains(&finding.control.id))
        .filter(|finding| (mapping.keep)(finding))
        .collect();
    regolibrary::compare(case, mapping.unit, &findings)
}

/// Runs every row of a mapped rule under `root` and checks the results
/// against [`DISAGREEMENTS`]. Returns the rows run.
fn check_rows(root: &Path, rows: &[CaseRow]) -> usize {
    let mut problems = Vec::new();
    let mut per_rule: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut run_rows = 0;
    for row in rows {
        let Some(mapping) = mapping(&row.rule) else {
            continue;
        };
        run_rows += 1;
        let case = regolibrary::load_case(&root.join(&row.case_dir));
        assert_eq!(
            case.expected.len(),
            row.expected_findings,
            "{}: expected.json does not match cases.tsv",
            row.case_dir
        );

        let outcome = run(mapping, &case);
        let agrees = outcome.agrees();
        let tally = per_rule.entry(mapping.rule).or_default();
        tally.0 += 1;
        match (agrees, disagreement(&row.rule, &row.case)) {
            (true, None) => tally.1 += 1,
            (false, Some(_)) => tally.2 += 1,
            (false, None) => problems.push(format!(
                "{} {}: rampart disagrees with Kubescape\n{}",
                row.rule,
                row.case,
                outcome.describe()
            )),
            (true, Some(_)) => problems.push(format!(
                "{} {}: now agrees with Kubescape; remove it from DISAGREEMENTS",
                row.rule, row.case
            )),
        }
    }

    eprintln!("rule: cases agreeing / listed disagreements / total");
    for (rule, (total, agreeing, listed)) in &per_rule {
        eprintln!("  {rule}: {agreeing} / {listed} / {total}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    run_rows
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regolibrary")
}

#[test]
fn regolibrary_fixtures_agree() {
    let root = fixtures();
    let rows = regolibrary::read_cases_tsv(&root.join("cases.tsv"));
    let run = check_rows(&root, &rows);
    assert_eq!(run, rows.len(), "fixture rows of unmapped rules");

    for mapping in MAPPINGS {
        let count = rows.iter().filter(|row| row.rule == mapping.rule).count();
        assert!(count > 0, "no fixture cases for {}", mapping.rule);
        for id in mapping.controls {
            assert!(
                control(id).is_some(),
                "{}: unknown control {id}",
                mapping.rule
            );
        }
    }
    for entry in DISAGREEMENTS {
        let listed = rows
            .iter()
            .any(|row| row.rule == entry.rule && row.case == entry.case);
        assert!(
            listed,
            "DISAGREEMENTS names {} {}, which has no fixture",
            entry.rule, entry.case
        );
        assert!(!entry.reason.is_empty());
    }
}

#[test]
fn regolibrary_corpus_agrees() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let root = corpus.join("vectors/regolibrary");
    let rows = regolibrary::read_cases_tsv(&root.join("cases.tsv"));
    let run = check_rows(&root, &rows);
    assert!(run > 0, "no corpus cases of the mapped rules");

    // The fixtures are a copy of the corpus cases of the mapped rules, so
    // a case added upstream should be copied too.
    let fixture_rows = regolibrary::read_cases_tsv(&fixtures().join("cases.tsv"));
    for row in rows.iter().filter(|row| mapping(&row.rule).is_some()) {
        let copied = fixture_rows
            .iter()
            .any(|fixture| fixture.rule == row.rule && fixture.case == row.case);
        assert!(copied, "{} is not copied into the fixtures", row.case_dir);
    }
}

/// Each mapped rule is used by a Kubescape control that one of its rampart
/// controls names in its `kubescape` mapping.
#[test]
fn kubescape_mapping_matches_corpus() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let root = corpus.join("vectors/regolibrary");
    for mapping in MAPPINGS {
        let users = regolibrary::kubescape_controls_of(&root, mapping.rule);
        let named: Vec<&str> = mapping
            .controls
            .iter()
            .flat_map(|id| {
                let control = control(id).unwrap_or_else(|| panic!("unknown control {id}"));
                control.kubescape.iter().copied()
            })
            .collect();
        assert!(
            users.iter().any(|id| named.contains(&id.as_str())),
            "{} is used by {users:?}, but {:?} name only {named:?}",
            mapping.rule,
            mapping.controls
        );
    }
}

#[test]
fn unit_locators() {
    let container = Unit::Container;
    assert_eq!(
        container
            .locate("spec.template.spec.initContainers[1].securityContext.capabilities.add[0]")
            .as_deref(),
        Some("spec.template.spec.initContainers[1]")
    );
    assert_eq!(container.locate("spec.hostPID"), None);

    let element = Unit::Element;
    assert_eq!(
        element.locate("spec.containers[1].env[0].name").as_deref(),
        Some("spec.containers[1].env[0]")
    );
    assert_eq!(
        element.locate("spec.hostPID").as_deref(),
        Some("spec.hostPID")
    );
    assert_eq!(Unit::Object.locate("spec.hostPID"), None);
}
