//! Escape to host (MITRE ATT&CK T1611): settings that let a container reach
//! the node's processes, network, file system or kernel.

use crate::control::{Category, Control, Severity};
use crate::finding::Sink;
use crate::manifest::Object;
use crate::pod::{ContainerRef, PodView};

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
    &["C-0038", "C-0275"],
);

pub(crate) static HOST_IPC: Control = escape(
    "host-ipc",
    "Pod shares the host IPC namespace",
    Severity::High,
    "With hostIPC a container can read and write the shared memory of every process on the node.",
    "Remove hostIPC from the pod spec.",
    &["5.2.4"],
    &["C-0038", "C-0276"],
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

pub(crate) static NET_RAW: Control = escape(
    "net-raw-capability",
    "Container keeps the NET_RAW capability",
    Severity::Medium,
    "Container runtimes grant NET_RAW by default. It lets a process forge packets to other pods on the node's network, and it opens raw and packet sockets, a kernel interface with past container-escape bugs.",
    "Add NET_RAW (or ALL) to securityContext.capabilities.drop, and do not add it back.",
    &["5.2.8"],
    &["C-0211"],
);

pub(crate) static CONTROLS: [&Control; 9] = [
    &PRIVILEGED_CONTAINER,
    &HOST_PID,
    &HOST_IPC,
    &HOST_NETWORK,
    &CONTAINER_RUNTIME_SOCKET,
    &HOST_PATH_MOUNT,
    &DANGEROUS_CAPABILITY,
    &PRIVILEGE_ESCALATION,
    &NET_RAW,
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

/// Default locations of container runtime sockets, under `/run`. A
/// hostPath that is one of these, or a directory that contains one (such
/// as `/run/containerd`), exposes the runtime. A dockerd that starts its
/// own containerd puts that socket in Docker's state directory (named
/// `docker-containerd.sock` in older releases), so `/run/docker` counts too.
const RUNTIME_SOCKETS: &[&str] = &[
    "/run/docker.sock",
    "/run/docker/containerd/containerd.sock",
    "/run/docker/containerd/docker-containerd.sock",
    "/run/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/cri-dockerd.sock",
    "/run/dockershim.sock",
    "/run/podman/podman.sock",
];

/// File names of runtime sockets, which count in any directory: rootless
/// Docker listens on `/run/user/<uid>/docker.sock`, and MicroK8s and k0s
/// keep containerd's socket under their own directories.
const RUNTIME_SOCKET_NAMES: &[&str] = &[
    "docker.sock",
    "docker-containerd.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "dockershim.sock",
    "podman.sock",
];

pub(crate) fn check(
    object: &Object,
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    sink: &mut Sink,
) {
    for control in CONTROLS {
        sink.evaluated(control);
    }
    host_namespaces(object, pod, sink);
    host_paths(object, pod, containers, sink);

    for container in containers {
        let context = container.security_context;
        let privileged = context.and_then(|sc| sc.privileged) == Some(true);
        if privileged {
            sink.fail(
                &PRIVILEGED_CONTAINER,
                object,
                Some(container.name),
                Some(container.path.join("securityContext.privileged")),
                container.message(&[" runs privileged"]),
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
                Some(container.path.join("securityContext.capabilities.add")),
                format!(
                    "container {:?} adds {}",
                    container.name,
                    dangerous.join(", ")
                ),
            );
        }

        if !privileged && !pod.is_windows() {
            net_raw(object, container, sink);
        }

        // A privileged container always escalates, so the setting adds
        // nothing to that finding; Windows has no setuid.
        let escalation = context.and_then(|sc| sc.allow_privilege_escalation);
        if escalation != Some(false) && !privileged && !pod.is_windows() {
            let field = match escalation {
                Some(_) => container
                    .path
                    .join("securityContext.allowPrivilegeEscalation"),
                None => container.path.to_string(),
            };
            sink.fail(
                &PRIVILEGE_ESCALATION,
                object,
                Some(container.name),
                Some(field),
                container.message(&[" does not set allowPrivilegeEscalation to false"]),
            );
        }
    }
}

/// Reports a container that keeps NET_RAW: it drops neither NET_RAW nor
/// ALL, or it adds NET_RAW or ALL. Privileged containers and
/// Windows pods are left out because the privileged finding already covers
/// every capability, and Windows has no Linux capabilities.
fn net_raw(object: &Object, container: &ContainerRef<'_>, sink: &mut Sink) {
    let capabilities = container
        .security_context
        .and_then(|sc| sc.capabilities.as_ref());
    let added = capabilities.and_then(|caps| caps.add.as_deref());
    let dropped = capabilities.and_then(|caps| caps.drop.as_deref());
    let net_raw_in = |list: Option<&[String]>| {
        list.unwrap_or_default().iter().find_map(|cap| {
            ["NET_RAW", "ALL"]
                .into_iter()
                .find(|name| names_capability(cap, name))
        })
    };

    let (field, message) = if let Some(name) = net_raw_in(added) {
        (
            container.path.join("securityContext.capabilities.add"),
            container.message(&[" adds ", name]),
        )
    } else if net_raw_in(dropped).is_some() {
        return;
    } else if dropped.is_some() {
        (
            container.path.join("securityContext.capabilities.drop"),
            container.message(&[" does not drop NET_RAW"]),
        )
    } else {
        (
            container.path.to_string(),
            container.message(&[" does not drop NET_RAW"]),
        )
    };
    sink.fail(&NET_RAW, object, Some(container.name), Some(field), message);
}

/// Returns whether `capability` is `name` (upper case, without `CAP_`) as
/// [`capability_name`] normalizes it, without allocating.
fn names_capability(capability: &str, name: &str) -> bool {
    let bare = match capability.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("CAP_") => &capability[4..],
        _ => capability,
    };
    bare.eq_ignore_ascii_case(name)
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

fn host_paths(
    object: &Object,
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    sink: &mut Sink,
) {
    let volumes = pod.spec.volumes.as_deref().unwrap_or_default();
    for (index, volume) in volumes.iter().enumerate() {
        let Some(host_path) = &volume.host_path else {
            continue;
        };
        let field = format!("{}.volumes[{index}].hostPath.path", pod.spec_path);
        let path = resolve_var_run(&normalize_path(&host_path.path));
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
            let message = if socket == path {
                format!(
                    "volume {:?} mounts the container runtime socket {} from the host",
                    volume.name, host_path.path
                )
            } else {
                format!(
                    "volume {:?} mounts {} from the host, which contains the container runtime socket {socket}",
                    volume.name, host_path.path
                )
            };
            sink.fail(
                &CONTAINER_RUNTIME_SOCKET,
                object,
                mounts.first().map(|(name, _)| *name),
                Some(field.clone()),
                message,
            );
        }

        let (severity, access) = if !writable.is_empty() {
            (Severity::High, "writable")
        } else if !mounts.is_empty() {
            (Severity::Medium, "read-only")
        } else {
            (Severity::Medium, "not mounted by any container")
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

/// Returns the capability's name upper-cased and without a `CAP_` prefix,
/// as container runtimes accept both spellings.
fn capability_name(capability: &str) -> String {
    let upper = capability.to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(bare) => bare.to_owned(),
        None => upper,
    }
}

/// Returns the entry of [`DANGEROUS_CAPABILITIES`] that `capability`
/// names, or an empty string.
fn normalize_capability(capability: &str) -> &'static str {
    let name = capability_name(capability);
    DANGEROUS_CAPABILITIES
        .iter()
        .find(|known| **known == name)
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

/// Rewrites a normalized host path under `/var/run` to `/run`.
///
/// The kubelet resolves a hostPath on the node, where `/var/run` is a
/// symbolic link to `/run` (systemd's file-hierarchy(7) requires it). A
/// parent such as `/var` does not expose `/run`, because inside the
/// container the link resolves to the container's own `/run`.
///
/// NOTE: on a node whose `/var/run` is a real directory, a hostPath of
/// `/var` does expose the sockets, and such nodes are not detected.
fn resolve_var_run(path: &str) -> String {
    match path.strip_prefix("/var/run") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/run{rest}"),
        _ => path.to_owned(),
    }
}

/// Returns the runtime socket that `path` (normalized, with `/var/run`
/// resolved) is or contains.
fn runtime_socket_in(path: &str) -> Option<String> {
    let known = RUNTIME_SOCKETS
        .iter()
        .find(|socket| **socket == path || path == "/" || socket.starts_with(&format!("{path}/")));
    if let Some(socket) = known {
        return Some((*socket).to_owned());
    }
    let file_name = path.rsplit('/').next().unwrap_or_default();
    RUNTIME_SOCKET_NAMES
        .contains(&file_name)
        .then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_socket_paths() {
        let socket = |path: &str| runtime_socket_in(&resolve_var_run(&normalize_path(path)));
        assert_eq!(
            socket("/var/run/docker.sock").as_deref(),
            Some("/run/docker.sock")
        );
        assert_eq!(
            socket("/var/run//containerd/").as_deref(),
            Some("/run/containerd/containerd.sock")
        );
        assert_eq!(
            socket("/var/run/docker").as_deref(),
            Some("/run/docker/containerd/containerd.sock")
        );
        assert_eq!(
            socket("/run/user/1000/docker.sock").as_deref(),
            Some("/run/user/1000/docker.sock")
        );
        assert_eq!(
            socket("/var/snap/microk8s/common/run/containerd.sock").as_deref(),
            Some("/var/snap/microk8s/common/run/containerd.sock")
        );
        assert!(socket("/var/run").is_some());
        assert!(socket("/run").is_some());
        assert!(socket("/").is_some());
        assert_eq!(socket("/var"), None);
        assert_eq!(socket("/var/log"), None);
        assert_eq!(socket("/var/runtime"), None);
        assert_eq!(socket("/var/run/docker.sockets"), None);
    }

    #[test]
    fn capability_names_compared_like_normalized() {
        for capability in [
            "NET_RAW",
            "net_raw",
            "CAP_NET_RAW",
            "cap_Net_Raw",
            "CAP_",
            "ALL",
            "all",
            "NET_RAWX",
            "é_NET_RAW",
            "CAPNET_RAW",
        ] {
            for name in ["NET_RAW", "ALL"] {
                assert_eq!(
                    names_capability(capability, name),
                    capability_name(capability) == name,
                    "{capability} {name}"
                );
            }
        }
    }

    #[test]
    fn capability_names_normalized() {
        assert_eq!(normalize_capability("cap_sys_admin"), "SYS_ADMIN");
        assert_eq!(normalize_capability("NET_BIND_SERVICE"), "");
        assert_eq!(capability_name("cap_net_raw"), "NET_RAW");
        assert_eq!(capability_name("all"), "ALL");
    }
}
