//! npm version ranges, evaluated as node-semver's `satisfies(version, range)`
//! with its defaults (`loose` and `includePrerelease` both false).
//!
//! Source: the "Ranges", "Prerelease Tags", "Advanced Range Syntax" and
//! "Range Grammar" sections of the node-semver README (npm/node-semver at
//! commit 00463e3eacae4fee5f07ca9a04058a7aa15793ba, the 5.x README whose
//! usage text prints "SemVer 5.3.0"). Other node-semver releases write
//! exclusive upper bounds as `<2.0.0-0` where this README writes `<2.0.0`.
//! Both forms give the same `satisfies` results, because no prerelease of
//! `2.0.0` is below `2.0.0-0` and the prerelease rule below rejects the
//! prereleases of `2.0.0` against `<2.0.0`.
//!
//! Traps:
//! - A version with a prerelease tag satisfies a comparator set only if some
//!   comparator in that set has the same `[major, minor, patch]` tuple and a
//!   prerelease tag itself. So `1.2.3-alpha.7` satisfies `>1.2.3-alpha.3`,
//!   but `3.4.5-alpha.9` does not, and `*` matches no prerelease at all.
//! - A partial version is an X-range, so `1.2` means `>=1.2.0 <1.3.0` and
//!   not `=1.2.0`. With an operator, the missing parts move the bound:
//!   `>1.2` is `>=1.3.0` and `<=1.2` is `<1.3.0`.
//! - `>*` and `<*` match no version, but `>=*`, `<=*` and `=*` match any.
//! - Caret keeps the left-most non-zero part of `[major, minor, patch]`:
//!   `^1.2.3` is `>=1.2.3 <2.0.0`, `^0.2.3` is `>=0.2.3 <0.3.0` and `^0.0.3`
//!   is `>=0.0.3 <0.0.4`. A missing part is flexible even after zeros, so
//!   `^0.0` and `^0.0.x` are `>=0.0.0 <0.1.0`.
//! - A hyphen range fills a partial lower end with zeros (`1.2 - 2.3.4` is
//!   `>=1.2.0 <=2.3.4`) but turns a partial upper end into an exclusive bound
//!   (`1.2.3 - 2.3` is `>=1.2.3 <2.4.0`). The `-` needs white space on both
//!   sides, because `1.2.3-2.3.4` is one version with a prerelease.
//! - An operator may be separated from its version by white space
//!   (`>= 1.2.3`), and `~>` is a synonym of `~`.
//! - Versions may start with `v` or `=` and carry surrounding white space.
//!   Build metadata never affects matching.
//! - An empty range, or an empty side of `||`, matches any version that is
//!   not a prerelease.
//!
//! Numbers in the core have no leading zeros and no size limit; they are
//! compared as decimal strings. Versions are otherwise strict SemVer 2.0.0
//! and are parsed by [`crate::semver`].

use std::fmt;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::{self, Identifier, SemverVersion};

const SCHEME: &str = "npm";

/// A primitive comparison operator. A missing operator means [`Operator::Eq`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Operator {
    fn symbol(self) -> &'static str {
        match self {
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Eq => "=",
        }
    }
}

/// A primitive comparator such as `>=1.2.3`, the unit every range desugars to.
#[derive(Clone, Debug)]
struct Comparator {
    operator: Operator,
    version: SemverVersion,
}

impl Comparator {
    fn new(operator: Operator, version: SemverVersion) -> Self {
        Comparator { operator, version }
    }

    fn matches(&self, version: &SemverVersion) -> bool {
        match self.operator {
            Operator::Lt => version < &self.version,
            Operator::Le => version <= &self.version,
            Operator::Gt => version > &self.version,
            Operator::Ge => version >= &self.version,
            Operator::Eq => version == &self.version,
        }
    }

    /// `<0.0.0-0`, which no version satisfies because `0.0.0-0` is the
    /// lowest SemVer version.
    fn never() -> Self {
        let lowest = SemverVersion {
            prerelease: vec![Identifier::Numeric("0".to_owned())],
            ..release("0", "0", "0")
        };
        Comparator::new(Operator::Lt, lowest)
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.operator.symbol(), self.version)
    }
}

