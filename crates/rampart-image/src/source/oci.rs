//! OCI image layouts (image-spec v1.1 "OCI Image Layout"), as a directory or
//! as a tar of one: `oci-layout`, `index.json` and `blobs/<alg>/<hex>`.
//!
//! `index.json` may list several images, distinguished by the
//! `org.opencontainers.image.ref.name` annotation, and any entry may itself be
//! an image index (or a Docker manifest list) whose entries carry platforms.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    BlobKey, Image, ImageConfig, ImageReference, Layer, MAX_METADATA_BLOB, OpenOptions, Platform,
    SourceKind, Store, parse_json,
};
use crate::digest::Digest;
use crate::error::{ImageError, Result};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1";

/// Nested image indexes followed at most.
const MAX_INDEX_DEPTH: usize = 4;

/// Entries of one index considered at most.
pub(crate) const MAX_INDEX_ENTRIES: usize = 10_000;

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub media_type: Option<String>,
    pub digest: Digest,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

impl Descriptor {
    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Index {
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    #[serde(default)]
    pub schema_version: Option<u32>,
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// An image manifest found while walking the index, with how it was named.
pub(crate) struct Candidate {
    pub descriptor: Descriptor,
    pub name: Option<String>,
    pub platform: Option<Platform>,
}

/// Opens a blob in a layout directory. A blob that is a symbolic link is
/// followed only when it stays inside the layout.
pub(crate) fn open_dir_blob(root: &Path, digest: &Digest) -> Result<Option<Box<dyn Read + Send>>> {
    let path = blob_path(root, digest);
    let metadata = match std::fs::symlink_metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(ImageError::io(&path, error)),
    };
    if metadata.file_type().is_symlink() {
        let real = std::fs::canonicalize(&path).map_err(|e| ImageError::io(&path, e))?;
        let real_root = std::fs::canonicalize(root).map_err(|e| ImageError::io(root, e))?;
        if !real.starts_with(&real_root) {
            return Err(ImageError::NotAnImage {
                image: root.display().to_string(),
                reason: format!("blob {digest} is a symbolic link that leaves the layout"),
            });
        }
    } else if !metadata.is_file() {
        return Ok(None);
    }
    let file = std::fs::File::open(&path).map_err(|e| ImageError::io(&path, e))?;
    Ok(Some(Box::new(file)))
}

fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join("blobs").join("sha256").join(digest.hex())
}

/// Reads a small metadata blob whole and checks its digest and size.
pub(crate) fn read_metadata_blob(
    store: &Store,
    descriptor: &Descriptor,
    image: &str,
) -> Result<Vec<u8>> {
    if descriptor.size.is_some_and(|size| size > MAX_METADATA_BLOB) {
        return Err(ImageError::InvalidMetadata {
            image: image.to_owned(),
            what: format!("descriptor of {}", descriptor.digest),
            reason: format!(
                "size {} exceeds the {} bytes allowed for metadata",
                descriptor.size.unwrap_or(0),
                MAX_METADATA_BLOB
            ),
        });
    }
    let Some(reader) = store.open(&BlobKey::Digest(descriptor.digest.clone()), image)? else {
        return Err(ImageError::MissingBlob {
            image: image.to_owned(),
            digest: descriptor.digest.clone(),
        });
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_METADATA_BLOB + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImageError::io(image, e))?;
    let actual = Digest::sha256_of(&bytes);
    if actual != descriptor.digest {
        return Err(ImageError::DigestMismatch {
            image: image.to_owned(),
            digest: descriptor.digest.clone(),
            actual,
        });
    }
    Ok(bytes)
}

fn read_index_json(store: &Store, image: &str) -> Result<Vec<u8>> {
    let missing = || ImageError::NotAnImage {
        image: image.to_owned(),
        reason: "index.json is missing, so this is not an OCI image layout".to_owned(),
    };
    match store {
        Store::Directory(root) => {
            let path = root.join("index.json");
            let metadata = std::fs::symlink_metadata(&path).map_err(|_| missing())?;
            if metadata.len() > MAX_METADATA_BLOB || !metadata.is_file() {
                return Err(missing());
            }
            std::fs::read(&path).map_err(|e| ImageError::io(&path, e))
        }
        Store::Archive(index) => {
            let bytes = index
                .read_small("index.json", MAX_METADATA_BLOB)
                .map_err(|e| ImageError::io(image, e))?;
            match bytes {
                Some(bytes) => Ok(bytes),
                None if index.contains("manifest.json") => Err(ImageError::NotAnImage {
                    image: image.to_owned(),
                    reason: "index.json is missing, but manifest.json is there: this is a docker-archive, so use docker-archive:PATH".to_owned(),
                }),
                None => Err(missing()),
            }
        }
        _ => Err(missing()),
    }
}

