//! Reading an inventory back from an SBOM (CycloneDX JSON 1.4–1.6, SPDX 2.2–2.3
//! JSON), as rampart and Syft write them, so `rampart scan sbom:FILE` can
//! match packages without the image.
//!
//! Packages are identified by their purl: its type gives the package type,
//! its name and version the package, and qualifiers the rest (`epoch=` for
//! RPM, `upstream=` for the source package, `distro=` for the release when the
//! document names no operating system). Locations come from the
//! `syft:location:N:path` and `syft:location:N:layerID` properties where
//! present. Components without a purl of a known type are skipped and
//! counted in the inventory's warnings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::inventory::{Inventory, SourceInfo};
use crate::package::{Distro, Location, Package, PackageType};
use crate::purl::{self, PurlParts};

/// Largest SBOM read, in bytes.
const MAX_SBOM_BYTES: u64 = 512 * 1024 * 1024;

/// An SBOM that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the SBOM {path}: {reason}")]
pub struct SbomInputError {
    pub path: String,
    pub reason: String,
}

/// Reads a CycloneDX or SPDX JSON document into an inventory.
pub fn inventory_from_sbom(path: &Path) -> Result<Inventory, SbomInputError> {
    let error = |reason: String| SbomInputError {
        path: path.display().to_string(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| error(e.to_string()))?
        .len();
    if size > MAX_SBOM_BYTES {
        return Err(error(format!(
            "{size} bytes is more than the {MAX_SBOM_BYTES}-byte limit for SBOM input"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let document: Value =
        serde_json::from_str(&text).map_err(|e| error(format!("invalid JSON: {e}")))?;

    let mut inventory = Inventory {
        source: SourceInfo {
            facts: None,
            reference: format!("sbom:{}", path.display()),
            kind: "sbom".to_owned(),
            name: path.display().to_string(),
            ..SourceInfo::default()
        },
        ..Inventory::default()
    };
    let mut skipped: Vec<String> = Vec::new();
    if document.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        read_cyclonedx(&document, &mut inventory, &mut skipped);
    } else if document.get("spdxVersion").is_some() {
        read_spdx(&document, &mut inventory, &mut skipped);
    } else {
        return Err(error(
            "neither CycloneDX JSON (bomFormat) nor SPDX JSON (spdxVersion); convert it to one of them"
                .to_owned(),
        ));
    }

    if inventory.distro.is_none() {
        inventory.distro = distro_from_qualifiers(&inventory.packages);
    }
    if !skipped.is_empty() {
        let listed: Vec<&str> = skipped.iter().take(5).map(String::as_str).collect();
        let more = match skipped.len() - listed.len() {
            0 => String::new(),
            rest => format!(" and {rest} more"),
        };
        inventory.warnings.push(format!(
            "{} component(s) were not matched because they have no purl, a purl type rampart does \
             not match, or no version: {}{more}",
            skipped.len(),
            listed.join(", ")
        ));
    }
    inventory
        .packages
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(inventory)
}

fn read_cyclonedx(document: &Value, inventory: &mut Inventory, skipped: &mut Vec<String>) {
    if let Some(component) = document.pointer("/metadata/component") {
        if let Some(name) = component.get("name").and_then(Value::as_str) {
            inventory.source.name = name.to_owned();
        }
        if let Some(version) = component.get("version").and_then(Value::as_str)
            && version.starts_with("sha256:")
        {
            inventory.source.manifest_digest = Some(version.to_owned());
        }
    }

    let empty = Vec::new();
    let mut stack: Vec<&Value> = document
        .get("components")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .collect();
    // Nesting is bounded by the document, which is bounded in size; the
    // explicit stack keeps deep nesting off the call stack.
    while let Some(component) = stack.pop() {
        if let Some(children) = component.get("components").and_then(Value::as_array) {
            stack.extend(children);
        }
        if component.get("type").and_then(Value::as_str) == Some("operating-system") {
            let id = component.get("name").and_then(Value::as_str).unwrap_or("");
            if !id.is_empty() {
                inventory.distro = Some(Distro {
                    id: id.to_ascii_lowercase(),
                    version_id: component
                        .get("version")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    source_file: "SBOM operating-system component".to_owned(),
                    ..Distro::default()
                });
            }
            continue;
        }
        let Some(purl) = component.get("purl").and_then(Value::as_str) else {
            skipped.push(component_name(component));
            continue;
        };
        let properties: BTreeMap<&str, &str> = component
            .get("properties")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
            .iter()
            .filter_map(|property| {
                Some((
                    property.get("name")?.as_str()?,
                    property.get("value")?.as_str()?,
                ))
            })
            .collect();
        match package_from_purl(purl, locations_from_properties(&properties)) {
            Some(mut package) => {
                package.declared = properties.get("rampart:package:declared") == Some(&"true");
                package.local_source = properties
                    .get("rampart:package:localSource")
                    .map(|source| (*source).to_owned());
                inventory.packages.push(package);
            }
            None => skipped.push(purl.to_owned()),
        }
    }
}

/// The name of a component or package, for a warning.
fn component_name(component: &Value) -> String {
    component
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_owned()
}

fn locations_from_properties(properties: &BTreeMap<&str, &str>) -> Vec<Location> {
    let mut locations = Vec::new();
    for index in 0.. {
        let Some(path) = properties.get(format!("syft:location:{index}:path").as_str()) else {
            break;
        };
        locations.push(Location {
            path: (*path).to_owned(),
            layer_diff_id: properties
                .get(format!("syft:location:{index}:layerID").as_str())
                .map(|layer| (*layer).to_owned()),
        });
    }
    locations
}

fn read_spdx(document: &Value, inventory: &mut Inventory, skipped: &mut Vec<String>) {
    if let Some(name) = document.get("name").and_then(Value::as_str) {
        inventory.source.name = name.to_owned();
    }
    let empty = Vec::new();
    let mut described: BTreeSet<&str> = document
        .get("documentDescribes")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for relationship in document
        .get("relationships")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
    {
        let field = |name: &str| relationship.get(name).and_then(Value::as_str);
        if field("spdxElementId") == Some("SPDXRef-DOCUMENT")
            && field("relationshipType") == Some("DESCRIBES")
            && let Some(target) = field("relatedSpdxElement")
        {
            described.insert(target);
        }
    }
    for package in document
        .get("packages")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
    {
        // SPDX 2.3 JSON spells the purposes with `_`, the tag-value
        // format with `-`; both appear in the wild.
        let purpose = package
            .get("primaryPackagePurpose")
            .and_then(Value::as_str)
            .map(|purpose| purpose.replace('-', "_"));
        let id = package
            .get("SPDXID")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if purpose.as_deref() == Some("CONTAINER") || described.contains(id) {
            // The image or directory the document describes, not a package.
            continue;
        }
        if purpose.as_deref() == Some("OPERATING_SYSTEM") {
            if let Some(id) = package.get("name").and_then(Value::as_str) {
                inventory.distro = Some(Distro {
                    id: id.to_ascii_lowercase(),
                    version_id: package
                        .get("versionInfo")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    source_file: "SBOM operating-system package".to_owned(),
                    ..Distro::default()
                });
            }
            continue;
        }
        let purl = package
            .get("externalRefs")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
            .iter()
            .find(|reference| {
                reference.get("referenceType").and_then(Value::as_str) == Some("purl")
            })
            .and_then(|reference| reference.get("referenceLocator"))
            .and_then(Value::as_str);
        let locations = package
            .get("sourceInfo")
            .and_then(Value::as_str)
            .map(locations_from_source_info)
            .unwrap_or_default();
        let comment = package
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match purl.and_then(|purl| package_from_purl(purl, locations)) {
            Some(mut found) => {
                for line in comment.lines() {
                    match line.split_once('=') {
                        Some(("rampart:package:declared", value)) => {
                            found.declared = value == "true";
                        }
                        Some(("rampart:package:localSource", value)) => {
                            found.local_source = Some(value.to_owned());
                        }
                        _ => {}
                    }
                }
                inventory.packages.push(found);
            }
            None => skipped.push(purl.map_or_else(|| component_name(package), str::to_owned)),
        }
    }
}

/// Reads the locations of an SPDX `sourceInfo`: rampart's `acquired package
/// info from the DATABASE at PATH (layer DIGEST), PATH (layer DIGEST)` or
/// Syft's `acquired package info from DESCRIPTION: PATH, PATH`.
fn locations_from_source_info(info: &str) -> Vec<Location> {
    let list = if let Some((_, list)) = info.split_once(": ") {
        list
    } else if let Some((_, list)) = info.split_once(" at /") {
        // Give the list back the `/` the split took.
        &info[info.len() - list.len() - 1..]
    } else {
        return Vec::new();
    };
    list.split(", /")
        .enumerate()
        .map(|(index, place)| {
            let place = if index == 0 {
                place.to_owned()
            } else {
                format!("/{place}")
            };
            match place
                .strip_suffix(')')
                .and_then(|rest| rest.rsplit_once(" (layer "))
            {
                Some((path, layer)) => Location {
                    path: path.to_owned(),
                    layer_diff_id: Some(layer.to_owned()),
                },
                None => Location {
                    path: place,
                    layer_diff_id: None,
                },
            }
        })
        .filter(|location| location.path.starts_with('/'))
        .collect()
}

/// Builds a package from its purl, or `None` for a type rampart does not match.
fn package_from_purl(purl: &str, locations: Vec<Location>) -> Option<Package> {
    let PurlParts {
        purl_type,
        namespace,
        name,
        version,
        qualifiers,
    } = purl::parse(purl)?;
    let package_type = PackageType::from_purl_type(&purl_type)?;
    let version = version?;
    let qualifier = |key: &str| {
        qualifiers
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    };

    let epoch = qualifier("epoch").and_then(|epoch| epoch.parse::<u32>().ok());
    let (source_name, source_version) = match (package_type, qualifier("upstream")) {
        (_, None) => (None, None),
        // `upstream=NAME@VERSION`, or `upstream=NAME` when the source has
        // the binary's version.
        (PackageType::Deb, Some(upstream)) => match upstream.split_once('@') {
            Some((source, version)) => (Some(source.to_owned()), Some(version.to_owned())),
            None => (Some(upstream), Some(version.clone())),
        },
        (PackageType::Apk, Some(origin)) => (Some(origin), Some(version.clone())),
        // `upstream=perl-5.26.3-417.el8_3.src.rpm`: name, version and release.
        (PackageType::Rpm, Some(source_rpm)) => split_source_rpm(&source_rpm),
        (_, Some(_)) => (None, None),
    };
    let name = match (package_type, &namespace) {
        (PackageType::Java, Some(group)) => format!("{group}:{name}"),
        (PackageType::Npm | PackageType::Go | PackageType::Php, Some(prefix)) => {
            format!("{prefix}/{name}")
        }
        _ => name,
    };
    Some(Package {
        package_type,
        name,
        version,
        epoch,
        architecture: qualifier("arch"),
        source_name,
        source_version,
        licenses: Vec::new(),
        maintainer: None,
        purl: purl.to_owned(),
        locations,
        introduced_in_layer: None,
        files: Vec::new(),
        declared: false,
        local_source: None,
    })
}

fn split_source_rpm(file: &str) -> (Option<String>, Option<String>) {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))
        .unwrap_or(file);
    let Some((rest, release)) = stem.rsplit_once('-') else {
        return (None, None);
    };
    let Some((name, version)) = rest.rsplit_once('-') else {
        return (None, None);
    };
    (Some(name.to_owned()), Some(format!("{version}-{release}")))
}

/// Derives the distro from the `distro=` qualifier most OS packages carry
/// (`debian-12`, `alpine-3.20.3`, `ubuntu-22.04`).
fn distro_from_qualifiers(packages: &[Package]) -> Option<Distro> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for package in packages
        .iter()
        .filter(|package| package.package_type.is_os())
    {
        if let Some(parts) = purl::parse(&package.purl)
            && let Some((_, distro)) = parts.qualifiers.iter().find(|(key, _)| key == "distro")
        {
            *counts.entry(distro.clone()).or_default() += 1;
        }
    }
    let (distro, _) = counts.into_iter().max_by_key(|(_, count)| *count)?;
    let (id, version) = distro.split_once('-')?;
    Some(Distro {
        id: id.to_owned(),
        version_id: Some(version.to_owned()),
        source_file: "purl distro qualifiers".to_owned(),
        ..Distro::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_upstream_with_version() {
        let package = package_from_purl(
            "pkg:deb/debian/libbrotli1@1.0.9-2%2Bb6?arch=amd64&distro=debian-12&upstream=brotli%401.0.9-2",
            Vec::new(),
        )
        .unwrap();
        assert_eq!(package.version, "1.0.9-2+b6");
        assert_eq!(package.source_name.as_deref(), Some("brotli"));
        assert_eq!(package.source_version.as_deref(), Some("1.0.9-2"));
    }

    #[test]
    fn rpm_source_split() {
        assert_eq!(
            split_source_rpm("perl-5.26.3-417.el8_3.src.rpm"),
            (Some("perl".to_owned()), Some("5.26.3-417.el8_3".to_owned()))
        );
    }

    #[test]
    fn maven_name_has_group() {
        let package = package_from_purl("pkg:maven/org.x/lib@1.0", Vec::new()).unwrap();
        assert_eq!(package.name, "org.x:lib");
    }

    #[test]
    fn source_info_locations() {
        let rampart = "acquired package info from the dpkg database at /var/lib/dpkg/status \
                       (layer sha256:aa), /var/lib/dpkg/status.d/x (layer sha256:bb)";
        let locations = locations_from_source_info(rampart);
        let paths: Vec<&str> = locations.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths, ["/var/lib/dpkg/status", "/var/lib/dpkg/status.d/x"]);
        assert_eq!(locations[1].layer_diff_id.as_deref(), Some("sha256:bb"));

        let syft = "acquired package info from installed python package manifest file: \
                    /usr/lib/python3/dist-packages/pip-23.0.1.dist-info/METADATA";
        let locations = locations_from_source_info(syft);
        assert_eq!(
            locations[0].path,
            "/usr/lib/python3/dist-packages/pip-23.0.1.dist-info/METADATA"
        );
        assert!(locations_from_source_info("no location here").is_empty());
    }

    #[test]
    fn unknown_type_skipped() {
        assert!(package_from_purl("pkg:github/actions/checkout@v4", Vec::new()).is_none());
    }

    #[test]
    fn distro_from_most_common_qualifier() {
        let packages: Vec<Package> = [
            "pkg:deb/debian/a@1?distro=debian-12",
            "pkg:deb/debian/b@1?distro=debian-12",
        ]
        .iter()
        .filter_map(|purl| package_from_purl(purl, Vec::new()))
        .collect();
        let distro = distro_from_qualifiers(&packages).unwrap();
        assert_eq!(distro.id, "debian");
        assert_eq!(distro.version_id.as_deref(), Some("12"));
    }
}
