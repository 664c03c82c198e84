//! `rampart sbom`: open an image, squash its layers, catalog its packages and
//! render the SBOM in each requested format.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rampart_image::source::registry::{BlobCache, Credentials, RegistryOptions, Secret};
use rampart_image::{Image, Limits, OpenOptions, Platform, SourceKind};
use rampart_inventory::Inventory;
use rampart_report::{DocumentMeta, SbomFormat, render_sbom};

use crate::cache::CacheDir;
use crate::output::{OutputTarget, check_targets, parse_target, stdout_is_terminal, write_all};

#[derive(Args)]
pub struct SbomArgs {
    #[command(flatten)]
    pub image: ImageArgs,

    /// Output as FORMAT or FORMAT=FILE; repeat for several. Formats:
    /// cyclonedx-json, spdx-json, json (rampart's own), table. Default: table
    /// when stdout is a terminal, else json.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]", value_parser = parse_target::<SbomFormat>)]
    outputs: Vec<OutputTarget<SbomFormat>>,

    /// Document timestamp (RFC 3339, e.g. 2024-01-01T00:00:00Z), for
    /// reproducible output. Default: $SOURCE_DATE_EPOCH if set, else now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    timestamp: Option<DateTime<Utc>>,
}

/// The image to read and the limits for reading it, shared by `sbom` and `scan`.
#[derive(Args)]
pub struct ImageArgs {
    /// The image: registry:REF, oci-dir:PATH[:TAG], oci-archive:FILE[:TAG],
    /// docker-archive:FILE[:REPO:TAG], dir:PATH, rootfs:FILE, or a plain path
    /// whose kind is detected from its content. A plain reference that is no
    /// local path is pulled from its registry ([HOST[:PORT]/]PATH[:TAG][@DIGEST]).
    pub image: String,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// Options for reading images, the platform and the limits, shared by `sbom`,
/// `scan` and `diff`.
#[derive(Args, Clone)]
pub struct ReadArgs {
    /// Platform to select from a multi-platform image index, as OS/ARCH[/VARIANT].
    /// Default: the host's platform.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<Platform>,

    /// Maximum uncompressed size of one layer, in bytes (suffixes KiB, MiB, GiB, TiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "32GiB")]
    max_layer_size: u64,

    /// Maximum ratio of uncompressed to compressed layer size, checked once a
    /// layer has expanded past 512 MiB; guards against decompression bombs.
    #[arg(long, value_name = "RATIO", default_value_t = Limits::default().max_expansion_ratio, value_parser = clap::value_parser!(u64).range(1..))]
    max_expansion_ratio: u64,

    /// Maximum number of tar entries over all layers.
    #[arg(long, value_name = "COUNT", default_value_t = Limits::default().max_entries)]
    max_entries: u64,

    /// Also hash the uncompressed content of compressed layers and check it
    /// against the config's diff_ids. Blob digests are always checked; this
    /// adds about a third to the decode time.
    #[arg(long)]
    verify_diff_ids: bool,

    /// Maximum bytes of package metadata files held in memory (sum over the image).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "2GiB")]
    max_metadata_size: u64,

    /// Reach this registry (HOST[:PORT]) over plain HTTP instead of HTTPS;
    /// repeat for several.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    insecure_registries: Vec<String>,

    /// PEM file with the CA certificates to trust for registries, instead of
    /// the system's.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,

    /// User name for the registry; the password is read from stdin
    /// (--password-stdin). Default: the credentials of Docker's
    /// configuration ($DOCKER_CONFIG/config.json, else ~/.docker/config.json).
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    username: Option<String>,

    /// Read the registry password (or token) for --username from stdin.
    #[arg(long, requires = "username")]
    password_stdin: bool,

    /// Maximum size of the image layer cache in the cache directory; the
    /// least recently used layers are removed beyond it.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "10GiB", env = "RAMPART_LAYER_CACHE_SIZE")]
    layer_cache_size: u64,
}

impl ReadArgs {
    /// Builds the options for opening images. Reads the registry password
    /// from stdin with --password-stdin, so call it once per command.
    pub fn open_options(&self, cache: &CacheDir) -> anyhow::Result<OpenOptions> {
        let credentials = match &self.username {
            Some(username) if self.password_stdin => {
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .context("cannot read the registry password from stdin")?;
                let password = password.trim_end_matches(['\r', '\n']).to_owned();
                if password.is_empty() {
                    anyhow::bail!(
                        "--password-stdin read an empty password; pipe it in, as in `printf %s \"$TOKEN\" | rampart … --username USER --password-stdin`"
                    );
                }
                Some(Credentials::Basic {
                    username: username.clone(),
                    password: Secret::new(password),
                })
            }
            _ => None,
        };
        Ok(OpenOptions {
            platform: self.platform.clone(),
            limits: self.limits(),
            registry: RegistryOptions {
                insecure_registries: self.insecure_registries.clone(),
                ca_file: self.ca_file.clone(),
                credentials,
                cache: Some(BlobCache::new(cache.blobs(), self.layer_cache_size)),
                ..RegistryOptions::default()
            },
        })
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_layer_bytes: self.max_layer_size,
            max_expansion_ratio: self.max_expansion_ratio,
            max_entries: self.max_entries,
            verify_diff_ids: self.verify_diff_ids,
            max_captured_total: self.max_metadata_size,
            ..Limits::default()
        }
    }
}

