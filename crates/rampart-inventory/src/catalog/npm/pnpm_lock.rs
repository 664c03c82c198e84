//! pnpm's `pnpm-lock.yaml` (pnpm's lockfile format, lockfileVersion 5.x
//! to 9.0). The `packages` map lists every resolved package, keyed by:
//! - 5.x: `/NAME/VERSION`, with peer dependencies appended after `_`
//!   (`/acorn-jsx/5.3.2_acorn@8.8.0`);
//! - 6.x to 8.x: `/NAME@VERSION`, with peers in parentheses
//!   (`/react-dom@18.2.0(react@18.2.0)`);
//! - 9.0: `NAME@VERSION` without the leading slash; the peer variants move
//!   to a `snapshots` map, which repeats the packages and is not read.
//!
//! An entry with `name` and `version` fields (a tarball or git dependency,
//! keyed by its URL) takes its identity from them. `dev: true` entries are
//! development-only and are skipped. Before 9.0 the top-level
//! `dependencies` map of a single-project lock file is read too, as Syft
//! does, so that a lock file with a trimmed `packages` map still lists the
//! project's direct dependencies.

use std::collections::HashSet;

use serde_json::Value;

use super::{NpmRecord, ParsedFile, is_valid_name, local_source_of, parse_yaml};
use crate::catalog::is_printable_token;

/// Parses a whole lock file. Fails only when the file is no YAML mapping.
pub fn parse_pnpm_lock(content: &[u8]) -> Result<ParsedFile, String> {
    let lock = parse_yaml(content)?;
    let Some(lock) = lock.as_object() else {
        return Err("invalid pnpm-lock.yaml: the top level is not a mapping".to_owned());
    };
    let lockfile_version = match lock.get("lockfileVersion") {
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    // Without a readable version, the key shape decides: only 5.x keys
    // lack an `@` between name and version.
    let slash_keys = lockfile_version.is_some_and(|version| version < 6.0);

    let mut parsed = ParsedFile::default();
    let mut seen = HashSet::new();
    if lockfile_version.is_none_or(|version| version < 9.0)
        && let Some(dependencies) = lock.get("dependencies").and_then(Value::as_object)
    {
        for (name, value) in dependencies {
            let Some(record) = direct_dependency(name, value) else {
                continue;
            };
            if !parsed.push(record, &mut seen) {
                parsed.note_truncated();
                return Ok(parsed);
            }
        }
    }

    let Some(packages) = lock.get("packages").and_then(Value::as_object) else {
        return Ok(parsed);
    };
    for (key, entry) in packages {
        if entry.get("dev").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        match package_record(key, entry, slash_keys) {
            Some(record) => {
                if !parsed.push(record, &mut seen) {
                    parsed.note_truncated();
                    break;
                }
            }
            None => parsed.warnings.push(format!(
                "packages entry {key:?} has no valid name and version; skipped"
            )),
        }
    }
    Ok(parsed)
}

/// Reads a top-level `dependencies` entry: `NAME: VERSION` (5.x) or
/// `NAME: {specifier, version}` (6.x to 8.x). Links to workspace folders
/// and non-version references are left to the `packages` map.
fn direct_dependency(name: &str, value: &Value) -> Option<NpmRecord> {
    let version = match value {
        Value::String(text) => text.as_str(),
        Value::Object(object) => object.get("version")?.as_str()?,
        _ => return None,
    };
    let version = strip_peers(version);
    if version.contains(':') || version.contains('/') {
        return None;
    }
    (is_valid_name(name) && is_printable_token(version)).then(|| NpmRecord {
        name: name.to_owned(),
        version: version.to_owned(),
        licenses: Vec::new(),
        local_source: None,
    })
}

/// Builds the record of a `packages` entry from its key, or from its `name` and
/// `version` fields when it has them.
fn package_record(key: &str, entry: &Value, slash_keys: bool) -> Option<NpmRecord> {
    let field = |name: &str| entry.get(name).and_then(Value::as_str).map(str::trim);
    let (name, version) = match (field("name"), field("version")) {
        (Some(name), Some(version)) => (name.to_owned(), strip_peers(version).to_owned()),
        _ => {
            let (name, version) = split_key(key, slash_keys)?;
            (name.to_owned(), version.to_owned())
        }
    };
    if !is_valid_name(&name) || !is_printable_token(&version) {
        return None;
    }
    Some(NpmRecord {
        name,
        version,
        licenses: Vec::new(),
        local_source: resolution_source(entry.get("resolution")),
    })
}

/// Returns the local source of a `resolution`: `{directory}` or a `file:` tarball
/// is a local folder, `{type: git, repo, commit}` a git checkout, and a
/// tarball URL other than a registry one has no registry identity either.
fn resolution_source(resolution: Option<&Value>) -> Option<String> {
    let resolution = resolution?.as_object()?;
    if resolution.contains_key("directory") {
        return Some("path".to_owned());
    }
    if resolution.get("type").and_then(Value::as_str) == Some("git") {
        let repo = resolution.get("repo").and_then(Value::as_str).unwrap_or("");
        let commit = resolution
            .get("commit")
            .and_then(Value::as_str)
            .unwrap_or("");
        let repo = repo.strip_prefix("git+").unwrap_or(repo);
        return Some(format!("git+{repo}#{commit}"));
    }
    local_source_of(resolution.get("tarball")?.as_str()?)
}

/// Splits a `packages` key into name and version.
fn split_key(key: &str, slash_keys: bool) -> Option<(&str, &str)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    if slash_keys {
        // `@scope/name/version` or `name/version`; the version ends at `_`.
        let segments = if key.starts_with('@') { 2 } else { 1 };
        let mut boundary = 0;
        for _ in 0..segments {
            boundary += key.get(boundary..)?.find('/')? + 1;
        }
        let name = key.get(..boundary - 1)?;
        let version = strip_peers(key.get(boundary..)?);
        return (!version.contains('/')).then_some((name, version));
    }
    let key = key.split('(').next().unwrap_or(key);
    let at = key.get(1..)?.rfind('@')? + 1;
    Some((key.get(..at)?, key.get(at + 1..)?))
}

