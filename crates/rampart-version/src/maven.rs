//! Maven version ordering, as `org.apache.maven.artifact.versioning.ComparableVersion`
//! defines it.
//!
//! Traps:
//! - A hyphen opens a nested list, a dot does not: `1-1` is `[1, [1]]`, and a
//!   number beats a list at the same position, so `1-1 < 1.1`.
//! - A change between digits and letters also separates items, and a letter
//!   run followed by digits becomes one combination item (`rc3`, or `rc-3`,
//!   which is read as `rc3`). A lone `a`, `b` or `m` before a digit means
//!   `alpha`, `beta` or `milestone`, but a lone `a` before a separator does not.
//! - Null items (`0`, `""`, `ga`, `final`, `release`) are trimmed from the end
//!   of each list, so `1 == 1.0 == 1-0 == 1ga`, and `1.0.0.x == 1-x`.
//! - Known qualifiers order `alpha < beta < milestone < rc == cr < snapshot <
//!   "" == ga == final == release < sp`. Every unknown qualifier sorts after
//!   all known ones, compared by UTF-16 code unit after lower-casing, so
//!   `2.414.2-cb-5 > 2.414.2` (a CloudBees build is newer than its base).
//! - A number sorts after any qualifier or sublist, numbers have no size limit, and
//!   only ASCII digits are digits (`é`, `٨` and `𝟤` are letters, so `1 > ٨`).
//! - Later Maven versions changed some orders to make the ordering
//!   transitive, and Maven's `testMng*` tests check them. `6.1.0rc3 <
//!   6.1H.5-beta`. `1-0.alpha < 1`, because every item of a sublist is
//!   compared with the missing side, not only the first. `1.0.0.X1 <
//!   1.0.0-X2`, because `.X` after a number opens a sublist as `-X` does.
//!   `1.0.final-redhat < 1.0-sp1-redhat`, because a release qualifier
//!   followed by a number compares by that number.
//! - Strings longer than 256 UTF-16 code units are rejected, as the source
//!   below does. The copy at apache/maven commit
//!   27f715d653b73777616602d55a2afaddd9254523 has no limit, but each `-`
//!   nests a list and comparison recurses once per level.
//!
//! Source: apache/maven `compat/maven-artifact/src/main/java/org/apache/maven/
//! artifact/versioning/ComparableVersion.java` and its Javadoc at commit
//! 0288c858679525cd4f0ae8c1e7fbfe5b5f541278, checked against the ordering and
//! canonical-form cases of `ComparableVersionTest.java` at commit
//! 540897d3d3c329a38e4df9648249c9d407dbc8c2.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;

const SCHEME: &str = "maven";

/// Maximum accepted length of a version string, in UTF-16 code units as Java
/// counts `String.length()`.
pub const MAX_VERSION_LENGTH: usize = 256;

/// Known qualifiers from least to greatest. The empty string is the release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// Qualifiers that sort as the release (the empty qualifier).
const RELEASE_QUALIFIERS: [&str; 3] = ["ga", "final", "release"];

/// Index of the empty qualifier in `QUALIFIERS`.
const RELEASE_INDEX: usize = 5;

/// A parsed Maven version, ordered as `ComparableVersion.compareTo` orders it.
///
/// Equality follows the ordering, so `1ga == 1` although Maven's `equals`
/// distinguishes them.
#[derive(Clone, Debug)]
pub struct MavenVersion {
    original: String,
    items: Vec<Item>,
}

/// One item of a parsed version.
#[derive(Clone, Debug)]
enum Item {
    /// A decimal number without leading zeros (`"0"` for zero).
    Number(String),
    /// A qualifier, lower-cased, with aliases resolved.
    Text(String),
    /// A qualifier directly followed by a number, such as `rc3`.
    Combination { text: String, number: String },
    /// A sublist, opened by `-` or by a change between digits and letters.
    List(Vec<Item>),
}

/// Sort key of a qualifier: known qualifiers by rank, then unknown ones.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum QualifierKey {
    Known(usize),
    Unknown(Vec<u16>),
}

