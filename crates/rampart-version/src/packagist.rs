//! Packagist (Composer) package versions: normalized as composer/semver's
//! `VersionParser::normalize` does, then ordered as its `Comparator` orders
//! them, which is PHP's `version_compare` on the normalized strings.
//!
//! Traps:
//! - Normalizing pads to four numbers and drops a leading `v`, so `v1.2 ==
//!   1.2.0.0`. Build metadata after `+` is dropped, and so are an alias
//!   (`1.0.0 as 2.0`) and a stability flag (`1.0@dev`).
//! - A stability suffix may follow the numbers with `-`, `_`, `.` or nothing,
//!   and short forms expand: `1.0b2`, `1.0-beta.2` and `1.0.0-beta2` all
//!   normalize to `1.0.0.0-beta2`. The order is `-dev` < `alpha`/`a` <
//!   `beta`/`b` < `RC` < release < `patch`/`pl`/`p`, and a trailing `-dev`
//!   sorts below the version it is attached to: `1.0.0-beta2-dev <
//!   1.0.0-beta2`. Other words (`1.0.1-SNAPSHOT`) are invalid.
//! - A lower-case `stable` suffix is dropped, but `version_compare` only
//!   matches its special words case-sensitively: `1.0-STABLE` normalizes to
//!   `1.0.0.0-stable`, an unknown word that sorts below even `-dev`.
//! - The first number has at most five digits. A longer one must be a date
//!   (`20100102`, `2010-01-02-10-20-30.0.3`), whose separators all become dots.
//! - Normalizing a normalized date again pads it like a classical version:
//!   `2010-01-02` normalizes to `2010.01.02`, but `2010.01.02` normalizes to
//!   `2010.01.02.0`, which sorts above it. So compare versions as written,
//!   not the `version_normalized` of a date version.
//! - Numbers keep their leading zeros (`00.01.03.04`) and compare as C
//!   `long`s parsed by `strtol`, so numbers beyond 2^63 - 1 all compare equal.
//!   That is the range of 64-bit Linux and macOS builds of PHP. On Windows,
//!   `long` has 32 bits.
//! - A numeric branch ends in `-dev` or `.x-dev`: `1.x-dev` normalizes to
//!   `1.9999999.9999999.9999999-dev`, above every `1.*` release.
//! - Any other branch is `dev-<name>`, and bare `master`, `trunk` and
//!   `default` become `dev-master`, `dev-trunk` and `dev-default`. A branch
//!   sorts below every numbered version. Two branches are equal only when
//!   their names match exactly, case included, and two different branches
//!   have no order: [`compare`] fails for them, and [`PackagistVersion`]'s
//!   `partial_cmp` returns `None`.
//!
//! NOTE: Composer's `Semver::sort` orders `dev-master` above all numbered
//! versions (its tests expect `1.0 < 50.2 < dev-master`), unlike
//! `Comparator`. This module follows `Comparator`.
//!
//! Sources: composer/semver `src/VersionParser.php` (`normalize`,
//! `normalizeBranch`, `expandStability`) at commit
//! 01e2ce5c0c363e7de3839dc629f59b66c267d9e5 and `src/Constraint/Constraint.php`
//! (`versionCompare`) at commit 0218e6d35071ff4daa119e209e72ee80b6617f17. That
//! `VersionParser.php` accepts one trailing short part in dates. composer/semver
//! 3.x accepts two, as `tests/VersionParserTest.php` at commit
//! ce465542111cd1db159b8eece860360c290f06ea expects (`20100102.0.3` is valid),
//! and this module follows the tests. `tests/ComparatorTest.php` at commit
//! 43f8029888dd52d01df0fc6d0d98d4024ab5bef1 gives the branch order.
//! `version_compare` is `ext/standard/versioning.c` of php/php-src at commit
//! e4ca0ed09f035b362f48f30b8a2c0fcf47764801, unchanged in PHP 8.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;

const SCHEME: &str = "packagist";

/// A normalized Composer version: a numbered version such as
/// `1.0.0.0-beta2`, or a branch `dev-<name>`.
///
/// Equality follows the ordering, so `1.0.0.0` equals `01.0.0.0`.
#[derive(Clone, Debug)]
pub struct PackagistVersion {
    normalized: String,
}

