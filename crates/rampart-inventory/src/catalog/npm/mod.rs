//! npm packages: installed `package.json` manifests under `node_modules`,
//! and the lock files of npm, Yarn and pnpm (one file per format beside
//! this one).
//!
//! Installed packages are read from each package root's `package.json`:
//! `.../node_modules/NAME/package.json` or
//! `.../node_modules/@SCOPE/NAME/package.json`, at any depth of nested
//! `node_modules`. Lock files are read wherever they sit outside
//! `node_modules`, and their packages are reported as declared.
//!
//! Traps:
//! - An npm alias (`"string-width-cjs": "npm:string-width@^4"`) installs a
//!   package under another folder name. The real package is the manifest's
//!   `name` field, or the alias target in a lock file, never the folder.
//! - The application's own `package.json` sits outside `node_modules` and
//!   describes the application, not a dependency, so it is not reported.
//!   Lock files list it as their root entry, which is skipped too.
//! - `package.json` files also appear in sub-folders of a package
//!   (`lodash/fp/package.json`, often without a version). Only the file at
//!   a package root is a package.
//! - Lock files copied into `node_modules` (npm's hidden
//!   `node_modules/.package-lock.json`, or a dependency's own lock file)
//!   describe what is already installed or what a dependency was developed
//!   with, so they are skipped, as Syft does.
//! - Development dependencies are left out of lock files where the format
//!   marks them (`dev: true` in npm and pnpm lock files), as Syft does by
//!   default. Yarn lock files do not mark them, so they are all reported.
//! - Path, link, workspace and git dependencies have no registry identity:
//!   they get a `local_source` and are never matched against advisories.

mod package_json;
mod package_lock;
mod pnpm_lock;
mod yarn_lock;

pub use package_json::parse_manifest;
pub use package_lock::parse_package_lock;
pub use pnpm_lock::parse_pnpm_lock;
pub use yarn_lock::parse_yarn_lock;

use std::collections::HashSet;

use super::{CatalogContext, CatalogOutput, Cataloger, is_printable_token};
use crate::package::{Package, PackageType};
use crate::purl;

/// Maximum packages read from one lock file. A real lock file of a large
/// monorepo lists a few tens of thousands; the rest of a larger file is
/// dropped with a warning.
pub const MAX_LOCK_ENTRIES: usize = 200_000;

/// Maximum YAML parser events and nodes of one Yarn berry or pnpm lock
/// file. serde-saphyr 2.2's defaults (1,000,000 events, 250,000 nodes) are
/// sized for configuration files and reject the lock file of a large
/// monorepo. About 20 nodes per package leaves room for 250,000 packages.
const MAX_YAML_EVENTS: usize = 10_000_000;
const MAX_YAML_NODES: usize = 5_000_000;

/// Maximum length of an npm package name, scope included (npm's
/// `validate-npm-package-name` rule).
const MAX_NAME_LENGTH: usize = 214;

const MANIFEST: &str = "package.json";
const NODE_MODULES: &str = "node_modules";

pub struct NpmCataloger;

/// One package read from a manifest or a lock file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NpmRecord {
    /// The real package name, `@scope/name` for a scoped package.
    pub name: String,
    /// The version as the file writes it. Empty for a local dependency
    /// whose lock entry states no version.
    pub version: String,
    pub licenses: Vec<String>,
    /// `path` for a file, link or workspace dependency, `git+URL#REV` (or the
    /// URL as the file writes it) for a git dependency.
    pub local_source: Option<String>,
}

/// The records of one file and the problems found in it.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub records: Vec<NpmRecord>,
    /// Problems that did not stop the parse, with the line where known.
    pub warnings: Vec<String>,
}

impl ParsedFile {
    /// Adds a record unless the same name and version is already
    /// there, or the file already gave [`MAX_LOCK_ENTRIES`] records.
    /// Returns false once the limit is reached.
    fn push(&mut self, record: NpmRecord, seen: &mut HashSet<(String, String)>) -> bool {
        if self.records.len() >= MAX_LOCK_ENTRIES {
            return false;
        }
        let key = (record.name.clone(), record.version.clone());
        if seen.insert(key) {
            self.records.push(record);
        }
        true
    }

    fn note_truncated(&mut self) {
        self.warnings.push(format!(
            "more than {MAX_LOCK_ENTRIES} packages; the rest of the file was skipped"
        ));
    }
}

/// The lock file formats, identified by file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LockKind {
    /// `package-lock.json` or `npm-shrinkwrap.json`.
    Npm,
    Yarn,
    Pnpm,
}

