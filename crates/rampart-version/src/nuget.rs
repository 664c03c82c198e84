//! NuGet package versions, parsed as `NuGetVersion.TryParse` parses them and
//! ordered as `VersionComparer.Default` orders them (`NuGet.Versioning`).
//!
//! Traps:
//! - A version has two to four numbers, and a lone number `1` reads as `1.0`.
//!   Missing numbers are 0, so `1.0 == 1.0.0 == 1.0.0.0`, and the fourth
//!   number (the legacy revision) ranks after the patch: `1.0.0.1 > 1.0.0`.
//! - Numbers may have leading zeros (`1.01 == 1.1`) and blanks around them
//!   (`19 . 19` is `19.19`), as `System.Version.TryParse` allows. Each number
//!   must fit a 32-bit signed integer, so `1.2147483648` is invalid.
//! - Release labels (after the first `-`) are dot-separated identifiers of
//!   `[0-9A-Za-z-]`, never empty, and an all-digit label may not have a
//!   leading zero. Build metadata (after `+`) follows the same rules but
//!   allows leading zeros, and it is ignored for ordering: `1.0.0+a ==
//!   1.0.0+b`.
//! - A version with release labels sorts before the same version without
//!   them, labels compare left to right, and a longer list wins when the
//!   shorter one is its prefix, as in SemVer.
//! - A label counts as numeric when .NET's `int.TryParse` accepts it: an
//!   optional `-` and digits within the 32-bit signed range. So `-5` is the
//!   number -5, and `2147483648` is text. Numeric labels sort below text labels.
//! - Text labels compare ASCII case-insensitively (`1.0.0-BETA ==
//!   1.0.0-beta`), as NuGet follows the SemVer 2.0.1 draft here, not the
//!   case-sensitive SemVer 2.0.0.
//! - Surrounding Unicode whitespace is trimmed, and a leading `v` is invalid.
//!
//! Sources: NuGet/NuGet.Client `src/NuGet.Core/NuGet.Versioning/`:
//! `NuGetVersionFactory.cs` and `SemanticVersionFactory.cs` (`TryParse`,
//! `ParseSections`, `IsValidPart`) at commit
//! 14856f8aa6f3196519ebb8b9dbf48c5c44397ed0, and `VersionComparer.cs` at commit
//! 0371206b9abfaec5aad8737d52e17006f9d88a3d. NuGet has since replaced the
//! `System.Version.TryParse` call with its own number parser. The parse rules
//! here are the ones that `NuGetVersionTest.cs` at commit
//! f4f96b4aac4039460e3753da5824f1c024f27834 checks (blanks around numbers
//! accepted, `1..2` and `1.` rejected).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::VersionError;

const SCHEME: &str = "nuget";

/// Largest number a version part or a numeric label may hold (`int.MaxValue`).
const MAX_NUMBER: u64 = i32::MAX as u64;

/// A NuGet version. Equality, hashing and ordering follow
/// `VersionComparer.Default`: build metadata and label case are ignored.
#[derive(Clone, Debug)]
pub struct NuGetVersion {
    numbers: [u32; 4],
    release_labels: Vec<String>,
    metadata: Vec<String>,
}

impl NuGetVersion {
    /// Parses a version as `NuGetVersion.TryParse` does.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        parse(text).map_err(|reason| VersionError::new(SCHEME, text, reason))
    }

    /// Major, minor, patch and revision, with missing parts as 0.
    pub fn numbers(&self) -> [u32; 4] {
        self.numbers
    }

    /// Release labels as written, empty for a stable version.
    pub fn release_labels(&self) -> &[String] {
        &self.release_labels
    }

    /// Build metadata identifiers as written, which never affect ordering.
    pub fn metadata(&self) -> &[String] {
        &self.metadata
    }

    /// Returns whether the version has release labels.
    pub fn is_prerelease(&self) -> bool {
        !self.release_labels.is_empty()
    }
}

