//! Reading Kubernetes manifests: YAML or JSON streams of one or more
//! documents, dispatched on `apiVersion`/`kind` to typed k8s-openapi objects.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use std::sync::Arc;

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingAdmissionPolicyBinding, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Namespace, Pod, PodTemplate, PodTemplateSpec, ReplicationController, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::pod::PodView;

/// Largest manifest stream accepted, so that a huge input fails with a
/// clear error instead of exhausting memory.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024 * 1024;

/// Most objects accepted from one stream, counting `List` items.
pub const MAX_OBJECTS: usize = 100_000;

/// A pod-bearing object.
#[derive(Clone, Debug)]
pub enum Workload {
    Pod(Box<Pod>),
    PodTemplate(Box<PodTemplate>),
    ReplicationController(Box<ReplicationController>),
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    DaemonSet(Box<DaemonSet>),
    ReplicaSet(Box<ReplicaSet>),
    Job(Box<Job>),
    CronJob(Box<CronJob>),
}

static EMPTY_METADATA: LazyLock<ObjectMeta> = LazyLock::new(ObjectMeta::default);

impl Workload {
    pub fn api_version(&self) -> &'static str {
        match self {
            Workload::Pod(_) | Workload::PodTemplate(_) | Workload::ReplicationController(_) => {
                "v1"
            }
            Workload::Job(_) | Workload::CronJob(_) => "batch/v1",
            _ => "apps/v1",
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Workload::Pod(_) => "Pod",
            Workload::PodTemplate(_) => "PodTemplate",
            Workload::ReplicationController(_) => "ReplicationController",
            Workload::Deployment(_) => "Deployment",
            Workload::StatefulSet(_) => "StatefulSet",
            Workload::DaemonSet(_) => "DaemonSet",
            Workload::ReplicaSet(_) => "ReplicaSet",
            Workload::Job(_) => "Job",
            Workload::CronJob(_) => "CronJob",
        }
    }

    /// Returns the object's own metadata (not its pod template's).
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Workload::Pod(o) => &o.metadata,
            Workload::PodTemplate(o) => &o.metadata,
            Workload::ReplicationController(o) => &o.metadata,
            Workload::Deployment(o) => &o.metadata,
            Workload::StatefulSet(o) => &o.metadata,
            Workload::DaemonSet(o) => &o.metadata,
            Workload::ReplicaSet(o) => &o.metadata,
            Workload::Job(o) => &o.metadata,
            Workload::CronJob(o) => &o.metadata,
        }
    }

    pub fn name(&self) -> Option<&str> {
        self.metadata().name.as_deref()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// Returns the pod metadata and spec that the Pod Security Standards
    /// apply to, or `None` when the object carries no pod spec.
    pub fn pod_view(&self) -> Option<PodView<'_>> {
        match self {
            Workload::Pod(pod) => pod
                .spec
                .as_ref()
                .map(|spec| PodView::pod(&pod.metadata, spec)),
            Workload::PodTemplate(o) => template_view(o.template.as_ref(), "template"),
            Workload::ReplicationController(o) => {
                let template = o.spec.as_ref().and_then(|s| s.template.as_ref());
                template_view(template, "spec.template")
            }
            Workload::Deployment(o) => template_view(Some(&o.spec.template), "spec.template"),
            Workload::StatefulSet(o) => template_view(Some(&o.spec.template), "spec.template"),
            Workload::DaemonSet(o) => template_view(Some(&o.spec.template), "spec.template"),
            Workload::ReplicaSet(o) => template_view(o.spec.template.as_ref(), "spec.template"),
            Workload::Job(o) => {
                template_view(o.spec.as_ref().map(|s| &s.template), "spec.template")
            }
            Workload::CronJob(o) => {
                let template = o.spec.job_template.spec.as_ref().map(|s| &s.template);
                template_view(template, "spec.jobTemplate.spec.template")
            }
        }
    }
}

fn template_view<'a>(
    template: Option<&'a PodTemplateSpec>,
    path: &'static str,
) -> Option<PodView<'a>> {
    let template = template?;
    let spec = template.spec.as_ref()?;
    let (metadata_path, spec_path) = match path {
        "template" => ("template.metadata", "template.spec"),
        "spec.template" => ("spec.template.metadata", "spec.template.spec"),
        _ => (
            "spec.jobTemplate.spec.template.metadata",
            "spec.jobTemplate.spec.template.spec",
        ),
    };
    Some(PodView {
        metadata: template.metadata.as_ref().unwrap_or(&EMPTY_METADATA),
        spec,
        metadata_path,
        spec_path,
    })
}

