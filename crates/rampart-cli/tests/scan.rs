//! `rampart scan` end to end: a Debian bookworm image built in the test,
//! scanned against a database built from the committed feed fixtures (a cut
//! of the bookworm fix feed with apt, brotli and zlib), in every output
//! format, with filters, an ignore file, VEX, `--fail-on` and SBOM input.
//! The corpus tier scans the real Debian images and Syft's SBOMs of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rampart_testkit::*;

mod common;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rampart-advisory/tests/fixtures")
}

fn rampart(cache: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("RAMPART_DB_MAX_AGE")
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The dpkg status of three bookworm packages as the real image has them:
/// a native package, a binNMU with `Source: name (version)`, and an epoch.
const STATUS: &str = "\
Package: apt
Status: install ok installed
Architecture: amd64
Version: 2.6.1

Package: libbrotli1
Status: install ok installed
Architecture: amd64
Source: brotli (1.0.9-2)
Version: 1.0.9-2+b6

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1

";

/// A scan setup: a cache with a database, and a Debian image.
struct Setup {
    cache: tempfile::TempDir,
    work: tempfile::TempDir,
    image: String,
}

fn setup() -> Setup {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let feeds = [
        fixtures().join("debian/tracker/bookworm-changelog-fixes-cut.json"),
        fixtures().join("kev/known_exploited_vulnerabilities.json"),
        fixtures().join("epss/epss_scores-2025-08-25.csv"),
    ];
    let mut args = vec!["db", "build", "--from"];
    let feeds: Vec<String> = feeds
        .iter()
        .map(|feed| feed.display().to_string())
        .collect();
    args.extend(feeds.iter().map(String::as_str));
    let output = rampart(cache.path(), work.path(), &args);
    assert!(output.status.success(), "{}", text(&output.stderr));

    let layer = TestLayer::gzip(&[
        file(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        ),
        file("etc/debian_version", "12.15\n"),
        file("var/lib/dpkg/status", STATUS),
    ]);
    let layout = oci_layout(work.path(), "bookworm-app", &[layer]);
    let image = format!("oci-dir:{}", layout.display());
    Setup { cache, work, image }
}

impl Setup {
    fn scan(&self, extra: &[&str]) -> Output {
        let mut args = vec!["scan", self.image.as_str()];
        args.extend(extra);
        rampart(self.cache.path(), self.work.path(), &args)
    }

    fn scan_json(&self, extra: &[&str]) -> serde_json::Value {
        let mut args = extra.to_vec();
        args.extend(["-o", "json"]);
        let output = self.scan(&args);
        assert!(output.status.code() != Some(2), "{}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

fn active_ids(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding.get("suppressed").is_none())
        .map(|finding| {
            (
                finding["package"]["name"].as_str().unwrap().to_owned(),
                finding["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn scan_finds_source_package_fixes() {
    let setup = setup();
    let report = setup.scan_json(&[]);
    assert_eq!(report["schema"], "rampart.scan/v1");
    let ids = active_ids(&report);
    assert!(
        ids.contains(&("apt".into(), "CVE-2026-109518".into())),
        "{ids:?}"
    );
    assert!(
        ids.contains(&("libbrotli1".into(), "CVE-2026-111497".into())),
        "{ids:?}"
    );
    assert!(
        ids.contains(&("zlib1g".into(), "CVE-2026-27171".into())),
        "{ids:?}"
    );

    let zlib = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["id"] == "CVE-2026-27171")
        .unwrap();
    assert_eq!(zlib["fixed_version"], "1:1.2.13.dfsg-1+deb12u1");
    assert_eq!(zlib["status"], "fixed");
    assert_eq!(zlib["severity"], "high");
    assert_eq!(zlib["namespace"], "debian:12");
}

#[test]
fn fail_on_severity_exit_codes() {
    let setup = setup();
    let failed = setup.scan(&["--fail-on", "high", "-o", "json"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert!(text(&failed.stderr).contains("--fail-on high"));
    let passed = setup.scan(&["--fail-on", "critical", "-o", "json"]);
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed.stderr));
    let suppressed = setup.scan(&["--fail-on", "high", "--severity", "critical", "-o", "json"]);
    assert_eq!(suppressed.status.code(), Some(0));
}

#[test]
fn severity_filter_keeps_suppressed_in_json() {
    let setup = setup();
    let report = setup.scan_json(&["--severity", "critical"]);
    assert!(active_ids(&report).is_empty());
    let first = &report["findings"][0];
    assert_eq!(first["suppressed"]["kind"], "severity");
    assert_eq!(report["summary"]["total"], 0);
    assert!(report["summary"]["suppressed"].as_u64().unwrap() > 0);
}

#[test]
fn ignore_file_and_expiry() {
    let setup = setup();
    let ignore = setup.work.path().join(".rampartignore.yaml");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: CVE-2026-27171\n    statement: zlib is not used on untrusted input here\n  - purl: pkg:deb/debian/apt\n    expires: 2020-01-01\n",
    )
    .unwrap();
    // Read from the working directory by default.
    let output = setup.scan(&["-o", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids = active_ids(&report);
    assert!(!ids.iter().any(|(_, id)| id == "CVE-2026-27171"), "{ids:?}");
    assert!(
        ids.iter().any(|(name, _)| name == "apt"),
        "expired entry still applied"
    );
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("expired on 2020-01-01"), "{warnings}");
    let zlib = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["id"] == "CVE-2026-27171")
        .unwrap();
    assert_eq!(zlib["suppressed"]["kind"], "ignore-file");
    assert_eq!(
        zlib["suppressed"]["reason"],
        "zlib is not used on untrusted input here"
    );
}

#[test]
fn openvex_suppresses_package() {
    let setup = setup();
    let vex = setup.work.path().join("vex.json");
    std::fs::write(
        &vex,
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.invalid/vex/1","author":"test","timestamp":"2026-01-01T00:00:00Z","version":1,
            "statements":[{"vulnerability":{"name":"CVE-2026-111497"},"products":[{"@id":"pkg:deb/debian/libbrotli1"}],"status":"not_affected","justification":"vulnerable_code_not_present"}]}"#,
    )
    .unwrap();
    let report = setup.scan_json(&["--vex", vex.to_str().unwrap()]);
    let ids = active_ids(&report);
    assert!(!ids.contains(&("libbrotli1".into(), "CVE-2026-111497".into())));
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["id"] == "CVE-2026-111497")
        .unwrap();
    assert_eq!(finding["suppressed"]["vex_status"], "not_affected");
}

#[test]
fn sarif_and_cyclonedx_validate() {
    let setup = setup();
    let sarif = setup.work.path().join("scan.sarif");
    let cyclonedx = setup.work.path().join("scan.cdx.json");
    let markdown = setup.work.path().join("scan.md");
    let output = setup.scan(&[
        "-o",
        &format!("sarif={}", sarif.display()),
        "-o",
        &format!("cyclonedx-json={}", cyclonedx.display()),
        "-o",
        &format!("markdown={}", markdown.display()),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));

    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let errors = common::sarif_errors(&document);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        !document["runs"][0]["results"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cyclonedx).unwrap()).unwrap();
    let errors = common::cyclonedx_errors(&document);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!document["vulnerabilities"].as_array().unwrap().is_empty());

    let markdown = std::fs::read_to_string(&markdown).unwrap();
    assert!(markdown.contains("CVE-2026-27171"));
}

#[test]
fn sbom_input_gives_same_findings() {
    let setup = setup();
    let direct = active_ids(&setup.scan_json(&[]));
    assert!(!direct.is_empty());

    for format in ["cyclonedx-json", "spdx-json"] {
        let sbom = setup.work.path().join(format!("image.{format}"));
        let target = format!("{format}={}", sbom.display());
        let output = rampart(
            setup.cache.path(),
            setup.work.path(),
            &["sbom", &setup.image, "-o", &target],
        );
        assert!(output.status.success(), "{}", text(&output.stderr));

        let output = rampart(
            setup.cache.path(),
            setup.work.path(),
            &["scan", &format!("sbom:{}", sbom.display()), "-o", "json"],
        );
        assert!(
            output.status.success(),
            "{format}: {}",
            text(&output.stderr)
        );
        let from_sbom = active_ids(&serde_json::from_slice(&output.stdout).unwrap());
        assert_eq!(direct, from_sbom, "{format}");
    }
}

#[test]
fn missing_database_names_commands() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = rampart(
        cache.path(),
        work.path(),
        &["scan", "oci-dir:nowhere", "-o", "json"],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(message.contains("rampart db build --from"), "{message}");
    assert!(message.contains("rampart db update"), "{message}");
}

#[test]
fn old_database_warns_in_json() {
    let setup = setup();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
    command.arg("--cache-dir").arg(setup.cache.path()).args([
        "scan",
        &setup.image,
        "-o",
        "json",
        "--max-db-age",
        "0s",
    ]);
    let output = command.output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["database"]["too_old"], true);
    assert!(report["warnings"].to_string().contains("--max-db-age"));
}