fn parse(text: &str) -> Result<NuGetVersion, String> {
    // `String.Trim` and Rust's `trim` remove the same Unicode White_Space set.
    let trimmed = text.trim();

    // The version part ends at the first `-` or `+`. The labels run from a
    // leading `-` to the first `+`, and the metadata is everything after it.
    let (version_part, suffix) = match trimmed.find(['-', '+']) {
        Some(index) => trimmed.split_at(index),
        None => (trimmed, ""),
    };
    let (labels_text, metadata_text) = match suffix.strip_prefix('-') {
        Some(rest) => match rest.split_once('+') {
            Some((labels, metadata)) => (Some(labels), Some(metadata)),
            None => (Some(rest), None),
        },
        None => (None, suffix.strip_prefix('+')),
    };

    let numbers = parse_numbers(version_part)?;

    let mut release_labels = Vec::new();
    if let Some(labels_text) = labels_text {
        for label in labels_text.split('.') {
            check_identifier(label, "release label")?;
            if label.len() > 1 && label.starts_with('0') && is_digits(label) {
                return Err(format!(
                    "numeric release label {label:?} has a leading zero"
                ));
            }
            release_labels.push(label.to_owned());
        }
    }

    let mut metadata = Vec::new();
    if let Some(metadata_text) = metadata_text {
        for identifier in metadata_text.split('.') {
            check_identifier(identifier, "build metadata identifier")?;
            metadata.push(identifier.to_owned());
        }
    }

    Ok(NuGetVersion {
        numbers,
        release_labels,
        metadata,
    })
}

/// Parses `major[.minor[.build[.revision]]]` as `System.Version.TryParse`
/// does after NuGet appends `.0` to a lone number.
fn parse_numbers(version_part: &str) -> Result<[u32; 4], String> {
    if version_part.is_empty() {
        return Err("version number is missing".to_owned());
    }
    let parts: Vec<&str> = version_part.split('.').collect();
    if parts.len() > 4 {
        return Err("version has more than four numbers".to_owned());
    }

    let mut numbers = [0; 4];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        *slot = parse_number(part)?;
    }
    Ok(numbers)
}

/// Parses one version number as `int.TryParse` with `NumberStyles.Integer`:
/// ASCII digits with optional blanks (U+0009 to U+000D and space) around
/// them. A sign cannot occur, because `-` and `+` end the version part.
fn parse_number(part: &str) -> Result<u32, String> {
    let digits = part.trim_matches(|c: char| c == ' ' || ('\t'..='\r').contains(&c));
    if digits.is_empty() || !is_digits(digits) {
        return Err(format!("version number {part:?} is not a number"));
    }
    match parse_bounded(digits) {
        Some(number) => Ok(number),
        None => Err(format!(
            "version number {part:?} is larger than {MAX_NUMBER}"
        )),
    }
}

/// Parses ASCII digits of any length, returning `None` above `MAX_NUMBER`.
fn parse_bounded(digits: &str) -> Option<u32> {
    let significant = digits.trim_start_matches('0');
    if significant.len() > 10 {
        return None;
    }
    let value = significant.parse::<u64>().unwrap_or(0);
    if value > MAX_NUMBER {
        return None;
    }
    u32::try_from(value).ok()
}

fn is_digits(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_digit())
}

fn check_identifier(identifier: &str, what: &str) -> Result<(), String> {
    if identifier.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if !identifier
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    {
        return Err(format!(
            "{what} {identifier:?} contains a character outside [0-9A-Za-z-]"
        ));
    }
    Ok(())
}

/// The kind of a label as `VersionComparer.CompareRelease` classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum LabelKey<'a> {
    /// A label `int.TryParse` accepts, with its value.
    Numeric(i32),
    Text(&'a str),
}

fn label_key(label: &str) -> LabelKey<'_> {
    let (negative, digits) = match label.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, label),
    };
    if digits.is_empty() || !is_digits(digits) {
        return LabelKey::Text(label);
    }

    // int.MinValue has one more unit than int.MaxValue.
    let significant = digits.trim_start_matches('0');
    let magnitude = match significant.len() {
        0 => Some(0),
        1..=10 => significant.parse::<i64>().ok(),
        _ => None,
    };
    let value = magnitude.map(|magnitude| if negative { -magnitude } else { magnitude });
    match value.and_then(|value| i32::try_from(value).ok()) {
        Some(value) => LabelKey::Numeric(value),
        None => LabelKey::Text(label),
    }
}

