//! Per-distro matching rules, one module per distro family: which
//! namespace an image's release reads, which name and version of an
//! installed package are compared with advisories (the source package for
//! Debian, Ubuntu and RPM distros, the origin for Alpine), and when a release
//! reached its end of life.

mod alpine;
mod debian;
mod rpm;
mod ubuntu;

use chrono::NaiveDate;
use rampart_advisory::Namespace;
use rampart_inventory::{Distro, Package};

/// The name and version of an installed package as advisories name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchKey {
    pub name: String,
    pub version: String,
    /// False when the version's epoch is unknown, as for an RPM source
    /// package, whose file name carries no epoch. Comparisons then ignore
    /// epochs on both sides instead of assuming 0.
    pub epoch_known: bool,
}

/// The rules of one distro family.
pub struct DistroRules {
    /// The `ID` values of os-release this family covers.
    pub ids: &'static [&'static str],
    /// Returns the namespace of a release, or `None` when the release is
    /// unknown (no `VERSION_ID`).
    pub namespace: fn(&Distro) -> Option<Namespace>,
    /// Returns what advisories call the package.
    pub match_key: fn(&Package) -> MatchKey,
    /// Releases and the dates their security support ended.
    pub end_of_life: &'static [(&'static str, &'static str)],
}

const FAMILIES: [&DistroRules; 4] = [&debian::RULES, &ubuntu::RULES, &alpine::RULES, &rpm::RULES];

/// Returns the rules for a distro, by `ID` and then by `ID_LIKE`.
pub fn rules_for(distro: &Distro) -> Option<&'static DistroRules> {
    let by_id = |id: &str| FAMILIES.into_iter().find(|rules| rules.ids.contains(&id));
    by_id(&distro.id).or_else(|| distro.id_like.iter().find_map(|id| by_id(id)))
}

impl DistroRules {
    /// Returns the end-of-life date of the namespace's release, when known.
    pub fn end_of_life_date(&self, namespace: &Namespace) -> Option<NaiveDate> {
        let release = namespace.as_str().split_once(':')?.1;
        self.end_of_life
            .iter()
            .find(|(name, _)| *name == release)
            .and_then(|(_, date)| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
    }
}

/// The source package name and version when the cataloger recorded them,
/// else the binary's own.
fn source_or_binary(package: &Package) -> (String, String) {
    let name = package
        .source_name
        .clone()
        .unwrap_or_else(|| package.name.clone());
    let version = package
        .source_version
        .clone()
        .unwrap_or_else(|| package.version.clone());
    (name, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(id: &str, version: Option<&str>) -> Distro {
        Distro {
            id: id.to_owned(),
            version_id: version.map(str::to_owned),
            ..Distro::default()
        }
    }

    #[test]
    fn families_by_id() {
        let debian = rules_for(&distro("debian", Some("12"))).unwrap();
        assert_eq!(
            (debian.namespace)(&distro("debian", Some("12")))
                .unwrap()
                .as_str(),
            "debian:12"
        );
        let alpine = rules_for(&distro("alpine", Some("3.10.9"))).unwrap();
        assert_eq!(
            (alpine.namespace)(&distro("alpine", Some("3.10.9")))
                .unwrap()
                .as_str(),
            "alpine:3.10"
        );
    }

    #[test]
    fn family_by_id_like() {
        let mut derivative = distro("pureos", Some("10"));
        derivative.id_like = vec!["debian".to_owned()];
        assert!(rules_for(&derivative).is_some());
    }

    #[test]
    fn unknown_distro_has_no_rules() {
        assert!(rules_for(&distro("plan9", Some("4"))).is_none());
    }

    #[test]
    fn end_of_life_dates() {
        let alpine = rules_for(&distro("alpine", Some("3.10"))).unwrap();
        let date = alpine.end_of_life_date(&Namespace::distro("alpine", "3.10"));
        assert_eq!(date, NaiveDate::from_ymd_opt(2021, 5, 1));
    }
}