/// Whether `path` is the `package.json` at the root of a package folder
/// inside `node_modules`. Cheap: string checks only, no allocation.
pub fn is_installed_manifest(path: &str) -> bool {
    let Some(folder) = path
        .strip_suffix(MANIFEST)
        .and_then(|rest| rest.strip_suffix('/'))
    else {
        return false;
    };
    let Some((parent, name)) = folder.rsplit_once('/') else {
        return false;
    };
    if name.is_empty() || name.starts_with('.') || name.starts_with('@') {
        return false;
    }
    if is_node_modules(parent) {
        return true;
    }
    match parent.rsplit_once('/') {
        Some((grandparent, scope)) => {
            scope.len() > 1 && scope.starts_with('@') && is_node_modules(grandparent)
        }
        None => false,
    }
}

/// Whether a folder path ends in a `node_modules` component.
fn is_node_modules(folder: &str) -> bool {
    folder
        .strip_suffix(NODE_MODULES)
        .is_some_and(|rest| rest.ends_with('/'))
}

/// The lock file format of `path`, or `None` when it is no lock file or
/// sits inside `node_modules`.
fn lock_kind(path: &str) -> Option<LockKind> {
    let (folder, file) = path.rsplit_once('/')?;
    let kind = match file {
        "package-lock.json" | "npm-shrinkwrap.json" => LockKind::Npm,
        "yarn.lock" => LockKind::Yarn,
        "pnpm-lock.yaml" => LockKind::Pnpm,
        _ => return None,
    };
    let inside_node_modules = folder.contains("/node_modules/") || is_node_modules(folder);
    (!inside_node_modules).then_some(kind)
}

/// Whether `name` is a plausible npm package name: `name` or `@scope/name`,
/// printable, without whitespace, at most [`MAX_NAME_LENGTH`] bytes.
pub fn is_valid_name(name: &str) -> bool {
    if name.len() > MAX_NAME_LENGTH || !is_printable_token(name) {
        return false;
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, base)) => !scope.is_empty() && !base.is_empty() && !base.contains('/'),
            None => false,
        },
        None => !name.contains('/'),
    }
}

/// Parses a YAML lock file into a JSON value. A key written twice keeps its
/// first value: Yarn writes duplicate entries that are equal. Nesting depth
/// (64), aliases and scalar bytes stay at serde-saphyr's default budget.
fn parse_yaml(content: &[u8]) -> Result<serde_json::Value, String> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = MAX_YAML_EVENTS;
    budget.max_nodes = MAX_YAML_NODES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::FirstWins;
    serde_saphyr::from_slice_with_options(content, options)
        .map_err(|error| format!("invalid YAML: {error}"))
}

/// Splits `@scope/name` into the purl namespace and name.
fn split_scope(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((scope, base)) if scope.starts_with('@') => (Some(scope), base),
        _ => (None, name),
    }
}

/// The purl of an npm package: `pkg:npm/%40scope/name@version`.
pub fn npm_purl(name: &str, version: &str) -> String {
    let (scope, base) = split_scope(name);
    purl::build("npm", scope, base, version, &[])
}

/// Reads the license names of a manifest or lock entry: a `license` string,
/// the legacy `license: {type}` object, an array of either, or the legacy
/// `licenses: [{type}]` array.
fn read_licenses(entry: &serde_json::Value) -> Vec<String> {
    let mut licenses = Vec::new();
    for field in ["license", "licenses"] {
        match entry.get(field) {
            Some(serde_json::Value::Array(items)) => {
                licenses.extend(items.iter().filter_map(license_name));
            }
            Some(value) => licenses.extend(license_name(value)),
            None => {}
        }
    }
    // Manifests that carry both fields often name the same license twice.
    let mut seen = std::collections::HashSet::new();
    licenses.retain(|license| seen.insert(license.clone()));
    licenses
}

