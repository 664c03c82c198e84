//! Renderers of `rampart audit` results: a terminal table, rampart's JSON
//! (`rampart.audit/v1`), SARIF 2.1.0, JUnit XML and Kubernetes PolicyReport.

mod json;
mod junit;
mod policyreport;
mod sarif;
mod table;
mod text;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rampart_posture::{
    Applied, AuditResult, ControlResult, Finding, Framework, FrameworkScore, PolicyVersion,
    TextPosition,
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
    /// Line and column of each finding's field, in the order of
    /// `result.findings`; empty until [`AuditReport::set_positions`].
    positions: Vec<Option<TextPosition>>,
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
        let scores = AuditResult::scores(&controls, &frameworks);
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
            positions: Vec::new(),
            controls,
            scores,
            exceptions,
        }
    }

    /// Sets the position of each finding's field, one entry per finding
    /// in the order of `result.findings`, as
    /// [`rampart_posture::locate_findings`] returns them.
    ///
    /// # Panics
    ///
    /// When the number of positions differs from the number of findings.
    pub fn set_positions(&mut self, positions: Vec<Option<TextPosition>>) {
        assert_eq!(
            positions.len(),
            self.result.findings.len(),
            "one position per finding"
        );
        self.positions = positions;
    }

    /// Returns the position of the field of the finding at `index`.
    pub fn position(&self, index: usize) -> Option<TextPosition> {
        self.positions.get(index).copied().flatten()
    }

    /// Returns each finding with its position, in report order.
    pub(crate) fn located_findings(
        &self,
    ) -> impl Iterator<Item = (&Finding, Option<TextPosition>)> {
        self.result
            .findings
            .iter()
            .enumerate()
            .map(|(index, finding)| (finding, self.position(index)))
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
    /// rampart's JSON, `rampart.audit/v1`.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// Kubernetes `wgpolicyk8s.io/v1alpha2` PolicyReport and
    /// ClusterPolicyReport objects as a YAML stream.
    PolicyReport,
}

impl AuditFormat {
    pub const ALL: [AuditFormat; 5] = [
        AuditFormat::Table,
        AuditFormat::Json,
        AuditFormat::Sarif,
        AuditFormat::Junit,
        AuditFormat::PolicyReport,
    ];

    /// Returns the name that `--output` takes.
    pub fn name(self) -> &'static str {
        match self {
            AuditFormat::Table => "table",
            AuditFormat::Json => "json",
            AuditFormat::Sarif => "sarif",
            AuditFormat::Junit => "junit",
            AuditFormat::PolicyReport => "policyreport",
        }
    }
}

impl FromStr for AuditFormat {
    type Err = String;

    /// Parses a format name. Matching ignores ASCII case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AuditFormat::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                format!(
                    "unknown output format {text:?}; expected table, json, sarif, junit or policyreport"
                )
            })
    }
}

impl fmt::Display for AuditFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Renders `report` as `format`; `color` applies to the table only.
pub fn render_audit(report: &AuditReport, format: AuditFormat, color: bool) -> String {
    match format {
        AuditFormat::Table => table::render(report, color),
        AuditFormat::Json => json::render(report),
        AuditFormat::Sarif => sarif::render(report),
        AuditFormat::Junit => junit::render(report),
        AuditFormat::PolicyReport => policyreport::render(report),
    }
}

/// Writes `report` as `format` to `out`, the same bytes that
/// [`render_audit`] returns. The JSON document is written in parts as it
/// is rendered, so it never exists whole in memory.
pub fn write_audit(
    report: &AuditReport,
    format: AuditFormat,
    color: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        AuditFormat::Json => json::write(report, out),
        other => out.write_all(render_audit(report, other, color).as_bytes()),
    }
}

/// Returns `source:line`, or the source alone when the line is unknown.
fn place(source: &str, position: Option<TextPosition>) -> String {
    match position {
        Some(position) => format!("{source}:{}", position.line),
        None => source.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in AuditFormat::ALL {
            assert_eq!(format.name().parse::<AuditFormat>(), Ok(format));
            assert_eq!(format.to_string(), format.name());
        }
        assert_eq!("SARIF".parse::<AuditFormat>(), Ok(AuditFormat::Sarif));
    }

    #[test]
    fn unknown_format_rejected() {
        let error = "xml".parse::<AuditFormat>().unwrap_err();
        assert!(error.contains("\"xml\""), "{error}");
        assert!(error.contains("policyreport"), "{error}");
    }
}
