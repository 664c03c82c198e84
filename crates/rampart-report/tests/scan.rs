//! Scan renderers: insta snapshots of every format, SARIF and CycloneDX
//! validation against the official schemas, checks the schemas cannot make
//! (references resolve, suppressed findings handled per format), Markdown
//! escaping and determinism.
//!
//! The fixture is a Debian 12 image with a pip-installed urllib3. Package
//! names and versions, vulnerability ids, fixed versions, CVSS vectors,
//! Debian urgencies, summaries, KEV and EPSS values are those of the real
//! records: the Debian bookworm changelog feed, the PyPI advisory database,
//! CISA KEV and EPSS. The image digests, the VEX and ignore files and the
//! scan times are made up.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use jsonschema::{Registry, Validator};
use rampart_advisory::{EpssScore, KevEntry, Rating, SeverityKind, Status};
use rampart_inventory::{
    Distro, Inventory, LayerRecord, Location, Package, PackageType, SourceInfo,
};
use rampart_match::{
    AdvisoryRef, Finding, MatchedPackage, SeverityEntry, Suppression, SuppressionKind,
};
use rampart_report::scan::{
    DatabaseIdentity, DatabaseSource, RenderOptions, ScanFormat, ScanReport, Summary, render_scan,
};
use serde_json::Value;

const CYCLONEDX_SCHEMA: &str = include_str!("schemas/bom-1.6.schema.json");
const CYCLONEDX_SPDX_IDS: &str = include_str!("schemas/spdx.schema.json");
const JSF_SCHEMA: &str = include_str!("schemas/jsf-0.82.schema.json");
const SARIF_SCHEMA: &str = include_str!("schemas/sarif-schema-2.1.0.json");

const BASE_LAYER: &str = "sha256:8d853c8add5d1e7b0aafc4b68a3d9fb8e7a0da27970c2acf831fe63be4a0cd2c";
const PIP_LAYER: &str = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

const ALL_FORMATS: [ScanFormat; 5] = [
    ScanFormat::Table,
    ScanFormat::Json,
    ScanFormat::Sarif,
    ScanFormat::CycloneDxJson,
    ScanFormat::Markdown,
];

// ---------------------------------------------------------------- fixture

fn at(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0)
        .single()
        .unwrap_or_default()
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn deb(name: &str, version: &str, source: &str) -> Package {
    let mut purl = format!(
        "pkg:deb/debian/{name}@{}?arch=amd64&distro=debian-12",
        version.replace('+', "%2B")
    );
    if source != name {
        purl.push_str(&format!("&upstream={source}"));
    }
    Package {
        package_type: PackageType::Deb,
        name: name.to_owned(),
        version: version.to_owned(),
        epoch: version
            .split_once(':')
            .and_then(|(epoch, _)| epoch.parse().ok()),
        architecture: Some("amd64".to_owned()),
        source_name: Some(source.to_owned()),
        source_version: None,
        licenses: Vec::new(),
        maintainer: None,
        purl,
        locations: vec![Location {
            path: "/var/lib/dpkg/status".to_owned(),
            layer_diff_id: Some(BASE_LAYER.to_owned()),
        }],
        introduced_in_layer: Some(BASE_LAYER.to_owned()),
        files: Vec::new(),
        declared: false,
        local_source: None,
    }
}

fn inventory() -> Inventory {
    Inventory {
        source: SourceInfo {
            facts: None,
            reference: "oci-archive:images/app.tar".to_owned(),
            kind: "oci-archive".to_owned(),
            name: "registry.example.com/rampart/app:1.0".to_owned(),
            tags: vec!["registry.example.com/rampart/app:1.0".to_owned()],
            manifest_digest: Some(
                "sha256:9a1f4e6f3f0c0ad05e1b0bbd1be5ba4b3e5b0c7c2c0b8f1b5e2d6c4a8e0f7d31"
                    .to_owned(),
            ),
            image_id: Some(
                "sha256:2b7412e6465c3c7fc5bb21d3e6f1917c167358449fecac8176c6e496e5c1f05f"
                    .to_owned(),
            ),
            architecture: Some("amd64".to_owned()),
            os: Some("linux".to_owned()),
            layers: vec![
                LayerRecord {
                    digest: None,
                    diff_id: BASE_LAYER.to_owned(),
                    size: None,
                    uncompressed_size: 77_836_800,
                },
                LayerRecord {
                    digest: None,
                    diff_id: PIP_LAYER.to_owned(),
                    size: None,
                    uncompressed_size: 1_126_400,
                },
            ],
        },
        distro: Some(Distro {
            id: "debian".to_owned(),
            version_id: Some("12".to_owned()),
            codename: Some("bookworm".to_owned()),
            point_release: Some("12.2".to_owned()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_owned()),
            id_like: Vec::new(),
            source_file: "/etc/os-release".to_owned(),
        }),
        packages: vec![
            deb("apt", "2.6.1", "apt"),
            deb("libc6", "2.36-9+deb12u1", "glibc"),
            deb("libexpat1", "2.5.0-1+deb12u2", "expat"),
            deb("libssl3", "3.0.20-1~deb12u2", "openssl"),
            deb("openssl", "3.0.20-1~deb12u2", "openssl"),
            deb("zlib1g", "1:1.2.13.dfsg-1", "zlib"),
        ],
        warnings: Vec::new(),
    }
}

