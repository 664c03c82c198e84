//! Image sources, named as Syft and skopeo name them:
//!
//! | reference | what it reads |
//! |---|---|
//! | `oci-dir:PATH[:TAG]` (also `oci:`) | an OCI image layout directory |
//! | `oci-archive:FILE[:TAG]` | a tar of an OCI image layout |
//! | `docker-archive:FILE[:REF]` | `docker save` / `skopeo copy docker-archive:` output |
//! | `dir:PATH` | an unpacked root filesystem |
//! | `rootfs:FILE` | a root filesystem tarball (plain, gzip or zstd) |
//! | `registry:REF` | an image in an OCI registry (`[HOST[:PORT]/]PATH[:TAG][@DIGEST]`) |
//! | a plain path | detected from its content |
//! | a reference that is no local path | an image in an OCI registry |

mod archive;
mod docker;
mod oci;
pub mod registry;
pub(crate) mod rootfs;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::limits::Limits;

pub(crate) use archive::TarIndex;

/// Maximum size of a manifest, index or config blob. Real ones are a few KiB;
/// large configs with long histories stay well under this.
pub(crate) const MAX_METADATA_BLOB: u64 = 8 << 20;

/// The kind of image source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    OciDir,
    OciArchive,
    DockerArchive,
    Dir,
    RootfsTarball,
    Registry,
}

impl SourceKind {
    /// The reference prefix users type.
    pub fn scheme(self) -> &'static str {
        match self {
            SourceKind::OciDir => "oci-dir",
            SourceKind::OciArchive => "oci-archive",
            SourceKind::DockerArchive => "docker-archive",
            SourceKind::Dir => "dir",
            SourceKind::RootfsTarball => "rootfs",
            SourceKind::Registry => "registry",
        }
    }
}

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReference {
    /// The reference as the user typed it.
    pub text: String,
    /// `None` when the kind is detected from the path's content.
    pub kind: Option<SourceKind>,
    pub path: PathBuf,
    /// The tag (OCI `org.opencontainers.image.ref.name`) or docker-archive
    /// repository tag to select.
    pub tag: Option<String>,
}

impl ImageReference {
    /// Parses `SCHEME:PATH[:TAG]` or a plain path.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |reason: &str| ImageError::InvalidReference {
            image: text.to_owned(),
            reason: reason.to_owned(),
        };
        let schemes = [
            ("oci-dir:", SourceKind::OciDir),
            ("oci:", SourceKind::OciDir),
            ("oci-archive:", SourceKind::OciArchive),
            ("docker-archive:", SourceKind::DockerArchive),
            ("dir:", SourceKind::Dir),
            ("rootfs:", SourceKind::RootfsTarball),
        ];
        for (prefix, kind) in schemes {
            if let Some(rest) = text.strip_prefix(prefix) {
                if rest.is_empty() {
                    return Err(invalid("the path after the scheme is empty"));
                }
                let (path, tag) = match kind {
                    SourceKind::Dir | SourceKind::RootfsTarball => (rest.to_owned(), None),
                    _ => split_tag(rest),
                };
                return Ok(ImageReference {
                    text: text.to_owned(),
                    kind: Some(kind),
                    path: PathBuf::from(path),
                    tag,
                });
            }
        }
        if let Some(scheme) = ["docker:", "docker-daemon:", "podman:", "containerd:"]
            .into_iter()
            .find(|scheme| text.starts_with(scheme))
        {
            return Err(ImageError::Unsupported {
                image: text.to_owned(),
                what: "image source".to_owned(),
                value: format!(
                    "{scheme} (rampart does not talk to container engines; pull from the registry with registry:REF, or save the image with `docker save` and pass docker-archive:FILE)"
                ),
            });
        }
        // A plain `PATH:TAG` selects a tag only when `PATH` exists, so a
        // missing `alpine:3.20` is reported under its full name.
        let (path, tag) = split_existing_prefix(text).unwrap_or_else(|| (text.to_owned(), None));
        Ok(ImageReference {
            text: text.to_owned(),
            kind: None,
            path: PathBuf::from(path),
            tag,
        })
    }
}

/// Splits `PATH:TAG`: the tag starts after the first colon whose prefix is an
/// existing path, so both paths and docker-archive references
/// (`REPO:TAG` with slashes) may contain colons.
fn split_tag(rest: &str) -> (String, Option<String>) {
    if let Some(split) = split_existing_prefix(rest) {
        return split;
    }
    match rest.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') && !path.is_empty() => {
            (path.to_owned(), Some(tag.to_owned()))
        }
        _ => (rest.to_owned(), None),
    }
}

