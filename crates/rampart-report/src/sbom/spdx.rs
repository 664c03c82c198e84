//! SPDX 2.3 JSON (SPDX specification 2.3, schema `spdx-schema.json` of the
//! spdx-spec `v2.3` tag).
//!
//! The document DESCRIBES one package for the image (purpose CONTAINER, or
//! FILE for a directory or root filesystem), which CONTAINS one package per
//! installed package and one OPERATING_SYSTEM package for the detected release.
//! rampart reads package databases, not files, so every package has
//! `filesAnalyzed: false`, and `licenseConcluded` is NOASSERTION because no
//! license analysis happened. `licenseDeclared` is the database's license
//! translated into an SPDX expression. Names that are not SPDX identifiers
//! become `LicenseRef-` identifiers defined in `hasExtractedLicensingInfos`.

use std::collections::BTreeMap;

use rampart_inventory::{Distro, Inventory, Package, SourceInfo};
use serde::Serialize;

use super::{
    Contact, database_name, image_version, is_image, oci_purl, package_id, sorted_packages,
};
use crate::license::{Expression, LICENSE_LIST_VERSION, LicenseRefs, package_licenses};
use crate::meta::DocumentMeta;

const NOASSERTION: &str = "NOASSERTION";
const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicensingInfo>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    license_list_version: &'static str,
    creators: Vec<String>,
    created: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// rampart's package facts that SPDX has no field for, one
    /// `rampart:package:NAME=VALUE` per line, as the CycloneDX properties
    /// of the same names.
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicensingInfo {
    license_id: String,
    name: String,
    extracted_text: String,
    comment: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// Renders the SPDX 2.3 JSON document, pretty-printed, ending with a newline.
pub fn render(inventory: &Inventory, meta: &DocumentMeta) -> String {
    let packages = sorted_packages(inventory);
    let license_refs = LicenseRefs::from_packages(packages.iter().copied());
    let root = root_package(&inventory.source);

    let mut relationships = vec![Relationship {
        spdx_element_id: DOCUMENT_ID.to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: root.spdx_id.clone(),
    }];
    let mut spdx_packages = Vec::with_capacity(packages.len() + 2);

    for (package, spdx_id) in packages.iter().zip(package_spdx_ids(&packages)) {
        relationships.push(contains(&root.spdx_id, &spdx_id));
        spdx_packages.push(package_entry(package, spdx_id, &license_refs));
    }
    if let Some(distro) = &inventory.distro {
        let entry = distro_package(distro);
        relationships.push(contains(&root.spdx_id, &entry.spdx_id));
        spdx_packages.push(entry);
    }
    spdx_packages.insert(0, root);

    let document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: document_name(&inventory.source).to_owned(),
        document_namespace: document_namespace(&inventory.source, &meta.serial),
        creation_info: CreationInfo {
            license_list_version: LICENSE_LIST_VERSION,
            creators: vec![format!("Tool: rampart-{}", meta.tool_version)],
            created: meta.timestamp_rfc3339(),
        },
        packages: spdx_packages,
        has_extracted_licensing_infos: extracted_licenses(&license_refs),
        relationships,
    };
    super::json::to_pretty_string(&document)
}

fn contains(container: &str, contained: &str) -> Relationship {
    Relationship {
        spdx_element_id: container.to_owned(),
        relationship_type: "CONTAINS",
        related_spdx_element: contained.to_owned(),
    }
}

fn document_name(source: &SourceInfo) -> &str {
    [source.name.as_str(), source.reference.as_str()]
        .into_iter()
        .find(|name| !name.trim().is_empty())
        .unwrap_or("unnamed")
}

/// Builds the document namespace, which SPDX 2.3 requires to be a unique
/// absolute URI without `#`. It need not resolve. It is built from the
/// project URL, the image name and the serial, so it is as reproducible as
/// the serial.
fn document_namespace(source: &SourceInfo, serial: &str) -> String {
    let slug: String = document_name(source)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "{}/spdx/{}-{serial}",
        crate::PROJECT_URL,
        slug.trim_matches('-')
    )
}

fn root_package(source: &SourceInfo) -> SpdxPackage {
    let image = is_image(source);
    let external_refs = oci_purl(source).map(purl_ref).into_iter().collect();
    SpdxPackage {
        name: document_name(source).to_owned(),
        spdx_id: if image {
            "SPDXRef-Image"
        } else {
            "SPDXRef-Source"
        }
        .to_owned(),
        version_info: image_version(source).map(str::to_owned),
        supplier: NOASSERTION.to_owned(),
        download_location: NOASSERTION,
        files_analyzed: false,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_owned(),
        copyright_text: NOASSERTION,
        description: None,
        comment: None,
        external_refs,
        primary_package_purpose: Some(if image { "CONTAINER" } else { "FILE" }),
    }
}

/// `SPDXRef-Package-<type>-<name>-<package id>` for each package. Exact
/// duplicates get `-2`, `-3`, … in their sorted order.
fn package_spdx_ids(packages: &[&Package]) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    packages
        .iter()
        .map(|package| {
            let base = format!(
                "SPDXRef-Package-{}-{}-{}",
                package.package_type.purl_type(),
                idstring(&package.name),
                package_id(package)
            );
            let count = counts.entry(base.clone()).or_default();
            *count += 1;
            if *count > 1 {
                format!("{base}-{count}")
            } else {
                base
            }
        })
        .collect()
}

