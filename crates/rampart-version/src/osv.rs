//! Affected-range evaluation of OSV records (OSV schema 1.6.6, section
//! "Evaluation"): a version is affected when it is listed in `versions` or
//! lies inside any of the `ranges`.
//!
//! Traps:
//! - Events are evaluated in version order, not in the order the record
//!   lists them; `introduced: "0"` sorts before every version.
//! - `fixed` excludes its own version, `last_affected` includes it.
//! - `limit` events bound the whole range from above (`*` means no bound);
//!   they matter mostly for GIT ranges.
//! - GIT ranges name commits, which a version string cannot be placed in
//!   without the repository, so they are skipped and counted.
//! - SEMVER ranges use SemVer 2.0.0 whatever the ecosystem; a leading `v`
//!   (Go) and `+incompatible` are tolerated on both sides.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

/// The `type` of an OSV range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RangeType {
    Semver,
    Ecosystem,
    Git,
}

/// One event of an OSV range. The version type is `String` for owned
/// records and `&str` for entries decoded in place from the database.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Event<S = String> {
    Introduced(S),
    Fixed(S),
    LastAffected(S),
    Limit(S),
}

impl<S: AsRef<str>> Event<S> {
    fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => {
                v.as_ref()
            }
        }
    }
}

/// One entry of `affected[].ranges`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Range<S = String> {
    pub range_type: RangeType,
    pub events: Vec<Event<S>>,
}

/// The outcome of evaluating one `affected` entry for a version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub affected: bool,
    /// GIT ranges that could not be evaluated against a version string.
    pub skipped_git_ranges: usize,
    /// The lowest `fixed` version above the evaluated version in a range that
    /// contains it, when the record names one.
    pub fixed_version: Option<String>,
}

/// Compares two versions of a range of the given type.
fn compare(
    range_type: RangeType,
    scheme: Scheme,
    a: &str,
    b: &str,
) -> Result<Ordering, VersionError> {
    match range_type {
        RangeType::Semver => {
            let clean = |v: &str| {
                v.trim_start_matches('v')
                    .trim_end_matches("+incompatible")
                    .to_owned()
            };
            crate::semver::compare(&clean(a), &clean(b))
        }
        _ => crate::compare(scheme, a, b),
    }
}

/// Orders events by version, with `introduced: "0"` first and `limit: "*"` last.
fn sort_events<S: AsRef<str>>(
    range: &Range<S>,
    scheme: Scheme,
) -> Result<Vec<&Event<S>>, VersionError> {
    let mut events: Vec<&Event<S>> = range.events.iter().collect();
    let mut failure = None;
    events.sort_by(|a, b| {
        let rank = |e: &Event<S>| match e {
            Event::Introduced(v) if v.as_ref() == "0" => Some(Ordering::Less),
            Event::Limit(v) if v.as_ref() == "*" => Some(Ordering::Greater),
            _ => None,
        };
        match (rank(a), rank(b)) {
            (Some(x), Some(y)) if x == y => Ordering::Equal,
            (Some(x), _) => x,
            (_, Some(y)) => y.reverse(),
            (None, None) => compare(range.range_type, scheme, a.version(), b.version())
                .unwrap_or_else(|error| {
                    failure.get_or_insert(error);
                    Ordering::Equal
                }),
        }
    });
    match failure {
        Some(error) => Err(error),
        None => Ok(events),
    }
}

