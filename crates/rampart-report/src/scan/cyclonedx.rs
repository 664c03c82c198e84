//! CycloneDX 1.6 JSON (ECMA-424 1st edition) with `vulnerabilities`: the
//! scan as a BOM that Dependency-Track and other CycloneDX consumers import.
//!
//! - `metadata.component` is the image (type `container`, with its purl when
//!   the report has one), or a `file` for a directory or root filesystem.
//! - `components` contains one `library` per distinct package purl of the
//!   inventory, whether or not it has findings, and one for each finding
//!   package the inventory lacks (a language package read from an SBOM).
//!   A component's `bom-ref` is its purl, so `affects[].ref` names the
//!   package by purl. A package without a purl gets `rampart:package:NAME@VERSION`.
//! - `vulnerabilities` contains one entry per vulnerability id, with every
//!   affected component in `affects`, each rating (the decided one first,
//!   then every source's CVSS and vendor rating), CWE ids as integers, the
//!   matched advisories and aliases as `references`, the URLs as
//!   `advisories`, the fixed versions as `recommendation` text, and KEV and
//!   EPSS as `rampart:*` properties, which CycloneDX has no fields for.
//!
//! Suppressed findings:
//! - A finding that a VEX statement suppressed stays in the BOM, in an entry
//!   of its own for the same id, whose `analysis` carries the statement:
//!   `state` from the VEX status (OpenVEX `not_affected` → `not_affected`,
//!   `fixed` → `resolved`; CycloneDX states unchanged), `justification` from
//!   the VEX justification where CycloneDX has an equivalent (see
//!   [`justification`]), and the reason and VEX file in `detail`. Its
//!   `affects` versions are `unaffected`. The separate entry keeps the
//!   analysis from applying to packages of the same id that no statement covers.
//! - A finding suppressed by the ignore file or by a severity or status
//!   filter is left out. CycloneDX has no analysis state for an accepted
//!   risk or a display filter, and every consumer reads an entry without
//!   analysis as affecting its components, so such an entry would undo the
//!   suppression. The JSON and SARIF outputs keep these findings.

use std::collections::BTreeMap;

use rampart_advisory::{Rating, SeverityKind};
use rampart_match::{Finding, SeverityEntry, Suppression, SuppressionKind};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{ScanReport, rfc3339, web_url};
use crate::meta::format_uuid_v5;
use crate::sbom::json::to_pretty_string;
use crate::sbom::{image_version, is_image, sorted_packages};

const SCHEMA_URL: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

/// Prefix of the serial hash input, so that a scan BOM's serial cannot equal
/// an SBOM serial computed from the same image.
const SERIAL_DOMAIN: &[u8] = b"rampart.scan.serial/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Component {
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    component_type: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
}

#[derive(Serialize)]
struct ExternalReference {
    url: &'static str,
    #[serde(rename = "type")]
    reference_type: &'static str,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Vulnerability {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<VulnerabilityReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ratings: Vec<RatingEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cwes: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommendation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisories: Vec<AdvisoryLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Analysis>,
    affects: Vec<Affect>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize, Clone, PartialEq)]
struct Source {
    name: String,
}

#[derive(Serialize, PartialEq)]
struct VulnerabilityReference {
    id: String,
    source: Source,
}

#[derive(Serialize, PartialEq)]
struct RatingEntry {
    source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f32>,
    severity: &'static str,
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<String>,
}

#[derive(Serialize)]
struct AdvisoryLink {
    url: String,
}

/// The analysis of a VEX statement. It is also the key that splits the
/// findings of one id into entries.
#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Analysis {
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    detail: String,
}

#[derive(Serialize, PartialEq)]
struct Affect {
    #[serde(rename = "ref")]
    reference: String,
    versions: Vec<AffectedVersion>,
}

#[derive(Serialize, PartialEq)]
struct AffectedVersion {
    version: String,
    status: &'static str,
}

/// Renders the BOM, pretty-printed, ending with a newline.
pub(super) fn render(report: &ScanReport) -> String {
    let mut bom = Bom {
        schema: SCHEMA_URL,
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: String::new(),
        version: 1,
        metadata: metadata(report),
        components: components(report),
        vulnerabilities: vulnerabilities(report),
    };

    // The serial is a hash of the document without it, so it changes with
    // any content, the timestamp included, and repeats only for identical BOMs.
    let mut hasher = Sha256::new();
    hasher.update(SERIAL_DOMAIN);
    hasher.update(to_pretty_string(&bom).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hasher.finalize()[..16]);
    bom.serial_number = format!("urn:uuid:{}", format_uuid_v5(bytes));

    to_pretty_string(&bom)
}

