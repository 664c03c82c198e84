//! SBOM renderers against the official schemas (CycloneDX 1.6, SPDX 2.3),
//! insta snapshots of every format, and determinism checks.
//!
//! The fixture mixes apk, deb and rpm packages in one image so that one
//! document covers each ecosystem's fields. Names, versions, licenses and
//! maintainers are those of real Alpine 3.20, Debian 12 and RHEL 9 packages.
//! Digests other than the Alpine base layer are made up.

use chrono::{DateTime, TimeZone, Utc};
use jsonschema::{Registry, Validator};
use rampart_inventory::{
    Distro, Inventory, LayerRecord, Location, Package, PackageType, SourceInfo,
};
use rampart_report::{DocumentMeta, SbomFormat, render_sbom};
use serde_json::Value;

const CYCLONEDX_SCHEMA: &str = include_str!("schemas/bom-1.6.schema.json");
const CYCLONEDX_SPDX_IDS: &str = include_str!("schemas/spdx.schema.json");
const JSF_SCHEMA: &str = include_str!("schemas/jsf-0.82.schema.json");
const SPDX_SCHEMA: &str = include_str!("schemas/spdx-schema.json");

const APK_LAYER: &str = "sha256:1bccf10afce5c1ffe31381419930ad565c1436eaeb1ca680494b0663e0028419";
const DEB_LAYER: &str = "sha256:00a8b7de2b907f776a84a4c6da699e3fc5853c6c2c0bcb36cc0d178e099befb8";
const RPM_LAYER: &str = "sha256:727b4b479343843b4ae02bca7e811c904bfaec54970ba53f2c1a7ad93bbaf6da";

const JSON_FORMATS: [SbomFormat; 3] = [
    SbomFormat::CycloneDxJson,
    SbomFormat::SpdxJson,
    SbomFormat::Json,
];
const ALL_FORMATS: [SbomFormat; 4] = [
    SbomFormat::CycloneDxJson,
    SbomFormat::SpdxJson,
    SbomFormat::Json,
    SbomFormat::Table,
];

// ---------------------------------------------------------------- fixture

struct PackageSpec<'a> {
    package_type: PackageType,
    name: &'a str,
    version: &'a str,
    epoch: Option<u32>,
    architecture: &'a str,
    source: Option<(&'a str, Option<&'a str>)>,
    licenses: &'a [&'a str],
    maintainer: &'a str,
    purl: &'a str,
}

fn package(spec: PackageSpec<'_>) -> Package {
    let (path, layer) = match spec.package_type {
        PackageType::Apk => ("/lib/apk/db/installed", APK_LAYER),
        PackageType::Deb => ("/var/lib/dpkg/status", DEB_LAYER),
        PackageType::Rpm => ("/var/lib/rpm/rpmdb.sqlite", RPM_LAYER),
        other => panic!("no test database for {other:?} packages"),
    };
    Package {
        package_type: spec.package_type,
        name: spec.name.to_owned(),
        version: spec.version.to_owned(),
        epoch: spec.epoch,
        architecture: Some(spec.architecture.to_owned()),
        source_name: spec.source.map(|(name, _)| name.to_owned()),
        source_version: spec
            .source
            .and_then(|(_, version)| version.map(str::to_owned)),
        licenses: spec.licenses.iter().map(|l| (*l).to_owned()).collect(),
        maintainer: Some(spec.maintainer.to_owned()),
        purl: spec.purl.to_owned(),
        locations: vec![Location {
            path: path.to_owned(),
            layer_diff_id: Some(layer.to_owned()),
        }],
        introduced_in_layer: Some(layer.to_owned()),
        files: Vec::new(),
        declared: false,
        local_source: None,
    }
}

