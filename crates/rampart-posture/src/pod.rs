//! A pod template as the checks see it: metadata, spec and where both sit
//! in the object, so violations carry the field path of the offending value.

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvFromSource, EnvVar, EphemeralContainer, Lifecycle, PodSpec, Probe,
    ResourceRequirements, SecurityContext, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The pod metadata and spec of one object, with their field paths in it
/// (`metadata`/`spec` for a Pod, `spec.template.metadata`/`spec.template.spec`
/// for a Deployment, and so on).
#[derive(Clone, Copy, Debug)]
pub struct PodView<'a> {
    pub metadata: &'a ObjectMeta,
    pub spec: &'a PodSpec,
    pub metadata_path: &'a str,
    pub spec_path: &'a str,
}

impl<'a> PodView<'a> {
    /// Creates a view of a bare Pod's metadata and spec.
    pub fn pod(metadata: &'a ObjectMeta, spec: &'a PodSpec) -> Self {
        PodView {
            metadata,
            spec,
            metadata_path: "metadata",
            spec_path: "spec",
        }
    }

    pub fn containers(&self) -> Vec<ContainerRef<'a>> {
        let spec = self.spec;
        let mut all = Vec::new();
        let init = spec.init_containers.as_deref().unwrap_or_default();
        for (index, container) in init.iter().enumerate() {
            all.push(ContainerRef::regular(
                container,
                ContainerKind::Init,
                format!("{}.initContainers[{index}]", self.spec_path),
            ));
        }
        for (index, container) in spec.containers.iter().enumerate() {
            all.push(ContainerRef::regular(
                container,
                ContainerKind::Regular,
                format!("{}.containers[{index}]", self.spec_path),
            ));
        }
        let ephemeral = spec.ephemeral_containers.as_deref().unwrap_or_default();
        for (index, container) in ephemeral.iter().enumerate() {
            all.push(ContainerRef::ephemeral(
                container,
                format!("{}.ephemeralContainers[{index}]", self.spec_path),
            ));
        }
        all
    }

    /// Returns whether the pod declares `spec.os.name: windows`.
    pub fn is_windows(&self) -> bool {
        self.spec.os.as_ref().is_some_and(|os| os.name == "windows")
    }

    /// Returns whether the pod runs in its own user namespace (`hostUsers: false`).
    pub(crate) fn in_user_namespace(&self) -> bool {
        self.spec.host_users == Some(false)
    }
}

/// Which list of the pod spec a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

/// The fields the checks read from a container, init container or
/// ephemeral container, which k8s-openapi models as two types.
pub struct ContainerRef<'a> {
    pub name: &'a str,
    pub kind: ContainerKind,
    pub image: Option<&'a str>,
    pub security_context: Option<&'a SecurityContext>,
    pub ports: &'a [ContainerPort],
    pub probes: [(&'static str, Option<&'a Probe>); 3],
    pub lifecycle: Option<&'a Lifecycle>,
    pub env: &'a [EnvVar],
    pub env_from: &'a [EnvFromSource],
    pub volume_mounts: &'a [VolumeMount],
    pub resources: Option<&'a ResourceRequirements>,
    /// Field path of the container, such as `spec.initContainers[0]`.
    pub path: String,
}

impl<'a> ContainerRef<'a> {
    fn regular(container: &'a Container, kind: ContainerKind, path: String) -> Self {
        ContainerRef {
            name: &container.name,
            kind,
            image: container.image.as_deref(),
            security_context: container.security_context.as_ref(),
            ports: container.ports.as_deref().unwrap_or_default(),
            probes: [
                ("livenessProbe", container.liveness_probe.as_ref()),
                ("readinessProbe", container.readiness_probe.as_ref()),
                ("startupProbe", container.startup_probe.as_ref()),
            ],
            lifecycle: container.lifecycle.as_ref(),
            env: container.env.as_deref().unwrap_or_default(),
            env_from: container.env_from.as_deref().unwrap_or_default(),
            volume_mounts: container.volume_mounts.as_deref().unwrap_or_default(),
            resources: container.resources.as_ref(),
            path,
        }
    }

    fn ephemeral(container: &'a EphemeralContainer, path: String) -> Self {
        ContainerRef {
            name: &container.name,
            kind: ContainerKind::Ephemeral,
            image: container.image.as_deref(),
            security_context: container.security_context.as_ref(),
            ports: container.ports.as_deref().unwrap_or_default(),
            probes: [
                ("livenessProbe", container.liveness_probe.as_ref()),
                ("readinessProbe", container.readiness_probe.as_ref()),
                ("startupProbe", container.startup_probe.as_ref()),
            ],
            lifecycle: container.lifecycle.as_ref(),
            env: container.env.as_deref().unwrap_or_default(),
            env_from: container.env_from.as_deref().unwrap_or_default(),
            volume_mounts: container.volume_mounts.as_deref().unwrap_or_default(),
            resources: container.resources.as_ref(),
            path,
        }
    }
}
