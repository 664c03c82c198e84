//! The control catalogue: what each control checks, how severe a failure
//! is, how to fix it, and where it sits in the CIS Kubernetes Benchmark,
//! NIST SP 800-190, the NSA/CISA Kubernetes Hardening Guide and MITRE
//! ATT&CK for Containers.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::level::Level;

/// Severity of a failed control, ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "invalid severity {text:?}; expected low, medium, high or critical"
            )),
        }
    }
}

/// The area a control belongs to, used to group the table output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    PodSecurityStandards,
    EscapeToHost,
    Rbac,
    NetworkPolicy,
    Secrets,
    Images,
    Admission,
    Resources,
    General,
}

impl Category {
    pub fn title(self) -> &'static str {
        match self {
            Category::PodSecurityStandards => "Pod Security Standards",
            Category::EscapeToHost => "Escape to host",
            Category::Rbac => "RBAC",
            Category::NetworkPolicy => "NetworkPolicy",
            Category::Secrets => "Secrets",
            Category::Images => "Images",
            Category::Admission => "Admission",
            Category::Resources => "Resources and probes",
            Category::General => "General policies",
        }
    }
}

/// One control: a property of the configuration that is checked on every
/// object it applies to.
#[derive(Debug, Serialize)]
pub struct Control {
    /// Stable kebab-case id, used in exceptions and outputs.
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub rationale: &'static str,
    pub remediation: &'static str,
    /// Pod Security Standards level whose checks include this control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pss_level: Option<PssLevel>,
    /// CIS Kubernetes Benchmark v1.12 recommendation numbers, such as `5.2.2`.
    pub cis: &'static [&'static str],
    /// NIST SP 800-190 risk sections, such as `4.4.3`.
    pub nist_800_190: &'static [&'static str],
    /// NSA/CISA Kubernetes Hardening Guide (v1.2) sections.
    pub nsa: &'static [&'static str],
    /// MITRE ATT&CK for Containers technique ids, such as `T1611`.
    pub mitre: &'static [&'static str],
    /// Kubescape control ids (`C-0057`) whose intent this control shares.
    pub kubescape: &'static [&'static str],
}

/// The Pod Security Standards level of a PSS control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    Baseline,
    Restricted,
}

impl From<PssLevel> for Level {
    fn from(level: PssLevel) -> Level {
        match level {
            PssLevel::Baseline => Level::Baseline,
            PssLevel::Restricted => Level::Restricted,
        }
    }
}

/// A named selection of controls with its own score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    PssBaseline,
    PssRestricted,
    Cis,
    Nsa,
    Mitre,
}

impl Framework {
    pub const ALL: [Framework; 5] = [
        Framework::PssBaseline,
        Framework::PssRestricted,
        Framework::Cis,
        Framework::Nsa,
        Framework::Mitre,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Framework::PssBaseline => "pss-baseline",
            Framework::PssRestricted => "pss-restricted",
            Framework::Cis => "cis",
            Framework::Nsa => "nsa",
            Framework::Mitre => "mitre",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Framework::PssBaseline => "Pod Security Standards (baseline)",
            Framework::PssRestricted => "Pod Security Standards (restricted)",
            Framework::Cis => "CIS Kubernetes Benchmark v1.12",
            Framework::Nsa => "NSA/CISA Kubernetes Hardening Guide",
            Framework::Mitre => "MITRE ATT&CK for Containers",
        }
    }

    /// Returns whether `control` belongs to this framework.
    pub fn includes(self, control: &Control) -> bool {
        match self {
            Framework::PssBaseline => control.pss_level == Some(PssLevel::Baseline),
            Framework::PssRestricted => control.pss_level.is_some(),
            Framework::Cis => !control.cis.is_empty(),
            Framework::Nsa => !control.nsa.is_empty(),
            Framework::Mitre => !control.mitre.is_empty(),
        }
    }

    /// Parses a `--framework` value; `all` selects every framework.
    pub fn parse_selection(text: &str) -> Result<Vec<Framework>, String> {
        if text == "all" {
            return Ok(Framework::ALL.to_vec());
        }
        Framework::ALL
            .into_iter()
            .find(|framework| framework.id() == text)
            .map(|framework| vec![framework])
            .ok_or_else(|| {
                format!(
                    "unknown framework {text:?}; expected pss-baseline, pss-restricted, cis, nsa, mitre or all"
                )
            })
    }
}

/// Returns every control, grouped by category.
pub fn catalogue() -> &'static [&'static Control] {
    &crate::controls::CATALOGUE
}

/// Returns the control with `id`, if there is one.
pub fn control(id: &str) -> Option<&'static Control> {
    catalogue().iter().copied().find(|control| control.id == id)
}
