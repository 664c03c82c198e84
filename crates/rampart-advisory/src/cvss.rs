//! CVSS base scores computed from vector strings, for feeds that publish a
//! vector without its score (OSV `severity[]`).
//!
//! Implements the base equations of CVSS v3.1 (FIRST, "CVSS v3.1
//! Specification Document", section 7.1 and Appendix A) and CVSS v2 (FIRST,
//! "A Complete Guide to the CVSS Version 2.0", section 3.2.1). Temporal and
//! environmental metrics are validated but do not change the base score.
//!
//! Traps:
//! - v3.0 and v3.1 share the base equations. v3.0 defines Roundup as a plain
//!   ceiling to one decimal, which floating point overshoots (`4.000002` gives
//!   4.1). v3.1 redefines it on integers, and it is used here for both
//!   versions because it computes the same mathematical ceiling.
//! - Privileges Required weighs more when Scope is Changed (L 0.68, H 0.5).
//! - v2 has no prefix (`AV:N/AC:L/Au:N/C:P/I:P/A:P`); NVD sometimes wraps it
//!   in parentheses.
//! - CVSS v4.0 scores come from a MacroVector lookup table, not a formula.
//!   NOTE: v4.0 vectors are recognised but not scored ([`base_score`]
//!   returns [`CvssError::Unsupported`]).

use crate::{Rating, Severity, SeverityKind};

/// A vector that yields no base score.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CvssError {
    #[error("invalid CVSS vector {vector:?}: {reason}")]
    Invalid { vector: String, reason: String },
    #[error("CVSS vector {vector:?} is recognised, but rampart does not compute {version} scores")]
    Unsupported {
        vector: String,
        version: &'static str,
    },
}

impl CvssError {
    fn invalid(vector: &str, reason: impl Into<String>) -> Self {
        CvssError::Invalid {
            vector: vector.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Computes the base score of a CVSS v2, v3.0 or v3.1 vector, choosing the
/// version by prefix as [`SeverityKind::of_vector`] does.
pub fn base_score(vector: &str) -> Result<f32, CvssError> {
    match SeverityKind::of_vector(vector) {
        SeverityKind::CvssV4 => Err(CvssError::Unsupported {
            vector: vector.to_owned(),
            version: "CVSS v4.0",
        }),
        SeverityKind::CvssV3 => v3_base_score(vector),
        _ => v2_base_score(vector),
    }
}

/// Builds the severity of a CVSS vector: its kind, its base score when it
/// yields one, and the rating of that score (`Unknown` without a score).
pub fn severity_of_vector(source: &str, vector: &str) -> Severity {
    let vector = vector.trim();
    let kind = SeverityKind::of_vector(vector);
    let score = base_score(vector).ok();
    let rating = match (kind, score) {
        (SeverityKind::CvssV2, Some(score)) => Rating::from_cvss_v2_score(score),
        (_, Some(score)) => Rating::from_cvss_score(score),
        (_, None) => Rating::Unknown,
    };
    Severity {
        source: source.to_owned(),
        kind,
        vector: Some(vector.to_owned()),
        score,
        rating,
    }
}

/// One metric of a vector: its abbreviation, the values it allows, and
/// whether a base score needs it.
struct Metric {
    name: &'static str,
    values: &'static [&'static str],
    base: bool,
}

const fn base(name: &'static str, values: &'static [&'static str]) -> Metric {
    Metric {
        name,
        values,
        base: true,
    }
}

const fn optional(name: &'static str, values: &'static [&'static str]) -> Metric {
    Metric {
        name,
        values,
        base: false,
    }
}

/// The metrics of CVSS v3.0 and v3.1 (specification section 2 to 4).
const V3_METRICS: [Metric; 22] = [
    base("AV", &["N", "A", "L", "P"]),
    base("AC", &["L", "H"]),
    base("PR", &["N", "L", "H"]),
    base("UI", &["N", "R"]),
    base("S", &["U", "C"]),
    base("C", &["H", "L", "N"]),
    base("I", &["H", "L", "N"]),
    base("A", &["H", "L", "N"]),
    optional("E", &["X", "H", "F", "P", "U"]),
    optional("RL", &["X", "U", "W", "T", "O"]),
    optional("RC", &["X", "C", "R", "U"]),
    optional("CR", &["X", "H", "M", "L"]),
    optional("IR", &["X", "H", "M", "L"]),
    optional("AR", &["X", "H", "M", "L"]),
    optional("MAV", &["X", "N", "A", "L", "P"]),
    optional("MAC", &["X", "L", "H"]),
    optional("MPR", &["X", "N", "L", "H"]),
    optional("MUI", &["X", "N", "R"]),
    optional("MS", &["X", "U", "C"]),
    optional("MC", &["X", "H", "L", "N"]),
    optional("MI", &["X", "H", "L", "N"]),
    optional("MA", &["X", "H", "L", "N"]),
];

/// The metrics of CVSS v2 (guide section 2).
const V2_METRICS: [Metric; 14] = [
    base("AV", &["L", "A", "N"]),
    base("AC", &["H", "M", "L"]),
    base("Au", &["M", "S", "N"]),
    base("C", &["N", "P", "C"]),
    base("I", &["N", "P", "C"]),
    base("A", &["N", "P", "C"]),
    optional("E", &["U", "POC", "F", "H", "ND"]),
    optional("RL", &["OF", "TF", "W", "U", "ND"]),
    optional("RC", &["UC", "UR", "C", "ND"]),
    optional("CDP", &["N", "L", "LM", "MH", "H", "ND"]),
    optional("TD", &["N", "L", "M", "H", "ND"]),
    optional("CR", &["L", "M", "H", "ND"]),
    optional("IR", &["L", "M", "H", "ND"]),
    optional("AR", &["L", "M", "H", "ND"]),
];

/// The base metric values of a parsed vector, in `metrics` order.
struct Values<'a> {
    metrics: &'static [Metric],
    values: Vec<Option<&'a str>>,
}

impl Values<'_> {
    fn get(&self, name: &str) -> &str {
        self.metrics
            .iter()
            .position(|metric| metric.name == name)
            .and_then(|index| self.values[index])
            .unwrap_or_default()
    }
}

/// Splits `metric:value` pairs separated by `/`, rejecting unknown metrics,
/// unknown values, repeated metrics and missing base metrics.
fn parse_metrics<'a>(
    vector: &str,
    body: &'a str,
    metrics: &'static [Metric],
) -> Result<Values<'a>, CvssError> {
    let mut values: Vec<Option<&str>> = vec![None; metrics.len()];

