//! Facts about an image that decide how much an attacker can do inside a
//! container made from it: its size, whether it has a shell, a package
//! manager or setuid binaries, and whether it runs as root. `rampart diff`
//! compares them between a standard image and its hardened equivalent.

use rampart_image::{FileKind, Filesystem, Image, LayerSummary};
use serde::{Deserialize, Serialize};

/// Shell programs looked for in the directories of [`BIN_DIRS`].
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox",
];

/// Package managers looked for in the directories of [`BIN_DIRS`]: the
/// distributions' first, then the language ecosystems'.
const PACKAGE_MANAGERS: &[&str] = &[
    "apt", "apt-get", "dpkg", "apk", "rpm", "dnf", "microdnf", "yum", "tdnf", "zypper", "pip",
    "pip3", "npm", "yarn", "pnpm", "gem", "composer",
];

/// Directories searched for shells and package managers.
const BIN_DIRS: &[&str] = &[
    "/bin",
    "/usr/bin",
    "/sbin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
];

/// Mode bits of set-user-ID and set-group-ID files.
const SETUID_BIT: u32 = 0o4000;
const SETGID_BIT: u32 = 0o2000;

/// Facts about one image's final filesystem and configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFacts {
    /// Sum of the stored layer sizes; absent when a layer's size is unknown
    /// (a root filesystem directory has no compressed size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compressed_size: Option<u64>,
    /// Sum of the uncompressed layer sizes (tar streams), or of the file
    /// sizes for a directory.
    pub uncompressed_size: u64,
    pub layers: usize,
    /// Regular files in the final filesystem, after whiteouts.
    pub files: u64,
    /// Shells present, as the paths that resolve to a regular file.
    pub shells: Vec<String>,
    /// Package manager programs present, as paths.
    pub package_managers: Vec<String>,
    /// Regular files with the set-user-ID bit.
    pub setuid_files: Vec<String>,
    /// Regular files with the set-group-ID bit.
    pub setgid_files: Vec<String>,
    /// The configured user (`USER`), absent when the image sets none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Whether processes start as root: no user, `root`, `0`, or a group
    /// only, all of which mean UID 0.
    pub runs_as_root: bool,
}

impl ImageFacts {
    /// Reads the facts of a squashed image.
    pub fn of(image: &Image, layers: &[LayerSummary], fs: &Filesystem) -> ImageFacts {
        let mut files = 0u64;
        let mut file_bytes = 0u64;
        let mut setuid_files = Vec::new();
        let mut setgid_files = Vec::new();
        fs.walk(|info| {
            if info.kind != FileKind::Regular {
                return;
            }
            files += 1;
            file_bytes += info.size;
            if info.mode & SETUID_BIT != 0 {
                setuid_files.push(info.path.clone());
            }
            if info.mode & SETGID_BIT != 0 {
                setgid_files.push(info.path.clone());
            }
        });

        let compressed_size = if layers.is_empty() {
            None
        } else {
            layers
                .iter()
                .map(|layer| layer.size)
                .try_fold(0u64, |sum, size| size.map(|size| sum + size))
        };
        let uncompressed_size = if layers.is_empty() {
            file_bytes
        } else {
            layers.iter().map(|layer| layer.uncompressed_size).sum()
        };
        let user = image
            .config
            .as_ref()
            .and_then(|config| config.config.as_ref())
            .and_then(|config| config.user.clone())
            .filter(|user| !user.trim().is_empty());
        ImageFacts {
            compressed_size,
            uncompressed_size,
            layers: layers.len(),
            files,
            shells: programs(fs, SHELLS),
            package_managers: programs(fs, PACKAGE_MANAGERS),
            setuid_files,
            setgid_files,
            runs_as_root: is_root(user.as_deref()),
            user,
        }
    }
}

/// Returns the paths of `names` in the binary directories that resolve to a
/// regular file. A directory that is a symbolic link (`/bin` to `usr/bin` in
/// a merged-/usr image) is skipped, so each program is listed once.
fn programs(fs: &Filesystem, names: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for dir in BIN_DIRS {
        let is_real_dir = fs
            .lstat(dir)
            .is_some_and(|info| info.kind == FileKind::Directory);
        if !is_real_dir {
            continue;
        }
        for name in names {
            let path = format!("{dir}/{name}");
            if fs
                .stat(&path)
                .is_some_and(|info| info.kind == FileKind::Regular)
            {
                found.push(path);
            }
        }
    }
    found
}

/// Returns whether a `USER` value means UID 0. The user part comes before an
/// optional `:GROUP`; an image without a user runs as root.
fn is_root(user: Option<&str>) -> bool {
    let Some(user) = user else {
        return true;
    };
    let name = user.split(':').next().unwrap_or_default().trim();
    name.is_empty() || name == "root" || name.trim_start_matches('0').is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_users() {
        assert!(is_root(None));
        assert!(is_root(Some("root")));
        assert!(is_root(Some("0")));
        assert!(is_root(Some("0:0")));
        assert!(is_root(Some("00")));
        assert!(is_root(Some(":1000")));
        assert!(!is_root(Some("nonroot")));
        assert!(!is_root(Some("65532:65532")));
        assert!(!is_root(Some("1000")));
        assert!(!is_root(Some("10")));
    }
}
