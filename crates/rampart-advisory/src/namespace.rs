//! Namespaces: where a package name means one thing. A namespace is either a
//! language ecosystem (`pypi`, `npm`, `crates.io`) or a distro release
//! (`debian:12`, `alpine:3.18`, `ubuntu:22.04`), and it fixes the version
//! scheme that compares the package's versions.
//!
//! Traps:
//! - Feeds name releases differently: the Debian tracker says `bookworm`, OSV
//!   says `Debian:12`, Alpine's secdb says `v3.18`, OSV `Alpine:v3.18`, and
//!   Ubuntu's OSV records `Ubuntu:22.04:LTS`. All of them map to one key here,
//!   so an image's `/etc/os-release` finds every feed's records.
//! - Debian `sid` has no number; it is `debian:unstable`.
//! - Package names compare after the ecosystem's own normalisation: PEP 503
//!   for PyPI, case-insensitive ids for NuGet and Packagist.

use std::fmt;

use rampart_version::Scheme;
use serde::{Deserialize, Serialize};

/// Debian release codenames and their major versions.
const DEBIAN_RELEASES: [(&str, &str); 19] = [
    ("buzz", "1.1"),
    ("rex", "1.2"),
    ("bo", "1.3"),
    ("hamm", "2.0"),
    ("slink", "2.1"),
    ("potato", "2.2"),
    ("woody", "3.0"),
    ("sarge", "3.1"),
    ("etch", "4"),
    ("lenny", "5"),
    ("squeeze", "6"),
    ("wheezy", "7"),
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
];

/// A namespace key such as `pypi` or `debian:12`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Namespace(String);

impl Namespace {
    /// Creates the namespace of a language ecosystem from any spelling of
    /// its name (`PyPI`, `pypi`, `crates.io`).
    pub fn ecosystem(name: &str) -> Namespace {
        Namespace(name.to_ascii_lowercase())
    }

    /// Creates the namespace of a distro release. Debian codenames become
    /// major versions (`bookworm` → `12`, `sid` → `unstable`), a leading `v`
    /// of Alpine branches goes, and point releases are cut to the level the
    /// distro publishes advisories for (Debian `12.5` → `12`, Alpine
    /// `3.18.4` → `3.18`).
    pub fn distro(distro: &str, release: &str) -> Namespace {
        let distro = distro.to_ascii_lowercase();
        let release = release.trim().to_ascii_lowercase();
        let release = match distro.as_str() {
            "debian" => debian_release(&release),
            "alpine" => alpine_branch(&release),
            _ => release,
        };
        Namespace(format!("{distro}:{release}"))
    }

    /// Maps an OSV `affected[].package.ecosystem` to a namespace:
    /// `Debian:12` → `debian:12`, `Alpine:v3.18` → `alpine:3.18`,
    /// `Ubuntu:22.04:LTS` → `ubuntu:22.04`, `Ubuntu:Pro:18.04:LTS` →
    /// `ubuntu-pro:18.04`, and language ecosystems to their lowercase name.
    /// Returns `None` for an empty string.
    pub fn from_osv_ecosystem(ecosystem: &str) -> Option<Namespace> {
        let ecosystem = ecosystem.trim();
        if ecosystem.is_empty() {
            return None;
        }
        let mut parts = ecosystem.split(':');
        let name = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let namespace = match (name.to_ascii_lowercase().as_str(), rest.as_slice()) {
            (_, []) => Namespace::ecosystem(name),
            ("ubuntu", ["Pro", release, ..]) => Namespace::distro("ubuntu-pro", release),
            ("ubuntu", [release, ..]) => Namespace::distro("ubuntu", release),
            (distro, [release, ..]) => Namespace::distro(distro, release),
        };
        Some(namespace)
    }