/// Splits `rest` at the first colon whose prefix is an existing path, or
/// returns it whole when it exists itself; `None` when neither exists.
fn split_existing_prefix(rest: &str) -> Option<(String, Option<String>)> {
    if Path::new(rest).exists() {
        return Some((rest.to_owned(), None));
    }
    rest.match_indices(':').find_map(|(position, _)| {
        let (path, tag) = (&rest[..position], &rest[position + 1..]);
        (!path.is_empty() && !tag.is_empty() && Path::new(path).exists())
            .then(|| (path.to_owned(), Some(tag.to_owned())))
    })
}

/// An OS/architecture pair as OCI image indexes list them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// The platform rampart runs on, in Go's GOOS/GOARCH terms.
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            "arm" => "arm",
            other => other,
        };
        Platform {
            os: "linux".to_owned(),
            architecture: architecture.to_owned(),
            variant: None,
        }
    }

    /// Whether an image built for `candidate` satisfies this request. A request
    /// without a variant accepts any variant.
    pub fn matches(&self, candidate: &Platform) -> bool {
        self.os == candidate.os
            && self.architecture == candidate.architecture
            && (self.variant.is_none() || self.variant == candidate.variant)
    }
}

/// Maps architecture names that `uname -m` prints to the GOARCH names OCI uses.
fn normalize_architecture(name: &str) -> &str {
    match name {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        other => other,
    }
}

impl std::str::FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('/').map(normalize_architecture).collect();
        match parts.as_slice() {
            [os, architecture] if !os.is_empty() && !architecture.is_empty() => Ok(Platform {
                os: (*os).to_owned(),
                architecture: (*architecture).to_owned(),
                variant: None,
            }),
            [os, architecture, variant]
                if !os.is_empty() && !architecture.is_empty() && !variant.is_empty() =>
            {
                Ok(Platform {
                    os: (*os).to_owned(),
                    architecture: (*architecture).to_owned(),
                    variant: Some((*variant).to_owned()),
                })
            }
            _ => Err(format!(
                "invalid platform {text:?}: expected OS/ARCH or OS/ARCH/VARIANT, for example linux/amd64"
            )),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// The parts of the OCI image configuration that rampart reports.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RuntimeConfig>,
    #[serde(default)]
    pub rootfs: RootFs,
}

/// The `config` object of an image configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
}

/// The `rootfs` object of an image configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

/// The location of a layer's blob in its store.
#[derive(Clone, Debug)]
pub(crate) enum BlobKey {
    Digest(Digest),
    Member(String),
}

/// One layer as the manifest describes it.
#[derive(Clone, Debug, Serialize)]
pub struct Layer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Digest of the stored blob (compressed or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Digest of the uncompressed tar, from the image configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<Digest>,
    #[serde(skip)]
    pub(crate) key: BlobKey,
}

impl Layer {
    /// The digest that names this layer in messages: the blob digest, else the diff_id.
    pub fn display_digest(&self) -> Option<&Digest> {
        self.digest.as_ref().or(self.diff_id.as_ref())
    }
}

/// The storage that contains an image's blobs.
pub(crate) enum Store {
    Directory(PathBuf),
    Archive(TarIndex),
    /// A root filesystem directory: no blobs.
    RootDirectory(PathBuf),
    /// A root filesystem tarball: the file itself is the one layer.
    RootTarball(PathBuf),
    /// An OCI registry, through the blob cache.
    Registry(std::sync::Arc<registry::Remote>),
}

impl Store {
    /// Opens a blob; `Ok(None)` when it does not exist.
    pub(crate) fn open(&self, key: &BlobKey, image: &str) -> Result<Option<Box<dyn Read + Send>>> {
        match (self, key) {
            (Store::Directory(root), BlobKey::Digest(digest)) => oci::open_dir_blob(root, digest),
            (Store::Archive(index), BlobKey::Digest(digest)) => index
                .open_member(&format!("blobs/sha256/{}", digest.hex()))
                .map_err(|e| ImageError::io(image, e)),
            (Store::Archive(index), BlobKey::Member(name)) => index
                .open_member(name)
                .map_err(|e| ImageError::io(image, e)),
            (Store::Registry(remote), key) => Store::open_registry_blob(remote, key, image),
            (Store::RootTarball(path), _) => {
                let file = std::fs::File::open(path).map_err(|e| ImageError::io(path, e))?;
                Ok(Some(Box::new(file)))
            }
            _ => Ok(None),
        }
    }
}

