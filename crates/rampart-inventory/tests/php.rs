//! The PHP Composer cataloger on a root filesystem with Composer 1 and 2
//! `installed.json` files and a `composer.lock`, and, when the shared
//! corpus exists, on Syft's PHP fixtures compared with Syft's expectations.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::catalog::php::{parse_composer_lock, parse_installed_json};
use rampart_inventory::{Inventory, Package, PackageType};

fn inventory(fixture: &str) -> Inventory {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let image = Image::open(&format!("dir:{}", root.display()), &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn composer_packages(inventory: &Inventory) -> Vec<&Package> {
    inventory
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Php)
        .collect()
}

/// (path, name, version, declared) of every Composer package.
fn summary(inventory: &Inventory) -> BTreeSet<(String, String, String, bool)> {
    composer_packages(inventory)
        .iter()
        .map(|p| {
            (
                p.locations[0].path.clone(),
                p.name.clone(),
                p.version.clone(),
                p.declared,
            )
        })
        .collect()
}

#[test]
fn installed_and_locked_packages() {
    let inventory = inventory("php/rootfs");
    let entry = |path: &str, name: &str, version: &str, declared: bool| {
        (
            path.to_owned(),
            name.to_owned(),
            version.to_owned(),
            declared,
        )
    };
    let legacy = "/srv/legacy/vendor/composer/installed.json";
    let installed = "/var/www/app/vendor/composer/installed.json";
    let lock = "/var/www/app/composer.lock";
    let expected = BTreeSet::from([
        entry(legacy, "asm89/stack-cors", "1.3.0", false),
        entry(legacy, "behat/mink", "v1.8.1", false),
        entry(installed, "asm89/stack-cors", "1.3.0", false),
        entry(installed, "behat/mink", "v1.8.1", false),
        entry(lock, "adoy/fastcgi-client", "1.0.2", true),
        entry(lock, "alcaeus/mongo-php-adapter", "1.1.11", true),
        entry(lock, "behat/gherkin", "v4.6.2", true),
        entry(lock, "codeception/codeception", "4.1.6", true),
    ]);
    assert_eq!(summary(&inventory), expected);
    assert!(
        !inventory.warnings.iter().any(|w| w.contains("composer")),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn purl_and_licenses() {
    let inventory = inventory("php/rootfs");
    let mink = composer_packages(&inventory)
        .into_iter()
        .find(|p| p.name == "behat/mink")
        .unwrap();
    assert_eq!(mink.purl, "pkg:composer/behat/mink@v1.8.1");
    assert_eq!(mink.licenses, ["MIT"]);
    assert_eq!(mink.local_source, None);
}

/// Syft's PHP fixtures and the packages its tests expect, from the corpus's
/// `expected.json`. Syft reads only `packages` from `composer.lock`, so
/// rampart's extra packages there must be exactly the `packages-dev` ones.
#[test]
fn syft_fixtures() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let fixtures = corpus.join("vectors/syft-fixtures");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("expected.json")).unwrap()).unwrap();
    let packages_dev = BTreeSet::from([
        ("behat/gherkin".to_owned(), "v4.6.2".to_owned()),
        ("codeception/codeception".to_owned(), "4.1.6".to_owned()),
    ]);

    let mut checked = 0;
    for (fixture, tests) in expected["fixtures"].as_object().unwrap() {
        let parse = if fixture.starts_with("syft/pkg/cataloger/php/")
            && fixture.ends_with("/composer.lock")
        {
            parse_composer_lock
        } else if fixture.starts_with("syft/pkg/cataloger/php/")
            && fixture.ends_with("/installed.json")
        {
            parse_installed_json
        } else {
            // PECL registry files (`*.reg`) are not cataloged.
            continue;
        };
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
        let (packages, problems) = parse(&std::fs::read(fixtures.join(fixture)).unwrap())
            .unwrap_or_else(|e| panic!("{fixture}: {e}"));
        assert!(problems.is_empty(), "{fixture}: {problems:?}");
        let got: BTreeSet<(String, String)> =
            packages.into_iter().map(|p| (p.name, p.version)).collect();
        let extra: BTreeSet<(String, String)> = got.difference(&want).cloned().collect();
        assert!(
            want.is_subset(&got),
            "{fixture}: missing {:?}",
            want.difference(&got).collect::<Vec<_>>()
        );
        if fixture.ends_with("composer.lock") {
            assert_eq!(extra, packages_dev, "{fixture}");
        } else {
            assert!(extra.is_empty(), "{fixture}: extra {extra:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, 2, "composer fixtures checked");
}
