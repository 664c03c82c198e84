//! Decoding one layer blob: verify its digest while streaming,
//! detect the compression (plain tar, gzip or zstd) from the magic bytes,
//! walk the tar entries under the configured limits, and keep the content of
//! the files a cataloger asked for.
//!
//! Whiteouts follow the OCI image-spec "Representing Changes" rules: an entry
//! named exactly `.wh..wh..opq` makes its directory opaque, any other
//! `.wh.NAME` deletes the sibling `NAME`. Neither ever becomes a file.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::digest::{Digest, HashingReader};
use crate::error::{ImageError, Result};
use crate::limits::Limits;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Turns the whole content of a file into the small record a cataloger
/// keeps (for example the module list of a Go binary). Receives the image
/// path and the content; `None` keeps nothing.
pub type Extractor = fn(&str, &[u8]) -> Option<Vec<u8>>;

/// The part of one regular file that is kept while layers stream.
#[derive(Clone, Copy, Debug)]
pub enum Capture {
    /// Nothing but the metadata.
    Skip,
    /// The whole content, for package databases and manifests.
    Content,
    /// Only the extractor's output. The content is read into memory, handed
    /// to the extractor and dropped, so large binaries and archives never
    /// stay in the filesystem view.
    Extract(Extractor),
}

/// Decides from an image path (absolute, e.g. `/var/lib/dpkg/status`) and
/// the file's mode what to keep of a regular file.
pub type CaptureFn = dyn Fn(&str, u32) -> Capture + Send + Sync;

/// Receives the number of compressed bytes read, for progress display.
pub type ProgressFn = dyn Fn(u64) + Send + Sync;

/// The change one tar entry makes to the filesystem.
#[derive(Debug)]
pub(crate) enum EntryKind {
    Directory,
    Regular {
        content: Option<Arc<[u8]>>,
    },
    Symlink {
        target: Box<str>,
    },
    Hardlink {
        target: String,
    },
    Special,
    /// `.wh.NAME`: delete the path.
    Whiteout,
    /// `.wh..wh..opq`: remove the lower layers' entries of this directory.
    Opaque,
}

/// One tar entry, its path normalised to `a/b/c` (no leading slash, no `.`
/// or `..`; the empty string is the root).
#[derive(Debug)]
pub(crate) struct LayerEntry {
    pub path: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub size: u64,
}

/// The decoded content of one layer.
#[derive(Debug)]
pub(crate) struct DecodedLayer {
    pub entries: Vec<LayerEntry>,
    pub diff_id: Digest,
    pub uncompressed_size: u64,
}

/// The facts known about a layer before it is read.
pub(crate) struct LayerSpec<'a> {
    pub image: &'a str,
    /// The digest naming the layer in errors: the blob digest, or the diff_id
    /// when the blob is stored uncompressed under its diff_id.
    pub name: &'a Digest,
    /// Digest and size of the blob as the manifest states them.
    pub blob_digest: Option<&'a Digest>,
    pub blob_size: Option<u64>,
    pub diff_id: Option<&'a Digest>,
}

/// Shared state of one squash: limits, the capture rule, and counters that
/// all layers (decoded in parallel) draw from.
pub(crate) struct DecodeContext<'a> {
    pub limits: &'a Limits,
    pub capture: &'a CaptureFn,
    pub progress: Option<&'a ProgressFn>,
    /// Whether blob hashing gets its own thread: worth it only while fewer
    /// layers decode at once than there are CPUs.
    pub hash_in_background: bool,
    pub entries_seen: AtomicU64,
    pub captured_bytes: AtomicU64,
}

impl DecodeContext<'_> {
    /// Adds `size` bytes to the content kept in memory, failing once the
    /// total crosses the limit.
    fn count_captured(
        &self,
        size: u64,
        spec: &LayerSpec,
        raw_path: &str,
    ) -> std::result::Result<(), WalkError> {
        let total = self.captured_bytes.fetch_add(size, Ordering::Relaxed) + size;
        if total > self.limits.max_captured_total {
            return Err(WalkError::Image(ImageError::LimitExceeded {
                image: spec.image.to_owned(),
                layer: spec.name.clone(),
                reason: format!(
                    "package metadata files exceed {} bytes in total (at {raw_path:?})",
                    self.limits.max_captured_total
                ),
                option: "--max-metadata-size",
            }));
        }
        Ok(())
    }
}

