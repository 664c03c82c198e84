//! The comparison of two scans (`rampart diff`): usually a standard image
//! (A) and its hardened equivalent (B), scanned with one database. The
//! report has the package changes, the findings per severity on each side
//! with the delta, the findings only in A with the reason each went, the
//! findings only in B, the findings in both, and facts about each image.
//!
//! Renderers: a terminal table, rampart's JSON (`rampart.diff/v1`,
//! `docs/diff-json.md`), Markdown, and a self-contained HTML page with
//! inline SVG charts.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rampart_advisory::{Rating, Status};
use rampart_inventory::{Distro, ImageFacts, PackageType, SourceInfo};
use rampart_match::{Finding, SuppressionKind};
use rampart_version::Scheme;
use serde::{Deserialize, Serialize};

use crate::scan::{DatabaseIdentity, ScanReport};

mod html;
mod json;
mod markdown;
mod table;

pub use json::parse_scan_json;

/// One side of a comparison: a scan made now or read from a scan JSON file.
#[derive(Clone, Debug)]
pub struct Side {
    pub source: SourceInfo,
    pub distro: Option<Distro>,
    pub image_purl: Option<String>,
    pub packages: Vec<PackageRef>,
    /// Whether `packages` is the image's package list; `false` for a saved
    /// scan that has none.
    pub packages_known: bool,
    /// Every finding, suppressed ones included; only active ones are compared.
    pub findings: Vec<Finding>,
    pub database: DatabaseIdentity,
    pub warnings: Vec<String>,
}

impl Side {
    /// Makes the side of a scan made in this process.
    pub fn from_report(report: ScanReport) -> Side {
        let packages = report
            .inventory
            .packages
            .iter()
            .map(|package| PackageRef {
                name: package.name.clone(),
                version: package.version.clone(),
                package_type: package.package_type.purl_type().to_owned(),
                purl: package.purl.clone(),
            })
            .collect();
        let mut warnings = report.warnings;
        for warning in report.inventory.warnings {
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        Side {
            source: report.inventory.source,
            distro: report.inventory.distro,
            image_purl: report.image_purl,
            packages,
            packages_known: true,
            findings: report.findings,
            database: report.database,
            warnings,
        }
    }

    fn active_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|finding| finding.is_active())
    }
}

/// A package of one side, with the fields the comparison uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    /// The purl type (`deb`, `apk`, `pypi`).
    #[serde(rename = "type")]
    pub package_type: String,
    pub purl: String,
}

impl PackageRef {
    fn is_os(&self) -> bool {
        PackageType::from_purl_type(&self.package_type).is_some_and(PackageType::is_os)
    }
}

/// The identity of a package across images: its purl without version,
/// qualifiers or subpath, so `pkg:apk/alpine/musl@1.2.3-r0?distro=alpine-3.16`
/// and `pkg:apk/alpine/musl@1.2.5-r0?distro=alpine-3.20` are one package.
pub fn package_key(purl: &str) -> &str {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    let without_qualifiers = &purl[..end];
    // The version starts at the last `@` after the last `/` (an npm scope
    // is `%40`-encoded in a purl, but a bare `@` is tolerated there too).
    let name_start = without_qualifiers.rfind('/').map_or(0, |slash| slash + 1);
    match without_qualifiers[name_start..].rfind('@') {
        Some(at) if at > 0 => &without_qualifiers[..name_start + at],
        _ => without_qualifiers,
    }
}

/// The comparison of two sides.
#[derive(Clone, Debug)]
pub struct DiffReport {
    pub created: DateTime<Utc>,
    pub tool_version: String,
    pub a: Side,
    pub b: Side,
    /// Whether both sides were scanned with the same database.
    pub same_database: bool,
    pub os_packages: PackageChanges,
    pub language_packages: PackageChanges,
    pub severities: Vec<CountRow>,
    pub total: CountRow,
    /// Distinct vulnerability ids: a CVE of a source package with five
    /// binary packages counts once here and five times in `total`.
    pub unique: CountRow,
    pub kev: CountRow,
    pub fixable: CountRow,
    pub not_fixed: CountRow,
    /// Findings only in A (removed by B), with the reason each went.
    pub only_in_a: Vec<ChangedFinding>,
    /// Findings only in B (introduced by B), with the reason each came.
    pub only_in_b: Vec<ChangedFinding>,
    pub in_both: Vec<CommonFinding>,
    pub warnings: Vec<String>,
}

