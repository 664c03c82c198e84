//! Alpine package versions (`apk`).
//!
//! Traps:
//! - Pre-release suffixes `_alpha`, `_beta`, `_pre` and `_rc` sort before
//!   the release (`1.6_rc1` < `1.6`), while `_cvs`, `_svn`, `_git`, `_hg` and
//!   `_p` sort after it (`6.0_p1` > `6.0`). Both hold with a revision too:
//!   `1.6_rc1-r0` < `1.6-r0`.
//! - A revision makes a version newer: `4.3.3-r0` > `4.3.3`.
//! - The first number compares as an integer (`006` > `1.0.0`), but a later
//!   number with a leading zero on either side compares as a string, so
//!   `8.2.0` < `8.2.001` and `8.2.0015` < `8.2.002`.
//! - A `~hash` commit suffix compares as a string (`1.0~1234` < `1.0~2345`).
//! - Comparing does not validate. apk compares token by token and stops at
//!   the first invalid token, so `1.0` < `1.0bc` and `23_foo` > `4_beta` even
//!   though `1.0bc` and `23_foo` are invalid. [`validate`] and
//!   [`ApkVersion::parse`] reject invalid versions.
//!
//! Format: `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r number}`.
//!
//! Sources: `src/version.c` (`apk_version_validate()` and
//! `apk_version_compare()`) and `src/ctype.c` of apk-tools 3 (the tokenizer
//! with `~hash` commit tokens), checked against `test/unit/version.data` at
//! commit 90b974fd.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;

const SCHEME: &str = "apk";

/// Suffix names in sort order. The index of [`RELEASE_RANK`] stands for no
/// suffix, so the four names before it sort before the release.
const SUFFIXES: [&str; 10] = [
    "alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p",
];
const RELEASE_RANK: usize = 4;

/// Token kinds in the order apk allows them in a version. When two versions
/// agree on all shared tokens, the one whose next token kind is lower is the
/// newer one, so a version that goes on beats one that ends, except for a
/// pre-release suffix. An invalid token ranks below the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    RevisionNumber,
    End,
    Invalid,
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    /// The token's text: digits, the letter, the suffix name or the hash.
    text: &'a str,
    /// The rank in [`SUFFIXES`] for a suffix token.
    suffix_rank: usize,
}

/// A tokenizer over one version string.
struct Tokens<'a> {
    rest: &'a str,
    current: Token<'a>,
}

impl<'a> Tokens<'a> {
    /// Starts with the leading number, which every version needs.
    fn new(text: &'a str) -> Self {
        let mut tokens = Tokens {
            rest: text,
            current: Token {
                kind: Kind::InitialDigit,
                text: "",
                suffix_rank: RELEASE_RANK,
            },
        };
        tokens.take_digits(Kind::InitialDigit);
        tokens
    }

    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a str {
        let length = self.rest.bytes().take_while(|&byte| accept(byte)).count();
        let (taken, rest) = self.rest.split_at(length);
        self.rest = rest;
        taken
    }

    fn take_digits(&mut self, kind: Kind) {
        let digits = self.take_while(|byte| byte.is_ascii_digit());
        self.current.text = digits;
        self.current.kind = if digits.is_empty() {
            Kind::Invalid
        } else {
            kind
        };
    }

