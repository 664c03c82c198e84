//! Yarn's `yarn.lock`, in both of its formats:
//! - Yarn 1 ("yarn lockfile v1"): Yarn's own text format. An entry starts
//!   with an unindented line listing its specifiers
//!   (`"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":`) and has
//!   indented fields (`version "7.10.4"`, `resolved "URL"`). An alias
//!   specifier reads `ALIAS@npm:REAL@RANGE`.
//! - Yarn 2 and later ("berry"): YAML with a `__metadata` entry. Each entry
//!   has `version` and `resolution: "NAME@PROTOCOL:REFERENCE"`, which names
//!   the real package even for an alias. `npm:` is a registry package.
//!   `workspace:`, `link:`, `portal:` and `file:` are local folders, and the
//!   `workspace:.` entry is the project itself, so it is skipped. `patch:`
//!   wraps the percent-encoded resolution of the package it patches.
//!
//! NOTE: Yarn lock files do not mark development dependencies, so all of
//! them are reported. Telling them apart needs the project's
//! `package.json` and the dependency graph, which rampart does not build.

use std::collections::HashSet;

use serde_json::Value;

use super::{
    NpmRecord, ParsedFile, is_valid_name, local_source_of, package_lock::split_alias, parse_yaml,
};
use crate::catalog::{is_printable_token, lines};
use crate::purl::decode;

/// Parses a yarn.lock of either format. Fails only when a berry file is no
/// valid YAML.
pub fn parse_yarn_lock(content: &[u8]) -> Result<ParsedFile, String> {
    let is_berry = lines(content).any(|line| line.starts_with(b"__metadata:"));
    if is_berry {
        parse_berry(content)
    } else {
        Ok(parse_v1(content))
    }
}

/// One Yarn 1 entry while its fields are read.
struct V1Entry {
    line: usize,
    name: String,
    range: String,
    version: Option<String>,
    resolved: Option<String>,
}

fn parse_v1(content: &[u8]) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let mut seen = HashSet::new();
    let mut current: Option<V1Entry> = None;

    for (index, line) in lines(content).enumerate() {
        let line_number = index + 1;
        let line = String::from_utf8_lossy(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            if let Some(entry) = current.take()
                && !finish_v1(entry, &mut parsed, &mut seen)
            {
                return parsed;
            }
            current = v1_header(&line, line_number);
            if current.is_none() {
                parsed.warnings.push(format!(
                    "line {line_number}: invalid entry header {:?}; entry skipped",
                    truncate(&line)
                ));
            }
            continue;
        }
        // Fields of the entry are indented by two spaces; deeper lines
        // belong to `dependencies` and similar blocks.
        let Some(entry) = current.as_mut() else {
            continue;
        };
        let Some(field) = line.strip_prefix("  ").filter(|f| !f.starts_with(' ')) else {
            continue;
        };
        let (key, value) = field.split_once(' ').unwrap_or((field, ""));
        let value = unquote(value.trim());
        match key {
            "version" => entry.version = Some(value.to_owned()),
            "resolved" => entry.resolved = Some(value.to_owned()),
            _ => {}
        }
    }
    if let Some(entry) = current.take() {
        finish_v1(entry, &mut parsed, &mut seen);
    }
    parsed
}

/// Reads the name and range of an entry header's first specifier.
fn v1_header(line: &str, line_number: usize) -> Option<V1Entry> {
    let specifiers = line.trim_end().strip_suffix(':')?;
    let first = unquote(specifiers.split(", ").next()?.trim());
    let (name, range) = split_specifier(first)?;
    Some(V1Entry {
        line: line_number,
        name: name.to_owned(),
        range: range.to_owned(),
        version: None,
        resolved: None,
    })
}

