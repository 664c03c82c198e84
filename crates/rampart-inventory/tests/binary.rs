//! Go and Rust packages: `go.mod` and `Cargo.lock` fixtures laid out as root
//! filesystems, Go and cargo-auditable binaries written by the test, and
//! (when the corpus exists) the polyglot-app image and Syft's go.mod and
//! Cargo.lock fixtures compared with Syft's results.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::catalog::{cargo_lock, go_mod};
use rampart_inventory::{Inventory, Package, PackageType};

fn inventory_of(root: &Path) -> Inventory {
    let image = Image::open(&format!("dir:{}", root.display()), &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn at<'a>(inventory: &'a Inventory, path: &str) -> Vec<&'a Package> {
    inventory
        .packages
        .iter()
        .filter(|p| p.locations.first().is_some_and(|l| l.path == path))
        .collect()
}

fn summary(packages: &[&Package]) -> BTreeSet<(String, String, Option<String>)> {
    packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.local_source.clone()))
        .collect()
}

fn entry(
    name: &str,
    version: &str,
    local_source: Option<&str>,
) -> (String, String, Option<String>) {
    (
        name.to_owned(),
        version.to_owned(),
        local_source.map(str::to_owned),
    )
}

#[test]
fn go_mod_requirements_without_go_sum_extras() {
    let inventory = inventory_of(&fixture("golang"));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);

    let app = at(&inventory, "/src/app/go.mod");
    assert_eq!(
        summary(&app),
        BTreeSet::from([
            entry("github.com/CycloneDX/cyclonedx-go", "v0.6.0", None),
            entry(
                "github.com/acarl005/stripansi",
                "v0.0.0-20180116102854-5a71ef0e047d",
                None
            ),
            entry(
                "github.com/mgutz/ansi",
                "v0.0.0-20200706080929-d51e80ef957d",
                None
            ),
        ])
    );
    assert!(
        app.iter()
            .all(|p| p.declared && p.package_type == PackageType::Go)
    );
    assert!(
        app.iter()
            .any(|p| p.purl == "pkg:golang/github.com/CycloneDX/cyclonedx-go@v0.6.0")
    );

    let imds = at(&inventory, "/src/imds/go.mod");
    assert_eq!(
        summary(&imds),
        BTreeSet::from([entry("github.com/aws/aws-sdk-go-v2", "", Some("path"))])
    );

    // go.sum modules (testify, go-spew) and the module cache add nothing.
    assert_eq!(inventory.packages.len(), 4, "{:?}", inventory.packages);
}

#[test]
fn cargo_lock_sources() {
    let inventory = inventory_of(&fixture("rust"));
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);

    let pathdeps = at(&inventory, "/src/pathdeps/Cargo.lock");
    assert_eq!(
        summary(&pathdeps),
        BTreeSet::from([
            entry("app", "1.0.0", Some("path")),
            entry("memchr", "2.7.4", None),
            entry("telemetry", "0.1.0", Some("path")),
        ])
    );

    let gitdeps = at(&inventory, "/src/gitdeps/Cargo.lock");
    assert_eq!(
        summary(&gitdeps),
        BTreeSet::from([
            entry("gitdeps", "0.1.0", Some("path")),
            entry("internal-log", "0.4.2", Some("registry")),
            entry("memchr", "2.7.4", None),
            entry(
                "regex",
                "1.11.1",
                Some(
                    "git+https://example.invalid/regex.git#1a069b9232c607b34c4937122361aa075ef573fa"
                )
            ),
        ])
    );

    let app = at(&inventory, "/src/app/Cargo.lock");
    assert_eq!(app.len(), 10);
    let argh = app.iter().find(|p| p.name == "argh").unwrap();
    assert_eq!(argh.purl, "pkg:cargo/argh@0.1.12");
    assert!(argh.declared);

    assert!(
        !inventory.packages.iter().any(|p| p.name == "cached-tool"),
        "a Cargo.lock in Cargo's crate cache was read"
    );
}

