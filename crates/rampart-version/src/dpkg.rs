//! Debian package versions (`dpkg`).
//!
//! Traps:
//! - `~` sorts before everything, even the end of the string, so
//!   `1.0~rc1` < `1.0` and `1.0~~` < `1.0~`.
//! - Letters sort before every other non-digit character, so `1.0a` < `1.0+`.
//! - Digit runs compare as integers of any length, so `1.09` == `1.9` and
//!   `1.0000-1` == `1.0-1`.
//! - The revision starts after the *last* hyphen, so the upstream part may
//!   contain hyphens (`0:0-0-0` is upstream `0-0`, revision `0`). Colons after
//!   the first one belong to the upstream part.
//! - A missing revision equals revision `0`, and a missing epoch is epoch 0.
//! - dpkg rejects some malformed versions outright (errors) but only warns
//!   on others, such as an upstream part starting with a letter or a
//!   character outside the allowed set. `dpkg --compare-versions` still
//!   compares versions that only trigger a warning, and so does [`compare`].
//!
//! Sources: deb-version(7) gives the format and ordering. dpkg's
//! `parseversion()` in `lib/dpkg/parsehelp.c` decides which inputs are errors
//! and which are warnings, and `verrevcmp()` in `lib/dpkg/version.c` gives the
//! exact ordering. Both agree with the test vectors from dpkg commit
//! c5efef92.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;

const SCHEME: &str = "dpkg";

/// dpkg rejects epochs above `INT_MAX` of a 32-bit C `int`.
const MAX_EPOCH: u64 = i32::MAX as u64;

/// A parsed Debian version `[epoch:]upstream[-revision]`.
///
/// The derived equality compares the strings, so `1.09` and `1.9` are
/// unequal under `==` while [`Ord`] treats them as equal, as dpkg does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DpkgVersion {
    pub epoch: u32,
    pub upstream: String,
    /// The revision, empty when the version has no hyphen.
    pub revision: String,
}

impl DpkgVersion {
    /// Parses a version strictly: both dpkg parse errors and dpkg parse
    /// warnings are returned as errors.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let version = Self::parse_lenient(text)?;
        match version.warning() {
            Some(reason) => Err(VersionError::new(SCHEME, text, reason)),
            None => Ok(version),
        }
    }

    /// Parses a version the way `dpkg --compare-versions` does: parse errors
    /// fail, but problems that dpkg only warns about (see [`Self::warning`])
    /// are accepted.
    pub fn parse_lenient(text: &str) -> Result<Self, VersionError> {
        let invalid = |reason: &str| VersionError::new(SCHEME, text, reason);

        // dpkg trims blanks (space and tab) on both sides, and rejects blanks
        // inside the version.
        let trimmed = text.trim_matches(is_blank);
        if trimmed.is_empty() {
            return Err(invalid("version string is empty"));
        }
        if trimmed.contains(is_blank) {
            return Err(invalid("version string has embedded spaces"));
        }

        let (epoch, rest) = match trimmed.split_once(':') {
            Some((epoch_text, rest)) => {
                let epoch = parse_epoch(epoch_text).map_err(invalid)?;
                if rest.is_empty() {
                    return Err(invalid("nothing after colon in version number"));
                }
                (epoch, rest)
            }
            None => (0, trimmed),
        };

        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err(invalid("revision number is empty")),
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(invalid("version number is empty"));
        }

        Ok(DpkgVersion {
            epoch,
            upstream: upstream.to_owned(),
            revision: revision.to_owned(),
        })
    }

    /// Returns the problem dpkg only warns about, if any: an upstream part
    /// that does not start with a digit, or a character outside the allowed
    /// set (`[A-Za-z0-9.+~-:]` upstream, `[A-Za-z0-9.+~]` in the revision).
    pub fn warning(&self) -> Option<&'static str> {
        if !self.upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return Some("version number does not start with digit");
        }
        let upstream_ok = |c: char| c.is_ascii_alphanumeric() || ".-+~:".contains(c);
        if !self.upstream.chars().all(upstream_ok) {
            return Some("invalid character in version number");
        }
        let revision_ok = |c: char| c.is_ascii_alphanumeric() || ".+~".contains(c);
        if !self.revision.chars().all(revision_ok) {
            return Some("invalid character in revision number");
        }
        None
    }
}

/// Parses the epoch like dpkg's `strtol()` call: an optional sign, then at
/// least one digit, with the whole text before the colon consumed.
fn parse_epoch(text: &str) -> Result<u32, &'static str> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err("epoch in version is empty");
    }
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("epoch in version is not number");
    }

    let significant = digits.trim_start_matches('0');
    if negative && !significant.is_empty() {
        return Err("epoch in version is negative");
    }
    // MAX_EPOCH has 10 digits, so a longer run is too big without parsing.
    let epoch = match significant.len() {
        0 => 0,
        1..=10 => significant
            .parse::<u64>()
            .map_err(|_| "epoch in version is too big")?,
        _ => return Err("epoch in version is too big"),
    };
    if epoch > MAX_EPOCH {
        return Err("epoch in version is too big");
    }
    u32::try_from(epoch).map_err(|_| "epoch in version is too big")
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

impl FromStr for DpkgVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for DpkgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(&self.upstream, &other.upstream))
            .then_with(|| compare_part(&self.revision, &other.revision))
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two Debian versions as `dpkg --compare-versions` does.
///
/// Versions with problems that dpkg only warns about are compared. It
/// returns an error for the inputs that dpkg rejects: an empty version,
/// embedded blanks, an epoch that is not a number in `0..=2147483647`, or an
/// empty upstream part or revision.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = DpkgVersion::parse_lenient(a)?;
    let b = DpkgVersion::parse_lenient(b)?;
    Ok(a.cmp(&b))
}

