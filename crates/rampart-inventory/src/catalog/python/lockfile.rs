//! TOML lock files that list one `[[package]]` table per locked
//! distribution:
//! - `poetry.lock` (Poetry 1.x and 2.x): `name`, `version`, and a
//!   `[package.source]` table whose `type` is `git`, `directory`, `file`,
//!   `url` or `legacy` (a secondary index).
//! - `uv.lock` (uv lock format version 1): `name`, `version` and an inline
//!   `source` table with one key: `registry`, `git`, `url`, `path`,
//!   `directory`, `editable` or `virtual`.
//! - `pdm.lock` (lock format 4.x): `name`, `version`, and `path`, `git` with
//!   `revision`, or `url` for packages from outside an index.
//!
//! Every group (dev, optional extras) is kept, because the files do not say
//! which groups an image installed. Syft keeps them too.
//!
//! Traps:
//! - uv lists the project itself, with `source = { virtual = "." }` or
//!   `{ editable = "." }` and often no version. It is the application, not
//!   a dependency, so it is skipped.
//! - A uv git source is `URL?rev=REF#COMMIT`. The query names the requested
//!   ref and the fragment the locked commit.
//! - A secondary index (poetry `legacy`, a uv `registry` other than the
//!   default) keeps the registry identity, because such an index is most
//!   often a mirror of the default one.

use toml::{Table, Value};

use super::super::is_printable_token;
use super::{DeclaredPackage, MAX_DECLARED_PER_FILE};

/// The lock file formats this module reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockFormat {
    Poetry,
    Uv,
    Pdm,
}

/// The outcome of reading one `[[package]]` table.
enum Entry {
    Package(DeclaredPackage),
    /// The project itself (uv), not a dependency.
    Project,
}

/// Parses a lock file. Returns its packages and warnings naming `path`
/// (and the package index where one table is unusable).
pub fn parse(
    format: LockFormat,
    content: &[u8],
    path: &str,
) -> (Vec<DeclaredPackage>, Vec<String>) {
    let mut warnings = Vec::new();
    let text = String::from_utf8_lossy(content);
    let document: Table = match toml::from_str(&text) {
        Ok(document) => document,
        Err(error) => {
            let message = error.to_string().replace('\n', " ");
            warnings.push(format!("{path}: invalid TOML: {message}"));
            return (Vec::new(), warnings);
        }
    };
    let Some(tables) = document.get("package").and_then(Value::as_array) else {
        return (Vec::new(), warnings);
    };

    let mut packages = Vec::new();
    for (index, table) in tables.iter().enumerate() {
        if packages.len() == MAX_DECLARED_PER_FILE {
            warnings.push(format!(
                "{path}: more than {MAX_DECLARED_PER_FILE} packages; the rest is skipped"
            ));
            break;
        }
        let Some(table) = table.as_table() else {
            warnings.push(format!("{path}: package {index} is not a table; skipped"));
            continue;
        };
        match read_entry(format, table) {
            Ok(Entry::Package(package)) => packages.push(package),
            Ok(Entry::Project) => {}
            Err(reason) => warnings.push(format!("{path}: package {index}: {reason}; skipped")),
        }
    }
    (packages, warnings)
}

/// Reads one `[[package]]` table.
fn read_entry(format: LockFormat, table: &Table) -> Result<Entry, &'static str> {
    let text = |key: &str| table.get(key).and_then(Value::as_str);
    let name = text("name")
        .filter(|name| is_printable_token(name))
        .ok_or("missing or invalid name")?;

    let local_source = match format {
        LockFormat::Poetry => poetry_source(table),
        LockFormat::Uv => {
            let source = table.get("source").and_then(Value::as_table);
            if source.is_some_and(is_uv_project) {
                return Ok(Entry::Project);
            }
            source.and_then(uv_source)
        }
        LockFormat::Pdm => pdm_source(table),
    };

    let version = match text("version") {
        Some(version) if is_printable_token(version) => version,
        // A local package may have a dynamic version the lock does not record.
        None if local_source.is_some() => "",
        _ => return Err("missing or invalid version"),
    };
    Ok(Entry::Package(DeclaredPackage {
        name: name.to_owned(),
        version: version.to_owned(),
        local_source,
    }))
}

/// Returns whether a uv source names the project root (`virtual` or `editable`
/// at `.`).
fn is_uv_project(source: &Table) -> bool {
    ["virtual", "editable"]
        .iter()
        .any(|key| source.get(*key).and_then(Value::as_str) == Some("."))
}

/// Returns the origin of a uv package when it is not an index.
fn uv_source(source: &Table) -> Option<String> {
    if let Some(url) = source.get("git").and_then(Value::as_str) {
        let (location, commit) = url.split_once('#').unwrap_or((url, ""));
        let location = location.split('?').next().unwrap_or(location);
        return Some(git_source(location, Some(commit)));
    }
    ["path", "directory", "editable", "virtual"]
        .iter()
        .any(|key| source.contains_key(*key))
        .then(|| "path".to_owned())
}

