//! Builds an advisory database from a JSON Lines file of advisories and
//! measures it: build time, file size, open time, and the latency of
//! `Database::affected` for random (namespace, package) keys. Run by
//! benches/advisory-db.sh, which documents the measurement.
//!
//! ```text
//! advisory_db_bench --input FILE.jsonl --format osv|advisory \
//!     --output DB [--backend sqlite|redb] [--lookups 200000] [--seed 1]
//! advisory_db_bench --corpus DIR --output DB [--backend sqlite|redb]
//! ```
//!
//! `--format osv` parses each line with the OSV importer; `--format
//! advisory` parses the serde JSON of `Advisory`. `--corpus` reads a folder
//! of real feeds with the importers into memory first and times only the
//! store. The result is one JSON object on stdout.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rampart_advisory::import::{CollectingSink, RecordSink};
use rampart_advisory::store::{Backend, BuildMetadata, Database, DatabaseBuilder};
use rampart_advisory::{Advisory, Namespace};
use rayon::prelude::*;

/// Lines parsed in parallel before their advisories go to the builder.
const PARSE_BATCH: usize = 16384;

struct Options {
    input: Option<PathBuf>,
    corpus: Option<PathBuf>,
    format: String,
    output: PathBuf,
    backend: Backend,
    lookups: usize,
    seed: u64,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        input: None,
        corpus: None,
        format: "osv".to_owned(),
        output: PathBuf::new(),
        backend: Backend::Sqlite,
        lookups: 200_000,
        seed: 1,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        let mut value = || arguments.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--input" => options.input = Some(value()?.into()),
            "--corpus" => options.corpus = Some(value()?.into()),
            "--format" => options.format = value()?,
            "--output" => options.output = value()?.into(),
            "--lookups" => {
                options.lookups = value()?.parse().map_err(|e| format!("--lookups: {e}"))?
            }
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--backend" => {
                options.backend = match value()?.as_str() {
                    "sqlite" => Backend::Sqlite,
                    #[cfg(feature = "redb-backend")]
                    "redb" => Backend::Redb,
                    other => {
                        return Err(format!(
                            "unknown backend {other:?} (redb needs --features redb-backend)"
                        ));
                    }
                }
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if options.output.as_os_str().is_empty()
        || (options.input.is_none() && options.corpus.is_none())
    {
        return Err(
            "usage: advisory_db_bench (--input FILE.jsonl | --corpus DIR) --output DB".to_owned(),
        );
    }
    Ok(options)
}

/// Parses one JSON line into advisories.
fn parse_line(line: &str, format: &str, origin: &Path) -> Vec<Advisory> {
    match format {
        "advisory" => serde_json::from_str::<Advisory>(line).into_iter().collect(),
        _ => {
            let mut sink = CollectingSink::default();
            let _ = rampart_advisory::import::osv::import_osv_reader(
                line.as_bytes(),
                origin,
                &mut sink,
            );
            sink.advisories
        }
    }
}