fn metadata(report: &ScanReport) -> Metadata {
    let source = &report.inventory.source;
    let image = Component {
        bom_ref: Some(
            report
                .image_purl
                .clone()
                .unwrap_or_else(|| "rampart:target".to_owned()),
        ),
        component_type: if is_image(source) {
            "container"
        } else {
            "file"
        },
        name: source.name.clone(),
        version: image_version(source).map(str::to_owned),
        purl: report.image_purl.clone(),
        external_references: Vec::new(),
    };
    let tool = Component {
        bom_ref: None,
        component_type: "application",
        name: "rampart".to_owned(),
        version: Some(report.tool_version.clone()),
        purl: None,
        external_references: vec![ExternalReference {
            url: crate::PROJECT_URL,
            reference_type: "vcs",
        }],
    };

    let mut properties = vec![
        Property {
            name: "rampart:database:builtAt",
            value: rfc3339(report.database.built_at),
        },
        Property {
            name: "rampart:database:schemaVersion",
            value: report.database.schema_version.to_string(),
        },
    ];
    if let Some(namespace) = &report.os_namespace {
        properties.push(Property {
            name: "rampart:scan:osNamespace",
            value: namespace.clone(),
        });
    }

    Metadata {
        timestamp: rfc3339(report.created),
        tools: Tools {
            components: vec![tool],
        },
        component: image,
        properties,
    }
}

/// Returns the bom-ref of a package: its purl, else a name-and-version ref.
fn component_ref(purl: &str, name: &str, version: &str) -> String {
    if purl.is_empty() {
        format!("rampart:package:{name}@{version}")
    } else {
        purl.to_owned()
    }
}

fn components(report: &ScanReport) -> Vec<Component> {
    let mut components: BTreeMap<String, Component> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut add = |purl: &str, name: &str, version: &str| {
        let bom_ref = component_ref(purl, name, version);
        if components.contains_key(&bom_ref) {
            return;
        }
        order.push(bom_ref.clone());
        components.insert(
            bom_ref.clone(),
            Component {
                bom_ref: Some(bom_ref),
                component_type: "library",
                name: name.to_owned(),
                version: Some(version.to_owned()),
                purl: (!purl.is_empty()).then(|| purl.to_owned()),
                external_references: Vec::new(),
            },
        );
    };

    for package in sorted_packages(&report.inventory) {
        add(&package.purl, &package.name, &package.version);
    }
    for finding in &report.findings {
        let package = &finding.package;
        add(&package.purl, &package.name, &package.version);
    }

    order
        .iter()
        .filter_map(|bom_ref| components.remove(bom_ref))
        .collect()
}

fn vulnerabilities(report: &ScanReport) -> Vec<Vulnerability> {
    let mut groups: BTreeMap<(&str, Option<Analysis>), Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        let analysis = match &finding.suppressed {
            None => None,
            Some(suppression) if suppression.kind == SuppressionKind::Vex => {
                Some(vex_analysis(suppression))
            }
            Some(_) => continue,
        };
        groups
            .entry((finding.id.as_str(), analysis))
            .or_default()
            .push(finding);
    }

    groups
        .into_iter()
        .map(|((id, analysis), findings)| vulnerability(id, analysis, &findings))
        .collect()
}