impl MavenVersion {
    /// Parses a version string. Fails only on strings longer than
    /// [`MAX_VERSION_LENGTH`] UTF-16 code units.
    pub fn parse(version: &str) -> Result<Self, VersionError> {
        let length = version.encode_utf16().count();
        if length > MAX_VERSION_LENGTH {
            return Err(VersionError::new(
                SCHEME,
                version,
                format!(
                    "version is {length} UTF-16 code units long, the maximum is {MAX_VERSION_LENGTH}"
                ),
            ));
        }

        Ok(MavenVersion {
            original: version.to_owned(),
            items: parse_items(version),
        })
    }

    /// Returns the version string as given.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Returns the canonical form that `ComparableVersion.getCanonical()`
    /// returns, such as `x` for `0.x` and `1-alpha1` for `1a1`.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        write_list(&self.items, &mut out);
        out
    }
}

impl FromStr for MavenVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        MavenVersion::parse(text)
    }
}

impl fmt::Display for MavenVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_list_list(&self.items, &other.items)
    }
}

/// Compares two Maven version strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let left = MavenVersion::parse(a)?;
    let right = MavenVersion::parse(b)?;
    Ok(left.cmp(&right))
}

// ---------------------------------------------------------------------------
// Parsing

/// A list under construction. Only the last list on the stack receives items,
/// because a new sublist is always appended as the last item of its parent.
struct ListStack {
    lists: Vec<Vec<Item>>,
}

impl ListStack {
    fn current(&mut self) -> &mut Vec<Item> {
        if self.lists.is_empty() {
            self.lists.push(Vec::new());
        }
        let last = self.lists.len() - 1;
        &mut self.lists[last]
    }

    fn add(&mut self, item: Item) {
        self.current().push(item);
    }

    fn current_is_empty(&mut self) -> bool {
        self.current().is_empty()
    }

    fn open_sublist(&mut self) {
        self.lists.push(Vec::new());
    }

    /// Normalizes each list from the innermost outwards and nests it into
    /// its parent, as Maven does when it pops its stack.
    fn finish(mut self) -> Vec<Item> {
        while let Some(mut list) = self.lists.pop() {
            normalize(&mut list);
            match self.lists.last_mut() {
                Some(parent) => parent.push(Item::List(list)),
                None => return list,
            }
        }
        Vec::new()
    }
}

/// Splits a version into items with Maven's tokenizer: `.` ends an item,
/// `-` ends an item and opens a sublist, and a change between ASCII digits
/// and other characters ends an item too.
fn parse_items(version: &str) -> Vec<Item> {
    // Maven lower-cases with Locale.ENGLISH before tokenizing.
    let chars: Vec<char> = version.to_lowercase().chars().collect();
    let mut stack = ListStack {
        lists: vec![Vec::new()],
    };

    let mut is_digit = false;
    let mut is_combination = false;
    let mut start = 0;

    for (i, &c) in chars.iter().enumerate() {
        if c == '.' {
            if i == start {
                stack.add(Item::Number("0".to_owned()));
            } else {
                stack.add(parse_item(is_combination, is_digit, &chars[start..i]));
            }
            is_combination = false;
            start = i + 1;
        } else if c == '-' {
            if i == start {
                stack.add(Item::Number("0".to_owned()));
            } else {
                // `X-1` is read as the combination `X1`, so the token goes on.
                let next_is_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
                if !is_digit && next_is_digit {
                    is_combination = true;
                    continue;
                }
                stack.add(parse_item(is_combination, is_digit, &chars[start..i]));
            }
            start = i + 1;
            if !stack.current_is_empty() {
                stack.open_sublist();
            }
            is_combination = false;
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // Letters followed by digits: `X1`.
                is_combination = true;
                if !stack.current_is_empty() {
                    stack.open_sublist();
                }
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                // Digits followed by a letter: the number ends, a sublist opens.
                stack.add(parse_item(is_combination, true, &chars[start..i]));
                start = i;
                stack.open_sublist();
                is_combination = false;
            }
            is_digit = false;
        }
    }

    if chars.len() > start {
        // `.X` after other items opens a sublist as `-X` does, so `1.0.0.X1 < 1.0.0-X2`.
        if !is_digit && !stack.current_is_empty() {
            stack.open_sublist();
        }
        stack.add(parse_item(is_combination, is_digit, &chars[start..]));
    }

    stack.finish()
}

