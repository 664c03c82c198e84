//! Image sources, layer squashing and bad input, on images built in the test.

use rampart_image::{
    Capture, FileKind, Image, ImageError, Limits, OpenOptions, SquashOptions, Squashed,
};
use rampart_testkit::*;

/// Keeps the content of every file.
fn capture_all(_: &str, _: u32) -> Capture {
    Capture::Content
}

fn open(reference: &str) -> Result<Image, ImageError> {
    Image::open(reference, &OpenOptions::default())
}

fn squash_with(reference: &str, limits: Limits) -> Result<Squashed, ImageError> {
    let image = Image::open(reference, &OpenOptions::default())?;
    image.squash(&SquashOptions {
        capture: &capture_all,
        limits,
        progress: None,
    })
}

fn squash(reference: &str) -> Result<Squashed, ImageError> {
    squash_with(reference, Limits::default())
}

fn text(squashed: &Squashed, path: &str) -> String {
    let data = squashed
        .fs
        .read(path)
        .unwrap()
        .unwrap_or_else(|| panic!("{path} missing"));
    String::from_utf8(data.content.to_vec()).unwrap()
}

fn base_layer() -> TestLayer {
    TestLayer::gzip(&[
        Entry::Dir("etc/"),
        file("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"),
        file("etc/hostname", "box\n"),
        Entry::Dir("usr/lib/"),
        file("usr/lib/libc.so", "elf"),
        Entry::Symlink("lib", "usr/lib"),
    ])
}

#[test]
fn oci_layout_gzip_layer() {
    let dir = tempfile::tempdir().unwrap();
    let layout = oci_layout(dir.path(), "img", &[base_layer()]);
    let reference = format!("oci-dir:{}", layout.display());
    let image = open(&reference).unwrap();
    assert_eq!(image.layers.len(), 1);
    assert_eq!(image.tags, ["latest"]);
    let squashed = squash(&reference).unwrap();
    assert_eq!(text(&squashed, "/etc/hostname"), "box\n");
    assert_eq!(text(&squashed, "/lib/libc.so"), "elf");
    assert_eq!(
        squashed.layers[0].diff_id.to_string(),
        sha256(&base_layer().tar)
    );
}

/// Keeps the first word of executables and nothing of other files.
fn first_word(_: &str, content: &[u8]) -> Option<Vec<u8>> {
    content.split(|b| *b == b' ').next().map(<[u8]>::to_vec)
}

#[test]
fn extractor_output_replaces_content() {
    let dir = tempfile::tempdir().unwrap();
    let layer = TestLayer::gzip(&[
        Entry::Executable("usr/bin/tool", b"ELF and more bytes".to_vec()),
        file("etc/notes", "plain text"),
    ]);
    let layout = oci_layout(dir.path(), "img", &[layer]);
    let image = open(&format!("oci-dir:{}", layout.display())).unwrap();
    let rule = |_: &str, mode: u32| {
        if mode & 0o111 != 0 {
            Capture::Extract(first_word)
        } else {
            Capture::Skip
        }
    };
    let squashed = image
        .squash(&SquashOptions {
            capture: &rule,
            limits: Limits::default(),
            progress: None,
        })
        .unwrap();
    assert_eq!(text(&squashed, "/usr/bin/tool"), "ELF");
    assert_eq!(squashed.fs.stat("/usr/bin/tool").unwrap().size, 18);
    assert!(squashed.fs.read("/etc/notes").is_err());
}

#[test]
fn plain_path_is_detected_as_layout() {
    let dir = tempfile::tempdir().unwrap();
    let layout = oci_layout(dir.path(), "img", &[base_layer()]);
    let image = open(layout.to_str().unwrap()).unwrap();
    assert_eq!(image.kind, rampart_image::SourceKind::OciDir);
}

#[test]
fn zstd_and_uncompressed_layers() {
    let dir = tempfile::tempdir().unwrap();
    let top = TestLayer {
        tar: tar(&[file("etc/zstd", "z")]),
        compression: Compression::Zstd,
    };
    let plain = TestLayer {
        tar: tar(&[file("etc/plain", "p")]),
        compression: Compression::None,
    };
    let layout = oci_layout(dir.path(), "img", &[base_layer(), top, plain]);
    let squashed = squash(&format!("oci-dir:{}", layout.display())).unwrap();
    assert_eq!(text(&squashed, "/etc/zstd"), "z");
    assert_eq!(text(&squashed, "/etc/plain"), "p");
    assert_eq!(squashed.fs.stat("/etc/plain").unwrap().layer, 2);
    assert_eq!(squashed.fs.stat("/etc/hostname").unwrap().layer, 0);
}

