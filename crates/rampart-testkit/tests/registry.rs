//! Self-tests of the registry harness: real `docker-registry` processes on
//! 127.0.0.1, images pushed into them with skopeo, and the fault proxy in
//! front of one. Each test skips (or fails under RAMPART_REQUIRE_REGISTRY)
//! when docker-registry or skopeo is not installed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rampart_testkit::proxy::{FaultProxy, ProxyFault};
use rampart_testkit::registry::{Registry, RegistryOptions, basic_auth};
use rampart_testkit::{Entry, TestLayer, file, oci_layout, sha256, two_platform_layout};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A response read whole: status, `Docker-Content-Digest` and body.
struct Fetched {
    status: u16,
    content_digest: Option<String>,
    body: Vec<u8>,
}

/// Sends a GET with optional `Accept`, `Authorization` and `Range` headers
/// and reads the whole body.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    accept: Option<&str>,
    authorization: Option<&str>,
    range: Option<&str>,
) -> Result<Fetched, ureq::Error> {
    let mut request = agent.get(url);
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    let response = request.call()?;
    let status = response.status().as_u16();
    let content_digest = response
        .headers()
        .get("docker-content-digest")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()?;
    Ok(Fetched {
        status,
        content_digest,
        body,
    })
}

/// Returns `len` bytes that gzip cannot shrink, so a layer is large enough
/// to be cut mid-way.
fn noise(len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + 32);
    let mut block = sha256(b"rampart registry harness");
    while bytes.len() < len {
        block = sha256(block.as_bytes());
        bytes.extend_from_slice(&hex_bytes(&block[7..]));
    }
    bytes.truncate(len);
    bytes
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// A one-image layout tagged `latest` with a 64 KiB layer.
struct SmallImage {
    layout: PathBuf,
    manifest_digest: String,
    layer_digest: String,
    layer: Vec<u8>,
}

fn small_image(dir: &Path) -> SmallImage {
    let layer = TestLayer::gzip(&[
        file("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"),
        Entry::File("opt/app/data.bin", noise(64 * 1024)),
    ]);
    let blob = layer.blob();
    let layout = oci_layout(dir, "app", &[layer]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    SmallImage {
        layout,
        manifest_digest: index["manifests"][0]["digest"].as_str().unwrap().to_owned(),
        layer_digest: sha256(&blob),
        layer: blob,
    }
}

#[test]
fn plain_registry_serves_pushed_image() {
    let started = Instant::now();
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    eprintln!(
        "plain registry answered GET /v2/ after {:?}",
        started.elapsed()
    );
    let agent = registry.agent();
    let work = tempfile::tempdir().unwrap();
    let image = small_image(work.path());

    let root = fetch(&agent, &registry.url("/v2/"), None, None, None).unwrap();
    assert_eq!(root.status, 200);

    let pushed = registry.push_layout(&image.layout, "latest", "testkit/app", "1.0");
    assert_eq!(pushed, image.manifest_digest);

    let manifest = fetch(
        &agent,
        &registry.url("/v2/testkit/app/manifests/1.0"),
        Some(OCI_MANIFEST),
        None,
        None,
    )
    .unwrap();
    assert_eq!(manifest.status, 200);
    assert_eq!(sha256(&manifest.body), image.manifest_digest);
    assert_eq!(
        manifest.content_digest.as_deref(),
        Some(image.manifest_digest.as_str())
    );

    let missing = fetch(
        &agent,
        &registry.url("/v2/testkit/app/manifests/no-such-tag"),
        Some(OCI_MANIFEST),
        None,
        None,
    )
    .unwrap();
    assert_eq!(missing.status, 404);
    assert!(String::from_utf8_lossy(&missing.body).contains("MANIFEST_UNKNOWN"));

    assert_eq!(registry.blob_requests(), Vec::<String>::new());
    let blob_url = registry.url(&format!("/v2/testkit/app/blobs/{}", image.layer_digest));
    let blob = fetch(&agent, &blob_url, None, None, None).unwrap();
    assert_eq!(blob.status, 200);
    assert_eq!(blob.body, image.layer);
    let stored = registry
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&image.layer_digest[7..9])
        .join(&image.layer_digest[7..])
        .join("data");
    assert_eq!(std::fs::read(&stored).unwrap(), image.layer);
    let blob_requests = registry.blob_requests();
    assert_eq!(blob_requests.len(), 1, "{blob_requests:?}");
    assert!(blob_requests[0].contains(&image.layer_digest));
}