// Corpus tier.

fn corpus_setup(corpus: &Path) -> (tempfile::TempDir, tempfile::TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let advisories = corpus.join("advisories");
    let output = rampart(
        cache.path(),
        work.path(),
        &["db", "build", "--from", advisories.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    (cache, work)
}

fn expected_count(corpus: &Path, image: &str) -> usize {
    let tsv = corpus.join(format!("advisories/debian-derived/expected-{image}.tsv"));
    std::fs::read_to_string(tsv)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .count()
}

/// The real Debian images and Syft's SBOMs of them, with the whole advisory
/// corpus loaded (the 2023 DSA/DLA lists too): exactly the expected rows.
#[test]
fn corpus_debian_images_and_syft_sboms() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let (cache, work) = corpus_setup(&corpus);
    for image in ["debian-standard-python", "debian-minimal-python"] {
        let expected = expected_count(&corpus, image);
        let layout = corpus.join("images").join(image);
        let sbom = corpus.join(format!("reference/syft/{image}.cdx.json"));
        for target in [
            format!("oci-dir:{}", layout.display()),
            format!("sbom:{}", sbom.display()),
        ] {
            let output = rampart(cache.path(), work.path(), &["scan", &target, "-o", "json"]);
            assert!(
                output.status.success(),
                "{target}: {}",
                text(&output.stderr)
            );
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            // Syft's SBOMs also list Python packages; only the deb findings
            // are in the expected table.
            let debian = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|finding| finding["package"]["type"] == "deb")
                .filter(|finding| finding.get("suppressed").is_none())
                .count();
            assert_eq!(debian, expected, "{target}");

            // The 2023 DLA that fixed CVE-2021-4189 in python2.7 matches
            // nothing here, so it lends the python3.11 finding neither its
            // text nor its other CVE ids.
            if let Some(finding) = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|finding| finding["id"] == "CVE-2021-4189")
            {
                let text = finding.to_string();
                assert!(!text.contains("python2.7"), "{text}");
                assert!(!text.contains("CVE-2021-3177"), "{text}");
            }
            let sarif = rampart(cache.path(), work.path(), &["scan", &target, "-o", "sarif"]);
            let document: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
            assert!(common::sarif_errors(&document).is_empty(), "{target}");
        }
    }
}

