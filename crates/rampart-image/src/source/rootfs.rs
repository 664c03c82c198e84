//! Root filesystems that are not images: an unpacked directory (`dir:`) and
//! a tarball of one (`rootfs:`). A directory is walked without following any
//! symbolic link, and only regular files a cataloger asked for are opened.

use std::path::Path;
use std::sync::Arc;

use super::{BlobKey, Image, ImageReference, Layer, SourceKind, Store};
use crate::error::{ImageError, Result};
use crate::fs::{FileKind, Filesystem};
use crate::layer::{Capture, CaptureFn};
use crate::limits::Limits;

pub(crate) fn open_directory(reference: &ImageReference) -> Result<Image> {
    if !reference.path.is_dir() {
        return Err(ImageError::NotAnImage {
            image: reference.text.clone(),
            reason: "dir: needs a directory".to_owned(),
        });
    }
    Ok(Image {
        reference: reference.text.clone(),
        kind: SourceKind::Dir,
        manifest_digest: None,
        config_digest: None,
        tags: Vec::new(),
        config: None,
        layers: Vec::new(),
        store: Store::RootDirectory(reference.path.clone()),
    })
}

pub(crate) fn open_tarball(reference: &ImageReference) -> Result<Image> {
    let is_archive =
        reference.path.is_file() && super::sniff(&reference.path)? != super::FileFormat::Other;
    if !is_archive {
        return Err(ImageError::NotAnImage {
            image: reference.text.clone(),
            reason: "rootfs: needs a tar archive (plain, gzip or zstd)".to_owned(),
        });
    }
    Ok(Image {
        reference: reference.text.clone(),
        kind: SourceKind::RootfsTarball,
        manifest_digest: None,
        config_digest: None,
        tags: Vec::new(),
        config: None,
        layers: vec![Layer {
            media_type: None,
            digest: None,
            size: std::fs::metadata(&reference.path).ok().map(|m| m.len()),
            diff_id: None,
            key: BlobKey::Member(String::new()),
        }],
        store: Store::RootTarball(reference.path.clone()),
    })
}

/// Builds the filesystem view of a directory. Symbolic links are recorded,
/// never followed; devices, FIFOs and sockets are recorded, never opened.
pub(crate) fn walk_directory(
    root: &Path,
    image: &str,
    capture: &CaptureFn,
    limits: &Limits,
) -> Result<Filesystem> {
    let mut fs = Filesystem::new(Vec::new());
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    let mut entries = 0u64;
    let mut captured = 0u64;

    while let Some((dir, prefix, depth)) = stack.pop() {
        let listing = std::fs::read_dir(&dir).map_err(|e| ImageError::io(&dir, e))?;
        let mut names: Vec<_> = listing.filter_map(|entry| entry.ok()).collect();
        names.sort_by_key(|entry| entry.file_name());
        for entry in names {
            entries += 1;
            if entries > limits.max_entries {
                return Err(ImageError::LimitExceeded {
                    image: image.to_owned(),
                    layer: crate::digest::Digest::sha256_of(b""),
                    reason: format!("the directory has more than {} entries", limits.max_entries),
                    option: "--max-entries",
                });
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let host_path = entry.path();
            let Ok(metadata) = std::fs::symlink_metadata(&host_path) else {
                continue;
            };
            let mode = mode_of(&metadata);
            let file_type = metadata.file_type();
            let applied = if file_type.is_dir() {
                if depth + 1 < limits.max_path_depth {
                    stack.push((host_path, path.clone(), depth + 1));
                }
                fs.add_directory(&path, mode, 0)
            } else if file_type.is_symlink() {
                let target =
                    std::fs::read_link(&host_path).map_err(|e| ImageError::io(&host_path, e))?;
                fs.add_entry(
                    &path,
                    FileKind::Symlink(target.to_string_lossy().into()),
                    mode,
                    0,
                    0,
                    None,
                )
            } else if file_type.is_file() {
                let size = metadata.len();
                let capture_rule = if size <= limits.max_captured_file {
                    capture(&format!("/{path}"), mode)
                } else {
                    Capture::Skip
                };
                let content = match capture_rule {
                    Capture::Skip => None,
                    Capture::Content => {
                        let bytes =
                            std::fs::read(&host_path).map_err(|e| ImageError::io(&host_path, e))?;
                        Some(bytes)
                    }
                    Capture::Extract(extractor) => {
                        let bytes =
                            std::fs::read(&host_path).map_err(|e| ImageError::io(&host_path, e))?;
                        extractor(&format!("/{path}"), &bytes)
                    }
                };
                if let Some(bytes) = &content {
                    captured += bytes.len() as u64;
                    if captured > limits.max_captured_total {
                        return Err(ImageError::LimitExceeded {
                            image: image.to_owned(),
                            layer: crate::digest::Digest::sha256_of(b""),
                            reason: format!(
                                "package metadata files exceed {} bytes in total",
                                limits.max_captured_total
                            ),
                            option: "--max-metadata-size",
                        });
                    }
                }
                let content = content.map(Arc::from);
                fs.add_entry(&path, FileKind::Regular, mode, size, 0, content)
            } else {
                fs.add_entry(&path, FileKind::Special, mode, 0, 0, None)
            };
            // Paths come from the host directory listing, so they cannot
            // escape; a failure here is a symlink loop inside the tree.
            if let Err(error) = applied {
                tracing::debug!(path, ?error, "skipped directory entry");
            }
        }
    }
    Ok(fs)
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_metadata: &std::fs::Metadata) -> u32 {
    0o644
}
