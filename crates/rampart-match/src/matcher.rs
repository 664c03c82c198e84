//! Matching an inventory against the database.
//!
//! Each package is looked up once by (namespace, name): OS packages in the
//! namespace of the image's distro release with the distro's match key
//! (see [`crate::distro`]), language packages in the OSV ecosystem of their
//! purl type. Every returned entry is evaluated with the namespace's version
//! scheme only. Matches of one package are grouped by vulnerability (a CVE
//! and the DSA that fixes it are one finding), and the distro's own record
//! decides status and fixed version.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rampart_advisory::store::{Database, PackageAdvisory, StoreError};
use rampart_advisory::{Advisory, Namespace, Severity, Status};
use rampart_inventory::{Inventory, Package};
use rampart_version::osv::{Event, Range, RangeType, evaluate};
use rayon::prelude::*;
use tracing::debug;

use crate::distro::{self, MatchKey};
use crate::finding::{AdvisoryRef, Finding, MatchedPackage};
use crate::language::{namespace_for_purl, parse_purl};
use crate::severity;

/// References kept per finding.
const MAX_URLS: usize = 5;

/// The findings of a match run, with the warnings a reader must see.
#[derive(Clone, Debug, Default)]
pub struct MatchOutcome {
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    /// The distro namespace the OS packages were matched in.
    pub os_namespace: Option<String>,
    /// Packages that were looked up.
    pub packages_checked: usize,
    /// Packages that could not be looked up (no namespace for them).
    pub packages_skipped: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The matches of one package: its index in the inventory, where and under
/// which key it was looked up, the matched entries and evaluation warnings.
type PackageMatches = (usize, Namespace, MatchKey, Vec<RawMatch>, Vec<String>);

/// One advisory entry that affects one package.
struct RawMatch {
    record: PackageAdvisory,
    status: Status,
    fixed_version: Option<String>,
}

/// Matches every package of `inventory`. `now` decides end-of-life warnings.
pub fn match_inventory(
    database: &Database,
    inventory: &Inventory,
    now: DateTime<Utc>,
) -> Result<MatchOutcome, MatchError> {
    let mut outcome = MatchOutcome::default();
    let os_namespace = os_namespace(database, inventory, now, &mut outcome.warnings);
    outcome.os_namespace = os_namespace.as_ref().map(Namespace::to_string);

    let targets: Vec<(usize, Namespace, MatchKey)> = inventory
        .packages
        .iter()
        .enumerate()
        .filter_map(|(index, package)| {
            target_of(package, os_namespace.as_ref())
                .map(|(namespace, key)| (index, namespace, key))
        })
        .collect();
    outcome.packages_checked = targets.len();
    outcome.packages_skipped = inventory.packages.len() - targets.len();
    warn_about_missing_ecosystems(
        database,
        &targets,
        os_namespace.as_ref(),
        &mut outcome.warnings,
    );

    let per_package: Vec<Result<PackageMatches, StoreError>> = targets
        .into_par_iter()
        .map(|(index, namespace, key)| {
            let (matches, warnings) = match_package(database, &namespace, &key)?;
            Ok((index, namespace, key, matches, warnings))
        })
        .collect();

    let mut records_cache: HashMap<String, Vec<Advisory>> = HashMap::new();
    let mut warnings = BTreeSet::new();
    for result in per_package {
        let (index, namespace, key, matches, package_warnings) = result?;
        warnings.extend(package_warnings);
        let package = &inventory.packages[index];
        for (id, group) in group_by_vulnerability(matches) {
            let finding = build_finding(
                database,
                &mut records_cache,
                &id,
                group,
                package,
                &namespace,
                &key,
            )?;
            outcome.findings.push(finding);
        }
    }
    outcome.warnings.extend(warnings);

    outcome.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.purl.cmp(&b.package.purl))
    });
    Ok(outcome)
}