/// Syft's SBOM of the polyglot image carries its Python, Go and Rust
/// packages; they match in their OSV ecosystems with each one's version
/// rules, and EPSS enriches the findings.
#[test]
fn corpus_polyglot_sbom_language_findings() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let (cache, work) = corpus_setup(&corpus);
    let sbom = corpus.join("reference/syft/polyglot-app.cdx.json");
    let output = rampart(
        cache.path(),
        work.path(),
        &["scan", &format!("sbom:{}", sbom.display()), "-o", "json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let find = |package: &str, id: &str| {
        findings
            .iter()
            .find(|finding| finding["package"]["name"] == package && finding["id"] == id)
            .unwrap_or_else(|| panic!("no {id} for {package}"))
    };

    let requests = find("requests", "CVE-2018-18074");
    assert_eq!(requests["fixed_version"], "2.20.0");
    assert_eq!(requests["namespace"], "pypi");
    assert!(requests["epss"]["percentile"].as_f64().unwrap() > 0.0);
    assert!(requests["aliases"].to_string().contains("PYSEC-2018-28"));
    assert_eq!(find("pyyaml", "CVE-2020-1747")["fixed_version"], "5.3.1");
    assert_eq!(find("smallvec", "CVE-2021-25900")["namespace"], "crates.io");
    assert!(
        findings
            .iter()
            .any(|finding| finding["package"]["name"] == "stdlib" && finding["namespace"] == "go")
    );
    // Packages above every fix give nothing: jinja2 2.10 has two fixes
    // above it, and none at or below.
    let jinja: Vec<_> = findings
        .iter()
        .filter(|finding| finding["package"]["name"] == "jinja2")
        .map(|finding| finding["fixed_version"].as_str().unwrap())
        .collect();
    assert_eq!(jinja.len(), 2, "{jinja:?}");
}