/// An opened image: its identity, configuration and layers. Layers are read
/// by [`Image::squash`](crate::squash).
pub struct Image {
    /// The reference as the user typed it.
    pub reference: String,
    pub kind: SourceKind,
    /// Digest of the image manifest, where the source has one.
    pub manifest_digest: Option<Digest>,
    /// Digest of the image configuration (the image ID).
    pub config_digest: Option<Digest>,
    /// Tags naming this image in the source.
    pub tags: Vec<String>,
    pub config: Option<ImageConfig>,
    pub layers: Vec<Layer>,
    pub(crate) store: Store,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("reference", &self.reference)
            .field("kind", &self.kind)
            .field("manifest_digest", &self.manifest_digest)
            .field("config_digest", &self.config_digest)
            .field("layers", &self.layers.len())
            .finish()
    }
}

/// Options for opening an image.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// The platform to select from a multi-platform index; the host's when unset.
    pub platform: Option<Platform>,
    pub limits: Limits,
    /// Settings for reaching registries, for registry references.
    pub registry: registry::RegistryOptions,
}

impl Image {
    /// Opens the image named by `reference`, reading only its metadata.
    pub fn open(reference: &str, options: &OpenOptions) -> Result<Image> {
        if let Some(rest) = reference.strip_prefix("registry:") {
            let parsed = registry::RegistryReference::parse(rest).map_err(|reason| {
                ImageError::InvalidReference {
                    image: reference.to_owned(),
                    reason,
                }
            })?;
            return registry::open_image(reference, parsed, options);
        }
        let parsed = ImageReference::parse(reference)?;
        if parsed.kind.is_none()
            && !parsed.path.exists()
            && let Some(remote) = bare_registry_reference(reference)
        {
            return registry::open_image(reference, remote, options);
        }
        let kind = match parsed.kind {
            Some(kind) => kind,
            None => detect_kind(&parsed.path, reference)?,
        };
        if !parsed.path.exists() {
            let missing =
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory");
            return Err(ImageError::io(&parsed.path, missing));
        }
        tracing::debug!(reference, kind = kind.scheme(), "opening image");
        match kind {
            SourceKind::OciDir => oci::open_layout(
                &parsed,
                Store::Directory(parsed.path.clone()),
                kind,
                options,
            ),
            SourceKind::OciArchive => {
                let index = TarIndex::open(&parsed.path, reference)?;
                oci::open_layout(&parsed, Store::Archive(index), kind, options)
            }
            SourceKind::DockerArchive => docker::open_archive(&parsed, options),
            SourceKind::Dir => rootfs::open_directory(&parsed),
            SourceKind::RootfsTarball => rootfs::open_tarball(&parsed),
            SourceKind::Registry => unreachable!("registry references are opened above"),
        }
    }

    /// The diff_ids of the layers, bottom first, where known before reading.
    pub fn diff_ids(&self) -> Vec<Option<Digest>> {
        self.layers
            .iter()
            .map(|layer| layer.diff_id.clone())
            .collect()
    }
}

/// Reads a plain reference that names no local path as a registry
/// reference (`alpine:3.20`, `ghcr.io/org/app@sha256:…`), as Docker does.
/// Text that looks like a path (`./x`, `/x`, `~/x`, `x/`) stays a path, so
/// a mistyped path is reported as missing instead of pulled.
fn bare_registry_reference(text: &str) -> Option<registry::RegistryReference> {
    if text.starts_with(['/', '.', '~']) || text.ends_with('/') || text.contains('\\') {
        return None;
    }
    registry::RegistryReference::parse(text).ok()
}

/// Works out what a plain path holds.
fn detect_kind(path: &Path, reference: &str) -> Result<SourceKind> {
    let metadata = std::fs::metadata(path).map_err(|e| ImageError::io(path, e))?;
    if metadata.is_dir() {
        let is_layout = path.join("oci-layout").is_file() || path.join("index.json").is_file();
        return Ok(if is_layout {
            SourceKind::OciDir
        } else {
            SourceKind::Dir
        });
    }

    match sniff(path)? {
        FileFormat::Gzip | FileFormat::Zstd => return Ok(SourceKind::RootfsTarball),
        FileFormat::Tar => {}
        FileFormat::Other => {
            return Err(ImageError::NotAnImage {
                image: reference.to_owned(),
                reason: "expected an OCI layout directory, a docker-archive or oci-archive tar, or a root filesystem directory or tarball".to_owned(),
            });
        }
    }
    let index = TarIndex::open(path, reference)?;
    Ok(if index.contains("manifest.json") {
        SourceKind::DockerArchive
    } else if index.contains("index.json") && index.contains("oci-layout") {
        SourceKind::OciArchive
    } else {
        SourceKind::RootfsTarball
    })
}

