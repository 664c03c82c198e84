//! Exceptions: accepted findings, selected by control, namespace, kind and
//! name, each with a reason and an expiry date.
//!
//! ```yaml
//! exceptions:
//!   - control: host-network        # a control id, or "*"
//!     namespace: kube-system       # optional; "*" wildcards allowed
//!     kind: DaemonSet              # optional
//!     name: "kube-proxy*"          # optional; "*" wildcards allowed
//!     reason: kube-proxy programs the node's iptables
//!     expires: 2027-06-30
//! ```

use chrono::NaiveDate;
use serde::Deserialize;

use crate::control::control;
use crate::finding::Finding;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionsFile {
    exceptions: Vec<Exception>,
}

/// One accepted finding pattern.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub control: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub reason: String,
    pub expires: NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum ExceptionsError {
    #[error("{file}: invalid exceptions file: {message}")]
    Invalid { file: String, message: String },
    #[error(
        "{file}: exception {index} names unknown control {control:?}; `rampart audit --list-controls` lists the ids"
    )]
    UnknownControl {
        file: String,
        index: usize,
        control: String,
    },
}

/// The exceptions of one file.
#[derive(Clone, Debug, Default)]
pub struct Exceptions {
    pub entries: Vec<Exception>,
}

/// What applying the exceptions did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Findings that an unexpired exception accepts.
    pub accepted: usize,
    /// Exceptions past their expiry date, as `control (expired DATE)`; they
    /// accept nothing.
    pub expired: Vec<String>,
    /// Unexpired exceptions that matched no finding.
    pub unused: Vec<String>,
}

impl Exceptions {
    /// Parses an exceptions file; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Exceptions, ExceptionsError> {
        let parsed: ExceptionsFile =
            serde_saphyr::from_str(text).map_err(|error| ExceptionsError::Invalid {
                file: file.to_owned(),
                message: error.to_string(),
            })?;
        for (index, entry) in parsed.exceptions.iter().enumerate() {
            if entry.control != "*" && control(&entry.control).is_none() {
                return Err(ExceptionsError::UnknownControl {
                    file: file.to_owned(),
                    index: index + 1,
                    control: entry.control.clone(),
                });
            }
            if entry.reason.trim().is_empty() {
                return Err(ExceptionsError::Invalid {
                    file: file.to_owned(),
                    message: format!("exception {} has an empty reason", index + 1),
                });
            }
        }
        Ok(Exceptions {
            entries: parsed.exceptions,
        })
    }

    /// Marks the findings that an exception accepts on `today`.
    pub fn apply(&self, findings: &mut [Finding], today: NaiveDate) -> Applied {
        let mut applied = Applied::default();
        for entry in &self.entries {
            let label = entry.label();
            if entry.expires < today {
                applied
                    .expired
                    .push(format!("{label} (expired {})", entry.expires));
                continue;
            }
            let mut used = false;
            for finding in findings.iter_mut() {
                if finding.exception.is_none() && entry.matches(finding) {
                    finding.exception =
                        Some(format!("{} (until {})", entry.reason.trim(), entry.expires));
                    applied.accepted += 1;
                    used = true;
                }
            }
            if !used {
                applied.unused.push(label);
            }
        }
        applied
    }
}

impl Exception {
    fn matches(&self, finding: &Finding) -> bool {
        let resource = &finding.resource;
        (self.control == "*" || self.control == finding.control.id)
            && self.kind.as_ref().is_none_or(|kind| *kind == resource.kind)
            && self
                .name
                .as_ref()
                .is_none_or(|name| glob(name, &resource.name))
            && self.namespace.as_ref().is_none_or(|namespace| {
                resource
                    .namespace
                    .as_deref()
                    .is_some_and(|own| glob(namespace, own))
            })
    }

    fn label(&self) -> String {
        let mut parts = vec![self.control.clone()];
        parts.extend(self.namespace.iter().map(|ns| format!("namespace {ns}")));
        parts.extend(self.kind.iter().cloned());
        parts.extend(self.name.iter().map(|name| format!("name {name}")));
        parts.join(" ")
    }
}

/// Matches `text` against `pattern`, where `*` stands for any run of
/// characters.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    if !text.ends_with(last) {
        return false;
    }
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(index) => rest = &rest[index + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob("kube-*", "kube-proxy"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxc"));
        assert!(!glob("ab*ba", "aba"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    #[test]
    fn unknown_control_rejected() {
        let text =
            "exceptions:\n  - control: no-such-control\n    reason: r\n    expires: 2030-01-01\n";
        let error = Exceptions::parse(text, "ex.yaml").unwrap_err();
        assert!(error.to_string().contains("no-such-control"), "{error}");
    }

    #[test]
    fn missing_expiry_rejected() {
        let text = "exceptions:\n  - control: host-network\n    reason: r\n";
        let error = Exceptions::parse(text, "ex.yaml").unwrap_err();
        assert!(error.to_string().contains("expires"), "{error}");
    }
}
