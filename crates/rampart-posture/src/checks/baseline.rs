//! Baseline checks: they block known privilege escalations and keep the
//! pod inside the isolation the default container runtime settings give.

use k8s_openapi::api::core::v1::{LifecycleHandler, Probe};

use super::{Check, Findings};
use crate::level::{Level, PolicyVersion};
use crate::pod::{ContainerRef, PodView};

const fn baseline(id: &'static str, since_minor: u32, run: super::CheckFn) -> Check {
    Check {
        id,
        level: Level::Baseline,
        since_minor,
        overrides: &[],
        run,
    }
}

pub(super) const HOST_NAMESPACES: Check = baseline("hostNamespaces", 0, host_namespaces);
pub(super) const PRIVILEGED: Check = baseline("privileged", 0, privileged);
pub(super) const CAPABILITIES: Check = baseline("capabilities_baseline", 0, capabilities);
pub(super) const HOST_PATH_VOLUMES: Check = baseline("hostPathVolumes", 0, host_path_volumes);
pub(super) const HOST_PORTS: Check = baseline("hostPorts", 0, host_ports);
pub(super) const APP_ARMOR: Check = baseline("appArmorProfile", 0, app_armor);
pub(super) const SE_LINUX_OPTIONS: Check = baseline("seLinuxOptions", 0, se_linux_options);
pub(super) const PROC_MOUNT: Check = baseline("procMount", 0, proc_mount);
pub(super) const SECCOMP: Check = baseline("seccompProfile_baseline", 0, seccomp);
pub(super) const SYSCTLS: Check = baseline("sysctls", 0, sysctls);
pub(super) const WINDOWS_HOST_PROCESS: Check =
    baseline("windowsHostProcess", 0, windows_host_process);
pub(super) const HOST_PROBES_AND_LIFECYCLE: Check =
    baseline("hostProbesAndHostLifecycle", 34, host_probes_and_lifecycle);

fn host_namespaces(
    pod: &PodView<'_>,
    _: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    let spec = pod.spec;
    for (field, value) in [
        ("hostNetwork", spec.host_network),
        ("hostPID", spec.host_pid),
        ("hostIPC", spec.host_ipc),
    ] {
        if value == Some(true) {
            out.add(
                format!("{}.{field}", pod.spec_path),
                format!("pod must not set {field}=true"),
            );
        }
    }
}

fn privileged(
    _: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    for container in containers {
        let privileged = container.security_context.and_then(|sc| sc.privileged);
        if privileged == Some(true) {
            out.add_in(
                container,
                container.path.join("securityContext.privileged"),
                container.message(&[" must not set securityContext.privileged=true"]),
            );
        }
    }
}

/// Capabilities a container runtime grants by default, which baseline
/// allows a container to add back.
const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn capabilities(
    _: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    for container in containers {
        let added = container
            .security_context
            .and_then(|sc| sc.capabilities.as_ref())
            .and_then(|caps| caps.add.as_deref())
            .unwrap_or_default();
        let forbidden: Vec<&str> = added
            .iter()
            .map(String::as_str)
            .filter(|cap| !DEFAULT_CAPABILITIES.contains(cap))
            .collect();
        if !forbidden.is_empty() {
            out.add_in(
                container,
                container.path.join("securityContext.capabilities.add"),
                format!(
                    "container {:?} must not add capabilities {}",
                    container.name,
                    forbidden.join(", ")
                ),
            );
        }
    }
}

fn host_path_volumes(
    pod: &PodView<'_>,
    _: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    let volumes = pod.spec.volumes.as_deref().unwrap_or_default();
    for (index, volume) in volumes.iter().enumerate() {
        if volume.host_path.is_some() {
            out.add(
                format!("{}.volumes[{index}].hostPath", pod.spec_path),
                format!("volume {:?} must not use hostPath", volume.name),
            );
        }
    }
}

fn host_ports(
    _: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    for container in containers {
        for (index, port) in container.ports.iter().enumerate() {
            if let Some(host_port) = port.host_port.filter(|&p| p != 0) {
                out.add_in(
                    container,
                    format!("{}.ports[{index}].hostPort", container.path),
                    format!(
                        "container {:?} must not set hostPort {host_port}",
                        container.name
                    ),
                );
            }
        }
    }
}