#[test]
fn whiteouts_and_opaque_directories() {
    let dir = tempfile::tempdir().unwrap();
    let lower = TestLayer::gzip(&[
        file("etc/keep", "k"),
        file("etc/gone", "g"),
        file("opt/app/old", "o"),
        file("var/log/apt/history.log", "h"),
    ]);
    let upper = TestLayer::gzip(&[
        // The layer's own entry comes before the opaque marker; it must survive.
        file("opt/app/new", "n"),
        file("opt/app/.wh..wh..opq", ""),
        file("etc/.wh.gone", ""),
        file("var/log/.wh.apt", ""),
    ]);
    let layout = oci_layout(dir.path(), "img", &[lower, upper]);
    let squashed = squash(&format!("oci-dir:{}", layout.display())).unwrap();
    let fs = &squashed.fs;
    assert!(fs.stat("/etc/keep").is_some());
    assert!(fs.stat("/etc/gone").is_none());
    assert!(fs.stat("/opt/app/old").is_none());
    assert_eq!(text(&squashed, "/opt/app/new"), "n");
    assert!(fs.stat("/var/log/apt").is_none());
    assert!(fs.stat("/var/log").is_some());
    let mut whiteouts = Vec::new();
    fs.walk(|info| {
        if info.path.rsplit('/').next().unwrap().starts_with(".wh.") {
            whiteouts.push(info.path.clone());
        }
    });
    assert!(whiteouts.is_empty(), "{whiteouts:?}");
}

/// An entry named `.wh..wh..opqX` is an ordinary whiteout for `.wh..opqX`,
/// not an opaque marker; whiteouts in the lowest layer are consumed.
#[test]
fn opaque_marker_matches_exact_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let lower = TestLayer::gzip(&[
        file("etc/hostname", "h"),
        file("etc/passwd", "p"),
        file("opt/.wh.leftover", ""),
    ]);
    let upper = TestLayer::gzip(&[file("etc/.wh..wh..opqX", "")]);
    let layout = oci_layout(dir.path(), "img", &[lower, upper]);
    let squashed = squash(&format!("oci-dir:{}", layout.display())).unwrap();
    for path in ["/etc", "/etc/passwd", "/etc/hostname"] {
        assert!(squashed.fs.stat(path).is_some(), "{path} missing");
    }
    assert!(squashed.fs.lstat("/etc/.wh..wh..opqX").is_none());
    assert!(squashed.fs.lstat("/opt/.wh.leftover").is_none());
}

#[test]
fn hard_links_share_content() {
    let dir = tempfile::tempdir().unwrap();
    let lower = TestLayer::gzip(&[file("usr/bin/python3.11", "py")]);
    let upper = TestLayer::gzip(&[
        Entry::Hardlink("usr/bin/python3", "usr/bin/python3.11"),
        Entry::Hardlink("usr/bin/dangling", "no/such/file"),
    ]);
    let layout = oci_layout(dir.path(), "img", &[lower, upper]);
    let squashed = squash(&format!("oci-dir:{}", layout.display())).unwrap();
    assert_eq!(text(&squashed, "/usr/bin/python3"), "py");
    assert_eq!(squashed.fs.stat("/usr/bin/python3").unwrap().layer, 1);
    assert_eq!(
        squashed.fs.stat("/usr/bin/dangling").unwrap().kind,
        FileKind::Regular
    );
}

#[test]
fn index_with_several_tags() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("multi");
    std::fs::create_dir_all(&layout).unwrap();
    let mut first = write_image(
        &layout,
        &[TestLayer::gzip(&[file("version", "1")])],
        "amd64",
    );
    first["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "1.0"});
    let mut second = write_image(
        &layout,
        &[TestLayer::gzip(&[file("version", "2")])],
        "amd64",
    );
    second["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "2.0"});
    write_index(&layout, vec![first, second]);

    let squashed = squash(&format!("oci-dir:{}:2.0", layout.display())).unwrap();
    assert_eq!(text(&squashed, "/version"), "2");

    let ambiguous = open(&format!("oci-dir:{}", layout.display()))
        .unwrap_err()
        .to_string();
    assert!(ambiguous.contains("add :TAG"), "{ambiguous}");
    assert!(
        ambiguous.contains("1.0") && ambiguous.contains("2.0"),
        "{ambiguous}"
    );

    let missing = open(&format!("oci-dir:{}:3.0", layout.display()))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("\"3.0\"") && missing.contains("1.0, 2.0"),
        "{missing}"
    );
}

