//! Kubernetes posture checks for rampart.
//!
//! This crate evaluates the Pod Security Standards as Kubernetes'
//! pod-security-admission does: the same check ids, levels (baseline,
//! restricted) and policy versions (`v1.0` … `latest`), over every
//! pod-bearing kind, including init and ephemeral containers.

mod checks;
mod level;
mod manifest;
mod pod;

pub use checks::{Violation, check_ids, evaluate};
pub use level::{LATEST_KNOWN_MINOR, Level, ParseError, PolicyVersion};
pub use manifest::{
    InvalidObject, MAX_MANIFEST_BYTES, MAX_OBJECTS, ManifestError, Manifests, Workload,
    parse_manifests,
};
pub use pod::PodView;
