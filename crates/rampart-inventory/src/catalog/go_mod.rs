//! Go module requirements declared by `go.mod` files (the syntax of
//! <https://go.dev/ref/mod#go-mod-file>, as `golang.org/x/mod/modfile`
//! reads it): `require` lines and blocks give the dependencies, `replace`
//! substitutes another module or a local directory.
//!
//! Traps:
//! - `// indirect` requirements are dependencies of dependencies that the
//!   build still uses. They are reported like direct ones.
//! - A `replace` with a version on its left applies to that version only,
//!   and one without applies to every version. Its right side is a module
//!   with a version, or a directory path without one, which has no registry
//!   identity.
//! - `exclude` removes a version from consideration and adds nothing.
//! - `go.sum` lists a hash for every module the build graph ever loaded,
//!   including test-only dependencies of dependencies that are never built.
//!   It is not read, so those modules are not reported.
//! - The module cache (`.../pkg/mod/MODULE@VERSION/go.mod`) contains the
//!   `go.mod` of every downloaded dependency. Those declare the
//!   dependencies' own requirements, not the image's, and are skipped.

use super::binary::go_buildinfo::go_purl;
use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::catalog::is_printable_token;
use crate::package::{Package, PackageType};

const FILE_NAME_SUFFIX: &str = "/go.mod";
const MODULE_CACHE: &str = "/pkg/mod/";

/// Directives that add no packages.
const IGNORED_DIRECTIVES: [&str; 7] = [
    "go",
    "toolchain",
    "exclude",
    "retract",
    "godebug",
    "tool",
    "ignore",
];

pub struct GoModCataloger;

/// One `require` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub path: String,
    pub version: String,
    pub indirect: bool,
}

/// One `replace` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    pub old_path: String,
    /// The only version replaced; `None` replaces every version.
    pub old_version: Option<String>,
    pub new_path: String,
    /// `None` for a directory path.
    pub new_version: Option<String>,
}

/// The parts of a `go.mod` file that name packages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoMod {
    pub module: Option<String>,
    pub requires: Vec<Requirement>,
    pub replaces: Vec<Replacement>,
}

/// Whether a replacement target is a directory rather than a module path,
/// by `modfile.IsDirectoryPath`: it starts with `./`, `../` or `/` (or their
/// Windows forms), is `.` or `..`, or starts with a drive letter.
pub fn is_directory_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    path == "."
        || path == ".."
        || ["./", ".\\", "../", "..\\", "/", "\\"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
}

/// Splits a line into tokens and its `//` comment. Tokens are separated by
/// white space and may be double-quoted (with backslash escapes) or
/// back-quoted. Returns `None` for an unterminated quote.
fn tokenize(line: &str) -> Option<(Vec<String>, &str)> {
    let mut tokens = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Some((tokens, ""));
        }
        if let Some(comment) = rest.strip_prefix("//") {
            return Some((tokens, comment.trim()));
        }
        let end = match rest.as_bytes()[0] {
            b'"' => {
                let bytes = rest.as_bytes();
                let mut index = 1;
                loop {
                    match bytes.get(index)? {
                        b'\\' => index += 2,
                        b'"' => break index + 1,
                        _ => index += 1,
                    }
                }
            }
            b'`' => rest[1..].find('`')? + 2,
            _ => rest
                .char_indices()
                .find(|(index, c)| {
                    c.is_whitespace() || *c == '"' || *c == '`' || rest[*index..].starts_with("//")
                })
                .map_or(rest.len(), |(index, _)| index),
        };
        let token = &rest[..end];
        let token = if token.len() >= 2 && (token.starts_with('"') || token.starts_with('`')) {
            token[1..token.len() - 1]
                .replace("\\\"", "\"")
                .replace("\\\\", "\\")
        } else {
            token.to_owned()
        };
        tokens.push(token);
        rest = &rest[end..];
    }
}

/// Parses a `go.mod` file. Malformed lines are skipped and described in the
/// second value with their line number.
pub fn parse(text: &str) -> (GoMod, Vec<String>) {
    let mut go_mod = GoMod::default();
    let mut problems = Vec::new();
    let mut block: Option<String> = None;

    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let Some((tokens, comment)) = tokenize(line) else {
            problems.push(format!("line {number}: unterminated quoted string"));
            continue;
        };
        if tokens.is_empty() {
            continue;
        }

        if let Some(verb) = &block {
            if tokens == [")"] {
                block = None;
            } else if let Err(problem) = directive(&mut go_mod, verb, &tokens, comment) {
                problems.push(format!("line {number}: {problem}"));
            }
            continue;
        }

        let verb = tokens[0].as_str();
        let known =
            matches!(verb, "module" | "require" | "replace") || IGNORED_DIRECTIVES.contains(&verb);
        if !known {
            problems.push(format!("line {number}: unknown directive {verb:?}"));
            if tokens.len() == 2 && tokens[1] == "(" {
                block = Some(String::new());
            }
            continue;
        }
        if tokens.len() == 2 && tokens[1] == "(" {
            block = Some(verb.to_owned());
            continue;
        }
        if let Err(problem) = directive(&mut go_mod, verb, &tokens[1..], comment) {
            problems.push(format!("line {number}: {problem}"));
        }
    }
    if block.is_some() {
        problems.push("a block opened with \"(\" is never closed".to_owned());
    }
    (go_mod, problems)
}