fn fixture_packages() -> Vec<Package> {
    vec![
        package(PackageSpec {
            package_type: PackageType::Apk,
            name: "busybox",
            version: "1.36.1-r29",
            epoch: None,
            architecture: "x86_64",
            source: Some(("busybox", None)),
            licenses: &["GPL-2.0-only"],
            maintainer: "Sören Tempel <soeren+alpine@soeren-tempel.net>",
            purl: "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3",
        }),
        package(PackageSpec {
            package_type: PackageType::Apk,
            name: "ca-certificates-bundle",
            version: "20240705-r0",
            epoch: None,
            architecture: "x86_64",
            source: Some(("ca-certificates", None)),
            licenses: &["MPL-2.0 AND MIT"],
            maintainer: "Natanael Copa <ncopa@alpinelinux.org>",
            purl: "pkg:apk/alpine/ca-certificates-bundle@20240705-r0?arch=x86_64&distro=alpine-3.20.3&upstream=ca-certificates",
        }),
        package(PackageSpec {
            package_type: PackageType::Apk,
            name: "musl",
            version: "1.2.5-r0",
            epoch: None,
            architecture: "x86_64",
            source: Some(("musl", None)),
            licenses: &["MIT"],
            maintainer: "Natanael Copa <ncopa@alpinelinux.org>",
            purl: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3",
        }),
        package(PackageSpec {
            package_type: PackageType::Deb,
            name: "libc6",
            version: "2.36-9+deb12u14",
            epoch: None,
            architecture: "amd64",
            source: Some(("glibc", None)),
            licenses: &["LGPL-2.1+", "GPL-2+"],
            maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
            purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc",
        }),
        package(PackageSpec {
            package_type: PackageType::Deb,
            name: "libssl3",
            version: "3.0.20-1~deb12u2",
            epoch: None,
            architecture: "amd64",
            source: Some(("openssl", None)),
            licenses: &["Apache-2.0", "Artistic or GPL-1+"],
            maintainer: "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>",
            purl: "pkg:deb/debian/libssl3@3.0.20-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
        }),
        package(PackageSpec {
            package_type: PackageType::Deb,
            name: "python3-minimal",
            version: "3.11.2-1+b1",
            epoch: None,
            architecture: "amd64",
            source: Some(("python3-defaults", Some("3.11.2-1"))),
            licenses: &[],
            maintainer: "Matthias Klose <doko@debian.org>",
            purl: "pkg:deb/debian/python3-minimal@3.11.2-1%2Bb1?arch=amd64&distro=debian-12&upstream=python3-defaults%403.11.2-1",
        }),
        package(PackageSpec {
            package_type: PackageType::Deb,
            name: "zlib1g",
            version: "1:1.2.13.dfsg-1",
            epoch: Some(1),
            architecture: "amd64",
            source: Some(("zlib", None)),
            licenses: &["Zlib"],
            maintainer: "Mark Brown <broonie@debian.org>",
            purl: "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib",
        }),
        package(PackageSpec {
            package_type: PackageType::Rpm,
            name: "openssl-libs",
            version: "1:3.0.7-27.el9",
            epoch: Some(1),
            architecture: "x86_64",
            source: Some(("openssl", Some("3.0.7-27.el9"))),
            licenses: &["ASL 2.0"],
            maintainer: "Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>",
            purl: "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1&upstream=openssl-3.0.7-27.el9.src.rpm",
        }),
    ]
}

fn fixture() -> Inventory {
    let layer = |diff_id: &str, blob: &str, size: u64, uncompressed_size: u64| LayerRecord {
        digest: Some(format!("sha256:{blob}")),
        diff_id: diff_id.to_owned(),
        size: Some(size),
        uncompressed_size,
    };
    Inventory {
        source: SourceInfo {
            facts: None,
            reference: "oci-archive:fixtures/mixed-os.tar".to_owned(),
            kind: "oci-archive".to_owned(),
            name: "registry.example.com/rampart/mixed-os:1.0".to_owned(),
            tags: vec!["registry.example.com/rampart/mixed-os:1.0".to_owned()],
            manifest_digest: Some(
                "sha256:05b3abf2579a5eb66403cd78be557fd860633a1fe2103c7642030defe32c657f"
                    .to_owned(),
            ),
            image_id: Some(
                "sha256:f875d5049f3c1792d89643cf386fe76fc2fdedf7d417adaf1a75a2e5dc6d2de2"
                    .to_owned(),
            ),
            architecture: Some("amd64".to_owned()),
            os: Some("linux".to_owned()),
            layers: vec![
                layer(
                    APK_LAYER,
                    "4ba3511ef946b4e91ffb3e09b89d77169e1bfd791be5287679c9407248fd4e28",
                    3_623_807,
                    8_146_944,
                ),
                layer(
                    DEB_LAYER,
                    "975a7bf3b321bb0f7747c3a00f8608c92a59befdb7295fac2767d9c025ff77bb",
                    9_102_336,
                    27_340_800,
                ),
                layer(
                    RPM_LAYER,
                    "78e43f966f5a0b13d772f4338769c6b7dce6c0b18127701002d8d49775c7cede",
                    2_211_840,
                    6_615_040,
                ),
            ],
        },
        distro: Some(Distro {
            id: "alpine".to_owned(),
            version_id: Some("3.20.3".to_owned()),
            codename: None,
            point_release: Some("3.20.3".to_owned()),
            pretty_name: Some("Alpine Linux v3.20".to_owned()),
            id_like: Vec::new(),
            source_file: "/etc/os-release".to_owned(),
        }),
        packages: fixture_packages(),
        warnings: vec![
            "/usr/lib/sysimage/rpm/Packages.db: NDB rpm databases are not read yet".to_owned(),
        ],
    }
}