fn vulnerability(id: &str, analysis: Option<Analysis>, findings: &[&Finding]) -> Vulnerability {
    let first = findings[0];
    let status = if analysis.is_some() {
        "unaffected"
    } else {
        "affected"
    };

    let mut affects: Vec<Affect> = Vec::new();
    let mut ratings: Vec<RatingEntry> = Vec::new();
    let mut references: Vec<VulnerabilityReference> = Vec::new();
    let mut cwes: Vec<u32> = Vec::new();
    let mut urls: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    for finding in findings {
        add_affect(&mut affects, finding, status);
        add_ratings(&mut ratings, finding);
        add_references(&mut references, id, finding);

        for cwe in &finding.cwes {
            if let Some(number) = cwe_number(cwe).filter(|number| !cwes.contains(number)) {
                cwes.push(number);
            }
        }
        for url in finding.urls.iter().filter_map(|url| web_url(url)) {
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
        if let Some(fixed) = &finding.fixed_version {
            let fix = format!("Upgrade {} to {fixed}.", finding.package.name);
            if !fixes.contains(&fix) {
                fixes.push(fix);
            }
        }
    }

    Vulnerability {
        id: id.to_owned(),
        source: first.advisories.first().map(|advisory| Source {
            name: advisory.source.clone(),
        }),
        references,
        ratings,
        cwes,
        description: findings
            .iter()
            .map(|finding| finding.summary.trim())
            .find(|summary| !summary.is_empty())
            .map(str::to_owned),
        recommendation: (!fixes.is_empty()).then(|| fixes.join(" ")),
        advisories: urls.into_iter().map(|url| AdvisoryLink { url }).collect(),
        analysis,
        affects,
        properties: threat_properties(first),
    }
}

/// Adds the finding's package to `affects`, once per component, because
/// the schema requires unique items.
fn add_affect(affects: &mut Vec<Affect>, finding: &Finding, status: &'static str) {
    let package = &finding.package;
    let reference = component_ref(&package.purl, &package.name, &package.version);
    let version = AffectedVersion {
        version: package.version.clone(),
        status,
    };
    match affects
        .iter_mut()
        .find(|affect| affect.reference == reference)
    {
        Some(affect) if !affect.versions.contains(&version) => affect.versions.push(version),
        Some(_) => {}
        None => affects.push(Affect {
            reference,
            versions: vec![version],
        }),
    }
}

/// Adds the finding's ratings that are not yet present: the decided one
/// first, then the others in the finding's order.
fn add_ratings(ratings: &mut Vec<RatingEntry>, finding: &Finding) {
    let decided = finding.severities.iter().filter(|entry| entry.decided);
    let others = finding.severities.iter().filter(|entry| !entry.decided);
    for entry in decided.chain(others) {
        let rating = rating_entry(entry);
        if !ratings.contains(&rating) {
            ratings.push(rating);
        }
    }
}

fn rating_entry(entry: &SeverityEntry) -> RatingEntry {
    let method = match entry.kind {
        SeverityKind::CvssV2 => "CVSSv2",
        SeverityKind::CvssV3
            if entry
                .vector
                .as_deref()
                .is_some_and(|v| v.starts_with("CVSS:3.0/")) =>
        {
            "CVSSv3"
        }
        SeverityKind::CvssV3 => "CVSSv31",
        SeverityKind::CvssV4 => "CVSSv4",
        SeverityKind::Vendor => "other",
    };
    let severity = match entry.rating {
        Rating::Critical => "critical",
        Rating::High => "high",
        Rating::Medium => "medium",
        Rating::Low => "low",
        // CVSS calls a 0.0 score "none"; a vendor's negligible rating
        // (Debian `unimportant`) is informational.
        Rating::Negligible if entry.kind == SeverityKind::Vendor => "info",
        Rating::Negligible => "none",
        Rating::Unknown => "unknown",
    };
    RatingEntry {
        source: Source {
            name: entry.source.clone(),
        },
        score: entry.score.filter(|score| score.is_finite()),
        severity,
        method,
        vector: entry.vector.clone(),
    }
}

/// Adds the matched advisory records and the aliases as references to
/// equivalent vulnerabilities. A matched record names its feed as source.
/// An alias that no matched record carries names its id prefix (`GHSA`,
/// `PYSEC`).
fn add_references(references: &mut Vec<VulnerabilityReference>, id: &str, finding: &Finding) {
    let mut add = |reference: VulnerabilityReference| {
        let known = references
            .iter()
            .any(|existing| existing.id == reference.id);
        if reference.id != id && !known {
            references.push(reference);
        }
    };
    for advisory in &finding.advisories {
        add(VulnerabilityReference {
            id: advisory.id.clone(),
            source: Source {
                name: advisory.source.clone(),
            },
        });
    }
    for alias in &finding.aliases {
        let prefix = alias.split('-').next().unwrap_or(alias);
        add(VulnerabilityReference {
            id: alias.clone(),
            source: Source {
                name: prefix.to_owned(),
            },
        });
    }
}

/// Returns the number of a `CWE-79` id, or `None` for other text and for 0,
/// which the schema does not allow.
fn cwe_number(cwe: &str) -> Option<u32> {
    let digits = cwe.trim().strip_prefix("CWE-")?;
    digits.parse().ok().filter(|number| *number > 0)
}

/// Returns KEV and EPSS as properties, because CycloneDX 1.6 has no fields
/// for them.
fn threat_properties(finding: &Finding) -> Vec<Property> {
    let mut properties = Vec::new();
    if let Some(kev) = &finding.kev {
        properties.push(Property {
            name: "rampart:kev:dateAdded",
            value: kev.date_added.to_string(),
        });
        if let Some(due_date) = kev.due_date {
            properties.push(Property {
                name: "rampart:kev:dueDate",
                value: due_date.to_string(),
            });
        }
        properties.push(Property {
            name: "rampart:kev:knownRansomwareCampaignUse",
            value: kev.known_ransomware_campaign_use.clone(),
        });
    }
    if let Some(epss) = &finding.epss {
        properties.push(Property {
            name: "rampart:epss:score",
            value: epss.score.to_string(),
        });
        properties.push(Property {
            name: "rampart:epss:percentile",
            value: epss.percentile.to_string(),
        });
    }
    properties
}

fn vex_analysis(suppression: &Suppression) -> Analysis {
    let detail = match &suppression.file {
        Some(file) => format!("{} ({file})", suppression.reason),
        None => suppression.reason.clone(),
    };
    Analysis {
        state: suppression.vex_status.as_deref().and_then(state),
        justification: suppression.justification.as_deref().and_then(justification),
        detail,
    }
}

/// Maps a VEX status to a CycloneDX impact analysis state. OpenVEX `fixed`
/// means the product was remediated, which CycloneDX calls `resolved`.
fn state(status: &str) -> Option<&'static str> {
    match status {
        "not_affected" => Some("not_affected"),
        "fixed" | "resolved" => Some("resolved"),
        "resolved_with_pedigree" => Some("resolved_with_pedigree"),
        "false_positive" => Some("false_positive"),
        _ => None,
    }
}