impl PackagistVersion {
    /// Normalizes a version as `VersionParser::normalize` does.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let normalized = normalize(text)?;
        Ok(PackagistVersion { normalized })
    }

    /// Returns the normalized form, as Composer stores it in
    /// `version_normalized`.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Returns whether the version is a non-numeric branch `dev-<name>`.
    pub fn is_branch(&self) -> bool {
        self.normalized.starts_with("dev-")
    }
}

impl FromStr for PackagistVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for PackagistVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
    }
}

impl PartialOrd for PackagistVersion {
    /// Orders as `Comparator` does. Returns `None` for two different
    /// branches, which Composer only tests for equality.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self.is_branch(), other.is_branch()) {
            (true, true) => (self.normalized == other.normalized).then_some(Ordering::Equal),
            // A branch canonicalizes to `dev.<name>` and a numbered version
            // starts with a digit, so `version_compare` ranks the branch's
            // `dev` below the number.
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (false, false) => Some(version_compare(
                self.normalized.as_bytes(),
                other.normalized.as_bytes(),
            )),
        }
    }
}

impl PartialEq for PackagistVersion {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl Eq for PackagistVersion {}

/// Compares two versions as Composer's `Comparator` does after normalizing
/// both. Fails when either version is invalid, or when both are different
/// branches, which have no order.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let first = PackagistVersion::parse(a)?;
    let second = PackagistVersion::parse(b)?;
    first.partial_cmp(&second).ok_or_else(|| {
        VersionError::new(
            SCHEME,
            a,
            format!(
                "the dev branches {:?} and {:?} have no order, because Composer only \
                 tests branches for equality",
                first.normalized, second.normalized
            ),
        )
    })
}

/// Normalizes a version string as `VersionParser::normalize` does. Fails for
/// text that is neither a version, a date version nor a branch, and for
/// constraints such as `^1.0` or `1.*`.
pub fn normalize(version: &str) -> Result<String, VersionError> {
    let mut text = php_trim(version);

    // `1.0.0 as 2.0` is an alias, and only its source counts.
    if let Some(source) = strip_alias(text) {
        text = source;
    }
    if let Some(stripped) = strip_stability_flag(text) {
        text = stripped;
    }
    if matches!(text, "master" | "trunk" | "default") {
        return Ok(format!("dev-{text}"));
    }
    let bytes = text.as_bytes();
    if bytes.len() >= 4 && bytes[..4].eq_ignore_ascii_case(b"dev-") {
        return Ok(format!("dev-{}", &text[4..]));
    }
    if let Some(base) = strip_build_metadata(text) {
        text = base;
    }

    if let Some(normalized) = match_classical(text).or_else(|| match_date(text)) {
        return Ok(normalized);
    }

    // `<branch>-dev` is valid only when the branch is numeric, such as
    // `1.x-dev` or `2.1-dev`.
    if let Some(branch) = match_dev_suffix(text) {
        let normalized = normalize_branch(branch);
        if !normalized.contains("dev-") {
            return Ok(normalized);
        }
    }
    Err(VersionError::new(
        SCHEME,
        version,
        "expected a Composer version such as `1.2.3` or `2.0.0-beta1`, a date such as \
         `2010-01-02`, or a branch such as `dev-main` or `1.x-dev`",
    ))
}

/// Normalizes a branch name as `VersionParser::normalizeBranch` does: a
/// numeric branch such as `v1.0.x` becomes `1.0.9999999.9999999-dev`, and any
/// other name `dev-<name>`.
pub fn normalize_branch(name: &str) -> String {
    let name = php_trim(name);
    match numeric_branch_parts(name) {
        Some(parts) => {
            let mut version = String::new();
            for index in 0..4 {
                match parts.get(index) {
                    Some(part) => version.push_str(&part.replace(['*', 'X'], "x")),
                    None => version.push_str(".x"),
                }
            }
            format!("{}-dev", version.replace('x', "9999999"))
        }
        None => format!("dev-{name}"),
    }
}

