//! Matching cases rebuilt from public bug reports in peer scanners; the
//! fixtures are copies of each case's input and expected result.
//! - An RPM source package has no epoch of its own; borrowing the binary's
//!   epoch reported fixed packages as affected.
//! - A VEX statement naming a subcomponent of one image must suppress the
//!   finding in that image only.
//! - Maven orders an unknown qualifier (`-cb-5`) after the release.

use std::path::{Path, PathBuf};

use rampart_advisory::build::{FeedInput, build_database};
use rampart_advisory::store::{Database, DatabaseBuilder, InputMeta};
use rampart_advisory::{Advisory, AffectedPackage, Namespace, Status};
use rampart_inventory::{Distro, Inventory, Package, PackageType, SourceInfo};
use rampart_match::{Finding, SuppressionKind, match_inventory, vex};
use serde_json::Value;

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cases")
        .join(name)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Builds a database holding `advisories` in a temporary directory.
fn database(dir: &Path, advisories: Vec<Advisory>) -> Database {
    let path = dir.join("case.db");
    let mut builder = DatabaseBuilder::create(&path).unwrap();
    for advisory in advisories {
        builder.add_advisory(advisory).unwrap();
    }
    builder
        .finish(rampart_advisory::store::BuildMetadata {
            built_at: chrono::Utc::now(),
            rampart_version: "test".into(),
            inputs: vec![InputMeta {
                feed: "case".into(),
                location: dir.display().to_string(),
                fetched_at: None,
                etag: None,
                last_modified: None,
            }],
        })
        .unwrap();
    Database::open(&path).unwrap()
}

fn package(package_type: PackageType, name: &str, version: &str, purl: &str) -> Package {
    Package {
        package_type,
        name: name.to_owned(),
        version: version.to_owned(),
        epoch: None,
        architecture: None,
        source_name: None,
        source_version: None,
        licenses: Vec::new(),
        maintainer: None,
        purl: purl.to_owned(),
        locations: Vec::new(),
        introduced_in_layer: None,
        files: Vec::new(),
        declared: false,
        local_source: None,
    }
}

fn inventory(distro: Option<Distro>, packages: Vec<Package>) -> Inventory {
    Inventory {
        source: SourceInfo::default(),
        distro,
        packages,
        ..Inventory::default()
    }
}

fn ids_of<'a>(findings: &'a [Finding], package: &str) -> Vec<&'a str> {
    findings
        .iter()
        .filter(|finding| finding.package.name == package && finding.is_active())
        .map(|finding| finding.id.as_str())
        .collect()
}

#[test]
fn rpm_source_epoch_not_borrowed() {
    let dir = case_dir("grype-437-rpm-srcpkg-epoch");
    let advisory = read_json(&dir.join("advisory.json"));
    let headers = read_json(&dir.join("rpm-headers.json"));
    let expected = read_json(&dir.join("expected.json"));

    let namespace = Namespace::from_key(advisory["namespace"].as_str().unwrap());
    let advisories = advisory["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| Advisory {
            id: entry["id"].as_str().unwrap().to_owned(),
            aliases: vec![entry["advisory"].as_str().unwrap().to_owned()],
            source: "case".to_owned(),
            affected: vec![AffectedPackage::fixed_in(
                namespace.clone(),
                entry["package"].as_str().unwrap(),
                entry["fixed"].as_str().unwrap(),
            )],
            ..Advisory::default()
        })
        .collect();
    let temp = tempfile::tempdir().unwrap();
    let database = database(temp.path(), advisories);

    // The packages as the rpm cataloger builds them from these headers.
    let packages = headers["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|header| {
            let name = header["name"].as_str().unwrap();
            let version = format!(
                "{}-{}",
                header["version"].as_str().unwrap(),
                header["release"].as_str().unwrap()
            );
            let mut package = package(
                PackageType::Rpm,
                name,
                &version,
                &format!("pkg:rpm/centos/{name}@{version}"),
            );
            package.epoch = header["epoch"].as_u64().map(|epoch| epoch as u32);
            let (source, source_version) = rampart_inventory::catalog::rpm::parse_source_rpm(
                header["sourcerpm"].as_str().unwrap(),
            )
            .unwrap();
            package.source_name = Some(source);
            package.source_version = Some(source_version);
            package
        })
        .collect();
    let distro = Distro {
        id: "centos".into(),
        version_id: Some("8".into()),
        id_like: vec!["rhel".into(), "fedora".into()],
        source_file: "/etc/os-release".into(),
        ..Distro::default()
    };
    let outcome = match_inventory(
        &database,
        &inventory(Some(distro), packages),
        chrono::Utc::now(),
    )
    .unwrap();

    for absent in expected["findings_must_not_include"].as_array().unwrap() {
        let ids = ids_of(&outcome.findings, absent["package"].as_str().unwrap());
        assert!(
            !ids.contains(&absent["id"].as_str().unwrap()),
            "{absent}: {ids:?}"
        );
    }
    for present in expected["findings_must_include"].as_array().unwrap() {
        let finding = outcome
            .findings
            .iter()
            .find(|finding| {
                finding.package.name == present["package"].as_str().unwrap()
                    && finding.id == present["id"].as_str().unwrap()
            })
            .unwrap_or_else(|| panic!("missing {present}"));
        // Evaluated without epochs, the fix is still reported as the feed gives it.
        assert_eq!(finding.status, Status::Fixed);
        assert!(finding.fixed_version.is_some());
    }
}

