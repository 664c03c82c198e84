//! Python distributions: the installed ones that pip and setuptools leave in
//! `site-packages`, and the pins that lock files and requirement files
//! declare.
//!
//! Installed distributions follow the PyPA "Recording installed projects"
//! specification (`*.dist-info/` with `METADATA`, `RECORD` and
//! `direct_url.json`) and the older setuptools egg layout (`*.egg-info/`
//! with `PKG-INFO` and `installed-files.txt`, or a single `*.egg-info`
//! file). Declared packages come from `requirements*.txt`, `poetry.lock`,
//! `Pipfile.lock`, `uv.lock` and `pdm.lock`, one parser module each.
//!
//! Traps:
//! - The purl name is the distribution name lowercased with `_` replaced by
//!   `-` (package-url spec, pypi type). The package name stays as `Name:`
//!   spells it (`Django`, `Jinja2`).
//! - A pin and an installed distribution can spell one release two ways
//!   (`django==2.2.0` beside `Django-2.2.dist-info`): PEP 440 ignores
//!   trailing zeros of the release segment. A pin whose release equals an
//!   installed one takes the installed spelling, so `reconcile` reports the
//!   release once.
//! - Syft's folder globs (`*dist-info/METADATA`) also match a folder named
//!   just `dist-info` or `egg-info`. rampart matches them the same way,
//!   ignoring ASCII case.
//! - Pipfile.lock `develop` entries are left out, as Syft leaves them out.
//!   poetry, uv and pdm lock every group together and all of them are kept.

mod installed;
pub mod lockfile;
pub mod metadata;
pub mod pipfile;
pub mod record;
pub mod requirements;

use std::collections::HashMap;

use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::package::{Package, PackageType};
use crate::purl;

/// Maximum packages read from one lock or requirements file. Real lock
/// files list hundreds, so the cap only bounds the work a crafted file causes.
pub const MAX_DECLARED_PER_FILE: usize = 50_000;

/// The Python cataloger.
pub struct PythonCataloger;

/// The kinds of files this cataloger reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PythonFile {
    /// `*.dist-info/METADATA`.
    DistInfoMetadata,
    /// `*.egg-info/PKG-INFO`.
    EggInfoPkgInfo,
    /// A `*.egg-info` regular file: PKG-INFO content without a folder.
    EggInfoFile,
    /// `RECORD`, `installed-files.txt` or `direct_url.json` beside the
    /// metadata, read through the metadata file's folder.
    Companion,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    PdmLock,
}

