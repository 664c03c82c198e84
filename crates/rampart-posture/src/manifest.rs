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

use crate::block_yaml;
use crate::cilium::CiliumNetworkPolicy;
use crate::pod::PodView;

/// Largest manifest stream accepted, so that a huge input fails with a
/// clear error instead of exhausting memory.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024 * 1024;

/// Maximum number of objects accepted from one stream, counting `List` items.
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
    /// 1-based position of the YAML document in the stream, counting only
    /// documents that are not empty or null (serde-saphyr skips those).
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
    CiliumNetworkPolicy(Box<CiliumNetworkPolicy>),
    CiliumClusterwideNetworkPolicy(Box<CiliumNetworkPolicy>),
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
            Resource::CiliumNetworkPolicy(_) => "CiliumNetworkPolicy",
            Resource::CiliumClusterwideNetworkPolicy(_) => "CiliumClusterwideNetworkPolicy",
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
            Resource::CiliumNetworkPolicy(_) | Resource::CiliumClusterwideNetworkPolicy(_) => {
                "cilium.io/v2"
            }
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
            Resource::CiliumNetworkPolicy(o) | Resource::CiliumClusterwideNetworkPolicy(o) => {
                &o.metadata
            }
        }
    }
}

/// One object read from a manifest stream or a cluster, with its origin.
#[derive(Clone, Debug)]
pub struct Object {
    pub origin: Origin,
    pub resource: Resource,
    /// The retired `apiVersion` the manifest was written with, when rampart
    /// read the object as its replacement version.
    pub retired: Option<&'static RetiredVersion>,
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

/// An `apiVersion` of a kind that Kubernetes no longer serves.
#[derive(Debug, PartialEq, Eq)]
pub struct RetiredVersion {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// The version that replaces it.
    pub replacement: &'static str,
    /// The Kubernetes minor version that stopped serving it.
    pub removed_in: &'static str,
    /// Whether rampart reads the object as its replacement version. The
    /// kinds kept only by name and namespace (see [`PlacedObject`]) need no
    /// conversion.
    pub converted: bool,
}

const fn retired(
    api_version: &'static str,
    kind: &'static str,
    replacement: &'static str,
    removed_in: &'static str,
    converted: bool,
) -> RetiredVersion {
    RetiredVersion {
        api_version,
        kind,
        replacement,
        removed_in,
        converted,
    }
}

/// Retired versions of the kinds rampart reads, with the Kubernetes release
/// that stopped serving each. The converted ones have the schema of their
/// replacement, apart from fields no control reads and the defaults that
/// `apply_retired_defaults` fills in.
pub const RETIRED_VERSIONS: [RetiredVersion; 24] = [
    retired("extensions/v1beta1", "Deployment", "apps/v1", "1.16", true),
    retired("extensions/v1beta1", "DaemonSet", "apps/v1", "1.16", true),
    retired("extensions/v1beta1", "ReplicaSet", "apps/v1", "1.16", true),
    retired(
        "extensions/v1beta1",
        "NetworkPolicy",
        "networking.k8s.io/v1",
        "1.16",
        true,
    ),
    retired("apps/v1beta1", "Deployment", "apps/v1", "1.16", true),
    retired("apps/v1beta1", "StatefulSet", "apps/v1", "1.16", true),
    retired("apps/v1beta2", "Deployment", "apps/v1", "1.16", true),
    retired("apps/v1beta2", "StatefulSet", "apps/v1", "1.16", true),
    retired("apps/v1beta2", "DaemonSet", "apps/v1", "1.16", true),
    retired("apps/v1beta2", "ReplicaSet", "apps/v1", "1.16", true),
    retired(
        "rbac.authorization.k8s.io/v1beta1",
        "Role",
        "rbac.authorization.k8s.io/v1",
        "1.22",
        true,
    ),
    retired(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole",
        "rbac.authorization.k8s.io/v1",
        "1.22",
        true,
    ),
    retired(
        "rbac.authorization.k8s.io/v1beta1",
        "RoleBinding",
        "rbac.authorization.k8s.io/v1",
        "1.22",
        true,
    ),
    retired(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io/v1",
        "1.22",
        true,
    ),
    retired("batch/v1beta1", "CronJob", "batch/v1", "1.25", true),
    retired(
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io/v1",
        "1.22",
        true,
    ),
    retired(
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        "admissionregistration.k8s.io/v1",
        "1.22",
        true,
    ),
    retired(
        "extensions/v1beta1",
        "Ingress",
        "networking.k8s.io/v1",
        "1.22",
        false,
    ),
    retired(
        "networking.k8s.io/v1beta1",
        "Ingress",
        "networking.k8s.io/v1",
        "1.22",
        false,
    ),
    retired(
        "policy/v1beta1",
        "PodDisruptionBudget",
        "policy/v1",
        "1.25",
        false,
    ),
    retired(
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        "discovery.k8s.io/v1",
        "1.25",
        false,
    ),
    retired(
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
        "1.26",
        false,
    ),
    retired(
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        "storage.k8s.io/v1",
        "1.27",
        false,
    ),
    retired(
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
        "1.25",
        false,
    ),
];

/// Returns the retired version entry of `api_version` and `kind`, if any.
pub fn retired_version(api_version: &str, kind: &str) -> Option<&'static RetiredVersion> {
    RETIRED_VERSIONS
        .iter()
        .find(|retired| retired.api_version == api_version && retired.kind == kind)
}

