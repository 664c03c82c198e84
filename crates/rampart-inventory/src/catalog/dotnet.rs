//! .NET NuGet packages: `*.deps.json`, the dependency manifest the .NET SDK
//! writes beside a built or published application, and `packages.lock.json`,
//! NuGet's lock file (format versions 1 and 2).
//!
//! - A deps.json `libraries` object maps `NAME/VERSION` to a library whose
//!   `type` is `package` (a NuGet package, reported as installed, since its
//!   assemblies ship with the application), `project` (the application or
//!   another project of its solution, not a package), or others such as
//!   `referenceassembly` and `runtimepack`.
//! - packages.lock.json maps each target framework (`net8.0`, and
//!   runtime-specific sections such as `net8.0/linux-x64`) to the packages
//!   resolved for it, by name, with `type` (`Direct`, `Transitive`,
//!   `CentralTransitive` or `Project`) and the `resolved` version. These
//!   packages are declared.
//!
//! The purl is `pkg:nuget/NAME@VERSION`. Neither format carries licenses.
//!
//! Traps:
//! - Project entries are skipped in both files: they name the application
//!   and its sibling projects, which have no NuGet identity. Syft reports
//!   them as packages.
//! - A `referenceassembly` library without a `sha512` is a framework facade
//!   whose "version" is an assembly version such as `10.0.0.0`; it is
//!   skipped. One with a hash came from a package and is kept, as Syft
//!   keeps it.
//! - The same package appears once per target framework in a lock file,
//!   and NuGet package IDs are case-insensitive: entries are merged by
//!   lowercased name and version, keeping the first spelling.
//! - Syft also drops deps.json packages whose DLLs it cannot find on disk;
//!   rampart reports every package the manifest lists.
//! - JSON nesting is bounded by serde_json's recursion limit (128).

use std::collections::HashSet;

use serde_json::Value;

use super::{CatalogContext, CatalogOutput, Cataloger, is_printable_token};
use crate::package::{Package, PackageType};
use crate::purl;

/// Maximum number of packages read from one file. Large applications list
/// a few thousand; the limit bounds the work a crafted file can cause.
pub const MAX_PACKAGES: usize = 100_000;

pub struct DotnetCataloger;

/// A NuGet package identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NugetPackage {
    pub name: String,
    pub version: String,
}

/// Packages read from one file, and the entries that were skipped, each
/// with a message naming it.
pub type Parsed = (Vec<NugetPackage>, Vec<String>);

fn is_deps_json(path: &str) -> bool {
    path.ends_with(".deps.json")
}

fn is_packages_lock(path: &str) -> bool {
    path.ends_with("/packages.lock.json")
}

fn parse_object(content: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_slice(content) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("not a JSON object".to_owned()),
        Err(error) => Err(format!("invalid JSON: {error}")),
    }
}

/// Reads the `package` libraries of a deps.json. Returns an error message
/// when the file is not a JSON object with a `libraries` object.
pub fn parse_deps_json(content: &[u8]) -> Result<Parsed, String> {
    let document = parse_object(content)?;
    let Some(Value::Object(libraries)) = document.get("libraries") else {
        return Err("no \"libraries\" object".to_owned());
    };

    let mut packages = Vec::new();
    let mut problems = Vec::new();
    for (key, library) in libraries {
        if packages.len() >= MAX_PACKAGES {
            problems.push(format!(
                "more than {MAX_PACKAGES} libraries, the rest is not read"
            ));
            break;
        }
        let kind = library.get("type").and_then(Value::as_str).unwrap_or("");
        let has_hash = library
            .get("sha512")
            .and_then(Value::as_str)
            .is_some_and(|hash| !hash.is_empty());
        let is_package = kind.eq_ignore_ascii_case("package")
            || (kind.eq_ignore_ascii_case("referenceassembly") && has_hash);
        if !is_package {
            continue;
        }
        match key.split_once('/') {
            Some((name, version)) if is_printable_token(name) && is_printable_token(version) => {
                packages.push(NugetPackage {
                    name: name.to_owned(),
                    version: version.to_owned(),
                });
            }
            _ => problems.push(format!(
                "libraries: invalid key {key:?}, expected NAME/VERSION"
            )),
        }
    }
    Ok((packages, problems))
}

