//! Kubernetes RBAC, evaluated as the API server's RBAC authorizer and the
//! controller manager's ClusterRole aggregation do, without a cluster.
//!
//! [`RbacGraph`] resolves every binding to its role and subjects, and every
//! aggregated ClusterRole to the rules it collects. The RBAC controls and
//! [`RbacGraph::who_can`] ask it which subjects a request is allowed to.
//!
//! Not modelled: other authorizers (Node, webhook, ABAC) and the
//! `system:masters` group's bypass of authorization. Group membership is
//! not expanded, so a grant to a group is reported against the group.
//! Nor is the escalation check that lets a subject bind a role whose
//! permissions it already holds.

mod aggregation;
mod graph;
mod query;
mod resources;
mod rule;
mod subject;

pub use graph::{BindingId, BindingKind, RbacGraph, RoleId, RoleKind, Scope};
pub use query::{Grant, Query, QueryError, Target, who_can};
pub use subject::{Subject, SubjectKind};

pub(crate) use graph::{BindingNode, GrantRef};
pub(crate) use rule::{Allowance, Request, ResourceRequest, allows};
