//! Kubernetes posture checks for rampart.
//!
//! The crate reads manifests (or objects listed from a cluster) into typed
//! k8s-openapi objects and evaluates controls over them: the Pod Security
//! Standards as Kubernetes' pod-security-admission does (same check ids,
//! levels and policy versions), escape-to-host settings, RBAC, NetworkPolicy
//! coverage, secrets, images, admission coverage, and resource limits and
//! probes. Each control maps to the CIS Kubernetes Benchmark, NIST SP
//! 800-190, the NSA/CISA hardening guide and MITRE ATT&CK for Containers.

mod audit;
mod block_yaml;
#[cfg(test)]
mod block_yaml_tests;
mod checks;
mod cilium;
mod control;
mod controls;
mod exceptions;
mod finding;
mod level;
mod locate;
mod manifest;
mod message;
mod pod;
mod rbac;
mod selector;

pub use audit::{
    AuditOptions, AuditResult, Context, ControlResult, FrameworkScore, audit, audit_with_placed,
};
pub use checks::{Violation, check_ids, evaluate};
pub use cilium::{CidrRule, CiliumNetworkPolicy, CiliumPeerRule, CiliumRule, DefaultDeny};
pub use control::{Category, Control, Framework, PssLevel, Severity, catalogue, control};
pub use exceptions::{Applied, Exception, Exceptions, ExceptionsError};
pub use finding::{Finding, ResourceRef, Sink, Warning, effective_namespace};
pub use level::{LATEST_KNOWN_MINOR, Level, ParseError, PolicyVersion};
pub use locate::{FieldQuery, TextPosition, locate_field, locate_fields, locate_findings};
pub use manifest::{
    InvalidObject, MAX_MANIFEST_BYTES, MAX_OBJECTS, ManifestError, Manifests, Object, Origin,
    PlacedObject, RETIRED_VERSIONS, Resource, RetiredVersion, Workload, parse_manifests,
    read_object,
};
pub use pod::{ContainerKind, ContainerPath, ContainerRef, PodView};
pub use rbac::{
    BindingId, BindingKind, Grant, Query, QueryError, RbacGraph, RoleId, RoleKind, Scope, Subject,
    SubjectKind, Target, who_can,
};
