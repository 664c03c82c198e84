//! `rampart db`: build the vulnerability database from local feeds,
//! download and build it (`update`), install a prebuilt file (`import`), and
//! show what a database contains (`info`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, Utc};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets};
use indicatif::{ProgressBar, ProgressStyle};
use rampart_advisory::build::{BuildReport, FeedInput, build_database, install_database};
use rampart_advisory::store::{Database, Metadata};
use rampart_advisory::update::{
    DownloadOptions, DownloadProgress, Fetched, configure_feeds, default_feeds, download_feeds,
};

use crate::cache::CacheDir;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Build the database from local feed files and folders (OSV JSON, YAML
    /// or all.zip; Alpine secdb; Debian tracker JSON and DSA/DLA lists; NVD
    /// 2.0; CVE 5; KEV; EPSS). Folders are searched recursively and each
    /// file's format is detected.
    Build(BuildArgs),

    /// Download the official feeds into the cache and build the database.
    Update(UpdateArgs),

    /// Install a prebuilt database file (plain or zstd-compressed).
    Import(ImportArgs),

    /// Show the database's build time, sources and record counts.
    Info(InfoArgs),
}

#[derive(Args)]
pub struct BuildArgs {
    /// Feed files or folders to import.
    #[arg(long, value_name = "PATH", required = true, num_args = 1..)]
    from: Vec<PathBuf>,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// Replace a feed's URLs, as NAME=URL; repeat the same NAME for several
    /// URLs. Feeds: osv, debian-tracker, alpine-secdb, nvd, kev, epss.
    #[arg(long = "feed", value_name = "NAME=URL", value_parser = parse_feed_override)]
    feeds: Vec<(String, String)>,

    /// Leave a feed out of the update; repeat for several.
    #[arg(long, value_name = "NAME")]
    skip: Vec<String>,

    /// Attempts per file before the update fails (429, 5xx and connection
    /// errors are retried with exponential backoff).
    #[arg(long, value_name = "COUNT", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    attempts: u32,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The database file to install.
    file: PathBuf,
}

#[derive(Args)]
pub struct InfoArgs {
    /// Output format: table or json.
    #[arg(short, long = "output", value_name = "FORMAT", default_value = "table", value_parser = ["table", "json"])]
    output: String,

    /// Warn when the database was built longer ago than this (units s, m, h,
    /// d, w; for example 36h or 7d).
    #[arg(long, value_name = "DURATION", env = "RAMPART_DB_MAX_AGE", default_value = "7d", value_parser = parse_age)]
    max_age: Duration,
}

pub fn run(command: DbCommand, cache: &CacheDir, quiet: bool) -> anyhow::Result<()> {
    match command {
        DbCommand::Build(args) => build(args, cache),
        DbCommand::Update(args) => update(args, cache, quiet),
        DbCommand::Import(args) => import(args, cache),
        DbCommand::Info(args) => info(args, cache),
    }
}

fn build(args: BuildArgs, cache: &CacheDir) -> anyhow::Result<()> {
    let inputs: Vec<FeedInput> = args
        .from
        .iter()
        .map(|path| FeedInput::local(path))
        .collect();
    build_and_report(cache, &inputs)
}

fn build_and_report(cache: &CacheDir, inputs: &[FeedInput]) -> anyhow::Result<()> {
    let database = cache.database();
    let started = Instant::now();
    let (metadata, report) = build_database(&database, inputs, None)?;
    print_build_summary(&metadata, &report, started.elapsed());
    println!("database: {}", database.display());
    Ok(())
}