/// Matches `^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$`
/// (case-insensitive) and returns the number and the `.`-prefixed parts.
fn numeric_branch_parts(name: &str) -> Option<Vec<&str>> {
    let bytes = name.as_bytes();
    let number_start = usize::from(matches!(bytes.first(), Some(b'v' | b'V')));
    let mut position = digits_end(bytes, number_start);
    if position == number_start {
        return None;
    }
    let mut parts = vec![&name[number_start..position]];

    while parts.len() < 4 && bytes.get(position) == Some(&b'.') {
        let end = match bytes.get(position + 1) {
            Some(byte) if byte.is_ascii_digit() => digits_end(bytes, position + 1),
            Some(b'x' | b'X' | b'*') => position + 2,
            _ => break,
        };
        parts.push(&name[position..end]);
        position = end;
    }
    is_end(bytes, position).then_some(parts)
}

/// Removes what PHP's `trim()` removes: space, `\t`, `\n`, `\r`, NUL and
/// vertical tab.
fn php_trim(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\n', '\r', '\0', '\u{0B}'])
}

/// PCRE's `\s` without Unicode support: space, `\t`, `\n`, vertical tab,
/// form feed and `\r`.
fn is_pcre_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// PCRE's `$`: the end of the subject, or just before a newline that ends it.
fn is_end(bytes: &[u8], position: usize) -> bool {
    position == bytes.len() || (position + 1 == bytes.len() && bytes[position] == b'\n')
}

fn digits_end(bytes: &[u8], start: usize) -> usize {
    let count = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    start + count
}

fn run_end(bytes: &[u8], start: usize, accept: impl Fn(u8) -> bool) -> usize {
    let count = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|byte| accept(**byte))
        .count();
    start + count
}

fn starts_with_ignore_case(bytes: &[u8], position: usize, word: &[u8]) -> bool {
    bytes
        .get(position..position + word.len())
        .is_some_and(|slice| slice.eq_ignore_ascii_case(word))
}

/// Matches `^([^,\s]++) ++as ++([^,\s]++)$` and returns the alias source.
fn strip_alias(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let not_separator = |byte: u8| byte != b',' && !is_pcre_space(byte);

    let source_end = run_end(bytes, 0, not_separator);
    let as_start = run_end(bytes, source_end, |byte| byte == b' ');
    let as_end = as_start + 2;
    let target_start = run_end(bytes, as_end, |byte| byte == b' ');
    let target_end = run_end(bytes, target_start, not_separator);

    let matched = source_end > 0
        && as_start > source_end
        && bytes.get(as_start..as_end) == Some(b"as".as_slice())
        && target_start > as_end
        && target_end > target_start
        && is_end(bytes, target_end);
    matched.then(|| &text[..source_end])
}

/// Matches `@(?:stable|RC|beta|alpha|dev)$` (case-insensitive) and returns
/// the text before it.
fn strip_stability_flag(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    ["stable", "RC", "beta", "alpha", "dev"]
        .iter()
        .find_map(|word| {
            let start = bytes.len().checked_sub(word.len() + 1)?;
            let matched =
                bytes[start] == b'@' && bytes[start + 1..].eq_ignore_ascii_case(word.as_bytes());
            matched.then(|| &text[..start])
        })
}

/// Matches `^([^,\s+]++)\+[^\s]++$` and returns the version before the `+`.
fn strip_build_metadata(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let base_end = run_end(bytes, 0, |byte| {
        byte != b',' && byte != b'+' && !is_pcre_space(byte)
    });
    if base_end == 0 || bytes.get(base_end) != Some(&b'+') {
        return None;
    }
    let metadata_end = run_end(bytes, base_end + 1, |byte| !is_pcre_space(byte));
    let matched = metadata_end > base_end + 1 && is_end(bytes, metadata_end);
    matched.then(|| &text[..base_end])
}

/// The captures of composer/semver's modifier pattern
/// `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?`.
struct Modifier {
    /// The stability word as written, if any.
    stability: Option<(usize, usize)>,
    /// The numbers after the word, such as `.2.1`, possibly empty.
    numbers: (usize, usize),
    dev: bool,
}

