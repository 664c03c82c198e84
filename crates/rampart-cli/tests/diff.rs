//! `rampart diff` end to end: two Debian bookworm images built in the test
//! (a standard one and a hardened one), compared against a database built
//! from the committed feed fixtures, in every output format, from images
//! and from saved scans. The HTML report is rendered in headless Chromium
//! when it is installed (required with `RAMPART_REQUIRE_CHROMIUM`). The
//! corpus tier compares the real Debian and Alpine pairs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rampart_testkit::*;

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

const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";

/// The standard image's packages: apt (one finding), libbrotli1 (one) and
/// zlib1g (two), at the bookworm main versions.
const STATUS_A: &str = "\
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

/// The hardened image: no apt, the same libbrotli1, zlib1g at the fixed
/// version, and one package the standard image lacks.
const STATUS_B: &str = "\
Package: libbrotli1
Status: install ok installed
Architecture: amd64
Source: brotli (1.0.9-2)
Version: 1.0.9-2+b6

Package: netbase
Status: install ok installed
Architecture: all
Version: 6.4

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1+deb12u1

";

struct Setup {
    cache: tempfile::TempDir,
    work: tempfile::TempDir,
    a: String,
    b: String,
}

fn setup() -> Setup {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let feed = fixtures().join("debian/tracker/bookworm-changelog-fixes-cut.json");
    let output = rampart(
        cache.path(),
        work.path(),
        &["db", "build", "--from", feed.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));

    let standard = TestLayer::gzip(&[
        file("etc/os-release", OS_RELEASE),
        file("etc/debian_version", "12.15\n"),
        file("var/lib/dpkg/status", STATUS_A),
        Entry::Executable("bin/sh", b"\x7fELF shell".to_vec()),
        Entry::Executable("usr/bin/apt-get", b"\x7fELF apt-get".to_vec()),
        Entry::Mode("usr/bin/passwd", b"\x7fELF passwd".to_vec(), 0o4755),
    ]);
    let hardened = TestLayer::gzip(&[
        file("etc/os-release", OS_RELEASE),
        file("etc/debian_version", "12.15\n"),
        file("var/lib/dpkg/status", STATUS_B),
        file("app/main.py", "print('hello')\n"),
    ]);
    let a = oci_layout_with_config(
        work.path(),
        "standard",
        &[standard],
        serde_json::json!({"Cmd": ["/bin/sh"]}),
    );
    let b = oci_layout_with_config(
        work.path(),
        "hardened",
        &[hardened],
        serde_json::json!({"User": "65532:65532"}),
    );
    Setup {
        cache,
        work,
        a: format!("oci-dir:{}", a.display()),
        b: format!("oci-dir:{}", b.display()),
    }
}

impl Setup {
    fn diff(&self, a: &str, b: &str, extra: &[&str]) -> Output {
        let mut args = vec!["diff", a, b];
        args.extend(extra);
        rampart(self.cache.path(), self.work.path(), &args)
    }

