//! Catalogers on real package databases laid out as root filesystems.

use std::path::PathBuf;

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::{Inventory, Package, PackageType};

fn inventory(fixture: &str) -> Inventory {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let image = Image::open(&format!("dir:{}", root.display()), &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn find<'a>(inventory: &'a Inventory, name: &str) -> &'a Package {
    inventory
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| {
            panic!(
                "{name} not found in {:?}",
                inventory
                    .packages
                    .iter()
                    .map(|p| &p.name)
                    .collect::<Vec<_>>()
            )
        })
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
    assert_eq!(
        package.purl,
        "pkg:deb/debian/libexample1@2.4.1-3?arch=amd64&distro=debian-12&upstream=example-src"
    );
}

#[test]
fn dpkg_status_with_files_and_licenses() {
    let inventory = inventory("dpkg-image");
    let package = find(&inventory, "libpam-runtime");
    assert_eq!(package.package_type, PackageType::Deb);
    assert_eq!(package.version, "1.1.8-3.6");
    assert_eq!(package.architecture.as_deref(), Some("all"));
    assert_eq!(package.source_name.as_deref(), Some("pam"));
    assert_eq!(
        package.maintainer.as_deref(),
        Some("Steve Langasek <vorlon@debian.org>")
    );
    assert_eq!(
        package.licenses,
        ["GPL-1.0-only", "GPL-2.0-only", "LGPL-2.1-only"]
    );
    assert_eq!(package.locations[0].path, "/var/lib/dpkg/status");
    // The first paragraph has an empty Package field and is reported, not kept.
    assert_eq!(inventory.packages.len(), 1);
    assert!(
        inventory
            .warnings
            .iter()
            .any(|w| w.contains("/var/lib/dpkg/status")),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn dpkg_distroless_status_d() {
    let inventory = inventory("dpkg-distroless");
    let package = find(&inventory, "libsqlite3-0");
    assert_eq!(package.version, "3.34.1-3");
    assert_eq!(package.architecture.as_deref(), Some("arm64"));
    assert_eq!(package.source_name.as_deref(), Some("sqlite3"));
    assert_eq!(
        package.licenses,
        ["GPL-2.0-only", "GPL-2.0-or-later", "public-domain"]
    );
    assert_eq!(
        package.locations[0].path,
        "/var/lib/dpkg/status.d/libsqlite3-0"
    );
    assert!(
        package
            .files
            .iter()
            .any(|f| f.starts_with("/usr/lib/aarch64-linux-gnu/libsqlite3.so")),
        "{:?}",
        package.files
    );
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
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.source_name.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(found, expected);
    let busybox = find(&inventory, "busybox-binsh");
    // No os-release in this fixture, so the purl carries no distro.
    assert_eq!(
        busybox.purl,
        "pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&upstream=busybox"
    );
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
    assert_eq!(
        jq.purl,
        "pkg:apk/alpine/jq@1.6-r0?arch=x86_64&distro=alpine-3.10.3"
    );
}

/// A root filesystem holding a real rpm database at `db_path`.
fn rpm_rootfs(database: &str, db_path: &str, os_release: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/catalog/rpm/testdata")
        .join(database);
    let target = root.path().join(db_path.trim_start_matches('/'));
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(source, target).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/os-release"), os_release).unwrap();
    root
}

fn inventory_of_dir(root: &std::path::Path) -> Inventory {
    let image = Image::open(&format!("dir:{}", root.display()), &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

#[test]
fn rpm_berkeley_db() {
    let root = rpm_rootfs(
        "libuuid-Packages",
        "/var/lib/rpm/Packages",
        "ID=\"rhel\"\nVERSION_ID=\"8.8\"\n",
    );
    let inventory = inventory_of_dir(root.path());
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let libuuid = find(&inventory, "libuuid");
    assert_eq!(libuuid.package_type, PackageType::Rpm);
    assert_eq!(libuuid.version, "2.32.1-42.el8_8");
    assert_eq!(libuuid.source_name.as_deref(), Some("util-linux"));
    assert_eq!(libuuid.source_version.as_deref(), Some("2.32.1-42.el8_8"));
    assert_eq!(libuuid.licenses, ["BSD"]);
    assert_eq!(libuuid.files.len(), 7);
    assert_eq!(
        libuuid.purl,
        "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-8.8&upstream=util-linux-2.32.1-42.el8_8.src.rpm"
    );
}

#[test]
fn rpm_sqlite_db_in_sysimage() {
    let root = rpm_rootfs(
        "cbl-mariner-2.0-trimmed-rpmdb.sqlite",
        "/usr/lib/sysimage/rpm/rpmdb.sqlite",
        "ID=mariner\nVERSION_ID=\"2.0\"\n",
    );
    let inventory = inventory_of_dir(root.path());
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    assert_eq!(inventory.packages.len(), 72);
    let curl = find(&inventory, "curl");
    assert_eq!(curl.version, "7.76.0-6.cm2");
    let with_epoch = find(&inventory, "ca-certificates-base");
    assert_eq!(with_epoch.epoch, Some(1));
    assert!(
        with_epoch.version.starts_with("1:"),
        "{}",
        with_epoch.version
    );
}

#[test]
fn rpm_garbage_database_is_a_warning() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
    std::fs::write(root.path().join("var/lib/rpm/Packages"), vec![0x5a; 8192]).unwrap();
    let inventory = inventory_of_dir(root.path());
    assert!(inventory.packages.is_empty());
    assert_eq!(inventory.warnings.len(), 1, "{:?}", inventory.warnings);
    assert!(
        inventory.warnings[0].contains("/var/lib/rpm/Packages"),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn dpkg_binnmu_purl_names_source_version() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    let status = "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nSource: bash (5.2.15-2)\nVersion: 5.2.15-2+b13\n\nPackage: libcap2\nStatus: install ok installed\nArchitecture: amd64\nSource: libcap2 (1:2.66-4+deb12u3)\nVersion: 1:2.66-4+deb12u3+b1\n";
    std::fs::write(root.path().join("var/lib/dpkg/status"), status).unwrap();
    let inventory = inventory_of_dir(root.path());
    assert_eq!(
        find(&inventory, "bash").purl,
        "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"
    );
    assert_eq!(
        find(&inventory, "libcap2").purl,
        "pkg:deb/debian/libcap2@1:2.66-4%2Bdeb12u3%2Bb1?arch=amd64&distro=debian-12&upstream=libcap2%401:2.66-4%2Bdeb12u3"
    );
}