/// Maps text to the SPDX `idstring` characters `A-Z a-z 0-9 . -`.
fn idstring(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() {
        "unnamed".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn package_entry(package: &Package, spdx_id: String, license_refs: &LicenseRefs) -> SpdxPackage {
    let license_declared = Expression::all_of(package_licenses(package)).map_or_else(
        || NOASSERTION.to_owned(),
        |expression| expression.to_spdx(license_refs),
    );
    let external_refs = (!package.purl.is_empty())
        .then(|| purl_ref(package.purl.clone()))
        .into_iter()
        .collect();

    SpdxPackage {
        name: package.name.clone(),
        spdx_id,
        version_info: Some(package.version.clone()),
        supplier: package
            .maintainer
            .as_deref()
            .and_then(Contact::parse)
            .map_or_else(|| NOASSERTION.to_owned(), supplier_text),
        download_location: NOASSERTION,
        files_analyzed: false,
        source_info: source_info(package),
        license_concluded: NOASSERTION,
        license_declared,
        copyright_text: NOASSERTION,
        description: None,
        comment: package_comment(package),
        external_refs,
        primary_package_purpose: None,
    }
}

/// The facts of [`SpdxPackage::comment`], or `None` when there are none.
fn package_comment(package: &Package) -> Option<String> {
    let mut lines = Vec::new();
    if package.declared {
        lines.push("rampart:package:declared=true".to_owned());
    }
    if let Some(local_source) = &package.local_source {
        lines.push(format!("rampart:package:localSource={local_source}"));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// SPDX agent syntax: `Person: NAME (EMAIL)`, or without the email when the
/// maintainer field has none.
// NOTE: package databases do not say whether the maintainer is a person or a
// team, so a team such as "Debian GCC Maintainers" is written as a Person too.
fn supplier_text(contact: Contact) -> String {
    match contact.email {
        Some(email) => format!("Person: {} ({email})", contact.name),
        None => format!("Person: {}", contact.name),
    }
}

/// Names the database files and their layers, e.g. `acquired package info
/// from the apk database at /lib/apk/db/installed (layer sha256:…)`.
fn source_info(package: &Package) -> Option<String> {
    if package.locations.is_empty() {
        return None;
    }
    let places: Vec<String> = package
        .locations
        .iter()
        .map(|location| match &location.layer_diff_id {
            Some(layer) => format!("{} (layer {layer})", location.path),
            None => location.path.clone(),
        })
        .collect();
    Some(format!(
        "acquired package info from the {} at {}",
        database_name(package.package_type),
        places.join(", ")
    ))
}

fn purl_ref(purl: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl,
    }
}

fn distro_package(distro: &Distro) -> SpdxPackage {
    let version = distro
        .version_id
        .clone()
        .or_else(|| distro.point_release.clone());
    let spdx_id = match &version {
        Some(version) => format!(
            "SPDXRef-OperatingSystem-{}-{}",
            idstring(&distro.id),
            idstring(version)
        ),
        None => format!("SPDXRef-OperatingSystem-{}", idstring(&distro.id)),
    };
    SpdxPackage {
        name: distro.id.clone(),
        spdx_id,
        version_info: version,
        supplier: NOASSERTION.to_owned(),
        download_location: NOASSERTION,
        files_analyzed: false,
        source_info: Some(format!("acquired release info from {}", distro.source_file)),
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_owned(),
        copyright_text: NOASSERTION,
        description: distro.pretty_name.clone(),
        comment: None,
        external_refs: Vec::new(),
        primary_package_purpose: Some("OPERATING_SYSTEM"),
    }
}

fn extracted_licenses(license_refs: &LicenseRefs) -> Vec<ExtractedLicensingInfo> {
    license_refs
        .entries()
        .into_iter()
        .map(|(id, name)| ExtractedLicensingInfo {
            license_id: id.to_owned(),
            name: name.to_owned(),
            // SPDX requires a text, and package databases give only a name.
            extracted_text: name.to_owned(),
            comment: "The package database names this license without its text, so extractedText repeats the name.",
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idstring_maps_characters() {
        assert_eq!(idstring("libstdc++6"), "libstdc--6");
        assert_eq!(idstring("python3.11-minimal"), "python3.11-minimal");
        assert_eq!(idstring("+++"), "unnamed");
    }

    #[test]
    fn namespace_slug_and_serial() {
        let source = SourceInfo {
            facts: None,
            name: "docker.io/library/alpine:3.20".to_owned(),
            ..SourceInfo::default()
        };
        assert_eq!(
            document_namespace(&source, "0b3c2f3e-1d1e-5a6b-8c7d-9e8f7a6b5c4d"),
            format!(
                "{}/spdx/docker.io-library-alpine-3.20-0b3c2f3e-1d1e-5a6b-8c7d-9e8f7a6b5c4d",
                crate::PROJECT_URL
            )
        );
    }
}
