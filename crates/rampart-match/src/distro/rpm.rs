//! RPM distros (RHEL and its rebuilds, Fedora, Amazon Linux, Oracle Linux,
//! SUSE): advisories name the source RPM. The source RPM's file name
//! (`perl-5.26.3-417.el8_3.src.rpm`) has no epoch, and a binary's own epoch
//! says nothing about it (perl-Errno has epoch 0 while perl has 4), so a
//! source version is compared with epochs ignored on both sides. A package
//! without a source RPM is matched by its own name with its own epoch.

use rampart_advisory::Namespace;
use rampart_inventory::{Distro, Package};

use super::{DistroRules, MatchKey};

/// The end of maintenance support, from each vendor's life-cycle page.
const END_OF_LIFE: [(&str, &str); 3] = [
    ("7", "2024-06-30"),
    ("8", "2029-05-31"),
    ("9", "2032-05-31"),
];

pub static RULES: DistroRules = DistroRules {
    ids: &[
        "rhel",
        "centos",
        "rocky",
        "almalinux",
        "ol",
        "fedora",
        "amzn",
        "sles",
        "opensuse-leap",
    ],
    namespace,
    match_key,
    end_of_life: &END_OF_LIFE,
};

fn namespace(distro: &Distro) -> Option<Namespace> {
    let version = distro.version_id.as_deref()?;
    // RHEL rebuilds publish no advisories of their own in the feeds rampart
    // reads; they use RHEL's, by major version.
    let (family, release) = match distro.id.as_str() {
        "rhel" | "centos" | "rocky" | "almalinux" => {
            ("rhel", version.split('.').next().unwrap_or(version))
        }
        "ol" => ("oracle", version.split('.').next().unwrap_or(version)),
        "amzn" => ("amazon", version),
        other => (other, version),
    };
    Some(Namespace::distro(family, release))
}

fn match_key(package: &Package) -> MatchKey {
    match (&package.source_name, &package.source_version) {
        (Some(name), Some(version)) => MatchKey {
            name: name.clone(),
            version: version.clone(),
            epoch_known: false,
        },
        _ => {
            let version = match package.epoch {
                Some(epoch) if !package.version.contains(':') => {
                    format!("{epoch}:{}", package.version)
                }
                _ => package.version.clone(),
            };
            MatchKey {
                name: package.name.clone(),
                version,
                epoch_known: true,
            }
        }
    }
}