/// Applies one directive's arguments. An empty verb is the block of an
/// unknown directive, whose lines are skipped.
fn directive(
    go_mod: &mut GoMod,
    verb: &str,
    arguments: &[String],
    comment: &str,
) -> Result<(), String> {
    let valid = |token: &String| is_printable_token(token);
    match verb {
        "module" => {
            let path = arguments
                .first()
                .filter(|path| valid(path))
                .ok_or("invalid module directive")?;
            go_mod.module = Some(path.clone());
        }
        "require" => {
            let [path, version] = arguments else {
                return Err(format!(
                    "require needs a module path and a version, found {arguments:?}"
                ));
            };
            if !valid(path) || !valid(version) {
                return Err(format!("invalid requirement {path:?} {version:?}"));
            }
            go_mod.requires.push(Requirement {
                path: path.clone(),
                version: version.clone(),
                indirect: comment == "indirect" || comment.starts_with("indirect;"),
            });
        }
        "replace" => {
            let arrow = arguments
                .iter()
                .position(|token| token == "=>")
                .ok_or("replace has no \"=>\"")?;
            let (old, new) = (&arguments[..arrow], &arguments[arrow + 1..]);
            let replacement = match (old, new) {
                ([old_path, old_version @ ..], [new_path, new_version @ ..])
                    if old_version.len() <= 1 && new_version.len() <= 1 =>
                {
                    Replacement {
                        old_path: old_path.clone(),
                        old_version: old_version.first().cloned(),
                        new_path: new_path.clone(),
                        new_version: new_version.first().cloned(),
                    }
                }
                _ => return Err(format!("invalid replace {arguments:?}")),
            };
            if replacement.new_version.is_none() && !is_directory_path(&replacement.new_path) {
                return Err(format!(
                    "replacement {:?} is neither a module with a version nor a directory path",
                    replacement.new_path
                ));
            }
            go_mod.replaces.push(replacement);
        }
        _ => {}
    }
    Ok(())
}

/// Builds the packages a `go.mod` file declares, without location: each
/// requirement after its replacement.
pub fn packages(go_mod: &GoMod) -> Vec<Package> {
    go_mod
        .requires
        .iter()
        .map(|require| {
            let replacement = go_mod
                .replaces
                .iter()
                .find(|r| {
                    r.old_path == require.path && r.old_version.as_ref() == Some(&require.version)
                })
                .or_else(|| {
                    go_mod
                        .replaces
                        .iter()
                        .find(|r| r.old_path == require.path && r.old_version.is_none())
                });
            let mut package = match replacement {
                Some(replacement) if replacement.new_version.is_none() => {
                    let mut package = Package::new(
                        PackageType::Go,
                        &require.path,
                        "",
                        go_purl(&require.path, "", None),
                    );
                    package.local_source = Some("path".to_owned());
                    package
                }
                Some(replacement) => {
                    let version = replacement.new_version.as_deref().unwrap_or_default();
                    Package::new(
                        PackageType::Go,
                        &replacement.new_path,
                        version,
                        go_purl(&replacement.new_path, version, None),
                    )
                }
                None => Package::new(
                    PackageType::Go,
                    &require.path,
                    &require.version,
                    go_purl(&require.path, &require.version, None),
                ),
            };
            package.declared = true;
            package
        })
        .collect()
}

