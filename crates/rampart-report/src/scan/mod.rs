//! Renderers of vulnerability scan results: a terminal table grouped by
//! package, rampart's JSON (`rampart.scan/v1`), SARIF 2.1.0, CycloneDX 1.6
//! with `vulnerabilities`, and Markdown for pull-request comments.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use rampart_advisory::{EpssScore, Rating, Status};
use rampart_inventory::{Distro, Inventory};
use rampart_match::Finding;
use serde::Serialize;

mod cyclonedx;
mod json;
pub(crate) mod markdown;
mod sarif;
pub(crate) mod table;

/// Everything a scan report shows.
#[derive(Clone, Debug, Serialize)]
pub struct ScanReport {
    /// The report's creation time.
    pub created: DateTime<Utc>,
    pub tool_version: String,
    /// The scanned image (or SBOM) and its packages.
    pub inventory: Inventory,
    /// The purl of the scanned image (`pkg:oci/NAME@DIGEST`), when it has a digest.
    pub image_purl: Option<String>,
    /// The namespace OS packages were matched in (`debian:12`).
    pub os_namespace: Option<String>,
    pub database: DatabaseIdentity,
    /// Every finding, suppressed ones included (see [`Finding::suppressed`]).
    pub findings: Vec<Finding>,
    /// Warnings the reader must see: no advisories for the release, an end
    /// of life, an old database, expired ignore entries.
    pub warnings: Vec<String>,
}

/// The identity of the database a scan used, so two reports can be compared.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct DatabaseIdentity {
    pub built_at: DateTime<Utc>,
    pub schema_version: u32,
    /// Sources with their record counts and newest record time.
    pub sources: Vec<DatabaseSource>,
    /// Set when the database is older than the configured maximum age.
    #[serde(default)]
    pub too_old: bool,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct DatabaseSource {
    pub source: String,
    pub records: u64,
    pub newest_modified: Option<DateTime<Utc>>,
}

/// Counts of the findings that are not suppressed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub negligible: usize,
    pub unknown: usize,
    pub total: usize,
    /// Findings with a fixed version.
    pub fixable: usize,
    /// Findings listed in CISA KEV.
    pub kev: usize,
    pub suppressed: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut summary = Summary::default();
        for finding in findings {
            if !finding.is_active() {
                summary.suppressed += 1;
                continue;
            }
            summary.total += 1;
            match finding.severity {
                Rating::Critical => summary.critical += 1,
                Rating::High => summary.high += 1,
                Rating::Medium => summary.medium += 1,
                Rating::Low => summary.low += 1,
                Rating::Negligible => summary.negligible += 1,
                Rating::Unknown => summary.unknown += 1,
            }
            if finding.fixed_version.is_some() && finding.status == Status::Fixed {
                summary.fixable += 1;
            }
            if finding.kev.is_some() {
                summary.kev += 1;
            }
        }
        summary
    }
}

/// An output format for scan results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScanFormat {
    Table,
    Json,
    Sarif,
    CycloneDxJson,
    Markdown,
}

impl ScanFormat {
    pub fn name(self) -> &'static str {
        match self {
            ScanFormat::Table => "table",
            ScanFormat::Json => "json",
            ScanFormat::Sarif => "sarif",
            ScanFormat::CycloneDxJson => "cyclonedx-json",
            ScanFormat::Markdown => "markdown",
        }
    }
}

impl fmt::Display for ScanFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScanFormat {
    type Err = String;

    /// Parses a format name, ignoring ASCII case; `cyclonedx` and `md` are
    /// accepted as short names.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "table" => Ok(ScanFormat::Table),
            "json" => Ok(ScanFormat::Json),
            "sarif" => Ok(ScanFormat::Sarif),
            "cyclonedx-json" | "cyclonedx" => Ok(ScanFormat::CycloneDxJson),
            "markdown" | "md" => Ok(ScanFormat::Markdown),
            _ => Err(format!(
                "unknown scan format {text:?}: expected one of table, json, sarif, cyclonedx-json, markdown"
            )),
        }
    }
}

/// Rendering options.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Colour severities with ANSI escapes (the table on a terminal).
    pub color: bool,
}

/// Renders a scan report.
pub fn render_scan(report: &ScanReport, format: ScanFormat, options: RenderOptions) -> String {
    match format {
        ScanFormat::Table => table::render(report, options),
        ScanFormat::Json => json::render(report),
        ScanFormat::Sarif => sarif::render(report),
        ScanFormat::CycloneDxJson => cyclonedx::render(report),
        ScanFormat::Markdown => markdown::render(report),
    }
}

/// Returns the distro of a report, for headings: the os-release
/// `PRETTY_NAME`, else `ID VERSION_ID`, else `unknown distro`.
pub fn distro_name(distro: Option<&Distro>) -> String {
    let Some(distro) = distro else {
        return "unknown distro".to_owned();
    };
    if let Some(pretty_name) = distro
        .pretty_name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
    {
        return pretty_name.to_owned();
    }
    match &distro.version_id {
        Some(version_id) => format!("{} {version_id}", distro.id),
        None => distro.id.clone(),
    }
}