fn print_build_summary(metadata: &Metadata, report: &BuildReport, elapsed: Duration) {
    let records: u64 = metadata.sources.iter().map(|source| source.records).sum();
    let files: usize = report.files.iter().map(|(_, count)| count).sum();
    println!(
        "built in {:.1} s from {files} feed file(s): {records} advisories from {} source(s), \
         {} KEV entries, {} EPSS scores, {} skipped record(s)",
        elapsed.as_secs_f64(),
        metadata.sources.len(),
        metadata.kev_count,
        metadata.epss_count,
        metadata.skipped,
    );
    if !report.ignored_files.is_empty() {
        println!(
            "ignored {} file(s) that are not feeds (run with -vv to list them)",
            report.ignored_files.len()
        );
    }
    for example in &metadata.skipped_examples {
        eprintln!("warning: {example}");
    }
}

fn update(args: UpdateArgs, cache: &CacheDir, quiet: bool) -> anyhow::Result<()> {
    let feeds = configure_feeds(default_feeds(Utc::now().year()), &args.feeds, &args.skip)?;
    if feeds.is_empty() {
        bail!("every feed was left out with --skip; nothing to update");
    }
    let options = DownloadOptions {
        attempts: args.attempts,
        ..DownloadOptions::default()
    };
    let progress = BarProgress::new(quiet);
    let inputs = download_feeds(&feeds, &cache.feeds(), &options, &progress)?;
    progress.clear();
    build_and_report(cache, &inputs)
}

fn import(args: ImportArgs, cache: &CacheDir) -> anyhow::Result<()> {
    let database = cache.database();
    let metadata = install_database(&database, &args.file)?;
    println!(
        "installed {} (built {}) as {}",
        args.file.display(),
        metadata.built_at.to_rfc3339(),
        database.display()
    );
    Ok(())
}

fn info(args: InfoArgs, cache: &CacheDir) -> anyhow::Result<()> {
    let path = cache.database();
    if !path.exists() {
        bail!(
            "no vulnerability database at {}; build one with `rampart db build --from PATH` or \
             download the feeds with `rampart db update`",
            path.display()
        );
    }
    let database = Database::open(&path)?;
    let metadata = database.metadata();
    let age = Utc::now().signed_duration_since(metadata.built_at);
    let too_old = age.to_std().is_ok_and(|age| age > args.max_age);

    let text = match args.output.as_str() {
        "json" => render_json(metadata, &path, too_old)?,
        _ => render_table(metadata, &path),
    };
    print!("{text}");
    if too_old {
        eprintln!(
            "warning: the database was built {} ago, more than --max-age {}; run `rampart db \
             update` or build it again",
            format_age(age),
            format_age(chrono::Duration::from_std(args.max_age).unwrap_or_default()),
        );
    }
    Ok(())
}

