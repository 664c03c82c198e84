//! Downloading the official feeds for `rampart db update`.
//!
//! Every feed file is fetched into the cache with a conditional request
//! (`If-None-Match` with the stored `ETag`, `If-Modified-Since` with the
//! stored `Last-Modified`), so an unchanged feed costs one `304 Not
//! Modified`. A download goes to a temporary file that is renamed into place
//! only when complete, so an interrupted update keeps the previous copy.
//! Requests are retried with exponential backoff on connection errors, 429
//! and 5xx, honouring `Retry-After` (in seconds) up to [`MAX_RETRY_AFTER`].

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};

use crate::build::FeedInput;
use crate::import::FeedKind;
use crate::store::InputMeta;

/// The maximum `Retry-After` wait honoured. A server that requests a longer
/// wait fails the download.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// OSV ecosystems downloaded by default, as OSV names their folders.
// NOTE: Wolfi and Chainguard are left out of the defaults because their
// advisory data is licensed with terms that restrict use by scanners; users
// who may use it add their URLs with `--feed osv=URL`.
const OSV_ECOSYSTEMS: [&str; 11] = [
    "Alpine",
    "Debian",
    "Ubuntu",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "Packagist",
    "NuGet",
];

/// Alpine branches whose secdb files are downloaded by default.
const ALPINE_BRANCHES: [&str; 11] = [
    "v3.12", "v3.13", "v3.14", "v3.15", "v3.16", "v3.17", "v3.18", "v3.19", "v3.20", "v3.21",
    "v3.22",
];

/// One feed `rampart db update` downloads: a name, a format and its URLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedSource {
    /// The name `--feed NAME=URL` and `--skip NAME` use.
    pub name: String,
    pub kind: FeedKind,
    pub urls: Vec<String>,
}

/// Returns the official feeds with their public URLs. NVD's yearly files
/// run from 2002 to `current_year`.
pub fn default_feeds(current_year: i32) -> Vec<FeedSource> {
    let osv = OSV_ECOSYSTEMS
        .iter()
        .map(|ecosystem| {
            format!("https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip")
        })
        .collect();
    let alpine = ALPINE_BRANCHES
        .iter()
        .flat_map(|branch| {
            ["main", "community"].map(|repository| {
                format!("https://secdb.alpinelinux.org/{branch}/{repository}.json")
            })
        })
        .collect();
    let nvd = (2002..=current_year)
        .map(|year| format!("https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-{year}.json.gz"))
        .collect();

    vec![
        FeedSource {
            name: "osv".to_owned(),
            kind: FeedKind::Osv,
            urls: osv,
        },
        FeedSource {
            name: "debian-tracker".to_owned(),
            kind: FeedKind::DebianTracker,
            urls: vec!["https://security-tracker.debian.org/tracker/data/json".to_owned()],
        },
        FeedSource {
            name: "alpine-secdb".to_owned(),
            kind: FeedKind::AlpineSecdb,
            urls: alpine,
        },
        FeedSource {
            name: "nvd".to_owned(),
            kind: FeedKind::Nvd,
            urls: nvd,
        },
        FeedSource {
            name: "kev".to_owned(),
            kind: FeedKind::Kev,
            urls: vec![
                "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
                    .to_owned(),
            ],
        },
        FeedSource {
            name: "epss".to_owned(),
            kind: FeedKind::Epss,
            urls: vec!["https://epss.empiricalsecurity.com/epss_scores-current.csv.gz".to_owned()],
        },
    ]
}

/// Applies `--feed NAME=URL` overrides and `--skip NAME` to a feed list. The
/// overrides of one name replace that feed's default URLs together.
pub fn configure_feeds(
    mut feeds: Vec<FeedSource>,
    overrides: &[(String, String)],
    skip: &[String],
) -> Result<Vec<FeedSource>, UpdateError> {
    for name in overrides.iter().map(|(name, _)| name).chain(skip) {
        if !feeds.iter().any(|feed| &feed.name == name) {
            let names: Vec<&str> = feeds.iter().map(|feed| feed.name.as_str()).collect();
            return Err(UpdateError::UnknownFeed {
                name: name.clone(),
                names: names.join(", "),
            });
        }
    }
    for feed in &mut feeds {
        let urls: Vec<String> = overrides
            .iter()
            .filter(|(name, _)| *name == feed.name)
            .map(|(_, url)| url.clone())
            .collect();
        if !urls.is_empty() {
            feed.urls = urls;
        }
    }
    feeds.retain(|feed| !skip.contains(&feed.name));
    Ok(feeds)
}

