//! Container image reading for rampart: image sources (OCI layouts, OCI and
//! docker archives, root filesystem directories and tarballs), blob and
//! diff_id verification while streaming, and squashing of layers into one
//! in-memory filesystem view that keeps, for every file, the layer that last
//! wrote it.
//!
//! Image content is untrusted: nothing is unpacked to disk or executed, paths
//! that leave the image root are rejected, and decompression, entry counts
//! and path depth are bounded by [`Limits`].

pub mod digest;
pub mod error;
pub mod fs;
mod layer;
pub mod limits;
pub mod source;
mod squash;

pub use digest::Digest;
pub use error::{ImageError, Result};
pub use fs::{FileData, FileInfo, FileKind, FileVersion, Filesystem, LayerIndex, ReadError};
pub use layer::{Capture, CaptureFn, Extractor, ProgressFn};
pub use limits::Limits;
pub use source::{Image, ImageConfig, ImageReference, Layer, OpenOptions, Platform, SourceKind};
pub use squash::{LayerSummary, SquashOptions, Squashed, squash_all, squash_all_with};
