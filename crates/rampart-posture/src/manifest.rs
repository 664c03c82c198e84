//! Reading Kubernetes manifests: YAML or JSON streams of one or more
//! documents, dispatched on `apiVersion`/`kind` to typed k8s-openapi objects.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, PodTemplate, PodTemplateSpec, ReplicationController};
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

/// The objects read from one manifest stream.
#[derive(Debug, Default)]
pub struct Manifests {
    pub workloads: Vec<Workload>,
    /// Objects of other kinds, counted by `apiVersion` and `kind`
    /// (such as `v1/Service`): they carry no pod spec.
    pub skipped: BTreeMap<String, usize>,
    /// Pod-bearing objects that did not match their schema, with the reason;
    /// the other objects of the stream are still read.
    pub invalid: Vec<InvalidObject>,
}

/// A pod-bearing object that failed to deserialize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidObject {
    /// 1-based position of the document in the stream.
    pub document: usize,
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
    #[error("{source_name}: invalid YAML: {message}")]
    Yaml {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: more than {max} objects in one stream; split it into smaller files")]
    TooManyObjects { source_name: String, max: usize },
}

/// Parses a YAML (or JSON) stream of Kubernetes objects. `source_name`
/// names the input in errors, such as a file path or `-` for stdin.
///
/// Documents of kind `List` (and `*List` kinds with `items`) are expanded.
/// Empty documents are skipped.
pub fn parse_manifests(text: &str, source_name: &str) -> Result<Manifests, ManifestError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge {
            source_name: source_name.to_owned(),
            size: text.len(),
            max: MAX_MANIFEST_BYTES,
        });
    }
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(text, parse_options())
        .map_err(|error| ManifestError::Yaml {
            source_name: source_name.to_owned(),
            message: error.to_string(),
        })?;

    let mut manifests = Manifests::default();
    let mut objects = 0usize;
    for (index, document) in documents.into_iter().enumerate() {
        let items = match document {
            Value::Object(mut map) if is_list(&map) => match map.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            Value::Null => continue,
            other => vec![other],
        };
        objects += items.len();
        if objects > MAX_OBJECTS {
            return Err(ManifestError::TooManyObjects {
                source_name: source_name.to_owned(),
                max: MAX_OBJECTS,
            });
        }
        for item in items {
            read_object(item, index + 1, &mut manifests);
        }
    }
    Ok(manifests)
}

/// Returns parser budgets sized for cluster dumps and rendered charts with
/// thousands of documents. The library defaults (1,024 documents, 1 M
/// events) reject those, while the input size cap already bounds the work.
fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: MAX_OBJECTS,
            max_events: MAX_MANIFEST_BYTES,
            max_nodes: MAX_MANIFEST_BYTES / 2,
        },
    }
}

fn is_list(map: &serde_json::Map<String, Value>) -> bool {
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    kind.ends_with("List") && map.get("items").is_some_and(Value::is_array)
}

fn read_object(object: Value, document: usize, manifests: &mut Manifests) {
    let text_field = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let api_version = text_field("apiVersion");
    let kind = text_field("kind");
    let parsed = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Pod") => typed(object.clone(), |o| Workload::Pod(Box::new(o))),
        ("v1", "PodTemplate") => typed(object.clone(), |o| Workload::PodTemplate(Box::new(o))),
        ("v1", "ReplicationController") => typed(object.clone(), |o| {
            Workload::ReplicationController(Box::new(o))
        }),
        ("apps/v1", "Deployment") => typed(object.clone(), |o| Workload::Deployment(Box::new(o))),
        ("apps/v1", "StatefulSet") => typed(object.clone(), |o| Workload::StatefulSet(Box::new(o))),
        ("apps/v1", "DaemonSet") => typed(object.clone(), |o| Workload::DaemonSet(Box::new(o))),
        ("apps/v1", "ReplicaSet") => typed(object.clone(), |o| Workload::ReplicaSet(Box::new(o))),
        ("batch/v1", "Job") => typed(object.clone(), |o| Workload::Job(Box::new(o))),
        ("batch/v1", "CronJob") => typed(object.clone(), |o| Workload::CronJob(Box::new(o))),
        _ => {
            // NOTE: retired API versions of pod-bearing kinds (such as
            // extensions/v1beta1 Deployment) land here too, since the
            // current types do not describe them exactly.
            let key = format!("{api_version}/{kind}");
            *manifests.skipped.entry(key).or_default() += 1;
            return;
        }
    };
    match parsed {
        Ok(workload) => manifests.workloads.push(workload),
        Err(error) => manifests.invalid.push(InvalidObject {
            document,
            name: object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            kind,
            message: error.to_string(),
        }),
    }
}

fn typed<T: serde::de::DeserializeOwned>(
    object: Value,
    wrap: impl FnOnce(T) -> Workload,
) -> Result<Workload, serde_json::Error> {
    serde_json::from_value(object).map(wrap)
}