/// Opens the image of an OCI layout selected by tag and platform.
pub(crate) fn open_layout(
    reference: &ImageReference,
    store: Store,
    kind: SourceKind,
    options: &OpenOptions,
) -> Result<Image> {
    let image = reference.text.as_str();
    let index: Index = parse_json(&read_index_json(&store, image)?, image, "index.json")?;
    let _ = index.media_type;

    let mut candidates = Vec::new();
    for descriptor in index.manifests.iter().take(MAX_INDEX_ENTRIES) {
        let name = descriptor
            .annotation(REF_NAME)
            .or_else(|| descriptor.annotation(CONTAINERD_NAME))
            .map(str::to_owned);
        if let Some(tag) = &reference.tag
            && !name.as_deref().is_some_and(|name| tag_matches(name, tag))
        {
            continue;
        }
        expand(&store, descriptor.clone(), name, image, 0, &mut candidates)?;
    }
    if candidates.is_empty() {
        let tags: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|d| d.annotation(REF_NAME).map(str::to_owned))
            .collect();
        return Err(ImageError::NoMatchingImage {
            image: image.to_owned(),
            requested: reference
                .tag
                .as_deref()
                .map_or("any image".to_owned(), |tag| format!("tag {tag:?}")),
            available: if tags.is_empty() {
                "no tagged images".to_owned()
            } else {
                tags.join(", ")
            },
        });
    }

    let chosen = choose(candidates, options, image)?;
    open_manifest(store, chosen, reference, kind, options)
}

/// Whether an index entry's name selects `tag`: the ref name itself, or a
/// full `name:tag` reference ending in it.
fn tag_matches(name: &str, tag: &str) -> bool {
    name == tag
        || name
            .rsplit_once(':')
            .is_some_and(|(_, suffix)| suffix == tag)
}

