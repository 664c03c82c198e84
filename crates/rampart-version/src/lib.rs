//! Version schemes of package ecosystems. Each scheme is one module that
//! documents its traps and compares two version strings with the
//! ecosystem's own rules; versions are never compared by string shape.
//! The `osv` module evaluates OSV affected ranges with these schemes.

pub mod apk;
pub mod dpkg;
pub mod go;
pub mod maven;
pub mod npm;
pub mod nuget;
pub mod osv;
pub mod packagist;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// An invalid version string for a scheme.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} version {version:?}: {reason}")]
pub struct VersionError {
    pub scheme: &'static str,
    pub version: String,
    pub reason: String,
}

impl VersionError {
    pub fn new(scheme: &'static str, version: &str, reason: impl Into<String>) -> Self {
        VersionError {
            scheme,
            version: version.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A version scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Dpkg,
    Rpm,
    Apk,
    Pep440,
    Semver,
    Go,
    Maven,
    RubyGems,
    NuGet,
    Packagist,
}

impl Scheme {
    /// Every scheme with the name `--scheme` takes.
    pub const ALL: [(Scheme, &'static str); 10] = [
        (Scheme::Dpkg, "dpkg"),
        (Scheme::Rpm, "rpm"),
        (Scheme::Apk, "apk"),
        (Scheme::Pep440, "pep440"),
        (Scheme::Semver, "semver"),
        (Scheme::Go, "go"),
        (Scheme::Maven, "maven"),
        (Scheme::RubyGems, "rubygems"),
        (Scheme::NuGet, "nuget"),
        (Scheme::Packagist, "packagist"),
    ];

    /// The scheme's name, as `--scheme` takes it.
    pub fn name(self) -> &'static str {
        Scheme::ALL
            .iter()
            .find(|(scheme, _)| *scheme == self)
            .map_or("unknown", |(_, name)| name)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Scheme::ALL
            .iter()
            .find(|(_, name)| *name == text.to_ascii_lowercase())
            .map(|(scheme, _)| *scheme)
            .ok_or_else(|| {
                let names: Vec<&str> = Scheme::ALL.iter().map(|(_, name)| *name).collect();
                format!(
                    "unknown version scheme {text:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Compares two versions with the rules of `scheme`. Fails when either
/// version is invalid in that scheme; apk and rpm compare any string, as
/// their package managers do. Packagist also fails for two different dev
/// branches, which Composer does not order.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    match scheme {
        Scheme::Dpkg => dpkg::compare(a, b),
        Scheme::Rpm => rpm::compare(a, b),
        Scheme::Apk => apk::compare(a, b),
        Scheme::Pep440 => pep440::compare(a, b),
        Scheme::Semver => semver::compare(a, b),
        Scheme::Go => go::compare(a, b),
        Scheme::Maven => maven::compare(a, b),
        Scheme::RubyGems => rubygems::compare(a, b),
        Scheme::NuGet => nuget::compare(a, b),
        Scheme::Packagist => packagist::compare(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for (scheme, name) in Scheme::ALL {
            assert_eq!(name.parse::<Scheme>().unwrap(), scheme);
            assert_eq!(scheme.to_string(), name);
        }
        assert!("cargo".parse::<Scheme>().is_err());
    }

    #[test]
    fn dispatch_uses_each_scheme() {
        assert_eq!(
            compare(Scheme::Dpkg, "1.0~rc1", "1.0").unwrap(),
            Ordering::Less
        );
        assert_eq!(
            compare(Scheme::Apk, "1.6-r0", "1.6_rc1-r0").unwrap(),
            Ordering::Greater
        );
        assert_eq!(
            compare(Scheme::Rpm, "0:5.26.3-417.el8_3", "4:5.26.3-417.el8_3").unwrap(),
            Ordering::Less
        );
        assert_eq!(
            compare(Scheme::Pep440, "1.0.dev0", "1.0a0").unwrap(),
            Ordering::Less
        );
        assert_eq!(
            compare(Scheme::Semver, "1.0.0-alpha", "1.0.0").unwrap(),
            Ordering::Less
        );
        assert_eq!(
            compare(Scheme::Go, "v1.2.3+incompatible", "v1.2.3").unwrap(),
            Ordering::Equal
        );
        assert_eq!(
            compare(Scheme::Maven, "2.414.2-cb-5", "2.414.2").unwrap(),
            Ordering::Greater
        );
        assert_eq!(
            compare(Scheme::RubyGems, "1.0.a", "1.0").unwrap(),
            Ordering::Less
        );
        assert_eq!(
            compare(Scheme::NuGet, "1.0", "1.0.0.0").unwrap(),
            Ordering::Equal
        );
        assert_eq!(
            compare(Scheme::Packagist, "1.0.0-patch1", "1.0.0").unwrap(),
            Ordering::Greater
        );
        assert!(compare(Scheme::Semver, "01.0.0", "1.0.0").is_err());
    }
}

/// Order laws that the proptests of every scheme module check.
#[cfg(test)]
pub(crate) mod order_laws {
    use std::cmp::Ordering;

    use crate::VersionError;

    /// Checks transitivity (`x <= y <= z` implies `x <= z`) and equality
    /// consistency (`x == y` implies that `x` and `y` compare alike with
    /// `z`) for every ordering of the three versions, so the sorted order is
    /// always among the cases checked. Pairs that fail to compare are
    /// skipped. Returns the first violation found.
    pub(crate) fn check_transitive(
        compare: impl Fn(&str, &str) -> Result<Ordering, VersionError>,
        versions: [&str; 3],
    ) -> Result<(), String> {
        let [a, b, c] = versions;
        let orders = [
            [a, b, c],
            [a, c, b],
            [b, a, c],
            [b, c, a],
            [c, a, b],
            [c, b, a],
        ];
        for [x, y, z] in orders {
            let (Ok(xy), Ok(yz), Ok(xz)) = (compare(x, y), compare(y, z), compare(x, z)) else {
                continue;
            };
            if xy != Ordering::Greater && yz != Ordering::Greater && xz == Ordering::Greater {
                return Err(format!("{x:?} <= {y:?} <= {z:?}, but {x:?} > {z:?}"));
            }
            if xy == Ordering::Equal && yz != xz {
                return Err(format!(
                    "{x:?} == {y:?}, but {y:?} is {yz:?} to {z:?} and {x:?} is {xz:?} to it"
                ));
            }
        }
        Ok(())
    }
}