#[test]
fn tls_registry_requires_credentials() {
    let started = Instant::now();
    let Some(registry) = Registry::start(RegistryOptions::tls_with_auth()) else {
        return;
    };
    eprintln!(
        "TLS registry answered GET /v2/ after {:?}",
        started.elapsed()
    );
    assert!(registry.url("/v2/").starts_with("https://127.0.0.1:"));
    let ca_pem = std::fs::read_to_string(registry.ca_pem_path().unwrap()).unwrap();
    assert!(ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(registry.cert_dir().unwrap().join("ca.crt").is_file());
    let (username, password) = registry.credentials().unwrap();
    let agent = registry.agent();
    let url = registry.url("/v2/");

    let anonymous = agent.get(&url).call().unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let challenge = anonymous
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(challenge.starts_with("Basic "), "{challenge}");

    let wrong = basic_auth(username, "wrong-password");
    let rejected = fetch(&agent, &url, None, Some(&wrong), None).unwrap();
    assert_eq!(rejected.status, 401);

    let right = registry.basic_auth().unwrap();
    let accepted = fetch(&agent, &url, None, Some(&right), None).unwrap();
    assert_eq!(accepted.status, 200);
    assert_ne!(password, "wrong-password");

    // A client without the test CA must fail the handshake.
    let untrusting = ureq::Agent::config_builder()
        .proxy(None)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[]))
                .build(),
        )
        .build()
        .new_agent();
    assert!(untrusting.get(&url).call().is_err());

    let work = tempfile::tempdir().unwrap();
    let image = small_image(work.path());
    let pushed = registry.push_layout(&image.layout, "latest", "private/app", "1.0");
    assert_eq!(pushed, image.manifest_digest);
    let manifest_url = registry.url("/v2/private/app/manifests/1.0");
    let anonymous_manifest = fetch(&agent, &manifest_url, Some(OCI_MANIFEST), None, None).unwrap();
    assert_eq!(anonymous_manifest.status, 401);
    let manifest = fetch(
        &agent,
        &manifest_url,
        Some(OCI_MANIFEST),
        Some(&right),
        None,
    )
    .unwrap();
    assert_eq!(manifest.status, 200);
    assert_eq!(sha256(&manifest.body), image.manifest_digest);

    // The access-log marker request gets a 401 here, which is logged too.
    assert_eq!(registry.blob_requests(), Vec::<String>::new());
    let blob_url = registry.url(&format!("/v2/private/app/blobs/{}", image.layer_digest));
    let blob = fetch(&agent, &blob_url, None, Some(&right), None).unwrap();
    assert_eq!(blob.body, image.layer);
    assert_eq!(registry.blob_requests().len(), 1);
}

#[test]
fn two_platform_index_pushes_both_images() {
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    let agent = registry.agent();
    let work = tempfile::tempdir().unwrap();
    let layout = two_platform_layout(work.path(), "multi");
    assert_ne!(
        layout.images[0].layer_digests[1],
        layout.images[1].layer_digests[1]
    );

    let pushed = registry.push_layout(&layout.path, layout.tag, "testkit/multi", "1.0");
    assert_eq!(pushed, layout.index_digest);

    let index = fetch(
        &agent,
        &registry.url("/v2/testkit/multi/manifests/1.0"),
        Some(OCI_INDEX),
        None,
        None,
    )
    .unwrap();
    assert_eq!(index.status, 200);
    assert_eq!(sha256(&index.body), layout.index_digest);
    let index: serde_json::Value = serde_json::from_slice(&index.body).unwrap();
    assert_eq!(index["mediaType"], OCI_INDEX);
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2);

    for (entry, image) in manifests.iter().zip(&layout.images) {
        assert_eq!(entry["platform"]["architecture"], image.architecture);
        assert_eq!(entry["platform"]["os"], "linux");
        assert_eq!(entry["digest"], image.manifest_digest.as_str());
        let manifest = fetch(
            &agent,
            &registry.url(&format!(
                "/v2/testkit/multi/manifests/{}",
                image.manifest_digest
            )),
            Some(OCI_MANIFEST),
            None,
            None,
        )
        .unwrap();
        assert_eq!(manifest.status, 200);
        for layer in &image.layer_digests {
            let blob = fetch(
                &agent,
                &registry.url(&format!("/v2/testkit/multi/blobs/{layer}")),
                None,
                None,
                None,
            )
            .unwrap();
            assert_eq!(blob.status, 200);
            assert_eq!(&sha256(&blob.body), layer);
        }
    }
}

#[test]
fn proxy_cuts_blob_and_serves_range() {
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let image = small_image(work.path());
    registry.push_layout(&image.layout, "latest", "testkit/app", "1.0");
    let proxy = FaultProxy::start(registry.host());
    let agent = registry.agent();
    let blob_path = format!("/v2/testkit/app/blobs/{}", image.layer_digest);
    assert!(image.layer.len() > 60_000);

    proxy.inject(&image.layer_digest, ProxyFault::CutBody { after: 1000 });
    let cut = fetch(&agent, &proxy.url(&blob_path), None, None, None);
    assert!(cut.is_err(), "a body cut after 1000 bytes was read whole");
    assert_eq!(proxy.pending_faults(), 0);

    let resumed = fetch(
        &agent,
        &proxy.url(&blob_path),
        None,
        None,
        Some("bytes=1000-"),
    )
    .unwrap();
    assert_eq!(resumed.status, 206);
    assert_eq!(resumed.body, image.layer[1000..]);

    let requests = proxy.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].fault, Some(ProxyFault::CutBody { after: 1000 }));
    assert_eq!(requests[0].range, None);
    assert_eq!(requests[1].range.as_deref(), Some("bytes=1000-"));
    assert_eq!(requests[1].status, Some(206));
    assert_eq!(proxy.count(&image.layer_digest), 2);
    assert_eq!(registry.blob_requests().len(), 2);
}