/// A parsed npm range: comparator sets joined by `||`, each set the AND of
/// its primitive comparators. An empty set matches every release version.
#[derive(Clone, Debug)]
pub struct NpmRange {
    sets: Vec<Vec<Comparator>>,
}

impl NpmRange {
    /// Checks whether `version` satisfies the range, as node-semver's
    /// `satisfies` does. Fails when `version` is not a valid npm version.
    pub fn satisfies(&self, version: &str) -> Result<bool, VersionError> {
        let version = parse_version(version)?;
        Ok(self.sets.iter().any(|set| set_matches(set, &version)))
    }
}

/// Displays the desugared range, such as `>=1.2.3 <2.0.0` for `^1.2.3`, with
/// `*` for a set without comparators.
impl fmt::Display for NpmRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (set_index, set) in self.sets.iter().enumerate() {
            if set_index > 0 {
                f.write_str(" || ")?;
            }
            if set.is_empty() {
                f.write_str("*")?;
            }
            for (index, comparator) in set.iter().enumerate() {
                if index > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{comparator}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for NpmRange {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut sets = Vec::new();
        for set_text in text.split("||") {
            let set =
                parse_set(set_text).map_err(|reason| VersionError::new(SCHEME, text, reason))?;
            sets.push(set);
        }
        Ok(NpmRange { sets })
    }
}

/// Checks whether `version` satisfies the npm `range`. Fails when either is
/// invalid.
pub fn satisfies(range: &str, version: &str) -> Result<bool, VersionError> {
    let range: NpmRange = range.parse()?;
    range.satisfies(version)
}

/// Parses a full npm version: SemVer 2.0.0 after trimming white space and a
/// leading run of `=` and `v`, as node-semver's `clean` does.
fn parse_version(text: &str) -> Result<SemverVersion, VersionError> {
    let stripped = text.trim().trim_start_matches(['=', 'v']);
    stripped
        .parse::<SemverVersion>()
        .map_err(|error| VersionError::new(SCHEME, text, error.reason))
}

/// Applies the AND of `set` and then the prerelease rule: a prerelease
/// version also needs a comparator with its `[major, minor, patch]` tuple and
/// a prerelease tag.
fn set_matches(set: &[Comparator], version: &SemverVersion) -> bool {
    if !set.iter().all(|comparator| comparator.matches(version)) {
        return false;
    }
    if version.prerelease().is_empty() {
        return true;
    }
    set.iter().any(|comparator| {
        !comparator.version.prerelease().is_empty() && comparator.version.core() == version.core()
    })
}

/// The operators a simple range may start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RangeOperator {
    Primitive(Operator),
    Tilde,
    Caret,
}

/// Prefixes in matching order, so that `>=` is tried before `>`.
const OPERATOR_PREFIXES: [(&str, RangeOperator); 8] = [
    (">=", RangeOperator::Primitive(Operator::Ge)),
    ("<=", RangeOperator::Primitive(Operator::Le)),
    (">", RangeOperator::Primitive(Operator::Gt)),
    ("<", RangeOperator::Primitive(Operator::Lt)),
    ("=", RangeOperator::Primitive(Operator::Eq)),
    ("~>", RangeOperator::Tilde),
    ("~", RangeOperator::Tilde),
    ("^", RangeOperator::Caret),
];

fn split_operator(token: &str) -> (RangeOperator, &str) {
    for (prefix, operator) in OPERATOR_PREFIXES {
        if let Some(rest) = token.strip_prefix(prefix) {
            return (operator, rest);
        }
    }
    (RangeOperator::Primitive(Operator::Eq), token)
}

fn is_lone_operator(token: &str) -> bool {
    OPERATOR_PREFIXES.iter().any(|(prefix, _)| *prefix == token)
}

