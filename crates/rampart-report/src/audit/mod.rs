//! Renderers of `rampart audit` results: a terminal table, rampart's JSON
//! (`rampart.audit/v1`), SARIF 2.1.0, JUnit XML and Kubernetes PolicyReport.

mod json;
mod table;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rampart_posture::{
    Applied, AuditResult, ControlResult, Framework, FrameworkScore, PolicyVersion,
};
use serde::Serialize;

/// An input that could not be read, or an object that did not match its
/// schema. The other inputs are still audited.
#[derive(Clone, Debug, Serialize)]
pub struct InputError {
    /// File path, `-` for stdin, or the API path of a cluster list.
    pub source: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

/// Everything one audit produced, ready to render.
#[derive(Debug)]
pub struct AuditReport {
    pub created: DateTime<Utc>,
    /// The inputs as given: paths, `-`, or `cluster:CONTEXT`.
    pub sources: Vec<String>,
    pub pss_version: PolicyVersion,
    pub frameworks: Vec<Framework>,
    pub allowed_registries: Vec<String>,
    /// Objects audited, by kind.
    pub objects: BTreeMap<String, usize>,
    /// Objects of kinds no control reads, by `apiVersion/kind`.
    pub skipped: BTreeMap<String, usize>,
    pub errors: Vec<InputError>,
    /// What could not be seen, such as a cluster list the credentials may
    /// not read; controls that need it are incomplete.
    pub gaps: Vec<String>,
    pub warnings: Vec<String>,
    pub result: AuditResult,
    pub controls: BTreeMap<&'static str, ControlResult>,
    pub scores: Vec<FrameworkScore>,
    pub exceptions: Applied,
}

impl AuditReport {
    /// Builds the report; `result` must already carry the exceptions and
    /// contain only the findings of `frameworks`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        created: DateTime<Utc>,
        sources: Vec<String>,
        pss_version: PolicyVersion,
        frameworks: Vec<Framework>,
        allowed_registries: Vec<String>,
        objects: BTreeMap<String, usize>,
        skipped: BTreeMap<String, usize>,
        result: AuditResult,
        exceptions: Applied,
    ) -> AuditReport {
        let controls = result.control_results();
        let scores = result.scores(&frameworks);
        AuditReport {
            created,
            sources,
            pss_version,
            frameworks,
            allowed_registries,
            objects,
            skipped,
            errors: Vec::new(),
            gaps: Vec::new(),
            warnings: Vec::new(),
            result,
            controls,
            scores,
            exceptions,
        }
    }

    /// Returns whether `control` is in one of the selected frameworks.
    fn selected(&self, control: &rampart_posture::Control) -> bool {
        self.frameworks
            .iter()
            .any(|framework| framework.includes(control))
    }
}

/// An output format of `rampart audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditFormat {
    Table,
    Json,
}

impl FromStr for AuditFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "table" => Ok(AuditFormat::Table),
            "json" => Ok(AuditFormat::Json),
            _ => Err(format!(
                "unknown output format {text:?}; expected table, json, sarif, junit or policyreport"
            )),
        }
    }
}

impl fmt::Display for AuditFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuditFormat::Table => "table",
            AuditFormat::Json => "json",
        })
    }
}

/// Renders `report` as `format`; `color` applies to the table only.
pub fn render_audit(report: &AuditReport, format: AuditFormat, color: bool) -> String {
    match format {
        AuditFormat::Table => table::render(report, color),
        AuditFormat::Json => json::render(report),
    }
}