/// Counts decompressed bytes and stops the stream when a limit is crossed.
struct ExpansionGuard<R> {
    inner: R,
    expanded: u64,
    compressed_size: Option<u64>,
    limits: Limits,
    exceeded: Option<String>,
}

impl<R: Read> Read for ExpansionGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.expanded += count as u64;
        if self.expanded > self.limits.max_layer_bytes {
            self.exceeded = Some(format!(
                "uncompressed size exceeds {} bytes",
                self.limits.max_layer_bytes
            ));
        } else if let Some(compressed) = self.compressed_size
            && self.expanded > self.limits.ratio_check_after
            && self.expanded / compressed.max(1) > self.limits.max_expansion_ratio
        {
            self.exceeded = Some(format!(
                "{} compressed bytes expand to more than {} bytes (over {}:1), which looks like a decompression bomb",
                compressed, self.expanded, self.limits.max_expansion_ratio
            ));
        }
        if self.exceeded.is_some() {
            return Err(io::Error::other("layer expansion limit exceeded"));
        }
        Ok(count)
    }
}

/// Reports compressed bytes to the progress callback.
struct ProgressReader<'a, R> {
    inner: R,
    progress: Option<&'a ProgressFn>,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        if let Some(progress) = self.progress {
            progress(count as u64);
        }
        Ok(count)
    }
}

enum Compression {
    None,
    Gzip,
    Zstd,
}

fn detect_compression(reader: &mut impl BufRead) -> io::Result<Compression> {
    let head = reader.fill_buf()?;
    Ok(if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    })
}

/// Decodes one layer blob. On any failure the caller re-hashes the blob to
/// tell a corrupt download (digest mismatch) from a corrupt layer.
pub(crate) fn decode_layer(
    blob: Box<dyn Read + Send + '_>,
    spec: &LayerSpec,
    context: &DecodeContext,
) -> Result<DecodedLayer> {
    let corrupt = |reason: String| ImageError::CorruptLayer {
        image: spec.image.to_owned(),
        layer: spec.name.clone(),
        reason,
    };

    let blob = ProgressReader {
        inner: blob,
        progress: context.progress,
    };
    let blob = if context.hash_in_background {
        HashingReader::in_background(blob)
    } else {
        HashingReader::new(blob)
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, blob);
    let compression =
        detect_compression(&mut buffered).map_err(|e| corrupt(format!("read failed: {e}")))?;
    let decompressed: Box<dyn Read + '_> = match compression {
        Compression::None => Box::new(&mut buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(&mut buffered)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(&mut buffered)
                .map_err(|e| corrupt(format!("invalid zstd stream: {e}")))?,
        ),
    };
    let guard = ExpansionGuard {
        inner: decompressed,
        expanded: 0,
        compressed_size: spec.blob_size,
        limits: context.limits.clone(),
        exceeded: None,
    };
    // Hashing the uncompressed stream costs about a third of the decode time.
    // A verified blob digest already proves the content, so the diff_id is
    // hashed only where no blob digest covers the layer, or on request.
    let hash_uncompressed = matches!(compression, Compression::Gzip | Compression::Zstd)
        && (spec.blob_digest.is_none() || spec.diff_id.is_none() || context.limits.verify_diff_ids);
    let mut tar_stream = if hash_uncompressed {
        HashingReader::new(guard)
    } else {
        HashingReader::counting(guard)
    };

    let walked = walk_tar(&mut tar_stream, spec, context);
    let limit_error = |guard: &ExpansionGuard<_>| {
        guard
            .exceeded
            .clone()
            .map(|reason| ImageError::LimitExceeded {
                image: spec.image.to_owned(),
                layer: spec.name.clone(),
                reason,
                option: "--max-layer-size / --max-expansion-ratio",
            })
    };
    let entries = match walked {
        Ok(entries) => entries,
        Err(WalkError::Image(error)) => return Err(error),
        Err(WalkError::Io(error)) => {
            return Err(
                limit_error(tar_stream.get_ref()).unwrap_or_else(|| corrupt(describe_io(&error)))
            );
        }
    };

    // The tar end marker may be followed by padding that is part of the
    // diff_id; read the stream to its end before finishing the hashes.
    let drained = io::copy(&mut tar_stream, &mut io::sink());
    if let Err(error) = drained {
        return Err(
            limit_error(tar_stream.get_ref()).unwrap_or_else(|| corrupt(describe_io(&error)))
        );
    }
    let (uncompressed_digest, uncompressed_size) =
        tar_stream.finish().map_err(|e| corrupt(describe_io(&e)))?;
    let blob = buffered.into_inner();
    let (blob_digest, blob_size) = blob.finish().map_err(|e| corrupt(describe_io(&e)))?;
    let blob_digest = blob_digest.expect("the blob reader hashes");
    let (diff_id, diff_id_checked) = match (compression, uncompressed_digest) {
        (Compression::None, _) => (blob_digest.clone(), true),
        (_, Some(digest)) => (digest, true),
        // Not hashed only when the config names the diff_id.
        (_, None) => (
            spec.diff_id.cloned().unwrap_or_else(|| blob_digest.clone()),
            false,
        ),
    };

    if let Some(expected) = spec.blob_digest
        && *expected != blob_digest
    {
        return Err(ImageError::DigestMismatch {
            image: spec.image.to_owned(),
            digest: expected.clone(),
            actual: blob_digest,
        });
    }
    if let Some(expected) = spec.blob_size
        && expected != blob_size
    {
        return Err(ImageError::SizeMismatch {
            image: spec.image.to_owned(),
            digest: spec.name.clone(),
            expected,
            actual: blob_size,
        });
    }
    if diff_id_checked
        && let Some(expected) = spec.diff_id
        && *expected != diff_id
    {
        return Err(ImageError::DiffIdMismatch {
            image: spec.image.to_owned(),
            layer: spec.name.clone(),
            expected: expected.clone(),
            actual: diff_id,
        });
    }

    Ok(DecodedLayer {
        entries,
        diff_id,
        uncompressed_size,
    })
}

fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => "the stream ends early".to_owned(),
        _ => format!("invalid compressed or tar data ({error})"),
    }
}

enum WalkError {
    Io(io::Error),
    Image(ImageError),
}

impl From<io::Error> for WalkError {
    fn from(error: io::Error) -> Self {
        WalkError::Io(error)
    }
}

fn walk_tar<R: Read>(
    stream: &mut R,
    spec: &LayerSpec,
    context: &DecodeContext,
) -> Result<Vec<LayerEntry>, WalkError> {
    let mut archive = tar::Archive::new(stream);
    let mut entries = Vec::new();
    // Content handed to extractors. NOTE: it keeps the size of the largest
    // extracted file until the layer is done, so peak memory grows with the
    // largest binary or archive in the image. TODO: a streaming extractor
    // (scan a Go binary for its buildinfo in a sliding window) would avoid
    // holding and touching every page of large Go binaries.
    let mut scratch: Vec<u8> = Vec::new();
    let limits = context.limits;

    for entry in archive.entries()? {
        let mut entry = entry?;
        let seen = context.entries_seen.fetch_add(1, Ordering::Relaxed) + 1;
        if seen > limits.max_entries {
            return Err(WalkError::Image(ImageError::LimitExceeded {
                image: spec.image.to_owned(),
                layer: spec.name.clone(),
                reason: format!("the image has more than {} tar entries", limits.max_entries),
                option: "--max-entries",
            }));
        }

        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let escape = |path: &str, reason: &str| {
            WalkError::Image(ImageError::EscapingEntry {
                image: spec.image.to_owned(),
                layer: spec.name.clone(),
                path: path.to_owned(),
                reason: reason.to_owned(),
            })
        };
        let path = normalize_entry_path(&raw_path).map_err(|reason| escape(&raw_path, reason))?;
        if path.matches('/').count() + 1 > limits.max_path_depth {
            return Err(WalkError::Image(ImageError::LimitExceeded {
                image: spec.image.to_owned(),
                layer: spec.name.clone(),
                reason: format!(
                    "entry {raw_path:?} is nested deeper than {} directories",
                    limits.max_path_depth
                ),
                option: "--max-path-depth",
            }));
        }

        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644);
        let size = entry.size();
        let entry_type = header.entry_type();
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));

        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            let (kind, target) = if name == OPAQUE_MARKER {
                (EntryKind::Opaque, parent.to_owned())
            } else if parent.is_empty() {
                (EntryKind::Whiteout, hidden.to_owned())
            } else {
                (EntryKind::Whiteout, format!("{parent}/{hidden}"))
            };
            entries.push(LayerEntry {
                path: target,
                kind,
                mode,
                size: 0,
            });
            continue;
        }

        let kind = match entry_type {
            tar::EntryType::Directory => EntryKind::Directory,
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let capture = if size <= limits.max_captured_file {
                    (context.capture)(&format!("/{path}"), mode)
                } else {
                    Capture::Skip
                };
                let content = match capture {
                    Capture::Skip => None,
                    Capture::Content => {
                        context.count_captured(size, spec, &raw_path)?;
                        // Read straight into the shared buffer: converting a Vec
                        // into an Arc<[u8]> would copy it and double the peak.
                        // A `repeat_n` iterator has a trusted length, so the Arc
                        // is allocated once at its final size.
                        let mut buffer: Arc<[u8]> =
                            std::iter::repeat_n(0u8, size as usize).collect();
                        let slice = Arc::get_mut(&mut buffer)
                            .ok_or_else(|| io::Error::other("buffer is shared"))?;
                        entry.read_exact(slice)?;
                        Some(buffer)
                    }
                    Capture::Extract(extractor) => {
                        // The scratch buffer is reused for every extracted
                        // file of the layer and only grows, so each read
                        // lands in memory that is already mapped and
                        // initialised.
                        let size = size as usize;
                        if scratch.len() < size {
                            scratch.resize(size, 0);
                        }
                        entry.read_exact(&mut scratch[..size])?;
                        let extracted = extractor(&format!("/{path}"), &scratch[..size]);
                        match extracted {
                            Some(record) => {
                                context.count_captured(record.len() as u64, spec, &raw_path)?;
                                Some(Arc::from(record))
                            }
                            None => None,
                        }
                    }
                };
                EntryKind::Regular { content }
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_default();
                EntryKind::Symlink {
                    target: target.into(),
                }
            }
            tar::EntryType::Link => {
                let raw_target = entry
                    .link_name_bytes()
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_default();
                let target = normalize_entry_path(&raw_target).map_err(|reason| {
                    escape(
                        &raw_path,
                        &format!("is a hard link to {raw_target:?}, which {reason}"),
                    )
                })?;
                EntryKind::Hardlink { target }
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                EntryKind::Special
            }
            // PAX and GNU extension headers are consumed by the tar crate;
            // anything else carries no file.
            _ => continue,
        };
        entries.push(LayerEntry {
            path,
            kind,
            mode,
            size,
        });
    }
    Ok(entries)
}