/// Counts on each side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountRow {
    /// The severity name for a severity row, else what is counted.
    pub label: String,
    pub a: usize,
    pub b: usize,
}

impl CountRow {
    /// B minus A.
    pub fn delta(&self) -> i64 {
        self.b as i64 - self.a as i64
    }

    /// The reduction from A to B in percent (negative for an increase);
    /// `None` when A has none.
    pub fn reduction_percent(&self) -> Option<f64> {
        (self.a > 0).then(|| (self.a as f64 - self.b as f64) * 100.0 / self.a as f64)
    }
}

/// Package differences between A and B for one group (OS or language).
/// Every count is of packages by identity ([`package_key`]): a package
/// installed at two versions counts once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PackageChanges {
    /// Whether both sides have a package list; a saved scan from before
    /// the list was added has none, and then nothing here is meaningful.
    pub compared: bool,
    /// Packages on each side.
    pub a: usize,
    pub b: usize,
    pub removed: Vec<PackageVersions>,
    pub added: Vec<PackageVersions>,
    pub changed: Vec<VersionChange>,
    /// Packages present in both at the same versions.
    pub unchanged: usize,
}

/// A package present on one side only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageVersions {
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    pub package_type: String,
    pub versions: Vec<String>,
}

/// A package present on both sides at different versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    pub package_type: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub direction: Direction,
}

/// Whether a version change went up or down, by the ecosystem's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Upgraded,
    Downgraded,
    /// Several versions on a side, or versions the scheme cannot order.
    Changed,
}

/// A finding on one side only, with the reason it is not on the other.
#[derive(Clone, Debug)]
pub struct ChangedFinding {
    pub finding: Finding,
    pub cause: Cause,
}

/// The reason a finding is on one side only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Cause {
    /// The package is not on the other side.
    PackageRemoved,
    /// The package is new on this side (for findings only in B).
    PackageAdded,
    /// The package is on the other side at another version.
    VersionChanged {
        from: String,
        to: String,
        direction: Direction,
    },
    /// The other side has the finding, but a filter, an ignore entry or a
    /// VEX statement suppressed it there.
    Suppressed {
        /// The side that suppressed it, `A` or `B`.
        side: &'static str,
        rule: SuppressionKind,
        reason: String,
    },
    /// The package is on the other side at the same version, but the
    /// advisory status differs there: another release's feed, a record
    /// stating that the package is not affected, or a suppression.
    StatusChanged,
}

impl Cause {
    /// Returns a short phrase for tables: `package removed`, `upgraded to 2.6.2`.
    pub fn describe(&self) -> String {
        match self {
            Cause::PackageRemoved => "package removed".to_owned(),
            Cause::PackageAdded => "package added".to_owned(),
            Cause::VersionChanged { to, direction, .. } => match direction {
                Direction::Upgraded => format!("upgraded to {to}"),
                Direction::Downgraded => format!("downgraded to {to}"),
                Direction::Changed => format!("changed to {to}"),
            },
            Cause::Suppressed { side, reason, .. } => format!("suppressed in {side}: {reason}"),
            Cause::StatusChanged => "status changed".to_owned(),
        }
    }
}

/// A finding on both sides.
#[derive(Clone, Debug)]
pub struct CommonFinding {
    pub a: Finding,
    pub b: Finding,
}

