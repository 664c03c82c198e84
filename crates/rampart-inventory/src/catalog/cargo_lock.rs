//! Rust crates declared by `Cargo.lock` (Cargo's lock file, formats 1 to 4;
//! TOML): one `[[package]]` table per crate with `name`, `version` and
//! `source`.
//!
//! Traps:
//! - `source` is `registry+URL` (git index) or `sparse+URL` (sparse index).
//!   Only the default registry's two index URLs give a crate the registry
//!   identity that advisories name. Another registry's crate has a
//!   `local_source` of `registry`.
//! - `git+URL?REF#COMMIT` is a git dependency, reported with the whole
//!   source as its `local_source`.
//! - No `source` at all means a path dependency or a workspace member (the
//!   application itself). They have no registry identity either.
//! - Crates unpacked into Cargo's own cache (`.cargo/registry/src/...`)
//!   may ship their own `Cargo.lock`, which declares nothing about the
//!   image, so those are skipped.

use serde::Deserialize;

use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::catalog::is_printable_token;
use crate::package::{Package, PackageType};
use crate::purl;

const FILE_NAME_SUFFIX: &str = "/Cargo.lock";
const CARGO_CACHES: [&str; 2] = ["/.cargo/registry/", "/.cargo/git/"];
/// The index URLs of the default registry, git and sparse protocol.
const DEFAULT_REGISTRY_SOURCES: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

pub struct CargoLockCataloger;

#[derive(Deserialize)]
struct LockFile {
    #[serde(default)]
    package: Vec<toml::Spanned<LockPackage>>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
}

/// One crate of the lock file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedCrate {
    pub name: String,
    pub version: String,
    /// `None` for the default registry, else what the crate comes from.
    pub local_source: Option<String>,
}

/// Returns the `local_source` for a `source` value.
fn local_source(source: Option<&str>) -> Option<String> {
    match source {
        None => Some("path".to_owned()),
        Some(source)
            if DEFAULT_REGISTRY_SOURCES
                .iter()
                .any(|default| default.trim_end_matches('/') == source.trim_end_matches('/')) =>
        {
            None
        }
        Some(source) if source.starts_with("registry+") || source.starts_with("sparse+") => {
            Some("registry".to_owned())
        }
        Some(source) => Some(source.to_owned()),
    }
}

/// Returns the 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// Parses a lock file. Entries without a plausible name and version are
/// skipped and described in the second value with their line. A file that
/// is not valid TOML gives no crates and one problem.
pub fn parse(text: &str) -> (Vec<LockedCrate>, Vec<String>) {
    let lock: LockFile = match toml::from_str(text) {
        Ok(lock) => lock,
        Err(error) => {
            let line = error
                .span()
                .map(|span| format!("line {}: ", line_of(text, span.start)));
            return (
                Vec::new(),
                vec![format!(
                    "{}invalid Cargo.lock: {}",
                    line.unwrap_or_default(),
                    error.message()
                )],
            );
        }
    };

    let mut crates = Vec::new();
    let mut problems = Vec::new();
    for entry in lock.package {
        let line = line_of(text, entry.span().start);
        let package = entry.into_inner();
        match (package.name, package.version) {
            (Some(name), Some(version))
                if is_printable_token(&name) && is_printable_token(&version) =>
            {
                crates.push(LockedCrate {
                    local_source: local_source(package.source.as_deref()),
                    name,
                    version,
                });
            }
            _ => problems.push(format!(
                "line {line}: package without a valid name and version was skipped"
            )),
        }
    }
    (crates, problems)
}

impl Cataloger for CargoLockCataloger {
    fn name(&self) -> &'static str {
        "cargo-lock"
    }

    fn wants(&self, path: &str) -> bool {
        path.ends_with(FILE_NAME_SUFFIX) && !CARGO_CACHES.iter().any(|cache| path.contains(cache))
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        for data in context.read_wanted(self, &mut output.warnings) {
            let path = data.path.as_str();
            let text = String::from_utf8_lossy(&data.content);
            let (crates, problems) = parse(&text);
            for problem in problems {
                output.warnings.push(format!("{path}: {problem}"));
            }
            let location = context.location(path);
            for locked in crates {
                let purl = purl::build("cargo", None, &locked.name, &locked.version, &[]);
                let mut package =
                    Package::new(PackageType::Rust, &locked.name, &locked.version, purl);
                package.declared = true;
                package.local_source = locked.local_source;
                package.locations.push(location.clone());
                output.packages.push(package);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        let text = r#"version = 3

[[package]]
name = "app"
version = "1.0.0"
dependencies = ["memchr"]

[[package]]
name = "memchr"
version = "2.7.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "78ca9ab1a0babb1e7d5695e3530886289c18cf2f87ec19a575a0abdce112e3a3"

[[package]]
name = "serde"
version = "1.0.215"
source = "sparse+https://index.crates.io/"

[[package]]
name = "internal"
version = "0.3.0"
source = "sparse+https://registry.example.internal/index/"

[[package]]
name = "regex"
version = "1.11.1"
source = "git+https://example.invalid/regex.git#1a069b9232c607b34c4937122361aa075ef573fa"
"#;
        let (crates, problems) = parse(text);
        assert!(problems.is_empty(), "{problems:?}");
        let sources: Vec<(&str, Option<&str>)> = crates
            .iter()
            .map(|c| (c.name.as_str(), c.local_source.as_deref()))
            .collect();
        assert_eq!(
            sources,
            [
                ("app", Some("path")),
                ("memchr", None),
                ("serde", None),
                ("internal", Some("registry")),
                (
                    "regex",
                    Some(
                        "git+https://example.invalid/regex.git#1a069b9232c607b34c4937122361aa075ef573fa"
                    )
                ),
            ]
        );
    }

    #[test]
    fn bad_entry_is_skipped_with_line() {
        let text = "[[package]]\nname = \"ok\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"noversion\"\n";
        let (crates, problems) = parse(text);
        assert_eq!(crates.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("line 5:"), "{problems:?}");
    }

    #[test]
    fn invalid_toml_names_line() {
        let (crates, problems) = parse("[[package]]\nname = \"x\"\nversion = \n");
        assert!(crates.is_empty());
        assert!(problems[0].starts_with("line 3:"), "{problems:?}");
    }

    proptest::proptest! {
        /// Any text parses without panicking, and kept crates have
        /// printable names and versions.
        #[test]
        fn parse_accepts_arbitrary_text(text in "(\\[\\[package\\]\\]\n|name = \"[ -~]{0,6}\"\n|version = \"[0-9.]{0,5}\"\n|source = \"[ -~]{0,12}\"\n|\\PC{0,8}){0,24}") {
            let (crates, _) = parse(&text);
            for locked in crates {
                proptest::prop_assert!(is_printable_token(&locked.name));
                proptest::prop_assert!(is_printable_token(&locked.version));
            }
        }
    }

    #[test]
    fn cargo_cache_is_skipped() {
        assert!(CargoLockCataloger.wants("/src/app/Cargo.lock"));
        assert!(!CargoLockCataloger.wants("/root/.cargo/registry/src/x/ripgrep-14.0.0/Cargo.lock"));
    }
}
