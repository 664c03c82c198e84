//! Squashing: decode every layer (in parallel) and apply them bottom first to
//! one in-memory [`Filesystem`].
//!
//! Within one layer the whiteouts are applied before the layer's own entries,
//! because a whiteout or opaque marker only ever hides content of the layers
//! below it (OCI image-spec, "Whiteouts"): an opaque directory keeps the
//! entries its own layer adds, wherever the marker sits in the tar.

use std::sync::atomic::AtomicU64;

use rayon::prelude::*;

use crate::digest::{Digest, HashingReader};
use crate::error::{ImageError, Result};
use crate::fs::{ApplyError, FileKind, Filesystem, LayerIndex};
use crate::layer::{
    CaptureFn, DecodeContext, DecodedLayer, EntryKind, LayerSpec, ProgressFn, decode_layer,
};
use crate::limits::Limits;
use crate::source::{Image, Layer, SourceKind, Store, rootfs};

/// Options of one squash.
pub struct SquashOptions<'a> {
    /// Selects the files whose content is kept in memory.
    pub capture: &'a CaptureFn,
    pub limits: Limits,
    /// Receives compressed bytes read, for a progress bar.
    pub progress: Option<&'a ProgressFn>,
}

/// A summary of one decoded layer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerSummary {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    pub diff_id: Digest,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub uncompressed_size: u64,
    pub entries: usize,
}

/// The squashed filesystem with what was learned about each layer.
#[derive(Debug)]
pub struct Squashed {
    pub fs: Filesystem,
    pub layers: Vec<LayerSummary>,
}

impl Image {
    /// Reads every layer, verifying digests, and builds the final filesystem.
    pub fn squash(&self, options: &SquashOptions) -> Result<Squashed> {
        if let Store::RootDirectory(root) = &self.store {
            let fs =
                rootfs::walk_directory(root, &self.reference, options.capture, &options.limits)?;
            return Ok(Squashed {
                fs,
                layers: Vec::new(),
            });
        }
        if self.layers.len() > usize::from(LayerIndex::MAX) {
            return Err(ImageError::InvalidMetadata {
                image: self.reference.clone(),
                what: "manifest".to_owned(),
                reason: format!(
                    "it has {} layers, more than {} supported",
                    self.layers.len(),
                    LayerIndex::MAX
                ),
            });
        }

        let context = DecodeContext {
            limits: &options.limits,
            capture: options.capture,
            progress: options.progress,
            hash_in_background: self.layers.len() < rayon::current_num_threads(),
            entries_seen: AtomicU64::new(0),
            captured_bytes: AtomicU64::new(0),
        };
        let decoded: Vec<Result<DecodedLayer>> = self
            .layers
            .par_iter()
            .enumerate()
            .map(|(index, layer)| {
                let _span = tracing::debug_span!("layer", index, digest = ?layer.display_digest())
                    .entered();
                self.decode(layer, &context)
            })
            .collect();

        let mut decoded_layers = Vec::with_capacity(decoded.len());
        for result in decoded {
            decoded_layers.push(result?);
        }

        let diff_ids = decoded_layers
            .iter()
            .map(|layer| layer.diff_id.clone())
            .collect();
        let mut fs = Filesystem::new(diff_ids);
        let mut summaries = Vec::with_capacity(decoded_layers.len());
        for (index, (layer, decoded)) in self.layers.iter().zip(decoded_layers).enumerate() {
            let name = layer
                .display_digest()
                .cloned()
                .unwrap_or_else(|| decoded.diff_id.clone());
            summaries.push(LayerSummary {
                index,
                digest: layer.digest.clone(),
                diff_id: decoded.diff_id.clone(),
                size: layer.size,
                uncompressed_size: decoded.uncompressed_size,
                entries: decoded.entries.len(),
            });
            self.apply(&mut fs, decoded, index as LayerIndex, &name)?;
        }
        tracing::debug!(
            layers = summaries.len(),
            captured_bytes = fs.captured_bytes(),
            "squashed image"
        );
        Ok(Squashed {
            fs,
            layers: summaries,
        })
    }

