//! Python package versions: the "Version specifiers" specification of the
//! Python Packaging Authority
//! (<https://packaging.python.org/en/latest/specifications/version-specifiers/>,
//! formerly PEP 440), checked against the tests of `pypa/packaging` at commit
//! 053c884615f2e83d80705251b447769ec2599653.
//!
//! Traps:
//! - Release segments are padded with zeros for comparison: `1.0 == 1.0.0`.
//!   [`Pep440Version`]'s `Display` keeps the written segment count.
//! - Ordering within one release is dev < pre-release < release <
//!   post-release, and a dev release of the final release sorts below every
//!   pre-release of it: `1.0.dev0 < 1.0a0 < 1.0 < 1.0.post0`. A dev release of
//!   a pre- or post-release sorts just below that pre- or post-release:
//!   `1.0a1.dev1 < 1.0a1`.
//! - Alternative spellings normalize: `alpha` is `a`, `beta` is `b`, `c`,
//!   `pre` and `preview` are `rc`, `rev` and `r` are `post`, and `1.0-1` is
//!   `1.0.post1`. A missing number means 0: `1.0a == 1.0a0`.
//! - Matching is ASCII case-insensitive, a leading `v` is dropped, `-`, `_`
//!   and `.` are interchangeable separators around the pre, post and dev
//!   parts, and surrounding Unicode whitespace is trimmed.
//! - The epoch `N!` outranks everything: `1!0.1 > 2.0`.
//! - A local version `+...` sorts above the same version without one. Its
//!   segments compare one by one: numeric segments numerically and above
//!   alphanumeric ones, alphanumeric ones case-insensitively, and a longer
//!   local version wins when the shorter one is its prefix.
//! - Numbers may exceed `u64`, so they are kept as decimal strings.
//! - Any non-ASCII character other than surrounding whitespace makes a
//!   version invalid, and `pypa/packaging` rejects `1.0+İ` too.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::compare_decimal;

const SCHEME: &str = "pep440";

/// A non-negative integer kept as ASCII digits without leading zeros.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Number(String);

impl Number {
    fn new(digits: &str) -> Number {
        let trimmed = digits.trim_start_matches('0');
        Number(if trimmed.is_empty() {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        })
    }

    fn zero() -> Number {
        Number("0".to_owned())
    }

    fn is_zero(&self) -> bool {
        self.0 == "0"
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_decimal(&self.0, &other.0)
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A normalized pre-release label, declared in ascending order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum PreLabel {
    Alpha,
    Beta,
    ReleaseCandidate,
}

impl PreLabel {
    fn as_str(self) -> &'static str {
        match self {
            PreLabel::Alpha => "a",
            PreLabel::Beta => "b",
            PreLabel::ReleaseCandidate => "rc",
        }
    }
}

/// A segment of a local version label. Variants are declared in ascending
/// order because a numeric segment sorts above an alphanumeric one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum LocalSegment {
    /// Lowercase ASCII letters and digits with at least one letter.
    Alphanumeric(String),
    Numeric(Number),
}

impl fmt::Display for LocalSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalSegment::Alphanumeric(text) => f.write_str(text),
            LocalSegment::Numeric(number) => write!(f, "{number}"),
        }
    }
}

/// A Python package version. `Display` writes the normalized form, and
/// equality follows ordering, so `1.0 == 1.0.0`.
#[derive(Clone, Debug)]
pub struct Pep440Version {
    epoch: Number,
    release: Vec<Number>,
    pre: Option<(PreLabel, Number)>,
    post: Option<Number>,
    dev: Option<Number>,
    local: Option<Vec<LocalSegment>>,
}

impl Pep440Version {
    /// Reports whether the version has a pre-release or dev part.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// Reports whether the version has a local version label (`+...`).
    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }
}

