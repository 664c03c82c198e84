//! Audit renderers: SARIF validated against the OASIS schema, JUnit XML
//! read back with a strict XML reader, PolicyReports validated against the
//! v1alpha2 schemas of their CRDs, and the JSON and table locations. The
//! fixture is a real audit of manifests written here: a privileged
//! Deployment in `prod`, a host-network Pod in `dev` that an exception
//! accepts, and a Pod whose name and messages carry markup characters.
//! The corpus tier renders every format for all Pod Security Admission
//! fixtures at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use jsonschema::Validator;
use rampart_posture::{
    AuditOptions, Exceptions, Framework, Manifests, PolicyVersion, audit, locate_findings,
    parse_manifests,
};
use rampart_report::audit::{AuditFormat, AuditReport, InputError, render_audit};
use rampart_testkit::xml::{self, Element};
use serde_json::Value;

const SARIF_SCHEMA: &str = include_str!("schemas/sarif-schema-2.1.0.json");
const POLICY_REPORT_CRD: &str = include_str!("schemas/wgpolicyk8s.io_policyreports.yaml");
const CLUSTER_POLICY_REPORT_CRD: &str =
    include_str!("schemas/wgpolicyk8s.io_clusterpolicyreports.yaml");

const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example/web:1.0
        securityContext:
          privileged: true
";

/// Line of `privileged: true` in [`WEB`].
const PRIVILEGED_LINE: usize = 15;

const DEV: &str = "\
---
# Source: chart/templates/empty.yaml
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
    image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000
---
{\"apiVersion\": \"v1\", \"kind\": \"Pod\",
 \"metadata\": {\"name\": \"a<b&c\\\"d'e\\u0001\", \"namespace\": \"dev\"},
 \"spec\": {\"hostPID\": true, \"containers\": [{\"name\": \"x]]>\", \"image\": \"x\"}]}}
";

const EXCEPTIONS: &str = "\
exceptions:
  - control: host-network
    namespace: dev
    name: debug
    reason: debug pod needs the node's network
    expires: 2030-01-01
";

fn fixture() -> AuditReport {
    let mut manifests = Manifests::default();
    manifests.extend(parse_manifests(WEB, "k8s/web.yaml").unwrap());
    manifests.extend(parse_manifests(DEV, "k8s/dev.yaml").unwrap());
    report_of(&manifests, |source| match source {
        "k8s/web.yaml" => Some(WEB),
        "k8s/dev.yaml" => Some(DEV),
        _ => None,
    })
}

fn report_of<'t>(
    manifests: &Manifests,
    text_of: impl Fn(&str) -> Option<&'t str> + Sync,
) -> AuditReport {
    let mut result = audit(&manifests.objects, &AuditOptions::default());
    let frameworks = Framework::ALL.to_vec();
    result.retain_frameworks(&frameworks);
    let exceptions = Exceptions::parse(EXCEPTIONS, "exceptions.yaml").unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
    let applied = exceptions.apply(&mut result.findings, today);
    let mut objects: BTreeMap<String, usize> = BTreeMap::new();
    for object in &manifests.objects {
        *objects.entry(object.kind().to_owned()).or_default() += 1;
    }
    let positions = locate_findings(&result.findings, |source| text_of(source).map(Into::into));
    let mut report = AuditReport::new(
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        vec!["k8s".to_owned()],
        PolicyVersion::Latest,
        frameworks,
        Vec::new(),
        objects,
        manifests.skipped.clone(),
        result,
        applied,
    );
    report.set_positions(positions);
    report
}