fn parse_item(is_combination: bool, is_digit: bool, token: &[char]) -> Item {
    if is_combination {
        let token: Vec<char> = token.iter().copied().filter(|&c| c != '-').collect();
        // NOTE: Java splits at the first `Character.isDigit`, which also
        // matches non-ASCII decimal digits. Only ASCII digits split here.
        let split = token.iter().position(char::is_ascii_digit).unwrap_or(0);
        let (text, number) = token.split_at(split);
        return Item::Combination {
            text: qualifier(text, true),
            number: strip_leading_zeros(number),
        };
    }
    if is_digit {
        return Item::Number(strip_leading_zeros(token));
    }
    Item::Text(qualifier(token, false))
}

/// Resolves qualifier aliases: `a`, `b` and `m` directly before a digit mean
/// `alpha`, `beta` and `milestone`, and `cr` always means `rc`.
fn qualifier(text: &[char], followed_by_digit: bool) -> String {
    let text: String = text.iter().collect();
    let expanded = match text.as_str() {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        "cr" => "rc",
        other => other,
    };
    expanded.to_owned()
}

fn strip_leading_zeros(digits: &[char]) -> String {
    let stripped: String = digits.iter().skip_while(|&&c| c == '0').collect();
    if stripped.is_empty() {
        "0".to_owned()
    } else {
        stripped
    }
}

/// Removes null items as Maven's `ListItem.normalize` does: a null item goes
/// when it is last, when a string follows it, or when a sublist starting with
/// a string or combination follows it. A list left with one sublist takes
/// that sublist's items.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if !list[i].is_null() {
            continue;
        }
        let remove = match list.get(i + 1) {
            None => true,
            Some(Item::Text(_)) => true,
            Some(Item::List(next)) => {
                matches!(next.first(), Some(Item::Text(_) | Item::Combination { .. }))
            }
            Some(_) => false,
        };
        if remove {
            list.remove(i);
        }
    }

    if let [Item::List(inner)] = list.as_mut_slice() {
        *list = std::mem::take(inner);
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Number(digits) => digits == "0",
            Item::Text(text) => text.is_empty(),
            Item::Combination { .. } => false,
            Item::List(items) => items.is_empty(),
        }
    }
}

// ---------------------------------------------------------------------------
// Canonical form

fn write_list(items: &[Item], out: &mut String) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(if matches!(item, Item::List(_)) {
                '-'
            } else {
                '.'
            });
        }
        match item {
            Item::Number(digits) => out.push_str(digits),
            Item::Text(text) => out.push_str(text),
            Item::Combination { text, number } => {
                out.push_str(text);
                out.push_str(number);
            }
            Item::List(inner) => write_list(inner, out),
        }
    }
}

// ---------------------------------------------------------------------------
// Comparison

fn qualifier_key(text: &str) -> QualifierKey {
    if RELEASE_QUALIFIERS.contains(&text) {
        return QualifierKey::Known(RELEASE_INDEX);
    }
    match QUALIFIERS.iter().position(|known| *known == text) {
        Some(rank) => QualifierKey::Known(rank),
        // Java compares strings by UTF-16 code unit, not by code point.
        None => QualifierKey::Unknown(text.encode_utf16().collect()),
    }
}

