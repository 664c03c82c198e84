//! Go module versions, as ordered by the `go` command: the rules of
//! <https://go.dev/ref/mod#versions> and the `golang.org/x/mod/semver`
//! package (checked against `semver/semver_test.go` at golang/mod commit
//! 8b446299501e373f4d7a7d8869d5646e9bfb2e96).
//!
//! Traps:
//! - The `v` prefix is required: `1.2.3` is not a Go version, `v1.2.3` is.
//! - `vMAJOR` and `vMAJOR.MINOR` are shorthands for `vMAJOR.0.0` and
//!   `vMAJOR.MINOR.0`, but only without a pre-release or build suffix, so
//!   `v1.2-pre` is invalid.
//! - `+incompatible` (a v2+ module without a `go.mod`) is build metadata and
//!   does not change the order: `v2.0.0+incompatible == v2.0.0`.
//! - Pseudo-versions such as `v0.0.0-20191109021931-daa7c04131f5` are plain
//!   SemVer pre-releases and sort below the release they precede, so
//!   `v1.2.4-0.20191109021931-daa7c04131f5 < v1.2.4`.
//! - `golang.org/x/mod/semver.Compare` treats an invalid version as lower
//!   than every valid one. Here an invalid version is an error.
//!
//! Pre-release and build identifiers follow SemVer 2.0.0 (see
//! [`crate::semver`]): no leading zeros in numeric pre-release identifiers
//! and no empty identifiers.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::{SemverVersion, parse_core_number, split_suffixes};

const SCHEME: &str = "go";

/// A Go module version. Equality and ordering ignore build metadata such as
/// `+incompatible`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoVersion {
    version: SemverVersion,
}

impl GoVersion {
    /// The version as SemVer, with shorthands filled in.
    pub fn semver(&self) -> &SemverVersion {
        &self.version
    }

    /// Reports whether the build metadata is exactly `+incompatible`.
    pub fn is_incompatible(&self) -> bool {
        self.version.build == ["incompatible"]
    }

    /// Formats the version the way `semver.Canonical` does: shorthands filled
    /// in and build metadata dropped.
    pub fn canonical(&self) -> String {
        let mut text = self.to_string();
        if let Some(plus) = text.find('+') {
            text.truncate(plus);
        }
        text
    }
}

fn parse(text: &str) -> Result<SemverVersion, String> {
    let Some(rest) = text.strip_prefix('v') else {
        return Err("missing the \"v\" prefix".to_owned());
    };
    let (core, prerelease, build) = split_suffixes(rest)?;
    let parts: Vec<&str> = core.split('.').collect();
    let [major, minor, patch] = match parts.as_slice() {
        [major] => [*major, "0", "0"],
        [major, minor] => [*major, *minor, "0"],
        [major, minor, patch] => [*major, *minor, *patch],
        _ => return Err("core has more than three parts MAJOR.MINOR.PATCH".to_owned()),
    };
    // golang.org/x/mod/semver accepts `v1` and `v1.2` only as the whole string.
    if parts.len() < 3 && (!prerelease.is_empty() || !build.is_empty()) {
        return Err("a pre-release or build suffix needs all of MAJOR.MINOR.PATCH".to_owned());
    }
    Ok(SemverVersion {
        major: parse_core_number(major, "major")?,
        minor: parse_core_number(minor, "minor")?,
        patch: parse_core_number(patch, "patch")?,
        prerelease,
        build,
    })
}

impl FromStr for GoVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match parse(text) {
            Ok(version) => Ok(GoVersion { version }),
            Err(reason) => Err(VersionError::new(SCHEME, text, reason)),
        }
    }
}

impl fmt::Display for GoVersion {
    /// Writes `v` and the SemVer form, so `v1.2` is written as `v1.2.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.version)
    }
}

/// Compares two Go module versions as `golang.org/x/mod/semver.Compare`
/// does, except that an invalid version is an error.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a: GoVersion = a.parse()?;
    let b: GoVersion = b.parse()?;
    Ok(a.cmp(&b))
}

