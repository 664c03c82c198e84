//! The Ruby cataloger on a root filesystem with installed gemspecs and a
//! Gemfile.lock, and, when the shared corpus exists, on Syft's Ruby
//! fixtures compared with Syft's expectations.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::catalog::ruby::{parse_gemfile_lock, parse_gemspec};
use rampart_inventory::{Inventory, Package, PackageType};

fn inventory(fixture: &str) -> Inventory {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let image = Image::open(&format!("dir:{}", root.display()), &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn gems(inventory: &Inventory) -> Vec<&Package> {
    inventory
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Ruby)
        .collect()
}

fn find<'a>(inventory: &'a Inventory, name: &str) -> Vec<&'a Package> {
    gems(inventory)
        .into_iter()
        .filter(|p| p.name == name)
        .collect()
}

#[test]
fn installed_gemspecs() {
    let inventory = inventory("ruby/rootfs");
    let bundler = find(&inventory, "bundler");
    assert_eq!(bundler.len(), 1);
    assert_eq!(bundler[0].version, "2.1.4");
    assert_eq!(bundler[0].purl, "pkg:gem/bundler@2.1.4");
    assert_eq!(bundler[0].licenses, ["MIT"]);
    assert!(!bundler[0].declared);
    assert_eq!(
        bundler[0].locations[0].path,
        "/usr/local/bundle/specifications/bundler-2.1.4.gemspec"
    );
    assert_eq!(find(&inventory, "formatador")[0].version, "1.1.0");
}

#[test]
fn installed_gem_replaces_locked_gem() {
    let inventory = inventory("ruby/rootfs");
    let rack = find(&inventory, "rack");
    assert_eq!(rack.len(), 1, "{rack:?}");
    assert!(!rack[0].declared);
    assert_eq!(
        rack[0].locations[0].path,
        "/usr/local/bundle/specifications/rack-1.5.2.gemspec"
    );
}

#[test]
fn locked_gems_are_declared() {
    let inventory = inventory("ruby/rootfs");
    let declared: Vec<&Package> = gems(&inventory)
        .into_iter()
        .filter(|p| p.declared)
        .collect();
    // 52 locked gems, less rack, which is installed.
    assert_eq!(declared.len(), 51);
    assert!(
        declared
            .iter()
            .all(|p| p.locations[0].path == "/srv/app/Gemfile.lock")
    );

    let turbolinks = find(&inventory, "turbolinks");
    assert_eq!(
        turbolinks[0].local_source.as_deref(),
        Some(
            "git+https://github.com/rails/turbolinks.git#80216ce9d89920bf073709405e3fce6d0a3ccd9a"
        )
    );
    let errors = find(&inventory, "google-cloud-errors");
    assert_eq!(errors[0].local_source.as_deref(), Some("path"));
    assert_eq!(find(&inventory, "rails")[0].local_source, None);
    assert_eq!(find(&inventory, "rails")[0].purl, "pkg:gem/rails@4.1.1");
}

#[test]
fn dynamic_gemspec_is_a_warning() {
    let inventory = inventory("ruby/rootfs");
    assert!(find(&inventory, "dynamic").is_empty());
    let warnings: Vec<&String> = inventory
        .warnings
        .iter()
        .filter(|w| w.contains("dynamic-0.1.0.gemspec"))
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", inventory.warnings);
    assert!(warnings[0].contains("line 5"), "{warnings:?}");
}

/// Syft's Ruby fixtures and the packages its tests expect, from the
/// corpus's `expected.json` where its transcription found them. The
/// Gemfile.lock list is copied from Syft's `parse_gemfile_lock_test.go`
/// (commit 028c1a35), whose fixture has the same GEM, GIT and PATH entries.
#[test]
fn syft_fixtures() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let fixtures = corpus.join("vectors/syft-fixtures");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("expected.json")).unwrap()).unwrap();

    let mut checked = 0;
    for (fixture, tests) in expected["fixtures"].as_object().unwrap() {
        if !fixture.starts_with("syft/pkg/cataloger/ruby/") || !fixture.ends_with(".gemspec") {
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
        let spec = parse_gemspec(&std::fs::read(fixtures.join(fixture)).unwrap())
            .unwrap_or_else(|e| panic!("{fixture}: {e}"));
        let got = BTreeSet::from([(spec.name, spec.version)]);
        assert_eq!(got, want, "{fixture}");
        checked += 1;
    }
    assert_eq!(checked, 2, "gemspec fixtures checked");

    let lock =
        std::fs::read(fixtures.join("syft/pkg/cataloger/ruby/testdata/Gemfile.lock")).unwrap();
    let (locked, problems) = parse_gemfile_lock(&lock);
    assert!(problems.is_empty(), "{problems:?}");
    let got: BTreeSet<String> = locked
        .iter()
        .map(|g| format!("{} {}", g.name, g.version))
        .collect();
    let want: BTreeSet<String> = SYFT_GEMFILE_LOCK.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(got, want);
}

const SYFT_GEMFILE_LOCK: [&str; 52] = [
    "actionmailer 4.1.1",
    "actionpack 4.1.1",
    "actionview 4.1.1",
    "activemodel 4.1.1",
    "activerecord 4.1.1",
    "activesupport 4.1.1",
    "arel 5.0.1.20140414130214",
    "bootstrap-sass 3.1.1.1",
    "builder 3.2.2",
    "coffee-rails 4.0.1",
    "coffee-script 2.2.0",
    "coffee-script-source 1.7.0",
    "erubis 2.7.0",
    "execjs 2.0.2",
    "google-cloud-errors 1.3.0",
    "hike 1.2.3",
    "i18n 0.6.9",
    "jbuilder 2.0.7",
    "jquery-rails 3.1.0",
    "json 1.8.1",
    "kgio 2.9.2",
    "libv8 3.16.14.3",
    "mail 2.5.4",
    "mime-types 1.25.1",
    "minitest 5.3.4",
    "multi_json 1.10.1",
    "mysql2 0.3.16",
    "polyglot 0.3.4",
    "rack 1.5.2",
    "rack-test 0.6.2",
    "rails 4.1.1",
    "railties 4.1.1",
    "raindrops 0.13.0",
    "rake 10.3.2",
    "rdoc 4.1.1",
    "ref 1.0.5",
    "sass 3.2.19",
    "sass-rails 4.0.3",
    "sdoc 0.4.0",
    "spring 1.1.3",
    "sprockets 2.11.0",
    "sprockets-rails 2.1.3",
    "sqlite3 1.3.9",
    "therubyracer 0.12.1",
    "thor 0.19.1",
    "thread_safe 0.3.3",
    "tilt 1.4.1",
    "treetop 1.4.15",
    "turbolinks 3.0.0",
    "tzinfo 1.2.0",
    "uglifier 2.5.0",
    "unicorn 4.8.3",
];
