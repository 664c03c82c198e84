//! rampart's diff JSON, schema `rampart.diff/v1` (`docs/diff-json.md`), and
//! the reader of saved scan JSON (`rampart.scan/v1`) that `rampart diff`
//! accepts in place of an image.

use rampart_advisory::{Rating, Status};
use rampart_inventory::{Distro, ImageFacts, LayerRecord, SourceInfo};
use rampart_match::Finding;
use serde::{Deserialize, Serialize};

use super::{Cause, ChangedFinding, CountRow, DiffReport, PackageChanges, PackageRef, Side};
use crate::sbom::json::to_pretty_string;
use crate::scan::{DatabaseIdentity, rfc3339};

/// The value of the `schema` field.
const SCHEMA: &str = "rampart.diff/v1";

/// The schema of the scan JSON that `rampart diff` reads.
const SCAN_SCHEMA: &str = "rampart.scan/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    created: String,
    tool: Tool<'a>,
    a: SideView<'a>,
    b: SideView<'a>,
    same_database: bool,
    summary: SummaryView,
    packages: PackagesView<'a>,
    findings: FindingsView<'a>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct SideView<'a> {
    reference: &'a str,
    kind: &'a str,
    name: &'a str,
    manifest_digest: Option<&'a str>,
    image_id: Option<&'a str>,
    purl: Option<&'a str>,
    distro: Option<&'a Distro>,
    facts: Option<&'a ImageFacts>,
    database: &'a DatabaseIdentity,
}

#[derive(Serialize)]
struct SummaryView {
    severities: Vec<CountView>,
    total: CountView,
    unique_vulnerabilities: CountView,
    kev: CountView,
    fixable: CountView,
    not_fixed: CountView,
}

#[derive(Serialize)]
struct CountView {
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<String>,
    a: usize,
    b: usize,
    delta: i64,
    /// Rounded to one decimal; `null` when A has none.
    reduction_percent: Option<f64>,
}

impl CountView {
    fn of(row: &CountRow, severity: bool) -> CountView {
        CountView {
            severity: severity.then(|| row.label.clone()),
            a: row.a,
            b: row.b,
            delta: row.delta(),
            reduction_percent: row
                .reduction_percent()
                .map(|percent| (percent * 10.0).round() / 10.0),
        }
    }
}

#[derive(Serialize)]
struct PackagesView<'a> {
    os: &'a PackageChanges,
    language: &'a PackageChanges,
}

#[derive(Serialize)]
struct FindingsView<'a> {
    only_in_a: Vec<ChangedView<'a>>,
    only_in_b: Vec<ChangedView<'a>>,
    in_both: Vec<CommonView<'a>>,
}

#[derive(Serialize)]
struct FindingView<'a> {
    id: &'a str,
    severity: Rating,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixed_version: Option<&'a str>,
    kev: bool,
    package: PackageView<'a>,
}

impl<'a> FindingView<'a> {
    fn of(finding: &'a Finding) -> FindingView<'a> {
        FindingView {
            id: &finding.id,
            severity: finding.severity,
            status: finding.status,
            fixed_version: finding.fixed_version.as_deref(),
            kev: finding.kev.is_some(),
            package: PackageView {
                name: &finding.package.name,
                version: &finding.package.version,
                package_type: &finding.package.package_type,
                purl: &finding.package.purl,
            },
        }
    }
}

#[derive(Serialize)]
struct PackageView<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(rename = "type")]
    package_type: &'a str,
    purl: &'a str,
}

#[derive(Serialize)]
struct ChangedView<'a> {
    #[serde(flatten)]
    finding: FindingView<'a>,
    cause: &'a Cause,
}

#[derive(Serialize)]
struct CommonView<'a> {
    a: FindingView<'a>,
    b: FindingView<'a>,
}

fn changed(list: &[ChangedFinding]) -> Vec<ChangedView<'_>> {
    list.iter()
        .map(|changed| ChangedView {
            finding: FindingView::of(&changed.finding),
            cause: &changed.cause,
        })
        .collect()
}

fn side(side: &Side) -> SideView<'_> {
    SideView {
        reference: &side.source.reference,
        kind: &side.source.kind,
        name: &side.source.name,
        manifest_digest: side.source.manifest_digest.as_deref(),
        image_id: side.source.image_id.as_deref(),
        purl: side.image_purl.as_deref(),
        distro: side.distro.as_ref(),
        facts: side.source.facts.as_ref(),
        database: &side.database,
    }
}

