//! Decompresses every layer of an OCI image layout into `std::io::sink()` and
//! prints the byte counts. It is the lower bound that `benches/sbom.sh`
//! compares `rampart sbom` against: the same decoder set-up as rampart's layer
//! reader (256 KiB `BufReader`, `flate2::bufread::MultiGzDecoder` on the
//! zlib-rs backend, zstd for zstd layers), without digest checks, tar parsing
//! or cataloging.
//!
//! Usage: `decompress [--parallel] OCI_LAYOUT_DIR`
//!
//! Layers are decoded one after another by default. With `--parallel` they are
//! decoded concurrently on rayon's global thread pool, as `Image::squash`
//! does. The layout's `index.json` must name exactly one image manifest,
//! directly or through nested image indexes.

use std::error::Error;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;
use serde::Deserialize;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Nested image indexes followed at most, so that a cycle cannot loop forever.
const MAX_INDEX_DEPTH: usize = 4;

type BoxError = Box<dyn Error + Send + Sync>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    size: Option<u64>,
}

/// Either an image index (`manifests`) or an image manifest (`layers`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexOrManifest {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

fn main() -> ExitCode {
    let mut parallel = false;
    let mut layout = None;
    for argument in std::env::args_os().skip(1) {
        match argument.to_str() {
            Some("--parallel") => parallel = true,
            Some("-h" | "--help") => {
                println!("Usage: decompress [--parallel] OCI_LAYOUT_DIR");
                return ExitCode::SUCCESS;
            }
            Some(flag) if flag.starts_with('-') => {
                eprintln!("error: unknown option {flag:?}; expected --parallel");
                return ExitCode::from(2);
            }
            _ if layout.is_some() => {
                eprintln!(
                    "error: expected one OCI layout directory, got a second one: {argument:?}"
                );
                return ExitCode::from(2);
            }
            _ => layout = Some(PathBuf::from(argument)),
        }
    }
    let Some(layout) = layout else {
        eprintln!(
            "error: missing OCI layout directory\nUsage: decompress [--parallel] OCI_LAYOUT_DIR"
        );
        return ExitCode::from(2);
    };

    match run(&layout, parallel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}: {error}", layout.display());
            ExitCode::from(2)
        }
    }
}

fn run(layout: &Path, parallel: bool) -> Result<(), BoxError> {
    let layers = layer_descriptors(layout)?;
    let decode = |layer: &Descriptor| decompressed_size(&blob_path(layout, &layer.digest)?);
    let sizes: Vec<u64> = if parallel {
        layers.par_iter().map(decode).collect::<Result<_, _>>()?
    } else {
        layers.iter().map(decode).collect::<Result<_, _>>()?
    };

    let compressed: u64 = layers.iter().filter_map(|layer| layer.size).sum();
    let uncompressed: u64 = sizes.iter().sum();
    println!(
        "{} layers, {compressed} compressed bytes, {uncompressed} uncompressed bytes",
        layers.len()
    );
    Ok(())
}

/// Follows `index.json` (and any nested image index) to the one image
/// manifest and returns its layer descriptors.
fn layer_descriptors(layout: &Path) -> Result<Vec<Descriptor>, BoxError> {
    let mut document: IndexOrManifest = read_json(&layout.join("index.json"))?;
    for _ in 0..=MAX_INDEX_DEPTH {
        if let Some(layers) = document.layers {
            return Ok(layers);
        }
        let manifests = document.manifests.unwrap_or_default();
        let [descriptor] = manifests.as_slice() else {
            return Err(format!(
                "an image index lists {} manifests; this tool reads layouts with exactly one",
                manifests.len()
            )
            .into());
        };
        let is_index = matches!(
            descriptor.media_type.as_deref(),
            Some(OCI_INDEX | DOCKER_LIST)
        );
        document = read_json(&blob_path(layout, &descriptor.digest)?)?;
        if !is_index
            && document
                .media_type
                .as_deref()
                .is_some_and(|kind| kind == OCI_INDEX || kind == DOCKER_LIST)
        {
            return Err(format!(
                "blob {} is an image index but its descriptor does not say so",
                descriptor.digest
            )
            .into());
        }
    }
    Err(format!("image indexes are nested deeper than {MAX_INDEX_DEPTH} levels").into())
}

fn read_json(path: &Path) -> Result<IndexOrManifest, BoxError> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format!("invalid JSON in {}: {e}", path.display()).into())
}

/// Maps a digest such as `sha256:ab…` to `blobs/sha256/ab…`.
fn blob_path(layout: &Path, digest: &str) -> Result<PathBuf, BoxError> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or_else(|| format!("invalid digest {digest:?}: expected ALGORITHM:HEX"))?;
    let is_safe = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !is_safe(algorithm) || !is_safe(hex) {
        return Err(format!("invalid digest {digest:?}: expected ALGORITHM:HEX").into());
    }
    Ok(layout.join("blobs").join(algorithm).join(hex))
}

/// Streams one layer blob through the decoder that its magic bytes select and
/// returns the number of uncompressed bytes.
fn decompressed_size(path: &Path) -> Result<u64, BoxError> {
    let file = File::open(path)
        .map_err(|e| format!("failed to open layer blob {}: {e}", path.display()))?;
    let mut buffered = BufReader::with_capacity(256 * 1024, file);
    let head = buffered.fill_buf()?;
    let mut decoder: Box<dyn Read> = if head.starts_with(&GZIP_MAGIC) {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else if head.starts_with(&ZSTD_MAGIC) {
        Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?)
    } else {
        Box::new(buffered)
    };
    let size = io::copy(&mut decoder, &mut io::sink())
        .map_err(|e| format!("failed to decompress layer blob {}: {e}", path.display()))?;
    Ok(size)
}
