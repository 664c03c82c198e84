//! Pulls from a real OCI registry on 127.0.0.1 (Debian's `docker-registry`,
//! started by `rampart_testkit::registry`): the same inventory as the OCI
//! layout that was pushed, the layer cache, platform selection from an
//! index, authentication over TLS, and the errors for wrong credentials, a
//! missing tag, a digest mismatch and a dropped connection, which resumes.
//! The corpus tier pushes every corpus image and compares its SBOM and scan
//! with those of its layout.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rampart_testkit::proxy::{FaultProxy, ProxyFault};
use rampart_testkit::registry::{Registry, RegistryOptions};
use rampart_testkit::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rampart-advisory/tests/fixtures")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs rampart with a cache and an empty Docker configuration, feeding
/// `stdin` when given.
fn rampart(cache: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
    // Relative output files land in the cache folder, not the source tree.
    command
        .current_dir(cache)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("RAMPART_DB_MAX_AGE")
        .env("DOCKER_CONFIG", cache.join("docker-config"))
        // Credential helpers that a test writes go in `bin/` of the cache.
        .env(
            "PATH",
            format!(
                "{}:{}",
                cache.join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "rampart failed: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// (type, name, version) of an SBOM's packages.
fn packages(sbom: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut list: Vec<_> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            (
                package["type"].as_str().unwrap_or_default().to_owned(),
                package["name"].as_str().unwrap().to_owned(),
                package["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    list.sort();
    list
}

/// (package, id, status) of a scan's active findings.
fn findings(scan: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut list: Vec<_> = scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding.get("suppressed").is_none())
        .map(|finding| {
            (
                finding["package"]["name"].as_str().unwrap().to_owned(),
                finding["id"].as_str().unwrap().to_owned(),
                finding["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    list.sort();
    list
}

const STATUS: &str = "\
Package: apt
Status: install ok installed
Architecture: amd64
Version: 2.6.1

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1

";

/// Writes a Debian image in an OCI layout, with a second layer large enough that
/// a dropped connection can be placed in the middle of it.
fn debian_layout(dir: &Path) -> PathBuf {
    let base = TestLayer::gzip(&[
        file(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        ),
        file("var/lib/dpkg/status", STATUS),
    ]);
    // Pseudo-random bytes do not compress, so the blob stays large.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..600_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let payload = TestLayer::gzip(&[Entry::File("opt/app/data.bin", noise)]);
    oci_layout(dir, "debian-app", &[base, payload])
}

/// Makes a cache with a database built from the committed Debian feed cut.
fn cache_with_database() -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    let feed = fixtures().join("debian/tracker/bookworm-changelog-fixes-cut.json");
    let output = rampart(
        cache.path(),
        &["db", "build", "--from", feed.to_str().unwrap()],
        None,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    cache
}

/// Returns the layer blob digests of the image in a layout, largest last.
fn layer_digests(layout: &Path) -> Vec<String> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let blob = |digest: &str| {
        std::fs::read(layout.join("blobs/sha256").join(&digest["sha256:".len()..])).unwrap()
    };
    let manifest: serde_json::Value = serde_json::from_slice(&blob(manifest_digest)).unwrap();
    let mut layers: Vec<(u64, String)> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|layer| {
            (
                layer["size"].as_u64().unwrap(),
                layer["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    layers.sort();
    layers.into_iter().map(|(_, digest)| digest).collect()
}

/// Returns the configuration blob digest of the image in a layout.
fn config_digest(layout: &Path) -> String {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            layout
                .join("blobs/sha256")
                .join(&manifest_digest["sha256:".len()..]),
        )
        .unwrap(),
    )
    .unwrap();
    manifest["config"]["digest"].as_str().unwrap().to_owned()
}

/// A plain-HTTP registry with the Debian test image pushed as
/// `team/app:1.0`, and a fault proxy in front of it.
struct Pushed {
    /// Kept so that the registry runs as long as the test needs it.
    _registry: Registry,
    proxy: FaultProxy,
    layout: PathBuf,
    _work: tempfile::TempDir,
}

impl Pushed {
    fn start() -> Option<Pushed> {
        let registry = Registry::start(RegistryOptions::http())?;
        let work = tempfile::tempdir().unwrap();
        let layout = debian_layout(work.path());
        registry.push_layout(&layout, "latest", "team/app", "1.0");
        let proxy = FaultProxy::start(registry.host());
        Some(Pushed {
            _registry: registry,
            proxy,
            layout,
            _work: work,
        })
    }

    /// Runs `rampart sbom` of `team/app:TAG` through the proxy, writing
    /// JSON to stdout.
    fn sbom_through_proxy(&self, cache: &Path, tag: &str) -> Output {
        let host = self.proxy.host();
        rampart(
            cache,
            &[
                "sbom",
                &format!("registry:{host}/team/app:{tag}"),
                "--insecure-registry",
                &host,
                "-o",
                "json",
            ],
            None,
        )
    }
}

#[test]
fn pull_equals_layout_and_cache_serves_second_scan() {
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let layout = debian_layout(work.path());
    let digest = registry.push_layout(&layout, "latest", "team/app", "1.0");
    let cache = cache_with_database();
    let host = registry.host();
    let reference = format!("registry:{host}/team/app:1.0");
    let insecure = ["--insecure-registry", host];

    let local = json(&rampart(
        cache.path(),
        &[
            "sbom",
            &format!("oci-dir:{}", layout.display()),
            "-o",
            "json",
        ],
        None,
    ));
    let mut args = vec!["sbom", reference.as_str(), "-o", "json"];
    args.extend(insecure);
    let pulled = json(&rampart(cache.path(), &args, None));
    assert_eq!(packages(&pulled), packages(&local));
    assert_eq!(pulled["source"]["kind"], "registry");
    assert_eq!(pulled["source"]["manifest_digest"], digest);
    let first_blobs = registry.blob_requests().len();
    // Two layers and the configuration.
    assert_eq!(first_blobs, 3, "{:?}", registry.blob_requests());

    // A bare reference works too, and the second read downloads no blob.
    let bare = format!("{host}/team/app:1.0");
    let mut args = vec!["scan", bare.as_str(), "-o", "json"];
    args.extend(insecure);
    let scan = json(&rampart(cache.path(), &args, None));
    assert!(
        findings(&scan)
            .iter()
            .any(|(name, id, _)| name == "zlib1g" && id == "CVE-2026-27171"),
        "{:?}",
        findings(&scan)
    );
    assert_eq!(
        registry.blob_requests().len(),
        first_blobs,
        "the second scan requested blobs: {:?}",
        registry.blob_requests()
    );

    let info = rampart(cache.path(), &["cache", "info"], None);
    assert!(
        text(&info.stdout).contains("blobs: 3,"),
        "{}",
        text(&info.stdout)
    );
    let clean = rampart(cache.path(), &["cache", "clean"], None);
    assert!(clean.status.success());
    let info = rampart(cache.path(), &["cache", "info"], None);
    assert!(
        text(&info.stdout).contains("blobs: 0,"),
        "{}",
        text(&info.stdout)
    );
}

#[test]
fn index_resolves_requested_platform() {
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let layout = two_platform_layout(work.path(), "multi");
    let index_digest = registry.push_layout(&layout.path, layout.tag, "team/multi", "1.0");
    assert_eq!(index_digest, layout.index_digest);
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("registry:{}/team/multi:1.0", registry.host());
    for (platform, image) in [
        ("linux/amd64", &layout.images[0]),
        ("linux/arm64", &layout.images[1]),
    ] {
        let output = rampart(
            cache.path(),
            &[
                "sbom",
                &reference,
                "--platform",
                platform,
                "--insecure-registry",
                registry.host(),
                "-o",
                "json",
            ],
            None,
        );
        let sbom = json(&output);
        assert_eq!(
            sbom["source"]["manifest_digest"], image.manifest_digest,
            "{platform}"
        );
        assert_eq!(sbom["source"]["architecture"], image.architecture);
        let names: Vec<String> = packages(&sbom)
            .into_iter()
            .map(|(_, name, _)| name)
            .collect();
        assert!(
            names.contains(&image.package.0.to_owned()),
            "{platform}: {names:?}"
        );
    }
    let output = rampart(
        cache.path(),
        &[
            "sbom",
            &reference,
            "--platform",
            "linux/s390x",
            "--insecure-registry",
            registry.host(),
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("linux/s390x") && stderr.contains("linux/arm64"),
        "{stderr}"
    );
}

#[test]
fn tls_registry_with_authentication() {
    let Some(registry) = Registry::start(RegistryOptions::tls_with_auth()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let layout = debian_layout(work.path());
    registry.push_layout(&layout, "latest", "private/app", "2.0");
    let (username, password) = registry.credentials().unwrap();
    let ca = registry.ca_pem_path().unwrap().to_str().unwrap().to_owned();
    let reference = format!("registry:{}/private/app:2.0", registry.host());
    let cache = tempfile::tempdir().unwrap();
    let sbom = |extra: &[&str], stdin: Option<&str>| {
        let mut args = vec!["sbom", reference.as_str(), "-o", "json"];
        args.extend(extra);
        rampart(cache.path(), &args, stdin)
    };

    // Without the CA the certificate is not trusted, and the error says how
    // to fix it.
    let untrusted = sbom(&[], None);
    assert_eq!(untrusted.status.code(), Some(2));
    assert!(
        text(&untrusted.stderr).contains("--ca-file"),
        "{}",
        text(&untrusted.stderr)
    );

    let anonymous = sbom(&["--ca-file", &ca], None);
    assert_eq!(anonymous.status.code(), Some(2));
    let stderr = text(&anonymous.stderr);
    assert!(stderr.contains("requires authentication"), "{stderr}");
    assert!(stderr.contains("private/app"), "{stderr}");

    let wrong = sbom(
        &["--ca-file", &ca, "--username", username, "--password-stdin"],
        Some("not-the-password\n"),
    );
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = text(&wrong.stderr);
    assert!(stderr.contains("rejected the credentials"), "{stderr}");
    assert!(
        !stderr.contains("not-the-password"),
        "the password leaked: {stderr}"
    );

    let right = sbom(
        &["--ca-file", &ca, "--username", username, "--password-stdin"],
        Some(&format!("{password}\n")),
    );
    let pulled = json(&right);
    assert_eq!(packages(&pulled).len(), 2);
    assert!(!text(&right.stderr).contains(password));
    assert!(!String::from_utf8_lossy(&right.stdout).contains(password));

    // Credentials from Docker's configuration, with a fresh cache so the
    // blobs are pulled again.
    let docker_config = cache.path().join("docker-config");
    std::fs::create_dir_all(&docker_config).unwrap();
    let auth = rampart_testkit::registry::basic_auth(username, password)
        .trim_start_matches("Basic ")
        .to_owned();
    std::fs::write(
        docker_config.join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let clean = rampart(cache.path(), &["cache", "clean"], None);
    assert!(clean.status.success());
    let from_config = json(&sbom(&["--ca-file", &ca], None));
    assert_eq!(packages(&from_config), packages(&pulled));
}

/// The bearer-token flow of public registries: the registry sends the
/// client to a token server, which checks the credentials and grants a
/// pull token for the repository.
#[test]
fn bearer_token_flow() {
    let Some(registry) = Registry::start(RegistryOptions::http_with_token()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let layout = debian_layout(work.path());
    registry.push_layout(&layout, "latest", "team/app", "3.0");
    let (username, password) = registry.credentials().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("registry:{}/team/app:3.0", registry.host());
    let sbom = |extra: &[&str], stdin: Option<&str>| {
        let mut args = vec![
            "sbom",
            reference.as_str(),
            "--insecure-registry",
            registry.host(),
            "-o",
            "json",
        ];
        args.extend(extra);
        rampart(cache.path(), &args, stdin)
    };

    let anonymous = sbom(&[], None);
    assert_eq!(anonymous.status.code(), Some(2));
    assert!(
        text(&anonymous.stderr).contains("requires authentication"),
        "{}",
        text(&anonymous.stderr)
    );

    let wrong = sbom(
        &["--username", username, "--password-stdin"],
        Some("wrong-token"),
    );
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = text(&wrong.stderr);
    assert!(stderr.contains("rejected the credentials"), "{stderr}");
    assert!(
        !stderr.contains("wrong-token"),
        "the password leaked: {stderr}"
    );

    let pulled = json(&sbom(
        &["--username", username, "--password-stdin"],
        Some(password),
    ));
    assert_eq!(packages(&pulled).len(), 2);
    let granted: Vec<_> = registry
        .token_requests()
        .into_iter()
        .filter(|request| request.status == 200 && request.scopes == ["repository:team/app:pull"])
        .collect();
    assert!(!granted.is_empty(), "{:?}", registry.token_requests());
    assert!(granted.iter().all(|request| request.with_credentials));

    // Credentials from a credential helper named in Docker's configuration.
    let bin = cache.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-rampart-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = \"{}\" ] || exit 1\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{username}\",\"Secret\":\"{password}\"}}' \"$server\"\n",
            registry.host()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&helper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&helper, permissions).unwrap();
    let docker_config = cache.path().join("docker-config");
    std::fs::create_dir_all(&docker_config).unwrap();
    std::fs::write(
        docker_config.join("config.json"),
        format!(
            r#"{{"credHelpers": {{"{}": "rampart-test"}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    assert!(
        rampart(cache.path(), &["cache", "clean"], None)
            .status
            .success()
    );
    let from_helper = sbom(&[], None);
    let pulled_again = json(&from_helper);
    assert_eq!(packages(&pulled_again), packages(&pulled));
    assert!(!text(&from_helper.stderr).contains(password));
}

#[test]
fn missing_tag_and_repository_errors() {
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let layout = debian_layout(work.path());
    registry.push_layout(&layout, "latest", "team/app", "1.0");
    let cache = tempfile::tempdir().unwrap();
    for (reference, expected) in [
        ("team/app:9.9", "manifest 9.9 not found"),
        ("team/absent:1.0", "not found"),
    ] {
        let output = rampart(
            cache.path(),
            &[
                "sbom",
                &format!("registry:{}/{reference}", registry.host()),
                "--insecure-registry",
                registry.host(),
                "-o",
                "json=out.json",
            ],
            None,
        );
        assert_eq!(output.status.code(), Some(2), "{reference}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expected), "{reference}: {stderr}");
        assert!(stderr.contains(registry.host()), "{reference}: {stderr}");
    }

    // A plain-HTTP registry reached over HTTPS: the hint names the option.
    let output = rampart(
        cache.path(),
        &[
            "sbom",
            &format!("registry:{}/team/app:1.0", registry.host()),
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("--insecure-registry {}", registry.host())),
        "{stderr}"
    );
}

#[test]
fn dropped_connection_resumes_with_range() {
    let Some(pushed) = Pushed::start() else {
        return;
    };
    let largest = layer_digests(&pushed.layout).pop().unwrap();
    pushed
        .proxy
        .inject(&largest, ProxyFault::CutBody { after: 200_000 });
    let cache = tempfile::tempdir().unwrap();
    let pulled = json(&pushed.sbom_through_proxy(cache.path(), "1.0"));
    assert_eq!(packages(&pulled).len(), 2);
    assert_eq!(
        pushed.proxy.pending_faults(),
        0,
        "the fault was not applied"
    );
    let ranges: Vec<Option<String>> = pushed
        .proxy
        .requests()
        .into_iter()
        .filter(|request| request.path.contains(&largest))
        .map(|request| request.range)
        .collect();
    assert_eq!(ranges, [None, Some("bytes=200000-".to_owned())]);
}

#[test]
fn corrupted_blob_is_a_digest_mismatch() {
    let Some(pushed) = Pushed::start() else {
        return;
    };
    let (proxy, layout) = (&pushed.proxy, &pushed.layout);
    let largest = layer_digests(layout).pop().unwrap();
    proxy.inject(&largest, ProxyFault::CorruptByte { offset: 1000 });
    let cache = tempfile::tempdir().unwrap();
    let host = proxy.host();
    let args = [
        "sbom",
        &format!("registry:{host}/team/app:1.0"),
        "--insecure-registry",
        &host,
        "-o",
        "json=out.json",
    ];
    let output = rampart(cache.path(), &args, None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&largest), "{stderr}");
    assert!(stderr.contains("registry sent damaged content"), "{stderr}");
    assert!(stderr.contains("repository team/app"), "{stderr}");
    // Neither the damaged blob nor its partial download was kept: the next
    // pull gets the blob whole.
    let info = rampart(cache.path(), &["cache", "info"], None);
    assert!(
        text(&info.stdout).contains("partial downloads: 0,"),
        "{}",
        text(&info.stdout)
    );
    let output = rampart(cache.path(), &args, None);
    assert!(output.status.success(), "{}", text(&output.stderr));

    // A damaged image configuration fails its digest check, which names
    // both digests.
    let config = config_digest(layout);
    assert!(
        rampart(cache.path(), &["cache", "clean"], None)
            .status
            .success()
    );
    proxy.inject(&config, ProxyFault::CorruptByte { offset: 10 });
    let output = rampart(cache.path(), &args, None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&config) && stderr.contains("does not match its digest"),
        "{stderr}"
    );

    // A manifest whose content differs from the registry's stated digest.
    proxy.inject(
        "/manifests/1.0",
        ProxyFault::ReplaceBody(b"{\"schemaVersion\": 2}".to_vec()),
    );
    let output = rampart(cache.path(), &args, None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("digest mismatch"),
        "{}",
        text(&output.stderr)
    );
}

/// A pull that gives up after repeated breaks leaves its bytes in the
/// cache, and the next run requests only the rest.
#[test]
fn interrupted_pull_resumes_next_run() {
    let Some(pushed) = Pushed::start() else {
        return;
    };
    let (proxy, layout) = (&pushed.proxy, &pushed.layout);
    let largest = layer_digests(layout).pop().unwrap();
    // The first request and its five resumptions each break after 20,000
    // bytes. The failed layer is then read once more to tell a damaged
    // blob from a broken download, and that read breaks six times too, so
    // the run fails with 240,000 bytes cached.
    for _ in 0..12 {
        proxy.inject(&largest, ProxyFault::CutBody { after: 20_000 });
    }
    let cache = tempfile::tempdir().unwrap();
    let host = proxy.host();
    let args = [
        "sbom",
        &format!("registry:{host}/team/app:1.0"),
        "--insecure-registry",
        &host,
        "-o",
        "json",
    ];
    let failed = rampart(cache.path(), &args, None);
    assert_eq!(failed.status.code(), Some(2), "{}", text(&failed.stderr));
    assert!(
        text(&failed.stderr).contains("broke off"),
        "{}",
        text(&failed.stderr)
    );
    let info = rampart(cache.path(), &["cache", "info"], None);
    assert!(
        text(&info.stdout).contains("partial downloads: 1,"),
        "{}",
        text(&info.stdout)
    );

    let pulled = json(&rampart(cache.path(), &args, None));
    assert_eq!(packages(&pulled).len(), 2);
    let ranges: Vec<Option<String>> = proxy
        .requests()
        .into_iter()
        .filter(|request| request.path.contains(&largest))
        .map(|request| request.range)
        .collect();
    assert_eq!(ranges.len(), 13, "{ranges:?}");
    assert_eq!(ranges[12].as_deref(), Some("bytes=240000-"), "{ranges:?}");
}

/// `429` and `503` responses are retried, honouring `Retry-After`. A wait
/// longer than rampart accepts fails with the registry's request.
#[test]
fn busy_registry_retried() {
    let Some(pushed) = Pushed::start() else {
        return;
    };
    let (proxy, layout) = (&pushed.proxy, &pushed.layout);
    let largest = layer_digests(layout).pop().unwrap();
    proxy.inject(
        "/manifests/1.0",
        ProxyFault::Status {
            status: 429,
            retry_after: Some(1),
        },
    );
    proxy.inject(
        &largest,
        ProxyFault::Status {
            status: 503,
            retry_after: None,
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let host = proxy.host();
    let reference = format!("registry:{host}/team/app:1.0");
    let started = std::time::Instant::now();
    let output = rampart(
        cache.path(),
        &[
            "sbom",
            &reference,
            "--insecure-registry",
            &host,
            "-o",
            "json",
        ],
        None,
    );
    let pulled = json(&output);
    assert_eq!(packages(&pulled).len(), 2);
    assert_eq!(proxy.pending_faults(), 0);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    let statuses: Vec<Option<u16>> = proxy
        .requests()
        .into_iter()
        .filter(|request| request.path.contains(&largest))
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [Some(503), Some(200)]);

    proxy.inject(
        "/manifests/1.0",
        ProxyFault::Status {
            status: 429,
            retry_after: Some(3600),
        },
    );
    let output = rampart(
        cache.path(),
        &[
            "sbom",
            &reference,
            "--insecure-registry",
            &host,
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("HTTP 429") && stderr.contains("3600 s"),
        "{stderr}"
    );
}

// Corpus tier.

/// Every corpus image pushed to the registry gives the same packages and
/// findings as its OCI layout.
#[test]
fn corpus_images_pulled_equal_layouts() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let output = rampart(
        cache.path(),
        &[
            "db",
            "build",
            "--from",
            corpus.join("advisories").to_str().unwrap(),
        ],
        None,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    for image in CORPUS_IMAGES {
        let layout = corpus.join("images").join(image);
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let tag = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap()
            .to_owned();
        registry.push_layout(&layout, &tag, &format!("corpus/{image}"), &tag);
        let local = format!("oci-dir:{}", layout.display());
        let remote = format!("registry:{}/corpus/{image}:{tag}", registry.host());
        let run = |command: &str, target: &str| {
            json(&rampart(
                cache.path(),
                &[
                    command,
                    target,
                    "--insecure-registry",
                    registry.host(),
                    "-o",
                    "json",
                ],
                None,
            ))
        };
        assert_eq!(
            packages(&run("sbom", &remote)),
            packages(&run("sbom", &local)),
            "{image}"
        );
        let (scan_remote, scan_local) = (run("scan", &remote), run("scan", &local));
        assert_eq!(findings(&scan_remote), findings(&scan_local), "{image}");
        assert_eq!(
            scan_remote["target"]["manifest_digest"], scan_local["target"]["manifest_digest"],
            "{image}"
        );
    }
}