/// Writes a minimal ELF64 executable: one read-write `PT_LOAD` segment
/// mapping the whole file and the given `PROGBITS` sections.
fn elf(sections: &[(&str, &[u8])]) -> Vec<u8> {
    const BASE: u64 = 0x40_0000;
    let align = |value: usize| (value + 15) & !15;
    let mut file = vec![0u8; 128];
    let mut headers: Vec<(u32, u32, u64, usize, usize)> = Vec::new();
    let mut names = b"\0".to_vec();
    for (name, data) in sections {
        file.resize(align(file.len()), 0);
        headers.push((names.len() as u32, 1, 3, file.len(), data.len()));
        names.extend_from_slice(name.as_bytes());
        names.push(0);
        file.extend_from_slice(data);
    }
    file.resize(align(file.len()), 0);
    let shstrtab_name = names.len() as u32;
    names.extend_from_slice(b".shstrtab\0");
    headers.push((shstrtab_name, 3, 0, file.len(), names.len()));
    file.extend_from_slice(&names);
    file.resize(align(file.len()), 0);
    let table_offset = file.len() as u64;
    file.extend_from_slice(&[0; 64]);
    for (name, kind, flags, offset, size) in &headers {
        let address = if *flags != 0 {
            BASE + *offset as u64
        } else {
            0
        };
        for field in [
            u64::from(*name) | u64::from(*kind) << 32,
            *flags,
            address,
            *offset as u64,
            *size as u64,
            0,
            16,
            0,
        ] {
            file.extend_from_slice(&field.to_le_bytes());
        }
    }
    let total = file.len() as u64;

    let mut header = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    for (value, width) in [
        (2, 2),
        (0x3e, 2),
        (1, 4),
        (BASE, 8),
        (64, 8),
        (table_offset, 8),
        (0, 4),
        (64, 2),
        (56, 2),
        (1, 2),
        (64, 2),
        (headers.len() as u64 + 1, 2),
        (headers.len() as u64, 2),
        (1 | 6 << 32, 8), // PT_LOAD, PF_R | PF_W
        (0, 8),
        (BASE, 8),
        (BASE, 8),
        (total, 8),
        (total, 8),
        (0x1000, 8),
    ] {
        header.extend_from_slice(&u64::to_le_bytes(value)[..width]);
    }
    file[..header.len()].copy_from_slice(&header);
    file
}

