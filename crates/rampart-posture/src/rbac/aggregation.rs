//! ClusterRole aggregation, as kube-controller-manager's
//! clusterrole-aggregation controller computes it: for each selector of
//! `aggregationRule.clusterRoleSelectors` in order, the selected
//! ClusterRoles sorted by name (the aggregated role itself excluded), and
//! their rules appended unless an equal rule is already there.
//!
//! The controller reads the selected roles' current rules, which for an
//! aggregated role are its own aggregated rules, so nested aggregation
//! (admin selecting edit, which aggregates its own selection) converges to
//! a fixed point. This module computes that fixed point.

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::graph::{RoleKind, RoleNode, RuleRef};
use crate::finding::Warning;
use crate::selector;

/// Fills `rules` of every role: a role's own rules, and for an aggregated
/// ClusterRole the rules of the roles it selects.
pub(crate) fn resolve(roles: &mut [RoleNode<'_>], warnings: &mut Vec<Warning>) {
    for (index, role) in roles.iter_mut().enumerate() {
        role.rules = own_rules(index, role);
    }

    let selections: Vec<(usize, Vec<usize>)> = roles
        .iter()
        .enumerate()
        .filter_map(|(index, _)| {
            let selected = selected_roles(index, roles, warnings)?;
            Some((index, selected))
        })
        .collect();

    // Each pass carries rules one aggregation level further; a chain or a
    // cycle of n aggregated roles settles within n + 1 passes.
    for _ in 0..=selections.len() {
        let mut changed = false;
        for (index, selected) in &selections {
            let rules = aggregate(*index, selected, roles);
            if rules != roles[*index].rules {
                roles[*index].rules = rules;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

fn own_rules(index: usize, role: &RoleNode<'_>) -> Vec<RuleRef> {
    (0..role.own_rules.len())
        .map(|rule| RuleRef { role: index, rule })
        .collect()
}

/// Returns the roles selected by the aggregation rule of `roles[index]`,
/// in the controller's order, or `None` when the role aggregates nothing
/// or its rule is invalid (the controller then leaves its rules alone).
fn selected_roles(
    index: usize,
    roles: &[RoleNode<'_>],
    warnings: &mut Vec<Warning>,
) -> Option<Vec<usize>> {
    let role = &roles[index];
    let aggregation = role.aggregation?;
    let mut selected = Vec::new();
    for (position, spec) in aggregation
        .cluster_role_selectors
        .iter()
        .flatten()
        .enumerate()
    {
        if let Err(invalid) = selector::validate(spec) {
            warnings.push(role.warning(format!(
                "aggregationRule.clusterRoleSelectors[{position}] is invalid ({}); the aggregation controller leaves this role's rules unchanged",
                invalid.message
            )));
            return None;
        }
        let no_labels = BTreeMap::new();
        let mut matched: Vec<usize> = roles
            .iter()
            .enumerate()
            .filter(|(_, candidate)| {
                candidate.id.kind == RoleKind::ClusterRole
                    && candidate.id.name != role.id.name
                    && selector::matches(spec, candidate.labels.unwrap_or(&no_labels))
            })
            .map(|(other, _)| other)
            .collect();
        matched.sort_by(|a, b| roles[*a].id.name.cmp(&roles[*b].id.name));
        selected.extend(matched);
    }
    Some(selected)
}

/// Returns the rules of `selected` in order without repeats, then the
/// role's own rules that none of them has.
///
/// The controller replaces the role's own rules. They are kept here
/// because a role read from a cluster carries the controller's last
/// result, which is the only source when the selected roles are not in
/// the input. When they are, the copies compare equal and drop out.
// NOTE: a manifest that writes both `rules` and `aggregationRule` is
// checked with both, although the controller would drop the written rules.
fn aggregate(index: usize, selected: &[usize], roles: &[RoleNode<'_>]) -> Vec<RuleRef> {
    let mut rules: Vec<RuleRef> = Vec::new();
    let mut seen = HashSet::new();
    let sources = selected
        .iter()
        .flat_map(|role| roles[*role].rules.iter().copied())
        .chain(own_rules(index, &roles[index]));
    for candidate in sources {
        if seen.insert(RuleKey::of(
            &roles[candidate.role].own_rules[candidate.rule],
        )) {
            rules.push(candidate);
        }
    }
    rules
}

/// A rule's content, compared as `equality.Semantic.DeepEqual` compares
/// rules: an absent list equals an empty one.
#[derive(PartialEq, Eq, Hash)]
struct RuleKey<'r> {
    verbs: &'r [String],
    api_groups: &'r [String],
    resources: &'r [String],
    resource_names: &'r [String],
    non_resource_urls: &'r [String],
}

impl<'r> RuleKey<'r> {
    fn of(rule: &'r PolicyRule) -> RuleKey<'r> {
        let list = |items: &'r Option<Vec<String>>| items.as_deref().unwrap_or_default();
        RuleKey {
            verbs: &rule.verbs,
            api_groups: list(&rule.api_groups),
            resources: list(&rule.resources),
            resource_names: list(&rule.resource_names),
            non_resource_urls: list(&rule.non_resource_urls),
        }
    }
}
