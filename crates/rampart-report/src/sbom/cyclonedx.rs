//! CycloneDX 1.6 JSON (ECMA-424 1st edition, schema `bom-1.6.schema.json`).
//!
//! The BOM describes the image in `metadata.component` and lists each package
//! as a `library` component and the detected OS release as an
//! `operating-system` component. Property names follow Syft's
//! `syft:package:*`, `syft:location:*`, `syft:metadata:*` and `syft:distro:*`
//! where Syft has a property for the same fact, so tools that read Syft's
//! BOMs find them. Facts that Syft has no property for use `rampart:*` names.
//!
//! The BOM has no `dependencies`: the inventory does not record which package
//! depends on which, and an empty graph would claim that none does.

use std::collections::BTreeMap;

use rampart_inventory::{Distro, Inventory, Package, PackageType, SourceInfo};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Contact, image_version, is_image, oci_purl, package_id, sorted_packages};
use crate::license::{Expression, LicenseRefs, package_licenses};
use crate::meta::DocumentMeta;

const SCHEMA_URL: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

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
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Component {
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    component_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<OrganizationalEntity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    publisher: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    swid: Option<Swid>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct OrganizationalEntity {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    url: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contact: Vec<OrganizationalContact>,
}

#[derive(Serialize)]
struct OrganizationalContact {
    email: String,
}

/// One entry of a `licenses` array. The schema allows either any number of
/// `license` entries or exactly one `expression` entry, never a mix.
#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: License },
    Expression { expression: String },
}

