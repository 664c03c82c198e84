//! PHP Composer packages: `vendor/composer/installed.json`, which Composer
//! writes when it installs packages, and `composer.lock`, the lock file.
//!
//! - `installed.json` is a JSON array of package objects in Composer 1 and
//!   an object `{"packages": [...], "dev": ..., "dev-package-names": [...]}`
//!   in Composer 2. Every listed package, dev or not, is on disk, so all
//!   are installed packages.
//! - `composer.lock` lists `packages` and `packages-dev`; both are read, as
//!   declared packages.
//!
//! Each package object has `name` (`vendor/project`), `version` and
//! optionally `license` (a list, or a single string in old files), `dist`
//! and `source`. The purl is `pkg:composer/VENDOR/PROJECT@VERSION`.
//!
//! Traps:
//! - Versions are kept as Composer writes them, leading `v` included
//!   (`v1.8.1`), as Syft does; `version_normalized` is not used.
//! - A package whose `dist` or `source` has `"type": "path"` is a local path
//!   repository, not a registry package: it gets `local_source` `path`.
//! - Syft reads only `packages` from `composer.lock`; rampart also reports
//!   `packages-dev`, because a lock file alone cannot tell whether dev
//!   packages were installed.
//! - JSON nesting is bounded by serde_json's recursion limit (128).

use serde_json::Value;

use super::{CatalogContext, CatalogOutput, Cataloger, is_printable_token};
use crate::package::{Package, PackageType};
use crate::purl;

/// Maximum number of packages read from one file. Real files list at most
/// a few thousand; the limit bounds the work a crafted file can cause.
pub const MAX_PACKAGES: usize = 100_000;

/// Maximum number of licenses kept for one package.
pub const MAX_LICENSES: usize = 64;

pub struct PhpCataloger;

/// One package object of `installed.json` or `composer.lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposerPackage {
    /// `vendor/project`.
    pub name: String,
    pub version: String,
    pub licenses: Vec<String>,
    /// `path` for a package from a local path repository.
    pub local_source: Option<String>,
}

/// Packages read from one file, and the entries that were skipped, each
/// with a message naming it.
pub type Parsed = (Vec<ComposerPackage>, Vec<String>);

fn is_installed_json(path: &str) -> bool {
    path.ends_with("/composer/installed.json")
}

fn is_composer_lock(path: &str) -> bool {
    path.ends_with("/composer.lock")
}

/// Parses an `installed.json` of Composer 1 or 2. Returns an error message
/// when the file is not JSON of either shape.
pub fn parse_installed_json(content: &[u8]) -> Result<Parsed, String> {
    let document: Value =
        serde_json::from_slice(content).map_err(|error| format!("invalid JSON: {error}"))?;
    let (field, entries) = match &document {
        Value::Array(entries) => ("", entries),
        Value::Object(object) => match object.get("packages") {
            Some(Value::Array(entries)) => ("packages", entries),
            _ => return Err("no \"packages\" array (Composer 2 layout)".to_owned()),
        },
        _ => return Err("neither an array (Composer 1) nor an object (Composer 2)".to_owned()),
    };
    let mut parsed = (Vec::new(), Vec::new());
    read_entries(field, entries, &mut parsed);
    Ok(parsed)
}

/// Parses a `composer.lock`: its `packages` and `packages-dev` arrays.
pub fn parse_composer_lock(content: &[u8]) -> Result<Parsed, String> {
    let document: Value =
        serde_json::from_slice(content).map_err(|error| format!("invalid JSON: {error}"))?;
    let Value::Object(object) = &document else {
        return Err("not a JSON object".to_owned());
    };
    let mut parsed = (Vec::new(), Vec::new());
    for field in ["packages", "packages-dev"] {
        match object.get(field) {
            Some(Value::Array(entries)) => read_entries(field, entries, &mut parsed),
            None | Some(Value::Null) => {}
            Some(_) => parsed.1.push(format!("\"{field}\" is not an array")),
        }
    }
    Ok(parsed)
}

/// Reads the package objects of one array, skipping (and reporting) the
/// invalid ones.
fn read_entries(field: &str, entries: &[Value], (packages, problems): &mut Parsed) {
    for (index, entry) in entries.iter().enumerate() {
        if packages.len() >= MAX_PACKAGES {
            problems.push(format!(
                "more than {MAX_PACKAGES} packages, the rest is not read"
            ));
            return;
        }
        match read_entry(entry) {
            Ok(package) => packages.push(package),
            Err(message) => problems.push(format!("{field}[{index}]: {message}")),
        }
    }
}

fn read_entry(entry: &Value) -> Result<ComposerPackage, String> {
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .ok_or("missing \"name\"")?;
    let version = entry
        .get("version")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{name}: missing \"version\""))?;
    if !is_printable_token(name) || !is_printable_token(version) {
        return Err(format!("invalid name {name:?} or version {version:?}"));
    }

    let licenses = match entry.get("license") {
        Some(Value::String(license)) => vec![license.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .filter(|license| !license.trim().is_empty())
            .take(MAX_LICENSES)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };

    let is_path = |key: &str| {
        entry
            .get(key)
            .and_then(|origin| origin.get("type"))
            .and_then(Value::as_str)
            == Some("path")
    };
    Ok(ComposerPackage {
        name: name.to_owned(),
        version: version.to_owned(),
        licenses,
        local_source: (is_path("dist") || is_path("source")).then(|| "path".to_owned()),
    })
}

/// `pkg:composer/VENDOR/PROJECT@VERSION`; a name without a vendor has no
/// namespace.
pub fn composer_purl(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((vendor, project)) => purl::build("composer", Some(vendor), project, version, &[]),
        None => purl::build("composer", None, name, version, &[]),
    }
}