    /// Moves to the next token, checking that its kind may follow the
    /// current one.
    fn advance(&mut self) {
        let previous = self.current.kind;
        let Some(&first) = self.rest.as_bytes().first() else {
            self.current.kind = Kind::End;
            return;
        };
        let invalid = |tokens: &mut Self| tokens.current.kind = Kind::Invalid;

        match first {
            b'a'..=b'z' if previous <= Kind::Digit => {
                let (letter, rest) = self.rest.split_at(1);
                self.rest = rest;
                self.current.text = letter;
                self.current.kind = Kind::Letter;
            }
            b'.' | b'0'..=b'9' => {
                let next = match previous {
                    Kind::InitialDigit | Kind::Digit => Kind::Digit,
                    // Only a digit, not a dot, may start a suffix number.
                    Kind::Suffix if first != b'.' => Kind::SuffixNumber,
                    _ => return invalid(self),
                };
                if first == b'.' {
                    self.rest = &self.rest[1..];
                }
                self.take_digits(next);
            }
            b'_' if previous <= Kind::SuffixNumber => {
                self.rest = &self.rest[1..];
                let name = self.take_while(|byte| byte.is_ascii_lowercase());
                // An empty name never matches because "" is not a suffix
                // that can be written.
                match SUFFIXES
                    .iter()
                    .position(|suffix| !name.is_empty() && *suffix == name)
                {
                    Some(rank) => {
                        self.current.text = name;
                        self.current.suffix_rank = rank;
                        self.current.kind = Kind::Suffix;
                    }
                    None => invalid(self),
                }
            }
            b'~' if previous < Kind::CommitHash => {
                self.rest = &self.rest[1..];
                // NOTE: apk-tools' span also accepts bytes >= 0x80 here. This
                // tokenizer accepts only lowercase hex digits.
                let hash = self.take_while(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
                if hash.is_empty() {
                    return invalid(self);
                }
                self.current.text = hash;
                self.current.kind = Kind::CommitHash;
            }
            b'-' if previous < Kind::RevisionNumber => match self.rest.strip_prefix("-r") {
                Some(rest) => {
                    self.rest = rest;
                    self.take_digits(Kind::RevisionNumber);
                }
                None => invalid(self),
            },
            _ => invalid(self),
        }
    }
}

/// Compares two tokens of the same kind.
fn compare_tokens(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        // A later number with a leading zero on either side compares as a
        // string, following Gentoo's version rules.
        Kind::Digit if a.text.starts_with('0') || b.text.starts_with('0') => a.text.cmp(b.text),
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNumber | Kind::RevisionNumber => {
            compare_integers(a.text, b.text)
        }
        Kind::Suffix => a.suffix_rank.cmp(&b.suffix_rank),
        Kind::Letter | Kind::CommitHash | Kind::End | Kind::Invalid => a.text.cmp(b.text),
    }
}

/// Compares two digit strings as integers of any length.
// NOTE: apk-tools parses numbers into a 64-bit integer, so numbers beyond
// u64::MAX may compare differently there.
fn compare_integers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares two Alpine versions like apk-tools' `apk_version_compare()`.
///
/// Never returns an error: like apk, it compares invalid versions up to
/// their first invalid token. Call [`validate`] first to reject them.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(compare_tokens_of(a, b))
}

fn compare_tokens_of(a: &str, b: &str) -> Ordering {
    let mut a_tokens = Tokens::new(a);
    let mut b_tokens = Tokens::new(b);

    while a_tokens.current.kind == b_tokens.current.kind && a_tokens.current.kind < Kind::End {
        let order = compare_tokens(&a_tokens.current, &b_tokens.current);
        if order != Ordering::Equal {
            return order;
        }
        a_tokens.advance();
        b_tokens.advance();
    }

    let a_token = a_tokens.current;
    let b_token = b_tokens.current;
    // Both ended, or both hit an invalid token.
    if a_token.kind == b_token.kind {
        return Ordering::Equal;
    }
    // A pre-release suffix is older than whatever the other version has.
    if a_token.kind == Kind::Suffix && a_token.suffix_rank < RELEASE_RANK {
        return Ordering::Less;
    }
    if b_token.kind == Kind::Suffix && b_token.suffix_rank < RELEASE_RANK {
        return Ordering::Greater;
    }
    // Otherwise the version that goes on with a lower token kind is newer.
    b_token.kind.cmp(&a_token.kind)
}

/// Checks a version like apk-tools' `apk_version_validate()`.
pub fn validate(version: &str) -> Result<(), VersionError> {
    let mut tokens = Tokens::new(version);
    while tokens.current.kind < Kind::End {
        tokens.advance();
    }
    if tokens.current.kind == Kind::End {
        return Ok(());
    }
    let reason = if version.is_empty() {
        "version string is empty".to_owned()
    } else {
        let position = version.len() - tokens.rest.len();
        format!(
            "unexpected text at byte {position}; expected digit{{.digit}}{{letter}}{{_suffix{{number}}}}{{~hash}}{{-rN}}"
        )
    };
    Err(VersionError::new(SCHEME, version, reason))
}

