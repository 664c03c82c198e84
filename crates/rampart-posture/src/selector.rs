//! Kubernetes label selectors (`metav1.LabelSelector`) evaluated against a
//! set of labels, with the semantics of apimachinery's
//! `LabelSelectorAsSelector`:
//!
//! - every `matchLabels` entry and every `matchExpressions` requirement
//!   must hold (a logical AND);
//! - `In` holds when the key is present with one of the values, `NotIn`
//!   when the key is absent or its value is not among the values, `Exists`
//!   when the key is present, `DoesNotExist` when it is absent;
//! - a selector with no entries and no requirements selects everything.
//!   Whether a missing selector (`None`) selects everything or nothing
//!   depends on the field, so callers decide that case.
//!
//! A requirement the API server would reject (an unknown operator, `In` or
//! `NotIn` without values, `Exists` or `DoesNotExist` with values) makes
//! the selector invalid, and an invalid selector matches no labels.
//! apimachinery returns an error for such a selector, and Kubernetes
//! controllers act on no object through it. Key and value syntax is not
//! checked.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// A selector requirement that the API server would reject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InvalidSelector {
    /// Index of the offending entry in `matchExpressions`.
    pub index: usize,
    pub message: String,
}

/// Returns whether `selector` has no `matchLabels` entries and no
/// `matchExpressions` requirements, and so selects every object.
pub(crate) fn is_empty(selector: &LabelSelector) -> bool {
    let no_labels = selector
        .match_labels
        .as_ref()
        .is_none_or(BTreeMap::is_empty);
    let no_expressions = selector
        .match_expressions
        .as_ref()
        .is_none_or(Vec::is_empty);
    no_labels && no_expressions
}

/// Returns whether `selector` matches `labels`. An invalid selector matches
/// nothing (see [`validate`]).
pub(crate) fn matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    if validate(selector).is_err() {
        return false;
    }
    let labels_hold = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    labels_hold
        && selector
            .match_expressions
            .iter()
            .flatten()
            .all(|requirement| requirement_holds(requirement, labels))
}

/// Checks each requirement the way apimachinery's `NewRequirement` does,
/// apart from key and value syntax.
pub(crate) fn validate(selector: &LabelSelector) -> Result<(), InvalidSelector> {
    let requirements = selector.match_expressions.as_deref().unwrap_or_default();
    for (index, requirement) in requirements.iter().enumerate() {
        let values = requirement.values.as_deref().unwrap_or_default();
        let problem = match requirement.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => Some("needs at least one value"),
            "Exists" | "DoesNotExist" if !values.is_empty() => Some("takes no values"),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => None,
            _ => Some("is not In, NotIn, Exists or DoesNotExist"),
        };
        if let Some(problem) = problem {
            return Err(InvalidSelector {
                index,
                message: format!(
                    "operator {:?} on key {:?} {problem}",
                    requirement.operator, requirement.key
                ),
            });
        }
    }
    Ok(())
}