fn timestamp() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn meta_for(inventory: &Inventory) -> DocumentMeta {
    DocumentMeta::deterministic(inventory, timestamp(), "0.0.0-test")
}

fn render(format: SbomFormat, inventory: &Inventory) -> String {
    render_sbom(format, inventory, &meta_for(inventory), false)
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("rendered JSON does not parse: {error}\n{text}"))
}

// ------------------------------------------------------------- validators

fn schema(text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("vendored schema does not parse: {error}"))
}

/// Validates against `bom-1.6.schema.json`, with the two schemas that it
/// references by relative URL registered under their `$id`s so that nothing
/// is fetched.
fn validate_cyclonedx(document: &Value) -> Result<(), Vec<String>> {
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
        .with_format("idn-email", is_email)
        .build(&schema(CYCLONEDX_SCHEMA))
        .unwrap_or_else(|error| panic!("CycloneDX schema: {error}"));
    errors(&validator, document)
}

/// Stands in for the `idn-email` format, which jsonschema checks only with
/// its `idna` feature. That feature is off in this workspace, and an
/// unchecked format would let any string pass.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !text.contains(char::is_whitespace)
}

fn validate_spdx(document: &Value) -> Result<(), Vec<String>> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema(SPDX_SCHEMA))
        .unwrap_or_else(|error| panic!("SPDX schema: {error}"));
    errors(&validator, document)
}