/// Compares two sides. Findings are matched by vulnerability id and package
/// identity ([`package_key`]); suppressed findings count as absent.
pub fn compare(a: Side, b: Side, created: DateTime<Utc>, tool_version: &str) -> DiffReport {
    let os_packages = package_changes(&a, &b, true);
    let language_packages = package_changes(&a, &b, false);

    let versions_a = versions_by_key(&a);
    let versions_b = versions_by_key(&b);
    let findings_a = findings_by_key(&a);
    let findings_b = findings_by_key(&b);

    let suppressed_a = suppressed_by_key(&a);
    let suppressed_b = suppressed_by_key(&b);
    let mut only_in_a = Vec::new();
    let mut only_in_b = Vec::new();
    let mut in_both = Vec::new();
    let empty = Vec::new();
    for key in findings_a
        .keys()
        .chain(findings_b.keys())
        .collect::<BTreeSet<_>>()
    {
        let list_a = findings_a.get(key).unwrap_or(&empty);
        let list_b = findings_b.get(key).unwrap_or(&empty);
        let (pairs, rest_a, rest_b) = pair_findings(list_a, list_b);
        in_both.extend(pairs.into_iter().map(|(a, b)| CommonFinding {
            a: a.clone(),
            b: b.clone(),
        }));
        only_in_a.extend(rest_a.into_iter().map(|finding| {
            ChangedFinding {
                cause: suppression_cause(key, &suppressed_b, "B")
                    .unwrap_or_else(|| cause(finding, &versions_b, Cause::PackageRemoved)),
                finding: finding.clone(),
            }
        }));
        only_in_b.extend(rest_b.into_iter().map(|finding| {
            ChangedFinding {
                cause: suppression_cause(key, &suppressed_a, "A")
                    .unwrap_or_else(|| cause_in_b(finding, &versions_a)),
                finding: finding.clone(),
            }
        }));
    }
    sort_changed(&mut only_in_a);
    sort_changed(&mut only_in_b);
    in_both.sort_by(|x, y| compare_findings(&x.a, &y.a));

    let count = |side: &Side, keep: &dyn Fn(&Finding) -> bool| {
        side.active_findings()
            .filter(|finding| keep(finding))
            .count()
    };
    let row = |label: &str, keep: &dyn Fn(&Finding) -> bool| CountRow {
        label: label.to_owned(),
        a: count(&a, keep),
        b: count(&b, keep),
    };
    let severities = Rating::ALL
        .iter()
        .rev()
        .map(|rating| row(rating.name(), &|finding| finding.severity == *rating))
        .collect();
    let total = row("total", &|_| true);
    let unique = CountRow {
        label: "unique vulnerabilities".to_owned(),
        a: unique_ids(&a),
        b: unique_ids(&b),
    };
    let kev = row("kev", &|finding| finding.kev.is_some());
    let fixable = row("fixable", &is_fixable);
    let not_fixed = row("not fixed", &|finding| !is_fixable(finding));

    let same_database = same_database(&a.database, &b.database);
    let mut warnings = Vec::new();
    if !same_database {
        warnings.push(format!(
            "the two scans used different vulnerability databases (built {} and {}), so the \
             delta mixes image changes with database changes; scan both images in one `rampart \
             diff` run for a fair comparison",
            crate::scan::rfc3339(a.database.built_at),
            crate::scan::rfc3339(b.database.built_at)
        ));
    }
    for (label, side) in [("A", &a), ("B", &b)] {
        for warning in &side.warnings {
            warnings.push(format!("{label} ({}): {warning}", side.source.name));
        }
    }

    DiffReport {
        created,
        tool_version: tool_version.to_owned(),
        same_database,
        os_packages,
        language_packages,
        severities,
        total,
        unique,
        kev,
        fixable,
        not_fixed,
        only_in_a,
        only_in_b,
        in_both,
        warnings,
        a,
        b,
    }
}

impl DiffReport {
    /// Returns whether B has more critical findings than A, or more critical
    /// and high findings together (`--fail-if-worse`).
    pub fn is_worse(&self) -> bool {
        let row = |rating: Rating| {
            self.severities
                .iter()
                .find(|row| row.label == rating.name())
                .map_or((0, 0), |row| (row.a, row.b))
        };
        let (critical_a, critical_b) = row(Rating::Critical);
        let (high_a, high_b) = row(Rating::High);
        critical_b > critical_a || critical_b + high_b > critical_a + high_a
    }
}

