//! `Pipfile.lock` (pipenv, `pipfile-spec` 6): JSON with `default` and
//! `develop` objects mapping each name to `{"version": "==X", "hashes",
//! "index", "markers"}`, or to `{"git", "ref"}`, `{"path"}` or `{"file"}`
//! for packages from outside an index.
//!
//! Only `default` is read. `develop` lists what `pipenv install --dev`
//! adds, which production images leave out. Syft reads only `default` too.

use serde_json::{Map, Value};

use super::super::is_printable_token;
use super::{DeclaredPackage, MAX_DECLARED_PER_FILE};

/// Parses a Pipfile.lock. Returns the `default` packages, sorted by name,
/// and warnings naming `path` and the entry of each unusable one.
pub fn parse(content: &[u8], path: &str) -> (Vec<DeclaredPackage>, Vec<String>) {
    let mut warnings = Vec::new();
    let document: Value = match serde_json::from_slice(content) {
        Ok(document) => document,
        Err(error) => {
            warnings.push(format!("{path}: invalid JSON: {error}"));
            return (Vec::new(), warnings);
        }
    };
    let Some(default) = document.get("default").and_then(Value::as_object) else {
        return (Vec::new(), warnings);
    };

    let mut packages = Vec::new();
    for (name, entry) in default {
        if packages.len() == MAX_DECLARED_PER_FILE {
            warnings.push(format!(
                "{path}: more than {MAX_DECLARED_PER_FILE} packages; the rest is skipped"
            ));
            break;
        }
        match read_entry(name, entry.as_object()) {
            Ok(package) => packages.push(package),
            Err(reason) => warnings.push(format!("{path}: default.{name}: {reason}; skipped")),
        }
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    (packages, warnings)
}

/// Reads one entry of `default`.
fn read_entry(
    name: &str,
    entry: Option<&Map<String, Value>>,
) -> Result<DeclaredPackage, &'static str> {
    if !is_printable_token(name) {
        return Err("invalid name");
    }
    let entry = entry.ok_or("not an object")?;
    let text = |key: &str| entry.get(key).and_then(Value::as_str);

    let local_source = if let Some(url) = text("git") {
        let mut source = if url.starts_with("git+") {
            url.to_owned()
        } else {
            format!("git+{url}")
        };
        if let Some(reference) = text("ref") {
            source.push('#');
            source.push_str(reference);
        }
        Some(source)
    } else if entry.contains_key("path") || entry.contains_key("file") {
        Some("path".to_owned())
    } else {
        None
    };

    let version = text("version").map(|v| v.trim_start_matches('=').trim());
    let version = match version {
        Some(version) if is_printable_token(version) => version,
        None if local_source.is_some() => "",
        _ => return Err("missing or invalid version"),
    };
    Ok(DeclaredPackage {
        name: name.to_owned(),
        version: version.to_owned(),
        local_source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_only_with_sources() {
        let lock = br#"{
  "_meta": {"pipfile-spec": 6},
  "default": {
    "aiodns": {"index": "test", "version": "==2.0.0"},
    "mylib": {"git": "https://github.com/owner/mylib.git", "ref": "0123abcd"},
    "sibling": {"editable": true, "path": "../sibling"},
    "broken": {"version": 3}
  },
  "develop": {"astroid": {"version": "==2.5.2"}}
}"#;
        let (packages, warnings) = parse(lock, "/app/Pipfile.lock");
        let found: Vec<(&str, &str, Option<&str>)> = packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.local_source.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("aiodns", "2.0.0", None),
                (
                    "mylib",
                    "",
                    Some("git+https://github.com/owner/mylib.git#0123abcd")
                ),
                ("sibling", "", Some("path")),
            ]
        );
        assert_eq!(
            warnings,
            ["/app/Pipfile.lock: default.broken: missing or invalid version; skipped"]
        );
    }

    #[test]
    fn invalid_json_is_a_warning() {
        let (packages, warnings) = parse(b"{\"default\": ", "/app/Pipfile.lock");
        assert!(packages.is_empty());
        assert!(
            warnings[0].starts_with("/app/Pipfile.lock: invalid JSON"),
            "{warnings:?}"
        );
    }
}