/// Parses one `||`-separated comparator set into primitive comparators.
fn parse_set(text: &str) -> Result<Vec<Comparator>, String> {
    let tokens: Vec<&str> = text.split_whitespace().collect();

    // Grammar: `hyphen ::= partial ' - ' partial`, and a hyphen range is the
    // whole comparator set.
    if let [lower, "-", upper] = tokens.as_slice() {
        return parse_hyphen(lower, upper);
    }

    // An operator may stand apart from its version (`>= 1.2.3`), so join
    // each lone operator with the token after it.
    let mut simples = Vec::new();
    let mut pending_operator: Option<&str> = None;
    for token in tokens {
        if let Some(operator) = pending_operator.take() {
            simples.push(format!("{operator}{token}"));
        } else if is_lone_operator(token) {
            pending_operator = Some(token);
        } else {
            simples.push(token.to_owned());
        }
    }
    if let Some(operator) = pending_operator {
        return Err(format!("operator {operator:?} has no version after it"));
    }

    let mut comparators = Vec::new();
    for simple in &simples {
        comparators.extend(parse_simple(simple)?);
    }
    Ok(comparators)
}

/// Desugars one simple range (primitive, partial, tilde or caret).
fn parse_simple(token: &str) -> Result<Vec<Comparator>, String> {
    let (operator, rest) = split_operator(token);
    let partial = Partial::parse(rest)?;
    Ok(match operator {
        RangeOperator::Primitive(operator) => desugar_primitive(operator, partial),
        RangeOperator::Tilde => desugar_tilde(partial),
        RangeOperator::Caret => desugar_caret(partial),
    })
}

/// A version whose trailing parts may be missing or a wildcard (`x`, `X`,
/// `*`). Once a part is missing, every later part counts as missing too, so
/// `1.x.3` is `1.x`.
#[derive(Clone, Debug)]
struct Partial {
    major: Option<String>,
    minor: Option<String>,
    patch: Option<String>,
    prerelease: Vec<Identifier>,
}

impl Partial {
    fn parse(text: &str) -> Result<Partial, String> {
        // The grammar allows a run of `v` and `=` before the version, so
        // `>=v1.2.3` and `==1.2.3` are valid.
        let text = text.trim_start_matches(['=', 'v']);
        let (core, prerelease, build) = semver::split_suffixes(text)?;
        if core.is_empty() {
            return Err(format!("version is missing in {text:?}"));
        }

        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 {
            return Err(format!(
                "version {text:?} has more than three parts MAJOR.MINOR.PATCH"
            ));
        }
        let mut numbers = [None, None, None];
        let names = ["major", "minor", "patch"];
        let mut wildcard_seen = false;
        for (index, part) in parts.iter().enumerate() {
            if matches!(*part, "x" | "X" | "*") {
                wildcard_seen = true;
                continue;
            }
            let number = semver::parse_core_number(part, names[index])?;
            if !wildcard_seen {
                numbers[index] = Some(number);
            }
        }

        let [major, minor, patch] = numbers;
        // Grammar: a qualifier (`-pre`, `+build`) only follows the third part.
        // NOTE: node-semver's parser may accept and drop a qualifier after a
        // wildcard (`1.2.x-beta`). This module rejects it instead of guessing.
        if (!prerelease.is_empty() || !build.is_empty()) && patch.is_none() {
            return Err(format!(
                "version {text:?} has a pre-release or build without a numeric MAJOR.MINOR.PATCH"
            ));
        }
        Ok(Partial {
            major,
            minor,
            patch,
            prerelease,
        })
    }
}

/// A release version without prerelease or build.
fn release(major: &str, minor: &str, patch: &str) -> SemverVersion {
    SemverVersion {
        major: major.to_owned(),
        minor: minor.to_owned(),
        patch: patch.to_owned(),
        prerelease: Vec::new(),
        build: Vec::new(),
    }
}

/// Adds one to a string of ASCII digits without a size limit.
fn increment(number: &str) -> String {
    let mut digits: Vec<u8> = number.bytes().collect();
    for digit in digits.iter_mut().rev() {
        if *digit == b'9' {
            *digit = b'0';
        } else {
            *digit += 1;
            return String::from_utf8_lossy(&digits).into_owned();
        }
    }
    let mut result = String::from("1");
    result.push_str(&String::from_utf8_lossy(&digits));
    result
}

