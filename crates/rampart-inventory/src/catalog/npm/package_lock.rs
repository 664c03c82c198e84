//! npm's `package-lock.json` and `npm-shrinkwrap.json` (npm's
//! "package-lock.json" documentation, lockfileVersion 1 to 3).
//!
//! - Version 1 lists packages in a nested `dependencies` tree keyed by the
//!   folder name. An aliased entry's version reads `npm:REAL@VERSION`, split
//!   at the last `@` so that a scoped real name survives.
//! - Versions 2 and 3 list packages in a flat `packages` map keyed by the
//!   install path (`node_modules/a/node_modules/b`). The `""` key is the
//!   project itself and is skipped. An aliased entry has a `name` field with
//!   the real name; otherwise the name is the last `node_modules/` segment.
//!   Version 2 also carries the version 1 tree, which is ignored.
//! - `link: true` entries point at a workspace folder (another key of the
//!   map, which contains the version). They and `file:` resolutions are local.
//! - `dev: true` entries are development-only and are skipped.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{NpmRecord, ParsedFile, is_valid_name, local_source_of, read_licenses};
use crate::catalog::is_printable_token;

/// Maximum nesting of version 1 `dependencies` trees followed. npm nests a
/// package only where versions conflict, so real trees are a few levels
/// deep. serde_json's own limit of 128 nested values bounds it as well.
const MAX_V1_DEPTH: usize = 64;

const PATH_PREFIX: &str = "node_modules/";

/// Parses a whole lock file. Fails only when the file is no JSON object.
pub fn parse_package_lock(content: &[u8]) -> Result<ParsedFile, String> {
    let lock: Value = serde_json::from_slice(content)
        .map_err(|error| format!("invalid package-lock JSON: {error}"))?;
    let Some(lock) = lock.as_object() else {
        return Err("invalid package-lock: the top level is not an object".to_owned());
    };

    let mut parsed = ParsedFile::default();
    let mut seen = HashSet::new();
    match lock.get("packages").and_then(Value::as_object) {
        Some(packages) => read_packages(packages, &mut parsed, &mut seen),
        None => {
            if let Some(dependencies) = lock.get("dependencies").and_then(Value::as_object) {
                read_v1_tree(dependencies, 0, &mut parsed, &mut seen);
            }
        }
    }
    Ok(parsed)
}

/// Reads the version 2/3 `packages` map.
fn read_packages(
    packages: &Map<String, Value>,
    parsed: &mut ParsedFile,
    seen: &mut HashSet<(String, String)>,
) {
    for (key, entry) in packages {
        if key.is_empty() || !entry.is_object() {
            continue;
        }
        // Keys outside node_modules are workspace folders; the links to
        // them are reported instead.
        let Some(name_from_key) = key
            .rsplit(PATH_PREFIX)
            .next()
            .filter(|_| key.contains(PATH_PREFIX))
        else {
            continue;
        };
        if is_true(entry, "dev") {
            continue;
        }

        let resolved = entry.get("resolved").and_then(Value::as_str).unwrap_or("");
        let is_link = is_true(entry, "link");
        let mut version = string_field(entry, "version");
        let mut name = string_field(entry, "name");
        if is_link {
            // The link's target entry contains the version and may contain the name.
            if let Some(target) = packages.get(resolved) {
                version = version.or_else(|| string_field(target, "version"));
                name = name.or_else(|| string_field(target, "name"));
            }
        }
        let name = name.unwrap_or_else(|| name_from_key.to_owned());
        let local_source = if is_link {
            Some("path".to_owned())
        } else {
            local_source_of(resolved)
        };
        let version = version.unwrap_or_default();
        if !is_valid_name(&name) || (local_source.is_none() && !is_printable_token(&version)) {
            parsed.warnings.push(format!(
                "packages entry {key:?} has no valid name and version; skipped"
            ));
            continue;
        }
        let record = NpmRecord {
            name,
            version,
            licenses: read_licenses(entry),
            local_source,
        };
        if !parsed.push(record, seen) {
            parsed.note_truncated();
            return;
        }
    }
}

/// Reads a version 1 `dependencies` tree, nested trees included.
fn read_v1_tree(
    dependencies: &Map<String, Value>,
    depth: usize,
    parsed: &mut ParsedFile,
    seen: &mut HashSet<(String, String)>,
) -> bool {
    if depth >= MAX_V1_DEPTH {
        parsed.warnings.push(format!(
            "dependencies nested deeper than {MAX_V1_DEPTH} levels; the deeper ones were skipped"
        ));
        return true;
    }
    for (key, entry) in dependencies {
        if !entry.is_object() || is_true(entry, "dev") {
            continue;
        }
        let spec = string_field(entry, "version").unwrap_or_default();
        match v1_record(key, &spec) {
            Some(record) => {
                if !parsed.push(record, seen) {
                    parsed.note_truncated();
                    return false;
                }
            }
            None => parsed.warnings.push(format!(
                "dependencies entry {key:?} has no valid name and version; skipped"
            )),
        }
        if let Some(nested) = entry.get("dependencies").and_then(Value::as_object)
            && !read_v1_tree(nested, depth + 1, parsed, seen)
        {
            return false;
        }
    }
    true
}

