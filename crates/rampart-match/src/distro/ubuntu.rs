//! Ubuntu: like Debian, advisories name the source package and version.
//! Namespaces keep the full release (`ubuntu:22.04`).

use rampart_advisory::Namespace;
use rampart_inventory::{Distro, Package};

use super::{DistroRules, MatchKey, source_or_binary};

/// The end of standard security support of LTS and interim releases, from
/// Ubuntu's release cycle page (day precision where it gives one, else the
/// month's end).
const END_OF_LIFE: [(&str, &str); 8] = [
    ("14.04", "2019-04-30"),
    ("16.04", "2021-04-30"),
    ("18.04", "2023-05-31"),
    ("20.04", "2025-05-31"),
    ("22.04", "2027-04-30"),
    ("23.10", "2024-07-11"),
    ("24.04", "2029-04-30"),
    ("24.10", "2025-07-10"),
];

pub static RULES: DistroRules = DistroRules {
    ids: &["ubuntu"],
    namespace,
    match_key,
    end_of_life: &END_OF_LIFE,
};

fn namespace(distro: &Distro) -> Option<Namespace> {
    distro
        .version_id
        .as_deref()
        .map(|version| Namespace::distro("ubuntu", version))
}

fn match_key(package: &Package) -> MatchKey {
    let (name, version) = source_or_binary(package);
    MatchKey {
        name,
        version,
        epoch_known: true,
    }
}
