//! RubyGems version ordering, as `Gem::Version#<=>` defines it in RubyGems 3.x.
//!
//! Traps:
//! - Segments are runs of ASCII digits or ASCII letters, so `1.0.a10` is
//!   `[1, 0, "a", 10]`, and `1.0a` equals `1.0.a`.
//! - Any letter makes the version a prerelease. A string segment sorts before
//!   a number or a missing segment, so `1.0.b1 < 1.0 < 1.0.1`.
//! - Trailing zeros are dropped from the numeric part and from the
//!   prerelease part before comparing, so `1.0 == 1` and `1.0.a.0 == 1.a`.
//! - Each `-` becomes `.pre.`, so `1.0.0-1` is the prerelease `1.0.0.pre.1`
//!   and sorts before `1.0.0`.
//! - String segments compare byte by byte and case-sensitively (`B < a`).
//! - Numbers have no size limit, and leading zeros do not count (`1.01 == 1.1`).
//! - The string must match `Gem::Version::ANCHORED_VERSION_PATTERN`:
//!   surrounding whitespace, then digits, then `.` plus alphanumerics any
//!   number of times, then an optional `-` part of alphanumerics and hyphens
//!   split by dots. An empty or all-whitespace string means `0`.
//!
//! Source: `lib/rubygems/version.rb` (`VERSION_PATTERN`, `initialize`,
//! `canonical_segments` and `<=>`) at ruby/rubygems commit
//! c13f3d005bf9304e734f31bdf14e4de1523fb899. That copy trims zeros with
//! regular expressions, with the same result as the list trimming here. Its
//! hyphen rule is newer than RubyGems 3.x, whose `initialize` calls
//! `gsub("-", ".pre.")`. This module keeps the 3.x rule, as the note on
//! `normalize_hyphens` describes.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;

const SCHEME: &str = "rubygems";

/// A parsed RubyGems version, ordered as `Gem::Version#<=>` orders it.
///
/// Equality follows the ordering, so `1.0 == 1`, unlike `Gem::Version#eql?`.
#[derive(Clone, Debug)]
pub struct GemVersion {
    original: String,
    normalized: String,
    segments: Vec<Segment>,
}

/// One segment: a run of ASCII digits or of ASCII letters.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// A decimal number without leading zeros (`"0"` for zero).
    Number(String),
    Text(String),
}

impl GemVersion {
    /// Parses a version string, rejecting strings that do not match
    /// `Gem::Version::ANCHORED_VERSION_PATTERN`.
    pub fn parse(version: &str) -> Result<Self, VersionError> {
        check_pattern(version).map_err(|reason| VersionError::new(SCHEME, version, reason))?;

        let trimmed = version.trim_matches(is_ruby_space);
        let normalized = if trimmed.is_empty() {
            "0".to_owned()
        } else {
            normalize_hyphens(trimmed)
        };
        let segments = canonical_segments(&split_segments(&normalized));

        Ok(GemVersion {
            original: version.to_owned(),
            normalized,
            segments,
        })
    }

    /// Returns the version string as given.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Returns the version as RubyGems stores it: stripped, with each `-`
    /// replaced by `.pre.`, and `0` for an empty string.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Reports whether the version contains an ASCII letter, as
    /// `Gem::Version#prerelease?` does.
    pub fn is_prerelease(&self) -> bool {
        self.normalized
            .bytes()
            .any(|byte| byte.is_ascii_alphabetic())
    }
}

impl FromStr for GemVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        GemVersion::parse(text)
    }
}

impl fmt::Display for GemVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_segments(&self.segments, &other.segments)
    }
}

/// Compares two RubyGems version strings. Fails if either string is not a
/// valid `Gem::Version`.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let left = GemVersion::parse(a)?;
    let right = GemVersion::parse(b)?;
    Ok(left.cmp(&right))
}

/// Ruby's `\s` in a regular expression: space, tab, LF, VT, FF, CR.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

/// Checks a string against
/// `\A\s*([0-9]+(?>\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z`.
/// Each part of the pattern can only match one way, so a single forward scan
/// decides it.
fn check_pattern(version: &str) -> Result<(), String> {
    let body = version.trim_matches(is_ruby_space).as_bytes();
    if body.is_empty() {
        return Ok(());
    }

    let mut position = count_while(body, 0, |byte| byte.is_ascii_digit());
    if position == 0 {
        return Err("a version must start with a digit".to_owned());
    }

    // `(\.[0-9a-zA-Z]+)*`
    while body.get(position) == Some(&b'.') {
        let run = count_while(body, position + 1, |byte| byte.is_ascii_alphanumeric());
        if run == 0 {
            break;
        }
        position += 1 + run;
    }

    // `(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`
    let is_pre_byte = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-';
    if body.get(position) == Some(&b'-') {
        let run = count_while(body, position + 1, is_pre_byte);
        if run == 0 {
            return Err("a hyphen must be followed by letters, digits or hyphens".to_owned());
        }
        position += 1 + run;
        while body.get(position) == Some(&b'.') {
            let run = count_while(body, position + 1, is_pre_byte);
            if run == 0 {
                break;
            }
            position += 1 + run;
        }
    }

    if position == body.len() {
        return Ok(());
    }
    let rest = String::from_utf8_lossy(&body[position..]);
    Err(format!(
        "unexpected {rest:?}: only digits, ASCII letters, dots and hyphens are allowed, with no empty segment"
    ))
}

