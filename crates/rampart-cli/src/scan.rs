//! `rampart scan`: inventory an image (or read an SBOM), match it against the
//! vulnerability database, apply filters, the ignore file and VEX, and
//! render the findings. Exit code 1 when `--fail-on` or `--fail-on-kev`
//! meets a finding that is not suppressed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use rampart_advisory::store::Database;
use rampart_advisory::{Rating, Status};
use rampart_image::OpenOptions;
use rampart_inventory::Inventory;
use rampart_match::policy::{Filters, IgnoreRules};
use rampart_match::{Finding, match_inventory, vex};
use rampart_report::scan::{
    DatabaseIdentity, DatabaseSource, RenderOptions, ScanFormat, ScanReport, render_scan,
};

use crate::cache::CacheDir;
use crate::output::{OutputTarget, check_targets, parse_target, stdout_is_terminal, write_all};
use crate::sbom::{ImageArgs, document_timestamp, inventory_of, log_warnings, parse_timestamp};

/// The ignore file read from the working directory when `--ignore-file` is not given.
const DEFAULT_IGNORE_FILE: &str = ".rampartignore.yaml";

#[derive(Args)]
pub struct ScanArgs {
    #[command(flatten)]
    image: ImageArgs,

    /// Output as FORMAT or FORMAT=FILE; repeat for several. Formats: table,
    /// json, sarif, cyclonedx-json, markdown. Default: table when stdout is a
    /// terminal, else json.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]", value_parser = parse_target::<ScanFormat>)]
    outputs: Vec<OutputTarget<ScanFormat>>,

    #[command(flatten)]
    filters: FilterArgs,

    /// Exit with code 1 when a finding that is not suppressed has this
    /// severity or a higher one.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Rating>,

    /// Exit with code 1 when a finding that is not suppressed is in CISA KEV.
    #[arg(long)]
    fail_on_kev: bool,

    /// Warn when the database was built longer ago than this (units s, m, h, d, w).
    #[arg(long, value_name = "DURATION", env = "RAMPART_DB_MAX_AGE", default_value = "7d", value_parser = crate::db::parse_age)]
    max_db_age: Duration,

    /// Report timestamp (RFC 3339), for reproducible output. Default:
    /// $SOURCE_DATE_EPOCH if set, else now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    timestamp: Option<DateTime<Utc>>,
}

/// The options that decide which findings count, shared by `scan` and `diff`.
#[derive(Args)]
pub struct FilterArgs {
    /// Report only these severities (comma-separated: critical, high, medium,
    /// low, negligible, unknown); the rest are suppressed.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    severity: Vec<Rating>,

    /// Suppress findings that have no fixed version.
    #[arg(long)]
    ignore_unfixed: bool,

    /// Suppress findings with these statuses (comma-separated: fixed,
    /// not-fixed, wont-fix, end-of-life).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    ignore_status: Vec<Status>,

    /// Ignore file (YAML, entries under `ignore:` with id, purl or path, and
    /// optional expires and statement). Default: .rampartignore.yaml in the
    /// working directory, when present.
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<PathBuf>,

    /// VEX document (OpenVEX or CycloneDX VEX); repeat for several.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,
}

/// The filters, ignore file and VEX statements, read once and applied to
/// every scan of a command.
pub struct FindingPolicy {
    ignore: Option<IgnoreRules>,
    statements: Vec<vex::VexStatement>,
    filters: Filters,
}

impl FindingPolicy {
    /// Applies VEX, the ignore file and the filters to findings, marking
    /// the ones they suppress; returns warnings about expired ignore entries.
    pub fn apply(
        &self,
        findings: &mut [Finding],
        image_purl: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        vex::apply(&self.statements, findings, image_purl);
        let mut warnings = Vec::new();
        if let Some(ignore) = &self.ignore {
            warnings.extend(ignore.apply(findings, now.date_naive()));
        }
        self.filters.apply(findings);
        warnings
    }
}

impl FilterArgs {
    /// Reads the ignore file and VEX documents, so a mistake in them fails
    /// before any image is read.
    pub fn load(&self) -> anyhow::Result<FindingPolicy> {
        let ignore = load_ignore_file(self.ignore_file.as_deref())?;
        let mut statements = Vec::new();
        for path in &self.vex {
            statements.extend(vex::load(path)?);
        }
        Ok(FindingPolicy {
            ignore,
            statements,
            filters: Filters {
                severities: self.severity.clone(),
                ignore_unfixed: self.ignore_unfixed,
                ignore_statuses: self.ignore_status.clone(),
            },
        })
    }
}

/// The result of a scan that did not fail with an error.
pub enum ScanOutcome {
    Passed,
    /// `--fail-on` or `--fail-on-kev` met a finding.
    PolicyFailed(String),
}

pub fn run(args: ScanArgs, cache: &CacheDir, quiet: bool) -> anyhow::Result<ScanOutcome> {
    let mut outputs = args.outputs.clone();
    if outputs.is_empty() {
        let format = if stdout_is_terminal() {
            ScanFormat::Table
        } else {
            ScanFormat::Json
        };
        outputs.push(OutputTarget { format, file: None });
    }
    check_targets(&outputs)?;
    let created = document_timestamp(args.timestamp)?;

    // The database, ignore file and VEX documents are read before the image,
    // so a mistake in them fails fast.
    let database = open_database(cache)?;
    let policy = args.filters.load()?;
    let options = args.image.read.open_options(cache)?;
    let inventory = read_target(&args.image.image, &options, quiet)?;
    let report = build_report(&database, inventory, &policy, args.max_db_age, created)?;

    // A table on stdout lists the warnings itself; otherwise they go to
    // stderr, so they are seen whatever the outputs are.
    let table_on_stdout = outputs
        .iter()
        .any(|target| target.format == ScanFormat::Table && target.file.is_none());
    log_warnings(&report.warnings, table_on_stdout);

    let color = stdout_is_terminal();
    let rendered = outputs
        .into_iter()
        .map(|target| {
            let options = RenderOptions {
                color: color && target.file.is_none(),
            };
            let text = render_scan(&report, target.format, options);
            (target, text)
        })
        .collect();
    write_all(rendered)?;

    Ok(policy_outcome(&report, args.fail_on, args.fail_on_kev))
}

