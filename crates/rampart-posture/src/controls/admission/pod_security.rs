//! Pod Security Admission enforcement per namespace, read from the
//! `pod-security.kubernetes.io/enforce` label of Namespace objects.
//!
//! pod-security-admission enforces `privileged` (nothing) when the label
//! is missing, and `restricted` when its value is not one of `privileged`,
//! `baseline` or `restricted` (values are case-sensitive). A cluster-wide
//! default in the API server's AdmissionConfiguration is not visible in
//! manifests or through the API, so such a cluster needs an exception.
//!
//! `kube-system`, `kube-public` and `kube-node-lease` are skipped: they
//! belong to Kubernetes and its node agents, `kube-system` runs privileged
//! components (CNI, kube-proxy, CSI drivers) that no enforce level above
//! `privileged` admits, and the two others hold no pods. Workloads in
//! them are still checked one by one by the Pod Security Standards
//! controls.

use std::collections::BTreeMap;

use crate::finding::{Sink, effective_namespace};
use crate::manifest::{Object, Resource};

use super::{NO_ENFORCE, NOT_RESTRICTED};

pub(super) const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";

/// Namespaces that Kubernetes creates and runs its own components in.
pub(super) const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

/// The level pod-security-admission enforces in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enforced<'a> {
    /// No enforce label.
    Missing,
    Privileged,
    Baseline,
    Restricted,
    /// An invalid value, which pod-security-admission enforces as restricted.
    Invalid(&'a str),
}

fn enforced(labels: Option<&BTreeMap<String, String>>) -> Enforced<'_> {
    match labels
        .and_then(|labels| labels.get(ENFORCE_LABEL))
        .map(String::as_str)
    {
        None => Enforced::Missing,
        Some("privileged") => Enforced::Privileged,
        Some("baseline") => Enforced::Baseline,
        Some("restricted") => Enforced::Restricted,
        Some(other) => Enforced::Invalid(other),
    }
}

pub(super) fn check(objects: &[Object], sink: &mut Sink) {
    for object in objects {
        let Resource::Namespace(namespace) = &object.resource else {
            continue;
        };
        if SYSTEM_NAMESPACES.contains(&object.name()) {
            continue;
        }
        sink.evaluated_in(&NO_ENFORCE, effective_namespace(object));
        sink.evaluated_in(&NOT_RESTRICTED, effective_namespace(object));

        let field = Some(format!("metadata.labels[{ENFORCE_LABEL:?}]"));
        let name = object.name();
        let level = enforced(namespace.metadata.labels.as_ref());
        let no_enforce = match level {
            Enforced::Missing => Some(format!(
                "namespace {name:?} has no {ENFORCE_LABEL} label, so pod-security-admission admits privileged pods there"
            )),
            Enforced::Privileged => Some(format!(
                "namespace {name:?} sets {ENFORCE_LABEL} to privileged, which admits privileged pods"
            )),
            _ => None,
        };
        if let Some(message) = no_enforce {
            sink.fail(&NO_ENFORCE, object, None, field.clone(), message);
        }

        let below_restricted = match level {
            Enforced::Missing => Some("has no enforce label".to_owned()),
            Enforced::Privileged => Some("enforces privileged".to_owned()),
            Enforced::Baseline => Some("enforces baseline".to_owned()),
            Enforced::Restricted | Enforced::Invalid(_) => None,
        };
        if let Some(state) = below_restricted {
            let message =
                format!("namespace {name:?} {state}, not the restricted Pod Security Standard");
            sink.fail(&NOT_RESTRICTED, object, None, field, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforce_values_resolved() {
        let labels = |value: &str| BTreeMap::from([(ENFORCE_LABEL.to_owned(), value.to_owned())]);
        assert_eq!(enforced(None), Enforced::Missing);
        assert_eq!(enforced(Some(&BTreeMap::new())), Enforced::Missing);
        assert_eq!(enforced(Some(&labels("privileged"))), Enforced::Privileged);
        assert_eq!(enforced(Some(&labels("baseline"))), Enforced::Baseline);
        assert_eq!(enforced(Some(&labels("restricted"))), Enforced::Restricted);
        assert_eq!(
            enforced(Some(&labels("Baseline"))),
            Enforced::Invalid("Baseline")
        );
    }
}