/// Maps a VEX justification to CycloneDX's. CycloneDX values pass through.
/// Of the OpenVEX 0.2.0 justifications, `component_not_present` and
/// `vulnerable_code_not_present` become `code_not_present`,
/// `vulnerable_code_not_in_execute_path` becomes `code_not_reachable` and
/// `inline_mitigations_already_exist` becomes `protected_by_mitigating_control`.
/// `vulnerable_code_cannot_be_controlled_by_adversary` has no equivalent and
/// stays in `detail` only.
fn justification(text: &str) -> Option<&'static str> {
    match text {
        "component_not_present" | "vulnerable_code_not_present" | "code_not_present" => {
            Some("code_not_present")
        }
        "vulnerable_code_not_in_execute_path" | "code_not_reachable" => Some("code_not_reachable"),
        "inline_mitigations_already_exist" | "protected_by_mitigating_control" => {
            Some("protected_by_mitigating_control")
        }
        "requires_configuration" => Some("requires_configuration"),
        "requires_dependency" => Some("requires_dependency"),
        "requires_environment" => Some("requires_environment"),
        "protected_by_compiler" => Some("protected_by_compiler"),
        "protected_at_runtime" => Some("protected_at_runtime"),
        "protected_at_perimeter" => Some("protected_at_perimeter"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwe_numbers() {
        assert_eq!(cwe_number("CWE-79"), Some(79));
        assert_eq!(cwe_number("CWE-0"), None);
        assert_eq!(cwe_number("NVD-CWE-Other"), None);
        assert_eq!(cwe_number("CWE-noinfo"), None);
    }

    #[test]
    fn openvex_justifications_mapped() {
        assert_eq!(
            justification("vulnerable_code_not_in_execute_path"),
            Some("code_not_reachable")
        );
        assert_eq!(
            justification("component_not_present"),
            Some("code_not_present")
        );
        assert_eq!(
            justification("inline_mitigations_already_exist"),
            Some("protected_by_mitigating_control")
        );
        assert_eq!(
            justification("vulnerable_code_cannot_be_controlled_by_adversary"),
            None
        );
        assert_eq!(
            justification("requires_environment"),
            Some("requires_environment")
        );
    }

    #[test]
    fn vex_states_mapped() {
        assert_eq!(state("not_affected"), Some("not_affected"));
        assert_eq!(state("fixed"), Some("resolved"));
        assert_eq!(state("false_positive"), Some("false_positive"));
        assert_eq!(state("affected"), None);
    }
}