/// Finds the namespace of the image's OS release and warns when the
/// database has no data for it or the release is past its end of life.
fn os_namespace(
    database: &Database,
    inventory: &Inventory,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Option<Namespace> {
    let has_os_packages = inventory.packages.iter().any(|p| p.package_type.is_os());
    let distro = inventory.distro.as_ref()?;
    let Some(rules) = distro::rules_for(distro) else {
        if has_os_packages {
            warnings.push(format!(
                "the distro {:?} has no matching rules in rampart; its OS packages were not checked",
                distro.id
            ));
        }
        return None;
    };
    let Some(namespace) = (rules.namespace)(distro) else {
        warnings.push(format!(
            "the {} release could not be told from {} (no VERSION_ID); OS packages were not checked",
            distro.id, distro.source_file
        ));
        return None;
    };
    if has_os_packages && !database.has_namespace(&namespace) {
        warnings.push(format!(
            "the database has no advisories for {namespace}; OS packages were not checked. Build \
             the database with a feed that covers this release (`rampart db update`, or `rampart \
             db build --from` with its files)"
        ));
    }
    if let Some(date) = rules.end_of_life_date(&namespace)
        && now.date_naive() > date
    {
        warnings.push(format!(
            "{namespace} reached its end of life on {date}; it gets no security fixes, so \
             findings may be missing from the feeds and unfixed ones will stay unfixed"
        ));
    }
    Some(namespace)
}

/// Warns once per language ecosystem that has packages in the inventory but
/// no advisories in the database, so their silence is not read as safety.
fn warn_about_missing_ecosystems(
    database: &Database,
    targets: &[(usize, Namespace, MatchKey)],
    os_namespace: Option<&Namespace>,
    warnings: &mut Vec<String>,
) {
    let mut counts: BTreeMap<&Namespace, usize> = BTreeMap::new();
    for (_, namespace, _) in targets {
        if Some(namespace) != os_namespace {
            *counts.entry(namespace).or_default() += 1;
        }
    }
    for (namespace, count) in counts {
        if !database.has_namespace(namespace) {
            warnings.push(format!(
                "the database has no advisories for {namespace}; {count} {namespace} package(s) \
                 were not checked. Build the database with that ecosystem's feed"
            ));
        }
    }
}

/// Returns where and under which name and version a package is looked up.
fn target_of(package: &Package, os_namespace: Option<&Namespace>) -> Option<(Namespace, MatchKey)> {
    if package.package_type.is_os() {
        let namespace = os_namespace?;
        let rules = distro_rules_for_namespace(namespace)?;
        let key = (rules.match_key)(package);
        return Some((namespace.clone(), key));
    }
    // A path or git dependency shares only its name with the registry
    // package, so registry advisories do not apply to it.
    if package.local_source.is_some() {
        return None;
    }
    let parts = parse_purl(&package.purl)?;
    let (namespace, name) = namespace_for_purl(&parts)?;
    Some((
        namespace,
        MatchKey {
            name,
            version: package.version.clone(),
            epoch_known: true,
        },
    ))
}

fn distro_rules_for_namespace(namespace: &Namespace) -> Option<&'static distro::DistroRules> {
    let family = namespace.family();
    let probe = rampart_inventory::Distro {
        id: match family {
            "oracle" => "ol".to_owned(),
            "amazon" => "amzn".to_owned(),
            other => other.to_owned(),
        },
        ..rampart_inventory::Distro::default()
    };
    distro::rules_for(&probe)
}

/// Looks one package up and evaluates every entry.
fn match_package(
    database: &Database,
    namespace: &Namespace,
    key: &MatchKey,
) -> Result<(Vec<RawMatch>, Vec<String>), StoreError> {
    let mut warnings = Vec::new();
    let Some(scheme) = namespace.scheme() else {
        return Ok((Vec::new(), warnings));
    };
    let name = namespace.normalize_package(&key.name);

    // Entries are evaluated as the store decodes them in place; only those
    // that affect the installed version become owned records.
    let selected = database.affected_matching(namespace, &name, |entry| {
        let (affected, fixed_version) = match entry.status {
            Status::NotAffected | Status::Undetermined => return None,
            Status::NotFixed | Status::WontFix | Status::EndOfLife
                if entry.ranges.is_empty() && entry.versions.is_empty() =>
            {
                (true, None)
            }
            _ => {
                let evaluation = if key.epoch_known {
                    evaluate(scheme, &key.version, &entry.ranges, &entry.versions)
                } else {
                    let ranges = without_epochs(&entry.ranges);
                    evaluate(scheme, &key.version, &ranges, &entry.versions)
                };
                match evaluation {
                    Ok(evaluation) => (evaluation.affected, evaluation.fixed_version),
                    Err(error) => {
                        warnings.push(format!(
                            "{} {} in {namespace}: {} {} not evaluated: {error}",
                            key.name, key.version, entry.source, entry.id
                        ));
                        return None;
                    }
                }
            }
        };
        if !affected {
            return None;
        }
        let status = match (entry.status, &fixed_version) {
            (Status::Affected | Status::Fixed, Some(_)) => Status::Fixed,
            (Status::Affected | Status::Fixed, None) => Status::NotFixed,
            (status, _) => status,
        };
        Some((status, fixed_version))
    })?;

    let matches: Vec<RawMatch> = selected
        .into_iter()
        .map(|(record, (status, fixed_version))| RawMatch {
            record,
            status,
            fixed_version,
        })
        .collect();
    if !matches.is_empty() {
        debug!(package = %key.name, version = %key.version, %namespace, matches = matches.len(), "matched");
    }
    Ok((matches, warnings))
}