fn render(format: AuditFormat, report: &AuditReport) -> String {
    render_audit(report, format, false)
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

// ------------------------------------------------------------------ JSON

#[test]
fn json_location_has_line_and_column() {
    let report = fixture();
    let document = parse_json(&render(AuditFormat::Json, &report));
    let findings = document["findings"].as_array().unwrap();
    let privileged = findings
        .iter()
        .find(|finding| finding["control"] == "privileged-container")
        .unwrap();
    assert_eq!(privileged["location"]["source"], "k8s/web.yaml");
    assert_eq!(privileged["location"]["document"], 1);
    assert_eq!(privileged["location"]["line"], PRIVILEGED_LINE);
    assert_eq!(privileged["location"]["column"], 11);

    let host_network = findings
        .iter()
        .find(|finding| finding["control"] == "host-network")
        .unwrap();
    // The explicit document that holds only a comment counts.
    assert_eq!(host_network["location"]["document"], 2);
    assert_eq!(host_network["location"]["line"], 10);
}

#[test]
fn table_shows_file_and_line() {
    let table = render(AuditFormat::Table, &fixture());
    assert!(table.contains("LOCATION"), "{table}");
    assert!(
        table.contains(&format!("k8s/web.yaml:{PRIVILEGED_LINE}")),
        "{table}"
    );
}

#[test]
#[should_panic(expected = "one position per finding")]
fn positions_must_match_findings() {
    let mut report = fixture();
    assert!(!report.result.findings.is_empty());
    report.set_positions(Vec::new());
}

// ----------------------------------------------------------------- SARIF

/// Validates against the OASIS SARIF 2.1.0 schema (draft-04), with the
/// `uri` and `uri-reference` formats checked.
fn sarif_errors(schema_text: &str, document: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(schema_text).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .with_format("uri-reference", is_uri_reference)
        .build(&schema)
        .unwrap_or_else(|error| panic!("SARIF schema: {error}"));
    validator
        .iter_errors(document)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect()
}

/// Accepts the characters RFC 3986 allows in a URI reference, with `%`
/// only before two hex digits; draft-04 defines no such format.
fn is_uri_reference(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(index, byte)| {
        if *byte == b'%' {
            return bytes
                .get(index + 1..index + 3)
                .is_some_and(|digits| digits.iter().all(u8::is_ascii_hexdigit));
        }
        byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(byte)
    })
}

fn sarif_result<'a>(document: &'a Value, rule: &str, name: &str) -> &'a Value {
    document["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["ruleId"] == rule && result["properties"]["name"] == name)
        .unwrap_or_else(|| panic!("no {rule} result on {name}"))
}

#[test]
fn sarif_valid() {
    let text = render(AuditFormat::Sarif, &fixture());
    let errors = sarif_errors(SARIF_SCHEMA, &parse_json(&text));
    assert!(errors.is_empty(), "{}\n{text}", errors.join("\n"));
}

#[test]
fn sarif_validator_rejects_bad_region() {
    let mut document = parse_json(&render(AuditFormat::Sarif, &fixture()));
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!sarif_errors(SARIF_SCHEMA, &document).is_empty());
}