fn count_while(bytes: &[u8], start: usize, accept: impl Fn(u8) -> bool) -> usize {
    bytes.get(start..).map_or(0, |tail| {
        tail.iter().take_while(|&&byte| accept(byte)).count()
    })
}

/// Replaces each `-` with `.pre.`, as `Gem::Version#initialize` does in
/// RubyGems 3.x.
///
/// NOTE: ruby/rubygems at commit c13f3d005bf9304e734f31bdf14e4de1523fb899
/// replaces a hyphen with a plain dot when a letter follows it, and skips a
/// `pre` segment that a string segment follows, so `1.0.0-beta.1` equals
/// `1.0.0.beta.1` there. RubyGems 3.x sorts `1.0.0-beta.1` after it.
fn normalize_hyphens(version: &str) -> String {
    version.replace('-', ".pre.")
}

/// Splits on runs of ASCII digits or ASCII letters, as
/// `@version.scan(/[0-9]+|[a-z]+/i)` does. Dots and other bytes only separate.
fn split_segments(version: &str) -> Vec<Segment> {
    let bytes = version.as_bytes();
    let mut segments = Vec::new();
    let mut position = 0;

    while position < bytes.len() {
        let byte = bytes[position];
        if byte.is_ascii_digit() {
            let run = count_while(bytes, position, |b| b.is_ascii_digit());
            let digits = &version[position..position + run];
            let stripped = digits.trim_start_matches('0');
            let number = if stripped.is_empty() { "0" } else { stripped };
            segments.push(Segment::Number(number.to_owned()));
            position += run;
        } else if byte.is_ascii_alphabetic() {
            let run = count_while(bytes, position, |b| b.is_ascii_alphabetic());
            segments.push(Segment::Text(version[position..position + run].to_owned()));
            position += run;
        } else {
            position += 1;
        }
    }
    segments
}

/// Drops trailing zeros from the numeric part (the segments before the first
/// string) and from the rest, as `canonical_segments` does.
fn canonical_segments(segments: &[Segment]) -> Vec<Segment> {
    let string_start = segments
        .iter()
        .position(|segment| matches!(segment, Segment::Text(_)))
        .unwrap_or(segments.len());
    let (numeric, prerelease) = segments.split_at(string_start);

    let mut canonical = without_trailing_zeros(numeric).to_vec();
    canonical.extend_from_slice(without_trailing_zeros(prerelease));
    canonical
}

fn without_trailing_zeros(segments: &[Segment]) -> &[Segment] {
    let kept = segments
        .iter()
        .rposition(|segment| !is_zero(segment))
        .map_or(0, |index| index + 1);
    &segments[..kept]
}

fn is_zero(segment: &Segment) -> bool {
    matches!(segment, Segment::Number(digits) if digits == "0")
}