fn vex_case() -> (tempfile::TempDir, Database, Inventory, String) {
    let dir = case_dir("trivy-6077-vex-subcomponent");
    let image = read_json(&dir.join("image.json"));
    let advisory = read_json(&dir.join("advisory.json"));

    let namespace = Namespace::from_key(advisory["namespace"].as_str().unwrap());
    let advisories = advisory["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let mut affected =
                AffectedPackage::new(namespace.clone(), entry["package"].as_str().unwrap());
            affected.status = Status::NotFixed;
            Advisory {
                id: entry["id"].as_str().unwrap().to_owned(),
                source: "case".to_owned(),
                affected: vec![affected],
                ..Advisory::default()
            }
        })
        .collect();
    let temp = tempfile::tempdir().unwrap();
    let database = database(temp.path(), advisories);

    let packages = image["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            package(
                PackageType::Deb,
                entry["name"].as_str().unwrap(),
                entry["version"].as_str().unwrap(),
                entry["purl"].as_str().unwrap(),
            )
        })
        .collect();
    let distro = Distro {
        id: image["os"]["id"].as_str().unwrap().to_owned(),
        version_id: image["os"]["version"].as_str().map(str::to_owned),
        source_file: "/etc/os-release".into(),
        ..Distro::default()
    };
    let image_purl = image["image"]["purl"].as_str().unwrap().to_owned();
    (
        temp,
        database,
        inventory(Some(distro), packages),
        image_purl,
    )
}

#[test]
fn vex_subcomponent_applies_in_named_image() {
    let (_temp, database, inventory, image_purl) = vex_case();
    let dir = case_dir("trivy-6077-vex-subcomponent");
    let expected = read_json(&dir.join("expected.json"));

    let outcome = match_inventory(&database, &inventory, chrono::Utc::now()).unwrap();
    for present in expected["without_vex"]["findings_must_include"]
        .as_array()
        .unwrap()
    {
        let ids = ids_of(&outcome.findings, present["package"].as_str().unwrap());
        assert!(ids.contains(&present["id"].as_str().unwrap()), "{ids:?}");
    }

    let mut findings = outcome.findings.clone();
    let statements = vex::load(&dir.join("vex.openvex.json")).unwrap();
    vex::apply(&statements, &mut findings, Some(&image_purl));
    let rules = &expected["with_vex.openvex.json"];
    for absent in rules["findings_must_not_include"].as_array().unwrap() {
        let ids = ids_of(&findings, absent["package"].as_str().unwrap());
        assert!(!ids.contains(&absent["id"].as_str().unwrap()), "{ids:?}");
    }
    for suppressed in rules["suppressed_must_include"].as_array().unwrap() {
        let finding = findings
            .iter()
            .find(|finding| finding.id == suppressed["id"].as_str().unwrap())
            .unwrap();
        let suppression = finding.suppressed.as_ref().expect("suppressed");
        assert_eq!(suppression.kind, SuppressionKind::Vex);
        assert_eq!(
            suppression.vex_status.as_deref(),
            suppressed["vex_status"].as_str()
        );
        assert_eq!(
            suppression.justification.as_deref(),
            suppressed["justification"].as_str()
        );
    }
}

#[test]
fn vex_subcomponent_ignored_in_other_image() {
    let (_temp, database, inventory, image_purl) = vex_case();
    let dir = case_dir("trivy-6077-vex-subcomponent");
    let expected = read_json(&dir.join("expected.json"));

    let mut findings = match_inventory(&database, &inventory, chrono::Utc::now())
        .unwrap()
        .findings;
    let statements = vex::load(&dir.join("vex-other-product.openvex.json")).unwrap();
    vex::apply(&statements, &mut findings, Some(&image_purl));
    for present in expected["with_vex-other-product.openvex.json"]["findings_must_include"]
        .as_array()
        .unwrap()
    {
        let ids = ids_of(&findings, present["package"].as_str().unwrap());
        assert!(ids.contains(&present["id"].as_str().unwrap()), "{ids:?}");
    }
}

#[test]
fn vex_subcomponent_needs_image_identity() {
    let (_temp, database, inventory, _) = vex_case();
    let dir = case_dir("trivy-6077-vex-subcomponent");
    let mut findings = match_inventory(&database, &inventory, chrono::Utc::now())
        .unwrap()
        .findings;
    let statements = vex::load(&dir.join("vex.openvex.json")).unwrap();
    vex::apply(&statements, &mut findings, None);
    assert!(findings.iter().all(Finding::is_active));
}