/// Builds the matched package of an inventory package. `matched` names the
/// source package when advisories are keyed by it.
fn matched(package: &Package, matched: Option<&str>) -> MatchedPackage {
    MatchedPackage {
        name: package.name.clone(),
        version: package.version.clone(),
        package_type: package.package_type.purl_type().to_owned(),
        purl: package.purl.clone(),
        matched_name: matched.map(str::to_owned),
        matched_version: matched.map(|_| package.version.clone()),
        locations: package.locations.clone(),
        layer: package.introduced_in_layer.clone(),
    }
}

fn package_named(name: &str) -> Package {
    inventory()
        .packages
        .into_iter()
        .find(|package| package.name == name)
        .unwrap_or_else(|| panic!("fixture has no package {name}"))
}

fn urllib3() -> MatchedPackage {
    MatchedPackage {
        name: "urllib3".to_owned(),
        version: "1.26.12".to_owned(),
        package_type: "pypi".to_owned(),
        purl: "pkg:pypi/urllib3@1.26.12".to_owned(),
        matched_name: None,
        matched_version: None,
        locations: vec![Location {
            path: "/usr/local/lib/python3.11/site-packages/urllib3-1.26.12.dist-info/METADATA"
                .to_owned(),
            layer_diff_id: Some(PIP_LAYER.to_owned()),
        }],
        layer: Some(PIP_LAYER.to_owned()),
    }
}

fn cvss(
    source: &str,
    kind: SeverityKind,
    vector: &str,
    score: f32,
    rating: Rating,
) -> SeverityEntry {
    SeverityEntry {
        source: source.to_owned(),
        kind,
        vector: Some(vector.to_owned()),
        score: Some(score),
        rating,
        decided: false,
    }
}

fn vendor(source: &str, rating: Rating) -> SeverityEntry {
    SeverityEntry {
        source: source.to_owned(),
        kind: SeverityKind::Vendor,
        vector: None,
        score: None,
        rating,
        decided: false,
    }
}

fn decided(mut entry: SeverityEntry) -> SeverityEntry {
    entry.decided = true;
    entry
}

/// A finding with the fields every fixture finding shares; the callers set
/// the rest with struct update syntax.
fn base(id: &str, package: MatchedPackage, namespace: &str) -> Finding {
    Finding {
        id: id.to_owned(),
        aliases: Vec::new(),
        advisories: vec![AdvisoryRef {
            source: if namespace == "pypi" {
                "osv:pypi".to_owned()
            } else {
                "debian-tracker".to_owned()
            },
            id: id.to_owned(),
        }],
        package,
        namespace: namespace.to_owned(),
        status: Status::Fixed,
        fixed_version: None,
        severity: Rating::Unknown,
        severity_source: String::new(),
        cvss_score: None,
        severities: Vec::new(),
        kev: None,
        epss: None,
        summary: String::new(),
        cwes: Vec::new(),
        urls: Vec::new(),
        suppressed: None,
    }
}

fn glibc_looney_tunables() -> Finding {
    Finding {
        aliases: vec!["DSA-5514-1".to_owned()],
        advisories: vec![
            AdvisoryRef {
                source: "debian-tracker".to_owned(),
                id: "CVE-2023-4911".to_owned(),
            },
            AdvisoryRef {
                source: "debian-dsa".to_owned(),
                id: "DSA-5514-1".to_owned(),
            },
        ],
        fixed_version: Some("2.36-9+deb12u3".to_owned()),
        severity: Rating::High,
        severity_source: "nvd@nist.gov".to_owned(),
        cvss_score: Some(7.8),
        severities: vec![decided(cvss(
            "nvd@nist.gov",
            SeverityKind::CvssV3,
            "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
            7.8,
            Rating::High,
        ))],
        kev: Some(KevEntry {
            cve: "CVE-2023-4911".to_owned(),
            vendor_project: "GNU".to_owned(),
            product: "GNU C Library".to_owned(),
            name: "GNU C Library Buffer Overflow Vulnerability".to_owned(),
            date_added: date(2023, 11, 21),
            due_date: Some(date(2023, 12, 12)),
            known_ransomware_campaign_use: "Unknown".to_owned(),
            required_action: "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.".to_owned(),
        }),
        epss: Some(EpssScore {
            cve: "CVE-2023-4911".to_owned(),
            score: 0.81422,
            percentile: 0.99606,
            date: None,
        }),
        summary: "A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so while processing the GLIBC_TUNABLES environment variable.".to_owned(),
        cwes: vec!["CWE-122".to_owned(), "CWE-787".to_owned()],
        urls: vec![
            "https://security-tracker.debian.org/tracker/CVE-2023-4911".to_owned(),
            "https://www.openwall.com/lists/oss-security/2023/10/03/2".to_owned(),
        ],
        ..base(
            "CVE-2023-4911",
            matched(&package_named("libc6"), Some("glibc")),
            "debian:12",
        )
    }
}

