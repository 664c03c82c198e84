//! The inventory model: what rampart found in an image, independent of any
//! SBOM format.

use serde::{Deserialize, Serialize};

/// The packaging system a package belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageType {
    Apk,
    Deb,
    Rpm,
    /// Python distributions (PyPI).
    Python,
    /// npm packages.
    Npm,
    /// Go modules.
    Go,
    /// Rust crates (crates.io).
    Rust,
    /// Java archives (Maven coordinates).
    Java,
    /// Ruby gems.
    Ruby,
    /// PHP Composer packages (Packagist).
    Php,
    /// .NET NuGet packages.
    DotNet,
}

impl PackageType {
    /// Every type with its purl type.
    pub const PURL_TYPES: [(PackageType, &'static str); 11] = [
        (PackageType::Apk, "apk"),
        (PackageType::Deb, "deb"),
        (PackageType::Rpm, "rpm"),
        (PackageType::Python, "pypi"),
        (PackageType::Npm, "npm"),
        (PackageType::Go, "golang"),
        (PackageType::Rust, "cargo"),
        (PackageType::Java, "maven"),
        (PackageType::Ruby, "gem"),
        (PackageType::Php, "composer"),
        (PackageType::DotNet, "nuget"),
    ];

    /// The purl type (package-url spec, `PURL-TYPES.rst`).
    pub fn purl_type(self) -> &'static str {
        PackageType::PURL_TYPES
            .iter()
            .find(|(package_type, _)| *package_type == self)
            .map_or("generic", |(_, purl_type)| purl_type)
    }

    /// Returns the type of a purl type, or `None` for a type rampart does not catalog.
    pub fn from_purl_type(purl_type: &str) -> Option<PackageType> {
        PackageType::PURL_TYPES
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(purl_type))
            .map(|(package_type, _)| *package_type)
    }

    /// Whether the package manager belongs to the operating system.
    pub fn is_os(self) -> bool {
        matches!(self, PackageType::Apk | PackageType::Deb | PackageType::Rpm)
    }
}

/// The place a package was found: the database or metadata file and the
/// layer that last wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Absolute path inside the image.
    pub path: String,
    /// diff_id of the layer that last wrote the file; absent for a plain directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_diff_id: Option<String>,
}

/// One installed package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    #[serde(rename = "type")]
    pub package_type: PackageType,
    pub name: String,
    /// The version as the package manager prints it. For rpm this is
    /// `[EPOCH:]VERSION-RELEASE`; for dpkg the full `[EPOCH:]UPSTREAM[-REVISION]`.
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The source package (dpkg `Source:`, apk origin, rpm source RPM name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The source package version when it differs from or cannot be derived
    /// from the binary version. For rpm it carries no epoch, because the
    /// source RPM file name has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// License expressions or names, as the database states them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintainer: Option<String>,
    /// Package URL (purl), including version and qualifiers.
    pub purl: String,
    /// The database or metadata file(s) that list the package.
    pub locations: Vec<Location>,
    /// diff_id of the layer in which the package first appeared at this
    /// version and stayed until the final image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced_in_layer: Option<String>,
    /// Absolute paths of the files the package owns, where the database lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Whether the package is only declared by a lock file or manifest, not
    /// found installed. A declared package that is also installed in the
    /// image is reported once, as installed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub declared: bool,
    /// The origin of a language package that does not come from its
    /// ecosystem's registry: `path` for a local path dependency, `git+URL`
    /// for a git dependency. Such a package has no registry identity, so it
    /// is never matched against registry advisories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_source: Option<String>,
}

impl Package {
    /// A package with the given identity and no other facts.
    pub fn new(package_type: PackageType, name: &str, version: &str, purl: String) -> Package {
        Package {
            package_type,
            name: name.to_owned(),
            version: version.to_owned(),
            epoch: None,
            architecture: None,
            source_name: None,
            source_version: None,
            licenses: Vec::new(),
            maintainer: None,
            purl,
            locations: Vec::new(),
            introduced_in_layer: None,
            files: Vec::new(),
            declared: false,
            local_source: None,
        }
    }

    /// A key that identifies the package within one image: purl plus the
    /// first location, so the same package found in two places stays two entries.
    pub fn sort_key(&self) -> (PackageType, &str, &str, &str, &str) {
        let path = self.locations.first().map_or("", |l| l.path.as_str());
        (
            self.package_type,
            &self.name,
            &self.version,
            self.architecture.as_deref().unwrap_or(""),
            path,
        )
    }
}

/// The operating system release detected in the image.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// `ID` from os-release, e.g. `alpine`, `debian`, `rhel`.
    pub id: String,
    /// `VERSION_ID`, e.g. `3.10.9`, `12`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    /// The full point release where the distro records one, e.g. `12.15` from
    /// `/etc/debian_version` or `3.10.9` from `/etc/alpine-release`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_release: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// The file the release was read from.
    pub source_file: String,
}
