//! The cache directory: the vulnerability database, downloaded feeds and
//! (later) image layers. `--cache-dir DIR` or `RAMPART_CACHE_DIR` sets it;
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
}