fn unique_ids(side: &Side) -> usize {
    side.active_findings()
        .map(|finding| finding.id.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

fn is_fixable(finding: &Finding) -> bool {
    finding.status == Status::Fixed && finding.fixed_version.is_some()
}

/// Two identities are the same database when the build time and every
/// source's name, record count and newest record agree.
fn same_database(a: &DatabaseIdentity, b: &DatabaseIdentity) -> bool {
    a.built_at == b.built_at
        && a.schema_version == b.schema_version
        && a.sources.len() == b.sources.len()
        && a.sources.iter().zip(&b.sources).all(|(x, y)| {
            x.source == y.source && x.records == y.records && x.newest_modified == y.newest_modified
        })
}

type FindingKey<'a> = (&'a str, &'a str);

/// Pairs the findings of one vulnerability and package on the two sides:
/// the same versions first, then the others in order. What is left over
/// on either side has no counterpart, as when A has a package at two
/// versions and B at one.
fn pair_findings<'a>(
    list_a: &[&'a Finding],
    list_b: &[&'a Finding],
) -> (
    Vec<(&'a Finding, &'a Finding)>,
    Vec<&'a Finding>,
    Vec<&'a Finding>,
) {
    let mut rest_b: Vec<&Finding> = list_b.to_vec();
    let mut pairs = Vec::new();
    let mut rest_a = Vec::new();
    for finding in list_a {
        match rest_b
            .iter()
            .position(|other| other.package.version == finding.package.version)
        {
            Some(index) => pairs.push((*finding, rest_b.remove(index))),
            None => rest_a.push(*finding),
        }
    }
    let unmatched = rest_a.len().min(rest_b.len());
    let rest_a_tail = rest_a.split_off(unmatched);
    let rest_b_tail = rest_b.split_off(unmatched);
    pairs.extend(rest_a.into_iter().zip(rest_b));
    (pairs, rest_a_tail, rest_b_tail)
}

/// Indexes the suppressed findings of a side by vulnerability and package.
fn suppressed_by_key(side: &Side) -> BTreeMap<FindingKey<'_>, &Finding> {
    side.findings
        .iter()
        .filter(|finding| !finding.is_active())
        .map(|finding| {
            (
                (finding.id.as_str(), package_key(&finding.package.purl)),
                finding,
            )
        })
        .collect()
}

/// Returns the cause of a finding that the other side has but suppressed.
fn suppression_cause(
    key: &FindingKey<'_>,
    suppressed: &BTreeMap<FindingKey<'_>, &Finding>,
    side: &'static str,
) -> Option<Cause> {
    let suppression = suppressed.get(key)?.suppressed.as_ref()?;
    Some(Cause::Suppressed {
        side,
        rule: suppression.kind,
        reason: suppression.reason.clone(),
    })
}

fn findings_by_key(side: &Side) -> BTreeMap<FindingKey<'_>, Vec<&Finding>> {
    let mut map: BTreeMap<FindingKey<'_>, Vec<&Finding>> = BTreeMap::new();
    for finding in side.active_findings() {
        map.entry((finding.id.as_str(), package_key(&finding.package.purl)))
            .or_default()
            .push(finding);
    }
    map
}

fn versions_by_key(side: &Side) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut map: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for package in &side.packages {
        map.entry(package_key(&package.purl))
            .or_default()
            .insert(package.version.as_str());
    }
    map
}

/// Returns why a finding of A is not in B. `absent` is the cause when B
/// lacks the package.
fn cause(finding: &Finding, other: &BTreeMap<&str, BTreeSet<&str>>, absent: Cause) -> Cause {
    let key = package_key(&finding.package.purl);
    let Some(versions) = other.get(key) else {
        return absent;
    };
    let own = finding.package.version.as_str();
    if versions.contains(own) {
        return Cause::StatusChanged;
    }
    let to = versions.iter().copied().collect::<Vec<_>>().join(", ");
    let direction = if versions.len() == 1 {
        direction(
            &finding.package.package_type,
            own,
            versions.first().copied().unwrap_or_default(),
        )
    } else {
        Direction::Changed
    };
    Cause::VersionChanged {
        from: own.to_owned(),
        to,
        direction,
    }
}

/// Returns why a finding of B is not in A: the package is new, or A had it
/// at another version (B's finding came with the change). `from` is A's
/// version, as in [`cause`].
fn cause_in_b(finding: &Finding, versions_a: &BTreeMap<&str, BTreeSet<&str>>) -> Cause {
    match cause(finding, versions_a, Cause::PackageAdded) {
        Cause::VersionChanged { from, to, .. } => {
            // `cause` described A's versions as the target; turn it round.
            let direction = if to.contains(", ") {
                Direction::Changed
            } else {
                direction(&finding.package.package_type, &to, &from)
            };
            Cause::VersionChanged {
                from: to,
                to: from,
                direction,
            }
        }
        other => other,
    }
}