fn expat_vex_not_affected() -> Finding {
    Finding {
        fixed_version: Some("2.5.0-1+deb12u4".to_owned()),
        severity: Rating::High,
        severity_source: "debian".to_owned(),
        cvss_score: Some(7.5),
        severities: vec![
            decided(vendor("debian", Rating::High)),
            cvss(
                "nvd@nist.gov",
                SeverityKind::CvssV3,
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                7.5,
                Rating::High,
            ),
        ],
        epss: Some(EpssScore {
            cve: "CVE-2024-28757".to_owned(),
            score: 0.02006,
            percentile: 0.79138,
            date: None,
        }),
        summary: "libexpat through 2.6.1 allows an XML Entity Expansion attack when there is isolated use of external parsers (created via XML_ExternalEntityParserCreate).".to_owned(),
        cwes: vec!["CWE-776".to_owned()],
        urls: vec!["https://github.com/libexpat/libexpat/issues/839".to_owned()],
        suppressed: Some(Suppression {
            kind: SuppressionKind::Vex,
            reason: "VEX not_affected: vulnerable_code_not_in_execute_path".to_owned(),
            file: Some("vex/app.openvex.json".to_owned()),
            vex_status: Some("not_affected".to_owned()),
            justification: Some("vulnerable_code_not_in_execute_path".to_owned()),
        }),
        ..base(
            "CVE-2024-28757",
            matched(&package_named("libexpat1"), Some("expat")),
            "debian:12",
        )
    }
}

/// Builds an openssl finding from the bookworm changelog feed, which carries no
/// description and no URL.
fn openssl_high(package: &str) -> Finding {
    let matched_name = (package != "openssl").then_some("openssl");
    Finding {
        fixed_version: Some("3.0.22-1~deb12u2".to_owned()),
        severity: Rating::High,
        severity_source: "debian".to_owned(),
        severities: vec![decided(vendor("debian", Rating::High))],
        ..base(
            "CVE-2026-35189",
            matched(&package_named(package), matched_name),
            "debian:12",
        )
    }
}

fn openssl_ignored() -> Finding {
    Finding {
        fixed_version: Some("3.0.22-1~deb12u1".to_owned()),
        severity: Rating::Medium,
        severity_source: "debian".to_owned(),
        severities: vec![decided(vendor("debian", Rating::Medium))],
        suppressed: Some(Suppression {
            kind: SuppressionKind::IgnoreFile,
            reason: "accepted until the 3.0.22 rebuild ships".to_owned(),
            file: Some(".rampart-ignore.yaml".to_owned()),
            vex_status: None,
            justification: None,
        }),
        ..base(
            "CVE-2026-42767",
            matched(&package_named("libssl3"), Some("openssl")),
            "debian:12",
        )
    }
}

fn urllib3_redirect_body() -> Finding {
    Finding {
        aliases: vec![
            "GHSA-g4mx-q9vg-27p4".to_owned(),
            "PYSEC-2023-212".to_owned(),
        ],
        advisories: vec![AdvisoryRef {
            source: "osv:pypi".to_owned(),
            id: "PYSEC-2023-212".to_owned(),
        }],
        fixed_version: Some("1.26.18".to_owned()),
        severity: Rating::Medium,
        severity_source: "osv:pypi".to_owned(),
        cvss_score: Some(4.2),
        severities: vec![decided(cvss(
            "osv:pypi",
            SeverityKind::CvssV3,
            "CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N",
            4.2,
            Rating::Medium,
        ))],
        epss: Some(EpssScore {
            cve: "CVE-2023-45803".to_owned(),
            score: 0.00539,
            percentile: 0.42851,
            date: None,
        }),
        summary: "urllib3 is a user-friendly HTTP client library for Python. urllib3 previously wouldn't remove the HTTP request body when an HTTP redirect response using status 301, 302, or 303 after the request had its method changed from one that could ac".to_owned(),
        urls: vec![
            "https://github.com/urllib3/urllib3/security/advisories/GHSA-g4mx-q9vg-27p4".to_owned(),
            "https://www.rfc-editor.org/rfc/rfc9110.html#name-get".to_owned(),
            "https://github.com/urllib3/urllib3/commit/4e98d57809dacab1cbe625fddeec1a290c478ea9".to_owned(),
        ],
        ..base("CVE-2023-45803", urllib3(), "pypi")
    }
}

fn apt_not_fixed() -> Finding {
    Finding {
        status: Status::NotFixed,
        severity: Rating::Negligible,
        severity_source: "debian".to_owned(),
        cvss_score: Some(4.3),
        severities: vec![
            decided(vendor("debian", Rating::Negligible)),
            cvss(
                "nvd@nist.gov",
                SeverityKind::CvssV3,
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N",
                3.7,
                Rating::Low,
            ),
            cvss(
                "nvd@nist.gov",
                SeverityKind::CvssV2,
                "AV:N/AC:M/Au:N/C:N/I:P/A:N",
                4.3,
                Rating::Medium,
            ),
        ],
        summary: "It was found that apt-key in apt, all versions, do not correctly validate gpg keys with the master keyring, leading to a potential man-in-the-middle attack.".to_owned(),
        cwes: vec!["CWE-347".to_owned()],
        urls: vec![
            "https://security-tracker.debian.org/tracker/CVE-2011-3374".to_owned(),
            "https://access.redhat.com/security/cve/cve-2011-3374".to_owned(),
        ],
        ..base("CVE-2011-3374", matched(&package_named("apt"), None), "debian:12")
    }
}

