//! RPM package versions (`rpm`).
//!
//! Traps:
//! - `~` sorts before everything, even the end of the string, so
//!   `1.0~rc1` < `1.0`.
//! - `^` sorts after the end of the string but before any further segment,
//!   so `1.0` < `1.0^git1` < `1.0.1` and `1.0^git1` < `1.01`.
//! - A numeric segment is newer than an alphabetic one (`1.0` > `1.a`) and
//!   leading zeros are ignored (`10.0001` == `10.1`).
//! - Separators carry no weight: every run of characters other than ASCII
//!   letters, digits, `~` and `^` is one separator, so `2.0` == `2_0` and
//!   `a+` == `a_`. Non-ASCII characters count as separators too.
//! - Between segments of different kinds the comparison stops early:
//!   `xyz.4` < `8` because an alphabetic segment loses to a numeric one.
//! - In an EVR, a missing epoch is epoch 0, and a version with a release is
//!   newer than the same version without one (`1.0-1` > `1.0`).
//!
//! Sources: `rpmvercmp()` in rpm's `rpmio/rpmvercmp.cc` (commit 2d860a85,
//! formerly `rpmvercmp.c`), and `parseEVR()` and `rpmverCmp()` in
//! `lib/rpmver.c`. The test vectors come from rpm commit a8f0192a.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;

const SCHEME: &str = "rpm";

/// A parsed RPM `[epoch:]version[-release]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RpmVersion {
    /// The epoch digits, `None` when the text has no epoch (compared as `0`).
    pub epoch: Option<String>,
    pub version: String,
    /// The text after the last hyphen, `None` when there is no hyphen.
    pub release: Option<String>,
}

impl RpmVersion {
    /// Splits an EVR string the way rpm's `parseEVR()` does.
    ///
    /// The epoch is the run of leading digits when a colon follows it (an
    /// empty epoch before the colon counts as `0`), and the release is the
    /// text after the last hyphen that follows the epoch. Returns an error
    /// for an empty string or an empty version part, which `rpmverParse()`
    /// and `rpmverNew()` reject.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        if text.is_empty() {
            return Err(VersionError::new(SCHEME, text, "version string is empty"));
        }

        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = match text[digits..].strip_prefix(':') {
            Some(rest) if digits == 0 => (Some("0".to_owned()), rest),
            Some(rest) => (Some(text[..digits].to_owned()), rest),
            None => (None, text),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((version, release)) => (version, Some(release.to_owned())),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err(VersionError::new(SCHEME, text, "version part is empty"));
        }

        Ok(RpmVersion {
            epoch,
            version: version.to_owned(),
            release,
        })
    }
}

impl FromStr for RpmVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for RpmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(epoch) = &self.epoch {
            write!(f, "{epoch}:")?;
        }
        f.write_str(&self.version)?;
        if let Some(release) = &self.release {
            write!(f, "-{release}")?;
        }
        Ok(())
    }
}

impl Ord for RpmVersion {
    /// Orders like `rpmverCmp()`: epoch (missing is `0`), then version,
    /// then release, where a present release is newer than a missing one.
    fn cmp(&self, other: &Self) -> Ordering {
        let epoch = |version: &RpmVersion| version.epoch.clone().unwrap_or_else(|| "0".to_owned());
        rpmvercmp(&epoch(self), &epoch(other))
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => Ordering::Equal,
            })
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two `[epoch:]version[-release]` strings like rpm's
/// `rpmverCmp()`. Returns an error for an empty string or empty version part.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = RpmVersion::parse(a)?;
    let b = RpmVersion::parse(b)?;
    Ok(a.cmp(&b))
}