/// Download settings.
#[derive(Clone, Debug)]
pub struct DownloadOptions {
    /// Attempts per URL, including the first.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles for each further one.
    pub backoff: Duration,
    pub connect_timeout: Duration,
    /// The maximum wait for any read of a response.
    pub read_timeout: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            attempts: 4,
            backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// Receives download progress, for a progress bar.
pub trait DownloadProgress: Sync {
    /// Starts a download's progress; `total` is the `Content-Length` when known.
    fn start(&self, url: &str, total: Option<u64>);
    fn advance(&self, bytes: u64);
    fn finish(&self, url: &str, outcome: &Fetched);
}

/// A progress receiver that does nothing.
pub struct NoProgress;

impl DownloadProgress for NoProgress {
    fn start(&self, _url: &str, _total: Option<u64>) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self, _url: &str, _outcome: &Fetched) {}
}

/// What happened to one URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// The file was downloaded; the byte count is its size.
    Downloaded(u64),
    /// The server returned 304, so the cached copy is current.
    NotModified,
}

/// A failed update. The previous database and feed copies stay in place.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("unknown feed {name:?}: expected one of {names}")]
    UnknownFeed { name: String, names: String },
    #[error(
        "downloading {url} failed after {attempts} attempt(s): {reason}; check the network or \
         the URL, set another with --feed NAME=URL, or leave the feed out with --skip NAME"
    )]
    Download {
        url: String,
        attempts: u32,
        reason: String,
    },
    #[error("cannot write the feed cache {path}: {error}")]
    Cache { path: PathBuf, error: io::Error },
}

/// The cached state of one downloaded file, stored beside it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct CacheEntry {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    fetched_at: Option<DateTime<Utc>>,
}

/// Downloads every URL of `feeds` into `feed_dir` and returns the inputs of
/// the build that follows.
pub fn download_feeds(
    feeds: &[FeedSource],
    feed_dir: &Path,
    options: &DownloadOptions,
    progress: &dyn DownloadProgress,
) -> Result<Vec<FeedInput>, UpdateError> {
    let agent = make_agent(options);
    let mut inputs = Vec::new();
    for feed in feeds {
        let directory = feed_dir.join(&feed.name);
        fs::create_dir_all(&directory).map_err(|error| UpdateError::Cache {
            path: directory.clone(),
            error,
        })?;
        for url in &feed.urls {
            let target = directory.join(cache_file_name(url));
            let entry = download_one(&agent, url, &target, options, progress)?;
            inputs.push(FeedInput {
                path: target,
                kind: Some(feed.kind),
                meta: InputMeta {
                    feed: feed.name.clone(),
                    location: url.clone(),
                    fetched_at: entry.fetched_at,
                    etag: entry.etag,
                    last_modified: entry.last_modified,
                },
            });
        }
    }
    Ok(inputs)
}

fn make_agent(options: &DownloadOptions) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .timeout_connect(Some(options.connect_timeout))
        .timeout_recv_response(Some(options.read_timeout))
        .timeout_per_read(Some(options.read_timeout))
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// Makes a file name from a URL's path that stays unique across a feed's
/// URLs (`v3.20/main.json` → `v3.20_main.json`).
fn cache_file_name(url: &str) -> String {
    let path = url.split_once("://").map_or(url, |(_, rest)| {
        rest.split_once('/').map_or("", |(_, path)| path)
    });
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let name: String = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect::<Vec<_>>()
        .join("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("feed{name}")
    } else {
        name
    }
}

fn entry_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.meta.json"))
}

fn read_entry(target: &Path, url: &str) -> Option<CacheEntry> {
    if !target.is_file() {
        return None;
    }
    let text = fs::read_to_string(entry_path(target)).ok()?;
    let entry: CacheEntry = serde_json::from_str(&text).ok()?;
    (entry.url == url).then_some(entry)
}

/// The failure of one attempt, and whether another may succeed.
struct AttemptError {
    reason: String,
    retry: bool,
    retry_after: Option<Duration>,
}

fn download_one(
    agent: &ureq::Agent,
    url: &str,
    target: &Path,
    options: &DownloadOptions,
    progress: &dyn DownloadProgress,
) -> Result<CacheEntry, UpdateError> {
    let cached = read_entry(target, url);
    let mut delay = options.backoff;
    let attempts = options.attempts.max(1);
    for attempt in 1..=attempts {
        match attempt_download(agent, url, target, cached.as_ref(), progress) {
            Ok(entry) => return Ok(entry),
            Err(error) if error.retry && attempt < attempts => {
                let wait = match error.retry_after {
                    Some(wait) if wait > MAX_RETRY_AFTER => {
                        return Err(UpdateError::Download {
                            url: url.to_owned(),
                            attempts: attempt,
                            reason: format!(
                                "{}; the server asked to wait {} s",
                                error.reason,
                                wait.as_secs()
                            ),
                        });
                    }
                    Some(wait) => wait,
                    None => delay,
                };
                warn!(
                    url,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "retrying download: {}",
                    error.reason
                );
                thread::sleep(wait);
                delay = delay.saturating_mul(2);
            }
            Err(error) => {
                return Err(UpdateError::Download {
                    url: url.to_owned(),
                    attempts: attempt,
                    reason: error.reason,
                });
            }
        }
    }
    unreachable!("the last attempt returns")
}