/// Orders two versions of a package type by its ecosystem's rules.
fn direction(purl_type: &str, from: &str, to: &str) -> Direction {
    let scheme = match purl_type {
        "deb" => Scheme::Dpkg,
        "rpm" => Scheme::Rpm,
        "apk" => Scheme::Apk,
        "pypi" => Scheme::Pep440,
        "npm" | "cargo" => Scheme::Semver,
        "golang" => Scheme::Go,
        "maven" => Scheme::Maven,
        "gem" => Scheme::RubyGems,
        "nuget" => Scheme::NuGet,
        "composer" => Scheme::Packagist,
        _ => return Direction::Changed,
    };
    match rampart_version::compare(scheme, from, to) {
        Ok(Ordering::Less) => Direction::Upgraded,
        Ok(Ordering::Greater) => Direction::Downgraded,
        _ => Direction::Changed,
    }
}

fn package_changes(a: &Side, b: &Side, os: bool) -> PackageChanges {
    let in_a = collect_group(a, os);
    let in_b = collect_group(b, os);

    let mut changes = PackageChanges {
        a: in_a.len(),
        b: in_b.len(),
        compared: a.packages_known && b.packages_known,
        ..PackageChanges::default()
    };
    let entry = |key: &str, (name, package_type, versions): &(&str, &str, BTreeSet<&str>)| {
        PackageVersions {
            key: key.to_owned(),
            name: (*name).to_owned(),
            package_type: (*package_type).to_owned(),
            versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        }
    };
    for (key, value) in &in_a {
        match in_b.get(key) {
            None => changes.removed.push(entry(key, value)),
            Some(other) if other.2 == value.2 => changes.unchanged += 1,
            Some(other) => {
                let from: Vec<String> = value.2.iter().map(|v| (*v).to_owned()).collect();
                let to: Vec<String> = other.2.iter().map(|v| (*v).to_owned()).collect();
                let direction = if from.len() == 1 && to.len() == 1 {
                    direction(value.1, &from[0], &to[0])
                } else {
                    Direction::Changed
                };
                changes.changed.push(VersionChange {
                    key: (*key).to_owned(),
                    name: value.0.to_owned(),
                    package_type: value.1.to_owned(),
                    from,
                    to,
                    direction,
                });
            }
        }
    }
    for (key, value) in &in_b {
        if !in_a.contains_key(key) {
            changes.added.push(entry(key, value));
        }
    }
    changes
}

/// Groups the packages of one group (OS or language) by identity.
fn collect_group(side: &Side, os: bool) -> BTreeMap<&str, (&str, &str, BTreeSet<&str>)> {
    let mut map: BTreeMap<&str, (&str, &str, BTreeSet<&str>)> = BTreeMap::new();
    for package in side.packages.iter().filter(|p| p.is_os() == os) {
        map.entry(package_key(&package.purl))
            .or_insert_with(|| {
                (
                    package.name.as_str(),
                    package.package_type.as_str(),
                    BTreeSet::new(),
                )
            })
            .2
            .insert(package.version.as_str());
    }
    map
}

fn sort_changed(list: &mut [ChangedFinding]) {
    list.sort_by(|x, y| compare_findings(&x.finding, &y.finding));
}

/// Severity (highest first), then package name, vulnerability id and version.
fn compare_findings(a: &Finding, b: &Finding) -> Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.package.name.cmp(&b.package.name))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.package.version.cmp(&b.package.version))
        .then_with(|| a.package.purl.cmp(&b.package.purl))
}

/// An output format of `rampart diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiffFormat {
    Table,
    Json,
    Markdown,
    Html,
}

impl DiffFormat {
    pub fn name(self) -> &'static str {
        match self {
            DiffFormat::Table => "table",
            DiffFormat::Json => "json",
            DiffFormat::Markdown => "markdown",
            DiffFormat::Html => "html",
        }
    }
}

impl fmt::Display for DiffFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DiffFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "table" => Ok(DiffFormat::Table),
            "json" => Ok(DiffFormat::Json),
            "markdown" | "md" => Ok(DiffFormat::Markdown),
            "html" => Ok(DiffFormat::Html),
            _ => Err(format!(
                "unknown diff format {text:?}: expected one of table, json, markdown, html"
            )),
        }
    }
}

/// Renders a comparison. `color` applies to the table only.
pub fn render_diff(report: &DiffReport, format: DiffFormat, color: bool) -> String {
    match format {
        DiffFormat::Table => table::render(report, color),
        DiffFormat::Json => json::render(report),
        DiffFormat::Markdown => markdown::render(report),
        DiffFormat::Html => html::render(report),
    }
}

