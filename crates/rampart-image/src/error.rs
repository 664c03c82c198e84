//! Errors of image reading. Every variant names the image and, where one is
//! involved, the layer digest and the path inside the layer, so that the
//! message alone shows the user what to inspect.

use std::path::PathBuf;

use crate::digest::Digest;

/// A failure while opening, verifying or squashing an image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read {path}: {error}{hint}", hint = io_hint(error))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("{image}: not a container image: {reason}")]
    NotAnImage { image: String, reason: String },

    #[error("{image}: invalid image reference: {reason}")]
    InvalidReference { image: String, reason: String },

    #[error("{image}: invalid {what}: {reason}")]
    InvalidMetadata {
        image: String,
        what: String,
        reason: String,
    },

    #[error(
        "{image}: blob {digest} is missing; the image is incomplete, so copy it again (for example with skopeo copy)"
    )]
    MissingBlob { image: String, digest: Digest },

    #[error(
        "{image}: blob {digest} does not match its digest (content hashes to {actual}); the image is corrupt or was modified, so copy it again"
    )]
    DigestMismatch {
        image: String,
        digest: Digest,
        actual: Digest,
    },

    #[error(
        "{image}: blob {digest} has {actual} bytes but the manifest says {expected}; the image is corrupt or truncated, so copy it again"
    )]
    SizeMismatch {
        image: String,
        digest: Digest,
        expected: u64,
        actual: u64,
    },

    #[error(
        "{image}: layer {layer}: uncompressed content hashes to {actual}, but the config lists diff_id {expected}; the image is corrupt, so copy it again"
    )]
    DiffIdMismatch {
        image: String,
        layer: Digest,
        expected: Digest,
        actual: Digest,
    },

    #[error(
        "{image}: layer {layer}: {reason}; the layer is truncated or corrupt, so copy the image again"
    )]
    CorruptLayer {
        image: String,
        layer: Digest,
        reason: String,
    },

    #[error(
        "{image}: layer {layer}: entry {path:?} {reason}; rampart rejects layers that write outside the image root"
    )]
    EscapingEntry {
        image: String,
        layer: Digest,
        path: String,
        reason: String,
    },

    #[error(
        "{image}: layer {layer}: {reason}; raise {option} if the image is trusted and really this large"
    )]
    LimitExceeded {
        image: String,
        layer: Digest,
        reason: String,
        option: &'static str,
    },

    #[error("{image}: no image matches {requested}; available: {available}")]
    NoMatchingImage {
        image: String,
        requested: String,
        available: String,
    },

    #[error("{image}: unsupported {what} {value:?}")]
    Unsupported {
        image: String,
        what: String,
        value: String,
    },

    #[error("{image}: registry {registry}, repository {repository}: {reason}")]
    Registry {
        image: String,
        registry: String,
        repository: String,
        reason: String,
    },
}

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            error: source,
        }
    }
}

/// The next step for a file that cannot be read.
fn io_hint(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::NotFound => {
            "; check the path. rampart reads saved images (skopeo copy, docker save) and does not pull from registries yet"
        }
        std::io::ErrorKind::PermissionDenied => "; check the file's permissions",
        _ => "",
    }
}

pub type Result<T, E = ImageError> = std::result::Result<T, E>;
