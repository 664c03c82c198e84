//! The normalised advisory record. Every importer maps its feed onto these
//! types, so the matcher and the reports never see a native format.
//!
//! The record follows the shape of the OSV schema 1.6 (id, aliases, ranges,
//! severities) because OSV is the widest of the feeds, and adds what the
//! distro feeds carry beyond it: a per-release status (fixed, not fixed,
//! won't fix, not affected, end-of-life) and the distro's urgency.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rampart_version::osv::{Event, Range, RangeType};
use serde::{Deserialize, Serialize};

use crate::Namespace;

/// One advisory as one feed publishes it. The same vulnerability published by
/// two feeds (a CVE in the Debian tracker and in NVD) gives two records with
/// the same `id` and different `source`s.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The feed's identifier: `CVE-2024-1234`, `GHSA-…`, `PYSEC-…`, `DSA-5380-1`.
    pub id: String,
    /// Other identifiers of the same vulnerability (OSV `aliases`, the CVE
    /// ids of a DSA).
    pub aliases: Vec<String>,
    /// Identifiers of closely related but distinct vulnerabilities (OSV `related`).
    pub related: Vec<String>,
    /// The feed that published the record, as [`crate::import::FeedKind::name`] gives it.
    pub source: String,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    /// Set when the feed withdrew the record; a withdrawn record matches nothing.
    pub withdrawn: Option<DateTime<Utc>>,
    pub summary: String,
    pub details: String,
    pub severities: Vec<Severity>,
    /// CWE ids such as `CWE-79`.
    pub cwes: Vec<String>,
    pub affected: Vec<AffectedPackage>,
    pub references: Vec<Reference>,
}

impl Advisory {
    /// Returns the record's identifier followed by its aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Returns the first CVE id among the id and the aliases.
    pub fn cve(&self) -> Option<&str> {
        self.ids().find(|id| id.starts_with("CVE-"))
    }
}

/// One package an advisory affects, in one namespace (an ecosystem or a
/// distro release).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AffectedPackage {
    pub namespace: Namespace,
    /// The package name as the namespace matches it: the source package for
    /// Debian and Ubuntu, the origin for Alpine, the normalised name for PyPI.
    pub package: String,
    /// Affected ranges; ECOSYSTEM ranges use the namespace's version scheme.
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    pub versions: Vec<String>,
    pub status: Status,
    /// The distro's urgency for this package and release (Debian `urgency`,
    /// for example `low`, `medium`, `high`, `unimportant`).
    pub urgency: Option<String>,
    /// Severities given for this package only (OSV `affected[].severity`).
    pub severities: Vec<Severity>,
}

impl AffectedPackage {
    /// Creates an entry with no ranges, no versions and status `Affected`.
    pub fn new(namespace: Namespace, package: impl Into<String>) -> Self {
        AffectedPackage {
            namespace,
            package: package.into(),
            ranges: Vec::new(),
            versions: Vec::new(),
            status: Status::Affected,
            urgency: None,
            severities: Vec::new(),
        }
    }

    /// Creates the entry of a distro feed that gives one fixed version:
    /// every version below `fixed` is affected.
    pub fn fixed_in(namespace: Namespace, package: impl Into<String>, fixed: &str) -> Self {
        let mut entry = AffectedPackage::new(namespace, package);
        entry.ranges.push(Range {
            range_type: RangeType::Ecosystem,
            events: vec![
                Event::Introduced("0".to_owned()),
                Event::Fixed(fixed.to_owned()),
            ],
        });
        entry.status = Status::Fixed;
        entry
    }

    /// Returns the fixed versions that the ranges name, in record order.
    pub fn fixed_versions(&self) -> impl Iterator<Item = &str> {
        self.ranges.iter().flat_map(|range| {
            range.events.iter().filter_map(|event| match event {
                Event::Fixed(version) => Some(version.as_str()),
                _ => None,
            })
        })
    }
}

/// Whether and how a package in a namespace is affected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Affected in the ranges and versions given; OSV records carry this,
    /// and the ranges may contain fixed events.
    Affected,
    /// Fixed in the version the ranges name; versions below it are affected.
    Fixed,
    /// Affected, and no fix is available yet (Debian `<unfixed>`, open).
    NotFixed,
    /// Affected, and the distro decided not to fix it (Debian `<no-dsa>`,
    /// `<ignored>`; Alpine and Ubuntu "deferred" or "ignored").
    WontFix,
    /// The distro states that this package and release are not affected.
    NotAffected,
    /// Affected, and the release gets no more security updates.
    EndOfLife,
    /// The distro has not decided yet (Debian `undetermined`).
    Undetermined,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Affected,
        Status::Fixed,
        Status::NotFixed,
        Status::WontFix,
        Status::NotAffected,
        Status::EndOfLife,
        Status::Undetermined,
    ];

    /// Returns the status as reports and `--ignore-status` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::NotFixed => "not-fixed",
            Status::WontFix => "wont-fix",
            Status::NotAffected => "not-affected",
            Status::EndOfLife => "end-of-life",
            Status::Undetermined => "undetermined",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Status::ALL.iter().map(|status| status.name()).collect();
                format!(
                    "unknown status {text:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// One severity statement of one source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    /// The rater: `nvd`, `debian`, `ghsa`, or the feed's name.
    pub source: String,
    pub kind: SeverityKind,
    /// The CVSS vector string, when the rating is a CVSS vector.
    pub vector: Option<String>,
    /// The base score, when the source gives one or the vector yields one.
    pub score: Option<f32>,
    /// The qualitative rating: given by the source, or derived from the score
    /// with the CVSS v3 bands.
    pub rating: Rating,
}

