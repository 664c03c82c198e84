//! Maven vectors from apache/maven's own tests, and RubyGems ordering
//! examples from the `Gem::Version` documentation.
//!
//! The Maven vector files live in `tests/vectors/`. Their header comments
//! name the upstream repository, commit and test file they were taken from.

use std::cmp::Ordering;
use std::fs;
use std::path::PathBuf;

use rampart_version::{maven, rubygems};

mod common;

fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
        .join(name)
}

/// Reads a vector file: `#` comment lines, then tab-separated rows. Returns
/// each row with its line number.
fn read_rows(name: &str, columns: usize) -> Vec<(usize, Vec<String>)> {
    let path = vector_path(name);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => panic!("failed to read {}: {error}", path.display()),
    };

    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
        assert_eq!(
            fields.len(),
            columns,
            "{name}:{}: expected {columns} tab-separated fields in {line:?}",
            index + 1
        );
        rows.push((index + 1, fields));
    }
    rows
}

fn sign(ordering: Ordering) -> i8 {
    match ordering {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

#[test]
fn maven_compare_vectors() {
    let count = common::check_comparisons("maven.tsv", maven::compare);
    assert_eq!(count, 1491, "maven.tsv row count");
}

/// The `compare` rows of a shared test case: a CloudBees build of Jenkins core,
/// `2.414.2-cb-5`, was reported as affected by an advisory fixed in
/// `2.414.2`, because a SemVer comparison reads `-cb-5` as a pre-release.
/// Maven sorts an unknown qualifier such as `cb` or `hudson` after the
/// release, and `rc` before it.
#[test]
fn maven_vendor_suffix_case() {
    let rows = [
        ("2.414.2-cb-5", "2.414.2", Ordering::Greater),
        ("1.6.1-hudson-3", "1.6.1", Ordering::Greater),
        ("2.414.2-rc1", "2.414.2", Ordering::Less),
    ];
    for (a, b, expected) in rows {
        assert_eq!(maven::compare(a, b), Ok(expected), "compare({a:?}, {b:?})");
    }
}

#[test]
fn maven_canonical_vectors() {
    let rows = read_rows("maven-canonical.tsv", 2);
    assert_eq!(rows.len(), 2, "maven-canonical.tsv row count");

    let mut failures = Vec::new();
    for (line, fields) in &rows {
        let (version, expected) = (&fields[0], &fields[1]);
        match maven::MavenVersion::parse(version) {
            Ok(parsed) if parsed.canonical() == *expected => {}
            Ok(parsed) => failures.push(format!(
                "maven-canonical.tsv:{line}: canonical({version:?}) = {:?}, expected {expected:?}",
                parsed.canonical()
            )),
            Err(error) => failures.push(format!(
                "maven-canonical.tsv:{line}: parse({version:?}) failed: {error}"
            )),
        }
    }

    for failure in &failures {
        eprintln!("{failure}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} maven-canonical.tsv rows failed",
        failures.len(),
        rows.len()
    );
}

/// Maven's own test asserts that the canonical form of every version it
/// builds parses back to the same canonical form.
#[test]
fn maven_canonical_stable_over_vectors() {
    let mut failures = Vec::new();
    for (line, fields) in read_rows("maven.tsv", 3) {
        for version in &fields[..2] {
            let Ok(parsed) = maven::MavenVersion::parse(version) else {
                failures.push(format!("maven.tsv:{line}: parse({version:?}) failed"));
                continue;
            };
            let canonical = parsed.canonical();
            let reparsed = maven::MavenVersion::parse(&canonical).map(|again| again.canonical());
            if reparsed.as_ref() != Ok(&canonical) {
                failures.push(format!("maven.tsv:{line}: canonical({version:?}) = {canonical:?} reparses to {reparsed:?}"));
            }
        }
    }

    for failure in &failures {
        eprintln!("{failure}");
    }
    assert!(
        failures.is_empty(),
        "{} canonical forms were not stable",
        failures.len()
    );
}

/// Ordering examples from the `Gem::Version` documentation in
/// `lib/rubygems/version.rb`: the class comment, `#eql?` and `#release` at
/// ruby/rubygems commit c13f3d005bf9304e734f31bdf14e4de1523fb899, and the
/// `~>` table of the older copy at rubygems/rubygems commit
/// 00814a2ac292a42dd9a1fb31bfaaafe884934e8e.
const RUBYGEMS_DOC_EXAMPLES: &[(&str, &str, i8)] = &[
    // "3.10 sorts higher than 3.2 because ten is greater than two."
    ("3.10", "3.2", 1),
    // "1.0.a10 becomes 1.0.a.10, and is greater than 1.0.a9"
    ("1.0.a10", "1.0.a.10", 0),
    ("1.0.a10", "1.0.a9", 1),
    // "Prereleases sort between real releases (newest to oldest):
    // 1.0, 1.0.b1, 1.0.a.2, 0.9"
    ("1.0", "1.0.b1", 1),
    ("1.0", "1.0.a.2", 1),
    ("1.0", "0.9", 1),
    ("1.0.b1", "1.0.a.2", 1),
    ("1.0.b1", "0.9", 1),
    ("1.0.a.2", "0.9", 1),
    // `#eql?`: "Version "1.0" is not the same as version "1"", but `<=>`
    // orders them equal.
    ("1.0", "1", 0),
    // `#release`: "1.2.0.a -> 1.2.0", a prerelease of its release.
    ("1.2.0.a", "1.2.0", -1),
    // "A hyphen before a purely numeric identifier is replaced with ".pre."
    // (e.g. "1.0.0-1" becomes "1.0.0.pre.1")."
    ("1.0.0-1", "1.0.0.pre.1", 0),
    ("1.0.0-1", "1.0.0", -1),
    // `s.add_dependency 'example', '>= 1.0.0.a'` "includes both prereleases
    // and regular releases of 1.x".
    ("1.0.0.a", "1.0.0.rc1", -1),
    ("1.0.0.a", "1.0.0", -1),
    // "~> 3.0" covers 3.0 ... 4.0 (exclusive), "~> 3.5.0" covers 3.5.0 ... 3.6.
    ("3.0", "3.9.9", -1),
    ("3.9.9", "4.0", -1),
    ("3.5.0", "3.5.9", -1),
    ("3.5.9", "3.6", -1),
];

#[test]
fn rubygems_documentation_examples() {
    let mut failures = Vec::new();
    for &(a, b, expected) in RUBYGEMS_DOC_EXAMPLES {
        for (left, right, want) in [(a, b, expected), (b, a, -expected)] {
            match rubygems::compare(left, right) {
                Ok(actual) if sign(actual) == want => {}
                Ok(actual) => failures.push(format!(
                    "compare({left:?}, {right:?}) = {}, expected {want}",
                    sign(actual)
                )),
                Err(error) => {
                    failures.push(format!("compare({left:?}, {right:?}) failed: {error}"))
                }
            }
        }
    }

    for failure in &failures {
        eprintln!("{failure}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} RubyGems examples failed",
        failures.len(),
        2 * RUBYGEMS_DOC_EXAMPLES.len()
    );
}

/// The `Gem::Version` documentation at ruby/rubygems commit
/// c13f3d005bf9304e734f31bdf14e4de1523fb899 states
/// `Gem::Version.new("1.0.0-beta.1") == Gem::Version.new("1.0.0.beta.1")`.
/// RubyGems 3.x, which this crate follows, turns the hyphen into `.pre.`, and
/// `pre` sorts after `beta`.
#[test]
fn rubygems_hyphen_before_letters_follows_3x() {
    let ordering = rubygems::compare("1.0.0-beta.1", "1.0.0.beta.1");
    assert_eq!(ordering, Ok(Ordering::Greater));
}