/// Streams the JSON Lines file into the builder, parsing batches of lines
/// on all cores. Returns the (namespace, package) keys seen, for lookups.
fn import_lines(
    options: &Options,
    input: &Path,
    builder: &mut DatabaseBuilder,
) -> Result<BTreeSet<(String, String)>, String> {
    let file = std::fs::File::open(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let mut lines = std::io::BufReader::with_capacity(1 << 20, file).lines();
    let mut keys = BTreeSet::new();
    loop {
        let batch: Vec<String> = lines
            .by_ref()
            .take(PARSE_BATCH)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", input.display()))?;
        if batch.is_empty() {
            return Ok(keys);
        }
        let parsed: Vec<Vec<Advisory>> = batch
            .par_iter()
            .map(|line| parse_line(line, &options.format, input))
            .collect();
        for advisory in parsed.into_iter().flatten() {
            if advisory.withdrawn.is_none() {
                for affected in &advisory.affected {
                    keys.insert((
                        affected.namespace.as_str().to_owned(),
                        affected.package.clone(),
                    ));
                }
            }
            builder.add_advisory(advisory).map_err(|e| e.to_string())?;
        }
    }
}

/// Imports every feed file under a folder into memory, dispatching on the
/// feed kind that `detect` recognises, as `rampart db build --from` does.
fn read_corpus(corpus: &Path) -> Result<CollectingSink, String> {
    use rampart_advisory::import::detect::{Detected, detect};
    use rampart_advisory::import::{self, FeedKind};

    let mut files = Vec::new();
    let mut folders = vec![corpus.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();

    let mut sink = CollectingSink::default();
    for file in files {
        let result = match detect(&file).map_err(|e| format!("{}: {e}", file.display()))? {
            Detected::Feed(FeedKind::Osv) => import::osv::import_osv_file(&file, &mut sink),
            Detected::Feed(FeedKind::AlpineSecdb) => {
                import::alpine::import_alpine_secdb(&file, &mut sink)
            }
            Detected::Feed(FeedKind::DebianTracker) => {
                import::debian::import_file(&file, &mut sink)
            }
            Detected::Feed(FeedKind::DebianAdvisoryList) => {
                import::debian_list::import_file(&file, &mut sink)
            }
            Detected::Feed(FeedKind::Nvd) => import::nvd::import_file(&file, &mut sink),
            Detected::Feed(FeedKind::Cve5) => import::cve5::import_file(&file, &mut sink),
            Detected::Feed(FeedKind::Kev) => import::kev::import_file(&file, &mut sink),
            Detected::Feed(FeedKind::Epss) => import::epss::import_file(&file, &mut sink),
            Detected::OsvZip => import::osv::import_osv_zip(&file, &mut sink),
            Detected::NotAFeed => Ok(()),
        };
        if let Err(error) = result {
            eprintln!("advisory_db_bench: {error}");
        }
    }
    Ok(sink)
}

/// Adds the records read by [`read_corpus`] to the builder.
fn import_corpus(
    corpus: CollectingSink,
    builder: &mut DatabaseBuilder,
) -> Result<BTreeSet<(String, String)>, String> {
    let mut keys = BTreeSet::new();
    for advisory in corpus.advisories {
        if advisory.withdrawn.is_none() {
            for affected in &advisory.affected {
                keys.insert((
                    affected.namespace.as_str().to_owned(),
                    affected.package.clone(),
                ));
            }
        }
        builder.add_advisory(advisory).map_err(|e| e.to_string())?;
    }
    for entry in corpus.kev {
        builder.add_kev(entry).map_err(|e| e.to_string())?;
    }
    for score in corpus.epss {
        builder.add_epss(score).map_err(|e| e.to_string())?;
    }
    for skipped in corpus.skipped {
        builder.skipped(skipped);
    }
    Ok(keys)
}

/// A xorshift64* generator, for a reproducible key order without a
/// dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

fn main() {
    if let Err(message) = run() {
        eprintln!("advisory_db_bench: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let options = parse_options()?;
    let _ = std::fs::remove_file(&options.output);

    // The corpus is parsed before the clock starts, so its row measures the
    // store alone; the synthetic rows include parsing.
    let mut parse_s = 0.0;
    let corpus = match &options.corpus {
        Some(folder) => {
            let begin = Instant::now();
            let records = read_corpus(folder)?;
            parse_s = begin.elapsed().as_secs_f64();
            Some(records)
        }
        None => None,
    };

    let started = Instant::now();
    let mut builder = DatabaseBuilder::create_with_backend(&options.output, options.backend)
        .map_err(|e| e.to_string())?;
    let keys = match (corpus, &options.input) {
        (Some(corpus), _) => import_corpus(corpus, &mut builder)?,
        (None, Some(input)) => import_lines(&options, input, &mut builder)?,
        (None, None) => return Err("no input".to_owned()),
    };
    let imported = started.elapsed();
    let metadata = builder
        .finish(BuildMetadata {
            built_at: chrono::Utc::now(),
            rampart_version: env!("CARGO_PKG_VERSION").to_owned(),
            inputs: Vec::new(),
        })
        .map_err(|e| e.to_string())?;
    let build = started.elapsed();
    let file_bytes = std::fs::metadata(&options.output)
        .map_err(|e| e.to_string())?
        .len();

    // Open: the file is warm in the page cache after the build.
    let mut opens = Vec::new();
    for _ in 0..50 {
        let begin = Instant::now();
        let database = Database::open_with_backend(&options.output, options.backend)
            .map_err(|e| e.to_string())?;
        opens.push(begin.elapsed());
        drop(database);
    }
    opens.sort();

    let database =
        Database::open_with_backend(&options.output, options.backend).map_err(|e| e.to_string())?;
    let keys: Vec<(Namespace, String)> = keys
        .into_iter()
        .map(|(namespace, package)| (Namespace::from_key(&namespace), package))
        .collect();
    let mut random = Random(options.seed.max(1));
    let sample: Vec<&(Namespace, String)> = (0..options.lookups)
        .map(|_| &keys[(random.next() % keys.len() as u64) as usize])
        .collect();

    // One warm-up pass loads the touched pages, then the timed pass.
    let mut found = 0usize;
    for (namespace, package) in &sample {
        found += database
            .affected(namespace, package)
            .map_err(|e| e.to_string())?
            .len();
    }
    let mut latencies = Vec::with_capacity(sample.len());
    for (namespace, package) in &sample {
        let begin = Instant::now();
        let entries = database
            .affected(namespace, package)
            .map_err(|e| e.to_string())?;
        latencies.push(begin.elapsed());
        std::hint::black_box(entries);
    }
    latencies.sort();

    // The same keys again, each timed five times with the fastest call kept:
    // a second percentile that filters out preemption by other processes.
    let mut fastest = Vec::with_capacity(sample.len());
    for (namespace, package) in sample.iter().take(options.lookups / 4) {
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let begin = Instant::now();
            let entries = database
                .affected(namespace, package)
                .map_err(|e| e.to_string())?;
            best = best.min(begin.elapsed());
            std::hint::black_box(entries);
        }
        fastest.push(best);
    }
    fastest.sort();

    // The matcher's lookup: entries decoded in place and offered to a
    // selector, which here keeps none, so nothing is converted to owned
    // records. The matcher keeps only the entries that affect the installed
    // version, usually none or few.
    let in_place = |namespace: &Namespace, package: &str| {
        database.affected_matching(namespace, package, |entry| {
            std::hint::black_box(entry.ranges.len());
            None::<()>
        })
    };
    let mut in_place_latencies = Vec::with_capacity(sample.len());
    for (namespace, package) in &sample {
        let begin = Instant::now();
        let kept = in_place(namespace, package).map_err(|e| e.to_string())?;
        in_place_latencies.push(begin.elapsed());
        std::hint::black_box(kept);
    }
    in_place_latencies.sort();
    let mut in_place_fastest = Vec::with_capacity(sample.len());
    for (namespace, package) in sample.iter().take(options.lookups / 4) {
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let begin = Instant::now();
            let kept = in_place(namespace, package).map_err(|e| e.to_string())?;
            best = best.min(begin.elapsed());
            std::hint::black_box(kept);
        }
        in_place_fastest.push(best);
    }
    in_place_fastest.sort();

    // Throughput on all rayon threads.
    let begin = Instant::now();
    sample
        .par_iter()
        .try_for_each(|(namespace, package)| database.affected(namespace, package).map(drop))
        .map_err(|e| e.to_string())?;
    let parallel = begin.elapsed();

    let result = serde_json::json!({
        "backend": format!("{:?}", options.backend).to_lowercase(),
        "records": metadata.sources.iter().map(|s| s.records).sum::<u64>(),
        "packages": keys.len(),
        "entries_found": found,
        "corpus_parse_s": parse_s,
        "import_s": imported.as_secs_f64(),
        "build_s": build.as_secs_f64(),
        "file_bytes": file_bytes,
        "open_ms_median": opens[opens.len() / 2].as_secs_f64() * 1e3,
        "open_ms_max": opens[opens.len() - 1].as_secs_f64() * 1e3,
        "lookups": latencies.len(),
        "lookup_us_p50": percentile(&latencies, 0.50),
        "lookup_us_p99": percentile(&latencies, 0.99),
        "lookup_us_max": percentile(&latencies, 1.0),
        "fastest_of_5_us_p50": percentile(&fastest, 0.50),
        "fastest_of_5_us_p99": percentile(&fastest, 0.99),
        "in_place_us_p50": percentile(&in_place_latencies, 0.50),
        "in_place_us_p99": percentile(&in_place_latencies, 0.99),
        "in_place_us_max": percentile(&in_place_latencies, 1.0),
        "in_place_fastest_of_5_us_p99": percentile(&in_place_fastest, 0.99),
        "parallel_lookups_per_s": sample.len() as f64 / parallel.as_secs_f64(),
        "threads": rayon::current_num_threads(),
    });
    println!("{result}");
    Ok(())
}
