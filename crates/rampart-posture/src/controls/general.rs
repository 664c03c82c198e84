//! General policies beyond the Pod Security Standards, after section 5.7
//! of the CIS Kubernetes Benchmark: a read-only root filesystem for every
//! container (part of 5.7.3), applications kept out of the `default`
//! namespace (5.7.4), and API versions that clusters still serve.

use std::sync::Arc;

use crate::control::{Category, Control, Severity};
use crate::finding::{Finding, ResourceRef, Sink};
use crate::manifest::{Object, PlacedObject, Resource, RetiredVersion, retired_version};
use crate::pod::{ContainerRef, PodView};

pub(crate) static WRITABLE_ROOT_FILESYSTEM: Control = Control {
    id: "writable-root-filesystem",
    title: "Container root filesystem is writable",
    category: Category::General,
    severity: Severity::Low,
    rationale: "A process that can write to its container's root filesystem can replace the image's binaries and libraries and leave tools behind. With a read-only root filesystem, writes are limited to the volumes the pod mounts, which are few and easier to watch.",
    remediation: "Set securityContext.readOnlyRootFilesystem: true on every container, and mount an emptyDir volume at each path the process must write to, such as /tmp.",
    pss_level: None,
    cis: &["5.7.3"],
    nist_800_190: &["4.4.4"],
    nsa: &["Pod security: immutable container file systems"],
    mitre: &[],
    kubescape: &["C-0017", "C-0211"],
};

pub(crate) static DEFAULT_NAMESPACE: Control = Control {
    id: "default-namespace",
    title: "Object in the default namespace",
    category: Category::General,
    severity: Severity::Low,
    rationale: "The default namespace collects whatever is created without a namespace, so RBAC, NetworkPolicies, quotas and Pod Security labels made for one application there apply to all of them. Namespaces per application or team keep those boundaries apart.",
    remediation: "Create a namespace for the application, move the object there and name it in metadata.namespace.",
    pss_level: None,
    cis: &["5.7.4"],
    nist_800_190: &["4.3.3"],
    nsa: &["Network separation and hardening: namespaces"],
    mitre: &[],
    kubescape: &["C-0061", "C-0212"],
};

pub(crate) static REMOVED_API_VERSION: Control = Control {
    id: "removed-api-version",
    title: "API version no longer served",
    category: Category::General,
    severity: Severity::Low,
    rationale: "Kubernetes has stopped serving this apiVersion, so the manifest cannot be applied to a current cluster as written, and the cluster it describes runs an unsupported Kubernetes release. rampart audits the object as its replacement version.",
    remediation: "Rewrite the object with the replacement apiVersion and check the fields that changed, such as the spec.selector that apps/v1 workloads require.",
    pss_level: None,
    cis: &[],
    nist_800_190: &[],
    nsa: &["Upgrading and application security practices"],
    mitre: &[],
    kubescape: &[],
};

pub(crate) static CONTROLS: [&Control; 3] = [
    &WRITABLE_ROOT_FILESYSTEM,
    &DEFAULT_NAMESPACE,
    &REMOVED_API_VERSION,
];

/// Reports an object that the manifest writes with a retired `apiVersion`.
pub(crate) fn check_version(object: &Object, sink: &mut Sink) {
    sink.evaluated(&REMOVED_API_VERSION);
    if let Some(retired) = object.retired {
        sink.fail(
            &REMOVED_API_VERSION,
            object,
            None,
            Some("apiVersion".to_owned()),
            removed_message(retired, object.kind(), object.name()),
        );
    }
}

fn removed_message(retired: &RetiredVersion, kind: &str, name: &str) -> String {
    format!(
        "{kind} {name} is written as {}, which Kubernetes {} stopped serving; use {}",
        retired.api_version, retired.removed_in, retired.replacement
    )
}

/// Checks that every container of the pod has a read-only root
/// filesystem. Windows pods are skipped, because Kubernetes rejects
/// `readOnlyRootFilesystem` on them.
pub(crate) fn check_pod(
    object: &Object,
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    sink: &mut Sink,
) {
    let windows = pod.spec.os.as_ref().is_some_and(|os| os.name == "windows");
    if windows {
        return;
    }
    sink.evaluated(&WRITABLE_ROOT_FILESYSTEM);
    for container in containers {
        let read_only = container
            .security_context
            .and_then(|context| context.read_only_root_filesystem);
        if read_only == Some(true) {
            continue;
        }
        let message = match read_only {
            Some(_) => container.message(&[" sets readOnlyRootFilesystem to false"]),
            None => container.message(&[" does not set readOnlyRootFilesystem"]),
        };
        sink.fail(
            &WRITABLE_ROOT_FILESYSTEM,
            object,
            Some(container.name),
            Some(
                container
                    .path
                    .join("securityContext.readOnlyRootFilesystem"),
            ),
            message,
        );
    }
}