fn errors(validator: &Validator, document: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn assert_valid(format: SbomFormat, text: &str) {
    let document = parse(text);
    let result = match format {
        SbomFormat::CycloneDxJson => validate_cyclonedx(&document),
        SbomFormat::SpdxJson => validate_spdx(&document),
        _ => Ok(()),
    };
    if let Err(errors) = result {
        panic!("{format} output is invalid:\n{}\n{text}", errors.join("\n"));
    }
}

// ------------------------------------------------------- schema validation

#[test]
fn cyclonedx_valid() {
    assert_valid(
        SbomFormat::CycloneDxJson,
        &render(SbomFormat::CycloneDxJson, &fixture()),
    );
}

#[test]
fn spdx_valid() {
    assert_valid(
        SbomFormat::SpdxJson,
        &render(SbomFormat::SpdxJson, &fixture()),
    );
}

#[test]
fn empty_directory_source_valid() {
    let inventory = Inventory {
        source: SourceInfo {
            facts: None,
            reference: "dir:/srv/rootfs".to_owned(),
            kind: "dir".to_owned(),
            name: "/srv/rootfs".to_owned(),
            ..SourceInfo::default()
        },
        ..Inventory::default()
    };
    for format in JSON_FORMATS {
        assert_valid(format, &render(format, &inventory));
    }
    assert_eq!(
        render(SbomFormat::Table, &inventory),
        "No packages found.\n"
    );
}

#[test]
fn cyclonedx_missing_bom_format_invalid() {
    let mut document = parse(&render(SbomFormat::CycloneDxJson, &fixture()));
    let removed = document
        .as_object_mut()
        .and_then(|object| object.remove("bomFormat"));
    assert!(removed.is_some(), "fixture BOM has bomFormat");
    assert!(validate_cyclonedx(&document).is_err());
}

#[test]
fn cyclonedx_component_without_name_invalid() {
    let mut document = parse(&render(SbomFormat::CycloneDxJson, &fixture()));
    let removed = document["components"][0]
        .as_object_mut()
        .and_then(|component| component.remove("name"));
    assert!(removed.is_some(), "fixture component has a name");
    assert!(validate_cyclonedx(&document).is_err());
}

#[test]
fn cyclonedx_unknown_license_id_invalid() {
    let mut document = parse(&render(SbomFormat::CycloneDxJson, &fixture()));
    document["components"][0]["licenses"] = serde_json::json!([{ "license": { "id": "GPL-2+" } }]);
    assert!(validate_cyclonedx(&document).is_err());
}

#[test]
fn cyclonedx_formats_checked() {
    let mut document = parse(&render(SbomFormat::CycloneDxJson, &fixture()));
    document["components"][0]["supplier"]["contact"][0]["email"] = Value::from("not an address");
    assert!(
        validate_cyclonedx(&document).is_err(),
        "idn-email format is not asserted"
    );

    let mut document = parse(&render(SbomFormat::CycloneDxJson, &fixture()));
    document["metadata"]["timestamp"] = Value::from("1 May 2024");
    assert!(
        validate_cyclonedx(&document).is_err(),
        "date-time format is not asserted"
    );
}

#[test]
fn spdx_missing_version_invalid() {
    let mut document = parse(&render(SbomFormat::SpdxJson, &fixture()));
    let removed = document
        .as_object_mut()
        .and_then(|object| object.remove("spdxVersion"));
    assert!(removed.is_some(), "fixture document has spdxVersion");
    assert!(validate_spdx(&document).is_err());
}

// ----------------------------------------- checks the schemas cannot make

#[test]
fn cyclonedx_bom_refs_unique() {
    let document = parse(&render(SbomFormat::CycloneDxJson, &fixture()));
    let mut refs: Vec<&str> = document["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|component| component["bom-ref"].as_str())
        .collect();
    refs.extend(document["metadata"]["component"]["bom-ref"].as_str());
    let count = refs.len();
    refs.sort_unstable();
    refs.dedup();
    assert_eq!(refs.len(), count);
    assert_eq!(count, fixture().packages.len() + 2);
}

#[test]
fn cyclonedx_license_forms() {
    let document = parse(&render(SbomFormat::CycloneDxJson, &fixture()));
    let licenses = |name: &str| -> Value {
        document["components"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|component| component["name"] == name)
            .map(|component| component["licenses"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        licenses("musl"),
        serde_json::json!([{ "license": { "id": "MIT" } }])
    );
    assert_eq!(
        licenses("ca-certificates-bundle"),
        serde_json::json!([{ "expression": "MPL-2.0 AND MIT" }])
    );
    assert_eq!(
        licenses("libc6"),
        serde_json::json!([{ "license": { "id": "LGPL-2.1+" } }, { "license": { "name": "GPL-2+" } }])
    );
    assert_eq!(
        licenses("libssl3"),
        serde_json::json!([{ "expression": "Apache-2.0 AND (LicenseRef-Artistic OR LicenseRef-GPL-1-plus)" }])
    );
    assert_eq!(
        licenses("openssl-libs"),
        serde_json::json!([{ "license": { "name": "ASL 2.0" } }])
    );
    assert_eq!(licenses("python3-minimal"), Value::Null);
}

#[test]
fn spdx_references_resolve() {
    let document = parse(&render(SbomFormat::SpdxJson, &fixture()));

    let mut ids: Vec<&str> = vec!["SPDXRef-DOCUMENT"];
    ids.extend(
        document["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["SPDXID"].as_str()),
    );
    for id in &ids {
        let idstring = id.strip_prefix("SPDXRef-").unwrap_or("");
        assert!(
            !idstring.is_empty()
                && idstring
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "invalid SPDXID {id}"
        );
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "duplicate SPDXIDs");

    for relationship in document["relationships"].as_array().into_iter().flatten() {
        for key in ["spdxElementId", "relatedSpdxElement"] {
            let id = relationship[key].as_str().unwrap_or("");
            assert!(ids.contains(&id), "relationship names unknown element {id}");
        }
    }
    let contains = document["relationships"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["relationshipType"] == "CONTAINS")
        .count();
    assert_eq!(
        contains,
        fixture().packages.len() + 1,
        "image CONTAINS every package and the OS"
    );
}

#[test]
fn spdx_license_expressions_defined() {
    let document = parse(&render(SbomFormat::SpdxJson, &fixture()));
    let defined: Vec<&str> = document["hasExtractedLicensingInfos"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|info| info["licenseId"].as_str())
        .collect();

    for package in document["packages"].as_array().into_iter().flatten() {
        let declared = package["licenseDeclared"].as_str().unwrap_or("");
        let words = declared.split(|c: char| c.is_whitespace() || c == '(' || c == ')');
        for word in words.filter(|w| !w.is_empty()) {
            if word.starts_with("LicenseRef-") {
                assert!(
                    defined.contains(&word),
                    "{word} in {declared:?} is not defined"
                );
            } else {
                assert!(
                    !word.contains(|c: char| !(c.is_ascii_alphanumeric()
                        || c == '.'
                        || c == '-'
                        || c == '+')),
                    "{word:?} in {declared:?} is not an SPDX token"
                );
            }
        }
    }

    let by_id = |id: &str| -> String {
        document["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == id)
            .and_then(|p| p["licenseDeclared"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(by_id("libc6"), "LGPL-2.1+ AND LicenseRef-GPL-2-plus");
    assert_eq!(
        by_id("libssl3"),
        "Apache-2.0 AND (LicenseRef-Artistic OR LicenseRef-GPL-1-plus)"
    );
    assert_eq!(by_id("python3-minimal"), "NOASSERTION");
}

#[test]
fn duplicate_purls_get_unique_refs() {
    let mut inventory = fixture();
    let mut copy = inventory.packages[2].clone();
    copy.locations[0].path = "/usr/lib/apk/db/installed".to_owned();
    inventory.packages.push(copy.clone());
    inventory.packages.push(copy);

    let cyclonedx = render(SbomFormat::CycloneDxJson, &inventory);
    assert_valid(SbomFormat::CycloneDxJson, &cyclonedx);
    let document = parse(&cyclonedx);
    let mut refs: Vec<&str> = document["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    let count = refs.len();
    assert!(
        refs.iter().filter(|r| r.contains("package-id=")).count() == 3,
        "{refs:?}"
    );
    refs.sort_unstable();
    refs.dedup();
    assert_eq!(refs.len(), count);

    let spdx = render(SbomFormat::SpdxJson, &inventory);
    assert_valid(SbomFormat::SpdxJson, &spdx);
    let document = parse(&spdx);
    let mut ids: Vec<&str> = document["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["SPDXID"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count);
}

// -------------------------------------------------------------- snapshots

#[test]
fn cyclonedx_snapshot() {
    insta::assert_snapshot!("cyclonedx", render(SbomFormat::CycloneDxJson, &fixture()));
}

#[test]
fn spdx_snapshot() {
    insta::assert_snapshot!("spdx", render(SbomFormat::SpdxJson, &fixture()));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("json", render(SbomFormat::Json, &fixture()));
}

#[test]
fn table_snapshot() {
    insta::assert_snapshot!("table", render(SbomFormat::Table, &fixture()));
}

#[test]
fn table_color_switch() {
    let inventory = fixture();
    let meta = meta_for(&inventory);
    let plain = render_sbom(SbomFormat::Table, &inventory, &meta, false);
    let colored = render_sbom(SbomFormat::Table, &inventory, &meta, true);
    assert!(
        !plain.contains('\u{1b}'),
        "plain table has escape sequences"
    );
    assert!(
        colored.contains('\u{1b}'),
        "colored table has no escape sequences"
    );
}

// ------------------------------------------------------------ determinism

#[test]
fn repeated_render_identical() {
    let inventory = fixture();
    for format in ALL_FORMATS {
        assert_eq!(
            render(format, &inventory),
            render(format, &inventory),
            "{format}"
        );
    }
}

#[test]
fn package_order_irrelevant() {
    let inventory = fixture();
    let mut reversed = fixture();
    reversed.packages.reverse();
    let mut rotated = fixture();
    rotated.packages.rotate_left(3);
    rotated.packages.swap(0, 4);

    for format in ALL_FORMATS {
        let expected = render(format, &inventory);
        assert_eq!(render(format, &reversed), expected, "{format}, reversed");
        assert_eq!(render(format, &rotated), expected, "{format}, rotated");
    }
}

#[test]
fn serial_stable_and_embedded() {
    let inventory = fixture();
    let meta = meta_for(&inventory);
    let mut reversed = fixture();
    reversed.packages.reverse();
    assert_eq!(meta_for(&reversed).serial, meta.serial);

    let cyclonedx = parse(&render(SbomFormat::CycloneDxJson, &inventory));
    assert_eq!(
        cyclonedx["serialNumber"],
        format!("urn:uuid:{}", meta.serial)
    );
    let spdx = parse(&render(SbomFormat::SpdxJson, &inventory));
    let namespace = spdx["documentNamespace"].as_str().unwrap_or("");
    assert!(namespace.starts_with("https://"), "{namespace}");
    assert!(namespace.ends_with(&meta.serial), "{namespace}");
    assert!(
        !namespace.contains('#'),
        "SPDX forbids # in the namespace: {namespace}"
    );
}

#[test]
fn every_format_ends_with_newline() {
    let inventory = fixture();
    for format in ALL_FORMATS {
        let text = render(format, &inventory);
        assert!(text.ends_with('\n'), "{format}: no final newline");
        assert!(!text.ends_with("\n\n"), "{format}: blank line at the end");
    }
}