/// The stability words in the pattern's alternation order.
const STABILITY_WORDS: [&str; 9] = [
    "stable", "beta", "b", "RC", "alpha", "a", "patch", "pl", "p",
];

/// Matches the modifier pattern followed by `$` at `start`, case-insensitive,
/// trying the alternatives in the order PCRE backtracks through them, so the
/// first match found has PCRE's captures.
fn match_modifier(bytes: &[u8], start: usize) -> Option<Modifier> {
    let mut word_starts = Vec::with_capacity(2);
    if matches!(bytes.get(start), Some(b'.' | b'_' | b'-')) {
        word_starts.push(start + 1);
    }
    word_starts.push(start);

    for word_start in word_starts {
        for word in STABILITY_WORDS {
            if !starts_with_ignore_case(bytes, word_start, word.as_bytes()) {
                continue;
            }
            let word_end = word_start + word.len();
            // The numbers group is optional around a possessive star, so PCRE
            // tries the star's longest match, then no numbers at all.
            for numbers_end in [stability_numbers_end(bytes, word_end), word_end] {
                if let Some(dev) = match_dev_tail(bytes, numbers_end) {
                    return Some(Modifier {
                        stability: Some((word_start, word_end)),
                        numbers: (word_end, numbers_end),
                        dev,
                    });
                }
            }
        }
        if let Some(dev) = match_dev_tail(bytes, word_start) {
            return Some(Modifier {
                stability: None,
                numbers: (word_start, word_start),
                dev,
            });
        }
    }
    None
}

/// Returns where the possessive `(?:[.-]?\d+)*+` ends when it starts at
/// `start`.
fn stability_numbers_end(bytes: &[u8], start: usize) -> usize {
    let mut position = start;
    loop {
        let digits_start = match bytes.get(position) {
            Some(b'.' | b'-') => position + 1,
            _ => position,
        };
        let end = digits_end(bytes, digits_start);
        if end == digits_start {
            return position;
        }
        position = end;
    }
}

/// Matches `([.-]?dev)?$` at `position`, returning whether `dev` was present.
fn match_dev_tail(bytes: &[u8], position: usize) -> Option<bool> {
    let separated = matches!(bytes.get(position), Some(b'.' | b'-'))
        && starts_with_ignore_case(bytes, position + 1, b"dev")
        && is_end(bytes, position + 4);
    let plain = starts_with_ignore_case(bytes, position, b"dev") && is_end(bytes, position + 3);
    if separated || plain {
        Some(true)
    } else if is_end(bytes, position) {
        Some(false)
    } else {
        None
    }
}

/// Appends the modifier to a normalized version as `normalize` does: a
/// lower-case `stable` ends the version, other words expand and take their
/// numbers without the leading separator, and `-dev` comes last.
fn apply_modifier(mut version: String, text: &str, modifier: &Modifier) -> String {
    if let Some((start, end)) = modifier.stability {
        let word = &text[start..end];
        if word == "stable" {
            return version;
        }
        let (numbers_start, numbers_end) = modifier.numbers;
        let numbers = text[numbers_start..numbers_end].trim_start_matches(['.', '-']);
        version.push('-');
        version.push_str(expand_stability(word));
        version.push_str(numbers);
    }
    if modifier.dev {
        version.push_str("-dev");
    }
    version
}

/// `VersionParser::expandStability`: `a`, `b`, `p`/`pl` and `rc` become
/// `alpha`, `beta`, `patch` and `RC`, and other words are lower-cased.
fn expand_stability(word: &str) -> &'static str {
    match word.to_ascii_lowercase().as_str() {
        "a" | "alpha" => "alpha",
        "b" | "beta" => "beta",
        "p" | "pl" | "patch" => "patch",
        "rc" => "RC",
        _ => "stable",
    }
}