/// Drops the epoch of every event version, for packages whose own epoch is
/// unknown (see the RPM rules).
fn without_epochs<S: AsRef<str>>(ranges: &[Range<S>]) -> Vec<Range> {
    let strip = |version: &str| match version.split_once(':') {
        Some((epoch, rest)) if epoch.chars().all(|c| c.is_ascii_digit()) => rest.to_owned(),
        _ => version.to_owned(),
    };
    ranges
        .iter()
        .map(|range| Range {
            range_type: range.range_type,
            events: range
                .events
                .iter()
                .map(|event| match event {
                    Event::Introduced(v) => Event::Introduced(strip(v.as_ref())),
                    Event::Fixed(v) => Event::Fixed(strip(v.as_ref())),
                    Event::LastAffected(v) => Event::LastAffected(strip(v.as_ref())),
                    Event::Limit(v) => Event::Limit(strip(v.as_ref())),
                })
                .collect(),
        })
        .filter(|range| range.range_type != RangeType::Git || !range.events.is_empty())
        .collect()
}

/// Returns the vulnerability ids of a record: its id when it is a CVE,
/// else its CVE aliases, else its own id.
fn vulnerability_ids(record: &PackageAdvisory) -> Vec<String> {
    if record.id.starts_with("CVE-") {
        return vec![record.id.clone()];
    }
    let cves: Vec<String> = record
        .aliases
        .iter()
        .filter(|alias| alias.starts_with("CVE-"))
        .cloned()
        .collect();
    if cves.is_empty() {
        vec![record.id.clone()]
    } else {
        cves
    }
}

fn group_by_vulnerability(matches: Vec<RawMatch>) -> BTreeMap<String, Vec<RawMatch>> {
    let mut groups: BTreeMap<String, Vec<RawMatch>> = BTreeMap::new();
    for raw in matches {
        // A record may list the same alias twice; it joins each group once.
        let mut ids = vulnerability_ids(&raw.record);
        ids.sort();
        ids.dedup();
        let (last, rest) = ids.split_last().expect("at least one id");
        for id in rest {
            groups.entry(id.clone()).or_default().push(RawMatch {
                record: raw.record.clone(),
                status: raw.status,
                fixed_version: raw.fixed_version.clone(),
            });
        }
        groups.entry(last.clone()).or_default().push(raw);
    }
    groups
}

/// Ranks a record's source for deciding status and fixed version: the
/// distro's own per-release data first, then its advisory lists, then the rest.
fn source_rank(source: &str) -> u8 {
    match source {
        "debian-tracker" | "alpine-secdb" | "osv:debian" | "osv:alpine" | "osv:ubuntu" => 0,
        "debian-dsa" | "debian-dla" | "debian-dtsa" => 1,
        _ => 2,
    }
}