/// Reads the resolved packages of every target framework of a
/// packages.lock.json, merged across frameworks.
pub fn parse_packages_lock(content: &[u8]) -> Result<Parsed, String> {
    let document = parse_object(content)?;
    let Some(Value::Object(frameworks)) = document.get("dependencies") else {
        return Err("no \"dependencies\" object".to_owned());
    };

    let mut packages = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (framework, dependencies) in frameworks {
        let Value::Object(dependencies) = dependencies else {
            problems.push(format!("dependencies.{framework}: not an object"));
            continue;
        };
        for (name, dependency) in dependencies {
            if packages.len() >= MAX_PACKAGES {
                problems.push(format!(
                    "more than {MAX_PACKAGES} packages, the rest is not read"
                ));
                return Ok((packages, problems));
            }
            let kind = dependency.get("type").and_then(Value::as_str).unwrap_or("");
            if kind.eq_ignore_ascii_case("project") {
                continue;
            }
            let Some(version) = dependency.get("resolved").and_then(Value::as_str) else {
                problems.push(format!(
                    "dependencies.{framework}.{name}: missing \"resolved\""
                ));
                continue;
            };
            if !is_printable_token(name) || !is_printable_token(version) {
                problems.push(format!(
                    "dependencies.{framework}: invalid name {name:?} or version {version:?}"
                ));
                continue;
            }
            if seen.insert((name.to_lowercase(), version.to_owned())) {
                packages.push(NugetPackage {
                    name: name.clone(),
                    version: version.to_owned(),
                });
            }
        }
    }
    Ok((packages, problems))
}

/// `pkg:nuget/NAME@VERSION`.
pub fn nuget_purl(name: &str, version: &str) -> String {
    purl::build("nuget", None, name, version, &[])
}

