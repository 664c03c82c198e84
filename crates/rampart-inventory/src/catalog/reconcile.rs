//! Reconciles what several catalogers found in one image, so that each
//! package is reported once:
//! - A language package whose metadata file an OS package owns (pip
//!   installed by dpkg as `python3-pip`, say) is part of that OS package.
//!   Matching it again in its language ecosystem would count the same
//!   files twice, with advisories meant for another build.
//! - A package declared by a lock file or manifest and also installed in
//!   the image is reported once, as installed.

use std::collections::{BTreeSet, HashSet};

use crate::package::Package;

/// Drops the packages that another entry already reports. Returns the
/// number of language packages folded into OS packages and the number of
/// declared packages found installed.
pub fn reconcile(packages: &mut Vec<Package>) -> (usize, usize) {
    let os_files: HashSet<&str> = packages
        .iter()
        .filter(|package| package.package_type.is_os())
        .flat_map(|package| package.files.iter().map(String::as_str))
        .collect();
    let owned: BTreeSet<usize> = packages
        .iter()
        .enumerate()
        .filter(|(_, package)| !package.package_type.is_os())
        .filter(|(_, package)| {
            package
                .locations
                .first()
                .is_some_and(|location| os_files.contains(location.path.as_str()))
        })
        .map(|(index, _)| index)
        .collect();

    let installed: HashSet<(crate::PackageType, String)> = packages
        .iter()
        .enumerate()
        .filter(|(index, package)| !package.declared && !owned.contains(index))
        .map(|(_, package)| identity(package))
        .collect();
    let mut folded = 0;
    let mut duplicates = 0;
    let mut index = 0;
    packages.retain(|package| {
        let keep = if owned.contains(&index) {
            folded += 1;
            false
        } else if package.declared && installed.contains(&identity(package)) {
            duplicates += 1;
            false
        } else {
            true
        };
        index += 1;
        keep
    });
    (folded, duplicates)
}

/// The type and the purl without qualifiers or subpath: the identity that
/// a lock file entry and an installed package share.
fn identity(package: &Package) -> (crate::PackageType, String) {
    let purl = package.purl.as_str();
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    (package.package_type, purl[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::reconcile;
    use crate::package::{Location, Package, PackageType};

    fn package(package_type: PackageType, name: &str, path: &str) -> Package {
        let purl = format!("pkg:{}/{name}@1.0", package_type.purl_type());
        let mut package = Package::new(package_type, name, "1.0", purl);
        package.locations.push(Location {
            path: path.to_owned(),
            layer_diff_id: None,
        });
        package
    }

    #[test]
    fn os_owned_language_package_is_folded() {
        let mut os = package(PackageType::Deb, "python3-pip", "/var/lib/dpkg/status");
        os.files
            .push("/usr/lib/python3/dist-packages/pip-1.0.dist-info/METADATA".into());
        let pip = package(
            PackageType::Python,
            "pip",
            "/usr/lib/python3/dist-packages/pip-1.0.dist-info/METADATA",
        );
        let requests = package(
            PackageType::Python,
            "requests",
            "/usr/local/lib/python3.11/site-packages/requests-1.0.dist-info/METADATA",
        );
        let mut packages = vec![os, pip, requests];
        assert_eq!(reconcile(&mut packages), (1, 0));
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["python3-pip", "requests"]);
    }

    #[test]
    fn declared_and_installed_is_reported_once() {
        let installed = package(
            PackageType::Npm,
            "lodash",
            "/app/node_modules/lodash/package.json",
        );
        let mut declared = package(PackageType::Npm, "lodash", "/app/package-lock.json");
        declared.declared = true;
        let mut only_declared = package(PackageType::Npm, "minimist", "/app/package-lock.json");
        only_declared.declared = true;
        let mut packages = vec![installed, declared, only_declared];
        assert_eq!(reconcile(&mut packages), (0, 1));
        let paths: Vec<&str> = packages
            .iter()
            .map(|p| p.locations[0].path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "/app/node_modules/lodash/package.json",
                "/app/package-lock.json"
            ]
        );
        assert_eq!(packages[1].name, "minimist");
    }
}