/// Reports whether `version` is a valid Go pseudo-version in one of the
/// forms of <https://go.dev/ref/mod#pseudo-versions>:
/// `vX.0.0-yyyymmddhhmmss-abcdefabcdef`,
/// `vX.Y.Z-pre.0.yyyymmddhhmmss-abcdefabcdef` and
/// `vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdefabcdef`, optionally with build metadata
/// such as `+incompatible`.
///
/// Like the `go` command, this checks the shape only: the timestamp digits are
/// not checked as a date and the revision may be any run of ASCII letters and
/// digits.
pub fn is_pseudo_version(version: &str) -> bool {
    let Ok(parsed) = version.parse::<GoVersion>() else {
        return false;
    };
    // A shorthand such as `v1` cannot carry a pre-release, so a valid
    // version with one has all three core parts written out.
    let Some((_, suffix)) = version.split_once('-') else {
        return false;
    };
    let prerelease = match suffix.split_once('+') {
        Some((prerelease, _)) => prerelease,
        None => suffix,
    };
    // The revision is the last hyphen-separated part because neither it nor
    // the timestamp contains a hyphen.
    let Some((head, revision)) = prerelease.rsplit_once('-') else {
        return false;
    };
    if revision.is_empty() || !revision.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return false;
    }
    let is_timestamp =
        |text: &str| text.len() == 14 && text.bytes().all(|byte| byte.is_ascii_digit());

    // Form `vX.0.0-yyyymmddhhmmss-rev`, used when no earlier tag exists.
    let [_, minor, patch] = parsed.version.core();
    if minor == "0" && patch == "0" && is_timestamp(head) {
        return true;
    }

    // Forms `...-pre.0.yyyymmddhhmmss-rev` and `...-0.yyyymmddhhmmss-rev`:
    // the timestamp follows an identifier `0`, which is either the whole
    // pre-release head or follows a dot.
    let Some(split) = head.len().checked_sub(14) else {
        return false;
    };
    let Some((before_timestamp, timestamp)) = head.split_at_checked(split) else {
        return false;
    };
    if !is_timestamp(timestamp) {
        return false;
    }
    match before_timestamp.strip_suffix("0.") {
        Some("") => true,
        Some(before_zero) => before_zero.ends_with('.'),
        None => false,
    }
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
    fn prefix_required() {
        assert!("1.2.3".parse::<GoVersion>().is_err());
        assert!("V1.2.3".parse::<GoVersion>().is_err());
    }

    #[test]
    fn shorthand_fills_zeros() {
        assert_eq!(order("v1", "v1.0.0"), Ordering::Equal);
        assert_eq!(order("v1.2", "v1.2.0"), Ordering::Equal);
        assert_eq!(order("v1.19", "v1.2"), Ordering::Greater);
    }

    #[test]
    fn shorthand_with_suffix_rejected() {
        for text in [
            "v1-pre",
            "v1+meta",
            "v1.2-pre",
            "v1.2+meta",
            "v1.2-pre+meta",
            "v01.2.3",
            "v1.2.3.4",
            "v",
        ] {
            assert!(text.parse::<GoVersion>().is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn incompatible_ignored_for_order() {
        assert_eq!(order("v2.0.0+incompatible", "v2.0.0"), Ordering::Equal);
        assert_eq!(order("v2.0.1+incompatible", "v2.0.0"), Ordering::Greater);
    }

    #[test]
    fn pseudo_versions_are_prereleases() {
        assert_eq!(
            order("v0.0.0-20191109021931-daa7c04131f5", "v0.0.1"),
            Ordering::Less
        );
        assert_eq!(
            order("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3"),
            Ordering::Greater
        );
        assert_eq!(
            order("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4"),
            Ordering::Less
        );
        assert_eq!(
            order("v1.2.3-pre.0.20191109021931-daa7c04131f5", "v1.2.3-pre"),
            Ordering::Greater
        );
        assert_eq!(
            order(
                "v0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20200101000000-0123456789ab"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn pseudo_version_forms_detected() {
        for text in [
            "v0.0.0-20191109021931-daa7c04131f5",
            "v2.0.0-20191109021931-daa7c04131f5+incompatible",
            "v1.2.4-0.20191109021931-daa7c04131f5",
            "v1.2.3-pre.0.20191109021931-daa7c04131f5",
            "v1.2.3-rc.1.0.20191109021931-daa7c04131f5",
        ] {
            assert!(is_pseudo_version(text), "{text:?} was not detected");
        }
    }

    #[test]
    fn pseudo_version_lookalikes_rejected() {
        for text in [
            "v1.2.3",
            "v1.2.3-pre",
            "v1.2.3-20191109021931-daa7c04131f5",
            "v0.0.0-2019110902193-daa7c04131f5",
            "v1.2.4-1.20191109021931-daa7c04131f5",
            "v1.2.4-x0.20191109021931-daa7c04131f5",
            "v0.0.0-20191109021931-",
            "0.0.0-20191109021931-daa7c04131f5",
            "v0.0.0-20191109021931-daa7c04131f5+",
        ] {
            assert!(!is_pseudo_version(text), "{text:?} was detected");
        }
    }

    const VERSION_PATTERN: &str = "v(0|[1-9][0-9]?)(\\.(0|[1-9])(\\.(0|[1-9])(-(0|[1-9]|[a-z]{1,3})(\\.(0|[0-9]{14}-[a-f0-9]{2}|[a-z]{1,2})){0,2})?(\\+incompatible)?)?)?";

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
        fn arbitrary_text_never_panics(a in ".*", b in "v\\PC*") {
            let _ = compare(&a, &b);
            let _ = is_pseudo_version(&a);
            let _ = is_pseudo_version(&b);
        }
    }

    /// Small parts, so that equal versions written differently come up often.
    const TRANSITIVITY_PATTERN: &str =
        "v[01](\\.[01](\\.[01](-([01]|[aA])(\\.([01]|a))?)?(\\+incompatible)?)?)?";

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
