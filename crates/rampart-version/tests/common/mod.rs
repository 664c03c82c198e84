//! Reading the upstream vector files in `tests/vectors/` (origins in its
//! README): `#` comment lines, then tab-separated rows.

#![allow(dead_code)]

use std::cmp::Ordering;
use std::path::PathBuf;

use rampart_version::VersionError;

/// Reads a vector file whole.
pub fn read_vector(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Returns the tab-separated rows of a vector file with their line numbers,
/// skipping `#` comment lines and blank lines.
pub fn rows(name: &str) -> Vec<(usize, Vec<String>)> {
    read_vector(name)
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty())
        .map(|(index, line)| (index + 1, line.split('\t').map(str::to_owned).collect()))
        .collect()
}

/// Maps an ordering to the `cmp` column's -1, 0 or 1.
pub fn sign(ordering: Ordering) -> i32 {
    match ordering {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// Checks every `a<TAB>b<TAB>cmp` row of `name` against `compare`, collecting
/// all mismatches before failing, and returns the number of rows checked.
pub fn check_comparisons(
    name: &str,
    compare: impl Fn(&str, &str) -> Result<Ordering, VersionError>,
) -> usize {
    let rows = rows(name);
    let mut failures = Vec::new();
    for (line, columns) in &rows {
        let [a, b, expected] = columns.as_slice() else {
            failures.push(format!(
                "{name}:{line}: expected 3 columns, found {columns:?}"
            ));
            continue;
        };
        let Ok(expected) = expected.parse::<i32>() else {
            failures.push(format!("{name}:{line}: cmp {expected:?} is not -1, 0 or 1"));
            continue;
        };
        match compare(a, b) {
            Ok(ordering) if sign(ordering) == expected => {}
            Ok(ordering) => failures.push(format!(
                "{name}:{line}: compare({a:?}, {b:?}) = {}, expected {expected}",
                sign(ordering)
            )),
            Err(error) => failures.push(format!(
                "{name}:{line}: compare({a:?}, {b:?}) failed: {error}"
            )),
        }
    }
    assert!(!rows.is_empty(), "{name} has no rows");
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    rows.len()
}
