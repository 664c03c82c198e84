//! Checks npm range evaluation against the examples and desugarings in the
//! "Usage", "Versions", "Ranges", "Prerelease Tags" and "Advanced Range
//! Syntax" sections of the node-semver README (npm/node-semver at commit
//! 00463e3eacae4fee5f07ca9a04058a7aa15793ba). Rows for a desugaring test the
//! versions at and next to each bound it documents.

use rampart_version::npm::{self, NpmRange};

/// (range, version, whether the version satisfies the range)
const ROWS: &[(&str, &str, bool)] = &[
    ("1.x || >=2.5.0 || 5.0.0 - 7.2.3", "1.2.3", true),
    ("1.2.3", "v1.2.3", true),
    ("1.2.3", "=1.2.3", true),
    ("1.2.3", "  =v1.2.3   ", true),
    (">=1.2.7", "1.2.7", true),
    (">=1.2.7", "1.2.8", true),
    (">=1.2.7", "2.5.3", true),
    (">=1.2.7", "1.3.9", true),
    (">=1.2.7", "1.2.6", false),
    (">=1.2.7", "1.1.0", false),
    (">=1.2.7 <1.3.0", "1.2.7", true),
    (">=1.2.7 <1.3.0", "1.2.8", true),
    (">=1.2.7 <1.3.0", "1.2.99", true),
    (">=1.2.7 <1.3.0", "1.2.6", false),
    (">=1.2.7 <1.3.0", "1.3.0", false),
    (">=1.2.7 <1.3.0", "1.1.0", false),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.2.7", true),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.2.9", true),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.4.6", true),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.2.8", false),
    ("1.2.7 || >=1.2.9 <2.0.0", "2.0.0", false),
    (">1.2.3-alpha.3", "1.2.3-alpha.7", true),
    (">1.2.3-alpha.3", "3.4.5-alpha.9", false),
    (">1.2.3-alpha.3", "3.4.5", true),
    ("1.2.3 - 2.3.4", "1.2.3", true),
    ("1.2.3 - 2.3.4", "2.3.4", true),
    ("1.2.3 - 2.3.4", "1.2.2", false),
    ("1.2.3 - 2.3.4", "2.3.5", false),
    ("1.2 - 2.3.4", "1.2.0", true),
    ("1.2 - 2.3.4", "1.1.9", false),
    ("1.2 - 2.3.4", "2.3.5", false),
    ("1.2.3 - 2.3", "2.3.99", true),
    ("1.2.3 - 2.3", "2.4.0", false),
    ("1.2.3 - 2", "2.99.99", true),
    ("1.2.3 - 2", "3.0.0", false),
    ("*", "0.0.0", true),
    ("*", "1.2.3", true),
    ("", "1.2.3", true),
    ("1.x", "1.0.0", true),
    ("1.x", "1.99.0", true),
    ("1.x", "2.0.0", false),
    ("1.x", "0.9.9", false),
    ("1.X", "1.5.0", true),
    ("1.2.x", "1.2.0", true),
    ("1.2.x", "1.3.0", false),
    ("1.2.*", "1.2.9", true),
    ("1.2.*", "1.1.9", false),
    ("1", "1.5.0", true),
    ("1", "2.0.0", false),
    ("1.x.x", "1.0.0", true),
    ("1.2", "1.2.9", true),
    ("1.2", "1.3.0", false),
    ("~1.2.3", "1.2.3", true),
    ("~1.2.3", "1.2.99", true),
    ("~1.2.3", "1.2.2", false),
    ("~1.2.3", "1.3.0", false),
    ("~1.2", "1.2.0", true),
    ("~1.2", "1.3.0", false),
    ("~1", "1.9.9", true),
    ("~1", "2.0.0", false),
    ("~0.2.3", "0.2.3", true),
    ("~0.2.3", "0.3.0", false),
    ("~0.2", "0.2.0", true),
    ("~0.2", "0.3.0", false),
    ("~0", "0.9.9", true),
    ("~0", "1.0.0", false),
    ("~1.2.3-beta.2", "1.2.3-beta.4", true),
    ("~1.2.3-beta.2", "1.2.4-beta.2", false),
    ("~1.2.3-beta.2", "1.2.3-beta.1", false),
    ("^1.2.3", "1.2.3", true),
    ("^1.2.3", "1.9.9", true),
    ("^1.2.3", "1.2.2", false),
    ("^1.2.3", "2.0.0", false),
    ("^0.2.3", "0.2.9", true),
    ("^0.2.3", "0.3.0", false),
    ("^0.0.3", "0.0.3", true),
    ("^0.0.3", "0.0.4", false),
    ("^1.2.3-beta.2", "1.2.3-beta.4", true),
    ("^1.2.3-beta.2", "1.2.4-beta.2", false),
    ("^0.0.3-beta", "0.0.3-pr.2", true),
    ("^0.0.3-beta", "0.0.4", false),
    ("^1.2.x", "1.2.0", true),
    ("^1.2.x", "1.9.0", true),
    ("^1.2.x", "2.0.0", false),
    ("^0.0.x", "0.0.9", true),
    ("^0.0.x", "0.1.0", false),
    ("^0.0", "0.0.0", true),
    ("^0.0", "0.1.0", false),
    ("^1.x", "1.0.0", true),
    ("^1.x", "2.0.0", false),
    ("^0.x", "0.9.9", true),
    ("^0.x", "1.0.0", false),
    ("1.2 <1.2.9 || >2.0.0", "1.2.10", false),
    ("1.2 <1.2.9 || >2.0.0", "1.2.8", true),
    ("1.2 <1.2.9 || >2.0.0", "2.0.1", true),
];

#[test]
fn readme_rows_match() {
    let mut failures = Vec::new();
    for &(range, version, expected) in ROWS {
        match npm::satisfies(range, version) {
            Ok(result) if result == expected => {}
            Ok(result) => failures.push(format!(
                "satisfies({range:?}, {version:?}) returned {result}, expected {expected}"
            )),
            Err(error) => {
                failures.push(format!("satisfies({range:?}, {version:?}) failed: {error}"))
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ROWS.len() >= 60, "only {} rows", ROWS.len());
}

#[test]
fn parsed_range_matches_function() {
    for &(range, version, expected) in ROWS {
        let parsed: NpmRange = match range.parse() {
            Ok(parsed) => parsed,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(
            parsed.satisfies(version),
            Ok(expected),
            "{range:?} on {version:?}"
        );
    }
}