#[allow(clippy::too_many_arguments)]
fn build_finding(
    database: &Database,
    records_cache: &mut HashMap<String, Vec<Advisory>>,
    id: &str,
    mut group: Vec<RawMatch>,
    package: &Package,
    namespace: &Namespace,
    key: &MatchKey,
) -> Result<Finding, StoreError> {
    group.sort_by_key(|raw| (source_rank(&raw.record.source), raw.fixed_version.is_none()));
    let primary = &group[0];

    if !records_cache.contains_key(id) {
        let records = database.advisories(id)?;
        records_cache.insert(id.to_owned(), records);
    }
    // Records about other packages, such as a DLA that fixed the same CVE in
    // python2.7, must not lend their text or rating to this finding. Only
    // the matched records, package-neutral ones (NVD, CVE 5) and records
    // that name this package in this namespace are used.
    let matched: BTreeSet<(&str, &str)> = group
        .iter()
        .map(|raw| (raw.record.source.as_str(), raw.record.id.as_str()))
        .collect();
    let package_name = namespace.normalize_package(&key.name);
    let records: Vec<&Advisory> = records_cache[id]
        .iter()
        .filter(|record| {
            matched.contains(&(record.source.as_str(), record.id.as_str()))
                || record.affected.is_empty()
                || record.affected.iter().any(|affected| {
                    affected.namespace == *namespace && affected.package == package_name
                })
        })
        .collect();

    let mut aliases = BTreeSet::new();
    for raw in &group {
        aliases.insert(raw.record.id.clone());
        aliases.extend(raw.record.aliases.iter().cloned());
    }
    for record in &records {
        aliases.insert(record.id.clone());
        aliases.extend(record.aliases.iter().cloned());
    }
    aliases.remove(id);

    let matched_severities: Vec<(String, &[Severity])> = group
        .iter()
        .map(|raw| {
            (
                raw.record.source.clone(),
                raw.record.affected.severities.as_slice(),
            )
        })
        .collect();
    let candidates = severity::candidates(&matched_severities, &records);
    let (rating, severity_source, severities) = severity::decide(&candidates);
    let cvss_score = severities
        .iter()
        .filter_map(|entry| entry.score)
        .fold(None, |max: Option<f32>, score| {
            Some(max.map_or(score, |m| m.max(score)))
        });

    let summary = records
        .iter()
        .map(|record| record.summary.as_str())
        .chain(records.iter().map(|record| record.details.as_str()))
        .find(|text| !text.trim().is_empty())
        .map(first_line)
        .unwrap_or_default();
    let mut cwes = BTreeSet::new();
    let mut urls = Vec::new();
    for record in records {
        cwes.extend(record.cwes.iter().cloned());
        for reference in &record.references {
            if urls.len() < MAX_URLS && !urls.contains(&reference.url) {
                urls.push(reference.url.clone());
            }
        }
    }

    let cve = std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .find(|candidate| candidate.starts_with("CVE-"));
    let (kev, epss) = match cve {
        Some(cve) => (database.kev(cve)?, database.epss(cve)?),
        None => (None, None),
    };

    let advisories = group
        .iter()
        .map(|raw| AdvisoryRef {
            source: raw.record.source.clone(),
            id: raw.record.id.clone(),
        })
        .collect();
    let differs = key.name != package.name || key.version != package.version;

    Ok(Finding {
        id: id.to_owned(),
        aliases: aliases.into_iter().collect(),
        advisories,
        package: MatchedPackage {
            name: package.name.clone(),
            version: package.version.clone(),
            package_type: package.package_type.purl_type().to_owned(),
            purl: package.purl.clone(),
            matched_name: differs.then(|| key.name.clone()),
            matched_version: differs.then(|| key.version.clone()),
            locations: package.locations.clone(),
            layer: package.introduced_in_layer.clone(),
        },
        namespace: namespace.to_string(),
        status: primary.status,
        fixed_version: primary.fixed_version.clone(),
        severity: rating,
        severity_source,
        cvss_score,
        severities,
        kev,
        epss,
        summary,
        cwes: cwes.into_iter().collect(),
        urls,
        suppressed: None,
    })
}

fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    let mut end = line.len().min(240);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_advisory::AffectedPackage;

    #[test]
    fn epochs_stripped_from_events() {
        let ranges: Vec<Range> = vec![Range {
            range_type: RangeType::Ecosystem,
            events: vec![
                Event::Introduced("0".into()),
                Event::Fixed("4:5.26.3-417.el8_3".into()),
            ],
        }];
        let stripped = without_epochs(&ranges);
        assert_eq!(
            stripped[0].events[1],
            Event::Fixed("5.26.3-417.el8_3".into())
        );
    }

    #[test]
    fn dsa_stands_for_each_cve() {
        let record = PackageAdvisory {
            source: "debian-dsa".into(),
            id: "DSA-5380-1".into(),
            aliases: vec!["CVE-2023-1393".into(), "CVE-2023-1394".into()],
            affected: AffectedPackage::new(Namespace::distro("debian", "11"), "xorg-server"),
        };
        assert_eq!(
            vulnerability_ids(&record),
            ["CVE-2023-1393", "CVE-2023-1394"]
        );
    }

    #[test]
    fn summary_cut_at_line() {
        assert_eq!(first_line("  First line.\nSecond."), "First line.");
    }
}
