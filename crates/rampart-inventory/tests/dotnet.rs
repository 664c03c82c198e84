//! The .NET cataloger on a root filesystem with two `*.deps.json` files and
//! a `packages.lock.json`, and, when the shared corpus exists, on Syft's
//! .NET fixtures compared with Syft's expectations.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::catalog::dotnet::{parse_deps_json, parse_packages_lock};
use rampart_inventory::{Inventory, Package, PackageType};

fn inventory(fixture: &str) -> Inventory {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let image = Image::open(&format!("dir:{}", root.display()), &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn nuget_packages<'a>(inventory: &'a Inventory, path: &str) -> Vec<&'a Package> {
    inventory
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::DotNet && p.locations[0].path == path)
        .collect()
}

#[test]
fn deps_json_packages_are_installed() {
    let inventory = inventory("dotnet/rootfs");
    let packages = nuget_packages(&inventory, "/app/TestLibrary.deps.json");
    assert_eq!(packages.len(), 12);
    assert!(packages.iter().all(|p| !p.declared));
    assert!(
        !packages
            .iter()
            .any(|p| p.name == "TestLibrary" || p.name == "TestCommon")
    );
    let serilog = packages.iter().find(|p| p.name == "Serilog").unwrap();
    assert_eq!(serilog.version, "2.10.0");
    assert_eq!(serilog.purl, "pkg:nuget/Serilog@2.10.0");

    let reference = nuget_packages(&inventory, "/srv/refasm/MyApp.deps.json");
    let names: Vec<(&str, &str)> = reference
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(names, [("Newtonsoft.Json", "13.0.3")]);
}

#[test]
fn lock_packages_are_declared_unless_installed() {
    let inventory = inventory("dotnet/rootfs");
    let locked = nuget_packages(&inventory, "/src/app/packages.lock.json");
    // 51 locked packages, less Newtonsoft.Json 13.0.3, which MyApp.deps.json installs.
    assert_eq!(locked.len(), 50);
    assert!(locked.iter().all(|p| p.declared));
    assert!(!locked.iter().any(|p| p.name == "Newtonsoft.Json"));
    assert!(
        locked
            .iter()
            .any(|p| p.name == "Humanizer.Core.zh-Hant" && p.version == "2.14.1")
    );
    assert!(
        !inventory.warnings.iter().any(|w| w.contains(".json")),
        "{:?}",
        inventory.warnings
    );
}

/// Syft's .NET fixtures and the packages its tests expect, from the
/// corpus's `expected.json`. Syft reports the projects of a deps.json
/// (`TestLibrary` and `TestCommon` in `dir-example-1`) as packages. rampart
/// skips them, so only they may be missing from rampart's result.
#[test]
fn syft_fixtures() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let fixtures = corpus.join("vectors/syft-fixtures");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("expected.json")).unwrap()).unwrap();
    let projects = BTreeSet::from([
        ("TestCommon".to_owned(), "1.0.0".to_owned()),
        ("TestLibrary".to_owned(), "1.0.0".to_owned()),
    ]);

    let mut checked = 0;
    for (fixture, tests) in expected["fixtures"].as_object().unwrap() {
        if !fixture.starts_with("syft/pkg/cataloger/dotnet/") {
            continue;
        }
        let want: BTreeSet<(String, String)> = tests
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|test| test["packages"].as_array().unwrap())
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["version"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut got = BTreeSet::new();
        for entry in std::fs::read_dir(fixtures.join(fixture)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let parse = if name.ends_with(".deps.json") {
                parse_deps_json
            } else if name == "packages.lock.json" {
                parse_packages_lock
            } else {
                continue;
            };
            let (packages, problems) = parse(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(problems.is_empty(), "{}: {problems:?}", path.display());
            got.extend(packages.into_iter().map(|p| (p.name, p.version)));
        }
        let missing: BTreeSet<(String, String)> = want.difference(&got).cloned().collect();
        assert!(
            missing.is_subset(&projects),
            "{fixture}: missing {missing:?}"
        );
        assert!(
            got.is_subset(&want),
            "{fixture}: extra {:?}",
            got.difference(&want).collect::<Vec<_>>()
        );
        checked += 1;
    }
    assert_eq!(checked, 1, ".NET fixtures checked");

    // The deps.json with reference assemblies has no transcribed expectation;
    // Syft's own test keeps only Newtonsoft.Json 13.0.3 from it.
    let reference = std::fs::read(
        fixtures
            .join("syft/pkg/cataloger/dotnet/testdata/deps-with-referenceassembly/MyApp.deps.json"),
    )
    .unwrap();
    let (packages, _) = parse_deps_json(&reference).unwrap();
    let got: Vec<(String, String)> = packages.into_iter().map(|p| (p.name, p.version)).collect();
    assert_eq!(got, [("Newtonsoft.Json".to_owned(), "13.0.3".to_owned())]);
}
