//! Findings: a control that failed on one object, and the tally of what
//! each control evaluated, from which the framework scores come.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::control::{Control, Severity, catalogue};
use crate::controls::control_index;
use crate::manifest::{Object, Origin};

/// The hasher of the audit's maps keyed by object names, where SipHash,
/// the standard one, took most of the time. foldhash does not resist
/// crafted collisions, which could only slow the audit of the input that
/// contains them.
pub(crate) type FastHash = foldhash::fast::RandomState;

/// The object a finding is about. RBAC findings name a subject (a user,
/// group or service account) and carry the origin of the binding that
/// grants the permission.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ResourceRef {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// Effective namespace: the object's own, or `default` for a namespaced
    /// object that names none. `None` for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ResourceRef {
    pub fn of(object: &Object) -> ResourceRef {
        ResourceRef {
            api_version: object.resource.api_version(),
            kind: object.kind(),
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
        | "ValidatingAdmissionPolicyBinding"
        | "CiliumClusterwideNetworkPolicy" => None,
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
    /// Shared by the findings of one object, so that a finding costs no
    /// copy of the object's names.
    #[serde(serialize_with = "serialize_resource")]
    pub resource: Arc<ResourceRef>,
    /// The origin of the object (for RBAC findings, of the binding),
    /// shared like `resource`.
    #[serde(skip)]
    pub origin: Option<Arc<Origin>>,
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

fn serialize_resource<S: serde::Serializer>(
    resource: &Arc<ResourceRef>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    resource.as_ref().serialize(serializer)
}

impl Finding {
    pub fn is_excepted(&self) -> bool {
        self.exception.is_some()
    }
}

/// An object the audit could not check completely, such as a binding
/// whose role is not in the input. Warnings are not findings: they fail no
/// control.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub resource: ResourceRef,
    #[serde(skip)]
    pub origin: Option<Origin>,
    pub message: String,
}

/// Collects findings and, per control, how many objects it evaluated.
#[derive(Debug, Default)]
pub struct Sink {
    pub findings: Vec<Finding>,
    pub warnings: Vec<Warning>,
    tally: Tally,
    /// The last object that failed a control, by address, with its
    /// resource and origin, which its next findings share.
    cached: Option<(usize, Arc<ResourceRef>, Arc<Origin>)>,
}

impl Sink {
    /// Counts one object evaluated by `control`. While per-object controls
    /// run, the count also goes to the namespace of the object being
    /// checked (see [`Sink::begin_object`]).
    pub fn evaluated(&mut self, control: &'static Control) {
        self.tally.add(self.tally.current, control, 1);
    }

    /// Counts one unit of `namespace` (`None` when cluster-scoped)
    /// evaluated by `control`. The controls that relate objects count
    /// here, each in the namespace of the resource its findings name, so
    /// that the PolicyReport of that namespace counts the unit's pass.
    pub fn evaluated_in(&mut self, control: &'static Control, namespace: Option<&str>) {
        let bucket = self.tally.bucket(namespace);
        self.tally.add(Some(bucket), control, 1);
    }

    /// Starts the per-object checks of `object`: until the next call, or
    /// until [`Sink::end_objects`], [`Sink::evaluated`] counts go to the
    /// object's namespace too. The namespace is listed even when no control
    /// evaluates the object.
    pub(crate) fn begin_object(&mut self, object: &Object) {
        let bucket = self.tally.bucket(effective_namespace(object));
        self.tally.current = Some(bucket);
    }

    /// Ends the per-object checks, so that later counts belong to no
    /// namespace.
    pub(crate) fn end_objects(&mut self) {
        self.tally.current = None;
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
        let container = container.map(str::to_owned);
        self.fail_owned(control, severity, object, container, field, message);
    }

    /// Adds a finding of `control` on `object` at `severity`, taking the
    /// container name as it is.
    pub(crate) fn fail_owned(
        &mut self,
        control: &'static Control,
        severity: Severity,
        object: &Object,
        container: Option<String>,
        field: Option<String>,
        message: String,
    ) {
        let (resource, origin) = self.shared_parts(object);
        self.findings.push(Finding {
            control,
            severity,
            resource,
            origin: Some(origin),
            container,
            field,
            message,
            exception: None,
        });
    }

    /// Returns the resource and origin of `object`, shared with the
    /// previous finding when that was on the same object.
    fn shared_parts(&mut self, object: &Object) -> (Arc<ResourceRef>, Arc<Origin>) {
        let address = std::ptr::from_ref(object) as usize;
        if let Some((cached, resource, origin)) = &self.cached
            && *cached == address
        {
            return (Arc::clone(resource), Arc::clone(origin));
        }
        let resource = Arc::new(ResourceRef::of(object));
        let origin = Arc::new(object.origin.clone());
        self.cached = Some((address, Arc::clone(&resource), Arc::clone(&origin)));
        (resource, origin)
    }

    /// Moves the findings and counts of `other` into this sink.
    pub fn merge(&mut self, other: Sink) {
        self.findings.extend(other.findings);
        self.warnings.extend(other.warnings);
        self.tally.merge(other.tally);
    }

    /// Returns the findings, the warnings, the number of objects each
    /// control evaluated, and that number by namespace.
    #[allow(clippy::type_complexity)]
    pub(crate) fn into_parts(
        self,
    ) -> (
        Vec<Finding>,
        Vec<Warning>,
        BTreeMap<&'static str, u64>,
        BTreeMap<Option<String>, BTreeMap<&'static str, u64>>,
    ) {
        let (evaluated, by_namespace) = self.tally.into_maps();
        (self.findings, self.warnings, evaluated, by_namespace)
    }
}

/// Evaluation counts, by control, of each namespace and of the controls
/// that count outside any namespace.
///
/// Counts are kept by the control's position in the catalogue, because a
/// map keyed by control id cost a string comparison per step for each of
/// the tens of evaluations of every object.
#[derive(Debug, Default)]
struct Tally {
    /// Counts outside any namespace.
    global: Counts,
    /// Counts per namespace, in the order the namespaces were first seen.
    namespaces: Vec<(Option<String>, Counts)>,
    /// Position in `namespaces` of each namespace; `cluster` is the one of
    /// cluster-scoped objects.
    named: HashMap<String, usize, FastHash>,
    cluster: Option<usize>,
    /// The namespace bucket of the object being checked.
    current: Option<usize>,
    /// The bucket found last, tried first because the objects of one
    /// namespace usually come together.
    last: Option<usize>,
}

impl Tally {
    /// Returns the position of the bucket of `namespace`, adding it when
    /// it is new.
    fn bucket(&mut self, namespace: Option<&str>) -> usize {
        if let Some(last) = self.last
            && self.namespaces[last].0.as_deref() == namespace
        {
            return last;
        }
        let index = self.find_or_add(namespace);
        self.last = Some(index);
        index
    }

    fn find_or_add(&mut self, namespace: Option<&str>) -> usize {
        let found = match namespace {
            Some(name) => self.named.get(name).copied(),
            None => self.cluster,
        };
        if let Some(index) = found {
            return index;
        }
        let index = self.namespaces.len();
        self.namespaces
            .push((namespace.map(str::to_owned), Counts::default()));
        match namespace {
            Some(name) => {
                self.named.insert(name.to_owned(), index);
            }
            None => self.cluster = Some(index),
        }
        index
    }

    fn add(&mut self, bucket: Option<usize>, control: &'static Control, count: u64) {
        let counts = match bucket {
            Some(index) => &mut self.namespaces[index].1,
            None => &mut self.global,
        };
        counts.add(control, count);
    }

    fn merge(&mut self, other: Tally) {
        self.global.merge(other.global);
        for (namespace, counts) in other.namespaces {
            let index = self.bucket(namespace.as_deref());
            self.namespaces[index].1.merge(counts);
        }
    }

    /// Returns the counts per control id, and per namespace and control id.
    #[allow(clippy::type_complexity)]
    fn into_maps(
        self,
    ) -> (
        BTreeMap<&'static str, u64>,
        BTreeMap<Option<String>, BTreeMap<&'static str, u64>>,
    ) {
        let mut total = self.global.clone();
        let mut by_namespace = BTreeMap::new();
        for (namespace, counts) in self.namespaces {
            total.merge(counts.clone());
            let own = by_namespace.entry(namespace).or_insert_with(BTreeMap::new);
            counts.add_to(own);
        }
        let mut evaluated = BTreeMap::new();
        total.add_to(&mut evaluated);
        (evaluated, by_namespace)
    }
}

/// Evaluation counts by control. A control has an entry once it is
/// counted, even by 0.
#[derive(Clone, Debug, Default)]
struct Counts {
    /// By position in [`crate::control::catalogue`].
    listed: Vec<Option<u64>>,
    /// Controls outside the catalogue, by id.
    other: BTreeMap<&'static str, u64>,
}

impl Counts {
    fn add(&mut self, control: &'static Control, count: u64) {
        match control_index(control) {
            Some(index) => {
                if self.listed.len() <= index {
                    self.listed.resize(catalogue().len().max(index + 1), None);
                }
                *self.listed[index].get_or_insert(0) += count;
            }
            None => *self.other.entry(control.id).or_default() += count,
        }
    }

    fn merge(&mut self, other: Counts) {
        if self.listed.len() < other.listed.len() {
            self.listed.resize(other.listed.len(), None);
        }
        for (own, count) in self.listed.iter_mut().zip(other.listed) {
            if let Some(count) = count {
                *own.get_or_insert(0) += count;
            }
        }
        for (id, count) in other.other {
            *self.other.entry(id).or_default() += count;
        }
    }

    fn add_to(&self, map: &mut BTreeMap<&'static str, u64>) {
        let controls = catalogue();
        for (index, count) in self.listed.iter().enumerate() {
            if let Some(count) = count {
                *map.entry(controls[index].id).or_default() += count;
            }
        }
        for (id, count) in &self.other {
            *map.entry(id).or_default() += count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Category;
    use crate::controls::escape::{HOST_IPC, HOST_PID};
    use crate::manifest::parse_manifests;

    const OBJECTS: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: app, image: app}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
";

    /// A control outside the catalogue, as a test of another crate might
    /// define.
    static UNLISTED: Control = Control {
        id: "unlisted",
        title: "Unlisted",
        category: Category::Resources,
        severity: Severity::Low,
        rationale: "",
        remediation: "",
        pss_level: None,
        cis: &[],
        nist_800_190: &[],
        nsa: &[],
        mitre: &[],
        kubescape: &[],
    };

    #[test]
    fn counts_by_namespace_and_outside() {
        let manifests = parse_manifests(OBJECTS, "objects.yaml").unwrap();
        let (pod, role) = (&manifests.objects[0], &manifests.objects[1]);

        let mut sink = Sink::default();
        sink.begin_object(pod);
        sink.evaluated(&HOST_PID);
        sink.evaluated(&HOST_PID);
        sink.evaluated(&UNLISTED);
        sink.begin_object(role);
        let mut other = Sink::default();
        other.begin_object(pod);
        other.evaluated(&HOST_PID);
        sink.merge(other);
        sink.end_objects();
        sink.evaluated(&HOST_IPC);
        sink.evaluated_in(&HOST_IPC, Some("shop"));

        let (_, _, evaluated, by_namespace) = sink.into_parts();
        assert_eq!(evaluated[HOST_PID.id], 3);
        assert_eq!(evaluated[HOST_IPC.id], 2);
        assert_eq!(evaluated[UNLISTED.id], 1);
        assert_eq!(evaluated.len(), 3);

        let shop = &by_namespace[&Some("shop".to_owned())];
        assert_eq!(shop[HOST_PID.id], 3);
        assert_eq!(shop[HOST_IPC.id], 1);
        assert_eq!(shop[UNLISTED.id], 1);
        assert_eq!(shop.len(), 3);
        // The ClusterRole is listed under no namespace though no control
        // evaluated it.
        assert!(by_namespace[&None].is_empty());
        assert_eq!(by_namespace.len(), 2);
    }

    #[test]
    fn findings_of_one_object_share_resource() {
        let manifests = parse_manifests(OBJECTS, "objects.yaml").unwrap();
        let (pod, role) = (&manifests.objects[0], &manifests.objects[1]);
        let mut sink = Sink::default();
        for object in [pod, pod, role] {
            sink.fail(&HOST_PID, object, None, None, "message".to_owned());
        }

        let findings = &sink.findings;
        assert!(Arc::ptr_eq(&findings[0].resource, &findings[1].resource));
        assert!(!Arc::ptr_eq(&findings[1].resource, &findings[2].resource));
        assert_eq!(findings[0].resource.display(), "Pod/shop/web");
        assert_eq!(findings[2].resource.display(), "ClusterRole/reader");
        assert_eq!(findings[2].origin.as_ref().unwrap().document, 2);
    }
}