/// Returns whether the object is read as its replacement version, which
/// only the slow path does.
fn is_converted(api_version: &str, kind: &str) -> bool {
    retired_version(api_version, kind).is_some_and(|retired| retired.converted)
}

/// An object of a namespaced kind that no control reads in full (a
/// Service, ConfigMap, Secret and the like), kept by its identity so that
/// the `default-namespace` control can place it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacedObject {
    pub origin: Origin,
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    /// The namespace written in the object, if any.
    pub namespace: Option<String>,
}

/// The namespaced kinds kept as [`PlacedObject`]s: those of Kubescape's
/// `*-in-default-namespace` rules and of the CIS Kubernetes Benchmark's
/// 5.7.4 audit that no control reads in full. Retired beta versions are
/// listed too, because only the name and namespace are read.
const PLACED_KINDS: [(&str, &str); 20] = [
    ("v1", "ConfigMap"),
    ("v1", "Endpoints"),
    ("v1", "LimitRange"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "ResourceQuota"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
    ("coordination.k8s.io/v1", "Lease"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"),
    ("extensions/v1beta1", "Ingress"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1beta1", "Ingress"),
    ("policy/v1", "PodDisruptionBudget"),
    ("policy/v1beta1", "PodDisruptionBudget"),
    ("storage.k8s.io/v1", "CSIStorageCapacity"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"),
];

/// Returns the static `apiVersion` and `kind` of a kind kept as a
/// [`PlacedObject`], or `None` for any other kind.
fn placed_kind(api_version: &str, kind: &str) -> Option<(&'static str, &'static str)> {
    PLACED_KINDS
        .iter()
        .find(|&&(version, name)| version == api_version && name == kind)
        .copied()
}

/// The objects read from one manifest stream.
#[derive(Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Object>,
    /// Objects of kinds that no control reads, counted by `apiVersion` and
    /// `kind` (such as `v1/Service`).
    pub skipped: BTreeMap<String, usize>,
    /// The skipped objects of the namespaced kinds whose namespace the
    /// `default-namespace` control checks, in stream order.
    pub placed: Vec<PlacedObject>,
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
        self.placed.extend(other.placed);
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
    /// Field path of the value that does not match the schema, such as
    /// `spec.template.spec.containers`, when known.
    pub field: Option<String>,
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
        if flow_depth_exceeds(chunk.text, MAX_DEPTH) {
            // The slow path below reports the document.
        } else if let Some(read) = read_document_tree(chunk.text, &origin, &mut manifests) {
            objects += read;
            if objects > MAX_OBJECTS {
                return Err(ManifestError::TooManyObjects {
                    source_name: source_name.to_owned(),
                    max: MAX_OBJECTS,
                });
            }
            continue;
        } else if read_document_fast(chunk.text, &origin, &mut manifests) {
            objects += 1;
            if objects > MAX_OBJECTS {
                return Err(ManifestError::TooManyObjects {
                    source_name: source_name.to_owned(),
                    max: MAX_OBJECTS,
                });
            }
            continue;
        }
        if let Some((line, message)) = too_deep(chunk.text, chunk.first_line) {
            manifests.invalid.push(InvalidObject {
                origin: Origin { line, ..origin },
                kind: String::new(),
                name: None,
                message,
                field: None,
            });
            continue;
        }
        // JSON is read by serde_json, several times faster than libyaml;
        // what it refuses (YAML flow style, say) goes to libyaml.
        let json = chunk
            .text
            .trim_start()
            .starts_with('{')
            .then(|| serde_json::from_str::<Value>(chunk.text).ok())
            .flatten();
        let document: Value = match json.map_or_else(|| yaml_serde::from_str(chunk.text), Ok) {
            Ok(document) => document,
            Err(error) => {
                let (line, message) = yaml_error(&error, chunk.first_line);
                manifests.invalid.push(InvalidObject {
                    origin: Origin { line, ..origin },
                    kind: String::new(),
                    name: None,
                    message: format!("invalid YAML: {message}"),
                    field: None,
                });
                continue;
            }
        };
        let (items, listed) = match document {
            Value::Object(mut map) if is_list(&map) => match map.remove("items") {
                Some(Value::Array(items)) => (with_list_type(&map, items), true),
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
pub(crate) struct DocumentText<'a> {
    /// 1-based number of the document in the stream: explicit documents
    /// (after `---`) count even when empty.
    pub number: usize,
    /// 1-based line on which the document's text starts.
    pub first_line: usize,
    /// Characters before the document's text on its first line (the
    /// `---` marker when the document starts on the marker's line).
    pub first_column_offset: usize,
    pub text: &'a str,
}

/// Splits a YAML stream at its document markers (`---` and `...` at the
/// start of a line, which YAML 1.2 reserves for them even inside scalars).
/// Text before the first `---` is a document only if it has content other
/// than comments and directives.
pub(crate) fn split_documents(text: &str) -> Vec<DocumentText<'_>> {
    let mut documents = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut explicit = false;
    let mut column_offset = 0usize;
    // Only lines that start with `---` or `...` can be markers; they are
    // found with a substring search instead of visiting every line, and
    // lines are counted between them.
    let bytes = text.as_bytes();
    let mut candidates: Vec<usize> = memchr::memmem::find_iter(bytes, b"\n---")
        .chain(memchr::memmem::find_iter(bytes, b"\n..."))
        .map(|newline| newline + 1)
        .collect();
    if bytes.starts_with(b"---") || bytes.starts_with(b"...") {
        candidates.push(0);
    }
    candidates.sort_unstable();
    let mut counted_to = 0usize;
    let mut index = 0usize;
    for offset in candidates {
        index += memchr::memchr_iter(b'\n', &bytes[counted_to..offset]).count();
        counted_to = offset;
        let line_end =
            memchr::memchr(b'\n', &bytes[offset..]).map_or(bytes.len(), |i| offset + i + 1);
        let line = &text[offset..line_end];
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
                    first_column_offset: column_offset,
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
            column_offset = if starts_document { 3 } else { 0 };
            explicit = starts_document;
        }
    }
    let body = &text[start..];
    if explicit || has_content(body) {
        documents.push(DocumentText {
            number: documents.len() + 1,
            first_line: start_line,
            first_column_offset: column_offset,
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

/// Returns the stream line of a parser error, whose locations count from
/// the document's first line, and its message with stream line numbers.
fn yaml_error(error: &yaml_serde::Error, first_line: usize) -> (usize, String) {
    let message = error.to_string();
    let line = error
        .location()
        .map_or(first_line, |location| first_line + location.line() - 1);
    // libyaml words errors as "PROBLEM at line L column C[, while parsing
    // CONTEXT at line L2 column C2]"; the problem's line is reported on its
    // own, and the context's is moved to the stream's numbering.
    let (problem, context) = match message.split_once(", while ") {
        Some((problem, context)) => (problem, Some(context)),
        None => (message.as_str(), None),
    };
    let problem = problem.split(" at line ").next().unwrap_or(problem);
    let mut text = problem.to_owned();
    if let Some(context) = context {
        let (what, at) = context.split_once(" at line ").unwrap_or((context, ""));
        let context_line = at
            .split(' ')
            .next()
            .and_then(|number| number.parse::<usize>().ok());
        match context_line {
            Some(number) => {
                text.push_str(&format!(
                    " (while {what} that starts at line {})",
                    first_line + number - 1
                ));
            }
            None => text.push_str(&format!(" (while {what})")),
        }
    }
    (line, text)
}

/// Gives each item of a typed list (such as a `PodList`, as an API server
/// returns it) the `apiVersion` and `kind` it lacks there: the list's
/// version and its kind without `List`. A plain `List` names no kind, so
/// its items must name their own.
fn with_list_type(list: &serde_json::Map<String, Value>, mut items: Vec<Value>) -> Vec<Value> {
    let kind = list.get("kind").and_then(Value::as_str).unwrap_or_default();
    let Some(item_kind) = kind.strip_suffix("List").filter(|kind| !kind.is_empty()) else {
        return items;
    };
    let api_version = list.get("apiVersion").cloned();
    for item in &mut items {
        let Value::Object(fields) = item else {
            continue;
        };
        if !fields.contains_key("kind") {
            fields.insert("kind".to_owned(), Value::from(item_kind));
        }
        if let Some(api_version) = &api_version
            && !fields.contains_key("apiVersion")
        {
            fields.insert("apiVersion".to_owned(), api_version.clone());
        }
    }
    items
}

/// Deepest nesting of mappings and sequences accepted in one document.
pub const MAX_DEPTH: usize = 128;

/// Returns an error for a document nested deeper than [`MAX_DEPTH`].
///
/// libyaml's time grows with the square of the nesting depth of flow
/// collections (minutes for a 400 KB `[[[...]]]`), so deep documents must
/// be rejected before it sees them. A bracket count finds the suspects
/// cheaply, and serde-saphyr's parser, which stops at its depth budget,
/// decides, because brackets inside quoted or block scalars do not nest.
fn too_deep(text: &str, first_line: usize) -> Option<(usize, String)> {
    if !flow_depth_exceeds(text, MAX_DEPTH) {
        return None;
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_events: MAX_MANIFEST_BYTES,
            max_nodes: MAX_MANIFEST_BYTES / 2,
            max_depth: MAX_DEPTH,
        },
    };
    let error =
        serde_saphyr::from_str_with_options::<serde::de::IgnoredAny>(text, options).err()?;
    let message = error.to_string();
    let first = message.lines().next().unwrap_or_default();
    let line = first
        .strip_prefix("error: line ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|number| number.parse::<usize>().ok())
        .map_or(first_line, |line| first_line + line - 1);
    Some((
        line,
        format!("invalid YAML: nested more than {MAX_DEPTH} levels deep"),
    ))
}

/// Returns whether `[` and `{` ever open more than `limit` levels, counting
/// every bracket outside comments and double-quoted strings. It may
/// over-count (brackets in plain or block scalars), never under-count.
fn flow_depth_exceeds(text: &str, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut in_comment = false;
    let mut previous = b'\n';
    for &byte in text.as_bytes() {
        if in_comment {
            in_comment = byte != b'\n';
        } else if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'#' if matches!(previous, b' ' | b'\t' | b'\n') => in_comment = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        previous = byte;
    }
    false
}

fn is_list(map: &serde_json::Map<String, Value>) -> bool {
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    kind.ends_with("List") && map.get("items").is_some_and(Value::is_array)
}

/// Where a typed object is deserialized from: a parsed document, or the
/// YAML text of a document whose kind was read from its text.
enum Input<'a> {
    Value(Value),
    Yaml(&'a str),
    Tree(&'a block_yaml::Document<'a>, usize),
}

impl Input<'_> {
    fn deserialize<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        match self {
            Input::Value(value) => serde_path_to_error::deserialize(value).map_err(|error| {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                if path == "." {
                    message
                } else {
                    format!("{path}: {message}")
                }
            }),
            Input::Yaml(text) => yaml_serde::from_str(text).map_err(|error| error.to_string()),
            Input::Tree(document, node) => document
                .deserialize(node)
                .map_err(|error| error.to_string()),
        }
    }
}

fn workload<T: serde::de::DeserializeOwned>(
    input: Input<'_>,
    wrap: impl FnOnce(Box<T>) -> Workload,
) -> Result<Resource, String> {
    input
        .deserialize::<T>()
        .map(|o| Resource::Workload(wrap(Box::new(o))))
}

fn typed<T: serde::de::DeserializeOwned>(
    input: Input<'_>,
    wrap: impl FnOnce(Box<T>) -> Resource,
) -> Result<Resource, String> {
    input.deserialize::<T>().map(|o| wrap(Box::new(o)))
}

/// Deserializes an object of a kind some control reads, or returns `None`
/// for other kinds.
fn resource_from(
    api_version: &str,
    kind: &str,
    input: Input<'_>,
) -> Option<Result<Resource, String>> {
    let parsed = match (api_version, kind) {
        ("v1", "Pod") => workload(input, Workload::Pod),
        ("v1", "PodTemplate") => workload(input, Workload::PodTemplate),
        ("v1", "ReplicationController") => workload(input, Workload::ReplicationController),
        ("apps/v1", "Deployment") => workload(input, Workload::Deployment),
        ("apps/v1", "StatefulSet") => workload(input, Workload::StatefulSet),
        ("apps/v1", "DaemonSet") => workload(input, Workload::DaemonSet),
        ("apps/v1", "ReplicaSet") => workload(input, Workload::ReplicaSet),
        ("batch/v1", "Job") => workload(input, Workload::Job),
        ("batch/v1", "CronJob") => workload(input, Workload::CronJob),
        ("v1", "Namespace") => typed(input, Resource::Namespace),
        ("v1", "ServiceAccount") => typed(input, Resource::ServiceAccount),
        ("rbac.authorization.k8s.io/v1", "Role") => typed(input, Resource::Role),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => typed(input, Resource::ClusterRole),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => typed(input, Resource::RoleBinding),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            typed(input, Resource::ClusterRoleBinding)
        }
        ("networking.k8s.io/v1", "NetworkPolicy") => typed(input, Resource::NetworkPolicy),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration") => {
            typed(input, Resource::ValidatingWebhookConfiguration)
        }
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration") => {
            typed(input, Resource::MutatingWebhookConfiguration)
        }
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding") => {
            typed(input, Resource::ValidatingAdmissionPolicyBinding)
        }
        ("cilium.io/v2", "CiliumNetworkPolicy") => typed(input, Resource::CiliumNetworkPolicy),
        ("cilium.io/v2", "CiliumClusterwideNetworkPolicy") => {
            typed(input, Resource::CiliumClusterwideNetworkPolicy)
        }
        _ => return None,
    };
    Some(parsed)
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
    let mut api_version = text_field("apiVersion");
    let kind = text_field("kind");
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut object = object;
    // A retired version is read as its replacement: batch/v1beta1 CronJobs
    // have the batch/v1 schema, and old charts are still audited. Findings
    // name the replacement version.
    let retired = retired_version(&api_version, &kind).filter(|retired| retired.converted);
    if let Some(retired) = retired {
        api_version = retired.replacement.to_owned();
        object["apiVersion"] = Value::from(retired.replacement);
        apply_retired_defaults(&kind, &mut object);
    }
    let Some(parsed) = resource_from(&api_version, &kind, Input::Value(object)) else {
        if let Some((api_version, kind)) = placed_kind(&api_version, &kind) {
            manifests.placed.push(PlacedObject {
                origin,
                api_version,
                kind,
                name: name.unwrap_or_default(),
                namespace,
            });
        }
        let key = format!("{api_version}/{kind}");
        *manifests.skipped.entry(key).or_default() += 1;
        return;
    };
    match parsed {
        Ok(resource) => manifests.objects.push(Object {
            origin,
            resource,
            retired,
        }),
        Err(message) => {
            // serde_path_to_error writes the path first: `spec.replicas: ...`.
            let field = message
                .split_once(": ")
                .map(|(path, _)| path)
                .filter(|path| !path.contains(' '))
                .map(str::to_owned);
            manifests.invalid.push(InvalidObject {
                origin,
                name,
                kind,
                message,
                field,
            })
        }
    }
}

/// Fills in the fields that a retired version defaulted and its
/// replacement requires or defaults otherwise.
fn apply_retired_defaults(kind: &str, object: &mut Value) {
    match kind {
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => {
            default_webhooks(object);
        }
        _ => default_selector(object),
    }
}

/// Applies the admissionregistration.k8s.io/v1beta1 defaults to each
/// webhook: `failurePolicy: Ignore` (v1 defaults to `Fail`, so a v1beta1
/// webhook that sets none fails open), `sideEffects: Unknown` and
/// `admissionReviewVersions: [v1beta1]`, which v1 requires.
fn default_webhooks(object: &mut Value) {
    let Some(webhooks) = object.get_mut("webhooks").and_then(Value::as_array_mut) else {
        return;
    };
    for webhook in webhooks.iter_mut().filter_map(Value::as_object_mut) {
        let defaults = [
            ("failurePolicy", Value::from("Ignore")),
            ("sideEffects", Value::from("Unknown")),
            ("admissionReviewVersions", serde_json::json!(["v1beta1"])),
        ];
        for (field, value) in defaults {
            webhook.entry(field).or_insert(value);
        }
    }
}

/// Sets `spec.selector` to the pod template's labels when it is missing,
/// as the retired workload versions (extensions/v1beta1, apps/v1beta1)
/// defaulted it and apps/v1 requires it.
fn default_selector(object: &mut Value) {
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.contains_key("selector") {
        return;
    }
    let labels = spec
        .get("template")
        .and_then(|template| template.pointer("/metadata/labels"))
        .cloned();
    if let Some(labels) = labels {
        spec.insert(
            "selector".to_owned(),
            serde_json::json!({ "matchLabels": labels }),
        );
    }
}

/// Reads one document with the JSON or block-YAML reader (the latter keeps
/// to the subset of YAML that Kubernetes tooling writes), and returns the number of
/// objects read (`List` items counted). Returns `None`, having changed
/// nothing, when the slow path must read the document instead: YAML
/// outside that subset, a type or schema error (the slow path words it),
/// `apiVersion` or `kind` missing or not strings, or a retired version.
fn read_document_tree(text: &str, origin: &Origin, manifests: &mut Manifests) -> Option<usize> {
    let document = block_yaml::parse_document(text)?;
    let root = document.root();
    if !matches!(document.kind(root), block_yaml::Kind::Mapping) {
        return None;
    }
    let api_version = string_field(&document, root, "apiVersion").ok()??;
    let kind = string_field(&document, root, "kind").ok()??;
    let items = document
        .entry(root, "items")
        .filter(|&(_, items)| matches!(document.kind(items), block_yaml::Kind::Sequence))
        .map(|(_, items)| items);

    let mut tree = TreeObjects::default();
    match items.filter(|_| kind.ends_with("List")) {
        Some(items) => tree.read_items(&document, items, api_version, kind, origin)?,
        None => tree.read(&document, root, api_version, kind, origin.clone())?,
    }

    let count = tree.read.len() + tree.skipped.len();
    manifests.objects.extend(tree.read);
    manifests.placed.extend(tree.placed);
    for key in tree.skipped {
        *manifests.skipped.entry(key).or_default() += 1;
    }
    Some(count)
}

/// The objects of one document read from its node tree, kept apart until
/// the whole document is read, so that a document the slow path must read
/// after all leaves `Manifests` unchanged.
#[derive(Default)]
struct TreeObjects {
    read: Vec<Object>,
    /// `apiVersion/kind` of each object that no control reads.
    skipped: Vec<String>,
    placed: Vec<PlacedObject>,
}

impl TreeObjects {
    /// Reads the items of a `List` document. Items of a typed list (such
    /// as `PodList`) take the list's version and kind when they leave them
    /// out, as in `with_list_type`.
    fn read_items(
        &mut self,
        document: &block_yaml::Document<'_>,
        items: usize,
        api_version: &str,
        kind: &str,
        origin: &Origin,
    ) -> Option<()> {
        let item_kind = kind.strip_suffix("List").filter(|kind| !kind.is_empty());
        for (index, item) in document.elements(items).enumerate() {
            if !matches!(document.kind(item), block_yaml::Kind::Mapping) {
                return None;
            }
            let own_version = string_field(document, item, "apiVersion").ok()?;
            let own_kind = string_field(document, item, "kind").ok()?;
            let (item_version, item_kind) = match item_kind {
                Some(list_kind) => (
                    own_version.unwrap_or(api_version),
                    own_kind.unwrap_or(list_kind),
                ),
                None => (own_version?, own_kind?),
            };
            let origin = Origin {
                item: Some(index),
                ..origin.clone()
            };
            self.read(document, item, item_version, item_kind, origin)?;
        }
        Some(())
    }

    /// Reads one object of the tree into `read` or, for a kind no control
    /// reads, its `apiVersion/kind` into `skipped` (and its identity into
    /// `placed` for the kinds of [`PLACED_KINDS`]). `None` when the slow
    /// path must read the document.
    fn read(
        &mut self,
        document: &block_yaml::Document<'_>,
        node: usize,
        api_version: &str,
        kind: &str,
        origin: Origin,
    ) -> Option<()> {
        if is_converted(api_version, kind) {
            return None;
        }
        match resource_from(api_version, kind, Input::Tree(document, node)) {
            Some(Ok(resource)) => self.read.push(Object {
                origin,
                resource,
                retired: None,
            }),
            Some(Err(_)) => return None,
            None => {
                if let Some((api_version, kind)) = placed_kind(api_version, kind) {
                    let metadata = document.entry(node, "metadata").map(|(_, value)| value);
                    let text =
                        |key| metadata.and_then(|metadata| document.string_at(metadata, key));
                    self.placed.push(PlacedObject {
                        origin,
                        api_version,
                        kind,
                        name: text("name").unwrap_or_default().to_owned(),
                        namespace: text("namespace").map(str::to_owned),
                    });
                }
                self.skipped.push(format!("{api_version}/{kind}"));
            }
        }
        Some(())
    }
}

/// Returns a mapping's string field as the slow path reads it from a
/// `serde_json::Value`: `Ok(None)` when missing, `Err` when present but
/// not a string.
fn string_field<'d>(
    document: &'d block_yaml::Document<'_>,
    mapping: usize,
    key: &str,
) -> Result<Option<&'d str>, ()> {
    match document.entry(mapping, key) {
        None => Ok(None),
        Some(_) => document.string_at(mapping, key).map(Some).ok_or(()),
    }
}