/// The scale a severity is expressed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeverityKind {
    CvssV2,
    CvssV3,
    CvssV4,
    /// A vendor's own rating (Debian urgency, Ubuntu priority, GHSA severity).
    Vendor,
}

impl SeverityKind {
    /// Returns the kind of a CVSS vector from its prefix (`CVSS:3.1/…`,
    /// `CVSS:4.0/…`; a vector with no prefix is CVSS v2).
    pub fn of_vector(vector: &str) -> SeverityKind {
        if vector.starts_with("CVSS:4") {
            SeverityKind::CvssV4
        } else if vector.starts_with("CVSS:3") {
            SeverityKind::CvssV3
        } else {
            SeverityKind::CvssV2
        }
    }
}

/// A qualitative severity, ordered from `Unknown` to `Critical`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Rating {
    #[default]
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Rating {
    pub const ALL: [Rating; 6] = [
        Rating::Unknown,
        Rating::Negligible,
        Rating::Low,
        Rating::Medium,
        Rating::High,
        Rating::Critical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rating::Unknown => "unknown",
            Rating::Negligible => "negligible",
            Rating::Low => "low",
            Rating::Medium => "medium",
            Rating::High => "high",
            Rating::Critical => "critical",
        }
    }

    /// Returns the rating of a CVSS v3 or v4 base score: 0.1–3.9 low,
    /// 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical, 0.0 none (here
    /// `Negligible`).
    pub fn from_cvss_score(score: f32) -> Rating {
        match score {
            s if s >= 9.0 => Rating::Critical,
            s if s >= 7.0 => Rating::High,
            s if s >= 4.0 => Rating::Medium,
            s if s > 0.0 => Rating::Low,
            0.0 => Rating::Negligible,
            _ => Rating::Unknown,
        }
    }

    /// Returns the rating of a CVSS v2 base score: 0.0–3.9 low, 4.0–6.9
    /// medium, 7.0–10.0 high (v2 has no critical band).
    pub fn from_cvss_v2_score(score: f32) -> Rating {
        match score {
            s if s >= 7.0 => Rating::High,
            s if s >= 4.0 => Rating::Medium,
            s if s >= 0.0 => Rating::Low,
            _ => Rating::Unknown,
        }
    }

    /// Parses a vendor's word for a rating, case-insensitively: `critical`,
    /// `high`/`important`, `medium`/`moderate`, `low`, `negligible`/
    /// `unimportant`/`none`. Anything else is `Unknown`.
    pub fn from_vendor_word(word: &str) -> Rating {
        match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Rating::Critical,
            "high" | "important" => Rating::High,
            "medium" | "moderate" => Rating::Medium,
            "low" => Rating::Low,
            "negligible" | "unimportant" | "none" => Rating::Negligible,
            _ => Rating::Unknown,
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Rating {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Rating::ALL
            .into_iter()
            .find(|rating| rating.name() == text.to_ascii_lowercase())
            .ok_or_else(|| {
                let names: Vec<&str> = Rating::ALL.iter().map(|rating| rating.name()).collect();
                format!(
                    "unknown severity {text:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// A link of an advisory, with the OSV reference type (`ADVISORY`, `FIX`,
/// `WEB`, …) when the feed gives one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub kind: Option<String>,
    pub url: String,
}

/// One entry of the CISA Known Exploited Vulnerabilities catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    pub cve: String,
    pub vendor_project: String,
    pub product: String,
    pub name: String,
    pub date_added: NaiveDate,
    pub due_date: Option<NaiveDate>,
    /// `Known`, `Unknown`, as the catalog gives it.
    pub known_ransomware_campaign_use: String,
    pub required_action: String,
}

/// The EPSS probability of exploitation of one CVE.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    pub cve: String,
    /// The probability of exploitation activity in the next 30 days, 0–1.
    pub score: f32,
    /// The share of scored CVEs with a lower or equal score, 0–1.
    pub percentile: f32,
    /// The model's score date; the `CVE;epss;percentile` variant carries none.
    pub date: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_bands() {
        assert_eq!(Rating::from_cvss_score(9.8), Rating::Critical);
        assert_eq!(Rating::from_cvss_score(7.0), Rating::High);
        assert_eq!(Rating::from_cvss_score(6.9), Rating::Medium);
        assert_eq!(Rating::from_cvss_score(0.1), Rating::Low);
        assert_eq!(Rating::from_cvss_score(0.0), Rating::Negligible);
        assert_eq!(Rating::from_cvss_v2_score(10.0), Rating::High);
    }

    #[test]
    fn vendor_words() {
        assert_eq!(Rating::from_vendor_word("Important"), Rating::High);
        assert_eq!(Rating::from_vendor_word("MODERATE"), Rating::Medium);
        assert_eq!(Rating::from_vendor_word("unimportant"), Rating::Negligible);
        assert_eq!(
            Rating::from_vendor_word("not yet assigned"),
            Rating::Unknown
        );
    }

    #[test]
    fn status_names_round_trip() {
        for status in Status::ALL {
            assert_eq!(status.name().parse::<Status>().unwrap(), status);
        }
    }

    #[test]
    fn fixed_in_builds_one_range() {
        let entry = AffectedPackage::fixed_in(Namespace::distro("debian", "12"), "zlib", "1:1.3");
        assert_eq!(entry.fixed_versions().collect::<Vec<_>>(), ["1:1.3"]);
        assert_eq!(entry.status, Status::Fixed);
    }

    #[test]
    fn cve_alias_found() {
        let advisory = Advisory {
            id: "DSA-5380-1".into(),
            aliases: vec!["CVE-2023-1393".into()],
            ..Advisory::default()
        };
        assert_eq!(advisory.cve(), Some("CVE-2023-1393"));
    }
}