/// Compares two bare version or release strings like rpm's `rpmvercmp()`.
/// Every string is accepted.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut i = 0;
    let mut j = 0;

    while i < a.len() || j < b.len() {
        i = skip_separators(a, i);
        j = skip_separators(b, j);
        let a_byte = a.get(i).copied();
        let b_byte = b.get(j).copied();

        // `~` loses to everything, including the end of the string.
        if a_byte == Some(b'~') || b_byte == Some(b'~') {
            if a_byte != Some(b'~') {
                return Ordering::Greater;
            }
            if b_byte != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }

        // `^` beats the end of the string but loses to any segment.
        if a_byte == Some(b'^') || b_byte == Some(b'^') {
            match (a_byte, b_byte) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(b'^'), Some(b'^')) => {}
                (_, Some(b'^')) => return Ordering::Greater,
                _ => return Ordering::Less,
            }
            i += 1;
            j += 1;
            continue;
        }

        let (Some(first), Some(_)) = (a_byte, b_byte) else {
            break;
        };

        // The segment kind is set by the first string. A second string
        // without a segment of that kind is older when the kind is alpha and
        // newer when it is numeric, so numbers beat letters.
        let numeric = first.is_ascii_digit();
        let in_segment = |byte: &u8| {
            if numeric {
                byte.is_ascii_digit()
            } else {
                byte.is_ascii_alphabetic()
            }
        };
        let a_end = i + a[i..].iter().take_while(|byte| in_segment(byte)).count();
        let b_end = j + b[j..].iter().take_while(|byte| in_segment(byte)).count();
        if b_end == j {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }

        let mut a_segment = &a[i..a_end];
        let mut b_segment = &b[j..b_end];
        let order = if numeric {
            a_segment = strip_leading_zeros(a_segment);
            b_segment = strip_leading_zeros(b_segment);
            a_segment
                .len()
                .cmp(&b_segment.len())
                .then_with(|| a_segment.cmp(b_segment))
        } else {
            a_segment.cmp(b_segment)
        };
        if order != Ordering::Equal {
            return order;
        }
        i = a_end;
        j = b_end;
    }

    // The string with segments left over is newer.
    match (i < a.len(), j < b.len()) {
        (false, false) => Ordering::Equal,
        (false, true) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

fn skip_separators(bytes: &[u8], mut index: usize) -> usize {
    while let Some(&byte) = bytes.get(index) {
        if byte.is_ascii_alphanumeric() || byte == b'~' || byte == b'^' {
            break;
        }
        index += 1;
    }
    index
}

fn strip_leading_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&byte| byte == b'0').count();
    &digits[zeros..]
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
        assert_eq!(rpmvercmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(rpmvercmp("1.0~rc1", "1.0~rc1~git"), Ordering::Greater);
    }

    #[test]
    fn caret_sorts_after_end() {
        assert_eq!(rpmvercmp("1.0^git1", "1.0"), Ordering::Greater);
        assert_eq!(rpmvercmp("1.0^git1", "1.0.1"), Ordering::Less);
        assert_eq!(rpmvercmp("1.0^", "1.0"), Ordering::Greater);
    }

    #[test]
    fn numbers_beat_letters() {
        assert_eq!(rpmvercmp("1.0", "1.a"), Ordering::Greater);
        assert_eq!(rpmvercmp("xyz.4", "8"), Ordering::Less);
        assert_eq!(rpmvercmp("8", "xyz.4"), Ordering::Greater);
    }

    #[test]
    fn leading_zeros_ignored() {
        assert_eq!(rpmvercmp("10.0001", "10.1"), Ordering::Equal);
        assert_eq!(
            rpmvercmp("1.000000000000000000000002", "1.10"),
            Ordering::Less
        );
    }

    #[test]
    fn separators_are_equal() {
        assert_eq!(rpmvercmp("2.0", "2_0"), Ordering::Equal);
        assert_eq!(rpmvercmp("1.1.α", "1.1.β"), Ordering::Equal);
    }

    #[test]
    fn evr_missing_epoch_is_zero() {
        assert_eq!(order("0:1.0-1", "1.0-1"), Ordering::Equal);
        assert_eq!(order("1:0.1", "2.0"), Ordering::Greater);
        assert_eq!(order(":1.0", "1.0"), Ordering::Equal);
    }

    #[test]
    fn evr_release_after_last_hyphen() {
        let version = RpmVersion::parse("2:1.0-beta-3.el9").expect("valid EVR");
        assert_eq!(version.epoch.as_deref(), Some("2"));
        assert_eq!(version.version, "1.0-beta");
        assert_eq!(version.release.as_deref(), Some("3.el9"));
        assert_eq!(version.to_string(), "2:1.0-beta-3.el9");
    }

    #[test]
    fn evr_present_release_is_newer() {
        assert_eq!(order("1.0-1", "1.0"), Ordering::Greater);
        assert_eq!(order("1.0-2", "1.0-10"), Ordering::Less);
    }

    #[test]
    fn evr_rejects_empty_parts() {
        assert!(compare("", "1.0").is_err());
        assert!(compare("1:", "1.0").is_err());
        assert!(compare("-1", "1.0").is_err());
    }

    fn version_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "([0-9]{1,2}:)?[0-9a-z.~^_+]{1,10}(-[0-9a-z.~^]{1,5})?",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn compare_is_antisymmetric(a in version_strategy(), b in version_strategy()) {
            prop_assert_eq!(rpmvercmp(&a, &b), rpmvercmp(&b, &a).reverse());
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
            prop_assert_eq!(rpmvercmp(&a, &a), Ordering::Equal);
            if let Ok(order) = compare(&a, &a) {
                prop_assert_eq!(order, Ordering::Equal);
            }
        }
    }

    /// Small parts, so that equal versions written differently come up often.
    const TRANSITIVITY_PATTERN: &str =
        "([01]:)?0?[0-2]([._~^+]?([a-b]|0?[0-2])){0,3}(-0?[0-2]([.~^]?[a0-1])?)?";

    proptest! {
        #[test]
        fn compare_is_transitive(
            a in TRANSITIVITY_PATTERN,
            b in TRANSITIVITY_PATTERN,
            c in TRANSITIVITY_PATTERN,
        ) {
            check_transitive(compare, [&a, &b, &c]).map_err(TestCaseError::fail)?;
            check_transitive(|a, b| Ok(rpmvercmp(a, b)), [&a, &b, &c]).map_err(TestCaseError::fail)?;
        }
    }
}