/// Turns a finished entry into a record. Returns false once the entry
/// limit is reached.
fn finish_v1(
    entry: V1Entry,
    parsed: &mut ParsedFile,
    seen: &mut HashSet<(String, String)>,
) -> bool {
    // `npm:REAL@RANGE` names the real package; a bare `npm:RANGE` does not.
    let name = entry
        .range
        .strip_prefix("npm:")
        .map(|alias| split_alias(alias).map_or(alias, |(real, _)| real))
        .filter(|real| is_valid_name(real))
        .unwrap_or(&entry.name)
        .to_owned();
    let version = entry.version.unwrap_or_default();
    let local_source = local_source_of(&entry.range)
        .or_else(|| entry.resolved.as_deref().and_then(local_source_of));
    if !is_valid_name(&name) || !is_printable_token(&version) {
        parsed.warnings.push(format!(
            "line {}: entry {:?} has no valid name and version; skipped",
            entry.line, entry.name
        ));
        return true;
    }
    let record = NpmRecord {
        name,
        version,
        licenses: Vec::new(),
        local_source,
    };
    if parsed.push(record, seen) {
        true
    } else {
        parsed.note_truncated();
        false
    }
}

fn parse_berry(content: &[u8]) -> Result<ParsedFile, String> {
    let lock = parse_yaml(content)?;
    let Some(entries) = lock.as_object() else {
        return Err("invalid yarn.lock: the top level is not a mapping".to_owned());
    };
    let mut parsed = ParsedFile::default();
    let mut seen = HashSet::new();
    for (key, entry) in entries {
        if key == "__metadata" || !entry.is_object() {
            continue;
        }
        let Some(record) = berry_record(key, entry) else {
            continue;
        };
        match record {
            Ok(record) => {
                if !parsed.push(record, &mut seen) {
                    parsed.note_truncated();
                    break;
                }
            }
            Err(problem) => parsed
                .warnings
                .push(format!("entry {key:?}: {problem}; skipped")),
        }
    }
    Ok(parsed)
}

/// Builds the record of one berry entry. Returns `None` for the project's
/// own workspace.
fn berry_record(key: &str, entry: &Value) -> Option<Result<NpmRecord, &'static str>> {
    let version = scalar(entry.get("version"));
    let resolution = match entry.get("resolution").and_then(Value::as_str) {
        Some(resolution) => resolution.to_owned(),
        // Without a resolution, the first specifier of the key names the package.
        None => unquote(key.split(", ").next().unwrap_or(key).trim()).to_owned(),
    };
    let Some((name, reference)) = split_specifier(&resolution) else {
        return Some(Err("invalid resolution"));
    };
    let (name, reference) = match reference.strip_prefix("patch:") {
        // `patch:NAME@npm%3A1.2.3#PATCH` resolves to the patched package.
        Some(patched) => {
            let inner = decode(patched.split('#').next().unwrap_or(patched));
            match split_specifier(&inner) {
                Some((name, reference)) => (name.to_owned(), reference.to_owned()),
                None => return Some(Err("invalid patch resolution")),
            }
        }
        None => (name.to_owned(), reference.to_owned()),
    };
    if reference == "workspace:." {
        return None;
    }
    let local_source = match reference.strip_prefix("npm:") {
        Some(_) => None,
        None => Some(local_source_of(&reference).unwrap_or_else(|| reference.clone())),
    };
    let version = version
        .or_else(|| reference.strip_prefix("npm:").map(str::to_owned))
        .unwrap_or_default();
    if !is_valid_name(&name) || !is_printable_token(&version) {
        return Some(Err("no valid name and version"));
    }
    Some(Ok(NpmRecord {
        name,
        version,
        licenses: Vec::new(),
        local_source,
    }))
}

/// Splits `NAME@RANGE` at the first `@` after a scope's leading `@`.
fn split_specifier(specifier: &str) -> Option<(&str, &str)> {
    let at = specifier.get(1..)?.find('@')? + 1;
    let (name, range) = (specifier.get(..at)?, specifier.get(at + 1..)?);
    (!name.is_empty()).then_some((name, range))
}

