//! `rampart diff A B`: scan two images with one database snapshot, read in
//! parallel, and report what B changes against A: packages, findings per
//! severity, the reason each finding of A is gone, and image facts. Either
//! side can be a saved scan (`scan:FILE`, or a JSON file given as a path).
//! Exit code 1 with `--fail-if-worse` when B is worse.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use rampart_report::diff::{DiffFormat, Side, compare, parse_scan_json, render_diff};

use crate::cache::CacheDir;
use crate::output::{OutputTarget, check_targets, parse_target, stdout_is_terminal, write_all};
use crate::sbom::{
    ReadArgs, checked_inventory, document_timestamp, inventory_of_image, log_warnings, open_image,
    parse_timestamp,
};
use crate::scan::{FilterArgs, ScanOutcome, build_report, open_database};
use rampart_image::OpenOptions;
use rampart_inventory::Inventory;

/// Largest saved scan file read, in bytes.
const MAX_SCAN_FILE: u64 = 512 << 20;

#[derive(Args)]
pub struct DiffArgs {
    /// The standard image (A): any image reference `rampart scan` takes,
    /// sbom:FILE, or a saved scan as scan:FILE (`rampart scan -o json=FILE`).
    pub a: String,

    /// The image compared with A (B), usually its hardened equivalent; the
    /// same kinds of reference as A.
    pub b: String,

    #[command(flatten)]
    read: ReadArgs,

    /// Output as FORMAT or FORMAT=FILE; repeat for several. Formats: table,
    /// json, markdown, html. Default: table when stdout is a terminal, else json.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]", value_parser = parse_target::<DiffFormat>)]
    outputs: Vec<OutputTarget<DiffFormat>>,

    #[command(flatten)]
    filters: FilterArgs,

    /// Exit with code 1 when B has more critical findings than A, or more
    /// critical and high findings together.
    #[arg(long)]
    fail_if_worse: bool,

    /// Warn when the database was built longer ago than this (units s, m, h, d, w).
    #[arg(long, value_name = "DURATION", env = "RAMPART_DB_MAX_AGE", default_value = "7d", value_parser = crate::db::parse_age)]
    max_db_age: Duration,

    /// Report timestamp (RFC 3339), for reproducible output. Default:
    /// $SOURCE_DATE_EPOCH if set, else now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    timestamp: Option<DateTime<Utc>>,
}

/// One side as given on the command line.
enum Input {
    /// A saved scan JSON file.
    Saved(String),
    /// An image or SBOM to scan now.
    Scan(String),
}

impl Input {
    fn of(reference: &str) -> Input {
        if let Some(path) = reference.strip_prefix("scan:") {
            return Input::Saved(path.to_owned());
        }
        if is_json_file(Path::new(reference)) {
            return Input::Saved(reference.to_owned());
        }
        Input::Scan(reference.to_owned())
    }
}

/// Returns whether a plain path is a JSON file (its first non-blank byte is `{`).
fn is_json_file(path: &Path) -> bool {
    use std::io::Read;
    if !path.is_file() {
        return false;
    }
    let mut head = [0u8; 64];
    let Ok(read) = std::fs::File::open(path).and_then(|mut file| file.read(&mut head)) else {
        return false;
    };
    head[..read]
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'{')
}

