//! Matching inventories against advisories: findings with a status, a fixed
//! version, a severity with its provenance, KEV and EPSS, and the filters,
//! ignore rules and VEX statements that suppress findings.

pub mod distro;
pub mod finding;
pub mod language;
pub mod matcher;
pub mod policy;
pub mod severity;
pub mod vex;

pub use finding::{
    AdvisoryRef, Finding, MatchedPackage, SeverityEntry, Suppression, SuppressionKind,
};
pub use matcher::{MatchError, MatchOutcome, match_inventory};