/// Matches `^v?(\d{1,5}+)(\.\d++)?(\.\d++)?(\.\d++)?` and the modifier, and
/// returns the version padded to four numbers with its modifier.
fn match_classical(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let major_start = usize::from(matches!(bytes.first(), Some(b'v' | b'V')));
    let major_end = digits_end(bytes, major_start).min(major_start + 5);
    if major_end == major_start {
        return None;
    }

    let mut version = text[major_start..major_end].to_owned();
    let mut position = major_end;
    for _ in 0..3 {
        let has_number = bytes.get(position) == Some(&b'.')
            && bytes.get(position + 1).is_some_and(u8::is_ascii_digit);
        if has_number {
            let end = digits_end(bytes, position + 1);
            version.push_str(&text[position..end]);
            position = end;
        } else {
            version.push_str(".0");
        }
    }

    let modifier = match_modifier(bytes, position)?;
    Some(apply_modifier(version, text, &modifier))
}

/// Matches the date pattern
/// `^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})` and the modifier,
/// and returns the date with every separator turned into a dot.
fn match_date(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let date_start = usize::from(matches!(bytes.first(), Some(b'v' | b'V')));
    if digits_end(bytes, date_start) < date_start + 4 {
        return None;
    }

    let mut try_end = |date_end: usize| {
        let modifier = match_modifier(bytes, date_end)?;
        let date: String = bytes[date_start..date_end]
            .iter()
            .map(|&byte| {
                if byte.is_ascii_digit() {
                    char::from(byte)
                } else {
                    '.'
                }
            })
            .collect();
        Some(apply_modifier(date, text, &modifier))
    };
    date_pairs(bytes, date_start + 4, 0, &mut try_end)
}

/// Matches the greedy `(?:[.:-]?\d{2}){1,6}` after the year, then the short
/// parts. Like PCRE, it tries one more pair before it stops.
fn date_pairs<T>(
    bytes: &[u8],
    position: usize,
    count: usize,
    try_end: &mut impl FnMut(usize) -> Option<T>,
) -> Option<T> {
    if count < 6 {
        for digits_start in date_part_starts(bytes, position) {
            if digits_end(bytes, digits_start) >= digits_start + 2 {
                let found = date_pairs(bytes, digits_start + 2, count + 1, try_end);
                if found.is_some() {
                    return found;
                }
            }
        }
    }
    if count >= 1 {
        return date_short_parts(bytes, position, 0, try_end);
    }
    None
}

/// Matches the greedy `(?:[.:-]?\d{1,3}){0,2}` that ends the date, then calls
/// `try_end` with each end position in PCRE's order.
fn date_short_parts<T>(
    bytes: &[u8],
    position: usize,
    count: usize,
    try_end: &mut impl FnMut(usize) -> Option<T>,
) -> Option<T> {
    if count < 2 {
        for digits_start in date_part_starts(bytes, position) {
            let available = digits_end(bytes, digits_start) - digits_start;
            for length in (1..=available.min(3)).rev() {
                let found = date_short_parts(bytes, digits_start + length, count + 1, try_end);
                if found.is_some() {
                    return found;
                }
            }
        }
    }
    try_end(position)
}

/// Returns where a date part's digits may start: after an optional `.`, `:`
/// or `-`, with the separator tried first.
fn date_part_starts(bytes: &[u8], position: usize) -> Vec<usize> {
    if matches!(bytes.get(position), Some(b'.' | b':' | b'-')) {
        vec![position + 1, position]
    } else {
        vec![position]
    }
}

/// Matches `(.*?)[.-]?dev$` (case-insensitive, unanchored) and returns the
/// first group, as `preg_match` finds it.
fn match_dev_suffix(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let dev_at = |position: usize| {
        starts_with_ignore_case(bytes, position, b"dev") && is_end(bytes, position + 3)
    };

    // `.*?` cannot cross a newline, so the match starts after the last
    // newline before the suffix. The earliest start wins, then the earliest
    // suffix.
    let first_candidate = bytes.len().saturating_sub(5);
    (first_candidate..bytes.len())
        .filter(|&position| {
            let separated = matches!(bytes[position], b'.' | b'-') && dev_at(position + 1);
            separated || dev_at(position)
        })
        .map(|position| {
            let start = bytes[..position]
                .iter()
                .rposition(|&byte| byte == b'\n')
                .map_or(0, |newline| newline + 1);
            (start, position)
        })
        .min()
        .map(|(start, position)| &text[start..position])
}