pub fn run(args: DiffArgs, cache: &CacheDir) -> anyhow::Result<ScanOutcome> {
    let mut outputs = args.outputs.clone();
    if outputs.is_empty() {
        let format = if stdout_is_terminal() {
            DiffFormat::Table
        } else {
            DiffFormat::Json
        };
        outputs.push(OutputTarget { format, file: None });
    }
    check_targets(&outputs)?;
    let created = document_timestamp(args.timestamp)?;

    let inputs = [Input::of(&args.a), Input::of(&args.b)];
    let needs_database = inputs.iter().any(|input| matches!(input, Input::Scan(_)));
    // The database, ignore file and VEX documents are read before the
    // images, so a mistake in them fails fast.
    let database = needs_database.then(|| open_database(cache)).transpose()?;
    let policy = args.filters.load()?;

    let [input_a, input_b] = &inputs;
    let options = if needs_database {
        args.read.open_options(cache)?
    } else {
        OpenOptions::default()
    };
    let (inventory_a, inventory_b) = read_both(input_a, input_b, &options)?;

    let side = |input: &Input, inventory: Option<anyhow::Result<_>>| -> anyhow::Result<Side> {
        match (input, inventory) {
            (Input::Saved(path), _) => {
                // The filters, ignore file and VEX apply to saved findings
                // too, so both sides count the same way.
                let mut side = read_saved(path)?;
                let warnings =
                    policy.apply(&mut side.findings, side.image_purl.as_deref(), Utc::now());
                side.warnings.extend(warnings);
                Ok(side)
            }
            (Input::Scan(_), Some(inventory)) => {
                let database = database
                    .as_ref()
                    .context("the vulnerability database is not open")?;
                let report = build_report(database, inventory?, &policy, args.max_db_age, created)?;
                Ok(Side::from_report(report))
            }
            (Input::Scan(reference), None) => anyhow::bail!("{reference} was not read"),
        }
    };
    let a = side(input_a, inventory_a)?;
    let b = side(input_b, inventory_b)?;
    let report = compare(a, b, created, env!("CARGO_PKG_VERSION"));

    let table_on_stdout = outputs
        .iter()
        .any(|target| target.format == DiffFormat::Table && target.file.is_none());
    log_warnings(&report.warnings, table_on_stdout);

    let color = stdout_is_terminal();
    let rendered = outputs
        .into_iter()
        .map(|target| {
            let text = render_diff(&report, target.format, color && target.file.is_none());
            (target, text)
        })
        .collect();
    write_all(rendered)?;

    if args.fail_if_worse && report.is_worse() {
        let count = |label: &str| {
            report
                .severities
                .iter()
                .find(|row| row.label == label)
                .map_or((0, 0), |row| (row.a, row.b))
        };
        let (critical_a, critical_b) = count("critical");
        let (high_a, high_b) = count("high");
        let reason = if critical_b > critical_a {
            format!("B has more critical findings than A: {critical_b} against {critical_a}")
        } else {
            format!(
                "B has more critical and high findings together than A: {} against {}",
                critical_b + high_b,
                critical_a + high_a
            )
        };
        return Ok(ScanOutcome::PolicyFailed(format!(
            "{reason} (--fail-if-worse)"
        )));
    }
    Ok(ScanOutcome::Passed)
}

/// An image or SBOM opened for reading.
enum Opened {
    Image(rampart_image::Image),
    Sbom(Inventory),
}

fn open(input: &Input, options: &OpenOptions) -> anyhow::Result<Option<Opened>> {
    let Input::Scan(reference) = input else {
        return Ok(None);
    };
    if let Some(path) = reference.strip_prefix("sbom:") {
        let inventory = rampart_inventory::sbom_input::inventory_from_sbom(Path::new(path))?;
        return Ok(Some(Opened::Sbom(inventory)));
    }
    let image =
        open_image(reference, options).with_context(|| format!("cannot scan {reference}"))?;
    Ok(Some(Opened::Image(image)))
}

type Read = Option<anyhow::Result<Inventory>>;

/// Reads the sides that are images or SBOMs. Two images are read at once,
/// their layers sharing the threads largest first
/// ([`rampart_inventory::inventory_images`]).
fn read_both(a: &Input, b: &Input, options: &OpenOptions) -> anyhow::Result<(Read, Read)> {
    let opened_a = open(a, options)?;
    let opened_b = open(b, options)?;
    if let (Some(Opened::Image(image_a)), Some(Opened::Image(image_b))) = (&opened_a, &opened_b) {
        let mut results =
            rampart_inventory::inventory_images(&[image_a, image_b], options.limits.clone(), None)
                .into_iter()
                .zip([image_a, image_b])
                .map(|(result, image)| {
                    result
                        .map(checked_inventory)
                        .with_context(|| format!("cannot scan {}", image.reference))
                });
        return Ok((results.next(), results.next()));
    }
    let inventory = |opened: Opened| match opened {
        Opened::Sbom(inventory) => Ok(inventory),
        Opened::Image(image) => inventory_of_image(&image, options.limits.clone(), true)
            .with_context(|| format!("cannot scan {}", image.reference)),
    };
    Ok((opened_a.map(inventory), opened_b.map(inventory)))
}

/// Reads a saved scan JSON file.
fn read_saved(path: &str) -> anyhow::Result<Side> {
    if path.is_empty() {
        anyhow::bail!("scan: needs a file name, as in scan:standard.json");
    }
    let file = Path::new(path);
    let size = std::fs::metadata(file)
        .with_context(|| {
            format!(
                "cannot read the saved scan {path}; make it with `rampart scan IMAGE -o json={path}`"
            )
        })?
        .len();
    if size > MAX_SCAN_FILE {
        anyhow::bail!(
            "the saved scan {path} is {size} bytes, more than the {MAX_SCAN_FILE}-byte limit; \
             compare the images themselves instead"
        );
    }
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the saved scan {path}"))?;
    parse_scan_json(&text, path).map_err(anyhow::Error::msg)
}