/// Compares two labels as `VersionComparer.CompareRelease`: numbers
/// numerically and below text, text with `StringComparer.OrdinalIgnoreCase`.
/// Labels are ASCII, where ordinal comparison of upper-cased text is that
/// comparer.
fn compare_labels(a: &str, b: &str) -> Ordering {
    match (label_key(a), label_key(b)) {
        (LabelKey::Numeric(a), LabelKey::Numeric(b)) => a.cmp(&b),
        (LabelKey::Numeric(_), LabelKey::Text(_)) => Ordering::Less,
        (LabelKey::Text(_), LabelKey::Numeric(_)) => Ordering::Greater,
        (LabelKey::Text(a), LabelKey::Text(b)) => a
            .bytes()
            .map(|byte| byte.to_ascii_uppercase())
            .cmp(b.bytes().map(|byte| byte.to_ascii_uppercase())),
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (
                self.release_labels.is_empty(),
                other.release_labels.is_empty(),
            ) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let pairs = self.release_labels.iter().zip(&other.release_labels);
                    pairs
                        .map(|(a, b)| compare_labels(a, b))
                        .find(|order| *order != Ordering::Equal)
                        .unwrap_or_else(|| {
                            self.release_labels.len().cmp(&other.release_labels.len())
                        })
                }
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}

impl Hash for NuGetVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Hashes what `Ord` compares: numeric labels by value (`-0` equals
        // `0`) and text labels upper-cased. Metadata is left out.
        self.numbers.hash(state);
        self.release_labels.len().hash(state);
        for label in &self.release_labels {
            match label_key(label) {
                LabelKey::Numeric(value) => value.hash(state),
                LabelKey::Text(text) => text.to_ascii_uppercase().hash(state),
            }
        }
    }
}

impl FromStr for NuGetVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for NuGetVersion {
    /// Writes the form of `ToFullString`: three numbers, the revision only
    /// when it is not 0, then the labels and metadata as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch, revision] = self.numbers;
        write!(f, "{major}.{minor}.{patch}")?;
        if revision != 0 {
            write!(f, ".{revision}")?;
        }
        if !self.release_labels.is_empty() {
            write!(f, "-{}", self.release_labels.join("."))?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata.join("."))?;
        }
        Ok(())
    }
}