/// PHP's `version_compare` (`php_version_compare`).
fn version_compare(a: &[u8], b: &[u8]) -> Ordering {
    if a.is_empty() || b.is_empty() {
        return (!a.is_empty()).cmp(&!b.is_empty());
    }
    // A string starting with `#` is compared as written.
    let a = if a[0] == b'#' {
        a.to_vec()
    } else {
        canonicalize(a)
    };
    let b = if b[0] == b'#' {
        b.to_vec()
    } else {
        canonicalize(b)
    };
    compare_canonical(&a, &b)
}

/// `php_canonicalize_version`: turns `-`, `_`, `+` and other non-alphanumeric
/// bytes into `.`, inserts `.` where digits meet other bytes, and never
/// writes two dots in a row. The first byte is kept as written.
fn canonicalize(version: &[u8]) -> Vec<u8> {
    let is_digit = |byte: u8| byte.is_ascii_digit();
    let is_other = |byte: u8| !byte.is_ascii_digit() && byte != b'.';

    let mut out = Vec::with_capacity(version.len() * 2);
    out.push(version[0]);
    let mut previous = version[0];
    for &byte in &version[1..] {
        let last_written = out.last().copied();
        let push_dot = |out: &mut Vec<u8>| {
            if last_written != Some(b'.') {
                out.push(b'.');
            }
        };
        if matches!(byte, b'-' | b'_' | b'+') {
            push_dot(&mut out);
        } else if (is_other(previous) && is_digit(byte)) || (is_digit(previous) && is_other(byte)) {
            push_dot(&mut out);
            out.push(byte);
        } else if !byte.is_ascii_alphanumeric() {
            push_dot(&mut out);
        } else {
            out.push(byte);
        }
        previous = byte;
    }
    out
}

/// Compares two canonical strings segment by segment, as the loop of
/// `php_version_compare` does.
fn compare_canonical(a: &[u8], b: &[u8]) -> Ordering {
    let next_dot = |text: &[u8], from: usize| {
        text[from..]
            .iter()
            .position(|&byte| byte == b'.')
            .map(|i| from + i)
    };

    let (mut a_position, mut b_position) = (0, 0);
    // Positions of the dots after the current segments. `Some(0)` starts the
    // loop, as the C code starts with non-null pointers.
    let (mut a_dot, mut b_dot) = (Some(0), Some(0));
    let mut order = Ordering::Equal;

    while a_position < a.len() && b_position < b.len() && a_dot.is_some() && b_dot.is_some() {
        a_dot = next_dot(a, a_position);
        b_dot = next_dot(b, b_position);
        let a_segment = &a[a_position..a_dot.unwrap_or(a.len())];
        let b_segment = &b[b_position..b_dot.unwrap_or(b.len())];
        order = compare_segments(a_segment, b_segment);
        if order != Ordering::Equal {
            break;
        }
        if let Some(dot) = a_dot {
            a_position = dot + 1;
        }
        if let Some(dot) = b_dot {
            b_position = dot + 1;
        }
    }

    if order != Ordering::Equal {
        return order;
    }
    // The side with segments left decides: a number there wins, and a word
    // is compared with `#N#`, the rank of a number.
    if a_dot.is_some() {
        if a.get(a_position).is_some_and(u8::is_ascii_digit) {
            Ordering::Greater
        } else {
            version_compare(&a[a_position..], b"#N#")
        }
    } else if b_dot.is_some() {
        if b.get(b_position).is_some_and(u8::is_ascii_digit) {
            Ordering::Less
        } else {
            version_compare(b"#N#", &b[b_position..])
        }
    } else {
        Ordering::Equal
    }
}

fn compare_segments(a: &[u8], b: &[u8]) -> Ordering {
    let a_number = a.first().is_some_and(u8::is_ascii_digit);
    let b_number = b.first().is_some_and(u8::is_ascii_digit);
    match (a_number, b_number) {
        (true, true) => strtol(a).cmp(&strtol(b)),
        (false, false) => special_form_rank(a).cmp(&special_form_rank(b)),
        (true, false) => special_form_rank(b"#N#").cmp(&special_form_rank(b)),
        (false, true) => special_form_rank(a).cmp(&special_form_rank(b"#N#")),
    }
}

