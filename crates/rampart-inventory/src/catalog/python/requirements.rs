//! pip requirement files (`requirements*.txt`, pip's "Requirements File
//! Format" over PEP 508 requirement specifiers). Only pinned requirements
//! (`name==VERSION` or `name===VERSION`) name one release, so only those
//! become packages.
//!
//! Traps:
//! - A line ending with `\` continues on the next line, typically with
//!   `--hash=` options.
//! - `#` starts a comment only at the start of a line or after whitespace,
//!   because URLs carry `#egg=` fragments.
//! - Lines starting with `-` are options (`-r`, `-c`, `-e`, `--index-url`).
//! - `;` starts environment markers, and `[extra,...]` follows the name.
//! - `name @ URL` is a direct reference with no version. It is skipped
//!   unless a pin precedes the `@`, which pip rejects but real files carry.

use super::super::{is_printable_token, lines};
use super::{DeclaredPackage, MAX_DECLARED_PER_FILE};

/// Joins continuation lines. Returns (first line number, logical line).
fn logical_lines(content: &[u8]) -> Vec<(usize, String)> {
    let mut logical = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (index, line) in lines(content).enumerate() {
        let line = String::from_utf8_lossy(line);
        if current.is_empty() {
            start = index + 1;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(&line);
                logical.push((start, std::mem::take(&mut current)));
            }
        }
    }
    if !current.is_empty() {
        logical.push((start, current));
    }
    logical
}

/// Removes a comment: `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    let bytes = line.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'#' && index > 0 && bytes[index - 1].is_ascii_whitespace() {
            return &line[..index];
        }
    }
    line
}

/// Returns whether a PEP 508 project name is valid: ASCII letters, digits, `.`,
/// `-` and `_`, starting and ending with a letter or digit.
fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    edge(bytes.first())
        && edge(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(b))
}

/// The outcome of reading one logical line.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Pinned(DeclaredPackage),
    /// A requirement that names no single release (unpinned, a wildcard,
    /// a direct reference without a version), or an option line.
    Skipped,
    /// A line that is not a requirement, with the reason.
    Invalid(&'static str),
}

/// Reads one logical line.
fn parse_line(line: &str) -> Line {
    let line = strip_comment(line).trim();
    if line.is_empty() || line.starts_with('-') {
        return Line::Skipped;
    }
    let line = line.split(';').next().unwrap_or(line);
    let line = line.split(" --").next().unwrap_or(line);
    let line = line.split("\t--").next().unwrap_or(line);
    let (requirement, url) = match line.split_once('@') {
        Some((requirement, url)) => (requirement, Some(url.trim())),
        None => (line, None),
    };

    let requirement = requirement.trim();
    let name_end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || ".-_".contains(c)))
        .unwrap_or(requirement.len());
    let (name, mut rest) = requirement.split_at(name_end);
    if !is_valid_name(name) {
        return Line::Invalid("no valid project name");
    }
    rest = rest.trim_start();
    if rest.starts_with('[') {
        let Some(close) = rest.find(']') else {
            return Line::Invalid("unclosed extras bracket");
        };
        rest = &rest[close + 1..];
    }

    let clauses: Vec<&str> = rest.split(',').map(str::trim).collect();
    let [clause] = clauses.as_slice() else {
        return Line::Skipped;
    };
    let version = match clause.strip_prefix("===") {
        Some(version) => version,
        None => match clause.strip_prefix("==") {
            Some(version) => version,
            None => return Line::Skipped,
        },
    };
    let version = version.trim();
    if version.contains('*') || !is_printable_token(version) {
        return Line::Skipped;
    }
    Line::Pinned(DeclaredPackage {
        name: name.to_owned(),
        version: version.to_owned(),
        local_source: url.filter(|u| !u.is_empty()).map(str::to_owned),
    })
}

/// Parses a requirements file. Returns the pinned packages and warnings
/// naming `path` and the line of each invalid requirement.
pub fn parse(content: &[u8], path: &str) -> (Vec<DeclaredPackage>, Vec<String>) {
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    for (number, line) in logical_lines(content) {
        match parse_line(&line) {
            Line::Pinned(package) => {
                if packages.len() == MAX_DECLARED_PER_FILE {
                    warnings.push(format!(
                        "{path}: line {number}: more than {MAX_DECLARED_PER_FILE} requirements; the rest is skipped"
                    ));
                    break;
                }
                packages.push(package);
            }
            Line::Skipped => {}
            Line::Invalid(reason) => {
                warnings.push(format!(
                    "{path}: line {number}: {reason}; requirement skipped"
                ));
            }
        }
    }
    (packages, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned(name: &str, version: &str) -> Line {
        Line::Pinned(DeclaredPackage {
            name: name.to_owned(),
            version: version.to_owned(),
            local_source: None,
        })
    }

    #[test]
    fn pins_and_skips() {
        let cases = [
            (" flask == 4.0.0", pinned("flask", "4.0.0")),
            ("urllib3===1.26.20", pinned("urllib3", "1.26.20")),
            ("foo == 1.0.0 # comment", pinned("foo", "1.0.0")),
            (
                "SomeProject ==5.4 ; python_version < '3.8'",
                pinned("SomeProject", "5.4"),
            ),
            ("celery[redis, pytest] == 4.4.7", pinned("celery", "4.4.7")),
            (
                "local-version == 1.2.3+gcr.2",
                pinned("local-version", "1.2.3+gcr.2"),
            ),
            ("argh==0.26.3 --hash=sha256:a9b3", pinned("argh", "0.26.3")),
            (
                "requests[security] == 2.8.* ; python_version < \"2.7\"",
                Line::Skipped,
            ),
            ("sqlalchemy >= 1.0.0, <= 2.0.0", Line::Skipped),
            ("coverage != 3.5", Line::Skipped),
            ("numpyNew; sys_platform == 'win32'", Line::Skipped),
            ("-r other.txt", Line::Skipped),
            ("-e git+https://example.invalid/x.git#egg=x", Line::Skipped),
            ("# a == 1", Line::Skipped),
            (
                "pkg @ https://example.invalid/pkg.whl#sha256=ab",
                Line::Skipped,
            ),
            ("==2.3.4", Line::Invalid("no valid project name")),
            (
                "celery[redis == 4.4.7",
                Line::Invalid("unclosed extras bracket"),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_line(line), expected, "{line}");
        }
    }

    #[test]
    fn pinned_direct_reference_is_local() {
        let line =
            "GithubSampleProject == 3.7.1 @ git+https://github.com/owner/repo@releases/tag/v3.7.1";
        let Line::Pinned(package) = parse_line(line) else {
            panic!("not pinned");
        };
        assert_eq!(package.version, "3.7.1");
        assert_eq!(
            package.local_source.as_deref(),
            Some("git+https://github.com/owner/repo@releases/tag/v3.7.1")
        );
    }

    #[test]
    fn continuation_lines_join() {
        let text = b"argh==0.26.2 \\\n  --hash=sha256:a9 \\\n  --hash=sha256:e9\nbar >= 1.0, \\\n  != 3.0\nbaz==1\n";
        let (packages, warnings) = parse(text, "/app/requirements.txt");
        let found: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(found, [("argh", "0.26.2"), ("baz", "1")]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn warning_names_file_and_line() {
        let (_, warnings) = parse(b"a==1\n\n==2.3.4\n", "/app/requirements.txt");
        assert_eq!(
            warnings,
            ["/app/requirements.txt: line 3: no valid project name; requirement skipped"]
        );
    }
}
