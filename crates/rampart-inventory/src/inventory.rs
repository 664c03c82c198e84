//! The inventory of one image: where it came from, its OS release and its
//! packages. SBOM renderers read only this.

use serde::{Deserialize, Serialize};

use crate::package::{Distro, Package};

/// One layer of the scanned image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// Digest of the stored blob, where the source has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub diff_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub uncompressed_size: u64,
}

/// The scanned image (or directory).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The reference as the user typed it.
    pub reference: String,
    /// The source scheme: `oci-dir`, `oci-archive`, `docker-archive`, `dir` or `rootfs`.
    pub kind: String,
    /// A display name: the first tag, else the reference.
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// The digest of the image configuration (the image ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerRecord>,
    /// Size, shells, package managers, setuid files and user of an image;
    /// absent for an SBOM input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<crate::ImageFacts>,
}

/// Everything found in one image.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub source: SourceInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    /// Packages sorted by type, name, version, architecture and location.
    pub packages: Vec<Package>,
    /// Problems that did not stop the inventory (an unreadable database, a
    /// symlink loop), each naming the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