/// Normalises a tar entry name to `a/b/c`. Rejects absolute names and names
/// whose `..` components climb above the root, the two ways a tar entry can
/// name a place outside the directory it is extracted into.
pub(crate) fn normalize_entry_path(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') {
        return Err("is an absolute path");
    }
    let mut parts: Vec<&str> = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("climbs above the image root with '..'");
                }
            }
            name => parts.push(name),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_accepts_inner_dotdot() {
        assert_eq!(
            normalize_entry_path("./usr/../etc/passwd").unwrap(),
            "etc/passwd"
        );
        assert_eq!(normalize_entry_path("etc/").unwrap(), "etc");
        assert_eq!(normalize_entry_path("./").unwrap(), "");
    }

    #[test]
    fn normalize_rejects_escapes() {
        assert!(normalize_entry_path("../../../../rampart-escape").is_err());
        assert!(normalize_entry_path("usr/../../../../../x").is_err());
        assert!(normalize_entry_path("/rampart-escape-absolute").is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::normalize_entry_path;

    proptest! {
        /// A normalised entry path is relative and has no `.`, `..` or empty
        /// components, whatever the input.
        #[test]
        fn normalized_paths_stay_inside(raw in "[a./]{0,12}(/?[a-z.]{0,4}){0,6}") {
            if let Ok(path) = normalize_entry_path(&raw) {
                prop_assert!(!path.starts_with('/'));
                prop_assert!(path.is_empty() || path.split('/').all(|c| !c.is_empty() && c != "." && c != ".."), "{path}");
            }
        }
    }
}