#[test]
fn image_index_selects_platform() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("multiarch");
    std::fs::create_dir_all(&layout).unwrap();
    let mut amd64 = write_image(
        &layout,
        &[TestLayer::gzip(&[file("arch", "amd64")])],
        "amd64",
    );
    amd64["platform"] = serde_json::json!({"os": "linux", "architecture": "amd64"});
    let mut arm64 = write_image(
        &layout,
        &[TestLayer::gzip(&[file("arch", "arm64")])],
        "arm64",
    );
    arm64["platform"] =
        serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"});
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [amd64, arm64]});
    let mut descriptor = write_blob(
        &layout,
        "application/vnd.oci.image.index.v1+json",
        &serde_json::to_vec(&index).unwrap(),
    );
    descriptor["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "latest"});
    write_index(&layout, vec![descriptor]);

    let reference = format!("oci-dir:{}", layout.display());
    for (platform, expected) in [
        ("linux/arm64", "arm64"),
        ("linux/amd64", "amd64"),
        ("linux/arm64/v8", "arm64"),
    ] {
        let options = OpenOptions {
            platform: Some(platform.parse().unwrap()),
            limits: Limits::default(),
            ..OpenOptions::default()
        };
        let image = Image::open(&reference, &options).unwrap();
        let squashed = image
            .squash(&SquashOptions {
                capture: &capture_all,
                limits: Limits::default(),
                progress: None,
            })
            .unwrap();
        assert_eq!(text(&squashed, "/arch"), expected, "{platform}");
    }
    let options = OpenOptions {
        platform: Some("linux/s390x".parse().unwrap()),
        limits: Limits::default(),
        ..OpenOptions::default()
    };
    let error = Image::open(&reference, &options).unwrap_err().to_string();
    assert!(
        error.contains("linux/s390x") && error.contains("linux/arm64/v8"),
        "{error}"
    );
}

#[test]
fn oci_archive_reads_like_layout() {
    let dir = tempfile::tempdir().unwrap();
    let layout = oci_layout(dir.path(), "img", &[base_layer()]);
    let archive = dir.path().join("img.tar");
    tar_directory(&layout, &archive);
    let squashed = squash(&format!("oci-archive:{}", archive.display())).unwrap();
    assert_eq!(text(&squashed, "/etc/hostname"), "box\n");
    assert_eq!(
        open(archive.to_str().unwrap()).unwrap().kind,
        rampart_image::SourceKind::OciArchive
    );
}

#[test]
fn docker_archive_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    for docker25 in [false, true] {
        let archive = dir.path().join(format!("docker-{docker25}.tar"));
        let layers = [
            TestLayer {
                tar: tar(&[file("etc/os-release", "ID=debian\n")]),
                compression: Compression::None,
            },
            TestLayer {
                tar: tar(&[file("etc/app", "a")]),
                compression: Compression::None,
            },
        ];
        docker_archive(&archive, &layers, docker25);
        let image = open(archive.to_str().unwrap()).unwrap();
        assert_eq!(image.kind, rampart_image::SourceKind::DockerArchive);
        assert_eq!(image.tags, ["example/app:1.0"]);
        let squashed = squash(&format!("docker-archive:{}", archive.display())).unwrap();
        assert_eq!(text(&squashed, "/etc/app"), "a");
        assert_eq!(squashed.fs.stat("/etc/app").unwrap().layer, 1);
        assert!(open(&format!("docker-archive:{}:1.0", archive.display())).is_ok());
        assert!(
            open(&format!(
                "docker-archive:{}:example/app:1.0",
                archive.display()
            ))
            .is_ok()
        );
        assert!(open(&format!("docker-archive:{}:2.0", archive.display())).is_err());
    }
}

#[test]
fn rootfs_tarball_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = dir.path().join("rootfs.tar.gz");
    std::fs::write(
        &tarball,
        gzip(&tar(&[
            file("etc/os-release", "ID=alpine\n"),
            Entry::Symlink("etc/link", "os-release"),
        ])),
    )
    .unwrap();
    let squashed = squash(tarball.to_str().unwrap()).unwrap();
    assert_eq!(text(&squashed, "/etc/link"), "ID=alpine\n");

    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=debian\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("etc/hostlink")).unwrap();
    let squashed = squash(&format!("dir:{}", root.display())).unwrap();
    assert_eq!(text(&squashed, "/etc/os-release"), "ID=debian\n");
    // The link resolves inside the root, never onto the host's /etc/passwd.
    assert!(squashed.fs.read("/etc/hostlink").unwrap().is_none());
}

