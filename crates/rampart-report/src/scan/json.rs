//! rampart's scan JSON, schema `rampart.scan/v1`. `docs/scan-json.md`
//! describes every field.
//!
//! Findings are the serde form of [`Finding`], in the order the report
//! gives them, suppressed ones included. A change to the shape of `Finding`
//! or of the types it contains changes this output and needs a new schema
//! name.

use rampart_inventory::{Distro, ImageFacts, LayerRecord};
use rampart_match::Finding;
use serde::Serialize;

use super::{DatabaseIdentity, ScanReport, Summary, rfc3339, warnings};
use crate::sbom::json::to_pretty_string;

/// The value of the `schema` field.
const SCHEMA: &str = "rampart.scan/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    created: String,
    tool: Tool<'a>,
    target: Target<'a>,
    database: &'a DatabaseIdentity,
    summary: Summary,
    findings: &'a [Finding],
    warnings: Vec<&'a str>,
    packages: Vec<PackageRef<'a>>,
}

/// A package of the inventory, so a saved scan can be compared with
/// `rampart diff`.
#[derive(Serialize)]
struct PackageRef<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(rename = "type")]
    package_type: &'static str,
    purl: &'a str,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

/// The scanned image, directory or SBOM. Absent values are `null`, so every
/// key is always present.
#[derive(Serialize)]
struct Target<'a> {
    reference: &'a str,
    kind: &'a str,
    name: &'a str,
    manifest_digest: Option<&'a str>,
    image_id: Option<&'a str>,
    purl: Option<&'a str>,
    architecture: Option<&'a str>,
    os: Option<&'a str>,
    distro: Option<&'a Distro>,
    layers: &'a [LayerRecord],
    facts: Option<&'a ImageFacts>,
}

/// Renders the `rampart.scan/v1` document, pretty-printed, ending with a newline.
pub(super) fn render(report: &ScanReport) -> String {
    let source = &report.inventory.source;
    let document = Document {
        schema: SCHEMA,
        created: rfc3339(report.created),
        tool: Tool {
            name: "rampart",
            version: &report.tool_version,
        },
        target: Target {
            reference: &source.reference,
            kind: &source.kind,
            name: &source.name,
            manifest_digest: source.manifest_digest.as_deref(),
            image_id: source.image_id.as_deref(),
            purl: report.image_purl.as_deref(),
            architecture: source.architecture.as_deref(),
            os: source.os.as_deref(),
            distro: report.inventory.distro.as_ref(),
            layers: &source.layers,
            facts: source.facts.as_ref(),
        },
        database: &report.database,
        summary: Summary::of(&report.findings),
        findings: &report.findings,
        warnings: warnings(report),
        packages: crate::sbom::sorted_packages(&report.inventory)
            .into_iter()
            .map(|package| PackageRef {
                name: &package.name,
                version: &package.version,
                package_type: package.package_type.purl_type(),
                purl: &package.purl,
            })
            .collect(),
    };
    to_pretty_string(&document)
}