/// The findings in the matcher's order: severity, highest first, then
/// package name, version and id.
fn findings() -> Vec<Finding> {
    vec![
        glibc_looney_tunables(),
        expat_vex_not_affected(),
        openssl_high("libssl3"),
        openssl_high("openssl"),
        openssl_ignored(),
        urllib3_redirect_body(),
        apt_not_fixed(),
    ]
}

fn fixture() -> ScanReport {
    ScanReport {
        created: at(2026, 12, 5, 10),
        tool_version: "0.0.0-test".to_owned(),
        inventory: inventory(),
        image_purl: Some(
            "pkg:oci/app@sha256%3A9a1f4e6f3f0c0ad05e1b0bbd1be5ba4b3e5b0c7c2c0b8f1b5e2d6c4a8e0f7d31?arch=amd64&repository_url=registry.example.com/rampart/app&tag=1.0"
                .to_owned(),
        ),
        os_namespace: Some("debian:12".to_owned()),
        database: DatabaseIdentity {
            built_at: at(2026, 12, 4, 6),
            schema_version: 1,
            sources: vec![
                DatabaseSource {
                    source: "debian-tracker".to_owned(),
                    records: 81,
                    newest_modified: None,
                },
                DatabaseSource {
                    source: "osv:pypi".to_owned(),
                    records: 2661,
                    newest_modified: Some(at(2024, 10, 10, 0)),
                },
            ],
            too_old: false,
        },
        findings: findings(),
        warnings: vec![
            ".rampart-ignore.yaml: the ignore entry for CVE-2023-31484 expired on 2026-11-30 and no longer applies".to_owned(),
        ],
    }
}

fn render(format: ScanFormat, report: &ScanReport) -> String {
    render_scan(report, format, RenderOptions::default())
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("rendered JSON does not parse: {error}\n{text}"))
}

fn array<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("no array at {pointer}"))
}

// ------------------------------------------------------------- validators

fn schema(text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("vendored schema does not parse: {error}"))
}

fn errors(validator: &Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

/// Validates against the OASIS SARIF 2.1.0 schema (draft-04), with the
/// `uri` and `uri-reference` formats checked.
fn sarif_errors(document: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .with_format("uri-reference", is_uri_reference)
        .build(&schema(SARIF_SCHEMA))
        .unwrap_or_else(|error| panic!("SARIF schema: {error}"));
    errors(&validator, document)
}

/// Stands in for the `uri-reference` format, which draft-04 does not define,
/// so jsonschema leaves it unchecked in the draft-04 SARIF schema. Accepts
/// the characters RFC 3986 allows in a URI reference, with `%` only before
/// two hex digits.
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

/// Validates against `bom-1.6.schema.json`, with the two schemas that it
/// references registered under their `$id`s so that nothing is fetched.
fn cyclonedx_errors(document: &Value) -> Vec<String> {
    let registry = Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            schema(CYCLONEDX_SPDX_IDS),
        )
        .and_then(|registry| {
            registry.add(
                "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                schema(JSF_SCHEMA),
            )
        })
        .and_then(|registry| registry.prepare())
        .unwrap_or_else(|error| panic!("schema registry: {error}"));
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema(CYCLONEDX_SCHEMA))
        .unwrap_or_else(|error| panic!("CycloneDX schema: {error}"));
    errors(&validator, document)
}

// ------------------------------------------------------- schema validation

#[test]
fn sarif_valid() {
    let text = render(ScanFormat::Sarif, &fixture());
    let errors = sarif_errors(&parse(&text));
    assert!(errors.is_empty(), "{}\n{text}", errors.join("\n"));
}