/// A validated Alpine version. It orders like [`compare`], and its equality
/// compares the strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApkVersion {
    text: String,
}

impl ApkVersion {
    /// Parses a version, rejecting what `apk_version_validate()` rejects.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        validate(text)?;
        Ok(ApkVersion {
            text: text.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for ApkVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_tokens_of(&self.text, &other.text)
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_laws::check_transitive;
    use proptest::prelude::*;

    fn order(a: &str, b: &str) -> Ordering {
        compare_tokens_of(a, b)
    }

    #[test]
    fn pre_release_before_release() {
        assert_eq!(order("1.6_rc1-r0", "1.6-r0"), Ordering::Less);
        assert_eq!(order("1.6_alpha", "1.6"), Ordering::Less);
        assert_eq!(order("0.1.0_alpha_pre2", "0.1.0_alpha"), Ordering::Less);
    }

    #[test]
    fn post_release_after_release() {
        assert_eq!(order("6.0_p1", "6.0"), Ordering::Greater);
        assert_eq!(order("6.0_git20240101", "6.0_p1"), Ordering::Less);
    }

    #[test]
    fn revision_makes_newer() {
        assert_eq!(order("4.3.3-r0", "4.3.3"), Ordering::Greater);
        assert_eq!(order("1.0-r10", "1.0-r9"), Ordering::Greater);
    }

    #[test]
    fn leading_zero_compares_as_string() {
        assert_eq!(order("8.2.0", "8.2.001"), Ordering::Less);
        assert_eq!(order("8.2.0015", "8.2.002"), Ordering::Less);
        assert_eq!(order("006", "1.0.0"), Ordering::Greater);
    }

    #[test]
    fn commit_hash_compares_as_string() {
        assert_eq!(order("1.0~1234", "1.0~2345"), Ordering::Less);
        assert_eq!(order("1.0~1234-r1", "1.0~1234-r0"), Ordering::Greater);
    }

    #[test]
    fn invalid_versions_still_compare() {
        assert_eq!(order("1.0", "1.0bc"), Ordering::Less);
        assert_eq!(order("23_foo", "4_beta"), Ordering::Greater);
        assert!(validate("1.0bc").is_err());
        assert!(validate("23_foo").is_err());
    }

    #[test]
    fn validate_rejects_malformed() {
        for text in [
            "",
            "a",
            ".1",
            "-r1",
            "0.1_",
            "0.1-r",
            "0.1-r2-r3",
            "0.1_1_alpha",
            "1.0~ABCD",
        ] {
            assert!(validate(text).is_err(), "{text:?} must be invalid");
        }
        for text in ["1.2", "0.1_p1_pre2", "1.0a_rc1~0abc-r3", "20050718-r1"] {
            assert!(validate(text).is_ok(), "{text:?} must be valid");
        }
    }

    #[test]
    fn parsed_version_orders_like_compare() {
        let older = ApkVersion::parse("1.6_rc1-r0").expect("valid version");
        let newer: ApkVersion = "1.6-r0".parse().expect("valid version");
        assert!(older < newer);
        assert_eq!(newer.to_string(), "1.6-r0");
    }

    fn version_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}[a-c]?(_(alpha|beta|pre|rc|p|git|foo)[0-9]{0,2}){0,2}(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?",
            "[0-9a-z._~-]{0,12}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn compare_is_antisymmetric(a in version_strategy(), b in version_strategy()) {
            prop_assert_eq!(order(&a, &b), order(&b, &a).reverse());
        }

        #[test]
        fn compare_is_reflexive(a in version_strategy()) {
            prop_assert_eq!(order(&a, &a), Ordering::Equal);
            let _ = validate(&a);
        }
    }

    /// Small parts, so that equal versions written differently come up often.
    const TRANSITIVITY_PATTERN: &str =
        "0?[0-2](\\.0?[0-2]){0,2}[a-b]?(_(alpha|rc|p)0?[0-2]?){0,2}(~[0-9a-b]{1,2})?(-r0?[0-2])?";

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
