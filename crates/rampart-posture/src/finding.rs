//! Findings: a control that failed on one object, and the tally of what
//! each control evaluated, from which the framework scores come.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::control::{Control, Severity};
use crate::manifest::{Object, Origin};

/// The object a finding is about. RBAC findings name a subject (a user,
/// group or service account) and carry the origin of the binding that
/// grants the permission.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    /// Effective namespace: the object's own, or `default` for a namespaced
    /// object that names none. `None` for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ResourceRef {
    pub fn of(object: &Object) -> ResourceRef {
        ResourceRef {
            api_version: object.resource.api_version().to_owned(),
            kind: object.kind().to_owned(),
            namespace: effective_namespace(object).map(str::to_owned),
            name: object.name().to_owned(),
        }
    }

    /// Returns `Kind/namespace/name`, or `Kind/name` when cluster-scoped.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{}/{namespace}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// Returns the namespace a namespaced object lives in (`default` when the
/// manifest names none, as `kubectl apply` does), or `None` for
/// cluster-scoped kinds.
pub fn effective_namespace(object: &Object) -> Option<&str> {
    match object.kind() {
        "Namespace"
        | "ClusterRole"
        | "ClusterRoleBinding"
        | "ValidatingWebhookConfiguration"
        | "MutatingWebhookConfiguration"
        | "ValidatingAdmissionPolicyBinding" => None,
        _ => Some(object.namespace().unwrap_or("default")),
    }
}

/// One failed control on one object.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    #[serde(serialize_with = "serialize_control_id")]
    pub control: &'static Control,
    /// The control's severity, or a higher one for a worse case of it (a
    /// container runtime socket among host paths).
    pub severity: Severity,
    pub resource: ResourceRef,
    /// Where the object (for RBAC findings, the binding) was read from.
    #[serde(skip)]
    pub origin: Option<Origin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Field path of the offending value, such as
    /// `spec.template.spec.containers[0].securityContext.privileged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    /// The exception that accepts this finding, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
}

fn serialize_control_id<S: serde::Serializer>(
    control: &&'static Control,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(control.id)
}

impl Finding {
    pub fn is_excepted(&self) -> bool {
        self.exception.is_some()
    }
}

/// Collects findings and, per control, how many objects it evaluated.
#[derive(Debug, Default)]
pub struct Sink {
    pub findings: Vec<Finding>,
    /// Objects (or RBAC subjects, or namespaces) each control evaluated.
    pub evaluated: BTreeMap<&'static str, u64>,
}

impl Sink {
    /// Counts one object evaluated by `control`.
    pub fn evaluated(&mut self, control: &'static Control) {
        *self.evaluated.entry(control.id).or_default() += 1;
    }

    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Adds a finding of `control` on `object` at the control's severity.
    pub fn fail(
        &mut self,
        control: &'static Control,
        object: &Object,
        container: Option<&str>,
        field: Option<String>,
        message: String,
    ) {
        self.fail_at(control, control.severity, object, container, field, message);
    }

    /// Adds a finding of `control` on `object` at `severity`.
    pub fn fail_at(
        &mut self,
        control: &'static Control,
        severity: Severity,
        object: &Object,
        container: Option<&str>,
        field: Option<String>,
        message: String,
    ) {
        self.findings.push(Finding {
            control,
            severity,
            resource: ResourceRef::of(object),
            origin: Some(object.origin.clone()),
            container: container.map(str::to_owned),
            field,
            message,
            exception: None,
        });
    }

    /// Moves the findings and counts of `other` into this sink.
    pub fn merge(&mut self, other: Sink) {
        self.findings.extend(other.findings);
        for (control, count) in other.evaluated {
            *self.evaluated.entry(control).or_default() += count;
        }
    }
}