    /// Wraps a key as stored (the output of [`Namespace::as_str`]).
    pub fn from_key(key: &str) -> Namespace {
        Namespace(key.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the distro name of a distro namespace (`debian` for `debian:12`).
    pub fn distro_name(&self) -> Option<&str> {
        self.0.split_once(':').map(|(distro, _)| distro)
    }

    /// Returns the family part: the distro name, or the whole ecosystem name.
    pub fn family(&self) -> &str {
        self.distro_name().unwrap_or(&self.0)
    }

    /// Returns the version scheme of the namespace's packages, or `None` for an
    /// ecosystem rampart has no scheme for (its records are stored but
    /// cannot be evaluated).
    pub fn scheme(&self) -> Option<Scheme> {
        let scheme = match self.family() {
            "debian" | "ubuntu" | "ubuntu-pro" => Scheme::Dpkg,
            "alpine" | "wolfi" | "chainguard" | "alpaquita" | "bellsoft hardened containers" => {
                Scheme::Apk
            }
            "rhel" | "redhat" | "centos" | "rocky linux" | "almalinux" | "fedora" | "opensuse"
            | "suse" | "amazon" | "oracle" | "mageia" | "openeuler" | "azure linux" => Scheme::Rpm,
            "pypi" => Scheme::Pep440,
            "npm" | "crates.io" | "dhi" | "hex" | "pub" | "swifturl" => Scheme::Semver,
            "go" => Scheme::Go,
            "maven" => Scheme::Maven,
            "rubygems" => Scheme::RubyGems,
            "nuget" => Scheme::NuGet,
            "packagist" => Scheme::Packagist,
            _ => return None,
        };
        Some(scheme)
    }

    /// Normalises a package name the way the namespace compares names: PEP 503
    /// for PyPI (lowercase, runs of `-`, `_`, `.` become one `-`), lowercase
    /// for NuGet and Packagist, unchanged elsewhere.
    pub fn normalize_package(&self, name: &str) -> String {
        match self.family() {
            "pypi" => pep503_name(name),
            "nuget" | "packagist" => name.to_ascii_lowercase(),
            _ => name.to_owned(),
        }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Maps a Debian codename or version to the major version advisories use.
fn debian_release(release: &str) -> String {
    if release == "sid" || release == "unstable" {
        return "unstable".to_owned();
    }
    if let Some((_, version)) = DEBIAN_RELEASES.iter().find(|(name, _)| *name == release) {
        return (*version).to_owned();
    }
    match release.split_once('.') {
        // Releases before 4.0 are numbered `major.minor` themselves.
        Some((major, _)) if major.parse::<u32>().is_ok_and(|n| n >= 4) => major.to_owned(),
        _ => release.to_owned(),
    }
}

/// Maps an Alpine release or branch (`v3.18`, `3.18.4`, `edge`) to its branch.
fn alpine_branch(release: &str) -> String {
    let release = release.strip_prefix('v').unwrap_or(release);
    let mut parts = release.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => release.to_owned(),
    }
}

/// Normalises a Python distribution name (PEP 503).
pub fn pep503_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                normalized.push('-');
            }
            in_separator = true;
        } else {
            normalized.push(c.to_ascii_lowercase());
            in_separator = false;
        }
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_codenames_and_points() {
        assert_eq!(
            Namespace::distro("debian", "bookworm").as_str(),
            "debian:12"
        );
        assert_eq!(Namespace::distro("Debian", "12.5").as_str(), "debian:12");
        assert_eq!(
            Namespace::distro("debian", "sid").as_str(),
            "debian:unstable"
        );
        assert_eq!(Namespace::distro("debian", "3.1").as_str(), "debian:3.1");
    }

    #[test]
    fn alpine_branches() {
        assert_eq!(Namespace::distro("alpine", "v3.18").as_str(), "alpine:3.18");
        assert_eq!(
            Namespace::distro("alpine", "3.20.3").as_str(),
            "alpine:3.20"
        );
        assert_eq!(Namespace::distro("alpine", "edge").as_str(), "alpine:edge");
    }

    #[test]
    fn osv_ecosystems() {
        let key = |e: &str| {
            Namespace::from_osv_ecosystem(e)
                .unwrap()
                .as_str()
                .to_owned()
        };
        assert_eq!(key("PyPI"), "pypi");
        assert_eq!(key("crates.io"), "crates.io");
        assert_eq!(key("Debian:12"), "debian:12");
        assert_eq!(key("Alpine:v3.18"), "alpine:3.18");
        assert_eq!(key("Ubuntu:22.04:LTS"), "ubuntu:22.04");
        assert_eq!(key("Ubuntu:Pro:18.04:LTS"), "ubuntu-pro:18.04");
        assert_eq!(key("DHI"), "dhi");
        assert!(Namespace::from_osv_ecosystem("").is_none());
    }

    #[test]
    fn schemes_by_family() {
        assert_eq!(
            Namespace::distro("debian", "12").scheme(),
            Some(Scheme::Dpkg)
        );
        assert_eq!(Namespace::ecosystem("Wolfi").scheme(), Some(Scheme::Apk));
        assert_eq!(Namespace::ecosystem("PyPI").scheme(), Some(Scheme::Pep440));
        assert_eq!(Namespace::ecosystem("unknown-thing").scheme(), None);
    }

    #[test]
    fn pep503_normalisation() {
        assert_eq!(pep503_name("Jinja2"), "jinja2");
        assert_eq!(pep503_name("zope.interface"), "zope-interface");
        assert_eq!(pep503_name("foo__-.bar"), "foo-bar");
    }
}
