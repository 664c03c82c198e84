//! Builds real-format test images (OCI layouts, OCI and docker archives)
//! inside a temporary directory, so the tests need no fixture files, and
//! runs the loopback servers that pull tests talk to: a file server, a real
//! OCI registry, a fault-injecting proxy, and a fake Kubernetes API server
//! that serves recorded list responses. [`xml`] reads JUnit reports back
//! strictly.

pub mod apiserver;
pub mod http;
pub mod proxy;
pub mod registry;
pub mod xml;

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// One tar entry of a test layer.
pub enum Entry {
    File(&'static str, Vec<u8>),
    /// A regular file with mode 0755.
    Executable(&'static str, Vec<u8>),
    /// A regular file with the given mode (0o4755 for a setuid program).
    Mode(&'static str, Vec<u8>, u32),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    Hardlink(&'static str, &'static str),
    /// A raw path written without the tar crate's safety checks, for hostile names.
    RawFile(&'static str, Vec<u8>),
}

pub fn file(path: &'static str, content: &str) -> Entry {
    Entry::File(path, content.as_bytes().to_vec())
}

/// Writes a tar of `entries`.
pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_704_067_200);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            Entry::File(path, content)
            | Entry::Executable(path, content)
            | Entry::Mode(path, content, _) => {
                let mode = match entry {
                    Entry::Executable(..) => 0o755,
                    Entry::Mode(_, _, mode) => *mode,
                    _ => 0o644,
                };
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(mode);
                header.set_size(content.len() as u64);
                builder
                    .append_data(&mut header, path, content.as_slice())
                    .unwrap();
            }
            Entry::RawFile(path, content) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(content.len() as u64);
                let name = header.as_old_mut();
                name.name[..path.len()].copy_from_slice(path.as_bytes());
                header.set_cksum();
                builder.append(&header, content.as_slice()).unwrap();
            }
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
            Entry::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
            Entry::Hardlink(path, target) => {
                header.set_entry_type(tar::EntryType::Link);
                header.set_mode(0o644);
                header.set_size(0);
                let name = header.as_old_mut();
                name.linkname[..target.len()].copy_from_slice(target.as_bytes());
                header.set_cksum();
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The compression of a stored test layer.
#[derive(Clone, Copy)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A layer: its uncompressed tar and how it is stored.
pub struct TestLayer {
    pub tar: Vec<u8>,
    pub compression: Compression,
}

impl TestLayer {
    pub fn gzip(entries: &[Entry]) -> Self {
        TestLayer {
            tar: tar(entries),
            compression: Compression::Gzip,
        }
    }

    pub fn blob(&self) -> Vec<u8> {
        match self.compression {
            Compression::None => self.tar.clone(),
            Compression::Gzip => gzip(&self.tar),
            Compression::Zstd => zstd(&self.tar),
        }
    }

    pub fn media_type(&self) -> &'static str {
        match self.compression {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// Writes a blob into `layout/blobs/sha256/` and returns its descriptor.
pub fn write_blob(layout: &Path, media_type: &str, bytes: &[u8]) -> serde_json::Value {
    let digest = sha256(bytes);
    let dir = layout.join("blobs/sha256");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&digest[7..]), bytes).unwrap();
    serde_json::json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

/// Writes an image (config, layers, manifest) into a layout and returns the
/// manifest descriptor.
pub fn write_image(layout: &Path, layers: &[TestLayer], architecture: &str) -> serde_json::Value {
    write_image_with_config(
        layout,
        layers,
        architecture,
        serde_json::json!({"User": "65532", "Env": ["PATH=/usr/bin"]}),
    )
}

/// Writes an image whose config has the given runtime `config` object
/// (`User`, `Env`, `Cmd`) and returns the manifest descriptor.
pub fn write_image_with_config(
    layout: &Path,
    layers: &[TestLayer],
    architecture: &str,
    runtime: serde_json::Value,
) -> serde_json::Value {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(&l.tar)).collect();
    let config = serde_json::json!({
        "architecture": architecture,
        "os": "linux",
        "config": runtime,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config = write_blob(
        layout,
        "application/vnd.oci.image.config.v1+json",
        &serde_json::to_vec(&config).unwrap(),
    );
    let layer_descriptors: Vec<_> = layers
        .iter()
        .map(|l| write_blob(layout, l.media_type(), &l.blob()))
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": layer_descriptors,
    });
    write_blob(
        layout,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).unwrap(),
    )
}

/// Writes `index.json` and `oci-layout`.
pub fn write_index(layout: &Path, manifests: Vec<serde_json::Value>) {
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
}

/// Writes a one-image OCI layout tagged `latest` and returns its path.
pub fn oci_layout(dir: &Path, name: &str, layers: &[TestLayer]) -> PathBuf {
    let layout = dir.join(name);
    std::fs::create_dir_all(&layout).unwrap();
    let mut manifest = write_image(&layout, layers, "amd64");
    manifest["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "latest"});
    write_index(&layout, vec![manifest]);
    layout
}

/// Writes a one-image OCI layout tagged `latest` whose config has the
/// given runtime `config` object, and returns its path.
pub fn oci_layout_with_config(
    dir: &Path,
    name: &str,
    layers: &[TestLayer],
    runtime: serde_json::Value,
) -> PathBuf {
    let layout = dir.join(name);
    std::fs::create_dir_all(&layout).unwrap();
    let mut manifest = write_image_with_config(&layout, layers, "amd64", runtime);
    manifest["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "latest"});
    write_index(&layout, vec![manifest]);
    layout
}

/// One platform's image in a [`MultiPlatformLayout`].
pub struct PlatformImage {
    /// The OCI architecture (`amd64`, `arm64`); the OS is `linux`.
    pub architecture: &'static str,
    pub manifest_digest: String,
    /// The gzip layer blob digests, base layer first.
    pub layer_digests: Vec<String>,
    /// The dpkg package (name, version) that only this image contains.
    pub package: (&'static str, &'static str),
}

/// An OCI layout whose one tag names an image index of two images.
pub struct MultiPlatformLayout {
    pub path: PathBuf,
    /// The tag in `index.json`.
    pub tag: &'static str,
    pub index_digest: String,
    /// The images in index order: linux/amd64, then linux/arm64.
    pub images: Vec<PlatformImage>,
}

/// Writes an OCI layout tagged `latest` that names an image index with a
/// linux/amd64 and a linux/arm64 image, as multi-platform images on a
/// registry are. Both are Debian 12 (the same `/etc/os-release`), with a
/// dpkg status file that lists `base-files` and one package that the other
/// platform lacks, and an `/etc/platform` file that names the platform.
/// `skopeo copy --all` pushes the index and both images.
pub fn two_platform_layout(dir: &Path, name: &str) -> MultiPlatformLayout {
    const OS_RELEASE: &str = "\
PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
VERSION=\"12 (bookworm)\"
VERSION_CODENAME=bookworm
ID=debian
";
    let layout = dir.join(name);
    std::fs::create_dir_all(&layout).unwrap();
    let platforms = [
        ("amd64", ("zlib1g", "1:1.2.13.dfsg-1"), "zlib"),
        ("arm64", ("libssl3", "3.0.11-1~deb12u2"), "openssl"),
    ];
    let mut images = Vec::new();
    let mut descriptors = Vec::new();
    for (architecture, (package, version), source) in platforms {
        let status = format!(
            "Package: base-files\nStatus: install ok installed\nArchitecture: {architecture}\nVersion: 12.4+deb12u5\n\n\
             Package: {package}\nStatus: install ok installed\nArchitecture: {architecture}\nSource: {source}\nVersion: {version}\n\n"
        );
        let layers = [
            TestLayer::gzip(&[file("etc/os-release", OS_RELEASE)]),
            TestLayer::gzip(&[
                Entry::File("var/lib/dpkg/status", status.into_bytes()),
                Entry::File(
                    "etc/platform",
                    format!("linux/{architecture}\n").into_bytes(),
                ),
            ]),
        ];
        let mut descriptor = write_image(&layout, &layers, architecture);
        let layer_digests = layers.iter().map(|layer| sha256(&layer.blob())).collect();
        images.push(PlatformImage {
            architecture,
            manifest_digest: descriptor["digest"].as_str().unwrap().to_owned(),
            layer_digests,
            package: (package, version),
        });
        descriptor["platform"] = serde_json::json!({"architecture": architecture, "os": "linux"});
        descriptors.push(descriptor);
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": descriptors,
    });
    let mut index_descriptor = write_blob(
        &layout,
        "application/vnd.oci.image.index.v1+json",
        &serde_json::to_vec(&index).unwrap(),
    );
    let index_digest = index_descriptor["digest"].as_str().unwrap().to_owned();
    index_descriptor["annotations"] =
        serde_json::json!({"org.opencontainers.image.ref.name": "latest"});
    write_index(&layout, vec![index_descriptor]);
    MultiPlatformLayout {
        path: layout,
        tag: "latest",
        index_digest,
        images,
    }
}

/// Tars a directory tree (an OCI layout) into `archive`, as `tar -C dir -cf`.
pub fn tar_directory(dir: &Path, archive: &Path) {
    let mut builder = tar::Builder::new(std::fs::File::create(archive).unwrap());
    builder.append_dir_all(".", dir).unwrap();
    builder.finish().unwrap();
}

/// Writes a `docker save` archive with the given layer member names.
pub fn docker_archive(path: &Path, layers: &[TestLayer], docker25: bool) {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(&l.tar)).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_hex = sha256(&config)[7..].to_owned();
    let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, bytes).unwrap();
    };
    let config_name = if docker25 {
        format!("blobs/sha256/{config_hex}")
    } else {
        format!("{config_hex}.json")
    };
    add(&config_name, &config);
    let mut names = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
        let blob = layer.blob();
        let name = if docker25 {
            format!("blobs/sha256/{}", &sha256(&blob)[7..])
        } else {
            format!("layer{index}id/layer.tar")
        };
        add(&name, &blob);
        names.push(name);
    }
    let manifest = serde_json::json!([{"Config": config_name, "RepoTags": ["example/app:1.0"], "Layers": names}]);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    builder.finish().unwrap();
}

/// The OCI layouts of the shared image corpus, by folder name.
pub const CORPUS_IMAGES: [&str; 7] = [
    "alpine-3.10",
    "alpine-3.11",
    "alpine-3.16",
    "alpine-3.20",
    "debian-standard-python",
    "debian-minimal-python",
    "polyglot-app",
];

/// Returns the image corpus: `$RAMPART_CORPUS` if set, else
/// `../shared/corpus` beside the repository, if present. With
/// `RAMPART_REQUIRE_CORPUS` set (CI sets it), a missing corpus fails the
/// calling test instead of skipping it.
pub fn corpus_dir() -> Option<PathBuf> {
    let root = match std::env::var_os("RAMPART_CORPUS") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    if root.is_dir() {
        return Some(root);
    }
    assert!(
        std::env::var_os("RAMPART_REQUIRE_CORPUS").is_none(),
        "RAMPART_REQUIRE_CORPUS is set but {} does not exist",
        root.display()
    );
    eprintln!(
        "corpus not found at {}; corpus tier skipped",
        root.display()
    );
    None
}