/// Builds a Go 1.18+ build information blob with the strings inline.
fn go_buildinfo(go_version: &str, modinfo: &str) -> Vec<u8> {
    let mut wrapped = vec![0x30; 16];
    wrapped.extend_from_slice(modinfo.as_bytes());
    wrapped.extend_from_slice(&[0xf9; 16]);
    let mut blob = b"\xff Go buildinf:\x08\x02".to_vec();
    blob.resize(32, 0);
    for string in [go_version.as_bytes(), &wrapped] {
        let mut length = string.len();
        while length >= 0x80 {
            blob.push((length & 0x7f) as u8 | 0x80);
            length >>= 7;
        }
        blob.push(length as u8);
        blob.extend_from_slice(string);
    }
    blob
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn write_file(root: &Path, path: &str, content: &[u8], mode: u32) {
    let full = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(&full, content).unwrap();
    std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn go_and_rust_binaries() {
    let root = tempfile::tempdir().unwrap();
    let modinfo = "path\texample.com/server/cmd/server\nmod\texample.com/server\t(devel)\t\ndep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ndep\texample.com/shared\tv0.1.0\n=>\t../shared\t\t\nbuild\t-ldflags=\"-X main.version=2.3.4\"\n";
    let go_binary = elf(&[
        (".text", b"\x90\x90\xc3"),
        (".go.buildinfo", &go_buildinfo("go1.22.5", modinfo)),
    ]);
    write_file(root.path(), "/usr/local/bin/server", &go_binary, 0o755);
    // The same binary without an execute bit is not read.
    write_file(root.path(), "/opt/copy/server", &go_binary, 0o644);

    let dependencies = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"smallvec","version":"0.6.13","source":"crates.io"},{"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}],"format":1}"#;
    let rust_binary = elf(&[(".text", b"\xc3"), (".dep-v0", &zlib(dependencies))]);
    write_file(root.path(), "/usr/local/bin/app", &rust_binary, 0o755);
    // Declared by a lock file and found in the binary: reported once.
    let lock = "version = 4\n\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.13\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
    write_file(root.path(), "/src/app/Cargo.lock", lock.as_bytes(), 0o644);

    let plain = elf(&[(".text", b"\xc3"), (".data", &[0; 32])]);
    write_file(root.path(), "/usr/lib/libplain.so.1", &plain, 0o755);
    write_file(
        root.path(),
        "/usr/local/bin/truncated",
        &go_binary[..100],
        0o755,
    );

    let inventory = inventory_of(root.path());
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);

    let server = at(&inventory, "/usr/local/bin/server");
    assert_eq!(
        summary(&server),
        BTreeSet::from([
            entry("example.com/server", "v2.3.4", None),
            entry("example.com/shared", "", Some("path")),
            entry("github.com/google/uuid", "v1.6.0", None),
            entry("stdlib", "1.22.5", None),
        ])
    );
    let main = server
        .iter()
        .find(|p| p.name == "example.com/server")
        .unwrap();
    assert_eq!(main.purl, "pkg:golang/example.com/server@v2.3.4#cmd/server");
    assert!(!main.declared);

    let app = at(&inventory, "/usr/local/bin/app");
    assert_eq!(
        summary(&app),
        BTreeSet::from([
            entry("app", "0.1.0", Some("path")),
            entry("smallvec", "0.6.13", None),
        ])
    );
    assert!(at(&inventory, "/opt/copy/server").is_empty());
    assert!(at(&inventory, "/src/app/Cargo.lock").is_empty());
    assert_eq!(inventory.packages.len(), 6, "{:?}", inventory.packages);
}

/// Syft 1.18.1's go-module and rust-crate components: (name, version, purl).
fn syft_components(path: &Path) -> BTreeSet<(String, String, String)> {
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut found = BTreeSet::new();
    for component in document["components"].as_array().unwrap() {
        let is_kind = component["properties"]
            .as_array()
            .is_some_and(|properties| {
                properties.iter().any(|p| {
                    p["name"] == "syft:package:type"
                        && (p["value"] == "go-module" || p["value"] == "rust-crate")
                })
            });
        if is_kind {
            found.insert((
                component["name"].as_str().unwrap().to_owned(),
                component["version"].as_str().unwrap().to_owned(),
                component["purl"].as_str().unwrap().to_owned(),
            ));
        }
    }
    found
}

#[test]
fn polyglot_app_matches_syft() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let reference = format!("oci-dir:{}", corpus.join("images/polyglot-app").display());
    let image = Image::open(&reference, &OpenOptions::default()).unwrap();
    let inventory = rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap();
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);

    let ours: BTreeSet<(String, String, String)> = inventory
        .packages
        .iter()
        .filter(|p| matches!(p.package_type, PackageType::Go | PackageType::Rust))
        .map(|p| {
            // Syft writes the stdlib version as the toolchain (`go1.24.3`)
            // and puts the bare version only in the purl. rampart uses the
            // bare version in both, because Go advisories compare it.
            let version = if p.name == "stdlib" {
                format!("go{}", p.version)
            } else {
                p.version.clone()
            };
            (p.name.clone(), version, p.purl.clone())
        })
        .collect();
    let syft = syft_components(&corpus.join("reference/syft/polyglot-app.cdx.json"));
    assert_eq!(ours, syft);

    let docker = inventory
        .packages
        .iter()
        .find(|p| p.name == "github.com/docker/cli/cmd/docker")
        .unwrap();
    assert_eq!(docker.locations[0].path, "/usr/local/bin/docker");
    let rustdemo = inventory
        .packages
        .iter()
        .find(|p| p.name == "rustdemo")
        .unwrap();
    assert_eq!(rustdemo.local_source.as_deref(), Some("path"));
}

