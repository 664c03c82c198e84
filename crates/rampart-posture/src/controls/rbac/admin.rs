//! Subjects with every verb on every resource: cluster-admin or a role
//! like it, bound cluster-wide or in one namespace.
//!
//! A rule grants full access when its verbs and resources include `*`, its
//! API groups include `*` (every group, as cluster-admin) or `""` (the core
//! group: pods, secrets, service accounts and nodes, from which the rest
//! follows), and no resourceNames restrict it.

use std::collections::HashSet;

use super::{grant_finding, rbac, through};
use crate::control::{Control, Severity};
use crate::finding::Sink;
use crate::rbac::{Allowance, GrantRef, RbacGraph, Request, ResourceRequest, Scope, allows};

pub(crate) static CLUSTER_ADMIN: Control = rbac(
    "rbac-cluster-admin",
    "Subject has cluster-admin access",
    Severity::High,
    "A ClusterRoleBinding to cluster-admin, or to a role with every verb on every resource, gives the subject full control of the cluster; a stolen token or credential of that subject is the whole cluster. Bound to a default service account, to system:authenticated, system:unauthenticated or system:anonymous, or to all service accounts, it is open to every pod or client.",
    "Bind cluster-admin only to the few administrators who need it, and give everyone else, and every service account, a role with the verbs and resources they use.",
    &["5.1.1"],
    &["4.3.1"],
    &["T1078"],
    &["C-0035", "C-0185"],
);

pub(crate) static NAMESPACE_ADMIN: Control = rbac(
    "rbac-namespace-admin",
    "Subject has every permission in a namespace",
    Severity::Medium,
    "A RoleBinding to cluster-admin, or to a role with every verb on every resource, gives full control of the namespace: its secrets, its service accounts' tokens and any pod. In kube-system that is the control plane's own accounts, so the whole cluster.",
    "Bind the built-in admin or edit ClusterRole, or a role with the verbs and resources the subject uses, instead of a wildcard role.",
    &["5.1.3"],
    &["4.3.1"],
    &["T1078"],
    &["C-0035"],
);

/// Every verb on every resource of the core group, which a rule for `*`
/// or `""` groups allows.
const FULL_ACCESS: ResourceRequest<'static> = ResourceRequest::new("*", "", "*");

pub(super) fn check(graph: &RbacGraph<'_>, sink: &mut Sink) {
    let mut reported = HashSet::new();
    for grant in graph.grants() {
        if grant.subject.is_control_plane_grant(&grant.role.id.name) {
            continue;
        }
        let rule = graph.rule(grant.rule);
        if allows(rule, &Request::Resource(FULL_ACCESS)) != Some(Allowance::All) {
            continue;
        }
        let key = (
            grant.subject,
            &grant.binding.id,
            grant.rule.role,
            grant.rule.rule,
        );
        if !reported.insert(key) {
            continue;
        }

        let every_group = rule.api_groups.iter().flatten().any(|group| group == "*");
        let what = if every_group {
            "every verb on every resource of every API group"
        } else {
            "every verb on every resource of the core API group"
        };
        let message = format!(
            "{} has {what} {} {}",
            grant.subject,
            grant.scope.describe(),
            through(graph, &grant)
        );
        let (control, severity) = classify(&grant);
        sink.push(grant_finding(graph, control, severity, &grant, message));
    }
}

/// Returns the control and severity of a full-access grant. A cluster-wide
/// grant is cluster-admin, and critical for identities that every pod or
/// client has. A namespace grant is high in kube-system.
fn classify(grant: &GrantRef<'_, '_>) -> (&'static Control, Severity) {
    let open_to_all = grant.subject.is_everyone() || grant.subject.is_default_service_account();
    match &grant.scope {
        Scope::Cluster if open_to_all => (&CLUSTER_ADMIN, Severity::Critical),
        Scope::Cluster => (&CLUSTER_ADMIN, CLUSTER_ADMIN.severity),
        Scope::Namespace(_) if grant.subject.is_everyone() => {
            (&NAMESPACE_ADMIN, Severity::Critical)
        }
        Scope::Namespace(namespace) if namespace == "kube-system" => {
            (&NAMESPACE_ADMIN, Severity::High)
        }
        Scope::Namespace(_) => (&NAMESPACE_ADMIN, NAMESPACE_ADMIN.severity),
    }
}
