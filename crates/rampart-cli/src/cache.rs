//! The cache directory: the vulnerability database, downloaded feeds and
//! image blobs pulled from registries. `--cache-dir DIR` or `RAMPART_CACHE_DIR` sets it;
//! the default is `$XDG_CACHE_HOME/rampart`, else `~/.cache/rampart`.

use std::path::PathBuf;

use anyhow::bail;

/// The resolved cache directory.
#[derive(Clone, Debug)]
pub struct CacheDir(PathBuf);

impl CacheDir {
    /// Resolves the cache directory from the option's value (which clap
    /// already filled from `RAMPART_CACHE_DIR`) or the XDG default.
    pub fn resolve(option: Option<PathBuf>) -> anyhow::Result<CacheDir> {
        if let Some(dir) = option.filter(|dir| !dir.as_os_str().is_empty()) {
            return Ok(CacheDir(dir));
        }
        let from_env = |name: &str| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .filter(|dir| dir.is_absolute())
        };
        if let Some(xdg) = from_env("XDG_CACHE_HOME") {
            return Ok(CacheDir(xdg.join("rampart")));
        }
        if let Some(home) = from_env("HOME") {
            return Ok(CacheDir(home.join(".cache").join("rampart")));
        }
        bail!("cannot find a cache directory: HOME is not set; set one with --cache-dir DIR")
    }

    /// Returns the path of the vulnerability database file.
    pub fn database(&self) -> PathBuf {
        self.0.join("db").join("rampart.db")
    }

    /// Returns the folder of downloaded feed files.
    pub fn feeds(&self) -> PathBuf {
        self.0.join("feeds")
    }

    /// Returns the folder of cached image blobs (layers and configs).
    pub fn blobs(&self) -> PathBuf {
        self.0.join("blobs")
    }

    /// Returns the cache directory itself.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

/// `rampart cache`: inspect and empty the cache directory.
#[derive(clap::Subcommand)]
pub enum CacheCommand {
    /// Show where the cache is and what it contains.
    Info,
    /// Remove the cached image blobs; with --all, also the vulnerability
    /// database and the downloaded feeds.
    Clean {
        /// Also remove the vulnerability database and downloaded feeds.
        #[arg(long)]
        all: bool,
    },
}

pub fn run(command: CacheCommand, cache: &CacheDir) -> anyhow::Result<()> {
    use anyhow::Context;
    use rampart_image::source::registry::BlobCache;

    let blobs = BlobCache::new(cache.blobs(), u64::MAX);
    match command {
        CacheCommand::Info => {
            let usage = blobs
                .usage()
                .with_context(|| format!("cannot read {}", cache.blobs().display()))?;
            let database = std::fs::metadata(cache.database()).map(|m| m.len()).ok();
            let feeds = directory_size(&cache.feeds());
            println!("cache directory: {}", cache.path().display());
            match database {
                Some(bytes) => println!("database: {} ({bytes} bytes)", cache.database().display()),
                None => println!(
                    "database: none (build one with `rampart db build --from PATH` or `rampart db update`)"
                ),
            }
            println!("feeds: {} ({feeds} bytes)", cache.feeds().display());
            println!(
                "image blobs: {} (blobs: {}, partial downloads: {}, bytes: {})",
                cache.blobs().display(),
                usage.blobs,
                usage.partial,
                usage.bytes
            );
        }
        CacheCommand::Clean { all } => {
            let usage = blobs
                .clean()
                .with_context(|| format!("cannot clean {}", cache.blobs().display()))?;
            println!(
                "removed image blobs: {}, partial downloads: {}, bytes: {}",
                usage.blobs, usage.partial, usage.bytes
            );
            if all {
                for path in [cache.database(), cache.feeds()] {
                    let removed = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else if path.exists() {
                        std::fs::remove_file(&path)
                    } else {
                        Ok(())
                    };
                    removed.with_context(|| format!("cannot remove {}", path.display()))?;
                    println!("removed {}", path.display());
                }
            }
        }
    }
    Ok(())
}

/// Sums the sizes of the files under `dir`; 0 when it does not exist.
fn directory_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => directory_size(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}