/// Matches an inventory, applies VEX, the ignore file and the filters, and
/// makes the report.
pub fn build_report(
    database: &Database,
    inventory: Inventory,
    policy: &FindingPolicy,
    max_db_age: Duration,
    created: DateTime<Utc>,
) -> anyhow::Result<ScanReport> {
    let now = Utc::now();
    let outcome = match_inventory(database, &inventory, now)?;
    let mut findings = outcome.findings;
    let mut warnings = inventory.warnings.clone();
    warnings.extend(outcome.warnings);

    let image_purl = image_purl(&inventory);
    warnings.extend(policy.apply(&mut findings, image_purl.as_deref(), now));

    let metadata = database.metadata();
    let age = now.signed_duration_since(metadata.built_at);
    let too_old = age.to_std().is_ok_and(|age| age > max_db_age);
    if too_old {
        warnings.push(format!(
            "the vulnerability database was built on {}, more than --max-db-age ago; run `rampart \
             db update` for current advisories",
            metadata.built_at.format("%Y-%m-%d")
        ));
    }
    Ok(ScanReport {
        created,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        inventory,
        image_purl,
        os_namespace: outcome.os_namespace,
        database: DatabaseIdentity {
            built_at: metadata.built_at,
            schema_version: metadata.schema_version,
            sources: metadata
                .sources
                .iter()
                .map(|source| DatabaseSource {
                    source: source.source.clone(),
                    records: source.records,
                    newest_modified: source.newest_modified,
                })
                .collect(),
            too_old,
        },
        findings,
        warnings,
    })
}

/// Opens the database, refusing a missing or empty one with the command
/// that makes one.
pub fn open_database(cache: &CacheDir) -> anyhow::Result<Database> {
    let path = cache.database();
    if !path.exists() {
        bail!(
            "no vulnerability database at {}; build one from local feed files with `rampart db \
             build --from PATH`, or download the feeds with `rampart db update`",
            path.display()
        );
    }
    let database = Database::open(&path)?;
    let records: u64 = database
        .metadata()
        .sources
        .iter()
        .map(|source| source.records)
        .sum();
    if records == 0 {
        bail!(
            "the vulnerability database at {} has no advisories, so a scan would find nothing; \
             build it with feed files that contain advisories (`rampart db build --from PATH`) \
             or run `rampart db update`",
            path.display()
        );
    }
    Ok(database)
}

fn load_ignore_file(flag: Option<&Path>) -> anyhow::Result<Option<IgnoreRules>> {
    match flag {
        Some(path) => Ok(Some(IgnoreRules::load(path)?)),
        None => {
            let default = Path::new(DEFAULT_IGNORE_FILE);
            if default.is_file() {
                tracing::info!("using the ignore file {DEFAULT_IGNORE_FILE}");
                Ok(Some(IgnoreRules::load(default)?))
            } else {
                Ok(None)
            }
        }
    }
}

/// Reads the scan target: an SBOM for `sbom:FILE`, else an image.
fn read_target(reference: &str, options: &OpenOptions, quiet: bool) -> anyhow::Result<Inventory> {
    if let Some(path) = reference.strip_prefix("sbom:") {
        let inventory = rampart_inventory::sbom_input::inventory_from_sbom(Path::new(path))?;
        tracing::info!(packages = inventory.packages.len(), "read SBOM");
        return Ok(inventory);
    }
    inventory_of(reference, options, quiet).with_context(|| format!("cannot scan {reference}"))
}

/// Returns the image's purl (`pkg:oci/NAME@DIGEST?repository_url=REPOSITORY`),
/// when the image has a manifest digest.
fn image_purl(inventory: &Inventory) -> Option<String> {
    let digest = inventory.source.manifest_digest.as_deref()?;
    let repository = inventory
        .source
        .name
        .split(['@'])
        .next()
        .unwrap_or_default();
    let repository = match repository.rsplit_once(':') {
        // A tag after the last `/`, not a registry port.
        Some((name, tag)) if !tag.contains('/') => name,
        _ => repository,
    };
    let name = repository
        .rsplit('/')
        .next()
        .unwrap_or(repository)
        .to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    let encode = |text: &str| rampart_inventory::purl::encode(text, b"");
    Some(format!(
        "pkg:oci/{}@{}?repository_url={}",
        encode(&name),
        encode(digest),
        encode(repository)
    ))
}

fn policy_outcome(report: &ScanReport, fail_on: Option<Rating>, fail_on_kev: bool) -> ScanOutcome {
    let active = || report.findings.iter().filter(|finding| finding.is_active());
    if let Some(threshold) = fail_on {
        let count = active()
            .filter(|finding| finding.severity >= threshold)
            .count();
        if count > 0 {
            return ScanOutcome::PolicyFailed(format!(
                "{count} finding(s) of severity {threshold} or higher (--fail-on {threshold})"
            ));
        }
    }
    if fail_on_kev {
        let count = active().filter(|finding| finding.kev.is_some()).count();
        if count > 0 {
            return ScanOutcome::PolicyFailed(format!(
                "{count} finding(s) listed in CISA KEV (--fail-on-kev)"
            ));
        }
    }
    ScanOutcome::Passed
}
