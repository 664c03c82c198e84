//! The Java archive cataloger on real archive layouts: Syft's exploded jar
//! fixtures zipped at test time, the Scala file-name case as a `dir:` image,
//! and an image with a web application, a fat jar and a truncated jar.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::catalog::java::archive::{ArchiveLimits, read_archive};
use rampart_inventory::{Inventory, PackageType};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/java")
}

fn inventory(root: &Path) -> Inventory {
    let image = Image::open(&format!("dir:{}", root.display()), &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

/// Builds a deflated zip from (entry name, content) pairs.
fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in entries {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Zips an exploded jar folder, entry names relative to it, in path order.
fn zip_folder(folder: &Path) -> Vec<u8> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut children: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        children.sort();
        for child in children {
            if child.is_dir() {
                walk(base, &child, out);
            } else {
                let name = child
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((name, std::fs::read(&child).unwrap()));
            }
        }
    }
    let mut entries = Vec::new();
    walk(folder, folder, &mut entries);
    zip_of(&entries)
}

/// (groupId, artifactId, version).
type Coordinates = (Option<&'static str>, &'static str, &'static str);

/// Syft's `jar-metadata` fixtures: (folder, archive file name, expected
/// (groupId, artifactId, version) in report order). The first four follow
/// Syft's `archive_parser_test.go`; `multiple-matching` follows its
/// deterministic-selection test for the archive's own identity.
const SYFT_JARS: &[(&str, &str, &[Coordinates])] = &[
    (
        "jackson-core-2.15.2",
        "jackson-core-2.15.2.jar",
        &[(Some("com.fasterxml.jackson.core"), "jackson-core", "2.15.2")],
    ),
    (
        "com.fasterxml.jackson.core.jackson-core-2.15.2",
        "com.fasterxml.jackson.core.jackson-core-2.15.2.jar",
        &[(Some("com.fasterxml.jackson.core"), "jackson-core", "2.15.2")],
    ),
    (
        "api-all-2.0.0-sources",
        "api-all-2.0.0-sources.jar",
        &[
            (Some("org.apache.directory.api"), "api-all", "2.0.0"),
            (Some("org.apache.directory.api"), "api-asn1-api", "2.0.0"),
        ],
    ),
    (
        "spring-instrumentation-4.3.0-1.0",
        "spring-instrumentation-4.3.0-1.0.jar",
        &[],
    ),
    (
        "jenkins-plugins/gradle/2.11",
        "gradle.hpi",
        &[(Some("org.jenkins-ci.plugins"), "gradle", "2.11")],
    ),
    (
        "multiple-matching-2.11.5",
        "multiple-matching-2.11.5.jar",
        &[
            (Some("org.multiple"), "multiple-matching-1", "2.11.5"),
            (Some("org.multiple"), "multiple-matching-2", "2.11.5"),
            (Some("org.multiple"), "multiple-matching-3", "2.11.5"),
        ],
    ),
    (
        "opensaml-core-3.4.6",
        "opensaml-core-3.4.6.jar",
        &[(Some("org.opensaml"), "opensaml-core", "3.4.6")],
    ),
    // The file name carries the groupId, so that pom.properties is the
    // archive's own; the other one is a bundled package.
    (
        "org.multiple-thename",
        "org.multiple-thename.jar",
        &[
            (Some("org.multiple"), "thename", "10.11.12"),
            (Some("com.multiple"), "thename", "10.11.12"),
        ],
    ),
    // NOTE: Syft reads the groupId `io.micronaut` from the bundled pom.xml,
    // which this cataloger does not parse.
    (
        "micronaut-aop-4.9.11",
        "micronaut-aop-4.9.11.jar",
        &[(None, "micronaut-aop", "4.9.11")],
    ),
];

fn check_syft_jars(jar_metadata: &Path) {
    for (folder, file, expected) in SYFT_JARS {
        let jar = zip_folder(&jar_metadata.join(folder));
        let path = format!("/lib/{file}");
        let extract = read_archive(&path, &jar, &ArchiveLimits::default());
        let found: Vec<(Option<&str>, &str, &str)> = extract
            .packages
            .iter()
            .map(|p| {
                (
                    p.group_id.as_deref(),
                    p.artifact_id.as_str(),
                    p.version.as_str(),
                )
            })
            .collect();
        assert_eq!(found, *expected, "{folder}");
        assert!(
            extract.warnings.is_empty(),
            "{folder}: {:?}",
            extract.warnings
        );
    }
}

#[test]
fn syft_jar_metadata_fixtures() {
    check_syft_jars(&fixtures().join("syft/jar-metadata"));
}

#[test]
fn syft_jar_license_from_bundle_license() {
    let jar = zip_folder(&fixtures().join("syft/jar-metadata/jackson-core-2.15.2"));
    let extract = read_archive(
        "/lib/jackson-core-2.15.2.jar",
        &jar,
        &ArchiveLimits::default(),
    );
    assert_eq!(
        extract.packages[0].licenses,
        ["https://www.apache.org/licenses/LICENSE-2.0.txt"]
    );
}

#[test]
fn syft_corrupt_jar_warns() {
    let content = std::fs::read(fixtures().join("syft/corrupt/example.jar")).unwrap();
    let extract = read_archive("/lib/example.jar", &content, &ArchiveLimits::default());
    assert!(extract.packages.is_empty());
    assert_eq!(extract.warnings.len(), 1, "{:?}", extract.warnings);
    assert!(extract.warnings[0].starts_with("/lib/example.jar: invalid or truncated Java archive"));
}

fn check_jar_filename_case(root: &Path) {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("expected.json")).unwrap()).unwrap();
    let inventory = inventory(root);
    let java: Vec<_> = inventory
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Java)
        .collect();
    for expected_package in expected["packages"].as_array().unwrap() {
        let name = expected_package["name"].as_str().unwrap();
        let version = expected_package["version"].as_str().unwrap();
        let package = java.iter().find(|p| p.name == name);
        let package = package.unwrap_or_else(|| panic!("{name} missing from {java:?}"));
        assert_eq!(package.version, version, "{name}");
        assert_eq!(package.purl, format!("pkg:maven/{name}@{version}"));
        assert!(
            package.locations[0].path.starts_with("/opt/app/lib/"),
            "{name}"
        );
    }
    for banned in expected["packages_must_not_include_names"]
        .as_array()
        .unwrap()
    {
        let banned = banned.as_str().unwrap();
        assert!(java.iter().all(|p| p.name != banned), "{banned} reported");
    }
    assert_eq!(java.len(), 2, "{java:?}");
}

