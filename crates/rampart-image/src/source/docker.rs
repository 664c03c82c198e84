//! `docker save` archives (also written by `skopeo copy docker-archive:`):
//! a tar with `manifest.json` listing, per image, the config member, the
//! repository tags and the layer members. Layers are `<id>/layer.tar` before
//! Docker 25 and `blobs/sha256/<hex>` from Docker 25 on; skopeo writes
//! `<diff_id>.tar`. Layers are usually uncompressed, so their diff_id from
//! the config is what verifies them.

use serde::Deserialize;

use super::{
    BlobKey, Image, ImageConfig, ImageReference, Layer, MAX_METADATA_BLOB, OpenOptions, SourceKind,
    Store, TarIndex, parse_json,
};
use crate::digest::Digest;
use crate::error::{ImageError, Result};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

/// The digest a member name carries: `blobs/sha256/<hex>`, `<hex>.json` or `<hex>.tar`.
fn digest_in_name(name: &str) -> Option<Digest> {
    let base = name.rsplit('/').next()?;
    let hex = base
        .strip_suffix(".json")
        .or_else(|| base.strip_suffix(".tar"))
        .unwrap_or(base);
    format!("sha256:{hex}").parse().ok()
}

pub(crate) fn open_archive(reference: &ImageReference, options: &OpenOptions) -> Result<Image> {
    let image = reference.text.as_str();
    let index = TarIndex::open(&reference.path, image)?;
    let manifest_bytes = index
        .read_small("manifest.json", MAX_METADATA_BLOB)
        .map_err(|e| ImageError::io(&reference.path, e))?
        .ok_or_else(|| ImageError::NotAnImage {
            image: image.to_owned(),
            reason: "manifest.json is missing, so this is not a docker-archive".to_owned(),
        })?;
    let entries: Vec<ManifestEntry> = parse_json(&manifest_bytes, image, "manifest.json")?;

    let entry = select(entries, reference.tag.as_deref(), image)?;

    let config_bytes = index
        .read_small(&entry.config, MAX_METADATA_BLOB)
        .map_err(|e| ImageError::io(&reference.path, e))?
        .ok_or_else(|| ImageError::InvalidMetadata {
            image: image.to_owned(),
            what: "manifest.json".to_owned(),
            reason: format!("the config member {} is missing", entry.config),
        })?;
    let config_digest = Digest::sha256_of(&config_bytes);
    if let Some(named) = digest_in_name(&entry.config)
        && named != config_digest
    {
        return Err(ImageError::DigestMismatch {
            image: image.to_owned(),
            digest: named,
            actual: config_digest,
        });
    }
    let config: ImageConfig = parse_json(
        &config_bytes,
        image,
        &format!("image config {}", entry.config),
    )?;
    super::check_platform(&config, options, image)?;

    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != entry.layers.len() {
        return Err(ImageError::InvalidMetadata {
            image: image.to_owned(),
            what: "manifest.json".to_owned(),
            reason: format!(
                "it lists {} layers but the config has {} diff_ids",
                entry.layers.len(),
                diff_ids.len()
            ),
        });
    }
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (member, diff_id) in entry.layers.iter().zip(diff_ids) {
        let Some(size) = index.size(member) else {
            return Err(ImageError::MissingBlob {
                image: image.to_owned(),
                digest: diff_id.clone(),
            });
        };
        // Only `blobs/sha256/<hex>` names a blob digest; other names are ids.
        let digest = member
            .starts_with("blobs/sha256/")
            .then(|| digest_in_name(member))
            .flatten();
        layers.push(Layer {
            media_type: None,
            digest,
            size: Some(size),
            diff_id: Some(diff_id.clone()),
            key: BlobKey::Member(member.clone()),
        });
    }

    Ok(Image {
        reference: reference.text.clone(),
        kind: SourceKind::DockerArchive,
        manifest_digest: None,
        config_digest: Some(config_digest),
        tags: entry.repo_tags.unwrap_or_default(),
        config: Some(config),
        layers,
        store: Store::Archive(index),
    })
}

fn select(entries: Vec<ManifestEntry>, tag: Option<&str>, image: &str) -> Result<ManifestEntry> {
    let available = || {
        entries
            .iter()
            .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match tag {
        Some(tag) => {
            let position = entries.iter().position(|entry| {
                entry.repo_tags.iter().flatten().any(|repo_tag| {
                    repo_tag == tag || repo_tag.rsplit_once(':').is_some_and(|(_, t)| t == tag)
                })
            });
            match position {
                Some(position) => Ok(entries
                    .into_iter()
                    .nth(position)
                    .expect("position is in range")),
                None => Err(ImageError::NoMatchingImage {
                    image: image.to_owned(),
                    requested: format!("tag {tag:?}"),
                    available: available(),
                }),
            }
        }
        None if entries.len() == 1 => Ok(entries.into_iter().next().expect("one entry")),
        None if entries.is_empty() => Err(ImageError::NotAnImage {
            image: image.to_owned(),
            reason: "manifest.json lists no images".to_owned(),
        }),
        None => Err(ImageError::NoMatchingImage {
            image: image.to_owned(),
            requested: "a single image (the archive holds several; add :REPO:TAG to the reference)"
                .to_owned(),
            available: available(),
        }),
    }
}