    for pair in body.split('/') {
        let Some((name, value)) = pair.split_once(':') else {
            return Err(CvssError::invalid(
                vector,
                format!("{pair:?} is not a metric:value pair"),
            ));
        };
        let Some(index) = metrics.iter().position(|metric| metric.name == name) else {
            return Err(CvssError::invalid(
                vector,
                format!("unknown metric {name:?}"),
            ));
        };
        if !metrics[index].values.contains(&value) {
            return Err(CvssError::invalid(
                vector,
                format!("invalid value {value:?} for metric {name}"),
            ));
        }
        if values[index].replace(value).is_some() {
            return Err(CvssError::invalid(
                vector,
                format!("metric {name} appears twice"),
            ));
        }
    }

    for (metric, value) in metrics.iter().zip(&values) {
        if metric.base && value.is_none() {
            return Err(CvssError::invalid(
                vector,
                format!("missing base metric {}", metric.name),
            ));
        }
    }
    Ok(Values { metrics, values })
}

/// Computes the base score of a `CVSS:3.0/…` or `CVSS:3.1/…` vector.
pub fn v3_base_score(vector: &str) -> Result<f32, CvssError> {
    let body = vector
        .strip_prefix("CVSS:3.1/")
        .or_else(|| vector.strip_prefix("CVSS:3.0/"))
        .ok_or_else(|| CvssError::invalid(vector, "expected prefix CVSS:3.0/ or CVSS:3.1/"))?;
    let values = parse_metrics(vector, body, &V3_METRICS)?;

    let scope_changed = values.get("S") == "C";
    let impact_weight = |name: &str| match values.get(name) {
        "H" => 0.56,
        "L" => 0.22,
        _ => 0.0,
    };
    let attack_vector = match values.get("AV") {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        _ => 0.2,
    };
    let attack_complexity = if values.get("AC") == "L" { 0.77 } else { 0.44 };
    let privileges_required = match (values.get("PR"), scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        (_, false) => 0.27,
        (_, true) => 0.5,
    };
    let user_interaction = if values.get("UI") == "N" { 0.85 } else { 0.62 };

    let impact_sub_score =
        1.0 - (1.0 - impact_weight("C")) * (1.0 - impact_weight("I")) * (1.0 - impact_weight("A"));
    let impact = if scope_changed {
        7.52 * (impact_sub_score - 0.029) - 3.25 * (impact_sub_score - 0.02_f64).powi(15)
    } else {
        6.42 * impact_sub_score
    };
    let exploitability =
        8.22 * attack_vector * attack_complexity * privileges_required * user_interaction;

    if impact <= 0.0 {
        return Ok(0.0);
    }
    let score = if scope_changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    };
    Ok(score as f32)
}

/// Rounds up to one decimal as CVSS v3.1 Appendix A defines it: on an
/// integer of five decimals, so `4.000002` stays 4.0.
fn roundup(value: f64) -> f64 {
    let scaled = (value * 100_000.0).round() as i64;
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}