/// Returns the facts of a side; `None` for an SBOM input.
pub(crate) fn facts(side: &Side) -> Option<&ImageFacts> {
    side.source.facts.as_ref()
}

/// Formats a byte count with binary units (`12.3 MiB`).
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Formats a delta with its sign (`+3`, `-12`, `0`).
pub(crate) fn signed(delta: i64) -> String {
    if delta > 0 {
        format!("+{delta}")
    } else {
        delta.to_string()
    }
}

/// Formats a reduction (`-54.2%` for fewer findings in B), or `n/a`.
pub(crate) fn reduction_text(row: &CountRow) -> String {
    match row.reduction_percent() {
        Some(percent) => format!("{:.1}%", percent),
        None => "n/a".to_owned(),
    }
}

/// Labels of the image facts, in the order of [`fact_values`].
const FACT_LABELS: [&str; 9] = [
    "compressed size",
    "uncompressed size",
    "layers",
    "files",
    "shell",
    "package manager",
    "setuid files",
    "setgid files",
    "user",
];

/// Formats the image facts of one side, in the order of [`FACT_LABELS`];
/// every value is `n/a` for an SBOM input.
fn fact_values(facts: Option<&ImageFacts>) -> [String; 9] {
    let Some(facts) = facts else {
        return std::array::from_fn(|_| "n/a".to_owned());
    };
    let paths = |paths: &[String]| {
        if paths.is_empty() {
            "none".to_owned()
        } else {
            paths.join(", ")
        }
    };
    let count = |paths: &[String]| {
        if paths.is_empty() {
            "none".to_owned()
        } else {
            format!("yes ({})", paths.len())
        }
    };
    let user = facts.user.as_deref().unwrap_or("not set");
    [
        facts
            .compressed_size
            .map_or_else(|| "n/a".to_owned(), human_bytes),
        human_bytes(facts.uncompressed_size),
        facts.layers.to_string(),
        facts.files.to_string(),
        paths(&facts.shells),
        paths(&facts.package_managers),
        count(&facts.setuid_files),
        count(&facts.setgid_files),
        if facts.runs_as_root {
            format!("{user} (root)")
        } else {
            user.to_owned()
        },
    ]
}