fn license_name(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(text) => text.as_str(),
        serde_json::Value::Object(object) => object.get("type")?.as_str()?,
        _ => return None,
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The local source of a dependency from its version or resolution text:
/// `path` for `file:`, `link:`, `portal:` and `workspace:`, the text
/// itself for a git or plain URL dependency, `None` for a registry one.
fn local_source_of(spec: &str) -> Option<String> {
    const PATH_PROTOCOLS: [&str; 4] = ["file:", "link:", "portal:", "workspace:"];
    const GIT_PROTOCOLS: [&str; 6] = ["git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:"];
    if PATH_PROTOCOLS.iter().any(|p| spec.starts_with(p)) {
        return Some("path".to_owned());
    }
    let is_git = GIT_PROTOCOLS.iter().any(|p| spec.starts_with(p));
    let is_url = spec.starts_with("http://") || spec.starts_with("https://");
    // A registry tarball URL is a registry dependency; a URL to anything else
    // (a git host archive, a private server) has no registry identity.
    if is_git || (is_url && !spec.contains("/-/")) {
        return Some(spec.to_owned());
    }
    None
}

impl NpmCataloger {
    fn catalog_manifest(&self, context: &CatalogContext, path: &str, output: &mut CatalogOutput) {
        let content = match context.fs.read(path) {
            Ok(Some(data)) => data.content,
            Ok(None) => return,
            Err(error) => {
                output.warnings.push(format!("npm manifest: {error}"));
                return;
            }
        };
        let record = match parse_manifest(&content) {
            Ok(Some(record)) => record,
            Ok(None) => return,
            Err(error) => {
                output.warnings.push(format!("{path}: {error}"));
                return;
            }
        };
        output
            .packages
            .push(to_package(record, context.location(path), false));
    }

    fn catalog_lock(
        &self,
        context: &CatalogContext,
        path: &str,
        kind: LockKind,
        output: &mut CatalogOutput,
    ) {
        let content = match context.fs.read(path) {
            Ok(Some(data)) => data.content,
            Ok(None) => return,
            Err(error) => {
                output.warnings.push(format!("npm lock file: {error}"));
                return;
            }
        };
        let parsed = match kind {
            LockKind::Npm => parse_package_lock(&content),
            LockKind::Yarn => parse_yarn_lock(&content),
            LockKind::Pnpm => parse_pnpm_lock(&content),
        };
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                output.warnings.push(format!("{path}: {error}"));
                return;
            }
        };
        output
            .warnings
            .extend(parsed.warnings.iter().map(|w| format!("{path}: {w}")));
        let location = context.location(path);
        for record in parsed.records {
            output
                .packages
                .push(to_package(record, location.clone(), true));
        }
    }
}

fn to_package(record: NpmRecord, location: crate::Location, declared: bool) -> Package {
    let purl = npm_purl(&record.name, &record.version);
    let mut package = Package::new(PackageType::Npm, &record.name, &record.version, purl);
    package.licenses = record.licenses;
    package.local_source = record.local_source;
    package.locations.push(location);
    package.declared = declared;
    package
}

