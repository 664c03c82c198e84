//! Semantic Versioning 2.0.0 (<https://semver.org/spec/v2.0.0.html>), strict.
//!
//! Traps:
//! - Build metadata (`+...`) is ignored for precedence (item 10), so
//!   `1.0.0+a` and `1.0.0+b` compare equal, and `==` on [`SemverVersion`]
//!   ignores it too.
//! - A pre-release version is lower than its normal version (item 11.3):
//!   `1.0.0-rc.1 < 1.0.0`.
//! - Pre-release identifiers made only of digits compare numerically, and
//!   other identifiers compare in ASCII order, so `alpha.11 > alpha.2` but
//!   `alpha11 < alpha2` and `RC < alpha` (item 11.4).
//! - A numeric identifier is lower than an alphanumeric one, and a longer
//!   list of identifiers wins when the shorter one is its prefix (item 11.4).
//! - Numbers may exceed `u64` because the grammar puts no limit on them, so
//!   they are compared as decimal strings.
//!
//! Validity follows the grammar of items 2, 9 and 10: exactly three numeric
//! core parts, no leading zeros in the core or in numeric pre-release
//! identifiers, and identifiers of `[0-9A-Za-z-]` that are never empty. A
//! leading `v` is rejected, because Go's `v` prefix belongs to [`crate::go`].

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::VersionError;

const SCHEME: &str = "semver";

/// Compares two strings of ASCII digits by numeric value, for any length.
pub(crate) fn compare_decimal(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A pre-release identifier (item 9).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// Digits only, without leading zeros.
    Numeric(String),
    /// ASCII letters, digits and hyphens with at least one non-digit.
    Alphanumeric(String),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => compare_decimal(a, b),
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => {
                a.as_bytes().cmp(b.as_bytes())
            }
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(text) | Identifier::Alphanumeric(text) => f.write_str(text),
        }
    }
}

/// A SemVer 2.0.0 version. Equality and ordering ignore build metadata.
#[derive(Clone, Debug)]
pub struct SemverVersion {
    pub(crate) major: String,
    pub(crate) minor: String,
    pub(crate) patch: String,
    pub(crate) prerelease: Vec<Identifier>,
    pub(crate) build: Vec<String>,
}

impl SemverVersion {
    /// Major, minor and patch numbers as decimal strings without leading zeros.
    pub fn core(&self) -> [&str; 3] {
        [&self.major, &self.minor, &self.patch]
    }

    /// Pre-release identifiers, empty for a normal version.
    pub fn prerelease(&self) -> &[Identifier] {
        &self.prerelease
    }

    /// Build metadata identifiers, which never affect precedence.
    pub fn build(&self) -> &[String] {
        &self.build
    }
}

fn is_identifier_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-'
}

/// Parses a numeric core part: ASCII digits, no leading zero unless it is `0`.
pub(crate) fn parse_core_number(text: &str, part: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err(format!("{part} version is missing"));
    }
    if !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("{part} version {text:?} is not a number"));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(format!("{part} version {text:?} has a leading zero"));
    }
    Ok(text.to_owned())
}

/// Parses the dot-separated pre-release identifiers after the first `-` (item 9).
pub(crate) fn parse_prerelease(text: &str) -> Result<Vec<Identifier>, String> {
    let mut identifiers = Vec::new();
    for identifier in text.split('.') {
        if identifier.is_empty() {
            return Err("pre-release has an empty identifier".to_owned());
        }
        if !identifier.bytes().all(is_identifier_char) {
            return Err(format!(
                "pre-release identifier {identifier:?} contains a character outside [0-9A-Za-z-]"
            ));
        }
        if identifier.bytes().all(|byte| byte.is_ascii_digit()) {
            if identifier.len() > 1 && identifier.starts_with('0') {
                return Err(format!(
                    "numeric pre-release identifier {identifier:?} has a leading zero"
                ));
            }
            identifiers.push(Identifier::Numeric(identifier.to_owned()));
        } else {
            identifiers.push(Identifier::Alphanumeric(identifier.to_owned()));
        }
    }
    Ok(identifiers)
}

/// Parses the dot-separated build identifiers after `+` (item 10). Leading
/// zeros are allowed here.
pub(crate) fn parse_build(text: &str) -> Result<Vec<String>, String> {
    let mut identifiers = Vec::new();
    for identifier in text.split('.') {
        if identifier.is_empty() {
            return Err("build metadata has an empty identifier".to_owned());
        }
        if !identifier.bytes().all(is_identifier_char) {
            return Err(format!(
                "build identifier {identifier:?} contains a character outside [0-9A-Za-z-]"
            ));
        }
        identifiers.push(identifier.to_owned());
    }
    Ok(identifiers)
}

/// Splits `core[-prerelease][+build]` and parses the optional parts. The core
/// is returned unparsed because SemVer and Go accept different cores.
pub(crate) fn split_suffixes(text: &str) -> Result<(&str, Vec<Identifier>, Vec<String>), String> {
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, parse_build(build)?),
        None => (text, Vec::new()),
    };
    // The core never contains `-`, so the first `-` starts the pre-release,
    // which may itself contain hyphens.
    let (core, prerelease) = match rest.split_once('-') {
        Some((core, prerelease)) => (core, parse_prerelease(prerelease)?),
        None => (rest, Vec::new()),
    };
    Ok((core, prerelease, build))
}

fn parse(text: &str) -> Result<SemverVersion, String> {
    let (core, prerelease, build) = split_suffixes(text)?;
    let mut parts = core.split('.');
    let major = parse_core_number(parts.next().unwrap_or(""), "major")?;
    let minor = parse_core_number(parts.next().unwrap_or(""), "minor")?;
    let patch = parse_core_number(parts.next().unwrap_or(""), "patch")?;
    if parts.next().is_some() {
        return Err("core has more than three parts MAJOR.MINOR.PATCH".to_owned());
    }
    Ok(SemverVersion {
        major,
        minor,
        patch,
        prerelease,
        build,
    })
}