/// Sort weight of one byte of a non-digit run, where `None` is the end of
/// the run.
/// The end and digits weigh 0, `~` weighs less, letters weigh their ASCII
/// value and every other byte sorts after all letters.
fn weight(byte: Option<u8>) -> i32 {
    match byte {
        None => 0,
        Some(b'~') => -1,
        Some(byte) if byte.is_ascii_digit() => 0,
        Some(byte) if byte.is_ascii_alphabetic() => i32::from(byte),
        // NOTE: dpkg reads the byte as a C `char`, which is signed on most
        // platforms, so its order of non-ASCII bytes may differ from this one.
        // dpkg warns on such versions anyway.
        Some(byte) => i32::from(byte) + 256,
    }
}

/// Compares an upstream part or a revision: alternating non-digit runs
/// (compared byte by byte by [`weight`]) and digit runs (compared as
/// integers of any length).
fn compare_part(a: &str, b: &str) -> Ordering {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut i = 0;
    let mut j = 0;

    while i < a.len() || j < b.len() {
        // Non-digit run.
        loop {
            let a_byte = a.get(i).copied().filter(|byte| !byte.is_ascii_digit());
            let b_byte = b.get(j).copied().filter(|byte| !byte.is_ascii_digit());
            if a_byte.is_none() && b_byte.is_none() {
                break;
            }
            let order = weight(a_byte).cmp(&weight(b_byte));
            if order != Ordering::Equal {
                return order;
            }
            i += 1;
            j += 1;
        }

        // Digit run: skip leading zeros, then the longer run is larger.
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let a_end = digit_run_end(a, i);
        let b_end = digit_run_end(b, j);
        let order = (a_end - i)
            .cmp(&(b_end - j))
            .then_with(|| a[i..a_end].cmp(&b[j..b_end]));
        if order != Ordering::Equal {
            return order;
        }
        i = a_end;
        j = b_end;
    }
    Ordering::Equal
}

fn digit_run_end(bytes: &[u8], start: usize) -> usize {
    let length = bytes[start.min(bytes.len())..]
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    start + length
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_laws::check_transitive;
    use proptest::prelude::*;

    fn order(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(order) => order,
            Err(error) => panic!("compare({a:?}, {b:?}) failed: {error}"),
        }
    }

    #[test]
    fn tilde_sorts_before_end() {
        assert_eq!(order("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(order("1.0~~", "1.0~"), Ordering::Less);
        assert_eq!(order("1.0~", "1.0"), Ordering::Less);
    }

    #[test]
    fn letters_sort_before_symbols() {
        assert_eq!(order("1.0a", "1.0+"), Ordering::Less);
        assert_eq!(order("1.0+", "1.0.1"), Ordering::Less);
        assert_eq!(order("1.0a", "1.0"), Ordering::Greater);
    }

    #[test]
    fn digits_compare_as_integers() {
        assert_eq!(order("1.09", "1.9"), Ordering::Equal);
        assert_eq!(order("1.10", "1.9"), Ordering::Greater);
        assert_eq!(
            order("1.99999999999999999999999", "1.100000000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn revision_after_last_hyphen() {
        let version = DpkgVersion::parse("1:2.0-beta-3").expect("valid version");
        assert_eq!(version.epoch, 1);
        assert_eq!(version.upstream, "2.0-beta");
        assert_eq!(version.revision, "3");
    }

    #[test]
    fn missing_revision_equals_zero() {
        assert_eq!(order("1.0", "1.0-0"), Ordering::Equal);
        assert_eq!(order("1.0", "0:1.0"), Ordering::Equal);
    }

    #[test]
    fn epoch_outranks_upstream() {
        assert_eq!(order("1:0.1", "99.0"), Ordering::Greater);
    }

    #[test]
    fn parse_errors_fail_compare() {
        for text in [
            "",
            " ",
            "0:",
            ":1.0",
            "1.0-",
            "-1:0",
            "a:1.0",
            "1 0",
            "2147483648:1",
        ] {
            assert!(compare(text, "1.0").is_err(), "{text:?} must be rejected");
        }
        assert_eq!(order("2147483647:1", "1"), Ordering::Greater);
    }

    #[test]
    fn warnings_still_compare() {
        assert_eq!(order("a1.0", "b1.0"), Ordering::Less);
        assert!(DpkgVersion::parse("a1.0").is_err());
        assert!(DpkgVersion::parse("1.0_1").is_err());
        assert!(DpkgVersion::parse_lenient("1.0_1").is_ok());
    }

    #[test]
    fn display_round_trips() {
        let version = DpkgVersion::parse("2:1.0-1").expect("valid version");
        assert_eq!(version.to_string(), "2:1.0-1");
    }

    fn version_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "([0-9]{1,3}:)?[0-9][0-9a-zA-Z.+~]{0,8}(-[0-9a-zA-Z.+~]{1,5})?",
            "[0-9a-z.~+:-]{0,12}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn compare_is_antisymmetric(a in version_strategy(), b in version_strategy()) {
            let forward = compare(&a, &b);
            let backward = compare(&b, &a);
            if let (Ok(forward), Ok(backward)) = (&forward, &backward) {
                prop_assert_eq!(*forward, backward.reverse());
            } else {
                prop_assert!(forward.is_err() && backward.is_err());
            }
        }

        #[test]
        fn compare_is_reflexive(a in version_strategy()) {
            if let Ok(order) = compare(&a, &a) {
                prop_assert_eq!(order, Ordering::Equal);
            }
        }
    }

    /// Small parts, so that equal versions written differently come up often.
    const TRANSITIVITY_PATTERN: &str =
        "([01]:)?0?[0-2]([.+~]?([a-b]|0?[0-2])){0,3}(-0?[0-2]([.~]?[a0-1])?)?";

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