const APP_ARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn app_armor(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    let annotations = pod.metadata.annotations.iter().flatten();
    for (key, value) in annotations {
        let Some(container) = key.strip_prefix(APP_ARMOR_ANNOTATION_PREFIX) else {
            continue;
        };
        let allowed =
            value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
        if !allowed {
            out.add(
                format!("{}.annotations[{key}]", pod.metadata_path),
                format!("container {container:?} must not use AppArmor profile {value:?}"),
            );
        }
    }

    let allowed = |kind: &str| kind == "RuntimeDefault" || kind == "Localhost";
    let pod_profile = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.app_armor_profile.as_ref());
    if let Some(profile) = pod_profile.filter(|p| !allowed(&p.type_)) {
        out.add(
            format!("{}.securityContext.appArmorProfile.type", pod.spec_path),
            format!("pod must not use AppArmor profile type {:?}", profile.type_),
        );
    }
    for container in containers {
        let profile = container
            .security_context
            .and_then(|sc| sc.app_armor_profile.as_ref());
        if let Some(profile) = profile.filter(|p| !allowed(&p.type_)) {
            out.add_in(
                container,
                container.path.join("securityContext.appArmorProfile.type"),
                format!(
                    "container {:?} must not use AppArmor profile type {:?}",
                    container.name, profile.type_
                ),
            );
        }
    }
}

fn se_linux_options(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    version: PolicyVersion,
    out: &mut Findings,
) {
    const TYPES: [&str; 4] = [
        "container_t",
        "container_init_t",
        "container_kvm_t",
        "container_engine_t",
    ];
    // container_engine_t is allowed from v1.31.
    let allowed_types = if version.at_least(31) {
        &TYPES[..]
    } else {
        &TYPES[..3]
    };
    let mut check = |options: &k8s_openapi::api::core::v1::SELinuxOptions,
                     container: Option<&str>,
                     owner: String,
                     path: String| {
        fn set(value: &Option<String>) -> Option<&str> {
            value.as_deref().filter(|v| !v.is_empty())
        }
        if let Some(kind) = set(&options.type_).filter(|kind| !allowed_types.contains(kind)) {
            out.add_for(
                container,
                format!("{path}.type"),
                format!("{owner} must not set seLinuxOptions.type {kind:?}"),
            );
        }
        if let Some(user) = set(&options.user) {
            out.add_for(
                container,
                format!("{path}.user"),
                format!("{owner} must not set seLinuxOptions.user {user:?}"),
            );
        }
        if let Some(role) = set(&options.role) {
            out.add_for(
                container,
                format!("{path}.role"),
                format!("{owner} must not set seLinuxOptions.role {role:?}"),
            );
        }
    };

    let pod_options = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.se_linux_options.as_ref());
    if let Some(options) = pod_options {
        check(
            options,
            None,
            "pod".to_owned(),
            format!("{}.securityContext.seLinuxOptions", pod.spec_path),
        );
    }
    for container in containers {
        let options = container
            .security_context
            .and_then(|sc| sc.se_linux_options.as_ref());
        if let Some(options) = options {
            check(
                options,
                Some(container.name),
                container.message(&[]),
                container.path.join("securityContext.seLinuxOptions"),
            );
        }
    }
}

fn proc_mount(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    version: PolicyVersion,
    out: &mut Findings,
) {
    // From v1.35 a pod in its own user namespace may unmask /proc: the
    // mounts are owned by that namespace, not by the host.
    if version.at_least(35) && pod.in_user_namespace() {
        return;
    }
    report_non_default_proc_mount(containers, out);
}

pub(super) fn report_non_default_proc_mount(containers: &[ContainerRef<'_>], out: &mut Findings) {
    for container in containers {
        let proc_mount = container
            .security_context
            .and_then(|sc| sc.proc_mount.as_deref());
        if let Some(value) = proc_mount.filter(|value| *value != "Default") {
            out.add_in(
                container,
                container.path.join("securityContext.procMount"),
                format!(
                    "container {:?} must not set securityContext.procMount {value:?}",
                    container.name
                ),
            );
        }
    }
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn seccomp(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    version: PolicyVersion,
    out: &mut Findings,
) {
    // Before v1.19 seccomp was set through alpha annotations; from v1.19
    // the check reads only the securityContext fields.
    if !version.at_least(19) {
        for (key, value) in pod.metadata.annotations.iter().flatten() {
            let owner = if key == SECCOMP_POD_ANNOTATION {
                "pod".to_owned()
            } else if let Some(name) = key.strip_prefix(SECCOMP_CONTAINER_ANNOTATION_PREFIX) {
                format!("container {name:?}")
            } else {
                continue;
            };
            if value == "unconfined" {
                out.add(
                    format!("{}.annotations[{key}]", pod.metadata_path),
                    format!("{owner} must not set seccomp profile \"unconfined\""),
                );
            }
        }
        return;
    }

    let pod_profile = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref());
    if pod_profile.is_some_and(|p| p.type_ == "Unconfined") {
        out.add(
            format!("{}.securityContext.seccompProfile.type", pod.spec_path),
            "pod must not set seccompProfile.type \"Unconfined\"".to_owned(),
        );
    }
    for container in containers {
        let profile = container
            .security_context
            .and_then(|sc| sc.seccomp_profile.as_ref());
        if profile.is_some_and(|p| p.type_ == "Unconfined") {
            out.add_in(
                container,
                container.path.join("securityContext.seccompProfile.type"),
                container.message(&[" must not set seccompProfile.type \"Unconfined\""]),
            );
        }
    }
}

/// Returns the sysctls that are namespaced and isolated between pods at
/// `version`, the only ones baseline allows.
fn safe_sysctls(version: PolicyVersion) -> Vec<&'static str> {
    let mut safe = vec![
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ];
    if version.at_least(27) {
        safe.push("net.ipv4.ip_local_reserved_ports");
    }
    if version.at_least(29) {
        safe.extend([
            "net.ipv4.tcp_keepalive_time",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_keepalive_intvl",
            "net.ipv4.tcp_keepalive_probes",
        ]);
    }
    if version.at_least(32) {
        safe.extend(["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]);
    }
    // Upstream's generated v1.37 fixtures (test/testdata/*/v1.37/pass/sysctls1.yaml
    // in pod-security-admission) allow these two.
    if version.at_least(37) {
        safe.extend([
            "net.ipv4.tcp_slow_start_after_idle",
            "net.ipv4.tcp_notsent_lowat",
        ]);
    }
    safe
}

fn sysctls(pod: &PodView<'_>, _: &[ContainerRef<'_>], version: PolicyVersion, out: &mut Findings) {
    let sysctls = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.sysctls.as_deref())
        .unwrap_or_default();
    if sysctls.is_empty() {
        return;
    }
    let safe = safe_sysctls(version);
    for (index, sysctl) in sysctls.iter().enumerate() {
        if !safe.contains(&sysctl.name.as_str()) {
            out.add(
                format!("{}.securityContext.sysctls[{index}].name", pod.spec_path),
                format!("pod must not set sysctl {:?}", sysctl.name),
            );
        }
    }
}