#[test]
fn sarif_validator_rejects_bad_level() {
    let mut document = parse(&render(ScanFormat::Sarif, &fixture()));
    document["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!sarif_errors(&document).is_empty());
}

#[test]
fn sarif_validator_checks_uri_format() {
    let mut document = parse(&render(ScanFormat::Sarif, &fixture()));
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("var/lib/dpkg/status file|x");
    assert!(
        !sarif_errors(&document).is_empty(),
        "uri-reference format is not asserted"
    );
}

#[test]
fn sarif_validator_checks_uri() {
    let mut document = parse(&render(ScanFormat::Sarif, &fixture()));
    document["runs"][0]["tool"]["driver"]["informationUri"] = Value::from("not a uri");
    assert!(
        !sarif_errors(&document).is_empty(),
        "uri format is not asserted"
    );
}

#[test]
fn cyclonedx_valid() {
    let text = render(ScanFormat::CycloneDxJson, &fixture());
    let errors = cyclonedx_errors(&parse(&text));
    assert!(errors.is_empty(), "{}\n{text}", errors.join("\n"));
}

#[test]
fn cyclonedx_validator_rejects_bad_state() {
    let mut document = parse(&render(ScanFormat::CycloneDxJson, &fixture()));
    let vex = array(&document, "/vulnerabilities")
        .iter()
        .position(|vulnerability| vulnerability.get("analysis").is_some())
        .unwrap_or_else(|| panic!("no vulnerability with analysis"));
    document["vulnerabilities"][vex]["analysis"]["state"] = Value::from("ignored");
    assert!(!cyclonedx_errors(&document).is_empty());
}

#[test]
fn no_findings_valid() {
    let report = ScanReport {
        findings: Vec::new(),
        ..fixture()
    };
    let sarif = sarif_errors(&parse(&render(ScanFormat::Sarif, &report)));
    assert!(sarif.is_empty(), "{}", sarif.join("\n"));
    let cyclonedx = cyclonedx_errors(&parse(&render(ScanFormat::CycloneDxJson, &report)));
    assert!(cyclonedx.is_empty(), "{}", cyclonedx.join("\n"));
}

// -------------------------------------------------------------- snapshots

#[test]
fn table_snapshot() {
    insta::assert_snapshot!("table", render(ScanFormat::Table, &fixture()));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("json", render(ScanFormat::Json, &fixture()));
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!("sarif", render(ScanFormat::Sarif, &fixture()));
}

#[test]
fn cyclonedx_snapshot() {
    insta::assert_snapshot!("cyclonedx", render(ScanFormat::CycloneDxJson, &fixture()));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!("markdown", render(ScanFormat::Markdown, &fixture()));
}

// ---------------------------------------------------------------- summary

#[test]
fn summary_counts() {
    let summary = Summary::of(&findings());
    assert_eq!(
        summary,
        Summary {
            critical: 0,
            high: 3,
            medium: 1,
            low: 0,
            negligible: 1,
            unknown: 0,
            total: 5,
            fixable: 4,
            kev: 1,
            suppressed: 2,
        }
    );
}

#[test]
fn summary_in_json() {
    let document = parse(&render(ScanFormat::Json, &fixture()));
    assert_eq!(document["summary"]["total"], 5);
    assert_eq!(document["summary"]["suppressed"], 2);
    assert_eq!(document["summary"]["kev"], 1);
}

// ------------------------------------------------------------------ table

#[test]
fn table_plain_has_no_escapes() {
    let text = render(ScanFormat::Table, &fixture());
    assert!(!text.contains('\u{1b}'), "{text}");
}

#[test]
fn table_color_marks_severities() {
    let text = render_scan(&fixture(), ScanFormat::Table, RenderOptions { color: true });
    assert!(text.contains('\u{1b}'), "{text}");
    // The high findings in (dark) red, the negligible one dim.
    assert!(text.contains("\u{1b}[38;5;1mhigh"), "{text:?}");
    assert!(text.contains("\u{1b}[2mnegligible"), "{text:?}");
}

#[test]
fn table_leaves_out_suppressed() {
    let text = render(ScanFormat::Table, &fixture());
    assert!(!text.contains("CVE-2024-28757"), "{text}");
    assert!(!text.contains("CVE-2026-42767"), "{text}");
    assert!(text.contains("CVE-2023-4911"), "{text}");
}

#[test]
fn table_no_findings() {
    let report = ScanReport {
        findings: Vec::new(),
        warnings: Vec::new(),
        ..fixture()
    };
    let text = render(ScanFormat::Table, &report);
    assert!(text.contains("\nNo vulnerabilities found.\n"), "{text}");
    assert!(
        text.ends_with("Total: 0 · fixable 0 · KEV 0 · suppressed 0\n"),
        "{text}"
    );
}

#[test]
fn table_only_suppressed() {
    let report = ScanReport {
        findings: vec![expat_vex_not_affected()],
        ..fixture()
    };
    let text = render(ScanFormat::Table, &report);
    assert!(text.contains("No vulnerabilities found."), "{text}");
    assert!(text.ends_with("suppressed 1\n"), "{text}");
}

#[test]
fn table_escapes_control_characters() {
    let mut report = fixture();
    report.findings[0].package.name = "libc6\u{1b}[2J".to_owned();
    let text = render(ScanFormat::Table, &report);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("libc6\\u{1b}[2J"), "{text}");
}

// ------------------------------------------------------------------- JSON

#[test]
fn json_keeps_every_finding_in_order() {
    let document = parse(&render(ScanFormat::Json, &fixture()));
    let ids: Vec<&str> = array(&document, "/findings")
        .iter()
        .filter_map(|finding| finding["id"].as_str())
        .collect();
    let expected: Vec<String> = findings().into_iter().map(|finding| finding.id).collect();
    assert_eq!(ids, expected);
}

#[test]
fn json_target_keys_always_present() {
    let mut report = fixture();
    report.image_purl = None;
    report.inventory.distro = None;
    let document = parse(&render(ScanFormat::Json, &report));
    assert_eq!(document["schema"], "rampart.scan/v1");
    assert_eq!(document["target"]["purl"], Value::Null);
    assert_eq!(document["target"]["distro"], Value::Null);
    let keys: Vec<&String> = document["target"]
        .as_object()
        .map(|object| object.keys().collect())
        .unwrap_or_default();
    // serde_json's map sorts the keys.
    let mut expected = [
        "reference",
        "kind",
        "name",
        "manifest_digest",
        "image_id",
        "purl",
        "architecture",
        "os",
        "distro",
        "layers",
        "facts",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(document["target"]["facts"], Value::Null);
}

#[test]
fn json_findings_round_trip() {
    let document = parse(&render(ScanFormat::Json, &fixture()));
    let parsed: Vec<Finding> = serde_json::from_value(document["findings"].clone())
        .unwrap_or_else(|error| panic!("findings do not deserialize: {error}"));
    assert_eq!(parsed, findings());
}

#[test]
fn inventory_warnings_merged_once() {
    let mut report = fixture();
    let duplicate = report.warnings[0].clone();
    report.inventory.warnings = vec![
        duplicate,
        "/var/lib/rpm/Packages: Berkeley DB rpm databases are not read".to_owned(),
    ];
    let document = parse(&render(ScanFormat::Json, &report));
    let warnings = array(&document, "/warnings");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[0], report.warnings[0].as_str());
}

