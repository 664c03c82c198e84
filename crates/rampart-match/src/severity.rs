//! Choosing a finding's severity. The order follows what distros ask their
//! users to trust: the distro's own rating of the package in that release
//! first (it reflects how the distro builds and ships it), then NVD's CVSS,
//! then CVSS from any other record (OSV, CVE 5), then any vendor word
//! (GHSA's database-specific severity), else unknown. Every statement stays
//! in the finding, and the one that decided is marked.

use rampart_advisory::{Advisory, Rating, Severity, SeverityKind};

use crate::finding::SeverityEntry;

/// A severity statement and where it came from.
pub struct Candidate<'a> {
    /// The record's source (`debian-tracker`, `nvd`, `osv:pypi`).
    pub record_source: &'a str,
    pub severity: &'a Severity,
    /// True for statements about the matched package in the matched
    /// namespace (the distro's per-release rating).
    pub for_package: bool,
}

/// Collects the candidates of a finding: the matched entries' own
/// severities and every record's.
pub fn candidates<'a>(
    matched: &'a [(String, &'a [Severity])],
    records: &[&'a Advisory],
) -> Vec<Candidate<'a>> {
    let mut all = Vec::new();
    for (source, severities) in matched {
        for severity in severities.iter() {
            all.push(Candidate {
                record_source: source,
                severity,
                for_package: true,
            });
        }
    }
    for record in records.iter().copied() {
        for severity in &record.severities {
            all.push(Candidate {
                record_source: &record.source,
                severity,
                for_package: false,
            });
        }
    }
    all
}

fn cvss_rank(kind: SeverityKind) -> u8 {
    match kind {
        SeverityKind::CvssV3 => 3,
        SeverityKind::CvssV4 => 2,
        SeverityKind::CvssV2 => 1,
        SeverityKind::Vendor => 0,
    }
}

/// Picks the deciding candidate and returns the rating, its source and the
/// entries with `decided` set on the winner.
pub fn decide(candidates: &[Candidate<'_>]) -> (Rating, String, Vec<SeverityEntry>) {
    let known = |candidate: &&Candidate<'_>| candidate.severity.rating != Rating::Unknown;
    let is_cvss = |candidate: &&Candidate<'_>| candidate.severity.kind != SeverityKind::Vendor;
    let best_cvss = |from_nvd: bool| {
        candidates
            .iter()
            .enumerate()
            .filter(|(_, candidate)| known(candidate) && is_cvss(candidate))
            .filter(|(_, candidate)| (candidate.record_source == "nvd") == from_nvd)
            .max_by_key(|(_, candidate)| {
                (
                    cvss_rank(candidate.severity.kind),
                    candidate.severity.source.contains("nvd@nist.gov"),
                )
            })
            .map(|(index, _)| index)
    };

    let distro = candidates
        .iter()
        .position(|candidate| candidate.for_package && known(&candidate) && !is_cvss(&candidate));
    let vendor_anywhere = candidates
        .iter()
        .position(|candidate| known(&candidate) && !is_cvss(&candidate));
    let winner = distro
        .or_else(|| best_cvss(true))
        .or_else(|| best_cvss(false))
        .or(vendor_anywhere);

    let entries = candidates
        .iter()
        .enumerate()
        .map(|(index, candidate)| SeverityEntry {
            source: if candidate.severity.source.is_empty() {
                candidate.record_source.to_owned()
            } else {
                candidate.severity.source.clone()
            },
            kind: candidate.severity.kind,
            vector: candidate.severity.vector.clone(),
            score: candidate.severity.score,
            rating: candidate.severity.rating,
            decided: Some(index) == winner,
        })
        .collect::<Vec<_>>();

    match winner {
        Some(index) => (
            entries[index].rating,
            entries[index].source.clone(),
            dedup(entries),
        ),
        None => (Rating::Unknown, String::new(), dedup(entries)),
    }
}

/// Drops repeated statements (the same source, kind and vector), keeping the
/// decided one.
fn dedup(entries: Vec<SeverityEntry>) -> Vec<SeverityEntry> {
    let mut kept: Vec<SeverityEntry> = Vec::with_capacity(entries.len());
    for entry in entries {
        let same = kept.iter().position(|seen| {
            seen.source == entry.source
                && seen.kind == entry.kind
                && seen.vector == entry.vector
                && seen.rating == entry.rating
        });
        match same {
            Some(index) if entry.decided => kept[index] = entry,
            Some(_) => {}
            None => kept.push(entry),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn severity(source: &str, kind: SeverityKind, rating: Rating) -> Severity {
        Severity {
            source: source.to_owned(),
            kind,
            vector: None,
            score: None,
            rating,
        }
    }

    #[test]
    fn distro_rating_wins() {
        let urgency = [severity("debian", SeverityKind::Vendor, Rating::Low)];
        let matched = vec![("debian-tracker".to_owned(), &urgency[..])];
        let nvd = Advisory {
            id: "CVE-1".into(),
            source: "nvd".into(),
            severities: vec![severity(
                "nvd@nist.gov",
                SeverityKind::CvssV3,
                Rating::Critical,
            )],
            ..Advisory::default()
        };
        let records = [&nvd];
        let all = candidates(&matched, &records);
        let (rating, source, entries) = decide(&all);
        assert_eq!(rating, Rating::Low);
        assert_eq!(source, "debian");
        assert_eq!(entries.iter().filter(|entry| entry.decided).count(), 1);
    }

    #[test]
    fn nvd_before_other_cvss() {
        let osv = Advisory {
            source: "osv:pypi".into(),
            severities: vec![severity("osv:pypi", SeverityKind::CvssV3, Rating::Medium)],
            ..Advisory::default()
        };
        let nvd = Advisory {
            source: "nvd".into(),
            severities: vec![
                severity("nvd@nist.gov", SeverityKind::CvssV2, Rating::Medium),
                severity("nvd@nist.gov", SeverityKind::CvssV3, Rating::High),
            ],
            ..Advisory::default()
        };
        let records = [&osv, &nvd];
        let all = candidates(&[], &records);
        let (rating, _, _) = decide(&all);
        assert_eq!(rating, Rating::High);
    }

    #[test]
    fn nothing_known_is_unknown() {
        let (rating, source, _) = decide(&[]);
        assert_eq!(rating, Rating::Unknown);
        assert!(source.is_empty());
    }
}