/// Checks that a namespaced object is not in the `default` namespace.
///
/// A manifest that names no namespace counts as in `default`, because
/// `kubectl apply` without `-n` creates it there, and Kubescape's rule
/// tests expect it. The message states this, because `-n` or a Helm
/// release namespace may place it elsewhere. NetworkPolicies are not checked,
/// since one in the default namespace protects it, and neither is the
/// `default` ServiceAccount, which Kubernetes creates in every namespace.
pub(crate) fn check_namespace(object: &Object, sink: &mut Sink) {
    let checked = matches!(
        object.resource,
        Resource::Workload(_)
            | Resource::ServiceAccount(_)
            | Resource::Role(_)
            | Resource::RoleBinding(_)
    );
    if !checked {
        return;
    }
    sink.evaluated(&DEFAULT_NAMESPACE);
    if matches!(object.resource, Resource::ServiceAccount(_)) && object.name() == "default" {
        return;
    }
    let Some(message) = default_namespace_message(object.kind(), object.name(), object.namespace())
    else {
        return;
    };
    sink.fail(
        &DEFAULT_NAMESPACE,
        object,
        None,
        Some("metadata.namespace".to_owned()),
        message,
    );
}

/// Checks the namespace and version of the objects that no other control reads
/// (Services, ConfigMaps, Secrets and the other kinds of
/// [`PlacedObject`]), as [`check_namespace`] does for the others. The
/// objects Kubernetes creates in the default namespace are not reported:
/// the `kubernetes` Service with its Endpoints and EndpointSlice, and the
/// `kube-root-ca.crt` ConfigMap of every namespace.
pub(crate) fn check_placed(placed: &[PlacedObject], sink: &mut Sink) {
    for object in placed {
        let namespace = object.namespace.as_deref().unwrap_or("default");
        sink.evaluated_in(&DEFAULT_NAMESPACE, Some(namespace));
        sink.evaluated_in(&REMOVED_API_VERSION, Some(namespace));
        let resource = Arc::new(ResourceRef {
            api_version: object.api_version,
            kind: object.kind,
            namespace: Some(namespace.to_owned()),
            name: object.name.clone(),
        });
        let origin = Arc::new(object.origin.clone());
        if let Some(retired) = retired_version(object.api_version, object.kind) {
            sink.push(Finding {
                control: &REMOVED_API_VERSION,
                severity: REMOVED_API_VERSION.severity,
                resource: Arc::clone(&resource),
                origin: Some(Arc::clone(&origin)),
                container: None,
                field: Some("apiVersion".to_owned()),
                message: removed_message(retired, object.kind, &object.name),
                exception: None,
            });
        }
        if is_created_by_kubernetes(object) {
            continue;
        }
        let Some(message) =
            default_namespace_message(object.kind, &object.name, object.namespace.as_deref())
        else {
            continue;
        };
        sink.push(Finding {
            control: &DEFAULT_NAMESPACE,
            severity: DEFAULT_NAMESPACE.severity,
            resource,
            origin: Some(origin),
            container: None,
            field: Some("metadata.namespace".to_owned()),
            message,
            exception: None,
        });
    }
}

/// Returns the message of a `default-namespace` finding on an object with
/// this namespace, or `None` when the object is in another namespace.
fn default_namespace_message(kind: &str, name: &str, namespace: Option<&str>) -> Option<String> {
    match namespace {
        Some("default") => Some(format!("{kind} {name} is in the default namespace")),
        Some(_) => None,
        None => Some(format!(
            "{kind} {name} names no namespace, so kubectl apply without -n creates it in the default namespace"
        )),
    }
}

/// Returns whether Kubernetes itself creates `object` in the default
/// namespace. An EndpointSlice counts only under the name `kubernetes`: a
/// copy that merely carries the service-name label is reported.
fn is_created_by_kubernetes(object: &PlacedObject) -> bool {
    match object.kind {
        "Service" | "Endpoints" | "EndpointSlice" => object.name == "kubernetes",
        "ConfigMap" => object.name == "kube-root-ca.crt",
        _ => false,
    }
}
