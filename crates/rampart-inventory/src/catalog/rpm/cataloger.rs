//! The rpm cataloger: finds the rpm database at its two standard locations
//! and turns each header into a package.
//!
//! Trap: the source RPM file name (`perl-5.26.3-417.el8_3.src.rpm`) carries
//! no epoch, so the source version is recorded without one. Borrowing the
//! binary package's epoch would be wrong whenever the binary has its own
//! version (perl-Errno 1.28 is built from perl 5.26.3, whose epoch is 4).

use std::collections::HashSet;

use super::{RpmDbKind, RpmHeader, parse_source_rpm, read_rpmdb};
use crate::catalog::{CatalogContext, CatalogOutput, Cataloger, introduced_in};
use crate::package::{Package, PackageType};
use crate::purl;

/// The directories of the rpm database: the classic path and the one of rpm ≥ 4.16
/// (`/usr/lib/sysimage/rpm`, used by SUSE and Fedora).
const DATABASE_DIRS: [&str; 2] = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];
const DATABASE_FILES: [&str; 3] = ["rpmdb.sqlite", "Packages.db", "Packages"];

/// Public keys imported with `rpm --import` appear as packages named
/// `gpg-pubkey`; they are not software and have no advisories.
const PUBKEY_PACKAGE: &str = "gpg-pubkey";

pub struct RpmCataloger;

/// The version as rpm prints it with `%{EVR}`: `[EPOCH:]VERSION-RELEASE`.
fn evr(header: &RpmHeader) -> String {
    match header.epoch {
        Some(epoch) => format!("{epoch}:{}-{}", header.version, header.release),
        None => format!("{}-{}", header.version, header.release),
    }
}

/// The purl namespace for a distro id, as purl and Syft name rpm vendors.
fn namespace(distro_id: &str) -> &str {
    match distro_id {
        "rhel" => "redhat",
        "ol" => "oracle",
        "amzn" => "amazon",
        "sles" | "opensuse-leap" | "opensuse-tumbleweed" => "opensuse",
        other => other,
    }
}

/// Builds the package for one header found in `database`.
pub fn package_from_header(
    context: &CatalogContext,
    header: &RpmHeader,
    database: &str,
    introduced: Option<String>,
) -> Package {
    let source = header.source_rpm.as_deref().and_then(parse_source_rpm);
    let epoch = header.epoch.map(|e| e.to_string());
    let distro = context.distro_qualifier(false);
    let purl = purl::build(
        "rpm",
        Some(context.distro.map_or("redhat", |d| namespace(&d.id))),
        &header.name,
        &format!("{}-{}", header.version, header.release),
        &[
            ("arch", header.arch.as_deref()),
            ("epoch", epoch.as_deref()),
            ("distro", distro.as_deref()),
            ("upstream", header.source_rpm.as_deref()),
        ],
    );
    Package {
        package_type: PackageType::Rpm,
        name: header.name.clone(),
        version: evr(header),
        epoch: header.epoch,
        architecture: header.arch.clone(),
        source_name: source.as_ref().map(|(name, _)| name.clone()),
        source_version: source.map(|(_, version)| version),
        licenses: header.license.iter().cloned().collect(),
        maintainer: header.vendor.clone(),
        purl,
        locations: vec![context.location(database)],
        introduced_in_layer: introduced,
        files: header.files.clone(),
        declared: false,
        local_source: None,
    }
}