/// The name and namespace of an object whose kind no control reads in
/// full. A name or namespace that is not a string fails this type, and
/// the slow path then reads the document.
#[derive(serde::Deserialize)]
struct Identity {
    metadata: Option<IdentityMetadata>,
}

#[derive(serde::Deserialize, Default)]
struct IdentityMetadata {
    name: Option<String>,
    namespace: Option<String>,
}

/// Reads one document on the fast path: when the document's text names
/// its `apiVersion` and `kind` on top-level lines, a known kind is
/// deserialized straight from the YAML, without an intermediate
/// `serde_json::Value`, and another kind is only checked for valid YAML.
/// Returns `false` when the slow path must read the document instead
/// (flow style, `List` kinds, retired versions, or an error whose message
/// the slow path words better).
fn read_document_fast(text: &str, origin: &Origin, manifests: &mut Manifests) -> bool {
    let Some((api_version, kind)) = top_level_type(text) else {
        return false;
    };
    if kind.ends_with("List") || is_converted(api_version, kind) {
        return false;
    }
    match resource_from(api_version, kind, Input::Yaml(text)) {
        Some(Ok(resource)) => {
            manifests.objects.push(Object {
                origin: origin.clone(),
                resource,
                retired: None,
            });
            true
        }
        Some(Err(_)) => false,
        None => {
            let placed = placed_kind(api_version, kind);
            let valid = match placed {
                Some((api_version, kind)) => match yaml_serde::from_str::<Identity>(text) {
                    Ok(identity) => {
                        let metadata = identity.metadata.unwrap_or_default();
                        manifests.placed.push(PlacedObject {
                            origin: origin.clone(),
                            api_version,
                            kind,
                            name: metadata.name.unwrap_or_default(),
                            namespace: metadata.namespace,
                        });
                        true
                    }
                    Err(_) => false,
                },
                None => yaml_serde::from_str::<serde::de::IgnoredAny>(text).is_ok(),
            };
            if valid {
                let key = format!("{api_version}/{kind}");
                *manifests.skipped.entry(key).or_default() += 1;
            }
            valid
        }
    }
}

