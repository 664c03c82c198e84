//! SARIF 2.1.0 (OASIS Standard, errata 01) for `rampart audit`, with the
//! conventions of `rampart scan -o sarif`.
//!
//! The log has one run. Each control of the selected frameworks is one
//! rule, and each finding is one result located at the line and column of
//! its field in the manifest file, with the Kubernetes object and the field
//! path as logical locations. Findings that an exception accepts carry an
//! `external` suppression whose justification is the exception's reason.
//! Inputs that could not be read are error notifications of the run's
//! invocation.
//!
//! GitHub code scanning reads `properties.security-severity` and
//! `properties.tags` of a rule and `partialFingerprints` of a result beyond
//! the schema.

use std::collections::BTreeMap;

use rampart_posture::{Control, Finding, PssLevel, Severity, TextPosition, catalogue};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::AuditReport;
use crate::sbom::json::to_pretty_string;

const SCHEMA_URL: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The `partialFingerprints` key. The suffix versions what the hash covers,
/// so a change to the hash input needs a new suffix.
const FINGERPRINT_KEY: &str = "postureFindingHash/v1";

/// Maximum number of tags that GitHub code scanning accepts on one rule.
const MAX_TAGS: usize = 20;

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    /// Columns count Unicode code points, as the locator does, not the
    /// SARIF default of UTF-16 code units.
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

/// Rule properties; the mapping keys are those of the JSON output.
#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity")]
    security_severity: String,
    tags: Vec<String>,
    category: &'static str,
    cis: &'static [&'static str],
    nist_800_190: &'static [&'static str],
    nsa: &'static [&'static str],
    mitre: &'static [&'static str],
    kubescape: &'static [&'static str],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    severity: Severity,
    api_version: String,
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

/// Renders the SARIF log, pretty-printed, ending with a newline.
pub(super) fn render(report: &AuditReport) -> String {
    let controls: Vec<&'static Control> = catalogue()
        .iter()
        .copied()
        .filter(|control| report.selected(control))
        .collect();
    let rule_index: BTreeMap<&str, usize> = controls
        .iter()
        .enumerate()
        .map(|(index, control)| (control.id, index))
        .collect();
    let rules = controls.iter().map(|control| rule(control)).collect();
    // A cluster audit reads no files, so its results have logical
    // locations only.
    let from_files = !report
        .sources
        .iter()
        .any(|source| source.starts_with("cluster:"));
    let results = report
        .located_findings()
        .filter_map(|(finding, position)| {
            // Findings come only from selected controls; the check keeps a
            // rule index from ever pointing past the rules.
            let index = *rule_index.get(finding.control.id)?;
            let physical = finding
                .origin
                .as_ref()
                .filter(|_| from_files)
                .map(|origin| physical_location(&origin.source, position));
            Some(result(finding, physical, index))
        })
        .collect();

    let log = Log {
        schema: SCHEMA_URL,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "rampart",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: crate::PROJECT_URL,
                    rules,
                },
            },
            invocations: vec![invocation(report, from_files)],
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    to_pretty_string(&log)
}

fn rule(control: &'static Control) -> Rule {
    let mut tags = vec![
        "security".to_owned(),
        "kubernetes".to_owned(),
        control.category.title().to_owned(),
    ];
    match control.pss_level {
        Some(PssLevel::Baseline) => tags.push("PSS-baseline".to_owned()),
        Some(PssLevel::Restricted) => tags.push("PSS-restricted".to_owned()),
        None => {}
    }
    tags.extend(control.cis.iter().map(|number| format!("CIS-{number}")));
    tags.extend(
        control
            .mitre
            .iter()
            .map(|technique| format!("MITRE-{technique}")),
    );
    tags.truncate(MAX_TAGS);

    Rule {
        id: control.id,
        name: pascal_case(control.id),
        short_description: Text {
            text: control.title.to_owned(),
        },
        full_description: Text {
            text: control.rationale.to_owned(),
        },
        help: help(control),
        default_configuration: Configuration {
            level: level(control.severity),
        },
        properties: RuleProperties {
            security_severity: security_severity(control.severity).to_owned(),
            tags,
            category: control.category.title(),
            cis: control.cis,
            nist_800_190: control.nist_800_190,
            nsa: control.nsa,
            mitre: control.mitre,
            kubescape: control.kubescape,
        },
    }
}

/// Builds the rule help: the remediation, then the framework mappings.
fn help(control: &Control) -> Help {
    let mut mappings = Vec::new();
    let mut add = |name: &str, values: &[&str]| {
        if !values.is_empty() {
            mappings.push(format!("{name}: {}", values.join(", ")));
        }
    };
    add("CIS Kubernetes Benchmark v1.12", control.cis);
    add("NIST SP 800-190", control.nist_800_190);
    add("NSA/CISA Kubernetes Hardening Guide", control.nsa);
    add("MITRE ATT&CK for Containers", control.mitre);

    let mut text = vec![control.remediation.to_owned()];
    let mut markdown = vec![crate::scan::markdown::escape(control.remediation)];
    if !mappings.is_empty() {
        text.push(mappings.join("\n"));
        let items: Vec<String> = mappings
            .iter()
            .map(|mapping| format!("- {}", crate::scan::markdown::escape(mapping)))
            .collect();
        markdown.push(items.join("\n"));
    }
    Help {
        text: text.join("\n\n"),
        markdown: markdown.join("\n\n"),
    }
}