fn render_table(metadata: &Metadata, path: &std::path::Path) -> String {
    let mut out = String::new();
    out.push_str(&format!("database:        {}\n", path.display()));
    out.push_str(&format!("schema version:  {}\n", metadata.schema_version));
    out.push_str(&format!(
        "built:           {} by rampart {}\n",
        metadata.built_at.to_rfc3339(),
        metadata.rampart_version
    ));
    out.push_str(&format!(
        "KEV entries:     {}\nEPSS scores:     {}{}\n",
        metadata.kev_count,
        metadata.epss_count,
        metadata
            .epss_newest_date
            .map(|date| format!(" (scored {date})"))
            .unwrap_or_default()
    ));
    out.push_str(&format!("skipped records: {}\n", metadata.skipped));
    out.push_str(&format!(
        "namespaces:      {}\n\n",
        metadata.namespaces.len()
    ));

    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table.set_header(["source", "records", "withdrawn", "skipped", "newest record"]);
    for source in &metadata.sources {
        table.add_row([
            source.source.clone(),
            source.records.to_string(),
            source.withdrawn.to_string(),
            source.skipped.to_string(),
            source
                .newest_modified
                .map(|time| time.to_rfc3339())
                .unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out
}

fn render_json(
    metadata: &Metadata,
    path: &std::path::Path,
    too_old: bool,
) -> anyhow::Result<String> {
    let sources: Vec<_> = metadata
        .sources
        .iter()
        .map(|source| {
            serde_json::json!({
                "source": source.source,
                "records": source.records,
                "withdrawn": source.withdrawn,
                "skipped": source.skipped,
                "newest_modified": source.newest_modified.map(|time| time.to_rfc3339()),
            })
        })
        .collect();
    let inputs: Vec<_> = metadata
        .inputs
        .iter()
        .map(|input| {
            serde_json::json!({
                "feed": input.feed,
                "location": input.location,
                "fetched_at": input.fetched_at.map(|time| time.to_rfc3339()),
                "etag": input.etag,
                "last_modified": input.last_modified,
            })
        })
        .collect();
    let namespaces: serde_json::Map<String, serde_json::Value> = metadata
        .namespaces
        .iter()
        .map(|(namespace, count)| (namespace.to_string(), (*count).into()))
        .collect();
    let document = serde_json::json!({
        "schema": "rampart.db-info/v1",
        "path": path.display().to_string(),
        "schema_version": metadata.schema_version,
        "built_at": metadata.built_at.to_rfc3339(),
        "rampart_version": metadata.rampart_version,
        "too_old": too_old,
        "inputs": inputs,
        "sources": sources,
        "namespaces": namespaces,
        "kev_count": metadata.kev_count,
        "epss_count": metadata.epss_count,
        "epss_newest_date": metadata.epss_newest_date.map(|date| date.to_string()),
        "skipped": metadata.skipped,
        "skipped_examples": metadata.skipped_examples,
    });
    let mut text = serde_json::to_string_pretty(&document).context("cannot render JSON")?;
    text.push('\n');
    Ok(text)
}

fn format_age(age: chrono::Duration) -> String {
    let hours = age.num_hours();
    if hours >= 48 {
        format!("{} days", hours / 24)
    } else if hours >= 1 {
        format!("{hours} hours")
    } else if age.num_minutes() >= 1 {
        format!("{} minutes", age.num_minutes())
    } else {
        format!("{} seconds", age.num_seconds().max(0))
    }
}

/// Parses `NAME=URL` of `--feed`.
fn parse_feed_override(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, url)) if !name.is_empty() && !url.is_empty() => {
            Ok((name.to_owned(), url.to_owned()))
        }
        _ => Err(format!(
            "invalid feed {text:?}: expected NAME=URL, such as kev=http://127.0.0.1:8080/kev.json"
        )),
    }
}

/// Parses a duration such as `90s`, `30m`, `36h`, `7d` or `2w`; a bare
/// `0` is zero.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| {
        format!("invalid duration {text:?}: expected a number and a unit, such as 7d")
    })?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "invalid duration {text:?}: the unit must be s, m, h, d or w, such as 7d"
            ));
        }
    };
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

/// A byte progress bar on stderr for downloads, shown only on a terminal.
struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl BarProgress {
    fn new(quiet: bool) -> Self {
        BarProgress {
            bar: Mutex::new(None),
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    fn clear(&self) {
        if let Ok(mut bar) = self.bar.lock()
            && let Some(bar) = bar.take()
        {
            bar.finish_and_clear();
        }
    }
}

impl DownloadProgress for BarProgress {
    fn start(&self, url: &str, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        let style =
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(url.rsplit('/').next().unwrap_or(url).to_owned());
        if let Ok(mut slot) = self.bar.lock()
            && let Some(previous) = slot.replace(bar)
        {
            previous.finish_and_clear();
        }
    }

    fn advance(&self, bytes: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(bytes);
        }
    }

    fn finish(&self, _url: &str, _outcome: &Fetched) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse() {
        assert_eq!(parse_age("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse_age("36h").unwrap(), Duration::from_secs(36 * 3600));
        assert!(parse_age("7").is_err());
        assert!(parse_age("d").is_err());
    }

    #[test]
    fn feed_overrides_parse() {
        let (name, url) = parse_feed_override("kev=http://127.0.0.1:1/k.json").unwrap();
        assert_eq!(name, "kev");
        assert_eq!(url, "http://127.0.0.1:1/k.json");
        assert!(parse_feed_override("kev").is_err());
    }
}
