//! Filters and ignore rules that suppress findings. Suppressed findings
//! keep their data and carry the reason, so JSON output still shows them.
//!
//! The ignore file (`.rampartignore.yaml`) lists entries under `ignore:`;
//! each names at least one of `id` (a vulnerability id or alias), `purl`
//! (compared as VEX purls are: no version covers every version) and `path`
//! (a package location, or a folder above it), and may give `expires`
//! (a date, `YYYY-MM-DD`; the entry stops applying after that day) and a
//! `statement` saying why. All fields given must match.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rampart_advisory::{Rating, Status};
use serde::Deserialize;

use crate::finding::{Finding, Suppression, SuppressionKind};
use crate::vex::purl_covers;

/// `--severity`, `--ignore-unfixed` and `--ignore-status`.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// Severities to keep; empty keeps every severity.
    pub severities: Vec<Rating>,
    pub ignore_unfixed: bool,
    pub ignore_statuses: Vec<Status>,
}

impl Filters {
    /// Suppresses the findings the filters leave out.
    pub fn apply(&self, findings: &mut [Finding]) {
        for finding in findings.iter_mut().filter(|finding| finding.is_active()) {
            if !self.severities.is_empty() && !self.severities.contains(&finding.severity) {
                finding.suppressed = Some(simple(
                    SuppressionKind::Severity,
                    format!("severity {} not selected by --severity", finding.severity),
                ));
            } else if self.ignore_unfixed && finding.fixed_version.is_none() {
                finding.suppressed = Some(simple(
                    SuppressionKind::Status,
                    format!("no fixed version ({}); --ignore-unfixed", finding.status),
                ));
            } else if self.ignore_statuses.contains(&finding.status) {
                finding.suppressed = Some(simple(
                    SuppressionKind::Status,
                    format!("status {} ignored by --ignore-status", finding.status),
                ));
            }
        }
    }
}

fn simple(kind: SuppressionKind, reason: String) -> Suppression {
    Suppression {
        kind,
        reason,
        file: None,
        vex_status: None,
        justification: None,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreDocument {
    #[serde(default)]
    ignore: Vec<RawIgnoreEntry>,
}

/// An entry as written, with `expires` still text so that a bad date gets
/// its own message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnoreEntry {
    id: Option<String>,
    purl: Option<String>,
    path: Option<String>,
    expires: Option<String>,
    statement: Option<String>,
}

/// One entry of the ignore file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreEntry {
    pub id: Option<String>,
    pub purl: Option<String>,
    pub path: Option<String>,
    pub expires: Option<NaiveDate>,
    pub statement: Option<String>,
}

/// The entries of an ignore file.
#[derive(Clone, Debug, Default)]
pub struct IgnoreRules {
    pub file: PathBuf,
    pub entries: Vec<IgnoreEntry>,
}

/// An ignore file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the ignore file {path}: {reason}")]
pub struct IgnoreError {
    pub path: PathBuf,
    pub reason: String,
}

