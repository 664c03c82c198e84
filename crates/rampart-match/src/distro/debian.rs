//! Debian: advisories (the security tracker, DSA/DLA lists, OSV `Debian:N`)
//! name the source package and its version, so binNMUs (`1.0.9-2+b6` built
//! from source `1.0.9-2`) match by the version in `Source: name (version)`.
//! Namespaces use the major version (`debian:12`); `sid` is
//! `debian:unstable`.

use rampart_advisory::Namespace;
use rampart_inventory::{Distro, Package};

use super::{DistroRules, MatchKey, source_or_binary};

/// The end of all security support (regular, then LTS), from the Debian LTS
/// schedule.
const END_OF_LIFE: [(&str, &str); 6] = [
    ("7", "2018-05-31"),
    ("8", "2020-06-30"),
    ("9", "2022-06-30"),
    ("10", "2024-06-30"),
    ("11", "2026-08-31"),
    ("12", "2028-06-30"),
];

pub static RULES: DistroRules = DistroRules {
    ids: &["debian"],
    namespace,
    match_key,
    end_of_life: &END_OF_LIFE,
};

fn namespace(distro: &Distro) -> Option<Namespace> {
    if let Some(version) = &distro.version_id {
        return Some(Namespace::distro("debian", version));
    }
    // Testing and unstable images have no VERSION_ID; the codename still
    // names the release (`trixie`, `sid`).
    distro
        .codename
        .as_deref()
        .map(|codename| Namespace::distro("debian", codename))
}

fn match_key(package: &Package) -> MatchKey {
    let (name, version) = source_or_binary(package);
    MatchKey {
        name,
        version,
        epoch_known: true,
    }
}