/// Where an object came from: the file (or `-` for stdin, or the API path
/// of a cluster list) and its position in that stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub source: Arc<str>,
    /// 1-based position of the YAML document in the stream.
    pub document: usize,
    /// 0-based index in the `items` of a `List` document.
    pub item: Option<usize>,
    /// 1-based line on which the document starts (or, for invalid YAML,
    /// the line of the error); 0 for objects listed from a cluster.
    pub line: usize,
}

/// A typed object of a kind that some control reads.
#[derive(Clone, Debug)]
pub enum Resource {
    Workload(Workload),
    Namespace(Box<Namespace>),
    ServiceAccount(Box<ServiceAccount>),
    Role(Box<Role>),
    ClusterRole(Box<ClusterRole>),
    RoleBinding(Box<RoleBinding>),
    ClusterRoleBinding(Box<ClusterRoleBinding>),
    NetworkPolicy(Box<NetworkPolicy>),
    ValidatingWebhookConfiguration(Box<ValidatingWebhookConfiguration>),
    MutatingWebhookConfiguration(Box<MutatingWebhookConfiguration>),
    ValidatingAdmissionPolicyBinding(Box<ValidatingAdmissionPolicyBinding>),
}

impl Resource {
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Workload(workload) => workload.kind(),
            Resource::Namespace(_) => "Namespace",
            Resource::ServiceAccount(_) => "ServiceAccount",
            Resource::Role(_) => "Role",
            Resource::ClusterRole(_) => "ClusterRole",
            Resource::RoleBinding(_) => "RoleBinding",
            Resource::ClusterRoleBinding(_) => "ClusterRoleBinding",
            Resource::NetworkPolicy(_) => "NetworkPolicy",
            Resource::ValidatingWebhookConfiguration(_) => "ValidatingWebhookConfiguration",
            Resource::MutatingWebhookConfiguration(_) => "MutatingWebhookConfiguration",
            Resource::ValidatingAdmissionPolicyBinding(_) => "ValidatingAdmissionPolicyBinding",
        }
    }

    pub fn api_version(&self) -> &'static str {
        match self {
            Resource::Workload(workload) => workload.api_version(),
            Resource::Namespace(_) | Resource::ServiceAccount(_) => "v1",
            Resource::Role(_)
            | Resource::ClusterRole(_)
            | Resource::RoleBinding(_)
            | Resource::ClusterRoleBinding(_) => "rbac.authorization.k8s.io/v1",
            Resource::NetworkPolicy(_) => "networking.k8s.io/v1",
            Resource::ValidatingWebhookConfiguration(_)
            | Resource::MutatingWebhookConfiguration(_)
            | Resource::ValidatingAdmissionPolicyBinding(_) => "admissionregistration.k8s.io/v1",
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Resource::Workload(workload) => workload.metadata(),
            Resource::Namespace(o) => &o.metadata,
            Resource::ServiceAccount(o) => &o.metadata,
            Resource::Role(o) => &o.metadata,
            Resource::ClusterRole(o) => &o.metadata,
            Resource::RoleBinding(o) => &o.metadata,
            Resource::ClusterRoleBinding(o) => &o.metadata,
            Resource::NetworkPolicy(o) => &o.metadata,
            Resource::ValidatingWebhookConfiguration(o) => &o.metadata,
            Resource::MutatingWebhookConfiguration(o) => &o.metadata,
            Resource::ValidatingAdmissionPolicyBinding(o) => &o.metadata,
        }
    }
}

/// One object read from a manifest stream or a cluster, with its origin.
#[derive(Clone, Debug)]
pub struct Object {
    pub origin: Origin,
    pub resource: Resource,
}

impl Object {
    pub fn kind(&self) -> &'static str {
        self.resource.kind()
    }

    pub fn name(&self) -> &str {
        self.resource.metadata().name.as_deref().unwrap_or_default()
    }

    /// Returns the namespace written in the object, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.resource.metadata().namespace.as_deref()
    }

    pub fn workload(&self) -> Option<&Workload> {
        match &self.resource {
            Resource::Workload(workload) => Some(workload),
            _ => None,
        }
    }
}

/// The objects read from one manifest stream.
#[derive(Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Object>,
    /// Objects of kinds that no control reads, counted by `apiVersion` and
    /// `kind` (such as `v1/Service`).
    pub skipped: BTreeMap<String, usize>,
    /// Objects of a known kind that did not match their schema, with the
    /// reason; the other objects of the stream are still read.
    pub invalid: Vec<InvalidObject>,
}

