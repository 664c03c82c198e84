//! Role objects with wildcards (CIS 5.1.3), regardless of their subjects.

use super::rbac;
use crate::control::{Control, Severity};
use crate::finding::{Sink, effective_namespace};
use crate::rbac::RbacGraph;

pub(crate) static WILDCARD_IN_ROLE: Control = rbac(
    "rbac-wildcard-in-role",
    "Role grants wildcard verbs or resources",
    Severity::Medium,
    "A `*` in verbs or resources grants everything that exists, and everything added later: new subresources, custom resources and verbs such as escalate, bind and impersonate.",
    "List the verbs and resources the role's subjects use instead of `*`.",
    &["5.1.3"],
    &["4.3.1"],
    &[],
    &["C-0187"],
);

/// Reports each wildcard verb list and resource list of every Role and
/// ClusterRole in the input, except Kubernetes' own default roles and
/// aggregated ClusterRoles, whose rules are copies of the roles they
/// select (which are reported themselves).
pub(super) fn check(graph: &RbacGraph<'_>, sink: &mut Sink) {
    for role in graph.roles() {
        let Some(object) = role.object else {
            continue;
        };
        if role.is_kubernetes_default() || role.aggregation.is_some() {
            continue;
        }
        sink.evaluated_in(&WILDCARD_IN_ROLE, effective_namespace(object));

        for (index, rule) in role.own_rules.iter().enumerate() {
            if rule.verbs.iter().any(|verb| verb == "*") {
                let message = format!("{} rules[{index}] allows every verb (*)", role.id);
                sink.fail(
                    &WILDCARD_IN_ROLE,
                    object,
                    None,
                    Some(format!("rules[{index}].verbs")),
                    message,
                );
            }
            let wildcards: Vec<&str> = rule
                .resources
                .iter()
                .flatten()
                .filter(|resource| *resource == "*" || resource.starts_with("*/"))
                .map(String::as_str)
                .collect();
            if !wildcards.is_empty() {
                let message = format!(
                    "{} rules[{index}] allows the resources {}",
                    role.id,
                    wildcards.join(", ")
                );
                sink.fail(
                    &WILDCARD_IN_ROLE,
                    object,
                    None,
                    Some(format!("rules[{index}].resources")),
                    message,
                );
            }
        }
    }
}
