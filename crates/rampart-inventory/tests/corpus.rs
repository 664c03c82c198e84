//! Corpus tier: every real image under `shared/corpus/images` (beside the
//! repository) is inventoried and its OS package set compared with Syft
//! 1.18.1's CycloneDX SBOM of the same image. Runs when the corpus exists;
//! with `RAMPART_REQUIRE_CORPUS=1` (set by CI) a missing corpus fails.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rampart_image::{Image, Limits, OpenOptions};

use rampart_testkit::{CORPUS_IMAGES, corpus_dir as corpus};

/// (type, name, version, arch, source name) of every package.
type PackageKey = (String, String, String, String, String);

fn rampart_packages(reference: &str) -> BTreeSet<PackageKey> {
    let image = Image::open(reference, &OpenOptions::default())
        .unwrap_or_else(|e| panic!("{reference}: {e}"));
    let inventory = rampart_inventory::inventory_image(&image, Limits::default(), None)
        .unwrap_or_else(|e| panic!("{reference}: {e}"));
    assert!(
        inventory.warnings.is_empty(),
        "{reference}: warnings {:?}",
        inventory.warnings
    );
    inventory
        .packages
        .iter()
        .map(|p| {
            (
                p.package_type.purl_type().to_owned(),
                p.name.clone(),
                p.version.clone(),
                p.architecture.clone().unwrap_or_default(),
                p.source_name.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Reads Syft's OS packages. Syft records the source only where the database
/// names one that differs, so a missing source is the package's own name.
fn syft_packages(path: &PathBuf) -> BTreeSet<PackageKey> {
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut packages = BTreeSet::new();
    for component in document["components"].as_array().unwrap() {
        let property = |name: &str| {
            component["properties"]
                .as_array()
                .and_then(|list| list.iter().find(|p| p["name"] == name))
                .and_then(|p| p["value"].as_str())
                .map(str::to_owned)
        };
        let Some(kind) = property("syft:package:type") else {
            continue;
        };
        if kind != "apk" && kind != "deb" && kind != "rpm" {
            continue;
        }
        let name = component["name"].as_str().unwrap().to_owned();
        let purl = component["purl"].as_str().unwrap_or_default();
        let arch = purl
            .split(['?', '&'])
            .find_map(|q| q.strip_prefix("arch="))
            .unwrap_or_default()
            .to_owned();
        let source = property("syft:metadata:source")
            .or_else(|| property("syft:metadata:originPackage"))
            .unwrap_or_else(|| name.clone());
        packages.insert((
            kind,
            name,
            component["version"].as_str().unwrap().to_owned(),
            arch,
            source,
        ));
    }
    packages
}

fn rampart_purls(reference: &str) -> BTreeSet<String> {
    let image = Image::open(reference, &OpenOptions::default()).unwrap();
    let inventory = rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap();
    inventory
        .packages
        .iter()
        .filter(|p| p.package_type.is_os())
        .map(|p| p.purl.clone())
        .collect()
}

fn syft_os_purls(path: &PathBuf) -> BTreeSet<String> {
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    document["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .filter(|purl| {
            purl.starts_with("pkg:apk/")
                || purl.starts_with("pkg:deb/")
                || purl.starts_with("pkg:rpm/")
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn corpus_images_match_syft_os_packages() {
    let Some(corpus) = corpus() else { return };
    let images = corpus.join("images");
    // Package counts from the image databases, as the corpus README lists them.
    let expected_counts = [
        ("alpine-3.10", 14),
        ("alpine-3.11", 14),
        ("alpine-3.16", 14),
        ("alpine-3.20", 14),
        ("debian-standard-python", 153),
        ("debian-minimal-python", 13),
        ("polyglot-app", 14),
    ];
    for (name, count) in expected_counts {
        let ours: BTreeSet<PackageKey> =
            rampart_packages(&format!("oci-dir:{}", images.join(name).display()))
                .into_iter()
                .filter(|(kind, ..)| ["apk", "deb", "rpm"].contains(&kind.as_str()))
                .collect();
        let syft = syft_packages(&corpus.join(format!("reference/syft/{name}.cdx.json")));
        let missing: Vec<_> = syft.difference(&ours).collect();
        let extra: Vec<_> = ours.difference(&syft).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:#?}\nextra {extra:#?}"
        );
        assert_eq!(ours.len(), count, "{name}: package count");

        let our_purls = rampart_purls(&format!("oci-dir:{}", images.join(name).display()));
        let syft_purls = syft_os_purls(&corpus.join(format!("reference/syft/{name}.cdx.json")));
        assert_eq!(our_purls, syft_purls, "{name}: package URLs");
    }
}

/// A purl without qualifiers or subpath, for comparing language packages
/// with Syft, whose qualifiers differ.
fn bare_purl(purl: &str) -> String {
    purl.split(['?', '#']).next().unwrap_or(purl).to_owned()
}

/// Syft's language packages, by bare purl, each with the path it was found at.
fn syft_language_packages(path: &PathBuf) -> Vec<(String, String)> {
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut packages = Vec::new();
    for component in document["components"].as_array().unwrap() {
        let Some(purl) = component["purl"].as_str() else {
            continue;
        };
        if ["pkg:apk/", "pkg:deb/", "pkg:rpm/"]
            .iter()
            .any(|os| purl.starts_with(os))
        {
            continue;
        }
        let location = component["properties"]
            .as_array()
            .and_then(|list| list.iter().find(|p| p["name"] == "syft:location:0:path"))
            .and_then(|p| p["value"].as_str())
            .unwrap_or_default()
            .to_owned();
        packages.push((bare_purl(purl), location));
    }
    packages
}

/// The language packages of the corpus images equal Syft's, except for two
/// differences in which Syft is wrong. Syft reports the application's own
/// package.json as an npm package. It also reports the pip, setuptools and
/// wheel that Debian's python3-pip, python3-setuptools and python3-wheel
/// install as PyPI packages, besides the deb packages.
#[test]
fn corpus_language_packages_match_syft() {
    let Some(corpus) = corpus() else { return };
    let images = corpus.join("images");
    for (name, expected_count) in [
        ("polyglot-app", 11 + 53 + 2 + 7),
        ("debian-standard-python", 0),
        ("debian-minimal-python", 0),
        ("alpine-3.10", 0),
        ("alpine-3.11", 0),
        ("alpine-3.16", 0),
        ("alpine-3.20", 0),
    ] {
        let image = Image::open(
            &format!("oci-dir:{}", images.join(name).display()),
            &OpenOptions::default(),
        )
        .unwrap();
        let inventory =
            rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap();
        assert!(
            inventory.warnings.is_empty(),
            "{name}: {:?}",
            inventory.warnings
        );
        let os_files: BTreeSet<&str> = inventory
            .packages
            .iter()
            .filter(|p| p.package_type.is_os())
            .flat_map(|p| p.files.iter().map(String::as_str))
            .collect();
        let ours: BTreeSet<String> = inventory
            .packages
            .iter()
            .filter(|p| !p.package_type.is_os())
            .map(|p| bare_purl(&p.purl))
            .collect();
        assert_eq!(ours.len(), expected_count, "{name}: {ours:#?}");

        let mut syft = BTreeSet::new();
        for (purl, location) in
            syft_language_packages(&corpus.join(format!("reference/syft/{name}.cdx.json")))
        {
            if location == "/app/node/package.json" {
                // The application's manifest, not a dependency.
                continue;
            }
            if os_files.contains(location.as_str()) {
                // Files an OS package installed: reported as that package.
                continue;
            }
            syft.insert(purl);
        }
        let missing: Vec<_> = syft.difference(&ours).collect();
        let extra: Vec<_> = ours.difference(&syft).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:#?}\nextra {extra:#?}"
        );
    }
}

#[test]
fn docker_archive_matches_oci_layout() {
    let Some(corpus) = corpus() else { return };
    let images = corpus.join("images");
    let from_layout =
        rampart_packages(&format!("oci-dir:{}", images.join("alpine-3.10").display()));
    let from_archive = rampart_packages(&format!(
        "docker-archive:{}",
        images.join("alpine-3.10.docker.tar").display()
    ));
    assert_eq!(from_layout, from_archive);
    assert_eq!(from_layout.len(), 14);
}

/// Every image, copied to a docker-archive with skopeo (as `skopeo copy`
/// users make them), must give the same OS packages as its OCI layout.
#[test]
fn skopeo_docker_archives_match_layouts() {
    let Some(corpus) = corpus() else { return };
    if std::process::Command::new("skopeo")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("RAMPART_REQUIRE_CORPUS").is_none(),
            "skopeo is needed for the corpus tier"
        );
        eprintln!("skopeo not found; docker-archive comparison skipped");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    for name in CORPUS_IMAGES {
        let layout = corpus.join("images").join(name);
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let tag = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap()
            .to_owned();
        let archive = scratch.path().join(format!("{name}.docker.tar"));
        let status = std::process::Command::new("skopeo")
            .args(["copy", "--quiet"])
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!(
                "docker-archive:{}:localhost/{name}:{tag}",
                archive.display()
            ))
            .status()
            .unwrap();
        assert!(status.success(), "skopeo copy of {name} failed");
        let from_layout = rampart_packages(&format!("oci-dir:{}", layout.display()));
        let from_archive = rampart_packages(&format!("docker-archive:{}", archive.display()));
        assert_eq!(from_layout, from_archive, "{name}");
    }
}

/// go-rpmdb's own expectations for its database fixtures.
#[test]
fn rpmdb_fixtures_match_go_rpmdb() {
    use rampart_inventory::catalog::rpm::{RpmDbKind, read_rpmdb};
    let Some(corpus) = corpus() else { return };
    let testdata = corpus.join("vectors/rpmdb/testdata");
    for (database, expected) in [
        (
            "cbl-mariner-2.0/rpmdb.sqlite",
            "cbl-mariner-2.0/rpmdb.sqlite.expected.json",
        ),
        ("libuuid/Packages", "libuuid/Packages.expected.json"),
    ] {
        let kind = RpmDbKind::from_path(database).unwrap();
        let headers = read_rpmdb(kind, &std::fs::read(testdata.join(database)).unwrap()).unwrap();
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(testdata.join(expected)).unwrap()).unwrap();
        let checks = expected["single_package_checks"].as_array().unwrap();
        assert!(!checks.is_empty(), "{database}: no checks");
        for check in checks {
            let name = check["name"].as_str().unwrap();
            let header = headers
                .iter()
                .find(|h| h.name == name)
                .unwrap_or_else(|| panic!("{database}: {name} missing"));
            assert_eq!(
                header.version,
                check["version"].as_str().unwrap(),
                "{database} {name}"
            );
            assert_eq!(
                header.release,
                check["release"].as_str().unwrap(),
                "{database} {name}"
            );
            assert_eq!(
                header.arch.as_deref(),
                check["arch"].as_str(),
                "{database} {name}"
            );
            assert_eq!(
                header.epoch.map(i64::from),
                check["epoch"].as_i64(),
                "{database} {name}"
            );
            assert_eq!(
                header.source_rpm.as_deref(),
                check["sourceRpm"].as_str(),
                "{database} {name}"
            );
        }
    }
}