impl Cataloger for NpmCataloger {
    fn name(&self) -> &'static str {
        "npm"
    }

    fn wants(&self, path: &str) -> bool {
        is_installed_manifest(path) || lock_kind(path).is_some()
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        let mut manifests = Vec::new();
        let mut locks = Vec::new();
        for file in context.captured_files() {
            if is_installed_manifest(&file.path) {
                manifests.push(file.path.clone());
            } else if let Some(kind) = lock_kind(&file.path) {
                locks.push((file.path.clone(), kind));
            }
        }

        for path in &manifests {
            self.catalog_manifest(context, path, output);
        }
        for (path, kind) in &locks {
            self.catalog_lock(context, path, *kind, output);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_manifest_paths() {
        assert!(is_installed_manifest(
            "/app/node_modules/lodash/package.json"
        ));
        assert!(is_installed_manifest(
            "/app/node_modules/@babel/core/package.json"
        ));
        assert!(is_installed_manifest(
            "/app/node_modules/raw-body/node_modules/depd/package.json"
        ));
        assert!(is_installed_manifest("/node_modules/a/package.json"));
    }

    #[test]
    fn non_root_manifests_are_not_packages() {
        assert!(!is_installed_manifest("/app/package.json"));
        assert!(!is_installed_manifest(
            "/app/node_modules/lodash/fp/package.json"
        ));
        assert!(!is_installed_manifest(
            "/app/node_modules/@babel/package.json"
        ));
        assert!(!is_installed_manifest("/app/node_modules/package.json"));
        assert!(!is_installed_manifest(
            "/app/node_modules/.bin/package.json"
        ));
        assert!(!is_installed_manifest(
            "/app/my_node_modules/a/package.json"
        ));
        assert!(!is_installed_manifest("/app/node_modules/a/xpackage.json"));
        assert!(!is_installed_manifest("package.json"));
    }

    #[test]
    fn lock_files_outside_node_modules() {
        assert_eq!(lock_kind("/app/package-lock.json"), Some(LockKind::Npm));
        assert_eq!(lock_kind("/app/npm-shrinkwrap.json"), Some(LockKind::Npm));
        assert_eq!(lock_kind("/app/yarn.lock"), Some(LockKind::Yarn));
        assert_eq!(lock_kind("/app/pnpm-lock.yaml"), Some(LockKind::Pnpm));
        assert_eq!(lock_kind("/app/node_modules/.package-lock.json"), None);
        assert_eq!(lock_kind("/app/node_modules/x/yarn.lock"), None);
        assert_eq!(lock_kind("/app/Cargo.lock"), None);
    }

    #[test]
    fn scoped_purl() {
        assert_eq!(
            npm_purl("@babel/core", "7.0.0"),
            "pkg:npm/%40babel/core@7.0.0"
        );
        assert_eq!(npm_purl("lodash", "4.17.15"), "pkg:npm/lodash@4.17.15");
    }

    #[test]
    fn package_names() {
        assert!(is_valid_name("lodash"));
        assert!(is_valid_name("@babel/core"));
        assert!(!is_valid_name("@babel"));
        assert!(!is_valid_name("@/core"));
        assert!(!is_valid_name("a/b"));
        assert!(!is_valid_name("@a/b/c"));
        assert!(!is_valid_name("has space"));
        assert!(!is_valid_name(""));
    }

    #[test]
    fn local_sources() {
        assert_eq!(local_source_of("file:../lib").as_deref(), Some("path"));
        assert_eq!(local_source_of("link:packages/a").as_deref(), Some("path"));
        assert_eq!(
            local_source_of("git+ssh://git@example.com/a/b.git#0123abc").as_deref(),
            Some("git+ssh://git@example.com/a/b.git#0123abc")
        );
        assert_eq!(local_source_of("1.2.3"), None);
        assert_eq!(
            local_source_of("https://registry.example/a/-/a-1.0.0.tgz"),
            None
        );
    }

    #[test]
    fn licenses_in_every_form() {
        let value: serde_json::Value =
            serde_json::from_str(r#"{"license": {"type": "MIT", "url": "x"}}"#).unwrap();
        assert_eq!(read_licenses(&value), ["MIT"]);
        let value: serde_json::Value =
            serde_json::from_str(r#"{"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}"#)
                .unwrap();
        assert_eq!(read_licenses(&value), ["MIT", "Apache-2.0"]);
        let value: serde_json::Value =
            serde_json::from_str(r#"{"license": ["MIT", "Apache2"]}"#).unwrap();
        assert_eq!(read_licenses(&value), ["MIT", "Apache2"]);
        let value: serde_json::Value = serde_json::from_str(r#"{"license": 7}"#).unwrap();
        assert!(read_licenses(&value).is_empty());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn check(parsed: &ParsedFile) -> Result<(), TestCaseError> {
        for record in &parsed.records {
            prop_assert!(is_valid_name(&record.name));
            prop_assert!(record.local_source.is_some() || is_printable_token(&record.version));
        }
        Ok(())
    }

    proptest! {
        /// The parsers accept any bytes without panicking and only report
        /// valid names.
        #[test]
        fn parsers_accept_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let _ = parse_manifest(&bytes);
            for parsed in [parse_package_lock(&bytes), parse_yarn_lock(&bytes), parse_pnpm_lock(&bytes)]
                .into_iter()
                .flatten()
            {
                check(&parsed)?;
            }
        }

        /// Lock-shaped text, more likely to form entries than random bytes.
        #[test]
        fn parsers_accept_lock_soup(lines in prop::collection::vec(
            "( {0,4})(\"?@?[a-z]{0,3}/?[a-z]{0,3}@(npm:|workspace:|patch:)?[0-9.^]{0,5}\"?:?|version:? \"?[0-9.]{0,5}\"?|resolution: \"?[a-z@:.%3A#]{0,12}\"?|__metadata:|lockfileVersion: '?[569].0'?|packages:|/[a-z@/._()0-9]{0,16}:|dev: true|[{}\\[\\],\":]{0,4})",
            0..40,
        )) {
            let text = lines.join("\n");
            for parsed in [
                parse_package_lock(text.as_bytes()),
                parse_yarn_lock(text.as_bytes()),
                parse_pnpm_lock(text.as_bytes()),
            ]
            .into_iter()
            .flatten()
            {
                check(&parsed)?;
            }
        }

        /// Installed-manifest paths never panic the path checks.
        #[test]
        fn path_checks_accept_any_path(path in "[/a-z@._]{0,40}(package\\.json|yarn\\.lock)?") {
            let _ = is_installed_manifest(&path);
            let _ = lock_kind(&path);
        }
    }
}

/// The (name, version) pairs of a parsed lock file, sorted, for tests.
#[cfg(test)]
fn sorted_names(parsed: &ParsedFile) -> Vec<(&str, &str)> {
    let mut names: Vec<(&str, &str)> = parsed
        .records
        .iter()
        .map(|record| (record.name.as_str(), record.version.as_str()))
        .collect();
    names.sort_unstable();
    names
}