fn windows_host_process(
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    let pod_host_process = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.windows_options.as_ref())
        .and_then(|options| options.host_process);
    if pod_host_process == Some(true) {
        out.add(
            format!(
                "{}.securityContext.windowsOptions.hostProcess",
                pod.spec_path
            ),
            "pod must not set securityContext.windowsOptions.hostProcess=true".to_owned(),
        );
    }
    for container in containers {
        let host_process = container
            .security_context
            .and_then(|sc| sc.windows_options.as_ref())
            .and_then(|options| options.host_process);
        if host_process == Some(true) {
            out.add_in(
                container,
                container
                    .path
                    .join("securityContext.windowsOptions.hostProcess"),
                container
                    .message(&[" must not set securityContext.windowsOptions.hostProcess=true"]),
            );
        }
    }
}

fn host_probes_and_lifecycle(
    _: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    _: PolicyVersion,
    out: &mut Findings,
) {
    for container in containers {
        let mut hosts: Vec<(String, &str)> = Vec::new();
        for (field, probe) in container.probes {
            if let Some(probe) = probe {
                collect_probe_hosts(probe, &format!("{}.{field}", container.path), &mut hosts);
            }
        }
        if let Some(lifecycle) = container.lifecycle {
            for (field, handler) in [
                ("postStart", lifecycle.post_start.as_ref()),
                ("preStop", lifecycle.pre_stop.as_ref()),
            ] {
                if let Some(handler) = handler {
                    let path = format!("{}.lifecycle.{field}", container.path);
                    collect_handler_hosts(handler, &path, &mut hosts);
                }
            }
        }
        for (path, host) in hosts {
            out.add_in(
                container,
                path,
                format!(
                    "container {:?} must not point a probe or lifecycle handler at host {host:?}",
                    container.name
                ),
            );
        }
    }
}

fn collect_probe_hosts<'a>(probe: &'a Probe, path: &str, hosts: &mut Vec<(String, &'a str)>) {
    let http = probe.http_get.as_ref().and_then(|a| a.host.as_deref());
    let tcp = probe.tcp_socket.as_ref().and_then(|a| a.host.as_deref());
    push_host(hosts, path, "httpGet", http);
    push_host(hosts, path, "tcpSocket", tcp);
}

fn collect_handler_hosts<'a>(
    handler: &'a LifecycleHandler,
    path: &str,
    hosts: &mut Vec<(String, &'a str)>,
) {
    let http = handler.http_get.as_ref().and_then(|a| a.host.as_deref());
    let tcp = handler.tcp_socket.as_ref().and_then(|a| a.host.as_deref());
    push_host(hosts, path, "httpGet", http);
    push_host(hosts, path, "tcpSocket", tcp);
}

fn push_host<'a>(
    hosts: &mut Vec<(String, &'a str)>,
    path: &str,
    action: &str,
    host: Option<&'a str>,
) {
    if let Some(host) = host.filter(|h| !h.is_empty()) {
        hosts.push((format!("{path}.{action}.host"), host));
    }
}
