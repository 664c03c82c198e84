//! Bounds on untrusted image content. Every layer is decompressed and walked
//! under these caps, so a decompression bomb or a tar of millions of entries
//! ends with an error instead of exhausting memory or time.

/// Caps applied while reading an image. The defaults fit large real images
/// (multi-gigabyte CUDA or ML layers) and stop obvious bombs.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Maximum uncompressed bytes of one layer.
    pub max_layer_bytes: u64,
    /// Maximum ratio of uncompressed to compressed bytes of one layer, checked
    /// once a layer has expanded past `ratio_check_after` bytes.
    pub max_expansion_ratio: u64,
    /// Expanded size after which the ratio check starts.
    pub ratio_check_after: u64,
    /// Maximum number of tar entries summed over all layers.
    pub max_entries: u64,
    /// Maximum number of components in one path.
    pub max_path_depth: usize,
    /// Maximum size of one file whose content is kept in memory for a cataloger.
    pub max_captured_file: u64,
    /// Maximum bytes of file content kept in memory for the whole image.
    pub max_captured_total: u64,
    /// Whether to hash the uncompressed content of compressed layers to check
    /// it against the config's diff_ids. The blob digest is always checked,
    /// and diff_ids are always computed where no blob digest covers a layer.
    pub verify_diff_ids: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 32 << 30,
            max_expansion_ratio: 100,
            ratio_check_after: 512 << 20,
            max_entries: 2_000_000,
            max_path_depth: 256,
            max_captured_file: 512 << 20,
            max_captured_total: 2 << 30,
            verify_diff_ids: false,
        }
    }
}
