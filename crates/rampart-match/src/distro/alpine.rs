//! Alpine: the secdb and OSV `Alpine:vX.Y` name the origin package (the
//! aports package a subpackage was built from, `o:` in the installed
//! database), and subpackages carry the origin's version. Namespaces use the
//! branch (`alpine:3.18` for 3.18.4).

use rampart_advisory::Namespace;
use rampart_inventory::{Distro, Package};

use super::{DistroRules, MatchKey, source_or_binary};

/// The end of security support per branch, from Alpine's releases page.
const END_OF_LIFE: [(&str, &str); 20] = [
    ("3.3", "2017-05-01"),
    ("3.4", "2018-05-01"),
    ("3.5", "2018-11-01"),
    ("3.6", "2019-05-01"),
    ("3.7", "2019-11-01"),
    ("3.8", "2020-05-01"),
    ("3.9", "2021-01-01"),
    ("3.10", "2021-05-01"),
    ("3.11", "2021-11-01"),
    ("3.12", "2022-05-01"),
    ("3.13", "2022-11-01"),
    ("3.14", "2023-05-01"),
    ("3.15", "2023-11-01"),
    ("3.16", "2024-05-23"),
    ("3.17", "2024-11-22"),
    ("3.18", "2025-05-09"),
    ("3.19", "2025-11-01"),
    ("3.20", "2026-04-01"),
    ("3.21", "2026-11-01"),
    ("3.22", "2027-05-01"),
];

pub static RULES: DistroRules = DistroRules {
    ids: &["alpine"],
    namespace,
    match_key,
    end_of_life: &END_OF_LIFE,
};

fn namespace(distro: &Distro) -> Option<Namespace> {
    distro
        .version_id
        .as_deref()
        .map(|version| Namespace::distro("alpine", version))
}

fn match_key(package: &Package) -> MatchKey {
    let (name, version) = source_or_binary(package);
    MatchKey {
        name,
        version,
        epoch_known: true,
    }
}
