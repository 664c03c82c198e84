//! The npm cataloger on root filesystems laid out from real manifests and
//! lock files, and its corpus tier: the shared npm alias case, Syft's
//! JavaScript fixtures, and the `polyglot-app` image against Syft's SBOM.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::catalog::npm::{parse_package_lock, parse_pnpm_lock, parse_yarn_lock};
use rampart_inventory::{Inventory, Package, PackageType};
use rampart_testkit::corpus_dir;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npm")
        .join(name)
}

fn inventory(reference: &str) -> Inventory {
    let image = Image::open(reference, &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn npm_packages(inventory: &Inventory) -> Vec<&Package> {
    inventory
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Npm)
        .collect()
}

/// `name@version` of the npm packages whose location is `path`.
fn at_location(inventory: &Inventory, path: &str) -> BTreeSet<String> {
    npm_packages(inventory)
        .into_iter()
        .filter(|p| p.locations[0].path == path)
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(ToString::to_string).collect()
}

#[test]
fn installed_manifests_in_node_modules() {
    let inventory = inventory(&format!("dir:{}", fixture("rootfs").display()));
    let installed: BTreeSet<(String, String)> = npm_packages(&inventory)
        .into_iter()
        .filter(|p| !p.declared)
        .map(|p| {
            (
                format!("{}@{}", p.name, p.version),
                p.locations[0].path.clone(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        (
            "@actions/core@1.6.0",
            "/app/node_modules/@actions/core/package.json",
        ),
        ("cowsay@1.4.0", "/app/node_modules/cowsay/package.json"),
        (
            "depd@1.1.1",
            "/app/node_modules/raw-body/node_modules/depd/package.json",
        ),
        ("depd@1.1.2", "/app/node_modules/depd/package.json"),
        ("lodash@4.17.15", "/app/node_modules/lodash/package.json"),
        ("raw-body@2.3.2", "/app/node_modules/raw-body/package.json"),
        (
            "string-width@4.2.3",
            "/app/node_modules/string-width-cjs/package.json",
        ),
    ]
    .iter()
    .map(|(id, path)| (id.to_string(), path.to_string()))
    .collect();
    assert_eq!(installed, expected);
}

#[test]
fn application_manifest_is_not_a_package() {
    let inventory = inventory(&format!("dir:{}", fixture("rootfs").display()));
    assert!(
        npm_packages(&inventory)
            .iter()
            .all(|p| p.name != "polyglot-demo-app"),
        "the application's own package.json was reported"
    );
    assert!(
        npm_packages(&inventory).iter().all(|p| !p.locations[0]
            .path
            .starts_with("/app/node_modules/lodash/fp")),
        "a package sub-folder's package.json was reported"
    );
}

#[test]
fn installed_purl_and_license() {
    let inventory = inventory(&format!("dir:{}", fixture("rootfs").display()));
    let core = npm_packages(&inventory)
        .into_iter()
        .find(|p| p.name == "@actions/core")
        .unwrap();
    assert_eq!(core.purl, "pkg:npm/%40actions/core@1.6.0");
    assert_eq!(core.licenses, ["MIT"]);
    assert!(core.local_source.is_none());
}

#[test]
fn invalid_manifest_warns_with_path() {
    let inventory = inventory(&format!("dir:{}", fixture("rootfs").display()));
    assert!(
        inventory
            .warnings
            .iter()
            .any(|w| w.starts_with("/app/node_modules/broken/package.json:")),
        "{:?}",
        inventory.warnings
    );
    assert!(npm_packages(&inventory).iter().all(|p| p.name != "broken"));
}

#[test]
fn lock_declares_only_what_is_not_installed() {
    let inventory = inventory(&format!("dir:{}", fixture("rootfs").display()));
    // lodash, depd, raw-body and the aliased string-width are installed, so
    // only minimist stays declared; async is a dev dependency.
    assert_eq!(
        at_location(&inventory, "/app/package-lock.json"),
        set(&["minimist@1.2.0"])
    );
    let minimist = npm_packages(&inventory)
        .into_iter()
        .find(|p| p.name == "minimist")
        .unwrap();
    assert!(minimist.declared);
}

#[test]
fn hidden_lock_in_node_modules_is_skipped() {
    let inventory = inventory(&format!("dir:{}", fixture("rootfs").display()));
    assert!(
        npm_packages(&inventory)
            .iter()
            .all(|p| p.name != "left-pad")
    );
}

#[test]
fn yarn_and_pnpm_lock_files() {
    let inventory = inventory(&format!("dir:{}", fixture("rootfs").display()));
    let berry = at_location(&inventory, "/web/yarn.lock");
    assert_eq!(berry.len(), 8, "{berry:?}");
    assert!(berry.contains("@babel/code-frame@7.10.4"));
    // The `workspace:.` entry is the project itself.
    assert!(!berry.contains("c0n-fab_u.laTION@7.7.7"), "{berry:?}");
    let classic = at_location(&inventory, "/legacy/yarn.lock");
    assert_eq!(classic.len(), 9, "{classic:?}");
    assert!(classic.contains("c0n-fab_u.laTION@7.7.7"));
    let pnpm = at_location(&inventory, "/pnpm/pnpm-lock.yaml");
    assert!(pnpm.contains("react-dom@18.2.0"), "{pnpm:?}");
    assert!(pnpm.contains("@testing-library/react@13.4.0"), "{pnpm:?}");
    assert!(
        npm_packages(&inventory)
            .iter()
            .filter(|p| p.locations[0].path != "/app/package-lock.json")
            .filter(|p| !p.locations[0].path.contains("node_modules"))
            .all(|p| p.declared)
    );
}

/// Checks the alias case's expectations against a folder holding its `v1/`
/// and `v3/` lock files and `expected.json`.
fn check_alias_case(folder: &Path) {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("expected.json")).unwrap()).unwrap();
    let inventory = inventory(&format!("dir:{}", folder.display()));
    let forbidden: Vec<&str> = expected["packages_must_not_include_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let bad_prefix = expected["versions_must_not_start_with"].as_str().unwrap();

    for lock in ["v1", "v3"] {
        let expected_ids: BTreeSet<String> = expected[lock]["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                assert_eq!(p["type"], "npm");
                format!(
                    "{}@{}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                )
            })
            .collect();
        let found = at_location(&inventory, &format!("/{lock}/package-lock.json"));
        assert_eq!(found, expected_ids, "{lock}/package-lock.json");
    }
    for package in npm_packages(&inventory) {
        assert!(
            !forbidden.contains(&package.name.as_str()),
            "{}",
            package.name
        );
        assert!(
            !package.version.starts_with(bad_prefix),
            "{}",
            package.version
        );
        assert!(package.declared);
    }
}

#[test]
fn alias_case_reports_real_names() {
    check_alias_case(&fixture("alias-case"));
}

#[test]
fn alias_case_from_shared_cases() {
    let Some(corpus) = corpus_dir() else { return };
    let case = corpus.join("../cases/osv-scanner-588-npm-alias");
    if case.is_dir() {
        check_alias_case(&case);
    }
}

/// Syft's JavaScript fixture folder, relative to the corpus.
const SYFT_JAVASCRIPT: &str = "vectors/syft-fixtures/syft/pkg/cataloger/javascript";

/// The packages where rampart differs from Syft's expectations by design.
/// The first list contains what Syft expects and rampart does not report,
/// the second what rampart reports and Syft does not.
fn known_differences(fixture: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match fixture {
        // Syft reports the lock file's root entry (the project itself).
        "testdata/pkg-lock/package-lock-2.json" => (&["npm@6.14.6"], &[]),
        // expected.json kept only the root entry of this Syft test, which
        // also expects the three aliased packages rampart reports.
        "testdata/pkg-lock/alias-package-lock-2.json" => (
            &["alias-check@1.0.0"],
            &["case@1.6.2", "case@1.6.3", "@bundled-es-modules/chai@4.2.2"],
        ),
        // `c0n-fab_u.laTION@workspace:.` is the project itself.
        "testdata/yarn-berry/yarn.lock" => (&["c0n-fab_u.laTION@7.7.7"], &[]),
        "testdata/pkg-lock/array-license-package-lock.json" => (&["tmp@1.0.0"], &[]),
        // Syft's test also lists its root entry, and expected.json drops the
        // alias entries of the same test; rampart reports them.
        "testdata/pkg-lock/package-lock-3.json" => (
            &[
                "lock-v3-fixture@1.0.0",
                "case@1.6.2",
                "case@1.6.3",
                "@bundled-es-modules/chai@4.2.2",
            ],
            &[],
        ),
        // Syft's Yarn 1 parser takes the name from the registry URL of
        // `resolved`, rampart from the entry's specifier, as Yarn does.
        "testdata/yarn/yarn.lock" | "testdata/yarn-v1-deps/yarn.lock" => {
            (&["something-i-made-up@7.7.7"], &["c0n-fab_u.laTION@7.7.7"])
        }
        // expected.json merges a sub-test with development dependencies
        // included; `dev: true` packages are skipped by default.
        "testdata/pnpm/pnpm-lock.yaml" => (&["@bcoe/v8-coverage@0.2.3"], &[]),
        _ => (&[], &[]),
    }
}

#[test]
fn syft_javascript_fixtures() {
    let Some(corpus) = corpus_dir() else { return };
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(corpus.join("vectors/syft-fixtures/expected.json")).unwrap(),
    )
    .unwrap();
    let prefix = "syft/pkg/cataloger/javascript/";
    let root = corpus.join(SYFT_JAVASCRIPT);
    let mut checked = 0;

    for (key, tests) in expected["fixtures"].as_object().unwrap() {
        let Some(fixture) = key.strip_prefix(prefix) else {
            continue;
        };
        // Lock files only: bun and deno are not cataloged, and the remote
        // license fixtures are registry responses.
        let path = root.join(fixture);
        let file = if path.is_dir() {
            path.join("yarn.lock")
        } else {
            path
        };
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let content = std::fs::read(&file).unwrap();
        let parsed = match name.as_str() {
            "yarn.lock" => parse_yarn_lock(&content),
            "pnpm-lock.yaml" => parse_pnpm_lock(&content),
            n if n.ends_with(".json") && n.contains("lock") => parse_package_lock(&content),
            _ => continue,
        }
        .unwrap_or_else(|error| panic!("{fixture}: {error}"));

        let mut expected_ids: BTreeSet<String> = tests
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|test| test["packages"].as_array().unwrap())
            .map(|p| {
                format!(
                    "{}@{}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                )
            })
            .collect();
        let (syft_only, rampart_only) = known_differences(fixture);
        for id in syft_only {
            assert!(expected_ids.remove(*id), "{fixture}: stale difference {id}");
        }
        expected_ids.extend(rampart_only.iter().map(ToString::to_string));
        let found: BTreeSet<String> = parsed
            .records
            .iter()
            .map(|r| format!("{}@{}", r.name, r.version))
            .collect();
        assert_eq!(found, expected_ids, "{fixture}");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} Syft fixtures were checked");
}

#[test]
fn syft_corrupt_lock_files_are_errors() {
    let Some(corpus) = corpus_dir() else { return };
    let root = corpus.join(SYFT_JAVASCRIPT).join("testdata/corrupt");
    assert!(parse_package_lock(&std::fs::read(root.join("package-lock.json")).unwrap()).is_err());
    let pnpm = parse_pnpm_lock(&std::fs::read(root.join("pnpm-lock.yaml")).unwrap());
    assert!(
        pnpm.as_ref()
            .map_or(true, |parsed| parsed.records.is_empty()),
        "{pnpm:?}"
    );
}

#[test]
fn polyglot_app_matches_syft() {
    let Some(corpus) = corpus_dir() else { return };
    let layout = corpus.join("images/polyglot-app");
    let inventory = inventory(&format!("oci-dir:{}", layout.display()));
    let packages = npm_packages(&inventory);
    assert_eq!(packages.len(), 53);
    assert!(packages.iter().all(|p| !p.declared));
    let nested = packages
        .iter()
        .filter(|p| p.locations[0].path.matches("/node_modules/").count() > 1)
        .count();
    assert_eq!(nested, 4);
    let rampart: BTreeSet<String> = packages.iter().map(|p| p.purl.clone()).collect();
    for id in ["express@4.16.0", "lodash@4.17.15", "minimist@1.2.0"] {
        assert!(rampart.contains(&format!("pkg:npm/{id}")), "{id}");
    }

    let sbom: serde_json::Value = serde_json::from_slice(
        &std::fs::read(corpus.join("reference/syft/polyglot-app.cdx.json")).unwrap(),
    )
    .unwrap();
    let syft: BTreeSet<String> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .filter(|purl| purl.starts_with("pkg:npm/"))
        .map(str::to_owned)
        .collect();
    assert_eq!(syft.len(), 54);
    let only_syft: Vec<&String> = syft.difference(&rampart).collect();
    let only_rampart: Vec<&String> = rampart.difference(&syft).collect();
    // Syft counts the application's own /app/node/package.json as a package.
    assert_eq!(only_syft, ["pkg:npm/polyglot-demo-app@1.0.0"]);
    assert!(only_rampart.is_empty(), "{only_rampart:?}");
}
