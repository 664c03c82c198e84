//! Escape to host (MITRE ATT&CK T1611): settings that let a container reach
//! the node's processes, network, file system or kernel.

use crate::control::{Category, Control, Severity};
use crate::finding::Sink;
use crate::manifest::Object;
use crate::pod::PodView;

const fn escape(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
    cis: &'static [&'static str],
    kubescape: &'static [&'static str],
) -> Control {
    Control {
        id,
        title,
        category: Category::EscapeToHost,
        severity,
        rationale,
        remediation,
        pss_level: None,
        cis,
        nist_800_190: &["4.4.3", "4.5.5"],
        nsa: &["Pod security: non-root containers and privileged access"],
        mitre: &["T1611"],
        kubescape,
    }
}

pub(crate) static PRIVILEGED_CONTAINER: Control = escape(
    "privileged-container",
    "Privileged container",
    Severity::High,
    "A privileged container has every capability and the host's devices, so a process in it can take over the node.",
    "Remove securityContext.privileged, and add only the capabilities the process needs.",
    &["5.2.2"],
    &["C-0057"],
);

pub(crate) static HOST_PID: Control = escape(
    "host-pid",
    "Pod shares the host process namespace",
    Severity::High,
    "With hostPID a container sees and can signal every process on the node, and can read their environment and memory through /proc.",
    "Remove hostPID from the pod spec.",
    &["5.2.3"],
    &["C-0038"],
);

pub(crate) static HOST_IPC: Control = escape(
    "host-ipc",
    "Pod shares the host IPC namespace",
    Severity::High,
    "With hostIPC a container can read and write the shared memory of every process on the node.",
    "Remove hostIPC from the pod spec.",
    &["5.2.4"],
    &["C-0038"],
);

pub(crate) static HOST_NETWORK: Control = escape(
    "host-network",
    "Pod uses the host network",
    Severity::High,
    "With hostNetwork a container binds the node's interfaces, reaches services bound to localhost and bypasses NetworkPolicies.",
    "Remove hostNetwork from the pod spec and expose the pod through a Service.",
    &["5.2.5"],
    &["C-0041"],
);

pub(crate) static CONTAINER_RUNTIME_SOCKET: Control = escape(
    "container-runtime-socket",
    "Container runtime socket mounted",
    Severity::Critical,
    "Whoever can talk to the container runtime's socket (docker.sock, containerd.sock, crio.sock) can start a privileged container on the node, which is root on the host.",
    "Remove the hostPath volume. Build images with a rootless builder, and give monitoring agents a read-only API instead.",
    &["5.2.12"],
    &["C-0074"],
);

pub(crate) static HOST_PATH_MOUNT: Control = escape(
    "host-path-mount",
    "hostPath volume",
    Severity::High,
    "A hostPath volume exposes the node's file system; a writable one lets the container change node files such as kubelet credentials or system binaries.",
    "Replace the hostPath volume with a persistent volume, configMap, secret or emptyDir, or mount it readOnly.",
    &["5.2.12"],
    &["C-0048", "C-0045"],
);

pub(crate) static DANGEROUS_CAPABILITY: Control = escape(
    "added-dangerous-capability",
    "Dangerous capability added",
    Severity::High,
    "Capabilities such as SYS_ADMIN, SYS_MODULE, SYS_PTRACE or NET_ADMIN give a container kernel powers that are known routes out of the container.",
    "Remove the capability from securityContext.capabilities.add; drop ALL and add back only what the process needs.",
    &["5.2.9"],
    &["C-0046"],
);

pub(crate) static PRIVILEGE_ESCALATION: Control = escape(
    "allow-privilege-escalation",
    "Privilege escalation allowed",
    Severity::Medium,
    "Unless allowPrivilegeEscalation is false, a process can gain more privileges than its parent through setuid binaries or file capabilities.",
    "Set securityContext.allowPrivilegeEscalation to false in every container.",
    &["5.2.6"],
    &["C-0016"],
);

pub(crate) static CONTROLS: [&Control; 8] = [
    &PRIVILEGED_CONTAINER,
    &HOST_PID,
    &HOST_IPC,
    &HOST_NETWORK,
    &CONTAINER_RUNTIME_SOCKET,
    &HOST_PATH_MOUNT,
    &DANGEROUS_CAPABILITY,
    &PRIVILEGE_ESCALATION,
];

/// Capabilities that are known routes to the host or to other workloads,
/// as in Kubescape's `insecureCapabilities` default list.
pub(crate) const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "BPF",
    "DAC_READ_SEARCH",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "NET_ADMIN",
    "NET_RAW",
    "PERFMON",
    "SETPCAP",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
];

/// File names of container runtime sockets. A hostPath that is one of
/// these, or a directory that contains one (such as `/var/run`), exposes
/// the runtime.
const RUNTIME_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/dockershim.sock",
    "/var/run/podman/podman.sock",
    "/run/podman/podman.sock",
];