impl Cataloger for RpmCataloger {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn wants(&self, path: &str) -> bool {
        DATABASE_DIRS.iter().any(|dir| {
            path.strip_prefix(dir)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|file| DATABASE_FILES.contains(&file))
        })
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        let mut seen_databases = HashSet::new();
        for dir in DATABASE_DIRS {
            // rpm uses the first database format present in a directory.
            let Some((path, kind, data)) = DATABASE_FILES.iter().find_map(|file| {
                let path = format!("{dir}/{file}");
                match context.fs.read(&path) {
                    Ok(Some(data)) => RpmDbKind::from_path(&path).map(|kind| (path, kind, data)),
                    Ok(None) => None,
                    Err(error) => {
                        output.warnings.push(format!("rpm database: {error}"));
                        None
                    }
                }
            }) else {
                continue;
            };
            // `/var/lib/rpm` is often a symbolic link to `/usr/lib/sysimage/rpm`.
            if !seen_databases.insert(data.path.clone()) {
                continue;
            }

            let headers = match read_rpmdb(kind, &data.content) {
                Ok(headers) => headers,
                Err(error) => {
                    output.warnings.push(format!(
                        "{}: {error}; its packages are missing from the inventory",
                        data.path
                    ));
                    continue;
                }
            };
            let versions: Vec<_> = context
                .fs
                .history(&path)
                .iter()
                .map(|version| {
                    let keys: HashSet<(String, String, Option<String>)> =
                        read_rpmdb(kind, &version.content)
                            .unwrap_or_default()
                            .iter()
                            .map(|h| (h.name.clone(), evr(h), h.arch.clone()))
                            .collect();
                    (version.layer, keys)
                })
                .collect();

            for header in headers.iter().filter(|h| h.name != PUBKEY_PACKAGE) {
                let key = (header.name.clone(), evr(header), header.arch.clone());
                let introduced =
                    introduced_in(&versions, &key).and_then(|layer| context.diff_id(layer));
                output
                    .packages
                    .push(package_from_header(context, header, &data.path, introduced));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rampart_image::Filesystem;

    use super::*;
    use crate::package::Distro;

    fn header(
        name: &str,
        epoch: Option<u32>,
        version: &str,
        release: &str,
        source_rpm: &str,
    ) -> RpmHeader {
        RpmHeader {
            name: name.to_owned(),
            epoch,
            version: version.to_owned(),
            release: release.to_owned(),
            arch: Some("x86_64".to_owned()),
            source_rpm: Some(source_rpm.to_owned()),
            ..RpmHeader::default()
        }
    }

    /// perl-Errno (epoch 0, version 1.28) and perl-libs (epoch 4) are both
    /// built from perl; neither epoch may leak into the source version
    /// (https://github.com/anchore/grype/issues/437).
    #[test]
    fn source_version_carries_no_binary_epoch() {
        let fs = Filesystem::new(Vec::new());
        let distro = Distro {
            id: "rhel".to_owned(),
            version_id: Some("8.3".to_owned()),
            ..Distro::default()
        };
        let context = CatalogContext::new(&fs, Some(&distro));

        let errno = package_from_header(
            &context,
            &header(
                "perl-Errno",
                Some(0),
                "1.28",
                "417.el8_3",
                "perl-5.26.3-417.el8_3.src.rpm",
            ),
            "/var/lib/rpm/Packages",
            None,
        );
        assert_eq!(errno.version, "0:1.28-417.el8_3");
        assert_eq!(errno.source_name.as_deref(), Some("perl"));
        assert_eq!(errno.source_version.as_deref(), Some("5.26.3-417.el8_3"));
        assert_eq!(
            errno.purl,
            "pkg:rpm/redhat/perl-Errno@1.28-417.el8_3?arch=x86_64&distro=rhel-8.3&epoch=0&upstream=perl-5.26.3-417.el8_3.src.rpm"
        );

        let libs = package_from_header(
            &context,
            &header(
                "perl-libs",
                Some(4),
                "5.26.3",
                "416.el8",
                "perl-5.26.3-416.el8.src.rpm",
            ),
            "/var/lib/rpm/Packages",
            None,
        );
        assert_eq!(libs.version, "4:5.26.3-416.el8");
        assert_eq!(libs.epoch, Some(4));
        assert_eq!(libs.source_version.as_deref(), Some("5.26.3-416.el8"));
    }

    #[test]
    fn wants_database_paths_only() {
        assert!(RpmCataloger.wants("/var/lib/rpm/Packages"));
        assert!(RpmCataloger.wants("/usr/lib/sysimage/rpm/rpmdb.sqlite"));
        assert!(!RpmCataloger.wants("/var/lib/rpm/Packages.bak"));
        assert!(!RpmCataloger.wants("/opt/var/lib/rpm/Packages"));
    }
}