#[test]
fn proxy_corrupts_blob_and_replaces_manifest() {
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let image = small_image(work.path());
    registry.push_layout(&image.layout, "latest", "testkit/app", "1.0");
    let proxy = FaultProxy::start(registry.host());
    let agent = registry.agent();
    let blob_url = proxy.url(&format!("/v2/testkit/app/blobs/{}", image.layer_digest));
    let manifest_url = proxy.url("/v2/testkit/app/manifests/1.0");

    proxy.inject(&image.layer_digest, ProxyFault::CorruptByte { offset: 500 });
    let corrupt = fetch(&agent, &blob_url, None, None, None).unwrap();
    assert_eq!(corrupt.status, 200);
    assert_eq!(corrupt.body.len(), image.layer.len());
    assert_ne!(sha256(&corrupt.body), image.layer_digest);
    let changed: Vec<usize> = (0..image.layer.len())
        .filter(|&i| corrupt.body[i] != image.layer[i])
        .collect();
    assert_eq!(changed, vec![500]);

    let wrong_manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#;
    proxy.inject(
        "/manifests/1.0",
        ProxyFault::ReplaceBody(wrong_manifest.to_vec()),
    );
    let replaced = fetch(&agent, &manifest_url, Some(OCI_MANIFEST), None, None).unwrap();
    assert_eq!(replaced.status, 200);
    assert_eq!(replaced.body, wrong_manifest);
    assert_eq!(
        replaced.content_digest.as_deref(),
        Some(image.manifest_digest.as_str())
    );

    // Each fault applies once; the next responses are intact.
    let blob = fetch(&agent, &blob_url, None, None, None).unwrap();
    assert_eq!(sha256(&blob.body), image.layer_digest);
    let manifest = fetch(&agent, &manifest_url, Some(OCI_MANIFEST), None, None).unwrap();
    assert_eq!(sha256(&manifest.body), image.manifest_digest);
}

#[test]
fn corpus_image_pushes_to_registry() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let Some(registry) = Registry::start(RegistryOptions::http()) else {
        return;
    };
    let layout = corpus.join("images/debian-standard-python");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let tag = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
        .as_str()
        .unwrap();

    let started = Instant::now();
    let pushed = registry.push_layout(&layout, tag, "corpus/debian-standard-python", tag);
    eprintln!("pushed debian-standard-python in {:?}", started.elapsed());
    assert_eq!(pushed, digest);

    let manifest = fetch(
        &registry.agent(),
        &registry.url(&format!(
            "/v2/corpus/debian-standard-python/manifests/{tag}"
        )),
        Some(OCI_MANIFEST),
        None,
        None,
    )
    .unwrap();
    assert_eq!(manifest.status, 200);
    assert_eq!(sha256(&manifest.body), digest);
}

/// Serves one chunked response on a raw socket, as a server without
/// `Content-Length` would, and returns its `HOST:PORT`.
fn chunked_upstream(chunks: &'static [&'static [u8]]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim_end().is_empty() {
                    break;
                }
            }
            let mut response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for chunk in chunks {
                response.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                response.extend_from_slice(chunk);
                response.extend_from_slice(b"\r\n");
            }
            response.extend_from_slice(b"0\r\n\r\n");
            stream.write_all(&response).unwrap();
        }
    });
    host
}

#[test]
fn proxy_forwards_chunked_bodies() {
    let upstream = chunked_upstream(&[b"hello, ", b"chunked ", b"world"]);
    let proxy = FaultProxy::start(&upstream);
    let agent = ureq::Agent::config_builder()
        .proxy(None)
        .build()
        .new_agent();

    let intact = fetch(&agent, &proxy.url("/v2/chunked"), None, None, None).unwrap();
    assert_eq!(intact.body, b"hello, chunked world");

    proxy.inject("/v2/chunked", ProxyFault::CorruptByte { offset: 0 });
    let corrupt = fetch(&agent, &proxy.url("/v2/chunked"), None, None, None).unwrap();
    assert_eq!(corrupt.body, b"\x97ello, chunked world");

    proxy.inject("/v2/chunked", ProxyFault::CutBody { after: 5 });
    let cut = fetch(&agent, &proxy.url("/v2/chunked"), None, None, None);
    assert!(
        cut.is_err(),
        "a chunked body cut after 5 bytes was read whole"
    );
    assert_eq!(proxy.count("/v2/chunked"), 3);
}
