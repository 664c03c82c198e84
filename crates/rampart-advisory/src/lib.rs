//! Advisories for rampart: one normalised record for every feed
//! ([`model`]), the namespaces that key them ([`namespace`]), importers for
//! the native feed formats, and the embedded database that `rampart scan`
//! reads.

pub mod build;
pub mod cvss;
pub mod import;
pub mod model;
pub mod namespace;
pub mod store;
pub mod update;

pub use model::{
    Advisory, AffectedPackage, EpssScore, KevEntry, Rating, Reference, Severity, SeverityKind,
    Status,
};
pub use namespace::Namespace;