/// Runs `scripts/osv-reference.py`, an independent matcher written with
/// Python's `packaging` and a SemVer comparison, over Syft's SBOM of the
/// polyglot image and the OSV records of PyPI, Go and crates.io. Returns
/// the record ids per purl, or `None` when Python lacks `packaging` or
/// PyYAML outside CI.
fn osv_reference(corpus: &Path) -> Option<BTreeMap<String, BTreeSet<String>>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/osv-reference.py");
    let osv = corpus.join("advisories/osv");
    let output = Command::new("python3")
        .arg(&script)
        .arg(corpus.join("reference/syft/polyglot-app.cdx.json"))
        .args(["pypi", "go", "crates-io"].map(|name| osv.join(name)))
        .output();
    let output = match output {
        Ok(output) if output.status.success() => output,
        other => {
            let detail = match other {
                Ok(output) => text(&output.stderr),
                Err(error) => error.to_string(),
            };
            assert!(
                std::env::var_os("RAMPART_REQUIRE_CORPUS").is_none(),
                "osv-reference.py failed (pip install packaging pyyaml): {detail}"
            );
            eprintln!("skipping the OSV reference comparison: {detail}");
            return None;
        }
    };
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

/// The OSV record ids of each language package's findings, keyed by purl
/// without qualifiers or subpath.
fn language_records(report: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut records: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for finding in report["findings"].as_array().unwrap() {
        let purl = finding["package"]["purl"].as_str().unwrap();
        if !["pkg:pypi/", "pkg:golang/", "pkg:cargo/"]
            .iter()
            .any(|prefix| purl.starts_with(prefix))
        {
            continue;
        }
        let purl = purl.split(['?', '#']).next().unwrap().to_owned();
        let ids = finding["advisories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|advisory| advisory["id"].as_str().unwrap().to_owned());
        records.entry(purl).or_default().extend(ids);
    }
    records
}

/// The polyglot image scanned directly and through Syft's SBOM reports
/// exactly the OSV records the independent reference computes for each
/// PyPI, Go and crates.io package.
#[test]
fn corpus_polyglot_matches_osv_reference() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let Some(reference) = osv_reference(&corpus) else {
        return;
    };
    let reference: BTreeMap<String, BTreeSet<String>> = reference
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    let total: usize = reference.values().map(BTreeSet::len).sum();
    assert!(total > 50, "the reference found only {total} records");

    let (cache, work) = corpus_setup(&corpus);
    let layout = corpus.join("images/polyglot-app");
    let sbom = corpus.join("reference/syft/polyglot-app.cdx.json");
    for target in [
        format!("sbom:{}", sbom.display()),
        format!("oci-dir:{}", layout.display()),
    ] {
        let output = rampart(cache.path(), work.path(), &["scan", &target, "-o", "json"]);
        assert!(
            output.status.success(),
            "{target}: {}",
            text(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let found = language_records(&report);
        for (purl, ids) in &reference {
            assert_eq!(found.get(purl), Some(ids), "{target}: {purl}");
        }
        for purl in found.keys() {
            assert!(
                reference.contains_key(purl),
                "{target}: unexpected findings for {purl}"
            );
        }
    }
}

/// A Cargo.lock with a registry crate and a path dependency of the same
/// name: only the registry crate is matched, whether the image is scanned
/// or its CycloneDX or SPDX SBOM is, because both SBOMs carry the local
/// source and the location.
#[test]
fn path_dependency_not_matched_through_sbom() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let record = fixtures().join("osv/crates-io/RUSTSEC-2016-0001.json");
    let output = rampart(
        cache.path(),
        work.path(),
        &["db", "build", "--from", record.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));

    let root = work.path().join("rootfs");
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::write(
        root.join("app/Cargo.lock"),
        "version = 3\n\n\
         [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"openssl 0.7.0\", \"openssl 0.8.0\"]\n\n\
         [[package]]\nname = \"openssl\"\nversion = \"0.7.0\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [[package]]\nname = \"openssl\"\nversion = \"0.8.0\"\n",
    )
    .unwrap();
    let image = format!("dir:{}", root.display());
    let cyclonedx = work.path().join("app.cdx.json");
    let spdx = work.path().join("app.spdx.json");
    let output = rampart(
        cache.path(),
        work.path(),
        &[
            "sbom",
            &image,
            "-o",
            &format!("cyclonedx-json={}", cyclonedx.display()),
            "-o",
            &format!("spdx-json={}", spdx.display()),
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));

    for target in [
        image,
        format!("sbom:{}", cyclonedx.display()),
        format!("sbom:{}", spdx.display()),
    ] {
        let output = rampart(cache.path(), work.path(), &["scan", &target, "-o", "json"]);
        assert!(
            output.status.success(),
            "{target}: {}",
            text(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let matched: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|finding| finding["package"]["version"].as_str().unwrap())
            .collect();
        assert_eq!(matched, ["0.7.0"], "{target}");
        assert_eq!(
            report["findings"][0]["package"]["locations"][0]["path"], "/app/Cargo.lock",
            "{target}"
        );
        assert_eq!(report["warnings"], serde_json::json!([]), "{target}");
    }
}
