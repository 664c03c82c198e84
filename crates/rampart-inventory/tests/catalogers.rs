//! Catalogers on real package databases laid out as root filesystems.

use std::path::PathBuf;

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::{Inventory, Package, PackageType};

fn inventory(fixture: &str) -> Inventory {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
    let image = Image::open(&format!("dir:{}", root.display()), &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn find<'a>(inventory: &'a Inventory, name: &str) -> &'a Package {
    inventory
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} not found in {:?}", inventory.packages.iter().map(|p| &p.name).collect::<Vec<_>>()))
}

#[test]
fn dpkg_skips_config_files_packages() {
    let inventory = inventory("dpkg-deinstalled");
    let names: Vec<&str> = inventory.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["libexample1"]);
    let package = &inventory.packages[0];
    assert_eq!(package.version, "2.4.1-3");
    assert_eq!(package.source_name.as_deref(), Some("example-src"));
    assert_eq!(package.source_version.as_deref(), Some("2.4.1-3"));
    assert_eq!(package.purl, "pkg:deb/debian/libexample1@2.4.1-3?arch=amd64&distro=debian-12&upstream=example-src");
}

#[test]
fn dpkg_status_with_files_and_licenses() {
    let inventory = inventory("dpkg-image");
    let package = find(&inventory, "libpam-runtime");
    assert_eq!(package.package_type, PackageType::Deb);
    assert_eq!(package.version, "1.1.8-3.6");
    assert_eq!(package.architecture.as_deref(), Some("all"));
    assert_eq!(package.source_name.as_deref(), Some("pam"));
    assert_eq!(package.maintainer.as_deref(), Some("Steve Langasek <vorlon@debian.org>"));
    assert_eq!(package.licenses, ["GPL-1", "GPL-2", "LGPL-2.1"]);
    assert_eq!(package.locations[0].path, "/var/lib/dpkg/status");
    // The first paragraph has an empty Package field and is reported, not kept.
    assert_eq!(inventory.packages.len(), 1);
    assert!(inventory.warnings.iter().any(|w| w.contains("/var/lib/dpkg/status")), "{:?}", inventory.warnings);
}

#[test]
fn dpkg_distroless_status_d() {
    let inventory = inventory("dpkg-distroless");
    let package = find(&inventory, "libsqlite3-0");
    assert_eq!(package.version, "3.34.1-3");
    assert_eq!(package.architecture.as_deref(), Some("arm64"));
    assert_eq!(package.source_name.as_deref(), Some("sqlite3"));
    assert_eq!(package.licenses, ["GPL-2", "GPL-2+", "public-domain"]);
    assert_eq!(package.locations[0].path, "/var/lib/dpkg/status.d/libsqlite3-0");
    assert!(package.files.iter().any(|f| f.starts_with("/usr/lib/aarch64-linux-gnu/libsqlite3.so")), "{:?}", package.files);
    assert!(package.files.iter().all(|f| f.starts_with('/')));
}

#[test]
fn apk_origin_and_versions() {
    let inventory = inventory("apk-multiple");
    let expected = [
        ("bash", "5.2.21-r0", "bash"),
        ("busybox-binsh", "1.36.1-r15", "busybox"),
        ("musl", "1.2.4_git20230717-r4", "musl"),
        ("readline", "8.2.1-r2", "readline"),
    ];
    let found: Vec<(&str, &str, &str)> = inventory
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.source_name.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(found, expected);
    let busybox = find(&inventory, "busybox-binsh");
    // No os-release in this fixture, so the purl carries no distro.
    assert_eq!(busybox.purl, "pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&upstream=busybox");
}

#[test]
fn apk_release_candidate_fixture() {
    let inventory = inventory("apk-rc");
    let jq = find(&inventory, "jq");
    assert_eq!(jq.version, "1.6-r0");
    assert_eq!(jq.source_name.as_deref(), Some("jq"));
    let distro = inventory.distro.as_ref().unwrap();
    assert_eq!(distro.id, "alpine");
    assert_eq!(distro.point_release.as_deref(), Some("3.10.3"));
    assert_eq!(jq.purl, "pkg:apk/alpine/jq@1.6-r0?arch=x86_64&distro=alpine-3.10.3");
}