pub(crate) fn check(object: &Object, pod: &PodView<'_>, sink: &mut Sink) {
    for control in CONTROLS {
        sink.evaluated(control);
    }
    host_namespaces(object, pod, sink);
    host_paths(object, pod, sink);

    for container in pod.containers() {
        let context = container.security_context;
        let privileged = context.and_then(|sc| sc.privileged) == Some(true);
        if privileged {
            sink.fail(
                &PRIVILEGED_CONTAINER,
                object,
                Some(container.name),
                Some(format!("{}.securityContext.privileged", container.path)),
                format!("container {:?} runs privileged", container.name),
            );
        }

        let added = context
            .and_then(|sc| sc.capabilities.as_ref())
            .and_then(|caps| caps.add.as_deref())
            .unwrap_or_default();
        let dangerous: Vec<&str> = added
            .iter()
            .map(|cap| normalize_capability(cap))
            .filter(|cap| DANGEROUS_CAPABILITIES.contains(cap))
            .collect();
        if !dangerous.is_empty() {
            sink.fail(
                &DANGEROUS_CAPABILITY,
                object,
                Some(container.name),
                Some(format!(
                    "{}.securityContext.capabilities.add",
                    container.path
                )),
                format!(
                    "container {:?} adds {}",
                    container.name,
                    dangerous.join(", ")
                ),
            );
        }

        // A privileged container always escalates, so the setting adds
        // nothing to that finding; Windows has no setuid.
        let escalation = context.and_then(|sc| sc.allow_privilege_escalation);
        if escalation != Some(false) && !privileged && !pod.is_windows() {
            let field = match escalation {
                Some(_) => format!(
                    "{}.securityContext.allowPrivilegeEscalation",
                    container.path
                ),
                None => container.path.clone(),
            };
            sink.fail(
                &PRIVILEGE_ESCALATION,
                object,
                Some(container.name),
                Some(field),
                format!(
                    "container {:?} does not set allowPrivilegeEscalation to false",
                    container.name
                ),
            );
        }
    }
}

fn host_namespaces(object: &Object, pod: &PodView<'_>, sink: &mut Sink) {
    let spec = pod.spec;
    for (control, field, value) in [
        (&HOST_PID, "hostPID", spec.host_pid),
        (&HOST_IPC, "hostIPC", spec.host_ipc),
        (&HOST_NETWORK, "hostNetwork", spec.host_network),
    ] {
        if value == Some(true) {
            sink.fail(
                control,
                object,
                None,
                Some(format!("{}.{field}", pod.spec_path)),
                format!("pod sets {field}: true"),
            );
        }
    }
}

fn host_paths(object: &Object, pod: &PodView<'_>, sink: &mut Sink) {
    let volumes = pod.spec.volumes.as_deref().unwrap_or_default();
    let containers = pod.containers();
    for (index, volume) in volumes.iter().enumerate() {
        let Some(host_path) = &volume.host_path else {
            continue;
        };
        let field = format!("{}.volumes[{index}].hostPath.path", pod.spec_path);
        let path = normalize_path(&host_path.path);
        let mounts: Vec<(&str, bool)> = containers
            .iter()
            .flat_map(|container| {
                container
                    .volume_mounts
                    .iter()
                    .filter(|mount| mount.name == volume.name)
                    .map(|mount| (container.name, mount.read_only == Some(true)))
            })
            .collect();
        let writable: Vec<&str> = mounts
            .iter()
            .filter(|(_, read_only)| !read_only)
            .map(|(name, _)| *name)
            .collect();

        if let Some(socket) = runtime_socket_in(&path) {
            sink.fail(
                &CONTAINER_RUNTIME_SOCKET,
                object,
                mounts.first().map(|(name, _)| *name),
                Some(field.clone()),
                format!(
                    "volume {:?} mounts {} from the host, which exposes the container runtime socket {socket}",
                    volume.name, host_path.path
                ),
            );
        }

        let (severity, access) = if writable.is_empty() {
            (Severity::Medium, "read-only")
        } else {
            (Severity::High, "writable")
        };
        sink.fail_at(
            &HOST_PATH_MOUNT,
            severity,
            object,
            writable
                .first()
                .copied()
                .or(mounts.first().map(|(name, _)| *name)),
            Some(field),
            format!(
                "volume {:?} mounts host path {} ({access})",
                volume.name, host_path.path
            ),
        );
    }
}

/// Strips a `CAP_` prefix and upper-cases, as container runtimes accept both.
fn normalize_capability(capability: &str) -> &'static str {
    let upper = capability.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    DANGEROUS_CAPABILITIES
        .iter()
        .find(|known| **known == bare)
        .copied()
        .unwrap_or("")
}

/// Collapses repeated and trailing slashes and `.` segments.
fn normalize_path(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
        .collect();
    format!("/{}", segments.join("/"))
}

/// Returns the runtime socket that `path` is or contains.
fn runtime_socket_in(path: &str) -> Option<&'static str> {
    RUNTIME_SOCKETS
        .iter()
        .copied()
        .find(|socket| *socket == path || path == "/" || socket.starts_with(&format!("{path}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_socket_paths() {
        assert_eq!(
            runtime_socket_in("/var/run/docker.sock"),
            Some("/var/run/docker.sock")
        );
        assert_eq!(
            runtime_socket_in(&normalize_path("/var/run//containerd/")),
            Some("/var/run/containerd/containerd.sock")
        );
        assert!(runtime_socket_in("/var/run").is_some());
        assert!(runtime_socket_in("/").is_some());
        assert_eq!(runtime_socket_in("/var/log"), None);
        assert_eq!(runtime_socket_in("/var/run/docker.sockets"), None);
    }

    #[test]
    fn capability_names_normalized() {
        assert_eq!(normalize_capability("cap_sys_admin"), "SYS_ADMIN");
        assert_eq!(normalize_capability("NET_BIND_SERVICE"), "");
    }
}