/// The format of a file, recognised from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileFormat {
    Gzip,
    Zstd,
    Tar,
    Other,
}

impl FileFormat {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FileFormat::Gzip => "gzip",
            FileFormat::Zstd => "zstd",
            FileFormat::Tar => "tar",
            FileFormat::Other => "unknown",
        }
    }
}

/// Reads the first 512 bytes of `path` and recognises gzip, zstd and tar
/// (the `ustar` magic of POSIX and GNU headers).
pub(crate) fn sniff(path: &Path) -> Result<FileFormat> {
    let mut head = [0u8; 512];
    let mut file = std::fs::File::open(path).map_err(|e| ImageError::io(path, e))?;
    let read = read_up_to(&mut file, &mut head).map_err(|e| ImageError::io(path, e))?;
    let head = &head[..read];
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        FileFormat::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        FileFormat::Zstd
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        FileFormat::Tar
    } else {
        FileFormat::Other
    })
}

fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..])? {
            0 => break,
            count => filled += count,
        }
    }
    Ok(filled)
}

/// Checks an explicit `--platform` request against the image configuration.
/// A configuration without a variant satisfies any requested variant.
pub(crate) fn check_platform(
    config: &ImageConfig,
    options: &OpenOptions,
    image: &str,
) -> Result<()> {
    let Some(requested) = &options.platform else {
        return Ok(());
    };
    let actual = Platform {
        os: config.os.clone(),
        architecture: config.architecture.clone(),
        variant: config.variant.clone(),
    };
    let comparable = Platform {
        variant: actual.variant.clone().or_else(|| requested.variant.clone()),
        ..actual.clone()
    };
    if requested.matches(&comparable) {
        return Ok(());
    }
    Err(ImageError::NoMatchingImage {
        image: image.to_owned(),
        requested: format!("platform {requested}"),
        available: actual.to_string(),
    })
}

/// Parses a JSON metadata blob, naming the blob in the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    image: &str,
    what: &str,
) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| ImageError::InvalidMetadata {
        image: image.to_owned(),
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_with_tag() {
        let reference = ImageReference::parse("oci-dir:/no/such/layout:3.10.9").unwrap();
        assert_eq!(reference.kind, Some(SourceKind::OciDir));
        assert_eq!(reference.path, PathBuf::from("/no/such/layout"));
        assert_eq!(reference.tag.as_deref(), Some("3.10.9"));
    }

    #[test]
    fn reference_without_tag() {
        let reference = ImageReference::parse("docker-archive:/tmp/x/image.tar").unwrap();
        assert_eq!(reference.kind, Some(SourceKind::DockerArchive));
        assert_eq!(reference.tag, None);
        let plain = ImageReference::parse("some/path").unwrap();
        assert_eq!(plain.kind, None);
    }

    #[test]
    fn engine_references_are_unsupported() {
        for reference in [
            "docker-daemon:alpine:3.20",
            "podman:alpine",
            "containerd:alpine",
        ] {
            assert!(
                matches!(
                    ImageReference::parse(reference),
                    Err(ImageError::Unsupported { .. })
                ),
                "{reference}"
            );
        }
    }

    #[test]
    fn bare_references_and_paths() {
        assert!(bare_registry_reference("alpine:3.20").is_some());
        assert!(bare_registry_reference("127.0.0.1:5000/app@sha256:6d576bbb6a58a9975515631b6750ad082c9a2479c4490e4e2b31bda4417c2a55").is_some());
        for path in [
            "./image",
            "/srv/image",
            "~/image",
            "images/",
            "..",
            "My Image",
        ] {
            assert!(bare_registry_reference(path).is_none(), "{path}");
        }
    }

    #[test]
    fn platform_parse_and_match() {
        let requested: Platform = "linux/arm64".parse().unwrap();
        let candidate = Platform {
            os: "linux".into(),
            architecture: "arm64".into(),
            variant: Some("v8".into()),
        };
        assert!(requested.matches(&candidate));
        assert!(
            !"linux/amd64"
                .parse::<Platform>()
                .unwrap()
                .matches(&candidate)
        );
        assert!("linux".parse::<Platform>().is_err());
    }
}