#[test]
fn digest_mismatch_names_blob() {
    let dir = tempfile::tempdir().unwrap();
    let layout = oci_layout(dir.path(), "img", &[base_layer()]);
    let manifest: serde_json::Value = {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let digest = index["manifests"][0]["digest"].as_str().unwrap()[7..].to_owned();
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(digest)).unwrap())
            .unwrap()
    };
    let layer_digest = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    let blob_path = layout.join("blobs/sha256").join(&layer_digest[7..]);
    let mut bytes = std::fs::read(&blob_path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&blob_path, &bytes).unwrap();

    let error = squash(&format!("oci-dir:{}", layout.display())).unwrap_err();
    assert!(
        matches!(error, ImageError::DigestMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&layer_digest), "{error}");
}

#[test]
fn truncated_layer_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("img");
    std::fs::create_dir_all(&layout).unwrap();
    let layer = TestLayer::gzip(&[
        file("etc/big", &"x".repeat(100_000)),
        file("etc/after", "a"),
    ]);
    let mut blob = layer.blob();
    blob.truncate(blob.len() / 2);
    let diff_id = sha256(&layer.tar);
    let config = serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}});
    let config = write_blob(
        &layout,
        "application/vnd.oci.image.config.v1+json",
        &serde_json::to_vec(&config).unwrap(),
    );
    let layer_descriptor = write_blob(
        &layout,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        &blob,
    );
    let manifest = serde_json::json!({"schemaVersion": 2, "config": config, "layers": [layer_descriptor.clone()]});
    let manifest = write_blob(
        &layout,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    write_index(&layout, vec![manifest]);

    let error = squash(&format!("oci-dir:{}", layout.display())).unwrap_err();
    assert!(matches!(error, ImageError::CorruptLayer { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains(layer_descriptor["digest"].as_str().unwrap()),
        "{error}"
    );
}

#[test]
fn missing_blob_names_digest() {
    let dir = tempfile::tempdir().unwrap();
    let second = TestLayer::gzip(&[file("etc/second", "2")]);
    let second_digest = sha256(&second.blob());
    let layout = oci_layout(dir.path(), "img", &[base_layer(), second]);
    std::fs::remove_file(layout.join("blobs/sha256").join(&second_digest[7..])).unwrap();
    let error = squash(&format!("oci-dir:{}", layout.display())).unwrap_err();
    assert!(matches!(error, ImageError::MissingBlob { .. }), "{error}");
    assert!(error.to_string().contains(&second_digest), "{error}");
}

#[test]
fn not_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello").unwrap();
    let error = open(path.to_str().unwrap()).unwrap_err();
    assert!(matches!(error, ImageError::NotAnImage { .. }), "{error}");
    let error = open(&format!("oci-dir:{}", dir.path().display())).unwrap_err();
    assert!(error.to_string().contains("index.json"), "{error}");
}

#[test]
fn escaping_entries_are_rejected() {
    let cases: [(&str, Vec<Entry>); 3] = [
        (
            "dotdot",
            vec![Entry::RawFile(
                "../../../../rampart-escape-dotdot",
                b"x".to_vec(),
            )],
        ),
        (
            "absolute",
            vec![Entry::RawFile("/rampart-escape-absolute", b"x".to_vec())],
        ),
        (
            "hardlink",
            vec![Entry::Hardlink("etc/passwd-copy", "../../../../etc/passwd")],
        ),
    ];
    for (name, entries) in cases {
        let dir = tempfile::tempdir().unwrap();
        let layout = oci_layout(dir.path(), name, &[TestLayer::gzip(&entries)]);
        let error = squash(&format!("oci-dir:{}", layout.display())).unwrap_err();
        assert!(
            matches!(error, ImageError::EscapingEntry { .. }),
            "{name}: {error}"
        );
        assert!(error.to_string().contains("sha256:"), "{name}: {error}");
    }
}

#[test]
fn write_through_escaping_symlink_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let lower = TestLayer::gzip(&[Entry::Symlink("etc", "../../../../..")]);
    let upper = TestLayer::gzip(&[file("etc/rampart-escape-symlink", "x")]);
    let layout = oci_layout(dir.path(), "img", &[lower, upper]);
    let error = squash(&format!("oci-dir:{}", layout.display())).unwrap_err();
    assert!(matches!(error, ImageError::EscapingEntry { .. }), "{error}");
    assert!(
        error.to_string().contains("etc/rampart-escape-symlink"),
        "{error}"
    );
}

