//! Label selectors (`matchLabels` and `matchExpressions`), evaluated as
//! `metav1.LabelSelectorAsSelector` in k8s.io/apimachinery does.
//!
//! The traps: a selector with neither field selects every object, and
//! `NotIn` and `DoesNotExist` select objects that lack the key. An unknown
//! operator or a value list of the wrong length makes the whole selector
//! invalid, so that it selects nothing.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// A label selector checked for validity, ready to match label sets.
#[derive(Debug)]
pub(crate) struct Selector<'a> {
    match_labels: Option<&'a BTreeMap<String, String>>,
    expressions: Vec<Expression<'a>>,
}

#[derive(Debug)]
struct Expression<'a> {
    key: &'a str,
    operator: Operator,
    values: &'a [String],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl<'a> Selector<'a> {
    /// Checks `selector` as the API machinery does before matching, and
    /// returns why it is invalid.
    // NOTE: keys and values are not checked against the label syntax; the
    // API server rejects objects with malformed ones before they reach a
    // selector.
    pub(crate) fn parse(selector: &'a LabelSelector) -> Result<Selector<'a>, String> {
        let expressions = selector
            .match_expressions
            .iter()
            .flatten()
            .map(Expression::parse)
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Selector {
            match_labels: selector.match_labels.as_ref(),
            expressions,
        })
    }

    /// Returns whether the object with `labels` is selected.
    pub(crate) fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let value = |key: &str| labels.and_then(|labels| labels.get(key));
        let labels_match = self
            .match_labels
            .iter()
            .flat_map(|wanted| wanted.iter())
            .all(|(key, wanted)| value(key) == Some(wanted));
        labels_match
            && self.expressions.iter().all(|expression| {
                let value = value(expression.key);
                let listed = || value.is_some_and(|v| expression.values.contains(v));
                match expression.operator {
                    Operator::In => listed(),
                    Operator::NotIn => !listed(),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

impl<'a> Expression<'a> {
    fn parse(requirement: &'a LabelSelectorRequirement) -> Result<Expression<'a>, String> {
        let operator = match requirement.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            other => {
                return Err(format!(
                    "{other:?} is not a valid label selector operator; expected In, NotIn, Exists or DoesNotExist"
                ));
            }
        };
        let values = requirement.values.as_deref().unwrap_or_default();
        let needs_values = matches!(operator, Operator::In | Operator::NotIn);
        if needs_values && values.is_empty() {
            return Err(format!(
                "operator {} on key {:?} needs at least one value",
                requirement.operator, requirement.key
            ));
        }
        if !needs_values && !values.is_empty() {
            return Err(format!(
                "operator {} on key {:?} takes no values",
                requirement.operator, requirement.key
            ));
        }
        Ok(Expression {
            key: &requirement.key,
            operator,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            values: Some(values.iter().map(|v| (*v).to_owned()).collect()),
        }
    }

    fn selector(
        match_labels: &[(&str, &str)],
        expressions: Vec<LabelSelectorRequirement>,
    ) -> LabelSelector {
        LabelSelector {
            match_labels: (!match_labels.is_empty()).then(|| labels(match_labels)),
            match_expressions: (!expressions.is_empty()).then_some(expressions),
        }
    }

    #[test]
    fn empty_selector_selects_everything() {
        let empty = LabelSelector::default();
        let parsed = Selector::parse(&empty).unwrap();
        assert!(parsed.matches(None));
        assert!(parsed.matches(Some(&labels(&[("a", "b")]))));
    }

    #[test]
    fn match_labels_need_every_pair() {
        let wanted = selector(&[("team", "a"), ("tier", "web")], Vec::new());
        let parsed = Selector::parse(&wanted).unwrap();
        assert!(parsed.matches(Some(&labels(&[("team", "a"), ("tier", "web"), ("x", "y")]))));
        assert!(!parsed.matches(Some(&labels(&[("team", "a")]))));
        assert!(!parsed.matches(None));
    }

    #[test]
    fn expressions_follow_apimachinery() {
        let object = labels(&[("env", "prod"), ("team", "a")]);
        let check = |requirement| {
            let wanted = selector(&[], vec![requirement]);
            Selector::parse(&wanted).unwrap().matches(Some(&object))
        };
        assert!(check(requirement("env", "In", &["prod", "stage"])));
        assert!(!check(requirement("env", "In", &["dev"])));
        assert!(!check(requirement("env", "NotIn", &["prod"])));
        assert!(check(requirement("missing", "NotIn", &["prod"])));
        assert!(check(requirement("team", "Exists", &[])));
        assert!(!check(requirement("missing", "Exists", &[])));
        assert!(check(requirement("missing", "DoesNotExist", &[])));
        assert!(!check(requirement("team", "DoesNotExist", &[])));
    }

    #[test]
    fn labels_and_expressions_are_anded() {
        let wanted = selector(
            &[("team", "a")],
            vec![requirement("env", "NotIn", &["prod"])],
        );
        let parsed = Selector::parse(&wanted).unwrap();
        assert!(parsed.matches(Some(&labels(&[("team", "a"), ("env", "dev")]))));
        assert!(!parsed.matches(Some(&labels(&[("team", "a"), ("env", "prod")]))));
        assert!(!parsed.matches(Some(&labels(&[("team", "b"), ("env", "dev")]))));
    }

    #[test]
    fn invalid_selectors_rejected() {
        let unknown = selector(&[], vec![requirement("a", "Equals", &["b"])]);
        let in_without_values = selector(&[], vec![requirement("a", "In", &[])]);
        let exists_with_values = selector(&[], vec![requirement("a", "Exists", &["b"])]);
        assert!(Selector::parse(&unknown).unwrap_err().contains("Equals"));
        assert!(Selector::parse(&in_without_values).is_err());
        assert!(Selector::parse(&exists_with_values).is_err());
    }
}