/// Returns the image facts as (label, A's value, B's value) rows.
pub(crate) fn fact_rows(report: &DiffReport) -> Vec<(&'static str, String, String)> {
    FACT_LABELS
        .into_iter()
        .zip(fact_values(facts(&report.a)))
        .zip(fact_values(facts(&report.b)))
        .map(|((label, a), b)| (label, a, b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_identity_drops_version_and_qualifiers() {
        let cases = [
            (
                "pkg:apk/alpine/musl@1.2.3-r3?arch=x86_64&distro=alpine-3.16",
                "pkg:apk/alpine/musl",
            ),
            (
                "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
                "pkg:deb/debian/zlib1g",
            ),
            ("pkg:npm/%40babel/core@7.24.0", "pkg:npm/%40babel/core"),
            ("pkg:npm/@babel/core@7.24.0", "pkg:npm/@babel/core"),
            (
                "pkg:maven/org.apache.kafka/kafka_2.13@3.2.2?type=jar",
                "pkg:maven/org.apache.kafka/kafka_2.13",
            ),
            ("pkg:golang/stdlib", "pkg:golang/stdlib"),
            (
                "pkg:golang/github.com/docker/cli@v28.2.2%2Bincompatible#cmd/docker",
                "pkg:golang/github.com/docker/cli",
            ),
        ];
        for (purl, key) in cases {
            assert_eq!(package_key(purl), key, "{purl}");
        }
    }

    #[test]
    fn reduction_and_delta() {
        let row = CountRow {
            label: "high".to_owned(),
            a: 68,
            b: 32,
        };
        assert_eq!(row.delta(), -36);
        assert_eq!(reduction_text(&row), "52.9%");
        let increase = CountRow {
            label: "low".to_owned(),
            a: 2,
            b: 3,
        };
        assert_eq!(reduction_text(&increase), "-50.0%");
        let none = CountRow {
            label: "critical".to_owned(),
            a: 0,
            b: 4,
        };
        assert_eq!(reduction_text(&none), "n/a");
        assert_eq!(signed(4), "+4");
        assert_eq!(signed(0), "0");
    }

    #[test]
    fn version_directions() {
        assert_eq!(
            direction("deb", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1"),
            Direction::Upgraded
        );
        assert_eq!(
            direction("apk", "1.36.1-r29", "1.35.0-r17"),
            Direction::Downgraded
        );
        assert_eq!(direction("pypi", "2.0", "10.0"), Direction::Upgraded);
        assert_eq!(direction("generic", "1", "2"), Direction::Changed);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(54_100_000), "51.6 MiB");
    }
}

#[cfg(test)]
mod compare_tests {
    use super::*;
    use crate::scan::DatabaseIdentity;

    fn finding(id: &str, name: &str, version: &str) -> Finding {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "advisories": [],
            "package": {
                "name": name,
                "version": version,
                "type": "pypi",
                "purl": format!("pkg:pypi/{name}@{version}"),
                "locations": [],
            },
            "namespace": "pypi",
            "status": "fixed",
            "fixed_version": "2.0.7",
            "severity": "high",
            "severity_source": "osv:pypi",
            "severities": [],
        }))
        .unwrap()
    }

    fn side(findings: Vec<Finding>, versions: &[&str]) -> Side {
        Side {
            source: SourceInfo::default(),
            distro: None,
            image_purl: None,
            packages: versions
                .iter()
                .map(|version| PackageRef {
                    name: "urllib3".to_owned(),
                    version: (*version).to_owned(),
                    package_type: "pypi".to_owned(),
                    purl: format!("pkg:pypi/urllib3@{version}"),
                })
                .collect(),
            packages_known: true,
            findings,
            database: DatabaseIdentity {
                built_at: DateTime::UNIX_EPOCH,
                schema_version: 1,
                sources: Vec::new(),
                too_old: false,
            },
            warnings: Vec::new(),
        }
    }

    /// A has urllib3 at two versions with the same CVE, B at one: every
    /// finding of A is either in both or only in A.
    #[test]
    fn several_versions_keep_every_finding() {
        let a = side(
            vec![
                finding("CVE-2023-43804", "urllib3", "1.23"),
                finding("CVE-2023-43804", "urllib3", "1.24.1"),
                finding("CVE-2019-11324", "urllib3", "1.24.1"),
            ],
            &["1.23", "1.24.1"],
        );
        let b = side(
            vec![finding("CVE-2023-43804", "urllib3", "1.26.5")],
            &["1.26.5"],
        );
        let report = compare(a, b, DateTime::UNIX_EPOCH, "test");
        assert_eq!(report.total.a, 3);
        assert_eq!(report.in_both.len() + report.only_in_a.len(), 3);
        assert_eq!(report.in_both.len(), 1);
        assert_eq!(report.only_in_b.len(), 0);
        let causes: Vec<String> = report
            .only_in_a
            .iter()
            .map(|changed| changed.cause.describe())
            .collect();
        assert_eq!(causes, ["upgraded to 1.26.5", "upgraded to 1.26.5"]);
        assert_eq!(report.unique.a, 2);
        assert_eq!(report.unique.b, 1);
        assert_eq!(report.language_packages.a, 1, "one package at two versions");
        assert_eq!(report.language_packages.changed.len(), 1);
    }

    /// A finding that B suppressed is gone from B for the stated reason.
    #[test]
    fn suppression_named_as_cause() {
        let a = side(
            vec![finding("CVE-2023-43804", "urllib3", "1.26.5")],
            &["1.26.5"],
        );
        let mut suppressed = finding("CVE-2023-43804", "urllib3", "1.26.5");
        suppressed.suppressed = Some(rampart_match::Suppression {
            kind: SuppressionKind::Vex,
            reason: "not_affected: vulnerable_code_not_in_execute_path".to_owned(),
            file: None,
            vex_status: None,
            justification: None,
        });
        let b = side(vec![suppressed], &["1.26.5"]);
        let report = compare(a, b, DateTime::UNIX_EPOCH, "test");
        assert_eq!(report.only_in_a.len(), 1);
        assert_eq!(
            report.only_in_a[0].cause.describe(),
            "suppressed in B: not_affected: vulnerable_code_not_in_execute_path"
        );
    }
}