/// The (name, version) pairs Syft's tests expect for one fixture, as
/// transcribed in the corpus `expected.json`.
fn syft_expected(expected: &serde_json::Value, key: &str) -> BTreeSet<(String, String)> {
    expected["fixtures"][key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} missing from expected.json"))
        .iter()
        .flat_map(|test| test["packages"].as_array().unwrap().iter())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Compares with Syft's expectations. The transcription is heuristic and
/// may pick up packages of a neighbouring sub-test, so an expected package
/// that is missing must be absent from the fixture text too.
fn assert_matches_syft(
    found: BTreeSet<(String, String)>,
    expected: BTreeSet<(String, String)>,
    text: &str,
    key: &str,
) {
    for package in &found {
        assert!(
            expected.contains(package),
            "{key}: {package:?} is not in Syft's expectations {expected:?}"
        );
    }
    for (name, _) in expected.difference(&found) {
        assert!(
            !text.contains(&format!("{name} ")) && !text.contains(&format!("\"{name}\"")),
            "{key}: Syft expects {name}, which the fixture names but rampart did not report"
        );
    }
}

#[test]
fn syft_lock_fixtures() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let vectors = corpus.join("vectors/syft-fixtures");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(vectors.join("expected.json")).unwrap()).unwrap();

    let go_cases = [
        (
            "syft/pkg/cataloger/golang/testdata/go-mod-fixtures/one-package/go.mod",
            "syft/pkg/cataloger/golang/testdata/go-mod-fixtures/one-package/go.mod",
        ),
        (
            "syft/pkg/cataloger/golang/testdata/go-mod-fixtures/relative-replace/go.mod",
            "syft/pkg/cataloger/golang/testdata/go-mod-fixtures/relative-replace/go.mod",
        ),
        (
            "syft/pkg/cataloger/golang/testdata/go-sum-hashes",
            "syft/pkg/cataloger/golang/testdata/go-sum-hashes/go.mod",
        ),
    ];
    for (key, file) in go_cases {
        let text = std::fs::read_to_string(vectors.join(file)).unwrap();
        let (parsed, problems) = go_mod::parse(&text);
        assert!(problems.is_empty(), "{file}: {problems:?}");
        let found = go_mod::packages(&parsed)
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect();
        assert_matches_syft(found, syft_expected(&expected, key), &text, key);
    }

    let key = "syft/pkg/cataloger/rust/testdata/path-deps/Cargo.lock";
    let text = std::fs::read_to_string(vectors.join(key)).unwrap();
    let (crates, problems) = cargo_lock::parse(&text);
    assert!(problems.is_empty(), "{problems:?}");
    let found = crates.into_iter().map(|c| (c.name, c.version)).collect();
    assert_matches_syft(found, syft_expected(&expected, key), &text, key);

    // The remaining Go fixtures parse cleanly, except `corrupt`, whose
    // misspelt `ruire` block is reported.
    let golang = vectors.join("syft/pkg/cataloger/golang");
    for (file, problem_count) in [
        ("testdata/image-small/go.mod", 0),
        ("testdata/go-source-replacements/go.mod", 0),
        ("internal/gotestdata/go-source/go.mod", 0),
        ("testdata/corrupt/go.mod", 1),
    ] {
        let text = std::fs::read_to_string(golang.join(file)).unwrap();
        let (parsed, problems) = go_mod::parse(&text);
        assert_eq!(problems.len(), problem_count, "{file}: {problems:?}");
        if problem_count == 0 {
            assert!(!parsed.requires.is_empty(), "{file}");
        }
    }
}
