//! SARIF 2.1.0 (OASIS Standard, errata 01), in the subset that GitHub code
//! scanning reads.
//!
//! The log has one run. Each vulnerability id is one rule (`reportingDescriptor`)
//! and each finding is one result. A result's first location is the package's
//! database file as a path relative to the image root (`var/lib/dpkg/status`),
//! with the diff_id of the layer that introduced the package in the
//! location's properties. Suppressed findings are results with an
//! `external` suppression whose justification is the suppression reason, so
//! code scanning shows them as dismissed.
//!
//! GitHub reads these fields beyond the schema: `properties.security-severity`
//! (a CVSS-like score as a string, which sets the alert's severity) and
//! `properties.tags` of a rule, and `partialFingerprints` of a result, which
//! match alerts across uploads.

use std::collections::BTreeMap;

use rampart_advisory::{Rating, Status};
use rampart_match::Finding;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{ScanReport, first_web_url, markdown, web_url};
use crate::sbom::json::to_pretty_string;

const SCHEMA_URL: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The `partialFingerprints` key. The suffix versions what the hash covers,
/// so a change to the hash input needs a new suffix.
const FINGERPRINT_KEY: &str = "vulnerabilityPackageHash/v1";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
struct Run {
    tool: Tool,
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
    version: String,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    short_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
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

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<String>,
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
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
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<LocationProperties>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationProperties {
    layer_diff_id: String,
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
    purl: String,
    installed_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixed_version: Option<String>,
    status: &'static str,
    severity: &'static str,
    namespace: String,
}

/// Renders the SARIF log, pretty-printed, ending with a newline.
pub(super) fn render(report: &ScanReport) -> String {
    // Rules are sorted by id in byte order. Each rule describes the most
    // severe finding of its id, the first one in report order among equals.
    let mut representatives: BTreeMap<&str, &Finding> = BTreeMap::new();
    for finding in &report.findings {
        representatives
            .entry(finding.id.as_str())
            .and_modify(|current| {
                if finding.severity > current.severity {
                    *current = finding;
                }
            })
            .or_insert(finding);
    }
    let rule_index: BTreeMap<&str, usize> = representatives
        .keys()
        .enumerate()
        .map(|(index, id)| (*id, index))
        .collect();
    let rules = representatives
        .values()
        .map(|finding| rule(finding))
        .collect();

    let results = report
        .findings
        .iter()
        .map(|finding| result(finding, rule_index[finding.id.as_str()], report))
        .collect();

    let log = Log {
        schema: SCHEMA_URL,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "rampart",
                    version: report.tool_version.clone(),
                    information_uri: crate::PROJECT_URL,
                    rules,
                },
            },
            results,
        }],
    };
    to_pretty_string(&log)
}

fn rule(finding: &Finding) -> Rule {
    let summary = finding.summary.trim();
    let short_description = match first_sentence(summary) {
        "" => finding.id.clone(),
        sentence => sentence.to_owned(),
    };
    let full_description = (!summary.is_empty() && summary != short_description).then(|| Text {
        text: summary.to_owned(),
    });

    Rule {
        id: finding.id.clone(),
        short_description: Text {
            text: short_description,
        },
        full_description,
        help_uri: first_web_url(finding),
        help: help(finding),
        default_configuration: Configuration {
            level: level(finding.severity),
        },
        properties: RuleProperties {
            security_severity: security_severity(finding),
            tags: vec!["security".to_owned(), finding.severity.name().to_owned()],
        },
    }
}

/// Returns the text up to and including the first `. `, or all of it.
fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}

/// Builds the rule help as plain text and as Markdown: summary, severity with its
/// source, aliases and reference URLs.
fn help(finding: &Finding) -> Help {
    let summary = finding.summary.trim();
    let severity = if finding.severity_source.is_empty() {
        format!("Severity: {}", finding.severity)
    } else {
        format!(
            "Severity: {} (from {})",
            finding.severity, finding.severity_source
        )
    };

    let mut text = vec![finding.id.clone()];
    let mut markdown = vec![format!("**{}**", markdown::escape(&finding.id))];
    if !summary.is_empty() {
        text.push(summary.to_owned());
        markdown.push(markdown::escape(summary));
    }
    text.push(severity.clone());
    markdown.push(markdown::escape(&severity));
    if !finding.aliases.is_empty() {
        let aliases = format!("Aliases: {}", finding.aliases.join(", "));
        markdown.push(markdown::escape(&aliases));
        text.push(aliases);
    }

    let urls: Vec<String> = finding.urls.iter().filter_map(|url| web_url(url)).collect();
    if !urls.is_empty() {
        text.push(format!("References:\n{}", urls.join("\n")));
        let links: Vec<String> = urls.iter().map(|url| format!("- <{url}>")).collect();
        markdown.push(format!("References:\n\n{}", links.join("\n")));
    }

    Help {
        text: text.join("\n\n"),
        markdown: markdown.join("\n\n"),
    }
}