fn requirement_holds(
    requirement: &LabelSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    let value = labels.get(&requirement.key);
    match requirement.operator.as_str() {
        "In" => value.is_some_and(|value| values.contains(value)),
        "NotIn" => value.is_none_or(|value| !values.contains(value)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

/// Returns the keys `selector` reads, from `matchLabels` and
/// `matchExpressions`.
pub(crate) fn keys(selector: &LabelSelector) -> impl Iterator<Item = &str> {
    let labels = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, _)| key.as_str());
    let expressions = selector
        .match_expressions
        .iter()
        .flatten()
        .map(|requirement| requirement.key.as_str());
    labels.chain(expressions)
}

/// Returns `selector` in the `kubectl get -l` form, such as
/// `app=web,tier notin (db)`, or `(everything)` for an empty selector.
pub(crate) fn display(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    for requirement in selector.match_expressions.iter().flatten() {
        let values = requirement.values.as_deref().unwrap_or_default().join(",");
        parts.push(match requirement.operator.as_str() {
            "In" => format!("{} in ({values})", requirement.key),
            "NotIn" => format!("{} notin ({values})", requirement.key),
            "Exists" => requirement.key.clone(),
            "DoesNotExist" => format!("!{}", requirement.key),
            other => format!("{} {other} ({values})", requirement.key),
        });
    }
    if parts.is_empty() {
        "(everything)".to_owned()
    } else {
        parts.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn requirement(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect()),
        }
    }

    fn expressions(requirements: Vec<LabelSelectorRequirement>) -> LabelSelector {
        LabelSelector {
            match_expressions: Some(requirements),
            match_labels: None,
        }
    }

    #[test]
    fn empty_selector_selects_all() {
        let selector = LabelSelector::default();
        assert!(is_empty(&selector));
        assert!(matches(&selector, &labels(&[])));
        assert!(matches(&selector, &labels(&[("app", "web")])));

        let explicit = LabelSelector {
            match_labels: Some(BTreeMap::new()),
            match_expressions: Some(Vec::new()),
        };
        assert!(is_empty(&explicit));
    }

    #[test]
    fn match_expressions_only_is_not_empty() {
        let selector = expressions(vec![requirement("tier", "In", &["worker"])]);
        assert!(!is_empty(&selector));
        assert!(matches(&selector, &labels(&[("tier", "worker")])));
        assert!(!matches(&selector, &labels(&[("tier", "api")])));
        assert!(!matches(&selector, &labels(&[("app", "demo")])));
    }

    #[test]
    fn not_in_and_does_not_exist_match_absent_key() {
        let not_in = expressions(vec![requirement("tier", "NotIn", &["prod"])]);
        assert!(matches(&not_in, &labels(&[])));
        assert!(matches(&not_in, &labels(&[("tier", "staging")])));
        assert!(!matches(&not_in, &labels(&[("tier", "prod")])));

        let absent = expressions(vec![requirement("tier", "DoesNotExist", &[])]);
        assert!(matches(&absent, &labels(&[("app", "web")])));
        assert!(!matches(&absent, &labels(&[("tier", "")])));

        let exists = expressions(vec![requirement("tier", "Exists", &[])]);
        assert!(matches(&exists, &labels(&[("tier", "")])));
        assert!(!matches(&exists, &labels(&[])));
    }

    #[test]
    fn labels_and_expressions_both_hold() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![requirement("tier", "In", &["front", "edge"])]),
        };
        assert!(matches(
            &selector,
            &labels(&[("app", "web"), ("tier", "edge")])
        ));
        assert!(!matches(&selector, &labels(&[("app", "web")])));
        assert!(!matches(
            &selector,
            &labels(&[("app", "db"), ("tier", "edge")])
        ));
    }

    #[test]
    fn invalid_requirements_match_nothing() {
        let cases = [
            requirement("tier", "In", &[]),
            requirement("tier", "NotIn", &[]),
            requirement("tier", "Exists", &["x"]),
            requirement("tier", "DoesNotExist", &["x"]),
            requirement("tier", "in", &["x"]),
            requirement("tier", "Gt", &["1"]),
        ];
        for case in cases {
            let selector = expressions(vec![requirement("app", "Exists", &[]), case.clone()]);
            let error = validate(&selector).unwrap_err();
            assert_eq!(error.index, 1, "{case:?}");
            assert!(!matches(&selector, &labels(&[("app", "a"), ("tier", "x")])));
            assert!(!matches(&selector, &labels(&[("app", "a")])));
        }
    }

    #[test]
    fn display_uses_kubectl_syntax() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                requirement("tier", "NotIn", &["db", "cache"]),
                requirement("canary", "DoesNotExist", &[]),
            ]),
        };
        assert_eq!(display(&selector), "app=web,tier notin (db,cache),!canary");
        assert_eq!(display(&LabelSelector::default()), "(everything)");
    }

    fn label_map() -> impl Strategy<Value = BTreeMap<String, String>> {
        prop::collection::btree_map("[abc]", "[xyz]", 0..4)
    }

    fn valid_requirement() -> impl Strategy<Value = LabelSelectorRequirement> {
        let values = prop::collection::vec("[xyz]", 1..3);
        prop_oneof![
            ("[abc]", values.clone()).prop_map(|(k, v)| requirement_owned(k, "In", v)),
            ("[abc]", values).prop_map(|(k, v)| requirement_owned(k, "NotIn", v)),
            "[abc]".prop_map(|k| requirement_owned(k, "Exists", Vec::new())),
            "[abc]".prop_map(|k| requirement_owned(k, "DoesNotExist", Vec::new())),
        ]
    }

    fn requirement_owned(
        key: String,
        operator: &str,
        values: Vec<String>,
    ) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key,
            operator: operator.to_owned(),
            values: (!values.is_empty()).then_some(values),
        }
    }

    fn negate(requirement: &LabelSelectorRequirement) -> LabelSelectorRequirement {
        let operator = match requirement.operator.as_str() {
            "In" => "NotIn",
            "NotIn" => "In",
            "Exists" => "DoesNotExist",
            _ => "Exists",
        };
        LabelSelectorRequirement {
            operator: operator.to_owned(),
            ..requirement.clone()
        }
    }

    proptest! {
        #[test]
        fn match_labels_means_subset(wanted in label_map(), present in label_map()) {
            let selector = LabelSelector { match_labels: Some(wanted.clone()), match_expressions: None };
            let subset = wanted.iter().all(|(k, v)| present.get(k) == Some(v));
            prop_assert_eq!(matches(&selector, &present), subset);
        }

        #[test]
        fn negated_operator_flips_result(requirement in valid_requirement(), present in label_map()) {
            let selector = expressions(vec![requirement.clone()]);
            let negated = expressions(vec![negate(&requirement)]);
            prop_assert_ne!(matches(&selector, &present), matches(&negated, &present));
        }

        #[test]
        fn requirements_combine_with_and(
            first in prop::collection::vec(valid_requirement(), 0..3),
            second in prop::collection::vec(valid_requirement(), 0..3),
            present in label_map(),
        ) {
            let both: Vec<_> = first.iter().chain(&second).cloned().collect();
            let expected = matches(&expressions(first), &present) && matches(&expressions(second), &present);
            prop_assert_eq!(matches(&expressions(both), &present), expected);
        }

        #[test]
        fn unread_labels_do_not_change_result(
            requirements in prop::collection::vec(valid_requirement(), 0..3),
            present in label_map(),
            extra_value in "[xyz]",
        ) {
            let selector = expressions(requirements);
            let mut more = present.clone();
            more.insert("unread".to_owned(), extra_value);
            prop_assert_eq!(matches(&selector, &present), matches(&selector, &more));
        }
    }
}