/// Parses the leading decimal number, saturating at `i64::MAX` as `strtol`
/// does.
fn strtol(segment: &[u8]) -> i64 {
    segment
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .fold(0_i64, |value, byte| {
            value
                .saturating_mul(10)
                .saturating_add(i64::from(byte - b'0'))
        })
}

/// `compare_special_version_forms`: the rank of the first special form that
/// the segment starts with (case-sensitive), or -1 for any other word.
fn special_form_rank(segment: &[u8]) -> i32 {
    const FORMS: [(&[u8], i32); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| segment.starts_with(form))
        .map_or(-1, |(_, rank)| *rank)
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

    fn normalized(text: &str) -> String {
        match normalize(text) {
            Ok(normalized) => normalized,
            Err(error) => panic!("{error}"),
        }
    }

    fn php_compare(a: &str, b: &str) -> Ordering {
        version_compare(a.as_bytes(), b.as_bytes())
    }

    #[test]
    fn padding_and_prefix() {
        assert_eq!(normalized("v1.2"), "1.2.0.0");
        assert_eq!(order("1.2", "1.2.0.0"), Ordering::Equal);
        assert_eq!(order("01.2", "1.2"), Ordering::Equal);
    }

    #[test]
    fn stability_order() {
        let ascending = [
            "1.0.0-dev",
            "1.0.0-alpha1",
            "1.0.0-beta1-dev",
            "1.0.0-beta1",
            "1.0.0-b2",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-pl1",
            "1.0.0-patch2",
            "1.0.1-dev",
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
    fn short_forms_expand() {
        assert_eq!(normalized("1.0b2"), "1.0.0.0-beta2");
        assert_eq!(normalized("1.0-beta.2"), "1.0.0.0-beta2");
        assert_eq!(normalized("1.0.0.p3"), "1.0.0.0-patch3");
        assert_eq!(normalized("1.0.0rc1DEV"), "1.0.0.0-RC1-dev");
        assert_eq!(normalized("1.0-stable-dev"), "1.0.0.0");
    }

    #[test]
    fn upper_case_stable_sorts_lowest() {
        assert_eq!(normalized("1.0-STABLE"), "1.0.0.0-stable");
        assert_eq!(order("1.0-STABLE", "1.0-dev"), Ordering::Less);
    }

    #[test]
    fn dates_and_long_majors() {
        assert_eq!(normalized("2010-01-02"), "2010.01.02");
        assert_eq!(normalized("20100102-203040-p1"), "20100102.203040-patch1");
        assert_eq!(normalized("123456"), "123456");
        assert!(normalize("123456.1.2.3").is_err());
        assert_eq!(order("20100102", "2010.01.02"), Ordering::Greater);
    }

    #[test]
    fn date_normalization_not_idempotent() {
        assert_eq!(normalized("2010.01.02"), "2010.01.02.0");
        assert_eq!(order("2010-01-02", "2010.01.02"), Ordering::Less);
    }

    #[test]
    fn numbers_saturate_like_strtol() {
        assert_eq!(
            order("1.99999999999999999999", "1.9223372036854775807"),
            Ordering::Equal
        );
        assert_eq!(
            order("1.9223372036854775806", "1.9223372036854775807"),
            Ordering::Less
        );
    }

    #[test]
    fn numeric_branches() {
        assert_eq!(normalized("1.x-dev"), "1.9999999.9999999.9999999-dev");
        assert_eq!(normalized("2.1-dev"), "2.1.0.0-dev");
        assert_eq!(normalize_branch("v1.0.3.*"), "1.0.3.9999999-dev");
        assert_eq!(order("1.x-dev", "1.99999.0"), Ordering::Greater);
        assert!(normalize("feature-dev").is_err());
    }

    #[test]
    fn named_branches_below_numbers() {
        assert_eq!(normalized("master"), "dev-master");
        assert_eq!(normalized("DEV-Feature"), "dev-Feature");
        assert_eq!(order("dev-master", "0.0.1-dev"), Ordering::Less);
        assert_eq!(order("dev-foo", "dev-foo"), Ordering::Equal);
        assert!(compare("dev-foo", "dev-FOO").is_err());
    }

    #[test]
    fn aliases_flags_and_metadata_dropped() {
        assert_eq!(normalized("1.0.0+foo as 2.0"), "1.0.0.0");
        assert_eq!(normalized("1.0@beta"), "1.0.0.0");
        assert_eq!(normalized("1.0.0-beta.5+foo"), "1.0.0.0-beta5");
    }

    #[test]
    fn invalid_versions_rejected() {
        for text in [
            "",
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "1.0.1-SNAPSHOT",
            "^1.0",
            "1.*",
            "~1",
            "1.0 .2",
            "dev",
            "v",
        ] {
            assert!(normalize(text).is_err(), "{text:?} was accepted");
        }
    }

    /// `version_compare` results listed in the PHP manual and its tests.
    #[test]
    fn version_compare_matches_php() {
        assert_eq!(php_compare("5.2", "5.2.0"), Ordering::Less);
        assert_eq!(php_compare("1.0rc1", "1.0"), Ordering::Less);
        assert_eq!(php_compare("1.0", "1.0.0-pl1"), Ordering::Less);
        assert_eq!(php_compare("1.0-dev", "1.0a1"), Ordering::Less);
        assert_eq!(php_compare("1.0foo", "1.0dev"), Ordering::Less);
        assert_eq!(php_compare("", "1"), Ordering::Less);
        assert_eq!(php_compare("1-", "1"), Ordering::Less);
    }

    /// Sorted versions from composer/semver's `SemverTest::sortProvider`.
    #[test]
    fn semver_test_sort_order() {
        let sorted = ["0.1", "0.1", "1.0", "2.4.0-alpha", "2.4.0", "3.2.1"];
        for pair in sorted.windows(2) {
            assert_ne!(order(pair[0], pair[1]), Ordering::Greater);
        }
    }

    /// Versions as they appear in composer.lock files and advisories, with
    /// small numbers so equal versions written differently come up often.
    const VERSION_PATTERN: &str = "v?0?[0-2](\\.0?[0-2]){0,3}([-._]?(alpha|a|beta|b|RC|rc|patch|pl|p)([.-]?[0-2]){0,2})?([.-]?dev)?(\\+[a-z0-9]{1,3})?";

    fn version_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => VERSION_PATTERN,
            1 => "[0-2](\\.[0-2x]){0,2}[.-]dev",
            1 => "master|trunk|dev-(master|main|[a-cA-C]{1,2})",
            1 => "20[0-2]{2}([.:-]?[0-1][0-9]){1,2}([.-][0-9]{1,3})?",
        ]
    }

    proptest! {
        #[test]
        fn compare_is_reflexive_and_antisymmetric(a in version_strategy(), b in version_strategy()) {
            prop_assert_eq!(compare(&a, &a), Ok(Ordering::Equal));
            let forward = compare(&a, &b);
            let backward = compare(&b, &a);
            match (&forward, &backward) {
                (Ok(forward), Ok(backward)) => prop_assert_eq!(*forward, backward.reverse()),
                _ => {
                    // Only two different branches fail, and in both directions.
                    prop_assert!(forward.is_err() && backward.is_err());
                    let a_branch = PackagistVersion::parse(&a).map(|v| v.is_branch());
                    let b_branch = PackagistVersion::parse(&b).map(|v| v.is_branch());
                    prop_assert_eq!(a_branch, Ok(true));
                    prop_assert_eq!(b_branch, Ok(true));
                }
            }
        }

        #[test]
        fn compare_is_transitive(a in version_strategy(), b in version_strategy(), c in version_strategy()) {
            check_transitive(compare, [&a, &b, &c]).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn normalized_form_is_stable(a in VERSION_PATTERN) {
            let once = normalized(&a);
            prop_assert_eq!(normalized(&once), once.clone());
            prop_assert_eq!(compare(&a, &once), Ok(Ordering::Equal));
        }

        #[test]
        fn arbitrary_text_never_panics(a in "\\PC{0,30}", b in "[0-9a-zA-Z .@+:_-]{0,16}") {
            let _ = compare(&a, &b);
            let _ = normalize_branch(&a);
            let _ = php_compare(&a, &b);
        }
    }
}