/// Compares two NuGet versions as `VersionComparer.Default` does. Fails when
/// either version is invalid for `NuGetVersion.TryParse`.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = NuGetVersion::parse(a)?;
    let b = NuGetVersion::parse(b)?;
    Ok(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_laws::check_transitive;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;

    fn order(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(ordering) => ordering,
            Err(error) => panic!("{error}"),
        }
    }

    fn parsed(text: &str) -> NuGetVersion {
        match NuGetVersion::parse(text) {
            Ok(version) => version,
            Err(error) => panic!("{error}"),
        }
    }

    fn hash_of(version: &NuGetVersion) -> u64 {
        let mut hasher = DefaultHasher::new();
        version.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn missing_numbers_are_zero() {
        assert_eq!(order("1.0", "1.0.0.0"), Ordering::Equal);
        assert_eq!(order("1", "1.0.0"), Ordering::Equal);
        assert_eq!(parsed("2").numbers(), [2, 0, 0, 0]);
    }

    #[test]
    fn revision_ranks_after_patch() {
        assert_eq!(order("1.0.0.1", "1.0.0"), Ordering::Greater);
        assert_eq!(order("1.0.0.9", "1.0.1"), Ordering::Less);
    }

    #[test]
    fn leading_zeros_and_blanks_in_numbers() {
        assert_eq!(order("1.01", "1.1"), Ordering::Equal);
        assert_eq!(parsed("19 . 19").numbers(), [19, 19, 0, 0]);
        assert_eq!(parsed(" 1.0.0-beta ").release_labels(), ["beta"]);
    }

    #[test]
    fn prerelease_below_release() {
        assert_eq!(order("1.0.0-rc.1", "1.0.0"), Ordering::Less);
        assert_eq!(order("1.0.0-alpha", "1.0.0-alpha.1"), Ordering::Less);
    }

    #[test]
    fn labels_ignore_case() {
        assert_eq!(order("1.0.0-BETA", "1.0.0-beta"), Ordering::Equal);
        assert_eq!(order("1.0.0-Alpha", "1.0.0-beta"), Ordering::Less);
        assert_eq!(hash_of(&parsed("1.0.0-RC")), hash_of(&parsed("1.0.0-rc")));
    }

    #[test]
    fn numeric_labels_by_int_parse() {
        assert_eq!(order("1.0.0-9", "1.0.0-10"), Ordering::Less);
        assert_eq!(order("1.0.0-10", "1.0.0-a"), Ordering::Less);
        assert_eq!(order("1.0.0--5", "1.0.0-0"), Ordering::Less);
        assert_eq!(order("1.0.0--0", "1.0.0-0"), Ordering::Equal);
        // Beyond int.MaxValue a label is text, and text sorts after numbers.
        assert_eq!(order("1.0.0-2147483648", "1.0.0-9"), Ordering::Greater);
        assert_eq!(
            order("1.0.0-2147483648", "1.0.0-10000000000"),
            Ordering::Greater
        );
    }

    #[test]
    fn metadata_ignored() {
        assert_eq!(order("1.0.0+a", "1.0.0+b"), Ordering::Equal);
        assert_eq!(order("1.0.0-rc+a", "1.0.0-rc"), Ordering::Equal);
        assert_eq!(parsed("1.0.0+0.01").metadata(), ["0", "01"]);
    }

    #[test]
    fn display_uses_full_form() {
        assert_eq!(parsed("1.0.0009.01-1.1+A").to_string(), "1.0.9.1-1.1+A");
        assert_eq!(parsed("01.2").to_string(), "1.2.0");
    }

    #[test]
    fn invalid_versions_rejected() {
        for text in [
            "",
            "v1.0.0",
            "1.2.3.4.5",
            "1..2",
            "1.",
            "1 9",
            "1.2147483648",
            "-1.0",
            "1.0.0-",
            "1.0.0-01",
            "1.0.0-a..b",
            "1.0.0-a_b",
            "1.0.0+",
            "1.0.0+a+b",
            "1.0.0-é",
            "１.0",
        ] {
            assert!(NuGetVersion::parse(text).is_err(), "{text:?} was accepted");
        }
    }

    /// Small parts, so that equal versions written differently come up often.
    const VERSION_PATTERN: &str = "0?[0-2](\\.0?[0-2]){0,3}(-([0-2]|-[0-2]|[aAbB]{1,2})(\\.([0-2]|[aAbB]))?)?(\\+[a-z0-9]{1,2})?";

    proptest! {
        #[test]
        fn compare_is_reflexive_and_antisymmetric(a in VERSION_PATTERN, b in VERSION_PATTERN) {
            prop_assert_eq!(compare(&a, &a), Ok(Ordering::Equal));
            let forward = compare(&a, &b);
            prop_assert!(forward.is_ok());
            prop_assert_eq!(forward.map(Ordering::reverse), compare(&b, &a));
        }

        #[test]
        fn compare_is_transitive(a in VERSION_PATTERN, b in VERSION_PATTERN, c in VERSION_PATTERN) {
            check_transitive(compare, [&a, &b, &c]).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn equal_versions_hash_equal(a in VERSION_PATTERN, b in VERSION_PATTERN) {
            let (a, b) = (parsed(&a), parsed(&b));
            if a == b {
                prop_assert_eq!(hash_of(&a), hash_of(&b));
            }
        }

        #[test]
        fn display_reparses_equal(a in VERSION_PATTERN) {
            let version = parsed(&a);
            prop_assert_eq!(compare(&a, &version.to_string()), Ok(Ordering::Equal));
        }

        #[test]
        fn arbitrary_text_never_panics(a in "\\PC{0,30}", b in "[0-9 .+-]{0,12}") {
            let _ = compare(&a, &b);
            if NuGetVersion::parse(&a).is_ok() {
                prop_assert_eq!(compare(&a, &a), Ok(Ordering::Equal));
            }
        }
    }
}