fn before_limits<S: AsRef<str>>(
    range: &Range<S>,
    scheme: Scheme,
    version: &str,
) -> Result<bool, VersionError> {
    let limits: Vec<&str> = range
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Limit(v) => Some(v.as_ref()),
            _ => None,
        })
        .collect();
    if limits.is_empty() || limits.contains(&"*") {
        return Ok(true);
    }
    for limit in limits {
        if compare(range.range_type, scheme, version, limit)? == Ordering::Less {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Evaluates whether `version` is affected by one `affected` entry, given its
/// ranges and explicit versions list. ECOSYSTEM ranges use `scheme`.
pub fn evaluate<S: AsRef<str>, V: AsRef<str>>(
    scheme: Scheme,
    version: &str,
    ranges: &[Range<S>],
    versions: &[V],
) -> Result<Evaluation, VersionError> {
    let mut evaluation = Evaluation {
        affected: versions.iter().any(|listed| listed.as_ref() == version),
        ..Evaluation::default()
    };

    for range in ranges {
        if range.range_type == RangeType::Git {
            evaluation.skipped_git_ranges += 1;
            continue;
        }
        if !before_limits(range, scheme, version)? {
            continue;
        }

        let mut vulnerable = false;
        let mut fixed_above = None;
        for event in sort_events(range, scheme)? {
            let order = |bound: &str| compare(range.range_type, scheme, version, bound);
            match event {
                Event::Introduced(bound) => {
                    let bound = bound.as_ref();
                    if bound == "0" || order(bound)? != Ordering::Less {
                        vulnerable = true;
                    }
                }
                Event::Fixed(bound) => {
                    let bound = bound.as_ref();
                    if order(bound)? != Ordering::Less {
                        vulnerable = false;
                    } else if vulnerable && fixed_above.is_none() {
                        fixed_above = Some(bound.to_owned());
                    }
                }
                Event::LastAffected(bound) => {
                    if order(bound.as_ref())? == Ordering::Greater {
                        vulnerable = false;
                    }
                }
                Event::Limit(_) => {}
            }
        }
        if vulnerable {
            evaluation.affected = true;
            evaluation.fixed_version = evaluation.fixed_version.or(fixed_above);
        }
    }
    Ok(evaluation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(range_type: RangeType, events: &[(&str, &str)]) -> Range {
        let events = events
            .iter()
            .map(|(kind, version)| {
                let version = (*version).to_owned();
                match *kind {
                    "introduced" => Event::Introduced(version),
                    "fixed" => Event::Fixed(version),
                    "last_affected" => Event::LastAffected(version),
                    _ => Event::Limit(version),
                }
            })
            .collect();
        Range { range_type, events }
    }

    fn affected(scheme: Scheme, version: &str, ranges: &[Range]) -> bool {
        evaluate::<String, String>(scheme, version, ranges, &[])
            .unwrap()
            .affected
    }

    #[test]
    fn schema_examples() {
        let unfixed = [range(RangeType::Semver, &[("introduced", "0")])];
        assert!(affected(Scheme::Semver, "99.0.0", &unfixed));

        let fixed = [range(
            RangeType::Semver,
            &[("introduced", "0"), ("fixed", "1.0.2")],
        )];
        assert!(affected(Scheme::Semver, "1.0.1", &fixed));
        assert!(!affected(Scheme::Semver, "1.0.2", &fixed));

        let multiple = [range(
            RangeType::Semver,
            &[
                ("introduced", "1.0.0"),
                ("fixed", "1.0.2"),
                ("introduced", "3.0.0"),
                ("fixed", "3.2.5"),
            ],
        )];
        for (version, expected) in [
            ("0.9.0", false),
            ("1.0.0", true),
            ("1.0.2", false),
            ("2.0.0", false),
            ("3.2.4", true),
            ("3.2.5", false),
        ] {
            assert_eq!(
                affected(Scheme::Semver, version, &multiple),
                expected,
                "{version}"
            );
        }

        let last_affected = [range(
            RangeType::Ecosystem,
            &[("introduced", "0"), ("last_affected", "2.1.214")],
        )];
        assert!(affected(Scheme::Maven, "2.1.214", &last_affected));
        assert!(!affected(Scheme::Maven, "2.1.215", &last_affected));
    }

    #[test]
    fn events_are_sorted_before_evaluation() {
        let shuffled = [range(
            RangeType::Ecosystem,
            &[
                ("fixed", "3.2.5"),
                ("introduced", "3.0.0"),
                ("fixed", "1.0.2"),
                ("introduced", "1.0.0"),
            ],
        )];
        assert!(affected(Scheme::Pep440, "3.1", &shuffled));
        assert!(!affected(Scheme::Pep440, "2.0", &shuffled));
    }

    #[test]
    fn ecosystem_ranges_use_the_scheme() {
        // apk: 1.6-r0 is after the fix 1.6_rc1-r0, so it is not affected.
        let apk = [range(
            RangeType::Ecosystem,
            &[("introduced", "0"), ("fixed", "1.6_rc1-r0")],
        )];
        assert!(!affected(Scheme::Apk, "1.6-r0", &apk));
        let dpkg = [range(
            RangeType::Ecosystem,
            &[("introduced", "0"), ("fixed", "1.0-1")],
        )];
        assert!(affected(Scheme::Dpkg, "1.0~rc1-1", &dpkg));
    }

    #[test]
    fn fixed_version_and_git_count() {
        let ranges = [
            range(
                RangeType::Git,
                &[("introduced", "6e5755a2"), ("fixed", "c4345574")],
            ),
            range(
                RangeType::Ecosystem,
                &[
                    ("introduced", "2.0"),
                    ("fixed", "2.5"),
                    ("introduced", "3.0"),
                    ("fixed", "3.1"),
                ],
            ),
        ];
        let evaluation = evaluate::<String, String>(Scheme::Pep440, "2.1", &ranges, &[]).unwrap();
        assert!(evaluation.affected);
        assert_eq!(evaluation.skipped_git_ranges, 1);
        assert_eq!(evaluation.fixed_version.as_deref(), Some("2.5"));
    }

    #[test]
    fn versions_list_and_limits() {
        let listed =
            evaluate::<String, String>(Scheme::Pep440, "1.4", &[], &["1.4".to_owned()]).unwrap();
        assert!(listed.affected);

        let limited = [range(
            RangeType::Semver,
            &[("introduced", "1.0.0"), ("limit", "2.0.0")],
        )];
        assert!(affected(Scheme::Semver, "1.5.0", &limited));
        assert!(!affected(Scheme::Semver, "2.1.0", &limited));
    }

    #[test]
    fn go_versions_in_semver_ranges() {
        let ranges = [range(
            RangeType::Semver,
            &[("introduced", "0"), ("fixed", "1.2.3")],
        )];
        assert!(affected(Scheme::Go, "v1.2.2", &ranges));
        assert!(!affected(Scheme::Go, "v1.2.3+incompatible", &ranges));
    }

    #[test]
    fn invalid_bound_is_an_error() {
        let ranges = [range(
            RangeType::Semver,
            &[("introduced", "0"), ("fixed", "not-a-version")],
        )];
        assert!(evaluate::<String, String>(Scheme::Semver, "1.0.0", &ranges, &[]).is_err());
    }
}