// ------------------------------------------------------------------ SARIF

#[test]
fn sarif_one_rule_per_id() {
    let document = parse(&render(ScanFormat::Sarif, &fixture()));
    let rules: Vec<&str> = array(&document, "/runs/0/tool/driver/rules")
        .iter()
        .filter_map(|rule| rule["id"].as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "CVE-2011-3374",
            "CVE-2023-45803",
            "CVE-2023-4911",
            "CVE-2024-28757",
            "CVE-2026-35189",
            "CVE-2026-42767"
        ]
    );
}

#[test]
fn sarif_rule_indexes_match() {
    let document = parse(&render(ScanFormat::Sarif, &fixture()));
    let rules = array(&document, "/runs/0/tool/driver/rules");
    let results = array(&document, "/runs/0/results");
    assert_eq!(results.len(), findings().len());
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
}

#[test]
fn sarif_security_severity_follows_decision() {
    let document = parse(&render(ScanFormat::Sarif, &fixture()));
    let severity = |id: &str| -> Value {
        array(&document, "/runs/0/tool/driver/rules")
            .iter()
            .find(|rule| rule["id"] == id)
            .map(|rule| rule["properties"]["security-severity"].clone())
            .unwrap_or(Value::Null)
    };
    // The deciding NVD score.
    assert_eq!(severity("CVE-2023-4911"), "7.8");
    // Debian decided high with no score: the highest CVSS score is in the band.
    assert_eq!(severity("CVE-2024-28757"), "7.5");
    // Debian decided high and there is no score at all.
    assert_eq!(severity("CVE-2026-35189"), "8.0");
    // Debian decided negligible, and NVD's CVSS v2 4.3 would read as medium.
    assert_eq!(severity("CVE-2011-3374"), "0.0");
}

#[test]
fn sarif_location_relative_with_layer() {
    let document = parse(&render(ScanFormat::Sarif, &fixture()));
    let location = &document["runs"][0]["results"][0]["locations"][0];
    assert_eq!(
        location["physicalLocation"]["artifactLocation"]["uri"],
        "var/lib/dpkg/status"
    );
    assert_eq!(location["properties"]["layerDiffId"], BASE_LAYER);
}

#[test]
fn sarif_suppressions_only_on_suppressed() {
    let document = parse(&render(ScanFormat::Sarif, &fixture()));
    for (result, finding) in array(&document, "/runs/0/results").iter().zip(findings()) {
        let suppressions = result.get("suppressions");
        match &finding.suppressed {
            Some(suppression) => {
                let first = &result["suppressions"][0];
                assert_eq!(first["kind"], "external");
                let justification = first["justification"].as_str().unwrap_or("");
                assert!(
                    justification.starts_with(&suppression.reason),
                    "{justification}"
                );
            }
            None => assert!(suppressions.is_none(), "{}", finding.id),
        }
    }
}

#[test]
fn sarif_fingerprints_per_package() {
    let document = parse(&render(ScanFormat::Sarif, &fixture()));
    let mut fingerprints: Vec<&str> = array(&document, "/runs/0/results")
        .iter()
        .filter_map(|result| result["partialFingerprints"]["vulnerabilityPackageHash/v1"].as_str())
        .collect();
    assert_eq!(fingerprints.len(), findings().len());
    fingerprints.sort_unstable();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), findings().len(), "fingerprints collide");
}

#[test]
fn sarif_fingerprint_ignores_order_and_time() {
    let report = fixture();
    let mut later = fixture();
    later.created = at(2027, 1, 1, 0);
    later.findings.reverse();
    let fingerprint = |text: &str, id: &str| -> Value {
        array(&parse(text), "/runs/0/results")
            .iter()
            .find(|result| result["ruleId"] == id)
            .map(|result| result["partialFingerprints"].clone())
            .unwrap_or(Value::Null)
    };
    let first = render(ScanFormat::Sarif, &report);
    let second = render(ScanFormat::Sarif, &later);
    assert_ne!(fingerprint(&first, "CVE-2023-4911"), Value::Null);
    assert_eq!(
        fingerprint(&first, "CVE-2023-4911"),
        fingerprint(&second, "CVE-2023-4911")
    );
}

#[test]
fn sarif_uri_percent_encoded() {
    let mut report = fixture();
    report.findings[0].package.locations[0].path = "/opt/my app/a:b|c.txt".to_owned();
    let text = render(ScanFormat::Sarif, &report);
    let document = parse(&text);
    assert_eq!(
        document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "opt/my%20app/a%3Ab%7Cc.txt"
    );
    let errors = sarif_errors(&document);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn sarif_package_without_location() {
    let mut report = fixture();
    report.findings[5].package.locations.clear();
    let document = parse(&render(ScanFormat::Sarif, &report));
    assert_eq!(
        document["runs"][0]["results"][5]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "registry.example.com/rampart/app%3A1.0"
    );
}

// -------------------------------------------------------------- CycloneDX

#[test]
fn cyclonedx_affects_resolve() {
    let document = parse(&render(ScanFormat::CycloneDxJson, &fixture()));
    let refs: Vec<&str> = array(&document, "/components")
        .iter()
        .filter_map(|component| component["bom-ref"].as_str())
        .collect();
    let mut unique = refs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), refs.len(), "duplicate bom-refs");

    for vulnerability in array(&document, "/vulnerabilities") {
        for affect in vulnerability["affects"].as_array().into_iter().flatten() {
            let reference = affect["ref"].as_str().unwrap_or("");
            assert!(refs.contains(&reference), "{reference} is no component");
        }
    }
}