#[test]
fn jar_file_name_scala_suffix() {
    check_jar_filename_case(&fixtures().join("jar-filename"));
}

#[test]
fn image_with_war_fat_jar_and_truncated_jar() {
    let pom = |group: &str, artifact: &str, version: &str| {
        format!("groupId={group}\nartifactId={artifact}\nversion={version}\n").into_bytes()
    };
    let library = zip_of(&[(
        "META-INF/maven/org.yaml/snakeyaml/pom.properties".into(),
        pom("org.yaml", "snakeyaml", "1.33"),
    )]);
    let war = zip_of(&[
        (
            "META-INF/maven/com.example/shop/pom.properties".into(),
            pom("com.example", "shop", "2.0.1"),
        ),
        ("WEB-INF/lib/snakeyaml-1.33.jar".into(), library.clone()),
    ]);
    let fat = zip_of(&[
        (
            "META-INF/MANIFEST.MF".into(),
            b"Manifest-Version: 1.0\r\nImplementation-Title: svc\r\nImplementation-Version: 0.9.0\r\n\r\n".to_vec(),
        ),
        ("BOOT-INF/lib/snakeyaml-1.33.jar".into(), library),
    ]);
    let good = zip_of(&[(
        "META-INF/maven/org.example/good/pom.properties".into(),
        pom("org.example", "good", "1.0"),
    )]);

    let root = tempfile::tempdir().unwrap();
    let lib = root.path().join("opt/app");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(lib.join("shop.WAR"), &war).unwrap();
    std::fs::write(lib.join("svc.jar"), &fat).unwrap();
    std::fs::write(lib.join("good-1.0.jar"), &good).unwrap();
    std::fs::write(lib.join("broken-1.0.jar"), &good[..good.len() / 3]).unwrap();

    let inventory = inventory(root.path());
    let mut found: Vec<(&str, &str, &str)> = inventory
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Java)
        .map(|p| {
            (
                p.purl.as_str(),
                p.locations[0].path.as_str(),
                p.version.as_str(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            // The truncated jar's local header names an entry, so it is a
            // zip and its file name is the last resort.
            ("pkg:maven/broken@1.0", "/opt/app/broken-1.0.jar", "1.0"),
            (
                "pkg:maven/com.example/shop@2.0.1",
                "/opt/app/shop.WAR",
                "2.0.1"
            ),
            (
                "pkg:maven/org.example/good@1.0",
                "/opt/app/good-1.0.jar",
                "1.0"
            ),
            (
                "pkg:maven/org.yaml/snakeyaml@1.33",
                "/opt/app/shop.WAR",
                "1.33"
            ),
            (
                "pkg:maven/org.yaml/snakeyaml@1.33",
                "/opt/app/svc.jar",
                "1.33"
            ),
            ("pkg:maven/svc@0.9.0", "/opt/app/svc.jar", "0.9.0"),
        ]
    );
    assert!(
        inventory
            .warnings
            .iter()
            .any(|w| w.starts_with("/opt/app/broken-1.0.jar:")),
        "{:?}",
        inventory.warnings
    );
}

/// Corpus tier: the shared case and Syft's fixtures as they are in the
/// corpus, when it is present.
#[test]
fn corpus_java_cases() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let case = corpus.join("../cases/syft-2563-jar-filename");
    if case.is_dir() {
        check_jar_filename_case(&case);
    }
    let syft = corpus.join("vectors/syft-fixtures/syft/pkg/cataloger/java/testdata/jar-metadata");
    if syft.is_dir() {
        check_syft_jars(&syft);
    }
}