/// Returns whether the last component of `folder` ends with `suffix`, ignoring
/// ASCII case (`foo-1.0.dist-info`, `dist-info`, `EGG-INFO`).
fn folder_ends_with(folder: &str, suffix: &str) -> bool {
    let name = folder.rsplit('/').next().unwrap_or(folder);
    name.len() >= suffix.len()
        && name
            .get(name.len() - suffix.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// Classifies a path by its file name and folder, without allocating.
fn classify(path: &str) -> Option<PythonFile> {
    let (folder, name) = path.rsplit_once('/')?;
    match name {
        "METADATA" if folder_ends_with(folder, "dist-info") => {
            return Some(PythonFile::DistInfoMetadata);
        }
        "PKG-INFO" if folder_ends_with(folder, "egg-info") => {
            return Some(PythonFile::EggInfoPkgInfo);
        }
        "RECORD" | "installed-files.txt" | "direct_url.json"
            if folder_ends_with(folder, "dist-info") || folder_ends_with(folder, "egg-info") =>
        {
            return Some(PythonFile::Companion);
        }
        "poetry.lock" => return Some(PythonFile::PoetryLock),
        "Pipfile.lock" => return Some(PythonFile::PipfileLock),
        "uv.lock" => return Some(PythonFile::UvLock),
        "pdm.lock" => return Some(PythonFile::PdmLock),
        _ => {}
    }
    if name.len() > ".egg-info".len() && name.ends_with(".egg-info") {
        return Some(PythonFile::EggInfoFile);
    }
    if name.ends_with(".txt") && name.contains("requirements") {
        return Some(PythonFile::Requirements);
    }
    None
}

/// One package read from a lock or requirements file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredPackage {
    /// The name as the file spells it.
    pub name: String,
    /// The version as the file pins it, without the `==` operator.
    pub version: String,
    /// `path` or `git+URL#REV` for a package that does not come from an index.
    pub local_source: Option<String>,
}

/// Builds the purl of a PyPI distribution: the name lowercased with `_` replaced
/// by `-`, as the package-url spec prescribes for the pypi type.
pub fn pypi_purl(name: &str, version: &str) -> String {
    let name = name.to_ascii_lowercase().replace('_', "-");
    purl::build("pypi", None, &name, version, &[])
}

/// Splits a version into its release numbers and the rest (pre, post, dev
/// and local segments, lowercased). Returns `None` for a version that does
/// not start with a digit.
fn split_release(version: &str) -> Option<(Vec<u64>, String)> {
    let version = version.trim();
    let version = version.strip_prefix(['v', 'V']).unwrap_or(version);
    let end = version
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(version.len());
    let (release, rest) = version.split_at(end);
    let release = release.strip_suffix('.').unwrap_or(release);
    let mut numbers = release
        .split('.')
        .map(|part| part.parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    while numbers.len() > 1 && numbers.last() == Some(&0) {
        numbers.pop();
    }
    Some((numbers, rest.to_ascii_lowercase()))
}

/// Returns whether two versions name the same release under PEP 440 when only the
/// release segment differs by trailing zeros (`2.2` and `2.2.0`).
/// NOTE: This is not a full PEP 440 comparison. Epochs and spelling
/// variants of pre-releases (`1.0a1` against `1.0.alpha1`) compare unequal.
pub fn same_release(left: &str, right: &str) -> bool {
    if left == right {
        return true;
    }
    match (split_release(left), split_release(right)) {
        (Some(left), Some(right)) => left == right,
        _ => false,
    }
}

impl Cataloger for PythonCataloger {
    fn name(&self) -> &'static str {
        "python"
    }

    fn wants(&self, path: &str) -> bool {
        classify(path).is_some()
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        let mut files: Vec<(String, PythonFile)> = Vec::new();
        for file in context.captured_files() {
            if let Some(kind) = classify(&file.path).filter(|k| *k != PythonFile::Companion) {
                files.push((file.path.clone(), kind));
            }
        }

        let mut installed = Vec::new();
        let mut declared = Vec::new();
        for (path, kind) in files {
            let Some(content) = read_file(context, &path, output) else {
                continue;
            };
            match kind {
                PythonFile::DistInfoMetadata
                | PythonFile::EggInfoPkgInfo
                | PythonFile::EggInfoFile => {
                    let is_egg_file = kind == PythonFile::EggInfoFile;
                    if let Some(package) =
                        installed::read_installed(context, &path, &content, is_egg_file, output)
                    {
                        installed.push(package);
                    }
                }
                PythonFile::Requirements => {
                    let (packages, warnings) = requirements::parse(&content, &path);
                    output.warnings.extend(warnings);
                    declared.push((path, packages));
                }
                PythonFile::PipfileLock => {
                    let (packages, warnings) = pipfile::parse(&content, &path);
                    output.warnings.extend(warnings);
                    declared.push((path, packages));
                }
                PythonFile::PoetryLock | PythonFile::UvLock | PythonFile::PdmLock => {
                    let format = match kind {
                        PythonFile::PoetryLock => lockfile::LockFormat::Poetry,
                        PythonFile::UvLock => lockfile::LockFormat::Uv,
                        _ => lockfile::LockFormat::Pdm,
                    };
                    let (packages, warnings) = lockfile::parse(format, &content, &path);
                    output.warnings.extend(warnings);
                    declared.push((path, packages));
                }
                PythonFile::Companion => {}
            }
        }

        let declared = declared_packages(context, &installed, declared);
        output.packages.extend(installed);
        output.packages.extend(declared);
    }
}

/// Reads a captured file that may be absent. An unreadable one (not
/// captured, a symlink loop) is a warning that names it.
fn read_file(
    context: &CatalogContext,
    path: &str,
    output: &mut CatalogOutput,
) -> Option<std::sync::Arc<[u8]>> {
    match context.fs.read(path) {
        Ok(Some(data)) => Some(data.content),
        Ok(None) => None,
        Err(error) => {
            output.warnings.push(format!("python: {error}"));
            None
        }
    }
}

/// Builds the declared packages. A pin whose release equals an installed
/// distribution's takes the installed version's spelling (see the module
/// doc), so that `reconcile` recognises the two as one release.
fn declared_packages(
    context: &CatalogContext,
    installed: &[Package],
    files: Vec<(String, Vec<DeclaredPackage>)>,
) -> Vec<Package> {
    let mut installed_versions: HashMap<String, Vec<&str>> = HashMap::new();
    for package in installed {
        let key = package.name.to_ascii_lowercase().replace('_', "-");
        installed_versions
            .entry(key)
            .or_default()
            .push(package.version.as_str());
    }

    let mut packages = Vec::new();
    for (path, entries) in files {
        let location = context.location(&path);
        for entry in entries {
            let key = entry.name.to_ascii_lowercase().replace('_', "-");
            let version = installed_versions
                .get(&key)
                .and_then(|versions| {
                    versions
                        .iter()
                        .find(|installed| same_release(installed, &entry.version))
                })
                .map_or(entry.version.as_str(), |installed| installed);
            let purl = pypi_purl(&entry.name, version);
            let mut package = Package::new(PackageType::Python, &entry.name, version, purl);
            package.locations.push(location.clone());
            package.declared = true;
            package.local_source = entry.local_source;
            packages.push(package);
        }
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_installed_layouts() {
        let cases = [
            (
                "/usr/lib/python3/dist-packages/pip-23.0.1.dist-info/METADATA",
                Some(PythonFile::DistInfoMetadata),
            ),
            (
                "/site/dist-info/METADATA",
                Some(PythonFile::DistInfoMetadata),
            ),
            (
                "/site/foo.DIST-INFO/METADATA",
                Some(PythonFile::DistInfoMetadata),
            ),
            (
                "/site/requests.egg-info/PKG-INFO",
                Some(PythonFile::EggInfoPkgInfo),
            ),
            (
                "/site/requests.EGG-INFO/PKG-INFO",
                Some(PythonFile::EggInfoPkgInfo),
            ),
            (
                "/usr/lib/python2.7/Python-2.7.egg-info",
                Some(PythonFile::EggInfoFile),
            ),
            ("/site/foo.dist-info/RECORD", Some(PythonFile::Companion)),
            (
                "/site/foo.egg-info/installed-files.txt",
                Some(PythonFile::Companion),
            ),
            (
                "/site/foo.dist-info/direct_url.json",
                Some(PythonFile::Companion),
            ),
            ("/site/foo/METADATA", None),
            ("/site/foo/RECORD", None),
            ("/.egg-info", None),
        ];
        for (path, expected) in cases {
            assert_eq!(classify(path), expected, "{path}");
        }
    }

    #[test]
    fn classify_declared_files() {
        let cases = [
            ("/app/requirements.txt", Some(PythonFile::Requirements)),
            ("/app/dev-requirements.txt", Some(PythonFile::Requirements)),
            ("/app/requirements/base.txt", None),
            ("/app/requirements.in", None),
            ("/app/poetry.lock", Some(PythonFile::PoetryLock)),
            ("/app/Pipfile.lock", Some(PythonFile::PipfileLock)),
            ("/app/uv.lock", Some(PythonFile::UvLock)),
            ("/app/pdm.lock", Some(PythonFile::PdmLock)),
            ("/app/Cargo.lock", None),
        ];
        for (path, expected) in cases {
            assert_eq!(classify(path), expected, "{path}");
        }
    }

    #[test]
    fn purl_lowercases_and_dashes() {
        assert_eq!(pypi_purl("Django", "2.2"), "pkg:pypi/django@2.2");
        assert_eq!(
            pypi_purl("typing_extensions", "4.0"),
            "pkg:pypi/typing-extensions@4.0"
        );
        assert_eq!(
            pypi_purl("zope.interface", "5.0"),
            "pkg:pypi/zope.interface@5.0"
        );
    }

    #[test]
    fn same_release_ignores_trailing_zeros() {
        assert!(same_release("2.2", "2.2.0"));
        assert!(same_release("2.2.0.0", "2.2"));
        assert!(same_release("1.0rc1", "1.0.0RC1"));
        assert!(!same_release("2.2", "2.2.1"));
        assert!(!same_release("2.20", "2.2"));
        assert!(!same_release("1.0", "1.0.post1"));
        assert!(!same_release("abc", "abd"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::super::is_printable_token;
    use super::{lockfile, metadata, pipfile, record, requirements};

    proptest! {
        /// Every parser accepts arbitrary bytes without panicking, and the
        /// pins it reports have printable names.
        #[test]
        fn parsers_accept_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let _ = metadata::parse(&bytes).licenses();
            let _ = record::parse_record(&bytes, "/site");
            let _ = record::parse_installed_files(&bytes, "/site/a.egg-info");
            let _ = pipfile::parse(&bytes, "/Pipfile.lock");
            for format in [lockfile::LockFormat::Poetry, lockfile::LockFormat::Uv, lockfile::LockFormat::Pdm] {
                let _ = lockfile::parse(format, &bytes, "/x.lock");
            }
            let (packages, _) = requirements::parse(&bytes, "/requirements.txt");
            for package in packages {
                prop_assert!(is_printable_token(&package.name));
                prop_assert!(is_printable_token(&package.version));
            }
        }

        /// Requirement-shaped lines, more likely to reach the pin parser.
        #[test]
        fn requirements_accept_line_soup(lines in prop::collection::vec("[a-zA-Z0-9_.@#;\\[\\], =<>!~*\\\\-]{0,24}", 0..40)) {
            let text = lines.join("\n");
            let (packages, _) = requirements::parse(text.as_bytes(), "/requirements.txt");
            for package in packages {
                prop_assert!(is_printable_token(&package.name));
                prop_assert!(!package.version.is_empty());
            }
        }

        /// Joined paths never climb above the root and are always absolute.
        #[test]
        fn resolved_paths_stay_inside(relative in "[a-z./]{0,30}") {
            if let Some(path) = record::resolve("/usr/lib/site", &relative) {
                prop_assert!(path.starts_with('/'));
                prop_assert!(!path.split('/').any(|part| part == ".." || part == "."));
            }
        }

        /// Header-shaped input for the core metadata parser.
        #[test]
        fn metadata_accepts_header_soup(lines in prop::collection::vec("(Name|Version|License|License-Expression|Classifier| |\t)?:? ?[ -~]{0,16}", 0..60)) {
            let text = lines.join("\n");
            let parsed = metadata::parse(text.as_bytes());
            for license in parsed.licenses() {
                prop_assert!(!license.contains('\n'));
            }
        }
    }
}