impl FromStr for SemverVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text).map_err(|reason| VersionError::new(SCHEME, text, reason))
    }
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let core = compare_decimal(&self.major, &other.major)
            .then_with(|| compare_decimal(&self.minor, &other.minor))
            .then_with(|| compare_decimal(&self.patch, &other.patch));
        // Item 11.3: a pre-release sorts below the normal version. Item 11.4:
        // `Vec` ordering compares identifiers left to right and ranks a
        // strict prefix lower.
        core.then_with(
            || match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.prerelease.cmp(&other.prerelease),
            },
        )
    }
}

impl PartialOrd for SemverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemverVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemverVersion {}

impl Hash for SemverVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Build metadata is left out to agree with `Eq`. The numbers never
        // have leading zeros, so equal values have equal strings.
        self.major.hash(state);
        self.minor.hash(state);
        self.patch.hash(state);
        self.prerelease.hash(state);
    }
}

impl fmt::Display for SemverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (index, identifier) in self.prerelease.iter().enumerate() {
            f.write_str(if index == 0 { "-" } else { "." })?;
            write!(f, "{identifier}")?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build.join("."))?;
        }
        Ok(())
    }
}

/// Compares two SemVer 2.0.0 versions by precedence (item 11).
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a: SemverVersion = a.parse()?;
    let b: SemverVersion = b.parse()?;
    Ok(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_laws::check_transitive;
    use proptest::prelude::*;

    fn order(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(ordering) => ordering,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn build_metadata_ignored() {
        assert_eq!(order("1.0.0+a", "1.0.0+b"), Ordering::Equal);
        assert_eq!(order("1.0.0-rc.1+x", "1.0.0-rc.1"), Ordering::Equal);
    }

    #[test]
    fn prerelease_below_release() {
        assert_eq!(order("1.0.0-rc.1", "1.0.0"), Ordering::Less);
    }

    #[test]
    fn prerelease_numeric_and_ascii_order() {
        assert_eq!(order("1.0.0-alpha.11", "1.0.0-alpha.2"), Ordering::Greater);
        assert_eq!(order("1.0.0-alpha11", "1.0.0-alpha2"), Ordering::Less);
        assert_eq!(order("1.0.0-RC", "1.0.0-alpha"), Ordering::Less);
        assert_eq!(order("1.0.0-1", "1.0.0-a"), Ordering::Less);
        assert_eq!(order("1.0.0-alpha", "1.0.0-alpha.0"), Ordering::Less);
    }

    #[test]
    fn numbers_beyond_u64() {
        assert_eq!(
            order("1.0.99999999999999999999", "1.0.100000000000000000000"),
            Ordering::Less
        );
        assert_eq!(
            order("1.0.0-99999999999999999999", "1.0.0-100000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn invalid_versions_rejected() {
        for text in [
            "",
            "1",
            "1.0",
            "v1.0.0",
            "01.0.0",
            "1.00.0",
            "1.0.0.0",
            "1.0.0-",
            "1.0.0-01",
            "1.0.0-a..b",
            "1.0.0+",
            "1.0.0+a..b",
            "1.0.0-a_b",
            " 1.0.0",
            "1.0.0-é",
        ] {
            assert!(
                text.parse::<SemverVersion>().is_err(),
                "{text:?} was accepted"
            );
        }
    }

    #[test]
    fn build_leading_zero_accepted() {
        assert!("1.0.0+001".parse::<SemverVersion>().is_ok());
        assert!("1.0.0-0a".parse::<SemverVersion>().is_ok());
    }

    #[test]
    fn display_round_trips() {
        let version: SemverVersion = match "1.0.0-x-y.7+exp.sha".parse() {
            Ok(version) => version,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(version.to_string(), "1.0.0-x-y.7+exp.sha");
    }

    const VERSION_PATTERN: &str = "(0|[1-9][0-9]{0,2})\\.(0|[1-9])\\.(0|[1-9])(-(0|[1-9]|[a-z-]{1,3})(\\.(0|[1-9][0-9]?|[a-zA-Z-]{1,2})){0,2})?(\\+[a-z0-9]{1,3})?";

    proptest! {
        #[test]
        fn compare_is_reflexive_and_antisymmetric(a in VERSION_PATTERN, b in VERSION_PATTERN) {
            prop_assert_eq!(compare(&a, &a), Ok(Ordering::Equal));
            let forward = compare(&a, &b);
            let backward = compare(&b, &a);
            prop_assert!(forward.is_ok());
            prop_assert_eq!(forward.map(Ordering::reverse), backward);
        }

        #[test]
        fn arbitrary_text_never_panics(a in ".*", b in "\\PC*") {
            let _ = compare(&a, &b);
            if let Ok(version) = a.parse::<SemverVersion>() {
                prop_assert_eq!(compare(&a, &a), Ok(Ordering::Equal));
                prop_assert_eq!(version.to_string(), a);
            }
        }
    }

    /// Small parts, so that equal versions written differently come up often.
    const TRANSITIVITY_PATTERN: &str =
        "[01]\\.[01]\\.[01](-([01]|[aA]|a-1)(\\.([01]|[aB]))?)?(\\+[a-z0-9]{1,2})?";

    proptest! {
        #[test]
        fn compare_is_transitive(
            a in TRANSITIVITY_PATTERN,
            b in TRANSITIVITY_PATTERN,
            c in TRANSITIVITY_PATTERN,
        ) {
            check_transitive(compare, [&a, &b, &c]).map_err(TestCaseError::fail)?;
        }
    }
}