fn result(finding: &Finding, rule_index: usize, report: &ScanReport) -> SarifResult {
    let package = &finding.package;
    let mut fix = match &finding.fixed_version {
        Some(version) => format!("fixed in {version}"),
        None => "no fixed version".to_owned(),
    };
    if finding.status != Status::Fixed {
        fix.push_str(&format!(" (status {})", finding.status));
    }
    let message = format!(
        "{} in {} {} ({}): {fix}.",
        finding.id, package.name, package.version, finding.severity
    );

    let layer = package.layer.clone().or_else(|| {
        package
            .locations
            .first()
            .and_then(|location| location.layer_diff_id.clone())
    });
    let location = Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: artifact_uri(finding, report),
            },
            // NOTE: GitHub code scanning anchors an alert at a line. The
            // model keeps no line per package, so line 1 stands for the file.
            region: Region { start_line: 1 },
        },
        properties: layer.map(|layer_diff_id| LocationProperties { layer_diff_id }),
    };

    let suppressions = finding
        .suppressed
        .iter()
        .map(|suppression| Suppression {
            kind: "external",
            status: "accepted",
            justification: match &suppression.file {
                Some(file) => format!("{} ({file})", suppression.reason),
                None => suppression.reason.clone(),
            },
        })
        .collect();

    SarifResult {
        rule_id: finding.id.clone(),
        rule_index,
        level: level(finding.severity),
        message: Text { text: message },
        locations: vec![location],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint(finding))]),
        suppressions,
        properties: ResultProperties {
            purl: package.purl.clone(),
            installed_version: package.version.clone(),
            fixed_version: finding.fixed_version.clone(),
            status: finding.status.name(),
            severity: finding.severity.name(),
            namespace: finding.namespace.clone(),
        },
    }
}

/// Returns the SARIF level of a severity: critical and high are `error`, medium is
/// `warning`, the rest `note`.
fn level(rating: Rating) -> &'static str {
    match rating {
        Rating::Critical | Rating::High => "error",
        Rating::Medium => "warning",
        Rating::Low | Rating::Negligible | Rating::Unknown => "note",
    }
}

/// Returns the score GitHub turns into the alert severity (9.0 and above
/// critical, 7.0–8.9 high, 4.0–6.9 medium, below 4.0 low).
///
/// The score is the deciding source's CVSS score, else the highest CVSS
/// score, when it falls in the band of the decided severity. Otherwise it is
/// a score inside that band, so GitHub shows the severity that rampart
/// decided: a Debian `low` for a CVE that NVD scores 9.8 stays low. Unknown
/// severity gives no score.
fn security_severity(finding: &Finding) -> Option<String> {
    let band_score = match finding.severity {
        Rating::Critical => 9.5,
        Rating::High => 8.0,
        Rating::Medium => 5.5,
        Rating::Low => 2.0,
        Rating::Negligible => 0.0,
        Rating::Unknown => return None,
    };

    let decided_score = finding
        .severities
        .iter()
        .find(|entry| entry.decided)
        .and_then(|entry| entry.score);
    let score = decided_score
        .or(finding.cvss_score)
        .filter(|score| score.is_finite() && band(*score) == band(band_score))
        .unwrap_or(band_score);
    Some(format!("{score:.1}"))
}

/// Returns GitHub's severity band of a score: 0 low, 1 medium, 2 high, 3 critical.
fn band(score: f32) -> u8 {
    match score {
        s if s >= 9.0 => 3,
        s if s >= 7.0 => 2,
        s if s >= 4.0 => 1,
        _ => 0,
    }
}

/// Returns the package's first database path, relative to the image root and
/// percent-encoded where RFC 3986 does not allow a byte in a path.
///
/// A package with no location (one read from an SBOM that gives none) gets
/// the name of the scanned target instead, because code scanning shows no
/// result without a location.
fn artifact_uri(finding: &Finding, report: &ScanReport) -> String {
    let path = finding
        .package
        .locations
        .first()
        .map(|location| location.path.as_str())
        .filter(|path| !path.trim_start_matches('/').is_empty())
        .unwrap_or(report.inventory.source.name.as_str());

    let mut uri = String::with_capacity(path.len());
    for byte in path.trim_start_matches('/').bytes() {
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

/// Returns 32 hex digits that identify a finding across scans: the SHA-256 of the
/// vulnerability id and the package purl, each length-prefixed.
fn fingerprint(finding: &Finding) -> String {
    let mut hasher = Sha256::new();
    for field in [finding.id.as_bytes(), finding.package.purl.as_bytes()] {
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field);
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_by_severity() {
        assert_eq!(level(Rating::Critical), "error");
        assert_eq!(level(Rating::High), "error");
        assert_eq!(level(Rating::Medium), "warning");
        assert_eq!(level(Rating::Low), "note");
        assert_eq!(level(Rating::Negligible), "note");
        assert_eq!(level(Rating::Unknown), "note");
    }

    #[test]
    fn first_sentence_split() {
        assert_eq!(
            first_sentence("urllib3 is a client library for Python. It leaks bodies."),
            "urllib3 is a client library for Python."
        );
        assert_eq!(
            first_sentence("Uses ld.so while loading"),
            "Uses ld.so while loading"
        );
        assert_eq!(first_sentence(""), "");
    }

    #[test]
    fn score_bands() {
        assert_eq!(band(9.8), 3);
        assert_eq!(band(9.0), 3);
        assert_eq!(band(8.9), 2);
        assert_eq!(band(4.0), 1);
        assert_eq!(band(3.9), 0);
        assert_eq!(band(0.0), 0);
    }
}