impl IgnoreRules {
    /// Reads an ignore file. An entry with none of `id`, `purl` and `path`
    /// is an error, since it would match every finding.
    pub fn load(path: &Path) -> Result<IgnoreRules, IgnoreError> {
        let error = |reason: String| IgnoreError {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let document: IgnoreDocument =
            serde_saphyr::from_str(&text).map_err(|e| error(format!("invalid YAML: {e}")))?;
        let mut entries = Vec::with_capacity(document.ignore.len());
        for (index, raw) in document.ignore.into_iter().enumerate() {
            if raw.id.is_none() && raw.purl.is_none() && raw.path.is_none() {
                return Err(error(format!(
                    "entry {} names no id, purl or path; it would ignore every finding",
                    index + 1
                )));
            }
            let expires = match raw.expires {
                Some(text) => Some(NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(
                    |_| {
                        error(format!(
                            "entry {}: expires {text:?} is not a date; write it as YYYY-MM-DD",
                            index + 1
                        ))
                    },
                )?),
                None => None,
            };
            entries.push(IgnoreEntry {
                id: raw.id,
                purl: raw.purl,
                path: raw.path,
                expires,
                statement: raw.statement,
            });
        }
        Ok(IgnoreRules {
            file: path.to_owned(),
            entries,
        })
    }

    /// Suppresses matching findings and returns warnings for expired entries.
    pub fn apply(&self, findings: &mut [Finding], today: NaiveDate) -> Vec<String> {
        let mut warnings = Vec::new();
        for entry in &self.entries {
            if let Some(expires) = entry.expires.filter(|expires| *expires < today) {
                warnings.push(format!(
                    "{}: the ignore entry for {} expired on {expires} and no longer applies",
                    self.file.display(),
                    describe(entry)
                ));
            }
        }
        let mut used = vec![false; self.entries.len()];
        for finding in findings.iter_mut().filter(|finding| finding.is_active()) {
            let found = self.entries.iter().position(|entry| {
                entry.expires.is_none_or(|expires| expires >= today) && matches(entry, finding)
            });
            if let Some(index) = found {
                used[index] = true;
                let entry = &self.entries[index];
                finding.suppressed = Some(Suppression {
                    kind: SuppressionKind::IgnoreFile,
                    reason: entry
                        .statement
                        .clone()
                        .unwrap_or_else(|| format!("ignored: {}", describe(entry))),
                    file: Some(self.file.display().to_string()),
                    vex_status: None,
                    justification: None,
                });
            }
        }
        for (entry, used) in self.entries.iter().zip(used) {
            let expired = entry.expires.is_some_and(|expires| expires < today);
            if !used && !expired {
                warnings.push(format!(
                    "{}: the ignore entry for {} matched no finding that was not already suppressed",
                    self.file.display(),
                    describe(entry)
                ));
            }
        }
        warnings
    }
}

fn describe(entry: &IgnoreEntry) -> String {
    [&entry.id, &entry.purl, &entry.path]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

fn matches(entry: &IgnoreEntry, finding: &Finding) -> bool {
    let id_matches = entry
        .id
        .as_ref()
        .is_none_or(|id| *id == finding.id || finding.aliases.contains(id));
    let purl_matches = entry
        .purl
        .as_ref()
        .is_none_or(|purl| purl_covers(purl, &finding.package.purl));
    let path_matches = entry.path.as_ref().is_none_or(|path| {
        let folder = format!("{}/", path.trim_end_matches('/'));
        finding
            .package
            .locations
            .iter()
            .any(|location| location.path == *path || location.path.starts_with(&folder))
    });
    id_matches && purl_matches && path_matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_without_selector_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".rampartignore.yaml");
        std::fs::write(&path, "ignore:\n  - statement: everything\n").unwrap();
        let error = IgnoreRules::load(&path).unwrap_err();
        assert!(error.to_string().contains("names no id, purl or path"));
    }

    #[test]
    fn unknown_field_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".rampartignore.yaml");
        std::fs::write(&path, "ignore:\n  - idd: CVE-2024-1\n").unwrap();
        assert!(IgnoreRules::load(&path).is_err());
    }

    #[test]
    fn bad_date_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".rampartignore.yaml");
        std::fs::write(
            &path,
            "ignore:\n  - id: CVE-2024-1\n    expires: tomorrow\n",
        )
        .unwrap();
        let error = IgnoreRules::load(&path).unwrap_err();
        assert!(
            error.to_string().contains("write it as YYYY-MM-DD"),
            "{error}"
        );
    }

    #[test]
    fn dates_parse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".rampartignore.yaml");
        std::fs::write(
            &path,
            "ignore:\n  - id: CVE-2024-1\n    expires: 2027-01-31\n    statement: not reachable\n",
        )
        .unwrap();
        let rules = IgnoreRules::load(&path).unwrap();
        assert_eq!(
            rules.entries[0].expires,
            NaiveDate::from_ymd_opt(2027, 1, 31)
        );
    }
}
