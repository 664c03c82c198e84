//! Bindings to identities that should hold no role: the group
//! system:masters, the default service accounts, and unauthenticated
//! clients.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::{grant_finding, rbac, through};
use crate::control::{Control, Severity};
use crate::finding::{Finding, Sink};
use crate::rbac::{BindingKind, BindingNode, RbacGraph, Scope, Subject, SubjectKind};

pub(crate) static SYSTEM_MASTERS: Control = rbac(
    "rbac-system-masters-binding",
    "Binding names the group system:masters",
    Severity::Medium,
    "Members of system:masters bypass authorization, and their client certificates cannot be revoked before they expire. A binding that names the group, other than Kubernetes' own cluster-admin binding, shows that identities in it are expected. RBAC objects do not show which certificates carry the group; rbac-impersonate reports subjects that can impersonate it.",
    "Give administrators a group of their own bound to the role they need, issue no certificates with the organization system:masters, and delete the binding.",
    &["5.1.7"],
    &["4.3.1"],
    &["T1078"],
    &["C-0246"],
);

pub(crate) static DEFAULT_SERVICE_ACCOUNT: Control = rbac(
    "rbac-default-service-account-bound",
    "Default service account has a role",
    Severity::Medium,
    "Every pod that names no service account runs as its namespace's default account, so a role bound to it is given to all of them.",
    "Create a service account for the workload that needs the role, bind the role to it, and remove the default account from the binding.",
    &["5.1.5"],
    &["4.3.2"],
    &["T1078.001"],
    &["C-0189"],
);

pub(crate) static ANONYMOUS_ACCESS: Control = rbac(
    "rbac-anonymous-access",
    "Unauthenticated clients have a role",
    Severity::High,
    "With anonymous authentication on, the API server's default, any client that reaches it acts as system:anonymous in the group system:unauthenticated. Kubernetes grants them only the health and version endpoints; any other grant is open to whoever can reach the API server.",
    "Remove system:anonymous and system:unauthenticated from the binding, and turn anonymous authentication off where health checks do not need it.",
    &[],
    &["4.3.2"],
    &["T1078"],
    &["C-0262"],
);

/// The paths Kubernetes' default ClusterRole system:public-info-viewer
/// grants to unauthenticated clients.
const PUBLIC_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/version/"];

pub(super) fn check(graph: &RbacGraph<'_>, sink: &mut Sink) {
    check_subjects(graph, sink);
    check_anonymous(graph, sink);
}

/// Reports bindings that name system:masters or a default service
/// account, whether or not their role is in the input.
fn check_subjects(graph: &RbacGraph<'_>, sink: &mut Sink) {
    for binding in graph.bindings() {
        let role = &binding.role_ref;
        for (index, subject) in &binding.subjects {
            let control = if reports_masters(binding, subject) {
                &SYSTEM_MASTERS
            } else if subject.is_default_service_account()
                && !subject.is_control_plane_grant(&role.name)
            {
                &DEFAULT_SERVICE_ACCOUNT
            } else {
                continue;
            };
            let message = format!(
                "{} grants {} {} to {} {}",
                binding.id,
                role.kind,
                role.name,
                subject,
                binding.scope().describe()
            );
            sink.push(Finding {
                control,
                severity: control.severity,
                resource: Arc::new(subject.resource_ref()),
                origin: Some(Arc::new(binding.origin().clone())),
                container: None,
                field: Some(format!("subjects[{index}]")),
                message,
                exception: None,
            });
        }
    }
}

/// Returns whether `binding` names `subject` as the group system:masters
/// in a binding other than Kubernetes' own cluster-admin binding.
pub(super) fn reports_masters(binding: &BindingNode<'_>, subject: &Subject) -> bool {
    let role = &binding.role_ref;
    let is_default_admin_binding = binding.id.kind == BindingKind::ClusterRoleBinding
        && binding.id.name == "cluster-admin"
        && role.kind == "ClusterRole"
        && role.name == "cluster-admin";
    is_masters(subject) && !is_default_admin_binding
}

fn is_masters(subject: &Subject) -> bool {
    subject.kind == SubjectKind::Group && subject.name == "system:masters"
}

/// Reports rules granted to unauthenticated clients beyond the public
/// health and version endpoints.
fn check_anonymous(graph: &RbacGraph<'_>, sink: &mut Sink) {
    let mut reported = HashSet::new();
    for grant in graph.grants() {
        if !grant.subject.is_unauthenticated() {
            continue;
        }
        let rule = graph.rule(grant.rule);
        let Some(what) = beyond_public(rule, &grant.scope) else {
            continue;
        };
        let key = (
            grant.subject,
            &grant.binding.id,
            grant.rule.role,
            grant.rule.rule,
        );
        if !reported.insert(key) {
            continue;
        }
        let message = format!(
            "{} can {what} {} without credentials {}",
            grant.subject,
            grant.scope.describe(),
            through(graph, &grant)
        );
        sink.push(grant_finding(
            graph,
            &ANONYMOUS_ACCESS,
            ANONYMOUS_ACCESS.severity,
            &grant,
            message,
        ));
    }
}

/// Returns what `rule` allows beyond the public endpoints, or `None`. A
/// RoleBinding cannot grant non-resource URLs.
fn beyond_public(rule: &PolicyRule, scope: &Scope) -> Option<String> {
    let listed = |items: &Option<Vec<String>>| !items.as_deref().unwrap_or_default().is_empty();
    let verbs = rule.verbs.join(", ");
    if listed(&rule.api_groups) && listed(&rule.resources) && !rule.verbs.is_empty() {
        let resources = rule.resources.as_deref().unwrap_or_default().join(", ");
        return Some(format!("{verbs} {resources}"));
    }
    if *scope != Scope::Cluster || rule.verbs.is_empty() {
        return None;
    }
    let private: Vec<&str> = rule
        .non_resource_urls
        .iter()
        .flatten()
        .map(String::as_str)
        .filter(|path| !PUBLIC_PATHS.contains(path))
        .collect();
    (!private.is_empty()).then(|| format!("{verbs} {}", private.join(", ")))
}
