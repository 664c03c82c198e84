//! Corpus tier: bug-report cases from peer tools (`shared/cases/`), each
//! with an `expected.json` of facts. This file checks the facts that concern
//! image layers and OS package inventories, for every case that states them:
//! `squashed_paths_must_include` / `_must_not_include` and
//! `no_path_basename_starts_with` for layer cases (`layers.json` lists layer
//! folders bottom first, each becoming one tar), and `packages` /
//! `packages_must_not_include` for cases with a `rootfs/`.

use std::path::Path;

use rampart_image::{Image, Limits, OpenOptions, SquashOptions};
use rampart_testkit::{TestLayer, oci_layout};

mod common;

/// Tars a folder as one layer, keeping whiteout marker names as they are.
fn layer_from_folder(folder: &Path) -> TestLayer {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.append_dir_all(".", folder).unwrap();
    TestLayer {
        tar: builder.into_inner().unwrap(),
        compression: rampart_testkit::Compression::Gzip,
    }
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn check_layer_case(case: &Path, expected: &serde_json::Value, failures: &mut Vec<String>) {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let layers_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(case.join("layers.json")).unwrap()).unwrap();
    let layers: Vec<TestLayer> = strings(&layers_json["layers_bottom_first"])
        .iter()
        .map(|folder| layer_from_folder(&case.join(folder)))
        .collect();
    let scratch = tempfile::tempdir().unwrap();
    let layout = oci_layout(scratch.path(), &name, &layers);

    let image = Image::open(
        &format!("oci-dir:{}", layout.display()),
        &OpenOptions::default(),
    )
    .unwrap();
    let squashed = image.squash(&SquashOptions {
        capture: &|_, _| rampart_image::Capture::Skip,
        limits: Limits::default(),
        progress: None,
    });
    let squashed = match squashed {
        Ok(squashed) => squashed,
        Err(error) => {
            if expected["must_not_error"] == true {
                failures.push(format!("{name}: squash failed: {error}"));
            }
            return;
        }
    };
    let mut paths = Vec::new();
    squashed.fs.walk(|info| paths.push(info.path.clone()));

    for path in strings(&expected["squashed_paths_must_include"]) {
        if !paths.contains(&path) {
            failures.push(format!(
                "{name}: {path} missing from the squashed filesystem"
            ));
        }
    }
    for path in strings(&expected["squashed_paths_must_not_include"]) {
        if paths.contains(&path) {
            failures.push(format!("{name}: {path} present in the squashed filesystem"));
        }
    }
    if let Some(prefix) = expected["no_path_basename_starts_with"].as_str() {
        for path in paths.iter().filter(|p| {
            p.rsplit('/')
                .next()
                .is_some_and(|base| base.starts_with(prefix))
        }) {
            failures.push(format!("{name}: {path} starts with {prefix}"));
        }
    }
}

fn check_rootfs_case(case: &Path, expected: &serde_json::Value, failures: &mut Vec<String>) {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let image = Image::open(
        &format!("dir:{}", case.join("rootfs").display()),
        &OpenOptions::default(),
    )
    .unwrap();
    let inventory = rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap();
    let has = |fact: &serde_json::Value| {
        inventory.packages.iter().any(|package| {
            fact["type"]
                .as_str()
                .is_none_or(|t| t == package.package_type.purl_type())
                && fact["name"].as_str() == Some(package.name.as_str())
                && fact["version"]
                    .as_str()
                    .is_none_or(|v| v == package.version)
                && fact["source_name"]
                    .as_str()
                    .or(fact["origin"].as_str())
                    .is_none_or(|s| Some(s) == package.source_name.as_deref())
        })
    };
    for fact in expected["packages"].as_array().into_iter().flatten() {
        let is_os = matches!(fact["type"].as_str(), Some("apk" | "deb" | "rpm"));
        if is_os && !has(fact) {
            failures.push(format!(
                "{name}: package {fact} not found in {:?}",
                inventory
                    .packages
                    .iter()
                    .map(|p| (&p.name, &p.version))
                    .collect::<Vec<_>>()
            ));
        }
    }
    for fact in expected["packages_must_not_include"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if has(fact) {
            failures.push(format!("{name}: package {fact} must not be reported"));
        }
    }
}

/// Checks `source_mapping` facts of rpm cases: the rpm headers as the case
/// lists them go through the rpm cataloger's package builder.
fn check_rpm_source_mapping(case: &Path, expected: &serde_json::Value, failures: &mut Vec<String>) {
    use rampart_inventory::catalog::CatalogContext;
    use rampart_inventory::catalog::rpm::{RpmHeader, package_from_header};

    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let headers: serde_json::Value =
        serde_json::from_slice(&std::fs::read(case.join("rpm-headers.json")).unwrap()).unwrap();
    let fs = rampart_image::Filesystem::new(Vec::new());
    let context = CatalogContext::new(&fs, None);
    for mapping in expected["source_mapping"].as_array().into_iter().flatten() {
        let binary = mapping["binary"].as_str().unwrap();
        let Some(fields) = headers["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|h| h["name"] == binary)
        else {
            failures.push(format!("{name}: {binary} missing from rpm-headers.json"));
            continue;
        };
        let header = RpmHeader {
            name: binary.to_owned(),
            epoch: fields["epoch"].as_u64().map(|e| e as u32),
            version: fields["version"].as_str().unwrap_or_default().to_owned(),
            release: fields["release"].as_str().unwrap_or_default().to_owned(),
            arch: fields["arch"].as_str().map(str::to_owned),
            source_rpm: fields["sourcerpm"].as_str().map(str::to_owned),
            ..RpmHeader::default()
        };
        let package = package_from_header(&context, &header, "/var/lib/rpm/Packages", None);
        if package.source_name.as_deref() != mapping["source_name"].as_str()
            || package.source_version.as_deref() != mapping["source_version"].as_str()
        {
            failures.push(format!(
                "{name}: {binary} maps to {:?} {:?}, expected {mapping}",
                package.source_name, package.source_version
            ));
        }
    }
}

#[test]
fn shared_layer_and_os_package_cases() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let cases = corpus.join("../cases");
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for case in entries
        .into_iter()
        .filter(|p| p.join("expected.json").is_file())
    {
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case.join("expected.json")).unwrap()).unwrap();
        if case.join("layers.json").is_file() {
            check_layer_case(&case, &expected, &mut failures);
            checked.push(case.clone());
        }
        if case.join("rootfs").is_dir()
            && (expected.get("packages").is_some()
                || expected.get("packages_must_not_include").is_some())
        {
            check_rootfs_case(&case, &expected, &mut failures);
            checked.push(case.clone());
        }
        if case.join("rpm-headers.json").is_file() && expected.get("source_mapping").is_some() {
            check_rpm_source_mapping(&case, &expected, &mut failures);
            checked.push(case.clone());
        }
    }
    eprintln!("checked {} cases: {checked:?}", checked.len());
    assert!(
        checked.len() >= 4,
        "expected the layer and OS-package cases, found {checked:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