impl Manifests {
    /// Returns the pod-bearing objects in stream order.
    pub fn workloads(&self) -> Vec<&Workload> {
        self.objects.iter().filter_map(Object::workload).collect()
    }

    /// Moves the objects of `other` to the end of this set.
    pub fn extend(&mut self, other: Manifests) {
        self.objects.extend(other.objects);
        for (key, count) in other.skipped {
            *self.skipped.entry(key).or_default() += count;
        }
        self.invalid.extend(other.invalid);
    }
}

/// An object of a known kind that failed to deserialize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidObject {
    pub origin: Origin,
    pub kind: String,
    pub name: Option<String>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "{source_name}: manifest is {size} bytes, over the {max}-byte limit; split it into smaller files"
    )]
    TooLarge {
        source_name: String,
        size: usize,
        max: usize,
    },
    #[error("{source_name}: more than {max} objects in one stream; split it into smaller files")]
    TooManyObjects { source_name: String, max: usize },
}

/// Parses a YAML (or JSON) stream of Kubernetes objects. `source_name`
/// names the input in errors and origins, such as a file path or `-` for
/// stdin.
///
/// Each document is parsed on its own, so invalid YAML in one document is
/// reported in `invalid` with its line and the other documents are still
/// read. Documents of kind `List` (and `*List` kinds with `items`) are
/// expanded. Empty documents are skipped.
pub fn parse_manifests(text: &str, source_name: &str) -> Result<Manifests, ManifestError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge {
            source_name: source_name.to_owned(),
            size: text.len(),
            max: MAX_MANIFEST_BYTES,
        });
    }
    let source: Arc<str> = Arc::from(source_name);
    let mut manifests = Manifests::default();
    let mut objects = 0usize;
    for chunk in split_documents(text) {
        let origin = Origin {
            source: source.clone(),
            document: chunk.number,
            item: None,
            line: chunk.first_line,
        };
        let document: Value = match serde_saphyr::from_str_with_options(chunk.text, parse_options())
        {
            Ok(document) => document,
            Err(error) => {
                let (line, message) = yaml_error(&error.to_string(), chunk.first_line);
                manifests.invalid.push(InvalidObject {
                    origin: Origin { line, ..origin },
                    kind: String::new(),
                    name: None,
                    message: format!("invalid YAML: {message}"),
                });
                continue;
            }
        };
        let (items, listed) = match document {
            Value::Object(mut map) if is_list(&map) => match map.remove("items") {
                Some(Value::Array(items)) => (items, true),
                _ => (Vec::new(), true),
            },
            Value::Null => continue,
            other => (vec![other], false),
        };
        objects += items.len();
        if objects > MAX_OBJECTS {
            return Err(ManifestError::TooManyObjects {
                source_name: source_name.to_owned(),
                max: MAX_OBJECTS,
            });
        }
        for (item, object) in items.into_iter().enumerate() {
            let origin = Origin {
                item: listed.then_some(item),
                ..origin.clone()
            };
            read_object(object, origin, &mut manifests);
        }
    }
    Ok(manifests)
}

/// One YAML document of a stream.
struct DocumentText<'a> {
    /// 1-based number of the document in the stream, counted as a YAML
    /// parser counts them.
    number: usize,
    /// 1-based line on which the document's text starts.
    first_line: usize,
    text: &'a str,
}

/// Splits a YAML stream at its document markers (`---` and `...` at the
/// start of a line, which YAML 1.2 reserves for them even inside scalars).
/// Text before the first `---` is a document only if it has content other
/// than comments and directives.
fn split_documents(text: &str) -> Vec<DocumentText<'_>> {
    let mut documents = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut explicit = false;
    let mut offset = 0usize;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = if is_marker(bare, "---") {
            Some(true)
        } else if is_marker(bare, "...") {
            Some(false)
        } else {
            None
        };
        if let Some(starts_document) = marker {
            let body = &text[start..offset];
            if explicit || has_content(body) {
                documents.push(DocumentText {
                    number: documents.len() + 1,
                    first_line: start_line,
                    text: body,
                });
            }
            // Content after `--- ` on the marker line belongs to the
            // new document.
            let after = if starts_document { 3 } else { line.len() };
            start = offset + after.min(line.len());
            start_line = if starts_document {
                index + 1
            } else {
                index + 2
            };
            explicit = starts_document;
        }
        offset += line.len();
    }
    let body = &text[start..];
    if explicit || has_content(body) {
        documents.push(DocumentText {
            number: documents.len() + 1,
            first_line: start_line,
            text: body,
        });
    }
    documents
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Returns whether YAML text has anything but blank lines, comments and
/// directives.
fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && !line.starts_with('%')
    })
}