/// Cuts the peer-dependency suffix off a version: `(react@18.2.0)` from 6.x
/// on, `_react@18.2.0` before.
fn strip_peers(version: &str) -> &str {
    let end = version.find(['(', '_']).unwrap_or(version.len());
    version.get(..end).unwrap_or(version).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::catalog::npm::sorted_names as names;

    #[test]
    fn v5_keys_and_peer_suffix() {
        let lock = "lockfileVersion: 5.4\n\
            dependencies:\n  acorn: 8.8.0\n  local: link:../local\n\
            packages:\n  /acorn-jsx/5.3.2_acorn@8.8.0:\n    dev: false\n  \
            /@babel/core/7.21.4_supports-color@5.0.0:\n    dev: false\n  \
            /@bcoe/v8-coverage/0.2.3:\n    dev: true\n";
        let parsed = parse_pnpm_lock(lock.as_bytes()).unwrap();
        assert_eq!(
            names(&parsed),
            [
                ("@babel/core", "7.21.4"),
                ("acorn", "8.8.0"),
                ("acorn-jsx", "5.3.2")
            ]
        );
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn v6_keys_with_parenthesized_peers() {
        let lock = "lockfileVersion: '6.0'\n\
            dependencies:\n  react-dom:\n    specifier: ^18.2.0\n    version: 18.2.0(react@18.2.0)\n\
            packages:\n  /react-dom@18.2.0(react@18.2.0):\n    dev: false\n  \
            /@types/eslint@8.37.0:\n    dev: false\n";
        let parsed = parse_pnpm_lock(lock.as_bytes()).unwrap();
        assert_eq!(
            names(&parsed),
            [("@types/eslint", "8.37.0"), ("react-dom", "18.2.0")]
        );
    }

    #[test]
    fn v9_keys_and_local_resolutions() {
        let lock = "lockfileVersion: '9.0'\n\
            packages:\n  '@babel/helper-plugin-utils@7.24.7':\n    resolution: {integrity: sha512-x}\n  \
            lib@file:packages/lib:\n    resolution: {directory: packages/lib, type: directory}\n    name: lib\n    version: 0.1.0\n  \
            dep@https://codeload.example/dep/tar.gz/abc:\n    resolution: {tarball: https://codeload.example/dep/tar.gz/abc}\n    name: dep\n    version: 2.0.0\n\
            snapshots:\n  '@babel/helper-plugin-utils@7.24.7(@babel/core@7.24.7)': {}\n";
        let parsed = parse_pnpm_lock(lock.as_bytes()).unwrap();
        assert_eq!(
            names(&parsed),
            [
                ("@babel/helper-plugin-utils", "7.24.7"),
                ("dep", "2.0.0"),
                ("lib", "0.1.0")
            ]
        );
        let source = |name: &str| {
            parsed
                .records
                .iter()
                .find(|r| r.name == name)
                .and_then(|r| r.local_source.clone())
        };
        assert_eq!(source("lib").as_deref(), Some("path"));
        assert_eq!(
            source("dep").as_deref(),
            Some("https://codeload.example/dep/tar.gz/abc")
        );
        assert_eq!(source("@babel/helper-plugin-utils"), None);
    }

    #[test]
    fn git_resolution() {
        let entry: Value = serde_json::json!({
            "resolution": {"type": "git", "repo": "https://example.com/a.git", "commit": "abc"},
            "name": "a",
            "version": "1.0.0"
        });
        let record = package_record("example.com/a/abc", &entry, false).unwrap();
        assert_eq!(
            record.local_source.as_deref(),
            Some("git+https://example.com/a.git#abc")
        );
    }

    #[test]
    fn key_split() {
        assert_eq!(
            split_key("/@s/a/1.0.0_b@2.0.0", true),
            Some(("@s/a", "1.0.0"))
        );
        assert_eq!(split_key("/a/1.0.0", true), Some(("a", "1.0.0")));
        assert_eq!(split_key("/a", true), None);
        assert_eq!(
            split_key("/@s/a@1.0.0(b@2.0.0)", false),
            Some(("@s/a", "1.0.0"))
        );
        assert_eq!(split_key("a@1.0.0", false), Some(("a", "1.0.0")));
        assert_eq!(split_key("@s", false), None);
    }

    #[test]
    fn unreadable_key_warns() {
        let lock = "lockfileVersion: '9.0'\npackages:\n  weird-key: {}\n  ok@1.0.0: {}\n";
        let parsed = parse_pnpm_lock(lock.as_bytes()).unwrap();
        assert_eq!(names(&parsed), [("ok", "1.0.0")]);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(parsed.warnings[0].contains("weird-key"));
    }
}
