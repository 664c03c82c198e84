//! The Python cataloger on root filesystems built from real metadata and
//! lock files, and, when the shared corpus is present, on Syft's Python
//! fixtures and the corpus images.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::catalog::python::PythonCataloger;
use rampart_inventory::catalog::{CatalogContext, CatalogOutput, Cataloger};
use rampart_inventory::{Inventory, Package, PackageType};

fn inventory_of(root: &Path) -> Inventory {
    let reference = format!("dir:{}", root.display());
    let image = Image::open(&reference, &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn fixture(name: &str) -> Inventory {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/python")
        .join(name);
    inventory_of(&root)
}

fn python(inventory: &Inventory) -> Vec<&Package> {
    inventory
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Python)
        .collect()
}

fn find<'a>(inventory: &'a Inventory, name: &str) -> &'a Package {
    inventory
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = inventory.packages.iter().map(|p| p.name.as_str()).collect();
            panic!("{name} not found in {names:?}")
        })
}

/// (name, version, declared, location) of every Python package.
fn summary(inventory: &Inventory) -> BTreeSet<(String, String, bool, String)> {
    python(inventory)
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.version.clone(),
                p.declared,
                p.locations[0].path.clone(),
            )
        })
        .collect()
}

#[test]
fn dist_info_with_record_and_vcs_origin() {
    let inventory = fixture("installed");
    let site = "/usr/local/lib/python3.8/site-packages";
    let metadata = format!("{site}/Pygments-2.6.1.dist-info/METADATA");
    let pygments = python(&inventory)
        .into_iter()
        .find(|p| p.locations[0].path == metadata)
        .expect("Pygments from site-packages");
    assert_eq!(pygments.name, "Pygments");
    assert_eq!(pygments.version, "2.6.1");
    assert_eq!(pygments.purl, "pkg:pypi/pygments@2.6.1");
    assert!(!pygments.declared);
    assert_eq!(pygments.licenses, ["BSD License"]);
    assert_eq!(
        pygments.local_source.as_deref(),
        Some(
            "git+https://github.com/python-test/test.git#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        )
    );
    assert!(
        pygments
            .files
            .contains(&"/usr/local/bin/pygmentize".to_owned()),
        "{:?}",
        pygments.files
    );
    assert!(pygments.files.contains(&format!("{site}/pygments/util.py")));
    assert_eq!(pygments.files.len(), 7);
}

#[test]
fn egg_info_folder_and_file() {
    let inventory = fixture("installed");
    let requests = find(&inventory, "requests");
    let site = "/usr/local/lib/python3.8/site-packages";
    assert_eq!(requests.version, "2.22.0");
    assert_eq!(requests.licenses, ["Apache 2.0"]);
    assert_eq!(
        requests.locations[0].path,
        format!("{site}/requests-2.22.0.egg-info/PKG-INFO")
    );
    assert!(
        requests.files.contains(&format!("{site}/dicttoxml.py")),
        "{:?}",
        requests.files
    );
    assert!(
        requests
            .files
            .contains(&format!("{site}/requests-2.22.0.egg-info/PKG-INFO"))
    );
    assert_eq!(requests.local_source, None);

    let python = find(&inventory, "Python");
    assert_eq!(python.version, "2.7.13");
    assert_eq!(python.purl, "pkg:pypi/python@2.7.13");
    assert_eq!(
        python.locations[0].path,
        "/usr/lib/python2.7/lib-dynload/Python-2.7.egg-info"
    );
    assert!(python.files.is_empty());
}

#[test]
fn malformed_record_still_catalogs() {
    let inventory = fixture("installed");
    let flask_folder = python(&inventory)
        .into_iter()
        .find(|p| p.locations[0].path == "/opt/broken/flask.dist-info/METADATA")
        .expect("package from the malformed RECORD folder");
    assert_eq!(flask_folder.name, "Pygments");
    assert!(
        flask_folder
            .files
            .contains(&"/opt/broken/flask/json/tag.py".to_owned())
    );
    assert!(
        inventory
            .warnings
            .iter()
            .any(|w| w.starts_with("/opt/broken/flask.dist-info/RECORD: line 2:")),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn empty_egg_info_is_a_warning() {
    let inventory = fixture("installed");
    let path = "/usr/local/lib/python3.8/site-packages/empty-1.0.0-py3.8.egg-info";
    assert!(
        inventory.warnings.iter().any(|w| w.starts_with(path)),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn installed_pins_fold_into_installed() {
    let inventory = fixture("installed");
    let declared: Vec<(&str, &str)> = python(&inventory)
        .into_iter()
        .filter(|p| p.declared)
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    // pygments==2.6.1.0 and requests==2.22.0 name installed releases.
    assert_eq!(declared, [("six", "1.16.0")]);
    assert_eq!(
        find(&inventory, "six").locations[0].path,
        "/srv/requirements.txt"
    );
}

#[test]
fn requirements_pins_only() {
    let inventory = fixture("declared");
    let found: BTreeSet<(String, String)> = python(&inventory)
        .iter()
        .filter(|p| p.locations[0].path == "/app/requirements.txt")
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("flask", "4.0.0"),
        ("urllib3", "1.26.20"),
        ("foo", "1.0.0"),
        ("SomeProject", "5.4"),
        ("dots-._allowed", "1.0.0"),
        ("argh", "0.26.2"),
        ("argh", "0.26.3"),
        ("celery", "4.4.7"),
        ("GithubSampleProject", "3.7.1"),
        ("FrIeNdLy-_-bArD", "1.0.0"),
        ("local-version", "1.2.3+gcr.2"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(found, expected);
    assert_eq!(
        find(&inventory, "SomeProject").purl,
        "pkg:pypi/someproject@5.4"
    );
    assert!(find(&inventory, "flask").declared);
    assert!(
        inventory
            .warnings
            .iter()
            .any(|w| w
                == "/app/requirements.txt: line 23: no valid project name; requirement skipped"),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn lock_files_by_format() {
    let inventory = fixture("declared");
    let count = |path: &str| {
        python(&inventory)
            .iter()
            .filter(|p| p.locations[0].path == path && p.declared)
            .count()
    };
    // Pipfile.lock: the 4 default entries, not the 2 develop ones.
    assert_eq!(count("/app/pipenv/Pipfile.lock"), 4);
    assert_eq!(find(&inventory, "aiohttp").version, "3.7.4.post0");
    assert!(!python(&inventory).iter().any(|p| p.name == "astroid"));
    // poetry.lock: every category, dev included.
    assert_eq!(count("/app/poetry/poetry.lock"), 4);
    // pdm.lock: every group.
    assert_eq!(count("/app/pdm/pdm.lock"), 10);
    // uv.lock: 22 packages minus the virtual project root.
    assert_eq!(count("/app/uv/uv.lock"), 21);
    assert!(!python(&inventory).iter().any(|p| p.name == "testpkg"));
}

/// The Syft fixture folders under the shared corpus, inventoried as one
/// directory, against the packages Syft's tests expect per fixture.
#[test]
fn syft_fixtures_match_syft_expectations() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let testdata = corpus.join("vectors/syft-fixtures/syft/pkg/cataloger/python/testdata");
    let inventory = inventory_of(&testdata);
    let packages = summary(&inventory);
    let at = |prefix: &str| -> BTreeSet<(String, String)> {
        packages
            .iter()
            .filter(|(_, _, _, path)| path.starts_with(prefix))
            .map(|(name, version, _, _)| (name.clone(), version.clone()))
            .collect()
    };
    let set = |pairs: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };

    assert_eq!(
        at("/site-packages/nested/"),
        set(&[("Pygments", "2.6.1"), ("requests", "2.22.0")])
    );
    assert_eq!(
        at("/site-packages/partial.dist-info/"),
        set(&[("Pygments", "2.6.1")])
    );
    assert_eq!(at("/site-packages/test/"), set(&[("requests", "2.22.0")]));
    assert_eq!(
        at("/site-packages/malformed-record/"),
        set(&[("Pygments", "2.6.1")])
    );
    assert_eq!(
        at("/pipfile-lock/"),
        set(&[
            ("aio-pika", "6.8.0"),
            ("aiodns", "2.0.0"),
            ("aiohttp", "3.7.4.post0"),
            ("aiohttp-jinja2", "1.4.2"),
        ])
    );
    assert_eq!(
        at("/poetry/dev-deps/"),
        set(&[
            ("added-value", "0.14.2"),
            ("alabaster", "0.7.12"),
            ("appnope", "0.1.0"),
            ("asciitree", "0.3.3"),
        ])
    );
    assert_eq!(
        at("/pdm-lock/"),
        set(&[
            ("certifi", "2025.1.31"),
            ("chardet", "3.0.4"),
            ("charset-normalizer", "2.0.12"),
            ("colorama", "0.3.9"),
            ("idna", "2.7"),
            ("py", "1.4.34"),
            ("pytest", "3.2.5"),
            ("requests", "2.27.1"),
            ("setuptools", "39.2.0"),
            ("urllib3", "1.26.20"),
        ])
    );
    assert_eq!(at("/pypi-remote/uv.lock"), set(&[("certifi", "2025.10.5")]));
    assert_eq!(
        at("/pypi-remote/requirements.txt"),
        set(&[("certifi", "2025.10.5")])
    );
}

#[test]
fn polyglot_app_site_packages() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let layout = corpus.join("images/polyglot-app");

    // /app/requirements.txt pins the 11 installed releases, django as
    // 2.2.0, which takes the installed spelling 2.2.
    let output = catalog_python(&layout);
    let declared: BTreeSet<&str> = output
        .packages
        .iter()
        .filter(|p| p.declared && p.locations[0].path == "/app/requirements.txt")
        .map(|p| p.purl.as_str())
        .collect();
    assert_eq!(declared.len(), 11, "{declared:?}");
    assert!(declared.contains("pkg:pypi/django@2.2"), "{declared:?}");
    assert!(output.warnings.is_empty(), "{:?}", output.warnings);

    let inventory = inventory_of_oci(&layout);
    let purls: BTreeSet<&str> = python(&inventory).iter().map(|p| p.purl.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "pkg:pypi/certifi@2018.8.24",
        "pkg:pypi/chardet@3.0.4",
        "pkg:pypi/django@2.2",
        "pkg:pypi/idna@2.7",
        "pkg:pypi/jinja2@2.10",
        "pkg:pypi/markupsafe@1.1.1",
        "pkg:pypi/pytz@2019.1",
        "pkg:pypi/pyyaml@5.3",
        "pkg:pypi/requests@2.19.1",
        "pkg:pypi/sqlparse@0.3.0",
        "pkg:pypi/urllib3@1.23",
    ]
    .into_iter()
    .collect();
    assert_eq!(purls, expected);
    // After reconcile every Python package is the installed one.
    for package in python(&inventory) {
        assert!(!package.declared, "{} still declared", package.purl);
        let path = &package.locations[0].path;
        assert!(
            path.starts_with("/usr/local/lib/python3.11/site-packages/")
                && path.ends_with(".dist-info/METADATA"),
            "{path}"
        );
        assert!(!package.files.is_empty(), "{} has no files", package.purl);
        assert!(package.locations[0].layer_diff_id.is_some());
    }
    // The License headers, as Syft 1.18.1 reports them for this image.
    let licenses = [
        ("certifi", "MPL-2.0"),
        ("chardet", "LGPL"),
        ("Django", "BSD"),
        ("idna", "BSD-like"),
        ("MarkupSafe", "BSD-3-Clause"),
        ("requests", "Apache 2.0"),
        ("urllib3", "MIT"),
    ];
    for (name, license) in licenses {
        assert_eq!(find(&inventory, name).licenses, [license], "{name}");
    }
    assert!(
        !inventory.warnings.iter().any(|w| w.contains("python")),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn debian_python_belongs_to_dpkg() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let layout = corpus.join("images/debian-standard-python");

    // Before reconcile, the Python cataloger finds pip, setuptools and wheel.
    let output = catalog_python(&layout);
    let found: BTreeSet<&str> = output.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(found, ["pip", "setuptools", "wheel"].into_iter().collect());
    assert!(output.warnings.is_empty(), "{:?}", output.warnings);

    // After reconcile, dpkg owns their metadata files.
    let inventory = inventory_of_oci(&layout);
    let left: Vec<&str> = python(&inventory).iter().map(|p| p.purl.as_str()).collect();
    assert!(
        left.is_empty(),
        "pypi packages not folded into dpkg: {left:?}"
    );
    assert!(inventory.packages.iter().any(|p| p.name == "python3-pip"));
}

/// Runs the Python cataloger alone over an OCI layout, before reconcile.
fn catalog_python(layout: &Path) -> CatalogOutput {
    let reference = format!("oci-dir:{}", layout.display());
    let image = Image::open(&reference, &OpenOptions::default()).unwrap();
    let options = rampart_image::SquashOptions {
        capture: &rampart_inventory::capture_rule,
        limits: Limits::default(),
        progress: None,
    };
    let squashed = image.squash(&options).unwrap();
    let context = CatalogContext::new(&squashed.fs, None);
    let mut output = CatalogOutput::default();
    PythonCataloger.catalog(&context, &mut output);
    output
}

fn inventory_of_oci(layout: &Path) -> Inventory {
    let reference = format!("oci-dir:{}", layout.display());
    let image = Image::open(&reference, &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}