fn greater_or_equal(version: SemverVersion) -> Comparator {
    Comparator::new(Operator::Ge, version)
}

fn less_than(version: SemverVersion) -> Comparator {
    Comparator::new(Operator::Lt, version)
}

/// Desugars `<`, `<=`, `>`, `>=`, `=` and a bare version (README "X-Ranges"):
/// a missing part widens `=` to the whole X-range and moves the other bounds
/// to its edges.
fn desugar_primitive(operator: Operator, partial: Partial) -> Vec<Comparator> {
    let Partial {
        major,
        minor,
        patch,
        prerelease,
    } = partial;
    match (major, minor, patch) {
        (Some(major), Some(minor), Some(patch)) => {
            let version = SemverVersion {
                prerelease,
                ..release(&major, &minor, &patch)
            };
            vec![Comparator::new(operator, version)]
        }
        (Some(major), Some(minor), None) => {
            let start = release(&major, &minor, "0");
            let next = release(&major, &increment(&minor), "0");
            x_range_bounds(operator, start, next)
        }
        (Some(major), None, _) => {
            let start = release(&major, "0", "0");
            let next = release(&increment(&major), "0", "0");
            x_range_bounds(operator, start, next)
        }
        (None, _, _) => match operator {
            Operator::Lt | Operator::Gt => vec![Comparator::never()],
            Operator::Le | Operator::Ge | Operator::Eq => Vec::new(),
        },
    }
}

/// Bounds for an operator on the X-range `[start, next)`.
fn x_range_bounds(
    operator: Operator,
    start: SemverVersion,
    next: SemverVersion,
) -> Vec<Comparator> {
    match operator {
        Operator::Eq => vec![greater_or_equal(start), less_than(next)],
        Operator::Gt => vec![greater_or_equal(next)],
        Operator::Ge => vec![greater_or_equal(start)],
        Operator::Lt => vec![less_than(start)],
        Operator::Le => vec![less_than(next)],
    }
}

/// Desugars `~` (README "Tilde Ranges"): patch changes when a minor part is
/// given, minor changes when it is not.
fn desugar_tilde(partial: Partial) -> Vec<Comparator> {
    let Partial {
        major,
        minor,
        patch,
        prerelease,
    } = partial;
    match (major, minor, patch) {
        (Some(major), Some(minor), Some(patch)) => {
            let start = SemverVersion {
                prerelease,
                ..release(&major, &minor, &patch)
            };
            let next = release(&major, &increment(&minor), "0");
            vec![greater_or_equal(start), less_than(next)]
        }
        (Some(major), Some(minor), None) => vec![
            greater_or_equal(release(&major, &minor, "0")),
            less_than(release(&major, &increment(&minor), "0")),
        ],
        (Some(major), None, _) => vec![
            greater_or_equal(release(&major, "0", "0")),
            less_than(release(&increment(&major), "0", "0")),
        ],
        (None, _, _) => Vec::new(),
    }
}

/// Desugars `^` (README "Caret Ranges"): changes that keep the left-most
/// non-zero part of `[major, minor, patch]`, where a missing part is
/// flexible even after zeros.
fn desugar_caret(partial: Partial) -> Vec<Comparator> {
    let Partial {
        major,
        minor,
        patch,
        prerelease,
    } = partial;
    match (major, minor, patch) {
        (Some(major), Some(minor), Some(patch)) => {
            let start = SemverVersion {
                prerelease,
                ..release(&major, &minor, &patch)
            };
            let next = if major != "0" {
                release(&increment(&major), "0", "0")
            } else if minor != "0" {
                release("0", &increment(&minor), "0")
            } else {
                release("0", "0", &increment(&patch))
            };
            vec![greater_or_equal(start), less_than(next)]
        }
        (Some(major), Some(minor), None) => {
            let next = if major != "0" {
                release(&increment(&major), "0", "0")
            } else {
                release("0", &increment(&minor), "0")
            };
            vec![
                greater_or_equal(release(&major, &minor, "0")),
                less_than(next),
            ]
        }
        (Some(major), None, _) => vec![
            greater_or_equal(release(&major, "0", "0")),
            less_than(release(&increment(&major), "0", "0")),
        ],
        (None, _, _) => Vec::new(),
    }
}