#[test]
fn sarif_one_rule_per_selected_control() {
    let report = fixture();
    let document = parse_json(&render(AuditFormat::Sarif, &report));
    let rules = document["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let selected = rampart_posture::catalogue()
        .iter()
        .filter(|control| Framework::ALL.iter().any(|f| f.includes(control)))
        .count();
    assert_eq!(rules.len(), selected);

    let privileged = rules
        .iter()
        .find(|rule| rule["id"] == "privileged-container")
        .unwrap();
    assert_eq!(privileged["name"], "PrivilegedContainer");
    assert_eq!(
        privileged["shortDescription"]["text"],
        "Privileged container"
    );
    assert!(
        privileged["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("capability")
    );
    assert!(
        privileged["help"]["text"]
            .as_str()
            .unwrap()
            .contains("securityContext.privileged")
    );
    assert_eq!(privileged["properties"]["security-severity"], "8.0");
    assert_eq!(privileged["defaultConfiguration"]["level"], "error");
    let tags: Vec<&str> = privileged["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"CIS-5.2.2"), "{tags:?}");
    assert!(tags.contains(&"MITRE-T1611"), "{tags:?}");

    for result in document["runs"][0]["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
}

#[test]
fn sarif_result_locations() {
    let report = fixture();
    let document = parse_json(&render(AuditFormat::Sarif, &report));
    let result = sarif_result(&document, "privileged-container", "web");
    assert_eq!(result["level"], "error");
    let location = &result["locations"][0];
    let physical = &location["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "k8s/web.yaml");
    assert_eq!(physical["region"]["startLine"], PRIVILEGED_LINE);
    assert_eq!(physical["region"]["startColumn"], 11);
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "Deployment/prod/web"
    );
    assert_eq!(
        location["logicalLocations"][1]["name"],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
    assert!(result.get("suppressions").is_none());
    assert_eq!(document["runs"][0]["columnKind"], "unicodeCodePoints");

    let results = document["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.result.findings.len());
}

#[test]
fn sarif_exception_is_suppression() {
    let document = parse_json(&render(AuditFormat::Sarif, &fixture()));
    let result = sarif_result(&document, "host-network", "debug");
    let suppressions = result["suppressions"].as_array().unwrap();
    assert_eq!(suppressions.len(), 1);
    assert_eq!(suppressions[0]["kind"], "external");
    assert_eq!(suppressions[0]["status"], "accepted");
    assert!(
        suppressions[0]["justification"]
            .as_str()
            .unwrap()
            .starts_with("debug pod needs the node's network")
    );
}

#[test]
fn sarif_levels_and_scores_by_severity() {
    let document = parse_json(&render(AuditFormat::Sarif, &fixture()));
    for rule in document["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        let control = rampart_posture::control(rule["id"].as_str().unwrap()).unwrap();
        let (level, score) = match control.severity.as_str() {
            "critical" => ("error", "9.5"),
            "high" => ("error", "8.0"),
            "medium" => ("warning", "5.5"),
            _ => ("note", "3.0"),
        };
        assert_eq!(
            rule["defaultConfiguration"]["level"], level,
            "{}",
            control.id
        );
        assert_eq!(
            rule["properties"]["security-severity"], score,
            "{}",
            control.id
        );
    }
}

#[test]
fn sarif_input_error_is_notification() {
    let mut report = fixture();
    report.errors.push(InputError {
        source: "k8s/broken.yaml".to_owned(),
        line: Some(3),
        message: "invalid YAML: did not find expected key".to_owned(),
    });
    let text = render(AuditFormat::Sarif, &report);
    let document = parse_json(&text);
    let invocation = &document["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    assert_eq!(
        notification["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    let errors = sarif_errors(SARIF_SCHEMA, &document);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn sarif_stdin_has_no_uri() {
    let manifests = parse_manifests(WEB, "-").unwrap();
    let report = report_of(&manifests, |_| Some(WEB));
    let text = render(AuditFormat::Sarif, &report);
    let document = parse_json(&text);
    let result = sarif_result(&document, "privileged-container", "web");
    let physical = &result["locations"][0]["physicalLocation"];
    assert!(physical["artifactLocation"].get("uri").is_none());
    assert_eq!(
        physical["artifactLocation"]["description"]["text"],
        "standard input"
    );
    assert_eq!(physical["region"]["startLine"], PRIVILEGED_LINE);
    let errors = sarif_errors(SARIF_SCHEMA, &document);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

// ----------------------------------------------------------------- JUnit

fn junit(report: &AuditReport) -> Element {
    let text = render(AuditFormat::Junit, report);
    xml::parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

fn count(element: &Element, attribute: &str) -> u64 {
    element
        .attribute(attribute)
        .unwrap_or_else(|| panic!("<{}> has no {attribute}", element.name))
        .parse()
        .unwrap()
}

#[test]
fn junit_well_formed_with_markup_in_names() {
    let report = fixture();
    let root = junit(&report);
    assert_eq!(root.name, "testsuites");
    let hostile = root
        .children_named("testsuite")
        .flat_map(|suite| suite.children_named("testcase"))
        .find(|case| case.attribute("name").unwrap().contains("a<b&c\"d'e"))
        .expect("test case of the Pod with markup in its name");
    assert_eq!(
        hostile.attribute("name"),
        Some("Pod/dev/a<b&c\"d'e\u{FFFD}")
    );
}

#[test]
fn junit_counts_match_evaluations() {
    let report = fixture();
    let root = junit(&report);
    let suites: Vec<&Element> = root.children_named("testsuite").collect();

    let mut evaluated = 0;
    let mut failures = 0;
    let mut skipped = 0;
    for suite in &suites {
        let control = suite.attribute("name").unwrap();
        let result = &report.controls[control];
        let cases: Vec<&Element> = suite.children_named("testcase").collect();
        let failed_cases = cases
            .iter()
            .filter(|case| case.children_named("failure").count() == 1)
            .count() as u64;
        let skipped_cases = cases
            .iter()
            .filter(|case| case.children_named("skipped").count() == 1)
            .count() as u64;

        assert_eq!(count(suite, "tests"), result.evaluated, "{control}");
        assert_eq!(count(suite, "failures"), result.failed, "{control}");
        assert_eq!(count(suite, "failures"), failed_cases, "{control}");
        assert_eq!(count(suite, "skipped"), result.excepted, "{control}");
        assert_eq!(count(suite, "skipped"), skipped_cases, "{control}");
        assert_eq!(count(suite, "errors"), 0, "{control}");

        evaluated += result.evaluated;
        failures += failed_cases;
        skipped += skipped_cases;
    }
    let selected_evaluated: u64 = report
        .controls
        .iter()
        .filter(|(id, _)| {
            let control = rampart_posture::control(id).unwrap();
            Framework::ALL.iter().any(|f| f.includes(control))
        })
        .map(|(_, result)| result.evaluated)
        .sum();

    assert_eq!(evaluated, selected_evaluated);
    assert_eq!(count(&root, "tests"), evaluated);
    assert_eq!(count(&root, "failures"), failures);
    assert_eq!(count(&root, "skipped"), skipped);
    assert!(failures > 0);
    assert!(skipped > 0);
}

#[test]
fn junit_failure_names_severity_and_line() {
    let root = junit(&fixture());
    let suite = root
        .children_named("testsuite")
        .find(|suite| suite.attribute("name") == Some("privileged-container"))
        .unwrap();
    let case = suite.children_named("testcase").next().unwrap();
    assert_eq!(case.attribute("classname"), Some("privileged-container"));
    assert_eq!(case.attribute("name"), Some("Deployment/prod/web"));
    let failure = case.children_named("failure").next().unwrap();
    assert_eq!(failure.attribute("type"), Some("high"));
    assert!(
        failure
            .text
            .contains(&format!("k8s/web.yaml:{PRIVILEGED_LINE} ")),
        "{}",
        failure.text
    );

    let host_network = root
        .children_named("testsuite")
        .find(|suite| suite.attribute("name") == Some("host-network"))
        .unwrap();
    let skipped = host_network
        .children_named("testcase")
        .find(|case| case.attribute("name") == Some("Pod/dev/debug"))
        .unwrap();
    let reason = skipped.children_named("skipped").next().unwrap();
    assert!(
        reason
            .attribute("message")
            .unwrap()
            .contains("debug pod needs the node's network")
    );
}

#[test]
fn junit_input_errors_suite() {
    let mut report = fixture();
    report.errors.push(InputError {
        source: "k8s/<broken>.yaml".to_owned(),
        line: None,
        message: "invalid YAML: \u{1b}[31m".to_owned(),
    });
    let root = junit(&report);
    let suite = root
        .children_named("testsuite")
        .find(|suite| suite.attribute("name") == Some("rampart-input"))
        .unwrap();
    assert_eq!(count(suite, "errors"), 1);
    assert_eq!(count(&root, "errors"), 1);
    let case = suite.children_named("testcase").next().unwrap();
    assert_eq!(case.attribute("name"), Some("k8s/<broken>.yaml"));
}

// ---------------------------------------------------------- PolicyReport

/// Returns the v1alpha2 `openAPIV3Schema` of a CRD file.
fn crd_schema(crd: &str) -> Value {
    let document: Value = serde_saphyr::from_str(crd).unwrap();
    document["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|version| version["name"] == "v1alpha2")
        .map(|version| version["schema"]["openAPIV3Schema"].clone())
        .expect("v1alpha2 in the CRD")
}

struct ReportValidators {
    namespaced: Validator,
    cluster: Validator,
}

fn validators(policy_report_crd: &str, cluster_policy_report_crd: &str) -> ReportValidators {
    let build = |crd: &str| {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&crd_schema(crd))
            .unwrap_or_else(|error| panic!("CRD schema: {error}"))
    };
    ReportValidators {
        namespaced: build(policy_report_crd),
        cluster: build(cluster_policy_report_crd),
    }
}

/// Parses the YAML stream and validates each document against the schema
/// of its kind, with the checks the schemas leave out: the API version,
/// a name, a namespace exactly on PolicyReports, and summary counts that
/// match the results.
fn policy_reports(text: &str, validators: &ReportValidators) -> Vec<Value> {
    // The corpus tier's reports hold more nodes than serde-saphyr's default
    // budget allows.
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 100_000_000,
            max_nodes: 50_000_000,
        },
    };
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
        .unwrap_or_else(|error| {
            let start: String = text.chars().take(2000).collect();
            panic!("not YAML: {error}\n{start}")
        });
    for document in &documents {
        assert_eq!(document["apiVersion"], "wgpolicyk8s.io/v1alpha2");
        let name = document["metadata"]["name"].as_str().unwrap();
        assert!(
            name == "rampart-audit"
                || name
                    .strip_prefix("rampart-audit-")
                    .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n >= 2)),
            "{name}"
        );
        let validator = match document["kind"].as_str() {
            Some("PolicyReport") => {
                assert!(document["metadata"]["namespace"].is_string(), "{document}");
                &validators.namespaced
            }
            Some("ClusterPolicyReport") => {
                assert!(
                    document["metadata"].get("namespace").is_none(),
                    "{document}"
                );
                &validators.cluster
            }
            other => panic!("unexpected kind {other:?}"),
        };
        let errors: Vec<String> = validator
            .iter_errors(document)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}\n{document}", errors.join("\n"));

        let results = document["results"].as_array().unwrap();
        for outcome in ["fail", "skip", "error", "warn"] {
            let counted = results.iter().filter(|r| r["result"] == outcome).count();
            assert_eq!(document["summary"][outcome], counted, "{outcome}");
        }
        for result in results {
            let namespace = document["metadata"].get("namespace");
            for resource in result["resources"].as_array().into_iter().flatten() {
                assert_eq!(resource.get("namespace"), namespace, "{result}");
            }
        }
    }
    documents
}

fn offline_validators() -> ReportValidators {
    validators(POLICY_REPORT_CRD, CLUSTER_POLICY_REPORT_CRD)
}

#[test]
fn policyreport_valid_per_namespace() {
    let report = fixture();
    let text = render(AuditFormat::PolicyReport, &report);
    let documents = policy_reports(&text, &offline_validators());
    let kinds: Vec<(String, Option<String>)> = documents
        .iter()
        .map(|document| {
            (
                document["kind"].as_str().unwrap().to_owned(),
                document["metadata"]["namespace"]
                    .as_str()
                    .map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("ClusterPolicyReport".to_owned(), None),
            ("PolicyReport".to_owned(), Some("dev".to_owned())),
            ("PolicyReport".to_owned(), Some("prod".to_owned())),
        ]
    );
    assert!(text.starts_with("---\n"), "{text}");
}

#[test]
fn policyreport_results() {
    let report = fixture();
    let documents = policy_reports(
        &render(AuditFormat::PolicyReport, &report),
        &offline_validators(),
    );
    let prod = &documents[2];
    let results = prod["results"].as_array().unwrap();
    let privileged = results
        .iter()
        .find(|result| result["policy"] == "privileged-container")
        .unwrap();
    assert_eq!(privileged["result"], "fail");
    assert_eq!(privileged["severity"], "high");
    assert_eq!(privileged["source"], "rampart");
    assert_eq!(privileged["category"], "Escape to host");
    assert_eq!(privileged["rule"], "Privileged container");
    assert_eq!(
        privileged["timestamp"]["seconds"],
        report.created.timestamp()
    );
    assert_eq!(
        privileged["resources"][0],
        serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "namespace": "prod",
        })
    );
    let properties = &privileged["properties"];
    assert_eq!(
        properties["field"],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
    assert_eq!(properties["container"], "app");
    assert_eq!(properties["cis"], "5.2.2");
    assert_eq!(properties["mitre"], "T1611");
    assert_eq!(
        properties["location"],
        format!("k8s/web.yaml:{PRIVILEGED_LINE}")
    );

    let dev = &documents[1];
    let skipped = dev["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| {
            result["policy"] == "host-network" && result["resources"][0]["name"] == "debug"
        })
        .unwrap();
    assert_eq!(skipped["result"], "skip");
    assert!(
        skipped["properties"]["exception"]
            .as_str()
            .unwrap()
            .starts_with("debug pod needs")
    );
    let hostile = dev["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["policy"] == "host-pid")
        .unwrap();
    assert_eq!(hostile["resources"][0]["name"], "a<b&c\"d'e\u{1}");
}

#[test]
fn policyreport_pass_counts() {
    let report = fixture();
    let documents = policy_reports(
        &render(AuditFormat::PolicyReport, &report),
        &offline_validators(),
    );
    assert_pass_counts_consistent(&report, &documents);
    for document in &documents[1..] {
        let namespace = &document["metadata"]["namespace"];
        assert!(
            document["summary"]["pass"].as_u64().unwrap() > 0,
            "{namespace}"
        );
    }
}

/// The resources of the results of each control, as JSON text.
type ResourcesByControl = BTreeMap<String, BTreeSet<String>>;

/// Checks each scope's `summary.pass` against the audit: what the selected
/// controls evaluated in the scope, less the distinct (control, resource)
/// pairs with a result there. Also checks that no control has more such
/// pairs in a scope than it evaluated there, which `pass` would hide, and
/// that the counts by namespace add up to each control's total.
fn assert_pass_counts_consistent(report: &AuditReport, documents: &[Value]) {
    let selected = |id: &str| {
        let control = rampart_posture::control(id).unwrap();
        Framework::ALL.iter().any(|f| f.includes(control))
    };
    let by_namespace = &report.result.evaluated_by_namespace;

    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for counts in by_namespace.values() {
        for (id, count) in counts {
            *totals.entry(id).or_default() += count;
        }
    }
    for (id, total) in &report.result.evaluated {
        assert_eq!(totals.get(id).copied().unwrap_or(0), *total, "{id}");
    }

    // A scope's results may be split over several reports, and only the
    // first one carries the pass count.
    let mut scopes: BTreeMap<Option<String>, (u64, ResourcesByControl)> = BTreeMap::new();
    for document in documents {
        let namespace = document["metadata"]["namespace"]
            .as_str()
            .map(str::to_owned);
        let (pass, not_passed) = scopes.entry(namespace).or_default();
        *pass += document["summary"]["pass"].as_u64().unwrap();
        for result in document["results"].as_array().unwrap() {
            let Some(resource) = result["resources"].get(0) else {
                continue;
            };
            not_passed
                .entry(result["policy"].as_str().unwrap().to_owned())
                .or_default()
                .insert(resource.to_string());
        }
    }
    for (namespace, (pass, not_passed)) in &scopes {
        let empty = BTreeMap::new();
        let evaluated = by_namespace.get(namespace).unwrap_or(&empty);
        for (id, resources) in not_passed {
            let count = evaluated.get(id.as_str()).copied().unwrap_or(0);
            assert!(
                resources.len() as u64 <= count,
                "{namespace:?}: {id} failed {} resources but evaluated {count}",
                resources.len()
            );
        }
        let expected: u64 = evaluated
            .iter()
            .filter(|(id, _)| selected(id))
            .map(|(id, count)| count - not_passed.get(*id).map_or(0, BTreeSet::len) as u64)
            .sum();
        assert_eq!(*pass, expected, "{namespace:?}");
    }
}

/// Namespaces, NetworkPolicies, RBAC objects and a webhook configuration,
/// for the pass counts of the controls that relate objects. `WORKLOADS`
/// adds the pods these controls need, and the per-object controls check
/// only those.
const RELATED: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels: {pod-security.kubernetes.io/enforce: restricted}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: team-a}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: team-b}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: team-a}
rules:
- apiGroups: [\"\"]
  resources: [pods]
  verbs: [create, get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
- {kind: ServiceAccount, name: builder}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- apiGroups: [\"\"]
  resources: [secrets]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-secrets, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: reader, namespace: ci}
- {kind: ServiceAccount, name: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-exec}
rules:
- apiGroups: [\"\"]
  resources: [pods/exec]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: debuggers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-exec}
subjects:
- {kind: User, name: alice}
- {kind: Group, name: system:masters}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: policy-gate}
webhooks:
- name: pods.policy-gate.example
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
  clientConfig:
    service: {name: gate, namespace: gate-system}
  rules:
  - apiGroups: [\"\"]
    apiVersions: [v1]
    operations: [CREATE]
    resources: [pods]
";

/// One Deployment in each of `team-a` and `team-b`, with the default
/// service account.
const WORKLOADS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: team-a}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: app, image: registry.example/api:1.0}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: team-b}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - {name: app, image: registry.example/worker:1.0}
";

/// Returns `summary.pass` of each scope's first report.
fn passes(report: &AuditReport) -> BTreeMap<Option<String>, u64> {
    let documents = policy_reports(
        &render(AuditFormat::PolicyReport, report),
        &offline_validators(),
    );
    assert_pass_counts_consistent(report, &documents);
    documents
        .iter()
        .filter(|document| document["metadata"]["name"] == "rampart-audit")
        .map(|document| {
            let namespace = document["metadata"]["namespace"]
                .as_str()
                .map(str::to_owned);
            (namespace, document["summary"]["pass"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn policyreport_pass_counts_of_related_controls() {
    let mut manifests = Manifests::default();
    manifests.extend(parse_manifests(RELATED, "k8s/related.yaml").unwrap());
    manifests.extend(parse_manifests(WORKLOADS, "k8s/workloads.yaml").unwrap());
    let related = passes(&report_of(&manifests, |_| None));

    let mut workloads = Manifests::default();
    workloads.extend(parse_manifests(WORKLOADS, "k8s/workloads.yaml").unwrap());
    let alone = passes(&report_of(&workloads, |_| None));
    let workload_pass = |namespace: &str| alone[&Some(namespace.to_owned())];

    // The subject controls are the 16 RBAC controls other than
    // rbac-wildcard-in-role. Each subject fails the ones noted.
    //
    // Of the per-object controls, only removed-api-version evaluates
    // cluster-scoped objects, and it passes all six: 6. The other cluster
    // passes come from the controls that relate objects:
    // - the two default-deny controls pass team-a and fail team-b: 2;
    // - the two Pod Security Admission controls pass team-a: 2;
    // - policy-gate fails open, but passes the namespace and object
    //   selector controls: 2;
    // - rbac-wildcard-in-role passes secret-reader and pod-exec: 2;
    // - User alice fails rbac-exec-into-pods: 15;
    // - Group system:masters fails rbac-system-masters-binding, the only
    //   control that evaluates it: 0.
    assert_eq!(alone.get(&None).copied(), Some(0));
    assert_eq!(related[&None], 6 + 2 + 2 + 2 + 2 + 15);
    // team-a: workload-not-selected-by-networkpolicy and
    // networkpolicy-allows-all pass api and default-deny, the wildcard
    // control passes the Role deployer, and ServiceAccount builder fails
    // rbac-create-pods. removed-api-version passes the NetworkPolicy, the
    // Role and the RoleBinding (3), and default-namespace the last two (2).
    assert_eq!(
        related[&Some("team-a".to_owned())],
        workload_pass("team-a") + 1 + 1 + 1 + 15 + 3 + 2
    );
    // team-b: worker is not selected, allow-web allows every peer and
    // selects no workload, and ServiceAccount default fails
    // rbac-read-secrets and rbac-default-service-account-bound.
    // removed-api-version passes the NetworkPolicy and the RoleBinding (2),
    // and default-namespace the RoleBinding (1).
    assert_eq!(
        related[&Some("team-b".to_owned())],
        workload_pass("team-b") + 14 + 2 + 1
    );
    // ci runs no workload. Its ServiceAccount reader, bound in team-b,
    // fails rbac-read-secrets.
    assert_eq!(related[&Some("ci".to_owned())], 15);
    assert_eq!(related.len(), 4);
}

#[test]
fn policyreport_input_errors_in_cluster_report() {
    let mut report = fixture();
    report.errors.push(InputError {
        source: "k8s/broken.yaml".to_owned(),
        line: Some(7),
        message: "invalid YAML: found character that cannot start any token".to_owned(),
    });
    let documents = policy_reports(
        &render(AuditFormat::PolicyReport, &report),
        &offline_validators(),
    );
    let cluster = &documents[0];
    assert_eq!(cluster["summary"]["error"], 1);
    let result = cluster["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["policy"] == "rampart-input")
        .unwrap();
    assert_eq!(result["result"], "error");
    assert_eq!(result["policy"], "rampart-input");
    assert!(
        result["message"]
            .as_str()
            .unwrap()
            .starts_with("k8s/broken.yaml:7: ")
    );
}

// ----------------------------------------------------------- corpus tier

/// Renders every format for one audit of the Pod Security Admission
/// fixtures of the oldest and the newest policy version, and validates them
/// against the schemas in the shared schema folder. (All versions give
/// some 57,000 findings, which takes minutes in a debug build.)
#[test]
fn psa_fixtures_render_valid() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let schemas = corpus.join("../schemas");
    let read = |name: &str| {
        std::fs::read_to_string(schemas.join(name))
            .unwrap_or_else(|error| panic!("{}: {error}", schemas.join(name).display()))
    };
    let root = corpus.join("vectors/psa");
    let listing = std::fs::read_to_string(root.join("manifest.tsv")).unwrap();
    let paths: Vec<&str> = listing
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("path\t"))
        .filter_map(|line| line.split('\t').next())
        .collect();
    // Paths look like `baseline/v1.12/fail/privileged0.yaml`.
    let minor = |path: &str| -> u32 {
        let version = path.split('/').nth(1).unwrap_or_default();
        version.trim_start_matches("v1.").parse().unwrap_or(0)
    };
    let newest = paths.iter().map(|path| minor(path)).max().unwrap();
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut manifests = Manifests::default();
    for path in paths {
        if minor(path) != 0 && minor(path) != newest {
            continue;
        }
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        // Fixtures sit in one namespace each, by level and version, so the
        // PolicyReport output has many documents.
        let namespace = Path::new(path)
            .parent()
            .unwrap()
            .display()
            .to_string()
            .replace(['/', '.'], "-");
        let text = text.replacen(
            "metadata:\n",
            &format!("metadata:\n  namespace: {namespace}\n"),
            1,
        );
        manifests.extend(parse_manifests(&text, path).unwrap());
        texts.insert(path.to_owned(), text);
    }
    let report = report_of(&manifests, |source| texts.get(source).map(String::as_str));
    assert!(
        report.result.findings.len() > 1000,
        "{}",
        report.result.findings.len()
    );
    // Findings about a namespace that no object declares have no origin.
    let with_origin = report
        .result
        .findings
        .iter()
        .filter(|finding| finding.origin.is_some())
        .count();
    let located = (0..report.result.findings.len())
        .filter(|index| report.position(*index).is_some())
        .count();
    assert_eq!(located, with_origin);

    let sarif = parse_json(&render(AuditFormat::Sarif, &report));
    let errors = sarif_errors(&read("sarif-schema-2.1.0.json"), &sarif);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        report.result.findings.len()
    );

    let validators = validators(
        &read("wgpolicyk8s.io_policyreports.yaml"),
        &read("wgpolicyk8s.io_clusterpolicyreports.yaml"),
    );
    let documents = policy_reports(&render(AuditFormat::PolicyReport, &report), &validators);
    assert!(documents.len() > 4, "{} documents", documents.len());
    assert_pass_counts_consistent(&report, &documents);

    let root = junit(&report);
    let failures: u64 = root
        .children_named("testsuite")
        .map(|suite| count(suite, "failures"))
        .sum();
    assert!(failures > 1000, "{failures}");
    parse_json(&render(AuditFormat::Json, &report));
}