fn attempt_download(
    agent: &ureq::Agent,
    url: &str,
    target: &Path,
    cached: Option<&CacheEntry>,
    progress: &dyn DownloadProgress,
) -> Result<CacheEntry, AttemptError> {
    let mut request = agent.get(url);
    if let Some(cached) = cached {
        if let Some(etag) = &cached.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(last_modified) = &cached.last_modified {
            request = request.header("If-Modified-Since", last_modified);
        }
    }

    let response = request.call().map_err(|error| AttemptError {
        reason: error.to_string(),
        retry: matches!(
            error,
            ureq::Error::Io(_)
                | ureq::Error::Timeout(_)
                | ureq::Error::ConnectionFailed
                | ureq::Error::HostNotFound
        ),
        retry_after: None,
    })?;

    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    if status == 304
        && let Some(cached) = cached
    {
        debug!(url, "not modified");
        progress.finish(url, &Fetched::NotModified);
        return Ok(cached.clone());
    }
    if !(200..300).contains(&status) {
        let retry_after = header("Retry-After")
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return Err(AttemptError {
            reason: format!("the server answered HTTP {status}"),
            retry: status == 429 || status >= 500,
            retry_after,
        });
    }

    let entry = CacheEntry {
        url: url.to_owned(),
        etag: header("ETag"),
        last_modified: header("Last-Modified"),
        fetched_at: Some(Utc::now()),
    };
    let total = header("Content-Length").and_then(|value| value.parse::<u64>().ok());
    progress.start(url, total);

    let partial = target.with_file_name(format!(
        ".{}.part",
        target
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let written =
        write_body(response.into_body().into_reader(), &partial, progress).map_err(|error| {
            let _ = fs::remove_file(&partial);
            AttemptError {
                reason: format!("reading the response failed: {error}"),
                retry: true,
                retry_after: None,
            }
        })?;
    if let Some(total) = total
        && written != total
    {
        let _ = fs::remove_file(&partial);
        return Err(AttemptError {
            reason: format!("the response ended after {written} of {total} bytes"),
            retry: true,
            retry_after: None,
        });
    }

    let install = || -> io::Result<()> {
        fs::rename(&partial, target)?;
        let text = serde_json::to_string_pretty(&entry).map_err(io::Error::other)?;
        fs::write(entry_path(target), text)
    };
    install().map_err(|error| AttemptError {
        reason: format!("cannot store {}: {error}", target.display()),
        retry: false,
        retry_after: None,
    })?;
    info!(url, bytes = written, "downloaded");
    progress.finish(url, &Fetched::Downloaded(written));
    Ok(entry)
}

fn write_body(
    mut body: impl Read,
    partial: &Path,
    progress: &dyn DownloadProgress,
) -> io::Result<u64> {
    let mut file = File::create(partial)?;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut written = 0u64;
    loop {
        let read = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        file.write_all(&buffer[..read])?;
        written += read as u64;
        progress.advance(read as u64);
    }
    file.sync_all()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_unique_per_path() {
        assert_eq!(
            cache_file_name("https://host.example/v3.20/main.json"),
            "v3.20_main.json"
        );
        assert_eq!(
            cache_file_name("http://127.0.0.1:8080/PyPI/all.zip?x=1"),
            "PyPI_all.zip"
        );
        assert_eq!(cache_file_name("http://127.0.0.1:8080/"), "feed");
        assert_eq!(cache_file_name("http://127.0.0.1/.hidden"), "feed.hidden");
    }

    #[test]
    fn overrides_replace_urls() {
        let feeds = configure_feeds(
            default_feeds(2026),
            &[
                ("kev".into(), "http://127.0.0.1:1/kev.json".into()),
                ("kev".into(), "http://127.0.0.1:1/kev.csv".into()),
            ],
            &["nvd".into()],
        )
        .unwrap();
        let kev = feeds.iter().find(|feed| feed.name == "kev").unwrap();
        assert_eq!(kev.urls.len(), 2);
        assert!(feeds.iter().all(|feed| feed.name != "nvd"));
    }

    #[test]
    fn unknown_feed_rejected() {
        let error = configure_feeds(default_feeds(2026), &[], &["nvdd".into()]).unwrap_err();
        assert!(error.to_string().contains("unknown feed \"nvdd\""));
    }

    #[test]
    fn defaults_cover_every_feed() {
        let feeds = default_feeds(2026);
        let nvd = feeds.iter().find(|feed| feed.name == "nvd").unwrap();
        assert_eq!(nvd.urls.len(), 25);
        assert!(nvd.urls.last().unwrap().ends_with("2026.json.gz"));
    }
}