/// Returns the stream line and the first line of a parser message, whose
/// line numbers count from the document's first line.
fn yaml_error(message: &str, first_line: usize) -> (usize, String) {
    let first = message.lines().next().unwrap_or(message);
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let parsed = first
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(number, rest)| Some((number.parse::<usize>().ok()?, rest)));
    match parsed {
        Some((line, rest)) => {
            let line = first_line + line - 1;
            let rest = rest
                .trim_start_matches(|c: char| c != ':')
                .trim_start_matches(": ");
            let rest = if rest.starts_with("budget breached: Depth") {
                format!("nested more than {MAX_DEPTH} levels deep")
            } else {
                rest.to_owned()
            };
            (line, rest)
        }
        None => (first_line, first.to_owned()),
    }
}

/// Deepest nesting of mappings and sequences accepted in one document.
pub const MAX_DEPTH: usize = 64;

/// Returns parser budgets sized for cluster dumps and rendered charts with
/// thousands of documents. The library defaults (1,024 documents, 1 M
/// events) reject those, while the input size cap already bounds the work.
fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: MAX_OBJECTS,
            max_events: MAX_MANIFEST_BYTES,
            max_nodes: MAX_MANIFEST_BYTES / 2,
            max_depth: MAX_DEPTH,
        },
    }
}

fn is_list(map: &serde_json::Map<String, Value>) -> bool {
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    kind.ends_with("List") && map.get("items").is_some_and(Value::is_array)
}

/// Converts one object to its typed form and files it under `objects`,
/// `skipped` or `invalid`.
pub fn read_object(object: Value, origin: Origin, manifests: &mut Manifests) {
    let text_field = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let api_version = text_field("apiVersion");
    let kind = text_field("kind");
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let parsed = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Pod") => workload(object, Workload::Pod),
        ("v1", "PodTemplate") => workload(object, Workload::PodTemplate),
        ("v1", "ReplicationController") => workload(object, Workload::ReplicationController),
        ("apps/v1", "Deployment") => workload(object, Workload::Deployment),
        ("apps/v1", "StatefulSet") => workload(object, Workload::StatefulSet),
        ("apps/v1", "DaemonSet") => workload(object, Workload::DaemonSet),
        ("apps/v1", "ReplicaSet") => workload(object, Workload::ReplicaSet),
        ("batch/v1", "Job") => workload(object, Workload::Job),
        ("batch/v1", "CronJob") => workload(object, Workload::CronJob),
        ("v1", "Namespace") => typed(object, Resource::Namespace),
        ("v1", "ServiceAccount") => typed(object, Resource::ServiceAccount),
        ("rbac.authorization.k8s.io/v1", "Role") => typed(object, Resource::Role),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => typed(object, Resource::ClusterRole),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => typed(object, Resource::RoleBinding),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            typed(object, Resource::ClusterRoleBinding)
        }
        ("networking.k8s.io/v1", "NetworkPolicy") => typed(object, Resource::NetworkPolicy),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration") => {
            typed(object, Resource::ValidatingWebhookConfiguration)
        }
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration") => {
            typed(object, Resource::MutatingWebhookConfiguration)
        }
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding") => {
            typed(object, Resource::ValidatingAdmissionPolicyBinding)
        }
        _ => {
            // NOTE: retired API versions of known kinds (such as
            // extensions/v1beta1 Deployment) land here too, since the
            // current types do not describe them exactly.
            let key = format!("{api_version}/{kind}");
            *manifests.skipped.entry(key).or_default() += 1;
            return;
        }
    };
    match parsed {
        Ok(resource) => manifests.objects.push(Object { origin, resource }),
        Err(error) => manifests.invalid.push(InvalidObject {
            origin,
            name,
            kind,
            message: error.to_string(),
        }),
    }
}

fn workload<T: serde::de::DeserializeOwned>(
    object: Value,
    wrap: impl FnOnce(Box<T>) -> Workload,
) -> Result<Resource, serde_json::Error> {
    T::deserialize(object).map(|o| Resource::Workload(wrap(Box::new(o))))
}

fn typed<T: serde::de::DeserializeOwned>(
    object: Value,
    wrap: impl FnOnce(Box<T>) -> Resource,
) -> Result<Resource, serde_json::Error> {
    T::deserialize(object).map(|o| wrap(Box::new(o)))
}