/// A byte cursor over the lowercased version text.
struct Cursor<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.position).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    /// Consumes one `-`, `_` or `.`, the separators the specification allows.
    fn eat_separator(&mut self) -> bool {
        match self.peek() {
            Some(b'-' | b'_' | b'.') => {
                self.position += 1;
                true
            }
            _ => false,
        }
    }

    fn eat_digits(&mut self) -> Option<Number> {
        let rest = &self.text[self.position..];
        let length = rest.bytes().take_while(u8::is_ascii_digit).count();
        if length == 0 {
            return None;
        }
        self.position += length;
        Some(Number::new(&rest[..length]))
    }

    /// Consumes the first of `words` that the text continues with. Callers
    /// list a longer word before its prefixes (`alpha` before `a`).
    fn eat_word(&mut self, words: &[&'static str]) -> Option<&'static str> {
        let rest = &self.text[self.position..];
        let word = words.iter().find(|word| rest.starts_with(**word))?;
        self.position += word.len();
        Some(word)
    }

    /// Consumes an optional separator and number after a label. A separator
    /// without a number is consumed too, as the specification's regular
    /// expression does (`1.0a.` is valid).
    fn eat_label_number(&mut self) -> Option<Number> {
        self.eat_separator();
        self.eat_digits()
    }

    fn at_end(&self) -> bool {
        self.position == self.text.len()
    }
}

fn parse_pre(cursor: &mut Cursor<'_>) -> Option<(PreLabel, Number)> {
    let start = cursor.position;
    cursor.eat_separator();
    let label = match cursor.eat_word(&["alpha", "a", "beta", "b", "preview", "pre", "rc", "c"]) {
        Some("alpha" | "a") => PreLabel::Alpha,
        Some("beta" | "b") => PreLabel::Beta,
        Some(_) => PreLabel::ReleaseCandidate,
        None => {
            cursor.position = start;
            return None;
        }
    };
    let number = cursor.eat_label_number().unwrap_or_else(Number::zero);
    Some((label, number))
}

fn parse_post(cursor: &mut Cursor<'_>) -> Option<Number> {
    let start = cursor.position;
    // The implicit form `1.0-1` needs a hyphen and a number.
    if cursor.eat(b'-') {
        if let Some(number) = cursor.eat_digits() {
            return Some(number);
        }
        cursor.position = start;
    }
    cursor.eat_separator();
    if cursor.eat_word(&["post", "rev", "r"]).is_none() {
        cursor.position = start;
        return None;
    }
    Some(cursor.eat_label_number().unwrap_or_else(Number::zero))
}

fn parse_dev(cursor: &mut Cursor<'_>) -> Option<Number> {
    let start = cursor.position;
    cursor.eat_separator();
    if cursor.eat_word(&["dev"]).is_none() {
        cursor.position = start;
        return None;
    }
    Some(cursor.eat_label_number().unwrap_or_else(Number::zero))
}

/// Parses the local label after `+`: ASCII letters and digits split by single
/// `-`, `_` or `.` separators, lowercased by the caller.
fn parse_local(text: &str) -> Result<Vec<LocalSegment>, String> {
    let mut segments = Vec::new();
    for segment in text.split(['-', '_', '.']) {
        if segment.is_empty() {
            return Err(format!("local version {text:?} has an empty segment"));
        }
        if !segment.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err(format!(
                "local version {text:?} contains a character other than letters, digits, '-', '_' and '.'"
            ));
        }
        if segment.bytes().all(|byte| byte.is_ascii_digit()) {
            segments.push(LocalSegment::Numeric(Number::new(segment)));
        } else {
            segments.push(LocalSegment::Alphanumeric(segment.to_owned()));
        }
    }
    Ok(segments)
}

fn parse(input: &str) -> Result<Pep440Version, String> {
    let trimmed = input.trim();
    if !trimmed.is_ascii() {
        return Err("contains a non-ASCII character".to_owned());
    }
    let lowercase = trimmed.to_ascii_lowercase();
    let (public, local) = match lowercase.split_once('+') {
        Some((public, local)) => (public, Some(parse_local(local)?)),
        None => (lowercase.as_str(), None),
    };

    let mut cursor = Cursor {
        text: public,
        position: 0,
    };
    cursor.eat(b'v');

    // An epoch is digits followed by `!`. Without the `!` the digits are
    // the first release segment.
    let start = cursor.position;
    let epoch = match cursor.eat_digits() {
        Some(number) if cursor.eat(b'!') => number,
        _ => {
            cursor.position = start;
            Number::zero()
        }
    };

    let Some(first) = cursor.eat_digits() else {
        return Err("missing the release number".to_owned());
    };
    let mut release = vec![first];
    // A dot continues the release only when a number follows it, so the dot
    // of `1.0.post1` is left for the post-release.
    while cursor.peek() == Some(b'.') {
        let dot = cursor.position;
        cursor.position += 1;
        match cursor.eat_digits() {
            Some(number) => release.push(number),
            None => {
                cursor.position = dot;
                break;
            }
        }
    }

    let pre = parse_pre(&mut cursor);
    let post = parse_post(&mut cursor);
    let dev = parse_dev(&mut cursor);
    if !cursor.at_end() {
        return Err(format!("unexpected text {:?}", &public[cursor.position..]));
    }

    Ok(Pep440Version {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

impl FromStr for Pep440Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text).map_err(|reason| VersionError::new(SCHEME, text, reason))
    }
}