/// Returns the report's warnings, then the inventory warnings that are not
/// among them. A caller that already copied the inventory warnings into the
/// report does not get them twice.
pub(crate) fn warnings(report: &ScanReport) -> Vec<&str> {
    let mut warnings: Vec<&str> = report.warnings.iter().map(String::as_str).collect();
    for warning in &report.inventory.warnings {
        if !warnings.contains(&warning.as_str()) {
            warnings.push(warning);
        }
    }
    warnings
}

/// Formats a time as RFC 3339 in UTC to whole seconds (`2024-05-01T12:00:00Z`).
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Formats an EPSS score as the probability and the percentile rank, as
/// `81.4% (99th)`. The rank is the percentile rounded down, so `99th` means
/// that at least 99 % of scored CVEs have a lower or equal score.
pub(crate) fn epss_text(epss: &EpssScore) -> String {
    let rank = (f64::from(epss.percentile) * 100.0)
        .floor()
        .clamp(0.0, 100.0) as u32;
    let suffix = match (rank % 10, rank % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{:.1}% ({rank}{suffix})", f64::from(epss.score) * 100.0)
}

/// Returns `url` as a valid RFC 3986 URI when it is an `http` or `https`
/// URL. Every byte that RFC 3986 does not allow (space, `"`, `<`, `>`, `\`,
/// `^`, `` ` ``, `{`, `|`, `}`, non-ASCII, and `%` not followed by two hex
/// digits) is percent-encoded. Returns `None` for other schemes, so no
/// `javascript:` or `file:` link reaches a report.
pub(crate) fn web_url(url: &str) -> Option<String> {
    let url = url.trim();
    let scheme_end = url.find("://")?;
    if !matches!(
        url[..scheme_end].to_ascii_lowercase().as_str(),
        "http" | "https"
    ) {
        return None;
    }
    if url.len() == scheme_end + 3 {
        return None;
    }

    let bytes = url.as_bytes();
    let mut encoded = String::with_capacity(url.len());
    for (index, &byte) in bytes.iter().enumerate() {
        let escape = byte == b'%'
            && bytes
                .get(index + 1..index + 3)
                .is_some_and(|digits| digits.iter().all(u8::is_ascii_hexdigit));
        let allowed = byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&byte);
        if allowed || escape {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(encoded)
}

/// Returns the first of a finding's URLs that [`web_url`] accepts.
pub(crate) fn first_web_url(finding: &Finding) -> Option<String> {
    finding.urls.iter().find_map(|url| web_url(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epss(score: f32, percentile: f32) -> EpssScore {
        EpssScore {
            cve: "CVE-2023-4911".to_owned(),
            score,
            percentile,
            date: None,
        }
    }

    #[test]
    fn epss_text_ordinals() {
        assert_eq!(epss_text(&epss(0.81422, 0.99606)), "81.4% (99th)");
        assert_eq!(epss_text(&epss(0.00539, 0.42851)), "0.5% (42nd)");
        assert_eq!(epss_text(&epss(0.001, 0.0112)), "0.1% (1st)");
        assert_eq!(epss_text(&epss(0.001, 0.113)), "0.1% (11th)");
        assert_eq!(epss_text(&epss(0.001, 0.235)), "0.1% (23rd)");
        assert_eq!(epss_text(&epss(1.0, 1.0)), "100.0% (100th)");
    }

    #[test]
    fn distro_name_fallbacks() {
        let mut distro = Distro {
            id: "debian".to_owned(),
            version_id: Some("12".to_owned()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_owned()),
            ..Distro::default()
        };
        assert_eq!(distro_name(Some(&distro)), "Debian GNU/Linux 12 (bookworm)");
        distro.pretty_name = None;
        assert_eq!(distro_name(Some(&distro)), "debian 12");
        distro.version_id = None;
        assert_eq!(distro_name(Some(&distro)), "debian");
        assert_eq!(distro_name(None), "unknown distro");
    }

    #[test]
    fn format_names_parse() {
        for format in [
            ScanFormat::Table,
            ScanFormat::Json,
            ScanFormat::Sarif,
            ScanFormat::CycloneDxJson,
            ScanFormat::Markdown,
        ] {
            assert_eq!(format.name().parse::<ScanFormat>(), Ok(format));
        }
        assert_eq!(
            "CycloneDX".parse::<ScanFormat>(),
            Ok(ScanFormat::CycloneDxJson)
        );
        assert_eq!("md".parse::<ScanFormat>(), Ok(ScanFormat::Markdown));
        assert!("html".parse::<ScanFormat>().is_err());
    }

    #[test]
    fn web_url_encodes_and_filters() {
        assert_eq!(
            web_url("https://security-tracker.debian.org/tracker/CVE-2023-4911").as_deref(),
            Some("https://security-tracker.debian.org/tracker/CVE-2023-4911")
        );
        assert_eq!(
            web_url("https://example.com/a b|c<d>é").as_deref(),
            Some("https://example.com/a%20b%7Cc%3Cd%3E%C3%A9")
        );
        assert_eq!(
            web_url("https://example.com/100%?q=%2F").as_deref(),
            Some("https://example.com/100%25?q=%2F")
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("file:///etc/passwd"), None);
        assert_eq!(web_url("https://"), None);
    }
}
