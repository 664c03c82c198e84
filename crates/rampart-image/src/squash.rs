//! Squashing: decode every layer (in parallel) and apply them bottom first to
//! one in-memory [`Filesystem`].
//!
//! Within one layer the whiteouts are applied before the layer's own entries,
//! because a whiteout or opaque marker only ever hides content of the layers
//! below it (OCI image-spec, "Whiteouts"): an opaque directory keeps the
//! entries its own layer adds, wherever the marker sits in the tar.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

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
        squash_all(&[self], options)
            .pop()
            .unwrap_or_else(|| unreachable!("one result per image"))
    }

    /// Checks what can be checked before any layer is read.
    fn check_layer_count(&self) -> Result<()> {
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
        Ok(())
    }

    /// Applies the decoded layers, bottom first, to a new filesystem.
    fn assemble(&self, decoded: Vec<Result<DecodedLayer>>) -> Result<Squashed> {
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
            image = self.reference,
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

        let result = match decode_layer(blob, &spec, context) {
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
        };
        match (result, &self.store) {
            (Err(error), Store::Registry(remote)) => {
                Err(remote.layer_error(&self.reference, error))
            }
            (result, _) => result,
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

/// Squashes several images at once, returning one result per image in the
/// order given. See [`squash_all_with`].
pub fn squash_all(images: &[&Image], options: &SquashOptions) -> Vec<Result<Squashed>> {
    squash_all_with(images, options, |_, squashed| squashed)
}

/// Squashes several images at once and hands each result to `finish` as
/// soon as that image's last layer is decoded, returning what `finish`
/// returns, one value per image in the order given.
///
/// The layers of all images form one queue, largest stored size first, and
/// one worker per rayon thread takes the next layer whenever it is free
/// (list scheduling). The largest layers, which decide the wall time, thus
/// start first, and the small ones fill the threads that fall idle. Rayon's
/// own splitting of a parallel iterator would start the layers in halves of
/// the list instead. The worker that decodes an image's last layer squashes that
/// image and calls `finish` while the other workers go on decoding. The
/// limits apply to each image separately.
pub fn squash_all_with<T, F>(images: &[&Image], options: &SquashOptions, finish: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, Result<Squashed>) -> T + Sync,
{
    let checks: Vec<Result<()>> = images
        .iter()
        .map(|image| image.check_layer_count())
        .collect();
    let decodes_layers: Vec<bool> = (0..images.len())
        .map(|index| {
            checks[index].is_ok()
                && !matches!(images[index].store, Store::RootDirectory(_))
                && !images[index].layers.is_empty()
        })
        .collect();
    let mut jobs: Vec<(usize, usize)> = (0..images.len())
        .filter(|index| decodes_layers[*index])
        .flat_map(|index| (0..images[index].layers.len()).map(move |layer| (index, layer)))
        .collect();
    // A layer of unknown size counts as the largest.
    jobs.sort_by_key(|&(image, layer)| {
        std::cmp::Reverse(images[image].layers[layer].size.unwrap_or(u64::MAX))
    });

    let threads = rayon::current_num_threads();
    let contexts: Vec<DecodeContext> = images
        .iter()
        .map(|_| DecodeContext {
            limits: &options.limits,
            capture: options.capture,
            progress: options.progress,
            hash_in_background: jobs.len() < threads,
            entries_seen: AtomicU64::new(0),
            captured_bytes: AtomicU64::new(0),
        })
        .collect();
    let pending: Vec<AtomicUsize> = images
        .iter()
        .map(|image| AtomicUsize::new(image.layers.len()))
        .collect();
    let decoded: Vec<Mutex<Vec<Option<Result<DecodedLayer>>>>> = images
        .iter()
        .map(|image| Mutex::new(image.layers.iter().map(|_| None).collect()))
        .collect();
    let outputs: Vec<Mutex<Option<T>>> = images.iter().map(|_| Mutex::new(None)).collect();
    let mut checks: Vec<Option<Result<()>>> = checks.into_iter().map(Some).collect();

    let store = |index: usize, value: T| {
        *outputs[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(value);
    };
    let next = AtomicUsize::new(0);
    rayon::scope(|scope| {
        // Images without layers to decode: a failed check, a directory.
        for (index, check) in checks.iter_mut().enumerate() {
            if decodes_layers[index] {
                continue;
            }
            let check = check.take().unwrap_or(Ok(()));
            let (finish, store) = (&finish, &store);
            scope.spawn(move |_| {
                let image = images[index];
                let squashed = check.and_then(|()| match &image.store {
                    Store::RootDirectory(root) => rootfs::walk_directory(
                        root,
                        &image.reference,
                        options.capture,
                        &options.limits,
                    )
                    .map(|fs| Squashed {
                        fs,
                        layers: Vec::new(),
                    }),
                    _ => image.assemble(Vec::new()),
                });
                store(index, finish(index, squashed));
            });
        }
        for _ in 0..threads.min(jobs.len()) {
            scope.spawn(|_| {
                loop {
                    let job = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(image_index, layer_index)) = jobs.get(job) else {
                        break;
                    };
                    let image = images[image_index];
                    let layer = &image.layers[layer_index];
                    let result = {
                        let _span = tracing::debug_span!("layer", image = image.reference, index = layer_index, digest = ?layer.display_digest())
                            .entered();
                        image.decode(layer, &contexts[image_index])
                    };
                    let mut slots = decoded[image_index]
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    slots[layer_index] = Some(result);
                    if pending[image_index].fetch_sub(1, Ordering::AcqRel) != 1 {
                        continue;
                    }
                    // This was the image's last layer.
                    let layers = std::mem::take(&mut *slots)
                        .into_iter()
                        .map(|slot| slot.unwrap_or_else(|| unreachable!("every layer was decoded")))
                        .collect();
                    drop(slots);
                    store(image_index, finish(image_index, image.assemble(layers)));
                }
            });
        }
    });

    outputs
        .into_iter()
        .map(|output| {
            output
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .unwrap_or_else(|| unreachable!("every image was finished"))
        })
        .collect()
}