/// Parses an RFC 3339 date and time, such as `2024-01-01T00:00:00Z`.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "invalid timestamp {text:?} ({e}): expected RFC 3339 such as 2024-01-01T00:00:00Z"
            )
        })
}

/// Parses a byte size such as `512`, `64MiB` or `32GiB`.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("invalid size {text:?}: expected a number of bytes, optionally with KiB, MiB, GiB or TiB"))?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        other => {
            return Err(format!(
                "invalid size unit {other:?} in {text:?}: use KiB, MiB, GiB or TiB"
            ));
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

/// The document timestamp: the flag, else `SOURCE_DATE_EPOCH` (the
/// reproducible-builds convention), else now, truncated to seconds.
pub fn document_timestamp(flag: Option<DateTime<Utc>>) -> anyhow::Result<DateTime<Utc>> {
    if let Some(timestamp) = flag {
        return Ok(timestamp);
    }
    // An empty SOURCE_DATE_EPOCH counts as unset, as reproducible-builds tools treat it.
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        && !epoch.trim().is_empty()
    {
        let seconds: i64 = epoch
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={epoch:?} is not a number of seconds"))?;
        return DateTime::from_timestamp(seconds, 0)
            .with_context(|| format!("SOURCE_DATE_EPOCH={epoch:?} is out of range"));
    }
    let now = Utc::now();
    Ok(DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now))
}

fn progress_bar(image: &Image, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() || image.layers.is_empty() {
        return None;
    }
    let total: u64 = image.layers.iter().filter_map(|layer| layer.size).sum();
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{spinner} reading {msg} {bar:30} {bytes}/{total_bytes} ({eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(format!("{} layers", image.layers.len()));
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// Builds the inventory of one image.
pub fn inventory_of(
    reference: &str,
    options: &OpenOptions,
    quiet: bool,
) -> anyhow::Result<Inventory> {
    let image = open_image(reference, options)?;
    inventory_of_image(&image, options.limits.clone(), quiet)
}

/// Opens an image: reads its index, manifest and configuration, but no layer.
pub fn open_image(reference: &str, options: &OpenOptions) -> anyhow::Result<Image> {
    let image = Image::open(reference, options)?;
    if options.platform.is_some() && image.kind == SourceKind::Dir {
        tracing::warn!(
            "--platform is ignored: {reference} is a plain directory, which has no platform"
        );
    }
    tracing::info!(
        reference,
        kind = image.kind.scheme(),
        layers = image.layers.len(),
        "opened image"
    );
    Ok(image)
}

/// Builds the inventory of an opened image.
pub fn inventory_of_image(image: &Image, limits: Limits, quiet: bool) -> anyhow::Result<Inventory> {
    let reference = image.reference.as_str();
    let _span = tracing::info_span!("image", reference).entered();
    let bar = progress_bar(image, quiet).map(Arc::new);
    let progress_bar = bar.clone();
    let progress = move |bytes: u64| {
        if let Some(bar) = &progress_bar {
            bar.inc(bytes);
        }
    };
    let inventory = rampart_inventory::inventory_image(image, limits, Some(&progress));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(checked_inventory(inventory?))
}

/// Adds the warnings that concern the whole inventory.
pub fn checked_inventory(mut inventory: Inventory) -> Inventory {
    if inventory.distro.is_none() && inventory.packages.iter().any(|p| p.package_type.is_os()) {
        inventory
            .warnings
            .push("no OS release file found; purls carry no distro qualifier".to_owned());
    }
    tracing::info!(
        image = inventory.source.reference,
        packages = inventory.packages.len(),
        "cataloged image"
    );
    inventory
}

/// Logs warnings on stderr unless a table goes to stdout, because the table
/// lists them itself.
pub fn log_warnings(warnings: &[String], table_on_stdout: bool) {
    if table_on_stdout {
        return;
    }
    for warning in warnings {
        tracing::warn!("{warning}");
    }
}

pub fn run(args: SbomArgs, cache: &CacheDir, quiet: bool) -> anyhow::Result<()> {
    let mut outputs = args.outputs;
    if outputs.is_empty() {
        let format = if stdout_is_terminal() {
            SbomFormat::Table
        } else {
            SbomFormat::Json
        };
        outputs.push(OutputTarget { format, file: None });
    }
    check_targets(&outputs)?;
    let timestamp = document_timestamp(args.timestamp)?;

    let options = args.image.read.open_options(cache)?;
    let inventory = inventory_of(&args.image.image, &options, quiet)?;

    let table_on_stdout = outputs
        .iter()
        .any(|target| target.format == SbomFormat::Table && target.file.is_none());
    log_warnings(&inventory.warnings, table_on_stdout);

    let meta = DocumentMeta::deterministic(&inventory, timestamp, env!("CARGO_PKG_VERSION"));
    let color = stdout_is_terminal();
    let rendered = outputs
        .into_iter()
        .map(|target| {
            let text = render_sbom(
                target.format,
                &inventory,
                &meta,
                color && target.file.is_none(),
            );
            (target, text)
        })
        .collect();
    write_all(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_suffixes() {
        assert_eq!(parse_size("512").unwrap(), 512);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("32GiB").unwrap(), 32 << 30);
        assert!(parse_size("12XB").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }
}