    fn diff_json(&self, a: &str, b: &str, extra: &[&str]) -> serde_json::Value {
        let mut args = extra.to_vec();
        args.extend(["-o", "json"]);
        let output = self.diff(a, b, &args);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

/// (package, id, cause kind) of a finding list.
fn entries(report: &serde_json::Value, list: &str) -> BTreeSet<(String, String, String)> {
    report["findings"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            (
                finding["package"]["name"].as_str().unwrap().to_owned(),
                finding["id"].as_str().unwrap().to_owned(),
                finding["cause"]["kind"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

#[test]
fn diff_counts_causes_and_facts() {
    let setup = setup();
    let report = setup.diff_json(&setup.a, &setup.b, &[]);
    assert_eq!(report["schema"], "rampart.diff/v1");
    assert_eq!(report["same_database"], true);
    assert_eq!(report["summary"]["total"]["a"], 4);
    assert_eq!(report["summary"]["total"]["b"], 1);
    assert_eq!(report["summary"]["total"]["delta"], -3);
    assert_eq!(report["summary"]["total"]["reduction_percent"], 75.0);
    let high = report["summary"]["severities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["severity"] == "high")
        .unwrap();
    // The fixture feed rates the two zlib CVEs high, apt and brotli medium.
    assert_eq!((high["a"].as_u64(), high["b"].as_u64()), (Some(2), Some(0)));

    assert_eq!(
        entries(&report, "only_in_a"),
        set(&[
            ("apt", "CVE-2026-109518", "package-removed"),
            ("zlib1g", "CVE-2026-27171", "version-changed"),
            ("zlib1g", "CVE-2026-85091", "version-changed"),
        ])
    );
    let zlib = report["findings"]["only_in_a"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["package"]["name"] == "zlib1g")
        .unwrap();
    assert_eq!(zlib["cause"]["direction"], "upgraded");
    assert_eq!(zlib["cause"]["to"], "1:1.2.13.dfsg-1+deb12u1");
    assert!(entries(&report, "only_in_b").is_empty());
    let both = &report["findings"]["in_both"];
    assert_eq!(both.as_array().unwrap().len(), 1);
    assert_eq!(both[0]["a"]["id"], "CVE-2026-111497");

    let os = &report["packages"]["os"];
    assert_eq!((os["a"].as_u64(), os["b"].as_u64()), (Some(3), Some(3)));
    assert_eq!(os["removed"][0]["name"], "apt");
    assert_eq!(os["added"][0]["name"], "netbase");
    assert_eq!(os["changed"][0]["name"], "zlib1g");
    assert_eq!(os["changed"][0]["direction"], "upgraded");
    assert_eq!(os["unchanged"], 1);
    assert_eq!(report["packages"]["language"]["a"], 0);

    let facts_a = &report["a"]["facts"];
    let facts_b = &report["b"]["facts"];
    assert_eq!(facts_a["shells"], serde_json::json!(["/bin/sh"]));
    assert_eq!(
        facts_a["package_managers"],
        serde_json::json!(["/usr/bin/apt-get"])
    );
    assert_eq!(
        facts_a["setuid_files"],
        serde_json::json!(["/usr/bin/passwd"])
    );
    assert_eq!(facts_a["runs_as_root"], true);
    assert_eq!(facts_a["layers"], 1);
    assert_eq!(facts_a["files"], 6);
    assert_eq!(facts_b["shells"], serde_json::json!([]));
    assert_eq!(facts_b["user"], "65532:65532");
    assert_eq!(facts_b["runs_as_root"], false);
    assert!(facts_a["compressed_size"].as_u64().unwrap() > 0);
    assert!(
        facts_a["uncompressed_size"].as_u64().unwrap()
            > facts_a["compressed_size"].as_u64().unwrap()
    );
}

#[test]
fn fail_if_worse_exit_codes() {
    let setup = setup();
    let better = setup.diff(&setup.a, &setup.b, &["--fail-if-worse", "-o", "json"]);
    assert_eq!(better.status.code(), Some(0), "{}", text(&better.stderr));
    let worse = setup.diff(&setup.b, &setup.a, &["--fail-if-worse", "-o", "json"]);
    assert_eq!(worse.status.code(), Some(1), "{}", text(&worse.stderr));
    assert!(text(&worse.stderr).contains("--fail-if-worse"));
    // The report is still written when the policy fails.
    let report: serde_json::Value = serde_json::from_slice(&worse.stdout).unwrap();
    let only_in_b = entries(&report, "only_in_b");
    assert!(only_in_b.contains(&(
        "apt".to_owned(),
        "CVE-2026-109518".to_owned(),
        "package-added".to_owned()
    )));
    let zlib = report["findings"]["only_in_b"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["package"]["name"] == "zlib1g")
        .unwrap();
    assert_eq!(zlib["cause"]["from"], "1:1.2.13.dfsg-1+deb12u1");
    assert_eq!(zlib["cause"]["to"], "1:1.2.13.dfsg-1");
    assert_eq!(zlib["cause"]["direction"], "downgraded");
}

/// Saved scans compare like the images, need no database, and a finding
/// suppressed on one side counts as a status change.
#[test]
fn saved_scans_and_status_changes() {
    let setup = setup();
    let dir = setup.work.path();
    for (image, name) in [(&setup.a, "a.json"), (&setup.b, "b.json")] {
        let output = rampart(
            setup.cache.path(),
            dir,
            &["scan", image, "-o", &format!("json={name}")],
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let live = setup.diff_json(&setup.a, &setup.b, &[]);
    let empty_cache = tempfile::tempdir().unwrap();
    let output = rampart(
        empty_cache.path(),
        dir,
        &["diff", "a.json", "scan:b.json", "-o", "json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let saved: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["summary", "packages", "findings"] {
        assert_eq!(saved[key], live[key], "{key}");
    }
    assert_eq!(saved["a"]["facts"], live["a"]["facts"]);

    // B scanned again with an ignore entry: the brotli finding of A that B
    // suppresses is gone from B for the ignore entry's reason.
    std::fs::write(
        dir.join("ignore.yaml"),
        "ignore:\n  - id: CVE-2026-111497\n    statement: brotli is not reachable here\n",
    )
    .unwrap();
    let output = rampart(
        setup.cache.path(),
        dir,
        &[
            "scan",
            &setup.b,
            "--ignore-file",
            "ignore.yaml",
            "-o",
            "json=b-ignored.json",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report = setup.diff_json(&setup.a, "b-ignored.json", &[]);
    assert!(
        entries(&report, "only_in_a").contains(&(
            "libbrotli1".to_owned(),
            "CVE-2026-111497".to_owned(),
            "suppressed".to_owned()
        )),
        "{}",
        report["findings"]
    );
    assert_eq!(report["findings"]["in_both"], serde_json::json!([]));
    let brotli = &report["findings"]["only_in_a"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["package"]["name"] == "libbrotli1")
        .unwrap()["cause"];
    assert_eq!(brotli["side"], "B");
    assert_eq!(brotli["rule"], "ignore-file");
    assert!(
        brotli["reason"]
            .as_str()
            .unwrap()
            .contains("brotli is not reachable here"),
        "{brotli}"
    );
}

/// The filters apply to saved scans as to images, so a mixed comparison
/// counts both sides the same way.
#[test]
fn filters_apply_to_saved_scans() {
    let setup = setup();
    let dir = setup.work.path();
    let output = rampart(
        setup.cache.path(),
        dir,
        &["scan", &setup.a, "-o", "json=a.json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let live = setup.diff_json(&setup.a, &setup.b, &["--severity", "high"]);
    let mixed = setup.diff_json("scan:a.json", &setup.b, &["--severity", "high"]);
    assert_eq!(mixed["summary"], live["summary"]);
    assert_eq!(mixed["summary"]["total"]["a"], 2);
    assert_eq!(mixed["findings"], live["findings"]);
}

/// A failing output leaves no other output behind, and a missing folder
/// fails before any image is read.
#[test]
fn outputs_written_all_or_none() {
    let setup = setup();
    let dir = setup.work.path();
    let output = setup.diff(
        &setup.a,
        &setup.b,
        &[
            "-o",
            "json=good.json",
            "-o",
            "html=missing-folder/report.html",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("missing-folder"), "{stderr}");
    assert!(!dir.join("good.json").exists());

    // A folder in the way fails before any image is read too.
    std::fs::create_dir(dir.join("report.html")).unwrap();
    let output = setup.diff(
        &setup.a,
        &setup.b,
        &["-o", "json=good.json", "-o", "html=report.html"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("it is a folder"));
    assert!(!dir.join("good.json").exists());

    // A write that fails late (a file name longer than the file system
    // allows) leaves nothing behind.
    let long_name = format!("html={}.html", "x".repeat(300));
    let output = setup.diff(
        &setup.a,
        &setup.b,
        &["-o", "json=good.json", "-o", &long_name],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(!dir.join("good.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn every_format_renders() {
    let setup = setup();
    let output = setup.diff(
        &setup.a,
        &setup.b,
        &[
            "-o",
            "table",
            "-o",
            "markdown=diff.md",
            "-o",
            "html=diff.html",
            "-o",
            "json=diff.json",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let table = text(&output.stdout);
    assert!(table.contains("VULNERABILITIES"), "{table}");
    assert!(
        table.contains("upgraded to 1:1.2.13.dfsg-1+deb12u1"),
        "{table}"
    );
    assert!(table.contains("package removed"), "{table}");
    assert!(
        table.contains("Total: A 4, B 1 (-3, 75.0% reduction)"),
        "{table}"
    );
    assert!(
        !table.contains('\u{1b}'),
        "escape sequences in a piped table"
    );

    let markdown = std::fs::read_to_string(setup.work.path().join("diff.md")).unwrap();
    assert!(markdown.starts_with("### rampart diff:"), "{markdown}");
    assert!(
        markdown.contains("| **total** | 4 | 1 | -3 | 75.0% |"),
        "{markdown}"
    );
    assert!(markdown.contains("<summary>Only in A (gone in B): 3</summary>"));

    let html = std::fs::read_to_string(setup.work.path().join("diff.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg id=\"severity-chart\""));
    // Self-contained: nothing is loaded from elsewhere.
    for needle in ["src=\"http", "href=\"http://", "<link", "@import", "url("] {
        assert!(!html.contains(needle), "{needle}");
    }
}

#[test]
fn bad_inputs_exit_2_and_write_nothing() {
    let setup = setup();
    let dir = setup.work.path();
    std::fs::write(dir.join("other.json"), r#"{"schema": "rampart.sbom/v1"}"#).unwrap();
    std::fs::write(dir.join("broken.json"), "{\"schema\": \"rampart.scan/v1\"").unwrap();
    let cases = [
        ("scan:missing.json", "missing.json"),
        ("other.json", "is not a rampart scan report"),
        ("broken.json", "broken.json is not valid JSON"),
        ("oci-dir:/nonexistent/layout", "/nonexistent/layout"),
    ];
    for (input, message) in cases {
        let output = setup.diff(&setup.a, input, &["-o", "html=out.html"]);
        assert_eq!(output.status.code(), Some(2), "{input}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(message), "{input}: {stderr}");
        assert!(!dir.join("out.html").exists(), "{input}");
    }
    let output = setup.diff(&setup.a, &setup.b, &["-o", "pdf"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("expected one of table, json, markdown, html"));
}

// Headless Chromium.

/// Returns the Chromium binary, or `None` to skip; with `RAMPART_REQUIRE_CHROMIUM`
/// set (CI sets it), a missing browser fails the test.
fn chromium() -> Option<PathBuf> {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return Some(PathBuf::from(candidate));
        }
    }
    assert!(
        std::env::var_os("RAMPART_REQUIRE_CHROMIUM").is_none(),
        "RAMPART_REQUIRE_CHROMIUM is set but Chromium is not installed (apt-get install chromium)"
    );
    eprintln!("skipped: Chromium is not installed");
    None
}

/// Opens `page` in headless Chromium and returns the DOM after the scripts
/// ran and the console messages Chromium logged.
fn render(chromium: &Path, page: &Path, work: &Path) -> (String, Vec<String>) {
    let profile = tempfile::tempdir_in(work).unwrap();
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Chromium starts requests of its own (sign-in, updates); no
            // name resolves, so none of them leaves the machine.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        text(&output.stderr)
    );
    let console = text(&output.stderr)
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (text(&output.stdout), console)
}

/// A script added to a copy of the report: it clicks the severity header of
/// the first sortable table twice and records the first row's severity
/// after each click in `data-` attributes of `<body>`.
const SORT_PROBE: &str = "<script>
(function(){
  var table=document.querySelector('table.sortable');
  var header=table.tHead.rows[0].cells[0];
  header.click();
  document.body.setAttribute('data-first-click', table.tBodies[0].rows[0].cells[0].textContent);
  header.click();
  document.body.setAttribute('data-second-click', table.tBodies[0].rows[0].cells[0].textContent);
})();
</script></body>";

#[test]
fn html_report_renders_in_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    let setup = setup();
    let work = setup.work.path();
    let output = setup.diff(&setup.a, &setup.b, &["-o", "html=report.html"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report = work.join("report.html");

    let (dom, console) = render(&chromium, &report, work);
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains("<svg id=\"severity-chart\""), "no chart");
    assert_eq!(dom.matches("class=\"bar bar-A\"").count(), 6 + 2);
    assert_eq!(dom.matches("class=\"bar bar-B\"").count(), 6 + 2);
    for id in [
        "counts",
        "packages",
        "facts",
        "only-in-a",
        "in-both",
        "package-changes",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "table {id} missing");
    }

    // The sort script works in a real browser.
    let html = std::fs::read_to_string(&report).unwrap();
    let probed = work.join("probed.html");
    std::fs::write(&probed, html.replace("</body>", SORT_PROBE)).unwrap();
    let (dom, console) = render(&chromium, &probed, work);
    assert!(console.is_empty(), "console messages: {console:?}");
    // Severity sorts highest first, then reverses.
    assert!(dom.contains("data-first-click=\"high\""), "{dom}");
    assert!(dom.contains("data-second-click=\"medium\""), "{dom}");

    // The console check can fail: an external image is refused by the
    // report's Content-Security-Policy, and Chromium logs the refusal.
    let external = work.join("external.html");
    std::fs::write(
        &external,
        html.replace("</body>", "<img src=\"http://127.0.0.1:9/x.png\"></body>"),
    )
    .unwrap();
    let (_, console) = render(&chromium, &external, work);
    assert!(
        console
            .iter()
            .any(|line| line.contains("Content Security Policy")),
        "{console:?}"
    );
}

// Corpus tier.

fn corpus_cache(corpus: &Path) -> (tempfile::TempDir, tempfile::TempDir) {
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

/// (binary, CVE) rows of an expected-findings table.
fn expected_rows(corpus: &Path, image: &str) -> BTreeSet<(String, String)> {
    let tsv = corpus.join(format!("advisories/debian-derived/expected-{image}.tsv"));
    std::fs::read_to_string(tsv)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[0].to_owned(), fields[4].to_owned())
        })
        .collect()
}

fn deb_pairs(report: &serde_json::Value, list: &str) -> BTreeSet<(String, String)> {
    report["findings"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            let finding = finding.get("a").unwrap_or(finding);
            (
                finding["package"]["name"].as_str().unwrap().to_owned(),
                finding["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// debian-standard-python against debian-minimal-python: the delta is the
/// difference of the two expected tables of the derived bookworm feed.
#[test]
fn corpus_debian_pair_delta_matches_expected_tables() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let (cache, work) = corpus_cache(&corpus);
    let standard = expected_rows(&corpus, "debian-standard-python");
    let minimal = expected_rows(&corpus, "debian-minimal-python");
    let a = format!(
        "oci-dir:{}",
        corpus.join("images/debian-standard-python").display()
    );
    let b = format!(
        "oci-dir:{}",
        corpus.join("images/debian-minimal-python").display()
    );
    let output = rampart(cache.path(), work.path(), &["diff", &a, &b, "-o", "json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let only_a: BTreeSet<_> = standard.difference(&minimal).cloned().collect();
    let only_b: BTreeSet<_> = minimal.difference(&standard).cloned().collect();
    let both: BTreeSet<_> = standard.intersection(&minimal).cloned().collect();
    assert_eq!(deb_pairs(&report, "only_in_a"), only_a);
    assert_eq!(deb_pairs(&report, "only_in_b"), only_b);
    assert_eq!(deb_pairs(&report, "in_both"), both);
    assert_eq!((only_a.len(), only_b.len(), both.len()), (88, 0, 69));
    let total = &report["summary"]["total"];
    assert_eq!(
        (total["a"].as_u64(), total["b"].as_u64()),
        (Some(157), Some(69))
    );

    // Every finding only in A went with its package: the minimal image
    // has no package of the standard one at another version.
    let causes: BTreeSet<&str> = report["findings"]["only_in_a"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["cause"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(causes, BTreeSet::from(["package-removed"]));
    let os = &report["packages"]["os"];
    assert_eq!((os["a"].as_u64(), os["b"].as_u64()), (Some(153), Some(13)));
    assert_eq!(os["removed"].as_array().unwrap().len(), 140);
    assert_eq!(os["unchanged"], 13);

    let (facts_a, facts_b) = (&report["a"]["facts"], &report["b"]["facts"]);
    assert_eq!(facts_a["layers"], 3);
    assert_eq!(facts_b["layers"], 1);
    assert!(!facts_a["shells"].as_array().unwrap().is_empty());
    assert_eq!(facts_b["shells"], serde_json::json!([]));
    assert_eq!(facts_b["package_managers"], serde_json::json!([]));
    assert_eq!(facts_a["runs_as_root"], true);
}

/// The apk packages of Syft's SBOM of a corpus image, as name to version.
fn syft_apk_packages(corpus: &Path, image: &str) -> BTreeMap<String, String> {
    let path = corpus.join(format!("reference/syft/{image}.cdx.json"));
    let sbom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|component| {
            component["purl"]
                .as_str()
                .is_some_and(|purl| purl.starts_with("pkg:apk/"))
        })
        .map(|component| {
            (
                component["name"].as_str().unwrap().to_owned(),
                component["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn names(list: &serde_json::Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap().to_owned())
        .collect()
}

/// alpine-3.16 against alpine-3.20: the package changes equal those between
/// Syft's SBOMs of the two images, every version change is an upgrade by
/// apk's rules, and the findings agree with the two scans made one by one.
/// The corpus secdb stops at 3.11, so both sides have no OS findings and
/// the report's warnings give the reason.
#[test]
fn corpus_alpine_pair_packages_match_syft() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let (cache, work) = corpus_cache(&corpus);
    let image = |name: &str| format!("oci-dir:{}", corpus.join("images").join(name).display());
    let (a, b) = (image("alpine-3.16"), image("alpine-3.20"));
    let output = rampart(cache.path(), work.path(), &["diff", &a, &b, "-o", "json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let syft_a = syft_apk_packages(&corpus, "alpine-3.16");
    let syft_b = syft_apk_packages(&corpus, "alpine-3.20");
    let removed: BTreeSet<String> = syft_a
        .keys()
        .filter(|name| !syft_b.contains_key(*name))
        .cloned()
        .collect();
    let added: BTreeSet<String> = syft_b
        .keys()
        .filter(|name| !syft_a.contains_key(*name))
        .cloned()
        .collect();
    let changed: BTreeMap<String, (String, String)> = syft_a
        .iter()
        .filter_map(|(name, version)| {
            let other = syft_b.get(name)?;
            (other != version).then(|| (name.clone(), (version.clone(), other.clone())))
        })
        .collect();
    let os = &report["packages"]["os"];
    assert_eq!(names(&os["removed"]), removed);
    assert_eq!(names(&os["added"]), added);
    let reported: BTreeMap<String, (String, String)> = os["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            assert_eq!(change["direction"], "upgraded", "{change}");
            (
                change["name"].as_str().unwrap().to_owned(),
                (
                    change["from"][0].as_str().unwrap().to_owned(),
                    change["to"][0].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    assert_eq!(reported, changed);
    assert_eq!(
        os["unchanged"].as_u64().unwrap() as usize,
        syft_a.len() - removed.len() - changed.len()
    );
    assert_eq!((removed.len(), added.len(), changed.len()), (3, 3, 10));

    for (side, target) in [("a", &a), ("b", &b)] {
        let output = rampart(cache.path(), work.path(), &["scan", target, "-o", "json"]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let scan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            report["summary"]["total"][side], scan["summary"]["total"],
            "{side}"
        );
    }
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("no advisories for alpine:3.16"),
        "{warnings}"
    );
    let facts = &report["b"]["facts"];
    assert_eq!(
        facts["shells"],
        serde_json::json!(["/bin/sh", "/bin/ash", "/bin/busybox"])
    );
    assert!(facts["package_managers"].to_string().contains("/sbin/apk"));
}