#[test]
fn cyclonedx_components_cover_inventory_and_findings() {
    let document = parse(&render(ScanFormat::CycloneDxJson, &fixture()));
    let purls: Vec<&str> = array(&document, "/components")
        .iter()
        .filter_map(|component| component["purl"].as_str())
        .collect();
    for package in inventory().packages {
        assert!(purls.contains(&package.purl.as_str()), "{}", package.purl);
    }
    assert!(purls.contains(&"pkg:pypi/urllib3@1.26.12"), "{purls:?}");
    assert_eq!(purls.len(), inventory().packages.len() + 1);
}

#[test]
fn cyclonedx_groups_packages_by_id() {
    let document = parse(&render(ScanFormat::CycloneDxJson, &fixture()));
    let openssl = array(&document, "/vulnerabilities")
        .iter()
        .find(|vulnerability| vulnerability["id"] == "CVE-2026-35189")
        .cloned()
        .unwrap_or(Value::Null);
    let refs: Vec<&str> = array(&openssl, "/affects")
        .iter()
        .filter_map(|affect| affect["ref"].as_str())
        .collect();
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert_eq!(
        openssl["recommendation"],
        "Upgrade libssl3 to 3.0.22-1~deb12u2. Upgrade openssl to 3.0.22-1~deb12u2."
    );
}

#[test]
fn cyclonedx_vex_analysis() {
    let document = parse(&render(ScanFormat::CycloneDxJson, &fixture()));
    let expat = array(&document, "/vulnerabilities")
        .iter()
        .find(|vulnerability| vulnerability["id"] == "CVE-2024-28757")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(expat["analysis"]["state"], "not_affected");
    assert_eq!(expat["analysis"]["justification"], "code_not_reachable");
    assert_eq!(expat["affects"][0]["versions"][0]["status"], "unaffected");
}

#[test]
fn cyclonedx_leaves_out_ignored() {
    let text = render(ScanFormat::CycloneDxJson, &fixture());
    assert!(
        !text.contains("CVE-2026-42767"),
        "ignored finding in the BOM"
    );
    let document = parse(&text);
    assert_eq!(array(&document, "/vulnerabilities").len(), 5);
}

#[test]
fn cyclonedx_vex_split_from_active() {
    // The same CVE active in libssl3 and declared not affected in openssl
    // gives two entries, so the analysis covers only openssl.
    let mut report = fixture();
    report.findings[3].suppressed = expat_vex_not_affected().suppressed;
    let document = parse(&render(ScanFormat::CycloneDxJson, &report));
    let entries: Vec<&Value> = array(&document, "/vulnerabilities")
        .iter()
        .filter(|vulnerability| vulnerability["id"] == "CVE-2026-35189")
        .collect();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].get("analysis").is_none());
    assert_eq!(entries[1]["analysis"]["state"], "not_affected");
    let errors = cyclonedx_errors(&document);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn cyclonedx_ratings_and_cwes() {
    let document = parse(&render(ScanFormat::CycloneDxJson, &fixture()));
    let apt = array(&document, "/vulnerabilities")
        .iter()
        .find(|vulnerability| vulnerability["id"] == "CVE-2011-3374")
        .cloned()
        .unwrap_or(Value::Null);
    let methods: Vec<&str> = array(&apt, "/ratings")
        .iter()
        .filter_map(|rating| rating["method"].as_str())
        .collect();
    assert_eq!(methods, ["other", "CVSSv31", "CVSSv2"]);
    assert_eq!(apt["ratings"][0]["severity"], "info");
    assert_eq!(apt["cwes"], serde_json::json!([347]));
}

#[test]
fn cyclonedx_serial_changes_with_content() {
    let first = parse(&render(ScanFormat::CycloneDxJson, &fixture()));
    let mut later = fixture();
    later.created = at(2027, 1, 1, 0);
    let second = parse(&render(ScanFormat::CycloneDxJson, &later));
    assert_ne!(first["serialNumber"], second["serialNumber"]);
    assert_eq!(
        first["serialNumber"],
        parse(&render(ScanFormat::CycloneDxJson, &fixture()))["serialNumber"]
    );
}

// --------------------------------------------------------------- Markdown

/// Counts the unescaped `|` of a table row, which GFM reads as cell borders.
fn cell_borders(row: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for c in row.chars() {
        if c == '|' && !escaped {
            count += 1;
        }
        escaped = c == '\\' && !escaped;
    }
    count
}