/// The pre-release sort key of `packaging`: a dev release of the final
/// release sorts below all pre-releases, and a version without a pre-release
/// sorts above them. Variants are declared in ascending order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    DevOfFinal,
    Pre(PreLabel, &'a Number),
    None,
}

/// The dev sort key: a dev release sorts below the same version without one.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum DevKey<'a> {
    Dev(&'a Number),
    None,
}

impl Pep440Version {
    fn pre_key(&self) -> PreKey<'_> {
        match (&self.pre, &self.post, &self.dev) {
            (None, None, Some(_)) => PreKey::DevOfFinal,
            (Some((label, number)), _, _) => PreKey::Pre(*label, number),
            (None, _, _) => PreKey::None,
        }
    }

    fn dev_key(&self) -> DevKey<'_> {
        match &self.dev {
            Some(number) => DevKey::Dev(number),
            None => DevKey::None,
        }
    }
}

/// Compares release segments with the shorter one padded with zeros.
fn compare_release(a: &[Number], b: &[Number]) -> Ordering {
    let zero = Number::zero();
    let length = a.len().max(b.len());
    for index in 0..length {
        let left = a.get(index).unwrap_or(&zero);
        let right = b.get(index).unwrap_or(&zero);
        match left.cmp(right) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
    }
    Ordering::Equal
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // `Option` ordering puts a missing post-release or local label first.
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_release(&self.release, &other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            .then_with(|| self.post.cmp(&other.post))
            .then_with(|| self.dev_key().cmp(&other.dev_key()))
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440Version {}

impl fmt::Display for Pep440Version {
    /// Writes the normalized form, for example `1!2.0rc1.post0.dev3+ubuntu.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.epoch.is_zero() {
            write!(f, "{}!", self.epoch)?;
        }
        for (index, number) in self.release.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            write!(f, "{number}")?;
        }
        if let Some((label, number)) = &self.pre {
            write!(f, "{}{number}", label.as_str())?;
        }
        if let Some(number) = &self.post {
            write!(f, ".post{number}")?;
        }
        if let Some(number) = &self.dev {
            write!(f, ".dev{number}")?;
        }
        if let Some(segments) = &self.local {
            for (index, segment) in segments.iter().enumerate() {
                f.write_str(if index == 0 { "+" } else { "." })?;
                write!(f, "{segment}")?;
            }
        }
        Ok(())
    }
}

