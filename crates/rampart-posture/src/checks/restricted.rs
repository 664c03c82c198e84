//! Restricted checks: current pod hardening best practice, applied on top
//! of the baseline checks.

use k8s_openapi::api::core::v1::Volume;

use super::{Check, Findings};
use crate::level::{Level, PolicyVersion};
use crate::pod::{ContainerRef, PodView};

const fn restricted(id: &'static str, since_minor: u32, run: super::CheckFn) -> Check {
    Check {
        id,
        level: Level::Restricted,
        since_minor,
        overrides: &[],
        run,
    }
}

pub(super) const VOLUMES: Check = Check {
    overrides: &["hostPathVolumes"],
    ..restricted("restrictedVolumes", 0, volumes)
};
pub(super) const ALLOW_PRIVILEGE_ESCALATION: Check =
    restricted("allowPrivilegeEscalation", 8, allow_privilege_escalation);
pub(super) const RUN_AS_NON_ROOT: Check = restricted("runAsNonRoot", 0, run_as_non_root);
pub(super) const RUN_AS_USER: Check = restricted("runAsUser", 23, run_as_user);
pub(super) const SECCOMP: Check = Check {
    overrides: &["seccompProfile_baseline"],
    ..restricted("seccompProfile_restricted", 19, seccomp)
};
pub(super) const CAPABILITIES: Check = Check {
    overrides: &["capabilities_baseline"],
    ..restricted("capabilities_restricted", 22, capabilities)
};
pub(super) const PROC_MOUNT: Check = Check {
    overrides: &["procMount"],
    ..restricted("procMount_restricted", 35, proc_mount)
};

/// From v1.25, checks that only make sense on Linux skip pods that declare
/// `spec.os.name: windows`.
fn windows_exempt(pod: &PodView<'_>, version: PolicyVersion) -> bool {
    version.at_least(25) && pod.is_windows()
}

/// Returns the name of the first volume source that is set other than the
/// ones restricted allows (configMap, csi, downwardAPI, emptyDir,
/// ephemeral, persistentVolumeClaim, projected, secret).
fn forbidden_volume_source(volume: &Volume) -> Option<&'static str> {
    let sources = [
        (
            "awsElasticBlockStore",
            volume.aws_elastic_block_store.is_some(),
        ),
        ("azureDisk", volume.azure_disk.is_some()),
        ("azureFile", volume.azure_file.is_some()),
        ("cephfs", volume.cephfs.is_some()),
        ("cinder", volume.cinder.is_some()),
        ("fc", volume.fc.is_some()),
        ("flexVolume", volume.flex_volume.is_some()),
        ("flocker", volume.flocker.is_some()),
        ("gcePersistentDisk", volume.gce_persistent_disk.is_some()),
        ("gitRepo", volume.git_repo.is_some()),
        ("glusterfs", volume.glusterfs.is_some()),
        ("hostPath", volume.host_path.is_some()),
        // Upstream's allow-list has only the eight sources named above, so
        // image volumes are forbidden too.
        ("image", volume.image.is_some()),
        ("iscsi", volume.iscsi.is_some()),
        ("nfs", volume.nfs.is_some()),
        (
            "photonPersistentDisk",
            volume.photon_persistent_disk.is_some(),
        ),
        ("portworxVolume", volume.portworx_volume.is_some()),
        ("quobyte", volume.quobyte.is_some()),
        ("rbd", volume.rbd.is_some()),
        ("scaleIO", volume.scale_io.is_some()),
        ("storageos", volume.storageos.is_some()),
        ("vsphereVolume", volume.vsphere_volume.is_some()),
    ];
    sources
        .into_iter()
        .find_map(|(name, set)| set.then_some(name))
}

fn volumes(pod: &PodView<'_>, _: &[ContainerRef<'_>], _: PolicyVersion, out: &mut Findings) {
    let volumes = pod.spec.volumes.as_deref().unwrap_or_default();
    for (index, volume) in volumes.iter().enumerate() {
        if let Some(source) = forbidden_volume_source(volume) {
            out.add(
                format!("{}.volumes[{index}].{source}", pod.spec_path),
                format!("volume {:?} must not use volume type {source}", volume.name),
            );
        }
    }
}

fn allow_privilege_escalation(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    version: PolicyVersion,
    out: &mut Findings,
) {
    if windows_exempt(pod, version) {
        return;
    }
    for container in containers {
        let allowed = container
            .security_context
            .and_then(|sc| sc.allow_privilege_escalation);
        if allowed != Some(false) {
            out.add_in(
                container,
                container
                    .path
                    .join("securityContext.allowPrivilegeEscalation"),
                container.message(&[" must set securityContext.allowPrivilegeEscalation=false"]),
            );
        }
    }
}