/// Returns the `apiVersion` and `kind` written on unindented block-style
/// lines of a document, or `None` when either is missing, repeated or not
/// a plain value.
fn top_level_type(text: &str) -> Option<(&str, &str)> {
    let mut api_version = None;
    let mut kind = None;
    for line in text.lines() {
        let first = line.as_bytes().first().copied();
        if matches!(first, Some(b'{' | b'[' | b'"' | b'\'' | b'?' | b'&' | b'!')) {
            return None;
        }
        let (slot, rest) = if let Some(rest) = line.strip_prefix("apiVersion:") {
            (&mut api_version, rest)
        } else if let Some(rest) = line.strip_prefix("kind:") {
            (&mut kind, rest)
        } else {
            continue;
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(plain_value(rest)?);
    }
    Some((api_version?, kind?))
}

/// Returns a scalar written after `key:` without quotes, or with matching
/// quotes and no escapes, dropping a trailing comment.
fn plain_value(rest: &str) -> Option<&str> {
    let rest = rest.trim();
    let value = match rest.find(" #") {
        Some(index) => rest[..index].trim_end(),
        None => rest,
    };
    let value = match value.as_bytes().first() {
        Some(b'"') | Some(b'\'') => {
            let quote = &value[..1];
            let inner = value.strip_prefix(quote)?.strip_suffix(quote)?;
            if inner.contains(['"', '\'', '\\']) {
                return None;
            }
            inner
        }
        _ => value,
    };
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_'));
    plain.then_some(value)
}