/// Compares canonical segments position by position, reading a missing
/// segment as `0`. A string sorts before a number.
fn compare_segments(left: &[Segment], right: &[Segment]) -> Ordering {
    let zero = Segment::Number("0".to_owned());
    let length = left.len().max(right.len());

    for index in 0..length {
        let lhs = left.get(index).unwrap_or(&zero);
        let rhs = right.get(index).unwrap_or(&zero);
        let ordering = match (lhs, rhs) {
            (Segment::Number(a), Segment::Number(b)) => {
                a.len().cmp(&b.len()).then_with(|| a.cmp(b))
            }
            (Segment::Text(a), Segment::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
        };
        if ordering.is_ne() {
            return ordering;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_laws::check_transitive;
    use proptest::prelude::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(ordering) => ordering,
            Err(error) => panic!("compare({a:?}, {b:?}) failed: {error}"),
        }
    }

    #[test]
    fn trailing_zeros_ignored() {
        assert_eq!(cmp("1.0", "1"), Ordering::Equal);
        assert_eq!(cmp("1.0.0", "1"), Ordering::Equal);
        assert_eq!(cmp("1.0.a.0", "1.a"), Ordering::Equal);
        // A zero inside the prerelease part still counts.
        assert_eq!(cmp("1.a.0.1", "1.a.1"), Ordering::Less);
    }

    #[test]
    fn prerelease_before_release() {
        assert_eq!(cmp("1.0.a", "1.0"), Ordering::Less);
        assert_eq!(cmp("1.0.b1", "1.0"), Ordering::Less);
        assert_eq!(cmp("1.0.b1", "0.9"), Ordering::Greater);
        assert_eq!(cmp("1.0.rc1", "1.0.1"), Ordering::Less);
    }

    #[test]
    fn letters_split_segments() {
        assert_eq!(cmp("1.0a", "1.0.a"), Ordering::Equal);
        assert_eq!(cmp("1.0.a10", "1.0.a.10"), Ordering::Equal);
        assert_eq!(cmp("1.0.a10", "1.0.a9"), Ordering::Greater);
    }

    #[test]
    fn strings_case_sensitive() {
        assert_eq!(cmp("1.B", "1.a"), Ordering::Less);
        assert_eq!(cmp("1.A", "1.a"), Ordering::Less);
    }

    #[test]
    fn numbers_unbounded() {
        assert_eq!(cmp("1.01", "1.1"), Ordering::Equal);
        assert_eq!(
            cmp(
                "123456789012345678901234567890",
                "99999999999999999999999999999"
            ),
            Ordering::Greater
        );
    }

    #[test]
    fn hyphen_becomes_pre() {
        assert_eq!(cmp("1.0.0-1", "1.0.0.pre.1"), Ordering::Equal);
        assert_eq!(cmp("1.0.0-1", "1.0.0"), Ordering::Less);
        // RubyGems 3.x: `pre` > `beta`, so the hyphenated form sorts later.
        assert_eq!(cmp("1.0.0-beta.1", "1.0.0.beta.1"), Ordering::Greater);
        let parsed = GemVersion::parse(" 1.0-rc1 ").ok();
        assert_eq!(
            parsed.as_ref().map(GemVersion::normalized),
            Some("1.0.pre.rc1")
        );
    }

    #[test]
    fn blank_means_zero() {
        assert_eq!(cmp("", "0"), Ordering::Equal);
        assert_eq!(cmp(" \t", "0.0"), Ordering::Equal);
        assert_eq!(cmp(" 1.2 ", "1.2"), Ordering::Equal);
    }

    #[test]
    fn invalid_versions_rejected() {
        for invalid in [
            "junk", "1.0\n2.0", "1..2", "1.2.", ".1", "1.2 3", "-1", "1-", "1.0-a.", "1_0", "1.é",
            "v1",
        ] {
            assert!(
                GemVersion::parse(invalid).is_err(),
                "{invalid:?} should be invalid"
            );
        }
        for valid in [
            "1",
            "1.a",
            "1.0-a-b.c-d",
            "1-1",
            "1--",
            "0001",
            " 1.2.3\n",
            "1.0.0-beta.1",
        ] {
            assert!(
                GemVersion::parse(valid).is_ok(),
                "{valid:?} should be valid"
            );
        }
    }

    #[test]
    fn prerelease_detection() {
        let check = |version: &str| {
            GemVersion::parse(version)
                .map(|parsed| parsed.is_prerelease())
                .ok()
        };
        assert_eq!(check("1.0.a"), Some(true));
        assert_eq!(check("1.0-1"), Some(true));
        assert_eq!(check("1.0"), Some(false));
    }

    proptest! {
        #[test]
        fn compare_antisymmetric_and_reflexive(
            a in "[0-9]{1,3}(\\.[0-9a-zA-Z]{1,3}){0,4}(-[0-9a-z]{1,3})?",
            b in "[0-9]{1,3}(\\.[0-9a-zA-Z]{1,3}){0,4}(-[0-9a-z]{1,3})?",
        ) {
            prop_assert_eq!(cmp(&a, &a), Ordering::Equal);
            prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse());
        }

        #[test]
        fn arbitrary_strings_do_not_panic(a in "\\PC{0,40}", b in "[0-9a-z.\\- ]{0,20}") {
            let forward = compare(&a, &b);
            let backward = compare(&b, &a);
            prop_assert_eq!(forward.is_ok(), backward.is_ok());
            if let (Ok(forward), Ok(backward)) = (forward, backward) {
                prop_assert_eq!(forward, backward.reverse());
                prop_assert_eq!(cmp(&a, &a), Ordering::Equal);
            }
        }
    }

    /// Small parts, so that equal versions written differently come up often.
    const TRANSITIVITY_PATTERN: &str = "0?[0-2](\\.(0?[0-2]|[aA]|b)){0,4}(-[0-1a])?";

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