/// The record of a version 1 entry from its key and `version` text, which
/// may be an alias (`npm:REAL@VERSION`), a local or git source, or a
/// plain version.
fn v1_record(key: &str, spec: &str) -> Option<NpmRecord> {
    let (name, version, local_source) = if let Some(alias) = spec.strip_prefix("npm:") {
        let (real, version) = split_alias(alias)?;
        (real.to_owned(), version.to_owned(), None)
    } else if let Some(source) = local_source_of(spec) {
        // A git dependency's version text ends in `#COMMIT`; a path one
        // states no version.
        let version = spec
            .rsplit_once('#')
            .map_or("", |(_, commit)| commit)
            .to_owned();
        (key.to_owned(), version, Some(source))
    } else {
        (key.to_owned(), spec.to_owned(), None)
    };
    let version_ok = is_printable_token(&version) || (local_source.is_some() && version.is_empty());
    (is_valid_name(&name) && version_ok).then(|| NpmRecord {
        name,
        version,
        licenses: Vec::new(),
        local_source,
    })
}

/// Splits `REAL@VERSION` at the last `@`, after the leading `@` of a scope.
pub(super) fn split_alias(alias: &str) -> Option<(&str, &str)> {
    let at = alias.get(1..)?.rfind('@')? + 1;
    let (name, version) = (alias.get(..at)?, alias.get(at + 1..)?);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

fn string_field(entry: &Value, field: &str) -> Option<String> {
    entry
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn is_true(entry: &Value, field: &str) -> bool {
    entry.get(field).and_then(Value::as_bool) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::catalog::npm::sorted_names as names;

    #[test]
    fn v1_alias_split_at_last_at() {
        let lock = br#"{"lockfileVersion": 1, "dependencies": {
            "string-width-cjs": {"version": "npm:string-width@4.2.3"},
            "scoped-alias": {"version": "npm:@example-scope/util@1.2.3"}
        }}"#;
        let parsed = parse_package_lock(lock).unwrap();
        assert_eq!(
            names(&parsed),
            [("@example-scope/util", "1.2.3"), ("string-width", "4.2.3")]
        );
    }

    #[test]
    fn v1_nested_and_dev() {
        let lock = br#"{"lockfileVersion": 1, "dependencies": {
            "parent": {"version": "1.0.0", "dependencies": {"shared": {"version": "0.5.0"}}},
            "shared": {"version": "2.0.0"},
            "dev-parent": {"version": "1.0.0", "dev": true}
        }}"#;
        let parsed = parse_package_lock(lock).unwrap();
        assert_eq!(
            names(&parsed),
            [
                ("parent", "1.0.0"),
                ("shared", "0.5.0"),
                ("shared", "2.0.0")
            ]
        );
    }

    #[test]
    fn v1_git_and_file_are_local() {
        let lock = br#"{"lockfileVersion": 1, "dependencies": {
            "a": {"version": "git+ssh://git@example.com/a.git#0123abcd"},
            "b": {"version": "file:../b"}
        }}"#;
        let parsed = parse_package_lock(lock).unwrap();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[0].version, "0123abcd");
        assert_eq!(
            parsed.records[0].local_source.as_deref(),
            Some("git+ssh://git@example.com/a.git#0123abcd")
        );
        assert_eq!(parsed.records[1].local_source.as_deref(), Some("path"));
    }

    #[test]
    fn v3_alias_root_dev_and_nested() {
        let lock = br#"{"lockfileVersion": 3, "packages": {
            "": {"name": "app", "version": "1.0.0"},
            "node_modules/string-width-cjs": {"name": "string-width", "version": "4.2.3"},
            "node_modules/a/node_modules/@s/b": {"version": "2.0.0", "license": "MIT"},
            "node_modules/async": {"version": "3.2.4", "dev": true}
        }}"#;
        let parsed = parse_package_lock(lock).unwrap();
        assert_eq!(
            names(&parsed),
            [("@s/b", "2.0.0"), ("string-width", "4.2.3")]
        );
        let scoped = parsed.records.iter().find(|r| r.name == "@s/b").unwrap();
        assert_eq!(scoped.licenses, ["MIT"]);
    }

    #[test]
    fn v3_link_takes_target_version() {
        let lock = br#"{"lockfileVersion": 3, "packages": {
            "": {"name": "app"},
            "node_modules/lib": {"resolved": "packages/lib", "link": true},
            "packages/lib": {"name": "lib", "version": "0.3.0"},
            "node_modules/vendored": {"version": "1.0.0", "resolved": "file:vendor/x.tgz"}
        }}"#;
        let parsed = parse_package_lock(lock).unwrap();
        assert_eq!(names(&parsed), [("lib", "0.3.0"), ("vendored", "1.0.0")]);
        assert!(
            parsed
                .records
                .iter()
                .all(|r| r.local_source.as_deref() == Some("path"))
        );
    }

    #[test]
    fn bad_entries_warn_and_the_rest_is_read() {
        let lock = br#"{"lockfileVersion": 3, "packages": {
            "node_modules/ok": {"version": "1.0.0"},
            "node_modules/broken": {"version": 7}
        }}"#;
        let parsed = parse_package_lock(lock).unwrap();
        assert_eq!(names(&parsed), [("ok", "1.0.0")]);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(parsed.warnings[0].contains("node_modules/broken"));
    }

    #[test]
    fn alias_split() {
        assert_eq!(split_alias("@s/u@1.2.3"), Some(("@s/u", "1.2.3")));
        assert_eq!(split_alias("a@1"), Some(("a", "1")));
        assert_eq!(split_alias("@s/u"), None);
        assert_eq!(split_alias("a@"), None);
        assert_eq!(split_alias(""), None);
    }

    #[test]
    fn invalid_json_is_an_error() {
        assert!(parse_package_lock(b"{\"requires\": true, \"lockfi\n}").is_err());
        assert!(parse_package_lock(b"[]").is_err());
    }
}