impl Cataloger for GoModCataloger {
    fn name(&self) -> &'static str {
        "go-mod"
    }

    fn wants(&self, path: &str) -> bool {
        path.ends_with(FILE_NAME_SUFFIX) && !path.contains(MODULE_CACHE)
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        for data in context.read_wanted(self, &mut output.warnings) {
            let path = data.path.as_str();
            let text = String::from_utf8_lossy(&data.content);
            let (go_mod, problems) = parse(&text);
            for problem in problems {
                output.warnings.push(format!("{path}: {problem}"));
            }
            let location = context.location(path);
            for mut package in packages(&go_mod) {
                package.locations.push(location.clone());
                output.packages.push(package);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_versions(text: &str) -> Vec<(String, String)> {
        packages(&parse(text).0)
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect()
    }

    #[test]
    fn require_lines_and_blocks() {
        let text = "module example.com/app\n\ngo 1.22\n\nrequire github.com/a/b v1.0.0\n\nrequire (\n\tgithub.com/c/d v0.2.0 // indirect\n\t\"github.com/e/f\" v1.1.0\n)\n";
        let (go_mod, problems) = parse(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(go_mod.module.as_deref(), Some("example.com/app"));
        assert_eq!(go_mod.requires.len(), 3);
        assert!(!go_mod.requires[0].indirect);
        assert!(go_mod.requires[1].indirect);
        assert_eq!(go_mod.requires[2].path, "github.com/e/f");
        let packages = packages(&go_mod);
        assert!(packages.iter().all(|p| p.declared));
        assert_eq!(packages[0].purl, "pkg:golang/github.com/a/b@v1.0.0");
    }

    #[test]
    fn replacements() {
        let text = "module x\nrequire (\n\trsc.io/quote v1.5.1\n\trsc.io/sampler v1.3.0\n\tgithub.com/aws/sdk v1.36.3\n\tgolang.org/x/text v0.3.0\n)\nreplace (\n\trsc.io/quote => rsc.io/quote v1.5.2\n\trsc.io/sampler v1.2.0 => rsc.io/sampler v1.9.9\n\tgithub.com/aws/sdk => ../../../\n\tgolang.org/x/text v0.3.0 => example.com/fork/text v0.3.9\n)\nexclude rsc.io/sampler v1.99.99\n";
        let packages = packages(&parse(text).0);
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
                ("rsc.io/quote", "v1.5.2", None),
                ("rsc.io/sampler", "v1.3.0", None),
                ("github.com/aws/sdk", "", Some("path")),
                ("example.com/fork/text", "v0.3.9", None),
            ]
        );
    }

    #[test]
    fn unknown_directive_block_is_reported() {
        // Syft's `corrupt` fixture: `require` misspelt.
        let text = "module github.com/anchore/syft\n\ngo 1.18\n\nruire (\n\tgithub.com/CycloneDX/cyclonedx-go v0.7.0\n)\n\nreplace github.com/CycloneDX/cyclonedx-go => github.com/CycloneDX/cyclonedx-go v0.6.0\n";
        let (go_mod, problems) = parse(text);
        assert!(go_mod.requires.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("line 5:"), "{problems:?}");
    }

    #[test]
    fn malformed_lines_are_reported() {
        let text = "require github.com/a/b\nrequire github.com/ok v1.0.0\nreplace github.com/x => github.com/y\nrequire \"unterminated v1\n";
        let (go_mod, problems) = parse(text);
        assert_eq!(go_mod.requires.len(), 1);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("line 1:"));
        assert!(problems[1].starts_with("line 3:"));
        assert!(problems[2].starts_with("line 4:"));
    }

    #[test]
    fn comments_and_quotes() {
        assert_eq!(
            names_versions(
                "require `github.com/q/r` v1.0.0 // comment\n// require github.com/no v1\n"
            ),
            [("github.com/q/r".to_owned(), "v1.0.0".to_owned())]
        );
    }

    #[test]
    fn directory_paths() {
        for path in ["./x", "../x", "/abs", ".", "..", "C:\\x", ".\\x"] {
            assert!(is_directory_path(path), "{path}");
        }
        for path in ["github.com/x", "x", ".x"] {
            assert!(!is_directory_path(path), "{path}");
        }
    }

    proptest::proptest! {
        /// Any text parses without panicking, and reported packages carry
        /// printable names.
        #[test]
        fn parse_accepts_directive_soup(
            lines in proptest::collection::vec("(module|require|replace|exclude|\\)|\\(|=>|//|\"|`| |\\t|[a-z./]{1,8}|v[0-9.]{1,5}){0,8}", 0..40),
        ) {
            let (go_mod, _) = parse(&lines.join("\n"));
            for package in packages(&go_mod) {
                proptest::prop_assert!(package.declared);
                proptest::prop_assert!(is_printable_token(&package.name));
            }
        }

        #[test]
        fn parse_accepts_arbitrary_text(text in "\\PC{0,512}") {
            let _ = parse(&text);
        }
    }

    #[test]
    fn module_cache_is_skipped() {
        assert!(GoModCataloger.wants("/src/app/go.mod"));
        assert!(!GoModCataloger.wants("/root/go/pkg/mod/github.com/a/b@v1.0.0/go.mod"));
        assert!(!GoModCataloger.wants("/src/app/go.sum"));
    }
}
