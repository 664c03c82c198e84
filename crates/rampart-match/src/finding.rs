//! Findings: one vulnerability of one installed package, with the evidence
//! a reviewer needs (which advisory matched, the fixed version, every
//! source's severity and the one that decided, KEV and EPSS), and why a
//! finding was suppressed when it was.

use rampart_advisory::{EpssScore, KevEntry, Rating, SeverityKind, Status};
use rampart_inventory::Location;
use serde::{Deserialize, Serialize};

/// One vulnerability of one installed package.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The vulnerability id: the CVE when any matched record names one,
    /// else the advisory's own id (GHSA, PYSEC, RUSTSEC, GO, TEMP).
    pub id: String,
    /// Every other id of the matched records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The advisory records that matched, by source.
    pub advisories: Vec<AdvisoryRef>,
    pub package: MatchedPackage,
    /// The namespace the match was made in (`debian:12`, `pypi`).
    pub namespace: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// The severity that decided, and from which source.
    pub severity: Rating,
    pub severity_source: String,
    /// The highest CVSS base score among the sources, for sorting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f32>,
    /// Every source's severity statement; `decided` marks the one used.
    pub severities: Vec<SeverityEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev: Option<KevEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss: Option<EpssScore>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Set when a filter, an ignore rule or a VEX statement suppressed the
    /// finding; suppressed findings stay in JSON output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

impl Finding {
    /// Returns whether the finding counts (for tables, counts and `--fail-on`).
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}

/// A matched advisory record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryRef {
    pub source: String,
    pub id: String,
}

/// The package a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedPackage {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub package_type: String,
    pub purl: String,
    /// The name and version compared with advisories, when they differ from
    /// the package's own (a Debian source package, an Alpine origin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_version: Option<String>,
    pub locations: Vec<Location>,
    /// The diff_id of the layer that introduced the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

/// One source's severity of a finding's vulnerability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeverityEntry {
    pub source: String,
    pub kind: SeverityKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    pub rating: Rating,
    pub decided: bool,
}

/// The reason a finding is suppressed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub kind: SuppressionKind,
    /// The rule in words: the VEX statement's status and justification, the
    /// ignore entry's statement, the filter that applied.
    pub reason: String,
    /// The file the rule came from, for VEX and ignore files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// VEX status (`not_affected`, `fixed`) and justification, when VEX decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

/// The kind of rule that suppressed a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionKind {
    /// `--severity` left the finding's severity out.
    Severity,
    /// `--ignore-unfixed` or `--ignore-status`.
    Status,
    /// An entry of the ignore file.
    IgnoreFile,
    /// A VEX statement.
    Vex,
}