impl Cataloger for DotnetCataloger {
    fn name(&self) -> &'static str {
        "dotnet"
    }

    fn wants(&self, path: &str) -> bool {
        is_deps_json(path) || is_packages_lock(path)
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        for data in context.read_wanted(self, &mut output.warnings) {
            let declared = is_packages_lock(&data.path);
            let parsed = if declared {
                parse_packages_lock(&data.content)
            } else {
                parse_deps_json(&data.content)
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
            for nuget in packages {
                let purl = nuget_purl(&nuget.name, &nuget.version);
                let mut package =
                    Package::new(PackageType::DotNet, &nuget.name, &nuget.version, purl);
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

    const DEPS: &[u8] =
        include_bytes!("../../tests/fixtures/dotnet/rootfs/app/TestLibrary.deps.json");
    const REFERENCE_ASSEMBLY: &[u8] =
        include_bytes!("../../tests/fixtures/dotnet/rootfs/srv/refasm/MyApp.deps.json");
    const LOCK: &[u8] =
        include_bytes!("../../tests/fixtures/dotnet/rootfs/src/app/packages.lock.json");

    fn find<'a>(parsed: &'a Parsed, name: &str) -> Option<&'a NugetPackage> {
        parsed.0.iter().find(|p| p.name == name)
    }

    #[test]
    fn deps_json_packages_without_projects() {
        let parsed = parse_deps_json(DEPS).unwrap();
        assert!(parsed.1.is_empty(), "{:?}", parsed.1);
        assert_eq!(parsed.0.len(), 12);
        assert_eq!(find(&parsed, "AWSSDK.Core").unwrap().version, "3.7.10.6");
        assert_eq!(find(&parsed, "Newtonsoft.Json").unwrap().version, "13.0.1");
        assert!(find(&parsed, "TestLibrary").is_none());
        assert!(find(&parsed, "TestCommon").is_none());
    }

    #[test]
    fn deps_json_reference_assemblies() {
        let parsed = parse_deps_json(REFERENCE_ASSEMBLY).unwrap();
        let found: Vec<(&str, &str)> = parsed
            .0
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(found, [("Newtonsoft.Json", "13.0.3")]);
    }

    #[test]
    fn deps_json_reference_assembly_with_hash_is_kept() {
        let json = br#"{"libraries": {"KeptRef/3.0.0": {"type": "referenceassembly", "sha512": "sha512-xyz"}, "Phantom/2.0.0.0": {"type": "referenceassembly", "sha512": ""}, "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {"type": "runtimepack"}}}"#;
        let parsed = parse_deps_json(json).unwrap();
        assert_eq!(
            parsed.0,
            [NugetPackage {
                name: "KeptRef".into(),
                version: "3.0.0".into()
            }]
        );
    }

    #[test]
    fn deps_json_bad_key_is_reported() {
        let json = br#"{"libraries": {"NoVersion": {"type": "package"}, "Good/1.0.0": {"type": "package"}}}"#;
        let (packages, problems) = parse_deps_json(json).unwrap();
        assert_eq!(packages.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("NoVersion"), "{problems:?}");
    }

    #[test]
    fn packages_lock_fixture() {
        let parsed = parse_packages_lock(LOCK).unwrap();
        assert!(parsed.1.is_empty(), "{:?}", parsed.1);
        assert_eq!(parsed.0.len(), 51);
        assert_eq!(find(&parsed, "Humanizer").unwrap().version, "2.14.1");
        assert_eq!(find(&parsed, "Newtonsoft.Json").unwrap().version, "13.0.3");
    }

    #[test]
    fn packages_lock_merges_frameworks_and_skips_projects() {
        let json = br#"{"version": 2, "dependencies": {
            "net6.0": {"Serilog": {"type": "Direct", "requested": "[2.10.0, )", "resolved": "2.10.0"},
                       "MyLib": {"type": "Project", "dependencies": {"Serilog": "[2.10.0, )"}}},
            "net8.0": {"serilog": {"type": "Transitive", "resolved": "2.10.0"},
                       "Serilog.Sinks.Console": {"type": "CentralTransitive", "requested": "[4.0.1, )", "resolved": "4.0.1"},
                       "Broken": {"type": "Direct"}}}}"#;
        let (packages, problems) = parse_packages_lock(json).unwrap();
        let found: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            found,
            [("Serilog", "2.10.0"), ("Serilog.Sinks.Console", "4.0.1")]
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("Broken"), "{problems:?}");
    }

    #[test]
    fn invalid_json_names_line() {
        let error = parse_deps_json(b"{\n\"libraries\": {\n,").unwrap_err();
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn purl() {
        assert_eq!(
            nuget_purl("Newtonsoft.Json", "13.0.1"),
            "pkg:nuget/Newtonsoft.Json@13.0.1"
        );
    }

    #[test]
    fn wants_paths() {
        let cataloger = DotnetCataloger;
        assert!(cataloger.wants("/app/MyApp.deps.json"));
        assert!(cataloger.wants("/src/app/packages.lock.json"));
        assert!(!cataloger.wants("/app/MyApp.runtimeconfig.json"));
        assert!(!cataloger.wants("/app/package-lock.json"));
    }

    proptest::proptest! {
        /// The parsers accept any bytes without panicking.
        #[test]
        fn parsers_accept_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = parse_deps_json(&bytes);
            let _ = parse_packages_lock(&bytes);
        }

        /// Right-shaped JSON with arbitrary keys: only printable names and
        /// versions come out.
        #[test]
        fn arbitrary_keys(keys in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,8}"), 0..20)) {
            let mut libraries = serde_json::Map::new();
            let mut dependencies = serde_json::Map::new();
            for (name, version) in &keys {
                libraries.insert(format!("{name}/{version}"), serde_json::json!({"type": "package"}));
                dependencies.insert(name.clone(), serde_json::json!({"type": "Direct", "resolved": version}));
            }
            let deps = serde_json::to_vec(&serde_json::json!({"libraries": libraries})).unwrap();
            let lock = serde_json::to_vec(&serde_json::json!({"dependencies": {"net8.0": dependencies}})).unwrap();
            for parsed in [parse_deps_json(&deps), parse_packages_lock(&lock)] {
                for package in parsed.unwrap().0 {
                    proptest::prop_assert!(is_printable_token(&package.name) && is_printable_token(&package.version));
                }
            }
        }
    }
}