fn hostile_report() -> ScanReport {
    let mut report = fixture();
    let hostile = "x | y <script>alert(1)</script> [link](javascript:alert(1)) **b** `c`\nnext";
    report.findings[0].id = format!("CVE-2023-4911 {hostile}");
    report.findings[0].package.name = format!("libc6 {hostile}");
    report.findings[0].fixed_version = Some("2.36|x`y".to_owned());
    report.findings[0].urls = vec!["javascript:alert(1)".to_owned()];
    if let Some(suppression) = report.findings[1].suppressed.as_mut() {
        suppression.reason = hostile.to_owned();
    }
    report.warnings = vec![hostile.to_owned()];
    report
}

#[test]
fn markdown_escapes_table_cells() {
    let text = render(ScanFormat::Markdown, &hostile_report());
    let mut tables = 0;
    let mut header_borders = None;
    for line in text.lines() {
        if !line.starts_with('|') {
            header_borders = None;
            continue;
        }
        match header_borders {
            None => {
                tables += 1;
                header_borders = Some(cell_borders(line));
            }
            Some(expected) => assert_eq!(cell_borders(line), expected, "{line}"),
        }
    }
    assert_eq!(tables, 3, "{text}");
}

/// Returns the text that Markdown reads as syntax: code spans and
/// backslash-escaped characters are removed, because both show literally.
fn markdown_syntax(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut syntax = String::new();
    let mut index = 0;
    while index < chars.len() {
        match chars[index] {
            '\\' => index += 2,
            '`' => {
                let run = chars[index..].iter().take_while(|c| **c == '`').count();
                let fence = "`".repeat(run);
                let rest: String = chars[index + run..].iter().collect();
                match rest.find(&fence) {
                    Some(end) => index += run + rest[..end].chars().count() + run,
                    None => {
                        syntax.push_str(&fence);
                        index += run;
                    }
                }
            }
            c => {
                syntax.push(c);
                index += 1;
            }
        }
    }
    syntax
}

#[test]
fn markdown_escapes_html_and_links() {
    let text = render(ScanFormat::Markdown, &hostile_report());
    let syntax = markdown_syntax(&text);
    assert!(!syntax.contains("<script>"), "{text}");
    assert!(!syntax.contains("](javascript:"), "{text}");
    assert!(!syntax.contains("**b**"), "{text}");
    assert!(text.contains("&lt;script&gt;"), "{text}");
    assert!(
        !text.contains("\nnext"),
        "a line break escaped the cell: {text}"
    );
}

#[test]
fn markdown_link_to_first_url() {
    let text = render(ScanFormat::Markdown, &fixture());
    assert!(
        text.contains("[CVE-2023-4911](https://security-tracker.debian.org/tracker/CVE-2023-4911)"),
        "{text}"
    );
}

#[test]
fn markdown_sorted_by_severity() {
    let mut report = fixture();
    report.findings.reverse();
    let text = render(ScanFormat::Markdown, &report);
    let glibc = text.find("CVE-2023-4911").unwrap_or(usize::MAX);
    let urllib3 = text.find("CVE-2023-45803").unwrap_or(usize::MAX);
    let apt = text.find("CVE-2011-3374").unwrap_or(usize::MAX);
    assert!(glibc < urllib3, "{text}");
    assert!(urllib3 < apt, "{text}");
}

#[test]
fn markdown_no_findings() {
    let report = ScanReport {
        findings: Vec::new(),
        warnings: Vec::new(),
        ..fixture()
    };
    let text = render(ScanFormat::Markdown, &report);
    assert!(text.contains("\n\nNo vulnerabilities found.\n"), "{text}");
    assert!(!text.contains("<details>"), "{text}");
}

// ------------------------------------------------------------ determinism

#[test]
fn repeated_render_identical() {
    let report = fixture();
    for format in ALL_FORMATS {
        assert_eq!(render(format, &report), render(format, &report), "{format}");
    }
}

#[test]
fn package_order_irrelevant() {
    let report = fixture();
    let mut reversed = fixture();
    reversed.inventory.packages.reverse();
    for format in ALL_FORMATS {
        assert_eq!(
            render(format, &reversed),
            render(format, &report),
            "{format}"
        );
    }
}

#[test]
fn every_format_ends_with_newline() {
    let report = fixture();
    for format in ALL_FORMATS {
        let text = render(format, &report);
        assert!(text.ends_with('\n'), "{format}: no final newline");
        assert!(!text.ends_with("\n\n"), "{format}: blank line at the end");
    }
}

#[test]
fn markdown_fits_github_comment() {
    let mut report = fixture();
    let template = urllib3_redirect_body();
    report.findings = (0..2_000)
        .map(|index| {
            let mut finding = template.clone();
            finding.package.name = format!("package-{index:04}");
            finding.package.purl = format!("pkg:pypi/package-{index:04}@1.26.12");
            finding
        })
        .chain([glibc_looney_tunables(), expat_vex_not_affected()])
        .collect();

    let text = render(ScanFormat::Markdown, &report);
    assert!(
        text.chars().count() <= 65_536,
        "{} characters",
        text.chars().count()
    );
    // The most severe finding is listed although it comes last in the report.
    assert!(text.contains("| `libc6` |"), "most severe finding left out");
    assert!(
        text.contains("left out to keep this comment within GitHub's limit"),
        "no note on left-out rows"
    );
    assert!(
        !text.contains("| `libexpat1` |"),
        "suppressed row kept over active ones"
    );
    assert!(text.contains("\n</details>\n"), "details block not closed");
}
