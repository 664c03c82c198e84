//! `rampart db` end to end: builds from the committed feed fixtures,
//! updates from a local HTTP server on 127.0.0.1 (conditional requests,
//! retries, failures), and SIGKILL at random points of a build or an
//! update, after which the database must still open.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rampart_testkit::http::{Fault, HttpServer};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rampart-advisory/tests/fixtures")
}

fn rampart(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("RAMPART_DB_MAX_AGE")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn info_json(cache: &Path) -> serde_json::Value {
    let output = rampart(cache, &["db", "info", "-o", "json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Returns the feed files of a small but complete build, one per format.
fn fixture_feeds() -> Vec<PathBuf> {
    let root = fixtures();
    [
        "osv",
        "alpine/v3.10-main.yaml",
        "debian/tracker/bookworm-changelog-fixes-cut.json",
        "debian/DSA/list",
        "nvd/cves-api-page.json",
        "cve5/CVE-2024-3094.json",
        "kev/known_exploited_vulnerabilities.json",
        "epss/epss_scores-2025-08-25.csv",
    ]
    .iter()
    .map(|path| root.join(path))
    .collect()
}

fn build_args(feeds: &[PathBuf]) -> Vec<String> {
    let mut args = vec!["db".to_owned(), "build".to_owned(), "--from".to_owned()];
    args.extend(feeds.iter().map(|feed| feed.display().to_string()));
    args
}

#[test]
fn build_from_fixtures() {
    let cache = tempfile::tempdir().unwrap();
    let args = build_args(&fixture_feeds());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = rampart(cache.path(), &args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("built in"));

    let info = info_json(cache.path());
    assert_eq!(info["schema"], "rampart.db-info/v1");
    let sources: Vec<&str> = info["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|source| source["source"].as_str().unwrap())
        .collect();
    for expected in [
        "osv:pypi",
        "osv:go",
        "alpine-secdb",
        "debian-tracker",
        "debian-dsa",
        "nvd",
        "cve5",
    ] {
        assert!(
            sources.contains(&expected),
            "{expected} missing from {sources:?}"
        );
    }
    assert!(info["kev_count"].as_u64().unwrap() > 0);
    assert!(info["epss_count"].as_u64().unwrap() > 0);
    assert_eq!(info["too_old"], false);
}

#[test]
fn info_without_database() {
    let cache = tempfile::tempdir().unwrap();
    let output = rampart(cache.path(), &["db", "info"]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(message.contains("rampart db build --from"), "{message}");
    assert!(message.contains("rampart db update"), "{message}");
}

#[test]
fn info_warns_when_old() {
    let cache = tempfile::tempdir().unwrap();
    let args = build_args(&fixture_feeds()[..1]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(rampart(cache.path(), &args).status.success());
    let output = rampart(cache.path(), &["db", "info", "--max-age", "0s"]);
    assert!(output.status.success());
    assert!(
        text(&output.stderr).contains("more than --max-age"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn not_a_feed_rejected() {
    let cache = tempfile::tempdir().unwrap();
    let readme = fixtures().join("kev/README.md");
    let output = rampart(
        cache.path(),
        &["db", "build", "--from", readme.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("is not a feed file"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn failed_build_keeps_database() {
    let cache = tempfile::tempdir().unwrap();
    let args = build_args(&fixture_feeds());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(rampart(cache.path(), &args).status.success());
    let before = info_json(cache.path());

    let broken = cache.path().join("known_exploited_vulnerabilities.json");
    std::fs::write(
        &broken,
        "{\"catalogVersion\": \"1\", \"vulnerabilities\": [",
    )
    .unwrap();
    let output = rampart(
        cache.path(),
        &["db", "build", "--from", broken.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("previous database was left in place"));
    assert_eq!(info_json(cache.path())["built_at"], before["built_at"]);
}

#[test]
fn import_installs_file() {
    let source = tempfile::tempdir().unwrap();
    let args = build_args(&fixture_feeds()[..1]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(rampart(source.path(), &args).status.success());
    let built = source.path().join("db/rampart.db");

    // A zstd-compressed copy, as a prebuilt database would be published.
    let compressed = source.path().join("rampart.db.zst");
    let bytes = zstd::encode_all(std::fs::File::open(&built).unwrap(), 3).unwrap();
    std::fs::write(&compressed, bytes).unwrap();

    let cache = tempfile::tempdir().unwrap();
    let output = rampart(
        cache.path(),
        &["db", "import", compressed.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        info_json(cache.path())["built_at"],
        info_json(source.path())["built_at"]
    );

    let garbage = source.path().join("garbage.db");
    std::fs::write(&garbage, vec![7u8; 4096]).unwrap();
    let output = rampart(cache.path(), &["db", "import", garbage.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("garbage.db"),
        "{}",
        text(&output.stderr)
    );
}

/// Serves one feed file per feed kind and returns the `--feed` arguments.
fn serve_feeds(server: &HttpServer) -> Vec<String> {
    let root = fixtures();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in std::fs::read_dir(root.join("osv/go")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
    }
    let zip = zip.finish().unwrap().into_inner();
    server.put("/osv/Go/all.zip", zip);

    let files = [
        ("/alpine/v3.10/main.json", "alpine/v3.10-main.json"),
        (
            "/debian/json",
            "debian/tracker/bookworm-changelog-fixes-cut.json",
        ),
        ("/nvd/page.json", "nvd/cves-api-page.json"),
        ("/kev/kev.json", "kev/known_exploited_vulnerabilities.json"),
        ("/epss/scores.csv", "epss/epss_scores-2025-08-25.csv"),
    ];
    for (url_path, file) in files {
        server.put(url_path, std::fs::read(root.join(file)).unwrap());
    }
    [
        ("osv", "/osv/Go/all.zip"),
        ("alpine-secdb", "/alpine/v3.10/main.json"),
        ("debian-tracker", "/debian/json"),
        ("nvd", "/nvd/page.json"),
        ("kev", "/kev/kev.json"),
        ("epss", "/epss/scores.csv"),
    ]
    .iter()
    .flat_map(|(name, path)| ["--feed".to_owned(), format!("{name}={}", server.url(path))])
    .collect()
}

fn update(cache: &Path, feeds: &[String], extra: &[&str]) -> Output {
    let mut args = vec!["db", "update"];
    args.extend(feeds.iter().map(String::as_str));
    args.extend(extra);
    rampart(cache, &args)
}

#[test]
fn update_then_not_modified() {
    let server = HttpServer::start();
    let feeds = serve_feeds(&server);
    let cache = tempfile::tempdir().unwrap();

    let output = update(cache.path(), &feeds, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let first = server.take_log();
    assert_eq!(first.len(), 6);
    assert!(first.iter().all(|request| request.status == 200));
    let info = info_json(cache.path());
    assert!(
        info["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["source"] == "osv:go")
    );
    assert!(
        info["inputs"][0]["location"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );

    let output = update(cache.path(), &feeds, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let second = server.take_log();
    assert_eq!(second.len(), 6);
    assert!(
        second.iter().all(|request| request.status == 304),
        "{second:?}"
    );
    assert!(second.iter().all(|request| request.if_none_match.is_some()));
}

#[test]
fn update_retries_server_errors() {
    let server = HttpServer::start();
    let feeds = serve_feeds(&server);
    server.inject(
        "/kev/kev.json",
        Fault::Status {
            status: 503,
            times: 2,
        },
    );
    server.inject(
        "/epss/scores.csv",
        Fault::Status {
            status: 429,
            times: 1,
        },
    );
    server.inject("/nvd/page.json", Fault::Truncate { times: 1 });
    let cache = tempfile::tempdir().unwrap();

    let output = update(cache.path(), &feeds, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let log = server.take_log();
    let requests = |path: &str| log.iter().filter(|request| request.path == path).count();
    assert_eq!(requests("/kev/kev.json"), 3);
    assert_eq!(requests("/epss/scores.csv"), 2);
    assert_eq!(requests("/nvd/page.json"), 2);
    assert!(info_json(cache.path())["kev_count"].as_u64().unwrap() > 0);
}

#[test]
fn failed_update_keeps_database() {
    let server = HttpServer::start();
    let feeds = serve_feeds(&server);
    let cache = tempfile::tempdir().unwrap();
    assert!(update(cache.path(), &feeds, &[]).status.success());
    let before = info_json(cache.path());

    let mut broken = feeds.clone();
    let kev = broken
        .iter()
        .position(|arg| arg.starts_with("kev="))
        .unwrap();
    broken[kev] = format!("kev={}", server.url("/kev/missing.json"));
    let output = update(cache.path(), &broken, &["--attempts", "1"]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(message.contains("/kev/missing.json"), "{message}");
    assert!(message.contains("HTTP 404"), "{message}");
    assert_eq!(info_json(cache.path())["built_at"], before["built_at"]);
}

#[test]
fn unknown_feed_name_rejected() {
    let cache = tempfile::tempdir().unwrap();
    let output = rampart(cache.path(), &["db", "update", "--skip", "nvdd"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown feed \"nvdd\""));
}

/// Returns the inputs of the kill test: the whole advisory corpus when it is
/// beside the repository (a build of several seconds), else the fixtures.
fn kill_test_inputs() -> Vec<PathBuf> {
    match rampart_testkit::corpus_dir() {
        Some(corpus) => vec![corpus.join("advisories")],
        None => fixture_feeds(),
    }
}

/// Kills `db build` with SIGKILL at spread-out points of a full build; the
/// database must open after every kill, with the metadata of a complete build.
#[test]
fn killed_build_leaves_usable_database() {
    let cache = tempfile::tempdir().unwrap();
    let args = build_args(&kill_test_inputs());

    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--cache-dir")
        .arg(cache.path())
        .args(&args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let full = started.elapsed();
    let complete = info_json(cache.path());

    // A fixed pseudo-random sequence (a linear congruential generator), so
    // a failure can be reproduced.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..12 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let fraction = (state >> 33) as f64 / (1u64 << 31) as f64;
        let delay = full.mul_f64(fraction * 1.1);

        let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .arg("--cache-dir")
            .arg(cache.path())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();

        let info = info_json(cache.path());
        assert_eq!(
            info["sources"], complete["sources"],
            "round {round}: killed after {delay:?} of {full:?}"
        );
    }
}

/// Kills `db update` at spread-out points; the database must still open.
#[test]
fn killed_update_leaves_usable_database() {
    let server = HttpServer::start();
    let feeds = serve_feeds(&server);
    let cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    assert!(update(cache.path(), &feeds, &[]).status.success());
    let full = started.elapsed().max(Duration::from_millis(50));

    for round in 0..8u32 {
        // Change the KEV file so each update downloads and rebuilds.
        let mut kev: serde_json::Value = serde_json::from_slice(
            &std::fs::read(fixtures().join("kev/known_exploited_vulnerabilities.json")).unwrap(),
        )
        .unwrap();
        kev["catalogVersion"] = format!("round-{round}").into();
        server.put("/kev/kev.json", serde_json::to_vec(&kev).unwrap());

        let mut args = vec!["--cache-dir".to_owned(), cache.path().display().to_string()];
        args.extend(["db".to_owned(), "update".to_owned()]);
        args.extend(feeds.iter().cloned());
        let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(f64::from(round) / 7.0));
        let _ = child.kill();
        let _ = child.wait();

        let output = rampart(cache.path(), &["db", "info", "-o", "json"]);
        assert!(
            output.status.success(),
            "round {round}: {}",
            text(&output.stderr)
        );
    }
}