/// Compares two Python package versions with the ordering of the "Version
/// specifiers" specification.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a: Pep440Version = a.parse()?;
    let b: Pep440Version = b.parse()?;
    Ok(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn order(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(ordering) => ordering,
            Err(error) => panic!("{error}"),
        }
    }

    fn normalize(text: &str) -> String {
        match text.parse::<Pep440Version>() {
            Ok(version) => version.to_string(),
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn release_zero_padding() {
        assert_eq!(order("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(order("1", "1.0.0.1"), Ordering::Less);
        assert_eq!(normalize("1.0.0"), "1.0.0");
    }

    #[test]
    fn dev_pre_release_post_order() {
        let ascending = [
            "1.0.dev0",
            "1.0a0.dev0",
            "1.0a0",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0.post0.dev0",
            "1.0.post0",
            "1.0.post1",
        ];
        for pair in ascending.windows(2) {
            assert_eq!(
                order(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn spellings_normalize() {
        assert_eq!(normalize("1.0-ALPHA1"), "1.0a1");
        assert_eq!(normalize("1.0.preview2"), "1.0rc2");
        assert_eq!(normalize("1.0c"), "1.0rc0");
        assert_eq!(normalize("1.0-1"), "1.0.post1");
        assert_eq!(normalize("1.0_rev_3"), "1.0.post3");
        assert_eq!(normalize(" V1.0.DEV \n"), "1.0.dev0");
        assert_eq!(normalize("01.002"), "1.2");
        assert_eq!(order("1.0rc1", "1.0c1"), Ordering::Equal);
    }

    #[test]
    fn epoch_outranks_release() {
        assert_eq!(order("1!0.1", "2.0"), Ordering::Greater);
        assert_eq!(normalize("0!1.0"), "1.0");
        assert_eq!(normalize("007!1.0"), "7!1.0");
    }

    #[test]
    fn local_version_order() {
        assert_eq!(order("1.0", "1.0+0"), Ordering::Less);
        assert_eq!(order("1.0+abc", "1.0+1"), Ordering::Less);
        assert_eq!(order("1.0+1.abc", "1.0+1.abc.0"), Ordering::Less);
        assert_eq!(order("1.0+9", "1.0+10"), Ordering::Less);
        assert_eq!(order("1.0+ABC", "1.0+abc"), Ordering::Equal);
        assert_eq!(order("1.0+1-a_b", "1.0+1.a.b"), Ordering::Equal);
        assert_eq!(normalize("1.0+Ubuntu-007_x"), "1.0+ubuntu.7.x");
    }

    #[test]
    fn trailing_label_separator_accepted() {
        assert_eq!(normalize("1.0a."), "1.0a0");
        assert_eq!(normalize("1.0a.dev"), "1.0a0.dev0");
    }

    #[test]
    fn numbers_beyond_u64() {
        assert_eq!(
            order("1.99999999999999999999", "1.100000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn invalid_versions_rejected() {
        for text in [
            "", "v", "1.0.", "1..0", "1.0-", "1.0+", "1.0+a..b", "1.0 a", "1.0a1rc1", "1.0+é",
            "1.0foo", "1!", "!1.0",
        ] {
            assert!(
                text.parse::<Pep440Version>().is_err(),
                "{text:?} was accepted"
            );
        }
    }

    const VERSION_PATTERN: &str = "([0-9]!)?[0-9]{1,3}(\\.[0-9]{1,2}){0,3}([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[0-9]{0,2})?(-[0-9]|[-_.]?(post|r|rev)[0-9]?)?([-_.]?dev[0-9]?)?(\\+[a-z0-9]{1,3}([-_.][a-z0-9]{1,3}){0,2})?";

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
        fn compare_is_transitive(a in VERSION_PATTERN, b in VERSION_PATTERN, c in VERSION_PATTERN) {
            let ab = compare(&a, &b);
            let bc = compare(&b, &c);
            let ac = compare(&a, &c);
            if ab != Ok(Ordering::Greater) && bc != Ok(Ordering::Greater) {
                prop_assert_ne!(&ac, &Ok(Ordering::Greater));
            }
            if ab == Ok(Ordering::Equal) && bc == Ok(Ordering::Equal) {
                prop_assert_eq!(&ac, &Ok(Ordering::Equal));
            }
        }

        #[test]
        fn normalized_form_reparses_equal(a in VERSION_PATTERN) {
            let version: Pep440Version = a.parse().map_err(|error| TestCaseError::fail(format!("{error}")))?;
            let normalized = version.to_string();
            prop_assert_eq!(compare(&a, &normalized), Ok(Ordering::Equal));
            let reparsed: Pep440Version = normalized.parse().map_err(|error| TestCaseError::fail(format!("{error}")))?;
            prop_assert_eq!(reparsed.to_string(), normalized);
        }

        #[test]
        fn arbitrary_text_never_panics(a in ".*", b in "\\PC*") {
            let _ = compare(&a, &b);
            if a.parse::<Pep440Version>().is_ok() {
                prop_assert_eq!(compare(&a, &a), Ok(Ordering::Equal));
            }
        }
    }
}
