//! A pod template as the checks see it: metadata, spec and where both sit
//! in the object, so violations carry the field path of the offending value.

use std::fmt;

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

    /// Returns the init, regular and ephemeral containers, in that order.
    /// The iterator allocates nothing, so checks may call it once each.
    pub fn containers(&self) -> impl Iterator<Item = ContainerRef<'a>> + use<'a> {
        let spec = self.spec;
        let spec_path = self.spec_path;
        let path = move |list, index| ContainerPath {
            spec_path,
            list,
            index,
        };
        let init = spec.init_containers.as_deref().unwrap_or_default();
        let ephemeral = spec.ephemeral_containers.as_deref().unwrap_or_default();
        let init = init.iter().enumerate().map(move |(index, container)| {
            ContainerRef::regular(
                container,
                ContainerKind::Init,
                path("initContainers", index),
            )
        });
        let regular = spec
            .containers
            .iter()
            .enumerate()
            .map(move |(index, container)| {
                ContainerRef::regular(container, ContainerKind::Regular, path("containers", index))
            });
        let ephemeral = ephemeral.iter().enumerate().map(move |(index, container)| {
            ContainerRef::ephemeral(container, path("ephemeralContainers", index))
        });
        init.chain(regular).chain(ephemeral)
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

/// The field path of a container, such as `spec.initContainers[0]`,
/// written out only when a finding needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContainerPath<'a> {
    spec_path: &'a str,
    /// `initContainers`, `containers` or `ephemeralContainers`.
    list: &'static str,
    index: usize,
}

impl ContainerPath<'_> {
    /// Returns the path of `field` in the container, such as
    /// `spec.containers[0].securityContext.privileged` for
    /// `securityContext.privileged`.
    pub fn join(&self, field: &str) -> String {
        let mut index = itoa::Buffer::new();
        let index = index.format(self.index);
        [self.spec_path, ".", self.list, "[", index, "].", field].concat()
    }
}

impl fmt::Display for ContainerPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut index = itoa::Buffer::new();
        for part in [
            self.spec_path,
            ".",
            self.list,
            "[",
            index.format(self.index),
            "]",
        ] {
            f.write_str(part)?;
        }
        Ok(())
    }
}

/// The fields the checks read from a container, init container or
/// ephemeral container, which k8s-openapi models as two types.
#[derive(Clone, Copy)]
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
    /// The container's own `restartPolicy`, which only init containers may
    /// set (`Always` makes one a sidecar).
    pub restart_policy: Option<&'a str>,
    /// Field path of the container, such as `spec.initContainers[0]`.
    pub path: ContainerPath<'a>,
}

impl<'a> ContainerRef<'a> {
    fn regular(container: &'a Container, kind: ContainerKind, path: ContainerPath<'a>) -> Self {
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
            restart_policy: container.restart_policy.as_deref(),
            path,
        }
    }

    fn ephemeral(container: &'a EphemeralContainer, path: ContainerPath<'a>) -> Self {
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
            restart_policy: container.restart_policy.as_deref(),
            path,
        }
    }

    /// Returns `container "NAME"` and `parts`, with the name quoted and
    /// escaped as `{:?}` writes it.
    pub(crate) fn message(&self, parts: &[&str]) -> String {
        crate::message::quoted_message("container ", self.name, parts)
    }

    /// Returns whether this is a sidecar: an init container with
    /// `restartPolicy: Always`, which runs as long as the pod does.
    pub fn is_sidecar(&self) -> bool {
        self.kind == ContainerKind::Init && self.restart_policy == Some("Always")
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::PodSpec;
    use serde_json::json;

    use super::*;

    #[test]
    fn containers_in_order_with_paths() {
        let spec: PodSpec = serde_json::from_value(json!({
            "initContainers": [{"name": "setup"}, {"name": "proxy", "restartPolicy": "Always"}],
            "containers": [{"name": "app"}],
            "ephemeralContainers": [{"name": "debug"}],
        }))
        .unwrap();
        let metadata = ObjectMeta::default();
        let view = PodView {
            metadata: &metadata,
            spec: &spec,
            metadata_path: "spec.template.metadata",
            spec_path: "spec.template.spec",
        };

        let listed: Vec<(String, &str, bool)> = view
            .containers()
            .map(|c| (c.path.to_string(), c.name, c.is_sidecar()))
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "spec.template.spec.initContainers[0]".to_owned(),
                    "setup",
                    false
                ),
                (
                    "spec.template.spec.initContainers[1]".to_owned(),
                    "proxy",
                    true
                ),
                ("spec.template.spec.containers[0]".to_owned(), "app", false),
                (
                    "spec.template.spec.ephemeralContainers[0]".to_owned(),
                    "debug",
                    false
                ),
            ]
        );
    }
}