fn result(
    finding: &Finding,
    physical_location: Option<PhysicalLocation>,
    rule_index: usize,
) -> SarifResult {
    let resource = &finding.resource;
    let object = resource.display();
    let mut logical_locations = vec![LogicalLocation {
        name: resource.name.clone(),
        fully_qualified_name: object.clone(),
        kind: "object",
    }];
    if let Some(field) = &finding.field {
        logical_locations.push(LogicalLocation {
            name: field.clone(),
            fully_qualified_name: format!("{object}:{field}"),
            kind: "property",
        });
    }
    let location = Location {
        physical_location,
        logical_locations,
    };

    let suppressions = finding
        .exception
        .iter()
        .map(|reason| Suppression {
            kind: "external",
            status: "accepted",
            justification: reason.clone(),
        })
        .collect();

    SarifResult {
        rule_id: finding.control.id,
        rule_index,
        level: level(finding.severity),
        message: Text {
            text: format!("{object}: {}", finding.message),
        },
        locations: vec![location],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint(finding))]),
        suppressions,
        properties: ResultProperties {
            severity: finding.severity,
            api_version: resource.api_version.to_owned(),
            kind: resource.kind.to_owned(),
            namespace: resource.namespace.clone(),
            name: resource.name.clone(),
            container: finding.container.clone(),
            field: finding.field.clone(),
        },
    }
}

/// Returns the file and region of a finding. Standard input has no path,
/// so its location is described, not named.
fn physical_location(source: &str, position: Option<TextPosition>) -> PhysicalLocation {
    let artifact_location = if source == "-" {
        ArtifactLocation {
            uri: None,
            description: Some(Text {
                text: "standard input".to_owned(),
            }),
        }
    } else {
        ArtifactLocation {
            uri: Some(artifact_uri(source)),
            description: None,
        }
    };
    PhysicalLocation {
        artifact_location,
        region: position.map(|position| Region {
            start_line: position.line,
            start_column: Some(position.column),
        }),
    }
}

/// Returns the run's invocation: successful unless an input could not be
/// read, with each input error and cluster gap as a notification.
fn invocation(report: &AuditReport, from_files: bool) -> Invocation {
    let mut notifications: Vec<Notification> = report
        .errors
        .iter()
        .map(|error| {
            let mut locations = Vec::new();
            if from_files {
                let mut physical = physical_location(&error.source, None);
                physical.region = error.line.map(|line| Region {
                    start_line: line,
                    start_column: None,
                });
                locations.push(Location {
                    physical_location: Some(physical),
                    logical_locations: Vec::new(),
                });
            }
            Notification {
                level: "error",
                message: Text {
                    text: format!("{}: {}", error.source, error.message),
                },
                locations,
            }
        })
        .collect();
    notifications.extend(report.gaps.iter().map(|gap| Notification {
        level: "warning",
        message: Text { text: gap.clone() },
        locations: Vec::new(),
    }));
    Invocation {
        execution_successful: report.errors.is_empty(),
        tool_execution_notifications: notifications,
    }
}

/// Returns the SARIF level: critical and high are `error`, medium is
/// `warning`, low is `note`.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// Returns the score GitHub turns into the alert severity (9.0 and above
/// critical, 7.0–8.9 high, 4.0–6.9 medium, below 4.0 low), in the middle
/// of the severity's band.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// Returns a control id in PascalCase (`privileged-container` becomes
/// `PrivilegedContainer`), for the rule name, which SARIF describes as an
/// identifier an end user understands.
fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Returns the manifest path as a URI reference: relative paths stay
/// relative (without a leading `./`), absolute ones become `file://` URIs,
/// and bytes that RFC 3986 does not allow in a path are percent-encoded.
fn artifact_uri(path: &str) -> String {
    let (prefix, path) = match path.strip_prefix('/') {
        Some(_) => ("file://", path),
        None => ("", path.trim_start_matches("./")),
    };
    let mut uri = String::from(prefix);
    for byte in path.bytes() {
        // `:` is left out, because in the first segment of a relative
        // reference it would start a scheme.
        let allowed = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&byte);
        if allowed {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    if uri.is_empty() {
        uri.push('.');
    }
    uri
}

/// Returns 32 hex digits that identify a finding across runs and line
/// moves: the SHA-256 of the control id, the object and the field path,
/// each length-prefixed.
fn fingerprint(finding: &Finding) -> String {
    let object = finding.resource.display();
    let field = finding.field.as_deref().unwrap_or_default();
    let mut hasher = Sha256::new();
    for part in [finding.control.id, object.as_str(), field] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_by_severity() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
    }

    #[test]
    fn rule_names() {
        assert_eq!(pascal_case("privileged-container"), "PrivilegedContainer");
        assert_eq!(pascal_case("pss-runAsNonRoot"), "PssRunAsNonRoot");
        assert_eq!(pascal_case("pss-host_ports"), "PssHostPorts");
    }

    #[test]
    fn uris() {
        assert_eq!(artifact_uri("k8s/app.yaml"), "k8s/app.yaml");
        assert_eq!(artifact_uri("./k8s/app.yaml"), "k8s/app.yaml");
        assert_eq!(
            artifact_uri("/srv/k8s/a b.yaml"),
            "file:///srv/k8s/a%20b.yaml"
        );
        assert_eq!(artifact_uri("c:app.yaml"), "c%3Aapp.yaml");
    }
}