/// Renders the `rampart.diff/v1` document, pretty-printed, ending with a newline.
pub(super) fn render(report: &DiffReport) -> String {
    let document = Document {
        schema: SCHEMA,
        created: rfc3339(report.created),
        tool: Tool {
            name: "rampart",
            version: &report.tool_version,
        },
        a: side(&report.a),
        b: side(&report.b),
        same_database: report.same_database,
        summary: SummaryView {
            severities: report
                .severities
                .iter()
                .map(|row| CountView::of(row, true))
                .collect(),
            total: CountView::of(&report.total, false),
            unique_vulnerabilities: CountView::of(&report.unique, false),
            kev: CountView::of(&report.kev, false),
            fixable: CountView::of(&report.fixable, false),
            not_fixed: CountView::of(&report.not_fixed, false),
        },
        packages: PackagesView {
            os: &report.os_packages,
            language: &report.language_packages,
        },
        findings: FindingsView {
            only_in_a: changed(&report.only_in_a),
            only_in_b: changed(&report.only_in_b),
            in_both: report
                .in_both
                .iter()
                .map(|common| CommonView {
                    a: FindingView::of(&common.a),
                    b: FindingView::of(&common.b),
                })
                .collect(),
        },
        warnings: &report.warnings,
    };
    to_pretty_string(&document)
}

/// The parts of a `rampart.scan/v1` document that a comparison needs.
#[derive(Deserialize)]
struct ScanDocument {
    schema: String,
    target: ScanTarget,
    database: DatabaseIdentity,
    findings: Vec<Finding>,
    #[serde(default)]
    warnings: Vec<String>,
    packages: Option<Vec<PackageRef>>,
}

#[derive(Deserialize)]
struct ScanTarget {
    reference: String,
    kind: String,
    name: String,
    manifest_digest: Option<String>,
    image_id: Option<String>,
    purl: Option<String>,
    architecture: Option<String>,
    os: Option<String>,
    distro: Option<Distro>,
    #[serde(default)]
    layers: Vec<LayerRecord>,
    #[serde(default)]
    facts: Option<ImageFacts>,
}

/// Reads a saved scan (`rampart scan -o json=FILE`) as one side of a
/// comparison. `name` names the file in errors.
pub fn parse_scan_json(text: &str, name: &str) -> Result<Side, String> {
    let next_step = "make one with `rampart scan IMAGE -o json=FILE`";
    let probe: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{name} is not valid JSON ({e}); {next_step}"))?;
    let schema = probe.get("schema").and_then(|schema| schema.as_str());
    if schema != Some(SCAN_SCHEMA) {
        let is_sbom = probe.get("bomFormat").is_some()
            || probe.get("spdxVersion").is_some()
            || schema == Some(crate::sbom::json::SCHEMA);
        let next_step = if is_sbom {
            format!("it is an SBOM, so pass it as sbom:{name} to scan its packages")
        } else {
            next_step.to_owned()
        };
        return Err(format!(
            "{name} is not a rampart scan report: its schema is {}, not {SCAN_SCHEMA}; {next_step}",
            schema.map_or_else(|| "missing".to_owned(), |s| format!("{s:?}"))
        ));
    }
    let document: ScanDocument = serde_json::from_value(probe)
        .map_err(|e| format!("{name} is a damaged {SCAN_SCHEMA} report ({e}); {next_step}"))?;
    debug_assert_eq!(document.schema, SCAN_SCHEMA);
    let mut warnings = document.warnings;
    let packages_known = document.packages.is_some();
    let packages = match document.packages {
        Some(packages) => packages,
        None => {
            warnings.push(format!(
                "{name} has no package list, so package changes are not compared; scan the \
                 image again with this rampart version"
            ));
            Vec::new()
        }
    };
    let target = document.target;
    Ok(Side {
        source: SourceInfo {
            reference: target.reference,
            kind: target.kind,
            name: target.name,
            tags: Vec::new(),
            manifest_digest: target.manifest_digest,
            image_id: target.image_id,
            architecture: target.architecture,
            os: target.os,
            layers: target.layers,
            facts: target.facts,
        },
        distro: target.distro,
        image_purl: target.purl,
        packages,
        packages_known,
        findings: document.findings,
        database: document.database,
        warnings,
    })
}