/// Returns the origin of a poetry package when it is not an index.
fn poetry_source(table: &Table) -> Option<String> {
    let source = table.get("source").and_then(Value::as_table)?;
    let text = |key: &str| source.get(key).and_then(Value::as_str);
    match text("type")? {
        "git" => {
            let commit = text("resolved_reference").or_else(|| text("reference"));
            Some(git_source(text("url").unwrap_or_default(), commit))
        }
        "directory" | "file" => Some("path".to_owned()),
        _ => None,
    }
}

/// Returns the origin of a pdm package when it is not an index.
fn pdm_source(table: &Table) -> Option<String> {
    let text = |key: &str| table.get(key).and_then(Value::as_str);
    if let Some(url) = text("git") {
        return Some(git_source(url, text("revision")));
    }
    (table.contains_key("path") || table.get("editable").and_then(Value::as_bool) == Some(true))
        .then(|| "path".to_owned())
}

/// Formats `git+URL#COMMIT`, without doubling a `git+` prefix the URL already has.
fn git_source(url: &str, commit: Option<&str>) -> String {
    let mut source = if url.starts_with("git+") {
        url.to_owned()
    } else {
        format!("git+{url}")
    };
    if let Some(commit) = commit.filter(|commit| !commit.is_empty()) {
        source.push('#');
        source.push_str(commit);
    }
    source
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(packages: &[DeclaredPackage]) -> Vec<(&str, &str, Option<&str>)> {
        packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.local_source.as_deref(),
                )
            })
            .collect()
    }

    #[test]
    fn poetry_sources() {
        let lock = br#"
[[package]]
name = "added-value"
version = "0.14.2"
category = "dev"

[package.source]
type = "legacy"
url = "https://example.invalid/simple"
reference = "test"

[[package]]
name = "mylib"
version = "0.1.0"

[package.source]
type = "git"
url = "https://github.com/owner/mylib.git"
reference = "main"
resolved_reference = "0123abcd"

[[package]]
name = "sibling"
version = "1.0.0"

[package.source]
type = "directory"
url = "../sibling"
"#;
        let (packages, warnings) = parse(LockFormat::Poetry, lock, "/app/poetry.lock");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            found(&packages),
            [
                ("added-value", "0.14.2", None),
                (
                    "mylib",
                    "0.1.0",
                    Some("git+https://github.com/owner/mylib.git#0123abcd")
                ),
                ("sibling", "1.0.0", Some("path")),
            ]
        );
    }

    #[test]
    fn uv_skips_project_and_marks_local() {
        let lock = br#"
version = 1
requires-python = ">=3.12"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }

[[package]]
name = "certifi"
version = "2025.1.31"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "member"
source = { editable = "packages/member" }

[[package]]
name = "tool"
version = "2.0.0"
source = { git = "https://github.com/owner/tool?rev=v2#fedcba98" }
"#;
        let (packages, warnings) = parse(LockFormat::Uv, lock, "/app/uv.lock");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            found(&packages),
            [
                ("certifi", "2025.1.31", None),
                ("member", "", Some("path")),
                (
                    "tool",
                    "2.0.0",
                    Some("git+https://github.com/owner/tool#fedcba98")
                ),
            ]
        );
    }

    #[test]
    fn pdm_sources() {
        let lock = br#"
[metadata]
groups = ["default"]

[[package]]
name = "idna"
version = "2.7"
groups = ["default"]

[[package]]
name = "local"
version = "0.0.1"
path = "./local"

[[package]]
name = "vcs"
version = "1.0"
git = "https://github.com/owner/vcs.git"
revision = "abc"
"#;
        let (packages, warnings) = parse(LockFormat::Pdm, lock, "/app/pdm.lock");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            found(&packages),
            [
                ("idna", "2.7", None),
                ("local", "0.0.1", Some("path")),
                (
                    "vcs",
                    "1.0",
                    Some("git+https://github.com/owner/vcs.git#abc")
                ),
            ]
        );
    }

    #[test]
    fn bad_entries_are_warnings() {
        let lock = b"[[package]]\nname = \"a\"\n\n[[package]]\nname = \"b\"\nversion = \"1\"\n";
        let (packages, warnings) = parse(LockFormat::Poetry, lock, "/app/poetry.lock");
        assert_eq!(found(&packages), [("b", "1", None)]);
        assert_eq!(
            warnings,
            ["/app/poetry.lock: package 0: missing or invalid version; skipped"]
        );

        let (packages, warnings) = parse(LockFormat::Uv, b"[[package]\n", "/app/uv.lock");
        assert!(packages.is_empty());
        assert!(
            warnings[0].starts_with("/app/uv.lock: invalid TOML"),
            "{warnings:?}"
        );
    }
}
