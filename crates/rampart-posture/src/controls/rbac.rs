//! RBAC: what each user, group and service account is allowed through the
//! bindings of the input, checked against the CIS Kubernetes Benchmark's
//! section 5.1 and Kubescape's RBAC controls.
//!
//! Subject controls report the subject (User, Group or ServiceAccount) as
//! the resource, and the granting rule as the location: the origin of the
//! role the rule was written in, and the rule's path in it. Grants that are part of the control plane's own set-up are
//! skipped (see [`Subject::is_control_plane_grant`]).

mod admin;
mod bindings;
mod permissions;
mod roles;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::audit::Context;
use crate::control::{Category, Control, Severity};
use crate::finding::{Finding, Sink};
use crate::rbac::{GrantRef, RbacGraph, Subject};

pub(crate) use admin::{CLUSTER_ADMIN, NAMESPACE_ADMIN};
pub(crate) use bindings::{ANONYMOUS_ACCESS, DEFAULT_SERVICE_ACCOUNT, SYSTEM_MASTERS};
pub(crate) use permissions::{
    APPROVE_CSR, CREATE_PERSISTENT_VOLUMES, CREATE_PODS, CREATE_TOKENS, ESCALATE_OR_BIND, EXEC,
    IMPERSONATE, MODIFY_WEBHOOKS, NODE_PROXY, PORT_FORWARD, READ_SECRETS,
};
pub(crate) use roles::WILDCARD_IN_ROLE;

/// Builds an RBAC control; the NSA/CISA guide covers all of them in its
/// authentication and authorization section.
#[allow(clippy::too_many_arguments)]
const fn rbac(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
    cis: &'static [&'static str],
    nist_800_190: &'static [&'static str],
    mitre: &'static [&'static str],
    kubescape: &'static [&'static str],
) -> Control {
    Control {
        id,
        title,
        category: Category::Rbac,
        severity,
        rationale,
        remediation,
        pss_level: None,
        cis,
        nist_800_190,
        nsa: &["Authentication and authorization"],
        mitre,
        kubescape,
    }
}

pub(crate) static CONTROLS: [&Control; 17] = [
    &CLUSTER_ADMIN,
    &NAMESPACE_ADMIN,
    &READ_SECRETS,
    &CREATE_PODS,
    &EXEC,
    &ESCALATE_OR_BIND,
    &IMPERSONATE,
    &CREATE_PERSISTENT_VOLUMES,
    &NODE_PROXY,
    &APPROVE_CSR,
    &MODIFY_WEBHOOKS,
    &CREATE_TOKENS,
    &PORT_FORWARD,
    &WILDCARD_IN_ROLE,
    &SYSTEM_MASTERS,
    &DEFAULT_SERVICE_ACCOUNT,
    &ANONYMOUS_ACCESS,
];

/// Runs every RBAC control over the bindings and roles among the objects.
pub(crate) fn check(context: &Context<'_>, sink: &mut Sink) {
    let graph = RbacGraph::build(context.objects, context.options.whole_cluster);
    sink.warnings.extend(graph.warnings().iter().cloned());

    count_subjects(&graph, sink);

    admin::check(&graph, sink);
    permissions::check(&graph, sink);
    bindings::check(&graph, sink);
    roles::check(&graph, sink);
}

/// Counts each subject that has at least one binding outside the control
/// plane's set-up once for each subject control, in the subject's
/// namespace (none for users and groups), because findings name the
/// subject.
///
/// The group system:masters is always a control-plane identity, yet
/// `rbac-system-masters-binding` reports it when a binding other than
/// Kubernetes' own cluster-admin binding names it. That control counts it
/// then too, so that every subject it fails is among those it evaluated.
fn count_subjects(graph: &RbacGraph<'_>, sink: &mut Sink) {
    let mut subjects: BTreeSet<&Subject> = BTreeSet::new();
    let mut masters: Option<&Subject> = None;
    for binding in graph.bindings() {
        for (_, subject) in &binding.subjects {
            if !subject.is_control_plane_grant(&binding.role_ref.name) {
                subjects.insert(subject);
            }
            if bindings::reports_masters(binding, subject) {
                masters = Some(subject);
            }
        }
    }

    for subject in &subjects {
        let namespace = subject.namespace.as_deref();
        for control in CONTROLS {
            if control.id != WILDCARD_IN_ROLE.id {
                sink.evaluated_in(control, namespace);
            }
        }
    }
    if let Some(masters) = masters
        && !subjects.contains(masters)
    {
        sink.evaluated_in(&SYSTEM_MASTERS, masters.namespace.as_deref());
    }
}

/// Returns a finding of `control` on the subject of `grant`, located at
/// the verbs of the granting rule in the role it was written in (the
/// source role of an aggregated rule). A Kubernetes default role that the
/// input lacks has no file, so the finding points at the binding's
/// `roleRef` instead.
fn grant_finding(
    graph: &RbacGraph<'_>,
    control: &'static Control,
    severity: Severity,
    grant: &GrantRef<'_, '_>,
    message: String,
) -> Finding {
    let (origin, field) = match graph.role_of(grant.rule).object {
        Some(role) => (&role.origin, format!("rules[{}].verbs", grant.rule.rule)),
        None => (grant.binding.origin(), "roleRef.name".to_owned()),
    };
    Finding {
        control,
        severity,
        resource: Arc::new(grant.subject.resource_ref()),
        origin: Some(Arc::new(origin.clone())),
        container: None,
        field: Some(field),
        message,
        exception: None,
    }
}

/// Returns "through BINDING, which grants ROLE", naming the role the rule
/// was aggregated from when it is another one.
fn through(graph: &RbacGraph<'_>, grant: &GrantRef<'_, '_>) -> String {
    let source = graph.role_of(grant.rule);
    let role = &grant.role.id;
    let default = if grant.role.object.is_none() {
        " (the Kubernetes default)"
    } else {
        ""
    };
    if source.id == *role {
        format!("through {}, which grants {role}{default}", grant.binding.id)
    } else {
        format!(
            "through {}, which grants {role} (rule aggregated from {})",
            grant.binding.id, source.id
        )
    }
}