/// Returns a YAML scalar as text, because YAML reads `version: 2` as a number.
fn scalar(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// Returns the first 80 characters of a line, so a warning about a long
/// garbage line stays short.
fn truncate(line: &str) -> String {
    line.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::catalog::npm::sorted_names as names;

    const V1: &str = r#"# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.10.4"
  resolved "https://registry.example/@babel/code-frame/-/code-frame-7.10.4.tgz#168d"
  dependencies:
    "@babel/highlight" "^7.10.4"

ajv@^6.10.2, ajv@^6.5.5:
  version "6.12.3"

ajv@^6.10.2:
  version "6.12.3"

"string-width-cjs@npm:string-width@^4.2.0":
  version "4.2.3"

"scoped-alias@npm:@example-scope/util@^1.2.0":
  version "1.2.3"

"local@file:../local":
  version "0.1.0"
"#;

    #[test]
    fn v1_entries_aliases_and_duplicates() {
        let parsed = parse_yarn_lock(V1.as_bytes()).unwrap();
        assert_eq!(
            names(&parsed),
            [
                ("@babel/code-frame", "7.10.4"),
                ("@example-scope/util", "1.2.3"),
                ("ajv", "6.12.3"),
                ("local", "0.1.0"),
                ("string-width", "4.2.3"),
            ]
        );
        let local = parsed.records.iter().find(|r| r.name == "local").unwrap();
        assert_eq!(local.local_source.as_deref(), Some("path"));
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn v1_entry_without_version_warns_with_line() {
        let parsed =
            parse_yarn_lock(b"a@^1:\n  resolved \"x\"\n\nb@^2:\n  version \"2.0.0\"\n").unwrap();
        assert_eq!(names(&parsed), [("b", "2.0.0")]);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].starts_with("line 1:"),
            "{:?}",
            parsed.warnings
        );
    }

    const BERRY: &str = r#"__metadata:
  version: 6
  cacheKey: 8

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  languageName: unknown
  linkType: soft

"lib@workspace:packages/lib":
  version: 0.2.0
  resolution: "lib@workspace:packages/lib"

"string-width-cjs@npm:string-width@^4.2.0":
  version: 4.2.3
  resolution: "string-width@npm:4.2.3"

"resolve@patch:resolve@^1.20.0#~builtin<compat/resolve>":
  version: 1.22.1
  resolution: "resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=c3c19d"

"async@npm:^3.2.3":
  version: 3.2.6
  resolution: "async@npm:3.2.6"

"async@npm:^3.2.3":
  version: 3.2.6
  resolution: "async@npm:3.2.6"

"dep@https://example.com/dep.git#commit=abc":
  version: 1.0.0
  resolution: "dep@https://example.com/dep.git#commit=abc"
"#;

    #[test]
    fn berry_protocols() {
        let parsed = parse_yarn_lock(BERRY.as_bytes()).unwrap();
        assert_eq!(
            names(&parsed),
            [
                ("async", "3.2.6"),
                ("dep", "1.0.0"),
                ("lib", "0.2.0"),
                ("resolve", "1.22.1"),
                ("string-width", "4.2.3"),
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
        assert_eq!(source("resolve"), None);
        assert_eq!(source("string-width"), None);
        assert_eq!(
            source("dep").as_deref(),
            Some("https://example.com/dep.git#commit=abc")
        );
    }

    #[test]
    fn berry_invalid_yaml_is_an_error() {
        assert!(parse_yarn_lock(b"__metadata:\n  version: [\n").is_err());
    }

    #[test]
    fn specifier_split() {
        assert_eq!(
            split_specifier("@s/a@npm:1.0.0"),
            Some(("@s/a", "npm:1.0.0"))
        );
        assert_eq!(split_specifier("a@^1"), Some(("a", "^1")));
        assert_eq!(split_specifier("a"), None);
        assert_eq!(split_specifier("@"), None);
    }
}