#[test]
fn expansion_limits() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 4 << 20];
    let layout = oci_layout(
        dir.path(),
        "bomb",
        &[TestLayer::gzip(&[Entry::File("zeros", zeros)])],
    );
    let reference = format!("oci-dir:{}", layout.display());
    let limits = Limits {
        max_expansion_ratio: 50,
        ratio_check_after: 1 << 20,
        ..Limits::default()
    };
    let error = squash_with(&reference, limits).unwrap_err();
    assert!(matches!(error, ImageError::LimitExceeded { .. }), "{error}");
    assert!(error.to_string().contains("decompression bomb"), "{error}");

    let limits = Limits {
        max_layer_bytes: 1 << 20,
        ..Limits::default()
    };
    let error = squash_with(&reference, limits).unwrap_err();
    assert!(error.to_string().contains("--max-layer-size"), "{error}");

    assert!(squash(&reference).is_ok());
}

#[test]
fn entry_count_limit() {
    let dir = tempfile::tempdir().unwrap();
    let entries: Vec<Entry> = (0..50).map(|_| file("many/file", "")).collect();
    let layout = oci_layout(dir.path(), "many", &[TestLayer::gzip(&entries)]);
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let error = squash_with(&format!("oci-dir:{}", layout.display()), limits).unwrap_err();
    assert!(
        error.to_string().contains("more than 10 tar entries"),
        "{error}"
    );
}

#[test]
fn diff_id_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("img");
    std::fs::create_dir_all(&layout).unwrap();
    let layer = TestLayer::gzip(&[file("etc/a", "a")]);
    let wrong = sha256(b"another tar");
    let config = serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [wrong]}});
    let config = write_blob(
        &layout,
        "application/vnd.oci.image.config.v1+json",
        &serde_json::to_vec(&config).unwrap(),
    );
    let layer_descriptor = write_blob(&layout, layer.media_type(), &layer.blob());
    let manifest =
        serde_json::json!({"schemaVersion": 2, "config": config, "layers": [layer_descriptor]});
    let manifest = write_blob(
        &layout,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    write_index(&layout, vec![manifest]);
    let reference = format!("oci-dir:{}", layout.display());

    // The blob digest proves the content, so by default the config's
    // diff_id is taken as stated.
    let squashed = squash(&reference).unwrap();
    assert_eq!(squashed.layers[0].diff_id.to_string(), wrong);

    let strict = Limits {
        verify_diff_ids: true,
        ..Limits::default()
    };
    let error = squash_with(&reference, strict).unwrap_err();
    assert!(
        matches!(error, ImageError::DiffIdMismatch { .. }),
        "{error}"
    );
}

#[test]
fn uncompressed_layer_diff_id_always_checked() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("docker.tar");
    let layer = TestLayer {
        tar: tar(&[file("etc/a", "a")]),
        compression: Compression::None,
    };
    docker_archive(&archive, &[layer], false);
    let squashed = squash(&format!("docker-archive:{}", archive.display())).unwrap();
    assert_eq!(
        squashed.layers[0].diff_id.to_string(),
        sha256(&tar(&[file("etc/a", "a")]))
    );
}

#[test]
fn plain_path_with_tag() {
    let dir = tempfile::tempdir().unwrap();
    let layout = oci_layout(dir.path(), "img", &[base_layer()]);
    let image = open(&format!("{}:latest", layout.display())).unwrap();
    assert_eq!(image.tags, ["latest"]);
    let error = open(&format!("{}:other", layout.display())).unwrap_err();
    assert!(error.to_string().contains("\"other\""), "{error}");
}

#[test]
fn short_blob_reports_size() {
    let dir = tempfile::tempdir().unwrap();
    let layer = TestLayer::gzip(&[file("etc/big", &"y".repeat(200_000))]);
    let blob_digest = sha256(&layer.blob());
    let layout = oci_layout(dir.path(), "img", &[layer]);
    let blob_path = layout.join("blobs/sha256").join(&blob_digest[7..]);
    let bytes = std::fs::read(&blob_path).unwrap();
    std::fs::write(&blob_path, &bytes[..bytes.len() / 2]).unwrap();
    let error = squash(&format!("oci-dir:{}", layout.display())).unwrap_err();
    assert!(matches!(error, ImageError::SizeMismatch { .. }), "{error}");
    assert!(error.to_string().contains(&blob_digest), "{error}");
}