fn expand(
    store: &Store,
    descriptor: Descriptor,
    name: Option<String>,
    image: &str,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> Result<()> {
    let media_type = descriptor.media_type.clone().unwrap_or_default();
    if media_type != OCI_INDEX && media_type != DOCKER_LIST {
        let platform = descriptor.platform.clone();
        out.push(Candidate {
            descriptor,
            name,
            platform,
        });
        return Ok(());
    }
    if depth >= MAX_INDEX_DEPTH {
        return Err(ImageError::InvalidMetadata {
            image: image.to_owned(),
            what: format!("image index {}", descriptor.digest),
            reason: format!("indexes are nested more than {MAX_INDEX_DEPTH} deep"),
        });
    }
    let bytes = read_metadata_blob(store, &descriptor, image)?;
    let nested: Index = parse_json(&bytes, image, &format!("image index {}", descriptor.digest))?;
    for child in nested.manifests.into_iter().take(MAX_INDEX_ENTRIES) {
        expand(store, child, name.clone(), image, depth + 1, out)?;
    }
    Ok(())
}

/// Picks one manifest: by platform when entries carry platforms, and fails
/// when several differently named images remain.
pub(crate) fn choose(
    candidates: Vec<Candidate>,
    options: &OpenOptions,
    image: &str,
) -> Result<Candidate> {
    if candidates.len() == 1 {
        return Ok(candidates.into_iter().next().expect("one candidate"));
    }
    let requested = options.platform.clone().unwrap_or_else(Platform::host);
    let has_platforms = candidates.iter().any(|c| c.platform.is_some());
    let describe = |list: &[Candidate]| {
        list.iter()
            .map(|c| {
                let platform = c
                    .platform
                    .as_ref()
                    .map_or("unknown platform".to_owned(), Platform::to_string);
                match &c.name {
                    Some(name) => format!("{name} ({platform})"),
                    None => format!("{} ({platform})", c.descriptor.digest),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };

    let mut names: Vec<&Option<String>> = candidates.iter().map(|c| &c.name).collect();
    names.sort();
    names.dedup();
    if names.len() > 1 {
        return Err(ImageError::NoMatchingImage {
            image: image.to_owned(),
            requested: "a single image (the layout holds several; add :TAG to the reference)"
                .to_owned(),
            available: describe(&candidates),
        });
    }
    if !has_platforms {
        return Err(ImageError::NoMatchingImage {
            image: image.to_owned(),
            requested: "a single image (the index lists several without platforms)".to_owned(),
            available: describe(&candidates),
        });
    }
    let available = describe(&candidates);
    candidates
        .into_iter()
        .find(|c| c.platform.as_ref().is_some_and(|p| requested.matches(p)))
        .ok_or_else(|| ImageError::NoMatchingImage {
            image: image.to_owned(),
            requested: format!("platform {requested} (choose another with --platform)"),
            available,
        })
}

fn open_manifest(
    store: Store,
    chosen: Candidate,
    reference: &ImageReference,
    kind: SourceKind,
    options: &OpenOptions,
) -> Result<Image> {
    let image = reference.text.as_str();
    let descriptor = chosen.descriptor;
    check_manifest_type(&descriptor, image)?;
    let manifest_bytes = read_metadata_blob(&store, &descriptor, image)?;
    let manifest = parse_manifest(&descriptor, &manifest_bytes, image)?;
    let config_descriptor = config_descriptor(&manifest, &descriptor, image)?;
    let config_bytes = read_metadata_blob(&store, &config_descriptor, image)?;
    let config: ImageConfig = parse_json(
        &config_bytes,
        image,
        &format!("image config {}", config_descriptor.digest),
    )?;

    // An index entry's platform already decided the choice; otherwise check
    // an explicit --platform against the config.
    if chosen.platform.is_none() {
        super::check_platform(&config, options, image)?;
    }

    let layers = layers_from(&manifest.layers, &config, image, &descriptor.digest)?;
    Ok(Image {
        reference: reference.text.clone(),
        kind,
        manifest_digest: Some(descriptor.digest.clone()),
        config_digest: Some(config_descriptor.digest.clone()),
        tags: chosen.name.into_iter().collect(),
        config: Some(config),
        layers,
        store,
    })
}

/// Rejects a descriptor whose media type is not an image manifest, with a
/// clear message for Docker schema 1.
fn check_manifest_type(descriptor: &Descriptor, image: &str) -> Result<()> {
    let media_type = descriptor.media_type.clone().unwrap_or_default();
    if media_type.starts_with(DOCKER_SCHEMA1) {
        return Err(ImageError::Unsupported {
            image: image.to_owned(),
            what: "manifest type".to_owned(),
            value: format!(
                "{media_type} (Docker schema 1 is deprecated; convert the image with skopeo copy)"
            ),
        });
    }
    if !media_type.is_empty() && media_type != OCI_MANIFEST && media_type != DOCKER_MANIFEST {
        return Err(ImageError::Unsupported {
            image: image.to_owned(),
            what: "manifest type".to_owned(),
            value: media_type,
        });
    }
    Ok(())
}

/// Parses an image manifest whose bytes were checked against `descriptor`.
pub(crate) fn parse_manifest(
    descriptor: &Descriptor,
    bytes: &[u8],
    image: &str,
) -> Result<Manifest> {
    check_manifest_type(descriptor, image)?;
    let manifest: Manifest = parse_json(bytes, image, &format!("manifest {}", descriptor.digest))?;
    if manifest.schema_version == Some(1) {
        return Err(ImageError::Unsupported {
            image: image.to_owned(),
            what: "manifest schema version".to_owned(),
            value: "1 (Docker schema 1 is deprecated; convert the image with skopeo copy)"
                .to_owned(),
        });
    }
    Ok(manifest)
}

/// Returns the config descriptor of a manifest.
pub(crate) fn config_descriptor(
    manifest: &Manifest,
    descriptor: &Descriptor,
    image: &str,
) -> Result<Descriptor> {
    manifest
        .config
        .clone()
        .ok_or_else(|| ImageError::InvalidMetadata {
            image: image.to_owned(),
            what: format!("manifest {}", descriptor.digest),
            reason: "it has no config descriptor".to_owned(),
        })
}

/// Pairs manifest layer descriptors with the config's diff_ids.
pub(crate) fn layers_from(
    descriptors: &[Descriptor],
    config: &ImageConfig,
    image: &str,
    manifest: &Digest,
) -> Result<Vec<Layer>> {
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != descriptors.len() {
        return Err(ImageError::InvalidMetadata {
            image: image.to_owned(),
            what: format!("manifest {manifest}"),
            reason: format!(
                "it lists {} layers but the config has {} diff_ids",
                descriptors.len(),
                diff_ids.len()
            ),
        });
    }
    let mut layers = Vec::with_capacity(descriptors.len());
    for (descriptor, diff_id) in descriptors.iter().zip(diff_ids) {
        let media_type = descriptor.media_type.clone().unwrap_or_default();
        if media_type.contains("encrypted")
            || !(media_type.is_empty() || media_type.contains("tar"))
        {
            return Err(ImageError::Unsupported {
                image: image.to_owned(),
                what: format!("layer media type of {}", descriptor.digest),
                value: media_type,
            });
        }
        layers.push(Layer {
            media_type: descriptor.media_type.clone(),
            digest: Some(descriptor.digest.clone()),
            size: descriptor.size,
            diff_id: Some(diff_id.clone()),
            key: BlobKey::Digest(descriptor.digest.clone()),
        });
    }
    Ok(layers)
}