    fn decode(&self, layer: &Layer, context: &DecodeContext) -> Result<DecodedLayer> {
        let name = layer
            .display_digest()
            .cloned()
            .unwrap_or_else(|| Digest::sha256_of(self.reference.as_bytes()));
        let spec = LayerSpec {
            image: &self.reference,
            name: &name,
            blob_digest: layer.digest.as_ref(),
            blob_size: layer.size,
            diff_id: layer.diff_id.as_ref(),
        };
        let Some(blob) = self.store.open(&layer.key, &self.reference)? else {
            return Err(ImageError::MissingBlob {
                image: self.reference.clone(),
                digest: name,
            });
        };

        match decode_layer(blob, &spec, context) {
            Err(ImageError::CorruptLayer {
                image,
                layer: named,
                reason,
            }) => {
                // A blob that fails to decode may simply be a bad copy: report
                // a size or digest mismatch when there is one, as it names
                // the cause (a truncated download shows as a short blob).
                if let Some(expected) = &layer.digest
                    && let Ok(Some(blob)) = self.store.open(&layer.key, &self.reference)
                    && let Ok((Some(actual), bytes)) = HashingReader::new(blob).finish()
                    && actual != *expected
                {
                    if let Some(size) = layer.size
                        && size != bytes
                    {
                        return Err(ImageError::SizeMismatch {
                            image,
                            digest: expected.clone(),
                            expected: size,
                            actual: bytes,
                        });
                    }
                    return Err(ImageError::DigestMismatch {
                        image,
                        digest: expected.clone(),
                        actual,
                    });
                }
                Err(ImageError::CorruptLayer {
                    image,
                    layer: named,
                    reason,
                })
            }
            other => other,
        }
    }

    fn apply(
        &self,
        fs: &mut Filesystem,
        decoded: DecodedLayer,
        index: LayerIndex,
        name: &Digest,
    ) -> Result<()> {
        let fail = |path: &str, error: ApplyError| match error {
            ApplyError::Escape(reason) => ImageError::EscapingEntry {
                image: self.reference.clone(),
                layer: name.clone(),
                path: path.to_owned(),
                reason,
            },
            ApplyError::SymlinkLoop => ImageError::CorruptLayer {
                image: self.reference.clone(),
                layer: name.clone(),
                reason: format!("entry {path:?} is written through a loop of symbolic links"),
            },
        };

        for entry in &decoded.entries {
            let result = match entry.kind {
                EntryKind::Whiteout => fs.remove(&entry.path),
                EntryKind::Opaque => fs.clear_dir(&entry.path),
                _ => Ok(()),
            };
            result.map_err(|error| fail(&entry.path, error))?;
        }

        for entry in decoded.entries {
            let result = match entry.kind {
                EntryKind::Whiteout | EntryKind::Opaque => Ok(()),
                EntryKind::Directory => fs.add_directory(&entry.path, entry.mode, index),
                EntryKind::Regular { content } => fs.add_entry(
                    &entry.path,
                    FileKind::Regular,
                    entry.mode,
                    entry.size,
                    index,
                    content,
                ),
                EntryKind::Symlink { target } => fs.add_entry(
                    &entry.path,
                    FileKind::Symlink(target),
                    entry.mode,
                    0,
                    index,
                    None,
                ),
                EntryKind::Special => {
                    fs.add_entry(&entry.path, FileKind::Special, entry.mode, 0, index, None)
                }
                EntryKind::Hardlink { target } => {
                    match fs.add_hardlink(&entry.path, &target, index) {
                        Ok(true) => Ok(()),
                        Ok(false) => {
                            tracing::warn!(layer = %name, path = entry.path, target, "hard link target does not exist; recorded as an empty file");
                            fs.add_entry(&entry.path, FileKind::Regular, entry.mode, 0, index, None)
                        }
                        Err(error) => Err(error),
                    }
                }
            };
            result.map_err(|error| fail(&entry.path, error))?;
        }
        Ok(())
    }

    /// Whether the image came from a plain directory (no layers).
    pub fn is_directory(&self) -> bool {
        self.kind == SourceKind::Dir
    }
}