/// A license by SPDX identifier or, when it has none, by name (never both).
#[derive(Serialize)]
struct License {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Swid {
    tag_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
}

#[derive(Serialize)]
struct ExternalReference {
    url: String,
    #[serde(rename = "type")]
    reference_type: &'static str,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

fn property(name: impl Into<String>, value: impl Into<String>) -> Property {
    Property {
        name: name.into(),
        value: value.into(),
    }
}

/// Renders the CycloneDX 1.6 JSON BOM, pretty-printed, ending with a newline.
pub fn render(inventory: &Inventory, meta: &DocumentMeta) -> String {
    let packages = sorted_packages(inventory);
    let license_refs = LicenseRefs::from_packages(packages.iter().copied());
    let bom_refs = package_bom_refs(&packages);

    let mut components: Vec<Component> = packages
        .iter()
        .zip(&bom_refs)
        .map(|(package, bom_ref)| package_component(package, bom_ref.clone(), &license_refs))
        .collect();
    if let Some(distro) = &inventory.distro {
        components.push(distro_component(distro));
    }

    let bom = Bom {
        schema: SCHEMA_URL,
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", meta.serial),
        version: 1,
        metadata: Metadata {
            timestamp: meta.timestamp_rfc3339(),
            tools: Tools {
                components: vec![tool_component(meta)],
            },
            component: image_component(&inventory.source),
        },
        components,
    };
    super::json::to_pretty_string(&bom)
}

fn tool_component(meta: &DocumentMeta) -> Component {
    Component {
        component_type: "application",
        name: "rampart".to_owned(),
        version: Some(meta.tool_version.clone()),
        external_references: vec![ExternalReference {
            url: crate::PROJECT_URL.to_owned(),
            reference_type: "vcs",
        }],
        ..Component::default()
    }
}

/// Builds the component for the scanned image, or for the directory or root
/// filesystem that stood in for one.
fn image_component(source: &SourceInfo) -> Component {
    let purl = oci_purl(source);
    let version = image_version(source).map(str::to_owned);

    let bom_ref = purl.clone().unwrap_or_else(|| {
        let mut hasher = Sha256::new();
        for field in [
            source.kind.as_str(),
            source.name.as_str(),
            version.as_deref().unwrap_or(""),
        ] {
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
        format!("rampart:source:{}", hex::encode(&hasher.finalize()[..8]))
    });

    let mut properties = vec![property("rampart:source:kind", &source.kind)];
    if let Some(image_id) = &source.image_id {
        properties.push(property("rampart:image:imageID", image_id));
    }
    if let Some(digest) = &source.manifest_digest {
        properties.push(property("rampart:image:manifestDigest", digest));
    }
    for (index, tag) in source.tags.iter().enumerate() {
        properties.push(property(format!("rampart:image:tag:{index}"), tag));
    }
    if let Some(os) = &source.os {
        properties.push(property("rampart:image:os", os));
    }
    if let Some(architecture) = &source.architecture {
        properties.push(property("rampart:image:architecture", architecture));
    }
    for (index, layer) in source.layers.iter().enumerate() {
        properties.push(property(
            format!("rampart:image:layer:{index}:diffID"),
            &layer.diff_id,
        ));
        if let Some(digest) = &layer.digest {
            properties.push(property(
                format!("rampart:image:layer:{index}:digest"),
                digest,
            ));
        }
        if let Some(size) = layer.size {
            properties.push(property(
                format!("rampart:image:layer:{index}:size"),
                size.to_string(),
            ));
        }
        properties.push(property(
            format!("rampart:image:layer:{index}:uncompressedSize"),
            layer.uncompressed_size.to_string(),
        ));
    }

    Component {
        bom_ref: Some(bom_ref),
        // Syft types directory sources as `file`; a root filesystem tarball
        // is not an image either.
        component_type: if is_image(source) {
            "container"
        } else {
            "file"
        },
        name: source.name.clone(),
        version,
        purl,
        properties,
        ..Component::default()
    }
}

/// Assigns each package's bom-ref: its purl, or, where several packages share one
/// (the same package in two databases), the purl with a `package-id`
/// qualifier as Syft writes it. Exact duplicates, whose package IDs match
/// too, get `-2`, `-3`, … on the ID in their sorted order.
fn package_bom_refs(packages: &[&Package]) -> Vec<String> {
    let mut purl_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for package in packages {
        *purl_counts.entry(package.purl.as_str()).or_default() += 1;
    }

    let mut id_counts: BTreeMap<String, usize> = BTreeMap::new();
    packages
        .iter()
        .map(|package| {
            let unique = purl_counts.get(package.purl.as_str()) == Some(&1);
            if unique && !package.purl.is_empty() {
                return package.purl.clone();
            }

            let mut id = package_id(package);
            let count = id_counts.entry(id.clone()).or_default();
            *count += 1;
            if *count > 1 {
                id = format!("{id}-{count}");
            }
            if package.purl.is_empty() {
                format!("rampart:package:{id}")
            } else {
                with_qualifier(&package.purl, "package-id", &id)
            }
        })
        .collect()
}

/// Adds `key=value` to the qualifiers of `purl`, keeping them sorted by key as
/// the purl spec requires for the canonical form.
fn with_qualifier(purl: &str, key: &str, value: &str) -> String {
    let (before_subpath, subpath) = match purl.split_once('#') {
        Some((head, subpath)) => (head, Some(subpath)),
        None => (purl, None),
    };
    let (base, qualifiers) = match before_subpath.split_once('?') {
        Some((base, qualifiers)) => (base, qualifiers),
        None => (before_subpath, ""),
    };

    let new_pair = format!("{key}={value}");
    let mut pairs: Vec<&str> = qualifiers
        .split('&')
        .filter(|pair| !pair.is_empty())
        .collect();
    pairs.push(&new_pair);
    pairs.sort_by_key(|pair| pair.split('=').next().unwrap_or(""));

    let mut out = format!("{base}?{}", pairs.join("&"));
    if let Some(subpath) = subpath {
        out.push('#');
        out.push_str(subpath);
    }
    out
}

fn package_component(package: &Package, bom_ref: String, license_refs: &LicenseRefs) -> Component {
    let contact = package.maintainer.as_deref().and_then(Contact::parse);
    let supplier = contact.map(|contact| OrganizationalEntity {
        name: contact.name,
        url: contact.url.into_iter().collect(),
        contact: contact
            .email
            .into_iter()
            .map(|email| OrganizationalContact { email })
            .collect(),
    });

    Component {
        bom_ref: Some(bom_ref),
        component_type: "library",
        supplier,
        publisher: package
            .maintainer
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        name: package.name.clone(),
        version: Some(package.version.clone()),
        licenses: license_choices(package, license_refs),
        purl: (!package.purl.is_empty()).then(|| package.purl.clone()),
        properties: package_properties(package),
        ..Component::default()
    }
}

/// Licenses as `license.id` where every entry is one listed SPDX identifier
/// or one free name, else as one SPDX expression that joins the entries
/// with AND. In an expression, free names become `LicenseRef-` identifiers
/// that the SPDX output of the same inventory defines. The CycloneDX BOM
/// itself does not define them.
fn license_choices(package: &Package, license_refs: &LicenseRefs) -> Vec<LicenseChoice> {
    let expressions = package_licenses(package);
    let all_single = expressions.iter().all(|expression| {
        expression.as_listed_id().is_some() || matches!(expression, Expression::Named(_))
    });

    if all_single {
        return expressions
            .into_iter()
            .map(|expression| {
                let license = match expression {
                    Expression::Named(name) => License {
                        id: None,
                        name: Some(name),
                    },
                    other => License {
                        id: other.as_listed_id(),
                        name: None,
                    },
                };
                LicenseChoice::License { license }
            })
            .collect();
    }

    // A package's entries each cover part of it, so all of them apply.
    Expression::all_of(expressions)
        .map(|expression| LicenseChoice::Expression {
            expression: expression.to_spdx(license_refs),
        })
        .into_iter()
        .collect()
}

fn package_properties(package: &Package) -> Vec<Property> {
    let mut properties = vec![property(
        "syft:package:type",
        package.package_type.purl_type(),
    )];

    for (index, location) in package.locations.iter().enumerate() {
        if let Some(layer) = &location.layer_diff_id {
            properties.push(property(format!("syft:location:{index}:layerID"), layer));
        }
        properties.push(property(
            format!("syft:location:{index}:path"),
            &location.path,
        ));
    }

    // Syft's names for these facts, from its apk, dpkg and rpm metadata.
    match package.package_type {
        PackageType::Apk => {
            if let Some(origin) = &package.source_name {
                properties.push(property("syft:metadata:originPackage", origin));
            }
        }
        PackageType::Deb => {
            if let Some(source) = &package.source_name {
                properties.push(property("syft:metadata:source", source));
            }
            if let Some(source_version) = &package.source_version {
                properties.push(property("syft:metadata:sourceVersion", source_version));
            }
        }
        PackageType::Rpm => {
            if let Some(epoch) = package.epoch {
                properties.push(property("syft:metadata:epoch", epoch.to_string()));
            }
            if let Some(release) = rpm_release(&package.version) {
                properties.push(property("syft:metadata:release", release));
            }
        }
        _ => {}
    }

    if let Some(architecture) = &package.architecture {
        properties.push(property("rampart:package:architecture", architecture));
    }
    if let Some(layer) = &package.introduced_in_layer {
        properties.push(property("rampart:package:introducedInLayer", layer));
    }
    if let Some(source) = &package.source_name {
        properties.push(property("rampart:package:sourceName", source));
    }
    if let Some(source_version) = &package.source_version {
        properties.push(property("rampart:package:sourceVersion", source_version));
    }
    if package.declared {
        properties.push(property("rampart:package:declared", "true"));
    }
    if let Some(local_source) = &package.local_source {
        properties.push(property("rampart:package:localSource", local_source));
    }
    properties
}

/// Returns the RELEASE of an rpm `[EPOCH:]VERSION-RELEASE`. rpm forbids `-` in both
/// VERSION and RELEASE, so the last `-` separates them.
fn rpm_release(version: &str) -> Option<&str> {
    let without_epoch = version.split_once(':').map_or(version, |(_, rest)| rest);
    without_epoch
        .rsplit_once('-')
        .map(|(_, release)| release)
        .filter(|r| !r.is_empty())
}

fn distro_component(distro: &Distro) -> Component {
    let version = distro
        .version_id
        .clone()
        .or_else(|| distro.point_release.clone());
    let bom_ref = match &version {
        Some(version) => format!("os:{}@{version}", distro.id),
        None => format!("os:{}", distro.id),
    };

    let mut properties = vec![property("syft:distro:id", &distro.id)];
    for (index, like) in distro.id_like.iter().enumerate() {
        properties.push(property(format!("syft:distro:idLike:{index}"), like));
    }
    if let Some(pretty_name) = &distro.pretty_name {
        properties.push(property("syft:distro:prettyName", pretty_name));
    }
    if let Some(codename) = &distro.codename {
        properties.push(property("syft:distro:versionCodename", codename));
    }
    if let Some(version_id) = &distro.version_id {
        properties.push(property("syft:distro:versionID", version_id));
    }
    if let Some(point_release) = &distro.point_release {
        properties.push(property("rampart:distro:pointRelease", point_release));
    }
    properties.push(property("rampart:distro:sourceFile", &distro.source_file));

    // NOTE: Syft also writes the os-release HOME_URL and BUG_REPORT_URL as
    // `website` and `issue-tracker` external references. The Distro model does
    // not keep those fields, so this component has no external references.
    Component {
        bom_ref: Some(bom_ref),
        component_type: "operating-system",
        name: distro.id.clone(),
        version: version.clone(),
        description: distro.pretty_name.clone(),
        swid: Some(Swid {
            tag_id: distro.id.clone(),
            name: distro.id.clone(),
            version,
        }),
        properties,
        ..Component::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifier_inserted_in_order() {
        assert_eq!(
            with_qualifier(
                "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3",
                "package-id",
                "ab"
            ),
            "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3&package-id=ab"
        );
        assert_eq!(
            with_qualifier("pkg:deb/debian/a@1?arch=all&upstream=b", "package-id", "ab"),
            "pkg:deb/debian/a@1?arch=all&package-id=ab&upstream=b"
        );
        assert_eq!(
            with_qualifier("pkg:rpm/redhat/a@1", "package-id", "ab"),
            "pkg:rpm/redhat/a@1?package-id=ab"
        );
    }

    #[test]
    fn rpm_release_split() {
        assert_eq!(rpm_release("1:3.0.7-27.el9"), Some("27.el9"));
        assert_eq!(rpm_release("5.1.8-9.el9"), Some("9.el9"));
        assert_eq!(rpm_release("5.1.8"), None);
    }
}