/// Desugars `lower - upper` (README "Hyphen Ranges"): an inclusive range
/// whose partial lower end is filled with zeros and whose partial upper end
/// becomes an exclusive bound after the given parts.
fn parse_hyphen(lower: &str, upper: &str) -> Result<Vec<Comparator>, String> {
    let lower = Partial::parse(lower)?;
    let upper = Partial::parse(upper)?;
    let mut comparators = Vec::new();

    match (lower.major, lower.minor, lower.patch) {
        (Some(major), Some(minor), Some(patch)) => {
            comparators.push(greater_or_equal(SemverVersion {
                prerelease: lower.prerelease,
                ..release(&major, &minor, &patch)
            }))
        }
        (Some(major), Some(minor), None) => {
            comparators.push(greater_or_equal(release(&major, &minor, "0")));
        }
        (Some(major), None, _) => comparators.push(greater_or_equal(release(&major, "0", "0"))),
        (None, _, _) => {}
    }

    match (upper.major, upper.minor, upper.patch) {
        (Some(major), Some(minor), Some(patch)) => comparators.push(Comparator::new(
            Operator::Le,
            SemverVersion {
                prerelease: upper.prerelease,
                ..release(&major, &minor, &patch)
            },
        )),
        (Some(major), Some(minor), None) => {
            comparators.push(less_than(release(&major, &increment(&minor), "0")));
        }
        (Some(major), None, _) => {
            comparators.push(less_than(release(&increment(&major), "0", "0")));
        }
        (None, _, _) => {}
    }
    Ok(comparators)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn desugar(range: &str) -> String {
        match range.parse::<NpmRange>() {
            Ok(range) => range.to_string(),
            Err(error) => panic!("{error}"),
        }
    }

    fn check(range: &str, version: &str) -> bool {
        match satisfies(range, version) {
            Ok(result) => result,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn primitive_comparators() {
        assert_eq!(desugar(">=1.2.7"), ">=1.2.7");
        assert_eq!(desugar("1.2.3"), "=1.2.3");
        assert!(check(">=1.2.7", "1.2.7"));
        assert!(check(">=1.2.7", "2.5.3"));
        assert!(!check(">=1.2.7", "1.2.6"));
        assert!(check("<1.2.7", "1.2.6"));
        assert!(!check("<1.2.7", "1.2.7"));
        assert!(check("<=1.2.7", "1.2.7"));
        assert!(!check(">1.2.7", "1.2.7"));
        assert!(check("=1.2.7", "1.2.7"));
        assert!(!check("1.2.7", "1.2.8"));
    }

    #[test]
    fn comparator_set_is_intersection() {
        assert_eq!(desugar(">=1.2.7 <1.3.0"), ">=1.2.7 <1.3.0");
        assert!(check(">=1.2.7 <1.3.0", "1.2.99"));
        assert!(!check(">=1.2.7 <1.3.0", "1.3.0"));
        assert!(!check(">=1.2.7 <1.3.0", "1.1.0"));
    }

    #[test]
    fn union_of_sets() {
        let range = "1.2.7 || >=1.2.9 <2.0.0";
        assert_eq!(desugar(range), "=1.2.7 || >=1.2.9 <2.0.0");
        assert!(check(range, "1.2.7"));
        assert!(check(range, "1.4.6"));
        assert!(!check(range, "1.2.8"));
        assert!(!check(range, "2.0.0"));
        assert!(check("1.x || >=2.5.0 || 5.0.0 - 7.2.3", "1.2.3"));
    }

    #[test]
    fn hyphen_ranges() {
        assert_eq!(desugar("1.2.3 - 2.3.4"), ">=1.2.3 <=2.3.4");
        assert_eq!(desugar("1.2 - 2.3.4"), ">=1.2.0 <=2.3.4");
        assert_eq!(desugar("1.2.3 - 2.3"), ">=1.2.3 <2.4.0");
        assert_eq!(desugar("1.2.3 - 2"), ">=1.2.3 <3.0.0");
        assert_eq!(desugar("* - 2"), "<3.0.0");
        assert!(check("1.2.3 - 2.3.4", "2.3.4"));
        assert!(!check("1.2.3 - 2.3", "2.4.0"));
    }

    #[test]
    fn hyphen_needs_spaces() {
        // Without spaces `1.2.3-2.3.4` is one version with a prerelease.
        assert_eq!(desugar("1.2.3-2.3.4"), "=1.2.3-2.3.4");
    }

    #[test]
    fn x_ranges_and_partials() {
        assert_eq!(desugar("*"), "*");
        assert_eq!(desugar(""), "*");
        assert_eq!(desugar("1.x"), ">=1.0.0 <2.0.0");
        assert_eq!(desugar("1.X"), ">=1.0.0 <2.0.0");
        assert_eq!(desugar("1.2.x"), ">=1.2.0 <1.3.0");
        assert_eq!(desugar("1.2.*"), ">=1.2.0 <1.3.0");
        assert_eq!(desugar("1"), ">=1.0.0 <2.0.0");
        assert_eq!(desugar("1.x.x"), ">=1.0.0 <2.0.0");
        assert_eq!(desugar("1.2"), ">=1.2.0 <1.3.0");
        assert_eq!(desugar("1.x.3"), ">=1.0.0 <2.0.0");
    }

    #[test]
    fn partials_with_operators() {
        assert_eq!(desugar(">1.2"), ">=1.3.0");
        assert_eq!(desugar(">=1.2"), ">=1.2.0");
        assert_eq!(desugar("<1.2"), "<1.2.0");
        assert_eq!(desugar("<=1.2"), "<1.3.0");
        assert_eq!(desugar(">1"), ">=2.0.0");
        assert_eq!(desugar("<=1.x"), "<2.0.0");
        assert_eq!(desugar(">=*"), "*");
        assert!(!check(">*", "1.2.3"));
        assert!(!check("<*", "0.0.0"));
        assert!(check("<=*", "1.2.3"));
    }

    #[test]
    fn tilde_ranges() {
        assert_eq!(desugar("~1.2.3"), ">=1.2.3 <1.3.0");
        assert_eq!(desugar("~1.2"), ">=1.2.0 <1.3.0");
        assert_eq!(desugar("~1"), ">=1.0.0 <2.0.0");
        assert_eq!(desugar("~0.2.3"), ">=0.2.3 <0.3.0");
        assert_eq!(desugar("~0.2"), ">=0.2.0 <0.3.0");
        assert_eq!(desugar("~0"), ">=0.0.0 <1.0.0");
        assert_eq!(desugar("~1.2.3-beta.2"), ">=1.2.3-beta.2 <1.3.0");
        assert_eq!(desugar("~>1.2.3"), ">=1.2.3 <1.3.0");
        assert_eq!(desugar("~*"), "*");
    }

    #[test]
    fn caret_ranges() {
        assert_eq!(desugar("^1.2.3"), ">=1.2.3 <2.0.0");
        assert_eq!(desugar("^0.2.3"), ">=0.2.3 <0.3.0");
        assert_eq!(desugar("^0.0.3"), ">=0.0.3 <0.0.4");
        assert_eq!(desugar("^1.2.3-beta.2"), ">=1.2.3-beta.2 <2.0.0");
        assert_eq!(desugar("^0.0.3-beta"), ">=0.0.3-beta <0.0.4");
        assert_eq!(desugar("^1.2.x"), ">=1.2.0 <2.0.0");
        assert_eq!(desugar("^0.0.x"), ">=0.0.0 <0.1.0");
        assert_eq!(desugar("^0.0"), ">=0.0.0 <0.1.0");
        assert_eq!(desugar("^1.x"), ">=1.0.0 <2.0.0");
        assert_eq!(desugar("^0.x"), ">=0.0.0 <1.0.0");
        assert_eq!(desugar("^*"), "*");
    }

    #[test]
    fn prerelease_needs_same_tuple() {
        assert!(check(">1.2.3-alpha.3", "1.2.3-alpha.7"));
        assert!(!check(">1.2.3-alpha.3", "3.4.5-alpha.9"));
        assert!(check(">1.2.3-alpha.3", "3.4.5"));
        assert!(check("~1.2.3-beta.2", "1.2.3-beta.4"));
        assert!(!check("~1.2.3-beta.2", "1.2.4-beta.2"));
        assert!(check("^1.2.3-beta.2", "1.2.3-beta.4"));
        assert!(!check("^1.2.3-beta.2", "1.2.4-beta.2"));
        assert!(check("^0.0.3-beta", "0.0.3-pr.2"));
        assert!(!check("*", "1.0.0-beta"));
        assert!(!check("^1.2.3", "2.0.0-beta"));
        assert!(!check("^1.2.3", "1.5.0-beta"));
    }

    #[test]
    fn prerelease_rule_is_per_set() {
        // The tuple has to come from the set that matched, not another set.
        assert!(!check("1.2.3-beta || >=1.0.0", "1.5.0-beta"));
        assert!(check("1.2.3-beta || >=1.0.0", "1.2.3-beta"));
    }

    #[test]
    fn loose_version_forms() {
        assert!(check("1.2.3", "v1.2.3"));
        assert!(check("1.2.3", "=1.2.3"));
        assert!(check("1.2.3", "  =v1.2.3  "));
        assert!(check(">=v1.2.3", "1.2.3"));
        assert!(check("1.2.3", "1.2.3+build.5"));
        assert!(check(">= 1.2.3 < 2", "1.9.0"));
        assert!(check("^ 1.2.3", "1.9.0"));
        assert!(check("  1.2.3||2.0.0  ", "2.0.0"));
    }

    #[test]
    fn empty_union_side_matches_any() {
        assert!(check("1.2.3 ||", "9.9.9"));
        assert!(check("||", "0.0.1"));
    }

    #[test]
    fn numbers_beyond_u64() {
        assert_eq!(
            desugar("^99999999999999999999.0.0"),
            ">=99999999999999999999.0.0 <100000000000000000000.0.0"
        );
        assert!(check("~1.99999999999999999999", "1.99999999999999999999.7"));
    }

    #[test]
    fn invalid_ranges_rejected() {
        for range in [
            ">=",
            "1.2.3.4",
            "01.2.3",
            "1.2-beta",
            "1.x-beta",
            "a.b.c",
            "1.2.3 - ",
            ">=1.2.3 - 2",
            "1.2.3 | 2.0.0",
            "~",
            "1..2",
            "1.2.3-",
        ] {
            assert!(range.parse::<NpmRange>().is_err(), "{range:?} was accepted");
        }
    }

    #[test]
    fn invalid_versions_rejected() {
        for version in ["", "1.2", "1.2.x", "01.2.3", "1.2.3.4", "v", "1.2.3-01"] {
            assert!(satisfies("*", version).is_err(), "{version:?} was accepted");
        }
    }

    #[test]
    fn error_names_scheme_and_input() {
        let error = match satisfies("^1.2.z", "1.2.3") {
            Ok(result) => panic!("invalid range returned {result}"),
            Err(error) => error,
        };
        assert_eq!(error.scheme, "npm");
        assert_eq!(error.version, "^1.2.z");
    }

    #[test]
    fn increment_carries() {
        assert_eq!(increment("0"), "1");
        assert_eq!(increment("9"), "10");
        assert_eq!(increment("199"), "200");
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(range in "\\PC*", version in "\\PC*") {
            let _ = satisfies(&range, &version);
        }

        #[test]
        fn range_like_text_never_panics(
            range in "[ <>=~^vxX*|0-9.+-]{0,24}",
            version in "[ v=0-9.a-z+-]{0,16}",
        ) {
            if let Ok(parsed) = range.parse::<NpmRange>() {
                let _ = parsed.satisfies(&version);
                // The desugared text is itself a range with the same meaning.
                let again = parsed.to_string().parse::<NpmRange>();
                prop_assert!(again.is_ok(), "{} does not parse again", parsed);
            }
        }
    }
}