impl Cataloger for PhpCataloger {
    fn name(&self) -> &'static str {
        "php-composer"
    }

    fn wants(&self, path: &str) -> bool {
        is_installed_json(path) || is_composer_lock(path)
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        for data in context.read_wanted(self, &mut output.warnings) {
            let declared = is_composer_lock(&data.path);
            let parsed = if declared {
                parse_composer_lock(&data.content)
            } else {
                parse_installed_json(&data.content)
            };
            let (packages, problems) = match parsed {
                Ok(parsed) => parsed,
                Err(message) => {
                    output.warnings.push(format!("{}: {message}", data.path));
                    continue;
                }
            };
            for problem in problems {
                output.warnings.push(format!("{}: {problem}", data.path));
            }

            let location = context.location(&data.path);
            for composer in packages {
                let purl = composer_purl(&composer.name, &composer.version);
                let mut package =
                    Package::new(PackageType::Php, &composer.name, &composer.version, purl);
                package.licenses = composer.licenses;
                package.local_source = composer.local_source;
                package.declared = declared;
                package.locations.push(location.clone());
                output.packages.push(package);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPOSER_1: &[u8] =
        include_bytes!("../../tests/fixtures/php/rootfs/srv/legacy/vendor/composer/installed.json");
    const COMPOSER_2: &[u8] = include_bytes!(
        "../../tests/fixtures/php/rootfs/var/www/app/vendor/composer/installed.json"
    );
    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/php/rootfs/var/www/app/composer.lock");

    fn names(parsed: &Parsed) -> Vec<(&str, &str)> {
        parsed
            .0
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect()
    }

    #[test]
    fn installed_json_composer_1() {
        let parsed = parse_installed_json(COMPOSER_1).unwrap();
        assert!(parsed.1.is_empty(), "{:?}", parsed.1);
        assert_eq!(
            names(&parsed),
            [("asm89/stack-cors", "1.3.0"), ("behat/mink", "v1.8.1")]
        );
        assert_eq!(parsed.0[0].licenses, ["MIT"]);
    }

    #[test]
    fn installed_json_composer_2() {
        let parsed = parse_installed_json(COMPOSER_2).unwrap();
        assert!(parsed.1.is_empty(), "{:?}", parsed.1);
        assert_eq!(
            names(&parsed),
            [("asm89/stack-cors", "1.3.0"), ("behat/mink", "v1.8.1")]
        );
        assert_eq!(parsed.0[1].local_source, None);
    }

    #[test]
    fn lock_reads_dev_packages() {
        let parsed = parse_composer_lock(LOCK).unwrap();
        assert!(parsed.1.is_empty(), "{:?}", parsed.1);
        assert_eq!(
            names(&parsed),
            [
                ("adoy/fastcgi-client", "1.0.2"),
                ("alcaeus/mongo-php-adapter", "1.1.11"),
                ("behat/gherkin", "v4.6.2"),
                ("codeception/codeception", "4.1.6"),
            ]
        );
    }

    #[test]
    fn purl_has_vendor_namespace() {
        assert_eq!(
            composer_purl("behat/mink", "v1.8.1"),
            "pkg:composer/behat/mink@v1.8.1"
        );
        assert_eq!(composer_purl("solo", "1.0"), "pkg:composer/solo@1.0");
    }

    #[test]
    fn path_repository_is_local() {
        let lock = br#"{"packages": [{"name": "acme/local", "version": "dev-main", "dist": {"type": "path", "url": "../local"}, "license": "proprietary"}]}"#;
        let parsed = parse_composer_lock(lock).unwrap();
        assert_eq!(parsed.0[0].local_source.as_deref(), Some("path"));
        assert_eq!(parsed.0[0].licenses, ["proprietary"]);
    }

    #[test]
    fn bad_entry_is_reported_and_skipped() {
        let json = br#"{"packages": [{"name": "a/b"}, {"version": "1.0"}, {"name": "c/d", "version": "2.0"}]}"#;
        let (packages, problems) = parse_installed_json(json).unwrap();
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].name, "c/d");
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("packages[0]"), "{problems:?}");
    }

    #[test]
    fn invalid_json_names_line() {
        let error = parse_composer_lock(b"{\n\"packages\": [\n}").unwrap_err();
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn wants_paths() {
        let cataloger = PhpCataloger;
        assert!(cataloger.wants("/var/www/vendor/composer/installed.json"));
        assert!(cataloger.wants("/var/www/composer.lock"));
        assert!(!cataloger.wants("/var/www/composer.json"));
        assert!(!cataloger.wants("/var/www/installed.json"));
    }

    proptest::proptest! {
        /// The parsers accept any bytes without panicking.
        #[test]
        fn parsers_accept_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = parse_installed_json(&bytes);
            let _ = parse_composer_lock(&bytes);
        }

        /// Well-formed JSON of the right shape with arbitrary values: only
        /// printable names and versions come out.
        #[test]
        fn entries_with_arbitrary_values(values in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,8}"), 0..20)) {
            let entries: Vec<Value> = values
                .iter()
                .map(|(name, version)| serde_json::json!({"name": name, "version": version, "license": [name]}))
                .collect();
            let document = serde_json::json!({"packages": entries, "packages-dev": entries});
            let bytes = serde_json::to_vec(&document).unwrap();
            for parsed in [parse_installed_json(&bytes), parse_composer_lock(&bytes)] {
                let (packages, _) = parsed.unwrap();
                for package in packages {
                    proptest::prop_assert!(is_printable_token(&package.name) && is_printable_token(&package.version));
                    let _ = composer_purl(&package.name, &package.version);
                }
            }
        }
    }
}