/// Computes the base score of a CVSS v2 vector such as
/// `AV:N/AC:L/Au:N/C:P/I:P/A:P`, with or without parentheses or a
/// `CVSS:2.0/` prefix.
pub fn v2_base_score(vector: &str) -> Result<f32, CvssError> {
    let body = vector
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(vector);
    let body = body.strip_prefix("CVSS:2.0/").unwrap_or(body);
    let values = parse_metrics(vector, body, &V2_METRICS)?;

    let access_vector = match values.get("AV") {
        "L" => 0.395,
        "A" => 0.646,
        _ => 1.0,
    };
    let access_complexity = match values.get("AC") {
        "H" => 0.35,
        "M" => 0.61,
        _ => 0.71,
    };
    let authentication = match values.get("Au") {
        "M" => 0.45,
        "S" => 0.56,
        _ => 0.704,
    };
    let impact_weight = |name: &str| match values.get(name) {
        "P" => 0.275,
        "C" => 0.660,
        _ => 0.0,
    };

    let impact = 10.41
        * (1.0
            - (1.0 - impact_weight("C")) * (1.0 - impact_weight("I")) * (1.0 - impact_weight("A")));
    let exploitability = 20.0 * access_vector * access_complexity * authentication;
    let f_impact = if impact == 0.0 { 0.0 } else { 1.176 };
    let score = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f_impact;

    Ok(round_half_up(score) as f32)
}

/// Rounds to one decimal, halves up, as the v2 guide's `round_to_1_decimal`.
/// The value is first cut to five decimals so that floating-point noise
/// (`4.349999…` for 4.35) does not decide the rounding.
fn round_half_up(value: f64) -> f64 {
    let scaled = (value * 100_000.0).round() as i64;
    ((scaled + 5_000).div_euclid(10_000)) as f64 / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors and base scores as NVD publishes them.
    const V3_SCORES: [(&str, f32); 18] = [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
        ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2),
        ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.0),
        ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ];

    const V2_SCORES: [(&str, f32); 9] = [
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
        ("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3),
        ("AV:L/AC:L/Au:N/C:P/I:N/A:N", 2.1),
        ("AV:N/AC:L/Au:N/C:N/I:N/A:P", 5.0),
        ("AV:N/AC:M/Au:N/C:P/I:P/A:P", 6.8),
        ("AV:L/AC:L/Au:N/C:C/I:C/A:C", 7.2),
        ("AV:N/AC:H/Au:N/C:P/I:P/A:P", 5.1),
        ("AV:N/AC:L/Au:S/C:P/I:P/A:P", 6.5),
    ];

    #[test]
    fn v3_known_scores() {
        for (vector, expected) in V3_SCORES {
            assert_eq!(v3_base_score(vector), Ok(expected), "{vector}");
        }
    }

    #[test]
    fn v2_known_scores() {
        for (vector, expected) in V2_SCORES {
            assert_eq!(v2_base_score(vector), Ok(expected), "{vector}");
        }
    }

    #[test]
    fn v2_parenthesised_vector() {
        assert_eq!(v2_base_score("(AV:N/AC:L/Au:N/C:P/I:P/A:P)"), Ok(7.5));
    }

    #[test]
    fn v3_temporal_metrics_ignored() {
        let vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C";
        assert_eq!(v3_base_score(vector), Ok(9.8));
    }

    #[test]
    fn v3_roundup_integer_rule() {
        assert_eq!(roundup(4.000_002), 4.0);
        assert_eq!(roundup(4.02), 4.1);
        assert_eq!(roundup(4.0), 4.0);
    }

    #[test]
    fn v3_invalid_vectors() {
        let invalid = [
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
            "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "",
        ];
        for vector in invalid {
            assert!(v3_base_score(vector).is_err(), "{vector}");
        }
    }

    #[test]
    fn v4_unsupported() {
        let vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        assert!(matches!(
            base_score(vector),
            Err(CvssError::Unsupported { .. })
        ));
    }

    #[test]
    fn severity_rating_follows_score() {
        let severity = severity_of_vector("osv:pypi", "AV:N/AC:L/Au:N/C:C/I:C/A:C");
        assert_eq!(severity.kind, SeverityKind::CvssV2);
        assert_eq!(severity.score, Some(10.0));
        assert_eq!(severity.rating, Rating::High);
    }

    #[test]
    fn severity_v4_keeps_vector() {
        let vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        let severity = severity_of_vector("osv:crates.io", vector);
        assert_eq!(severity.kind, SeverityKind::CvssV4);
        assert_eq!(severity.vector.as_deref(), Some(vector));
        assert_eq!(severity.score, None);
        assert_eq!(severity.rating, Rating::Unknown);
    }
}