fn run_as_non_root(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    // A pod in its own user namespace runs as root only inside that
    // namespace, which maps to an unprivileged user on the host.
    if pod.in_user_namespace() {
        return;
    }
    let pod_setting = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.run_as_non_root);
    if pod_setting == Some(false) {
        out.add(
            format!("{}.securityContext.runAsNonRoot", pod.spec_path),
            "pod must not set securityContext.runAsNonRoot=false".to_owned(),
        );
    }
    for container in containers {
        let path = || container.path.join("securityContext.runAsNonRoot");
        match container.security_context.and_then(|sc| sc.run_as_non_root) {
            Some(true) => {}
            Some(false) => out.add_in(
                container,
                path(),
                container.message(&[" must not set securityContext.runAsNonRoot=false"]),
            ),
            None if pod_setting == Some(true) => {}
            None => out.add_in(
                container,
                path(),
                container.message(&[" must set securityContext.runAsNonRoot=true \
                     (or the pod must set it)"]),
            ),
        }
    }
}

fn run_as_user(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    if pod.in_user_namespace() {
        return;
    }
    let pod_user = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.run_as_user);
    if pod_user == Some(0) {
        out.add(
            format!("{}.securityContext.runAsUser", pod.spec_path),
            "pod must not set securityContext.runAsUser=0".to_owned(),
        );
    }
    for container in containers {
        if container.security_context.and_then(|sc| sc.run_as_user) == Some(0) {
            out.add_in(
                container,
                container.path.join("securityContext.runAsUser"),
                container.message(&[" must not set securityContext.runAsUser=0"]),
            );
        }
    }
}

fn seccomp(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    version: PolicyVersion,
    out: &mut Findings,
) {
    if windows_exempt(pod, version) {
        return;
    }
    let valid = |kind: &str| kind == "RuntimeDefault" || kind == "Localhost";
    let pod_type = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
        .map(|profile| profile.type_.as_str());
    if let Some(kind) = pod_type.filter(|kind| !valid(kind)) {
        out.add(
            format!("{}.securityContext.seccompProfile.type", pod.spec_path),
            format!("pod must not set seccompProfile.type {kind:?}"),
        );
    }
    let pod_valid = pod_type.is_some_and(valid);
    for container in containers {
        let path = || container.path.join("securityContext.seccompProfile.type");
        let container_type = container
            .security_context
            .and_then(|sc| sc.seccomp_profile.as_ref())
            .map(|profile| profile.type_.as_str());
        match container_type {
            Some(kind) if valid(kind) => {}
            Some(kind) => out.add_in(
                container,
                path(),
                format!(
                    "container {:?} must not set seccompProfile.type {kind:?}",
                    container.name
                ),
            ),
            None if pod_valid => {}
            None => out.add_in(
                container,
                path(),
                container.message(&[
                    " must set seccompProfile.type to RuntimeDefault or Localhost \
                     (or the pod must set it)",
                ]),
            ),
        }
    }
}

fn capabilities(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    version: PolicyVersion,
    out: &mut Findings,
) {
    if windows_exempt(pod, version) {
        return;
    }
    for container in containers {
        let caps = container
            .security_context
            .and_then(|sc| sc.capabilities.as_ref());
        let dropped = caps.and_then(|c| c.drop.as_deref()).unwrap_or_default();
        if !dropped.iter().any(|cap| cap == "ALL") {
            out.add_in(
                container,
                container.path.join("securityContext.capabilities.drop"),
                container.message(&[" must set securityContext.capabilities.drop=[\"ALL\"]"]),
            );
        }
        let added = caps.and_then(|c| c.add.as_deref()).unwrap_or_default();
        let forbidden: Vec<&str> = added
            .iter()
            .map(String::as_str)
            .filter(|cap| *cap != "NET_BIND_SERVICE")
            .collect();
        if !forbidden.is_empty() {
            out.add_in(
                container,
                container.path.join("securityContext.capabilities.add"),
                format!(
                    "container {:?} must not add capabilities {} (only NET_BIND_SERVICE)",
                    container.name,
                    forbidden.join(", ")
                ),
            );
        }
    }
}

fn proc_mount(
    _: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    super::baseline::report_non_default_proc_mount(containers, out);
}