fn compare_numbers(a: &str, b: &str) -> Ordering {
    // Both have no leading zeros, so the longer one is larger.
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn compare_texts(a: &str, b: &str) -> Ordering {
    qualifier_key(a).cmp(&qualifier_key(b))
}

/// Compares an item with a missing item, which stands for the release:
/// `1.1 > 1`, `1-rc < 1`, `1-sp > 1`.
fn compare_with_null(item: &Item) -> Ordering {
    match item {
        Item::Number(digits) => {
            if digits == "0" {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        Item::Text(text) => compare_text_with_null(text),
        Item::Combination { text, number } => {
            // `ga1` is after the release because its number decides, so `1-ga1 > 1`.
            compare_text_with_null(text).then_with(|| compare_number_with_null(number))
        }
        // Every item of the sublist counts, not only the first, so `1-0.alpha < 1`.
        Item::List(items) => items
            .iter()
            .map(compare_with_null)
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal),
    }
}

fn compare_text_with_null(text: &str) -> Ordering {
    qualifier_key(text).cmp(&QualifierKey::Known(RELEASE_INDEX))
}

fn compare_number_with_null(number: &str) -> Ordering {
    if number == "0" {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

fn compare_items(left: &Item, right: &Item) -> Ordering {
    use Item::{Combination, List, Number, Text};

    match (left, right) {
        (Number(a), Number(b)) => compare_numbers(a, b),
        // A number sorts after strings, combinations and sublists.
        (Number(_), _) => Ordering::Greater,
        (_, Number(_)) => Ordering::Less,

        (Text(a), Text(b)) => compare_texts(a, b),
        (Text(a), Combination { text, number }) => compare_text_combination(a, text, number),
        (Combination { text, number }, Text(b)) => {
            compare_text_combination(b, text, number).reverse()
        }
        (
            Combination {
                text: text_a,
                number: number_a,
            },
            Combination {
                text: text_b,
                number: number_b,
            },
        ) => compare_texts(text_a, text_b).then_with(|| compare_numbers(number_a, number_b)),

        (List(a), List(b)) => compare_list_list(a, b),
        (List(a), scalar) => compare_list_scalar(a, scalar),
        (scalar, List(b)) => compare_list_scalar(b, scalar).reverse(),
    }
}

/// Compares the qualifier `plain` with the combination `text` + `number`.
/// `X < X1` unless `X` is a release qualifier, where the number decides.
fn compare_text_combination(plain: &str, text: &str, number: &str) -> Ordering {
    match compare_texts(plain, text) {
        Ordering::Equal => {
            if compare_text_with_null(plain).is_eq() {
                compare_number_with_null(number).reverse()
            } else {
                Ordering::Less
            }
        }
        other => other,
    }
}

/// Compares a sublist with a string or combination: its first item against
/// the scalar, then its other items against null.
fn compare_list_scalar(list: &[Item], scalar: &Item) -> Ordering {
    let Some((first, rest)) = list.split_first() else {
        return compare_with_null(scalar).reverse();
    };
    let mut ordering = compare_items(first, scalar);
    for item in rest {
        if ordering.is_ne() {
            break;
        }
        ordering = compare_with_null(item);
    }
    ordering
}

/// Compares two lists item by item. A missing item on the shorter side is
/// null.
fn compare_list_list(left: &[Item], right: &[Item]) -> Ordering {
    let length = left.len().max(right.len());
    for index in 0..length {
        let ordering = match (left.get(index), right.get(index)) {
            (Some(l), Some(r)) => compare_items(l, r),
            (Some(l), None) => compare_with_null(l),
            (None, Some(r)) => compare_with_null(r).reverse(),
            (None, None) => Ordering::Equal,
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

    fn canonical(version: &str) -> String {
        match MavenVersion::parse(version) {
            Ok(parsed) => parsed.canonical(),
            Err(error) => panic!("parse({version:?}) failed: {error}"),
        }
    }

    #[test]
    fn hyphen_sorts_before_dot() {
        assert_eq!(cmp("1-1", "1.1"), Ordering::Less);
        assert_eq!(cmp("1.0.RC2", "1.0-RC3"), Ordering::Less);
        assert_eq!(cmp("1.0-RC3", "1.0.1"), Ordering::Less);
    }

    #[test]
    fn trailing_null_items_trimmed() {
        assert_eq!(cmp("1", "1.0.0"), Ordering::Equal);
        assert_eq!(cmp("1", "1-0"), Ordering::Equal);
        assert_eq!(cmp("1", "1ga"), Ordering::Equal);
        assert_eq!(cmp("1", "1.FINAL"), Ordering::Equal);
        assert_eq!(cmp("1", "1-release"), Ordering::Equal);
        assert_eq!(canonical("1.0.0"), "1");
    }

    #[test]
    fn qualifier_order() {
        let ordered = [
            "1-alpha",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-xyz",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(
                cmp(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(cmp("1-cr", "1-rc"), Ordering::Equal);
        assert_eq!(cmp("1-RC", "1-rc"), Ordering::Equal);
    }

    #[test]
    fn single_letter_aliases_only_before_digit() {
        assert_eq!(cmp("1a1", "1-alpha-1"), Ordering::Equal);
        assert_eq!(cmp("1m3", "1-milestone-3"), Ordering::Equal);
        // A bare `a` is an unknown qualifier, after the release.
        assert_eq!(cmp("1-a", "1"), Ordering::Greater);
        assert_eq!(canonical("1a1"), "1-alpha1");
    }

    #[test]
    fn cloudbees_suffix_after_base() {
        assert_eq!(cmp("2.414.2-cb-5", "2.414.2"), Ordering::Greater);
        assert_eq!(cmp("2.414.2-cb-5", "2.414.3"), Ordering::Less);
        assert_eq!(cmp("2.414.2-cb-5", "2.414.2-cb-6"), Ordering::Less);
    }

    #[test]
    fn numbers_unbounded_and_after_letters() {
        assert_eq!(
            cmp("12345678901234567890", "1234567890123456789"),
            Ordering::Greater
        );
        assert_eq!(cmp("0000000000000000001", "1"), Ordering::Equal);
        assert_eq!(cmp("7", "J"), Ordering::Greater);
        assert_eq!(cmp("1", "\u{0668}"), Ordering::Greater);
    }

    #[test]
    fn transitivity_fixes() {
        assert_eq!(cmp("6.1.0rc3", "6.1H.5-beta"), Ordering::Less);
        assert_eq!(cmp("6.1.0", "6.1H.5-beta"), Ordering::Less);
        assert_eq!(cmp("1-0.alpha", "1"), Ordering::Less);
        assert_eq!(cmp("1.0.0.abc1", "1.0.0-abc2"), Ordering::Less);
        assert_eq!(cmp("2-abc", "2.0.0.abc"), Ordering::Equal);
        assert_eq!(cmp("1.0.final-redhat", "1.0-sp1-redhat"), Ordering::Less);
    }

    #[test]
    fn canonical_drops_zero_prefix() {
        assert_eq!(canonical("0.x"), "x");
        assert_eq!(canonical("0.2"), "0.2");
        assert_eq!(canonical("1.0-alpha-1"), "1-alpha1");
    }

    #[test]
    fn overlong_version_rejected() {
        let long = "1.".repeat(200);
        assert!(compare(&long, "1").is_err());
        let limit = "1".repeat(MAX_VERSION_LENGTH);
        assert!(compare(&limit, "1").is_ok());
    }

    proptest! {
        #[test]
        fn compare_antisymmetric_and_reflexive(
            a in "(([0-9]{1,2}|alpha|a|b|m|rc|cr|snapshot|ga|final|sp|xyz)[.\\-]?){0,6}",
            b in "(([0-9]{1,2}|alpha|a|b|m|rc|cr|snapshot|ga|final|sp|xyz)[.\\-]?){0,6}",
            c in "[0-9a-zA-Z.\\-]{0,24}",
        ) {
            prop_assert_eq!(cmp(&c, &c), Ordering::Equal);
            prop_assert_eq!(cmp(&a, &c), cmp(&c, &a).reverse());
            prop_assert_eq!(cmp(&a, &a), Ordering::Equal);
            prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse());
        }

        #[test]
        fn arbitrary_strings_do_not_panic(a in "\\PC{0,40}", b in "\\PC{0,40}") {
            let forward = compare(&a, &b);
            let backward = compare(&b, &a);
            if let (Ok(forward), Ok(backward)) = (forward, backward) {
                prop_assert_eq!(forward, backward.reverse());
            }
            prop_assert_eq!(compare(&a, &a).ok(), Some(Ordering::Equal));
        }
    }

    /// Small parts, so that equal versions written differently come up often.
    const TRANSITIVITY_PATTERN: &str =
        "(([0-2]|00|alpha|a|b|m|rc|cr|snapshot|ga|final|sp|xyz)[.\\-]?){0,5}";

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