#[test]
fn maven_vendor_suffix_not_affected() {
    let dir = case_dir("grype-1526-maven-cb-suffix");
    let advisory = read_json(&dir.join("advisory.json"));
    let expected = read_json(&dir.join("expected.json"));

    let namespace = Namespace::ecosystem(advisory["ecosystem"].as_str().unwrap());
    let advisories = advisory["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| Advisory {
            id: entry["id"].as_str().unwrap().to_owned(),
            source: "case".to_owned(),
            affected: vec![AffectedPackage::fixed_in(
                namespace.clone(),
                entry["package"].as_str().unwrap(),
                entry["fixed"].as_str().unwrap(),
            )],
            ..Advisory::default()
        })
        .collect();
    let temp = tempfile::tempdir().unwrap();
    let database = database(temp.path(), advisories);

    let packages: Vec<Package> = expected["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|entry| {
            let group = entry["group"].as_str().unwrap();
            let name = entry["name"].as_str().unwrap();
            let fixed = entry["version"].as_str().unwrap();
            // The vendor build and, as a positive control, a release below the fix.
            [fixed, "2.414.1"].map(|version| {
                package(
                    PackageType::Java,
                    &format!("{group}:{name}"),
                    version,
                    &format!("pkg:maven/{group}/{name}@{version}"),
                )
            })
        })
        .collect();
    let outcome =
        match_inventory(&database, &inventory(None, packages), chrono::Utc::now()).unwrap();
    let absent = &expected["findings_must_not_include"][0];
    let vendor_build: Vec<&Finding> = outcome
        .findings
        .iter()
        .filter(|finding| finding.package.version == "2.414.2-cb-5")
        .collect();
    assert!(vendor_build.is_empty(), "{absent}: {vendor_build:?}");
    let older: Vec<&Finding> = outcome
        .findings
        .iter()
        .filter(|finding| finding.package.version == "2.414.1")
        .collect();
    assert_eq!(older.len(), 1);
}

/// A folder whose files only look like feeds gives no records, and the
/// build fails instead of installing an empty database.
#[test]
fn case_folder_gives_no_records() {
    let dir = case_dir("grype-1526-maven-cb-suffix");
    let temp = tempfile::tempdir().unwrap();
    let error =
        build_database(&temp.path().join("x.db"), &[FeedInput::local(&dir)], None).unwrap_err();
    assert!(error.to_string().contains("gave no records"), "{error}");
}

/// A path or git dependency named like a registry crate is not matched
/// against that crate's advisories, but the registry crate of the same
/// name and version is.
#[test]
fn local_source_package_not_matched() {
    let namespace = Namespace::ecosystem("crates.io");
    let advisory = Advisory {
        id: "RUSTSEC-2000-0001".to_owned(),
        source: "case".to_owned(),
        affected: vec![AffectedPackage::fixed_in(namespace, "smallvec", "1.0.0")],
        ..Advisory::default()
    };
    let temp = tempfile::tempdir().unwrap();
    let database = database(temp.path(), vec![advisory]);

    let registry = package(
        PackageType::Rust,
        "smallvec",
        "0.6.13",
        "pkg:cargo/smallvec@0.6.13",
    );
    let mut path_dependency = registry.clone();
    path_dependency.local_source = Some("path".to_owned());
    let mut git_dependency = registry.clone();
    git_dependency.local_source = Some("git+https://example.invalid/smallvec#0123abc".to_owned());

    for (local, expected) in [(path_dependency, 0), (git_dependency, 0), (registry, 1)] {
        let outcome =
            match_inventory(&database, &inventory(None, vec![local]), chrono::Utc::now()).unwrap();
        assert_eq!(outcome.findings.len(), expected);
    }
}

/// A record that lists the same CVE alias twice (as some Go records do)
/// appears once in the finding's advisories.
#[test]
fn repeated_alias_counted_once() {
    let namespace = Namespace::ecosystem("Go");
    let advisory = Advisory {
        id: "GO-2000-0001".to_owned(),
        source: "case".to_owned(),
        aliases: vec!["CVE-2000-0001".to_owned(), "CVE-2000-0001".to_owned()],
        affected: vec![AffectedPackage::fixed_in(
            namespace,
            "example.com/module",
            "v1.1.0",
        )],
        ..Advisory::default()
    };
    let temp = tempfile::tempdir().unwrap();
    let database = database(temp.path(), vec![advisory]);
    let module = package(
        PackageType::Go,
        "example.com/module",
        "v1.0.0",
        "pkg:golang/example.com/module@v1.0.0",
    );
    let outcome = match_inventory(
        &database,
        &inventory(None, vec![module]),
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].id, "CVE-2000-0001");
    assert_eq!(outcome.findings[0].advisories.len(), 1);
}
