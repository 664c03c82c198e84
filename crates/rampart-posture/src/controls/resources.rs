//! Resource limits and requests, and health probes (low severity).

use k8s_openapi::api::core::v1::ResourceRequirements;

use crate::control::{Category, Control, Severity};
use crate::finding::Sink;
use crate::manifest::{Object, Workload};
use crate::pod::{ContainerKind, ContainerRef, PodView};

const fn low(
    id: &'static str,
    title: &'static str,
    rationale: &'static str,
    remediation: &'static str,
    mitre: &'static [&'static str],
    kubescape: &'static [&'static str],
) -> Control {
    Control {
        id,
        title,
        category: Category::Resources,
        severity: Severity::Low,
        rationale,
        remediation,
        pss_level: None,
        cis: &[],
        nist_800_190: &["4.4.3"],
        nsa: &["Pod security: resource limits"],
        mitre,
        kubescape,
    }
}

pub(crate) static MEMORY: Control = low(
    "missing-memory-limit-or-request",
    "Memory limit or request not set",
    "Without a memory limit one container can exhaust the node's memory and get other pods evicted; without a request the scheduler cannot place the pod safely.",
    "Set resources.limits.memory and resources.requests.memory on every container.",
    &["T1496", "T1499"],
    &["C-0004"],
);

pub(crate) static CPU: Control = low(
    "missing-cpu-limit-or-request",
    "CPU limit or request not set",
    "Without a CPU limit one container can starve the others on its node, for example when it is used for cryptomining.",
    "Set resources.limits.cpu and resources.requests.cpu on every container.",
    &["T1496"],
    &["C-0050"],
);

pub(crate) static LIVENESS: Control = low(
    "missing-liveness-probe",
    "No liveness probe",
    "Without a liveness probe a hung container is never restarted.",
    "Add a livenessProbe to every long-running container.",
    &[],
    &["C-0056"],
);

pub(crate) static READINESS: Control = low(
    "missing-readiness-probe",
    "No readiness probe",
    "Without a readiness probe traffic reaches a container before it can serve it.",
    "Add a readinessProbe to every container that serves traffic.",
    &[],
    &["C-0018"],
);

pub(crate) static CONTROLS: [&Control; 4] = [&MEMORY, &CPU, &LIVENESS, &READINESS];

pub(crate) fn check(
    object: &Object,
    workload: &Workload,
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    sink: &mut Sink,
) {
    sink.evaluated(&MEMORY);
    sink.evaluated(&CPU);
    let long_running = is_long_running(workload, pod);
    if long_running {
        sink.evaluated(&LIVENESS);
        sink.evaluated(&READINESS);
    }
    for container in containers {
        if container.kind == ContainerKind::Ephemeral {
            continue;
        }
        for (control, resource, limit, request) in [
            (&MEMORY, "memory", "limits.memory", "requests.memory"),
            (&CPU, "cpu", "limits.cpu", "requests.cpu"),
        ] {
            // Kubernetes copies a limit into an unset request, so a limit
            // alone is enough.
            let message = match settings(container.resources, resource) {
                (true, _) => continue,
                (false, true) => container.message(&[" sets no ", limit]),
                (false, false) => container.message(&[" sets no ", limit, " or ", request]),
            };
            sink.fail(
                control,
                object,
                Some(container.name),
                Some(container.path.join("resources")),
                message,
            );
        }
        let serves = container.kind == ContainerKind::Regular || container.is_sidecar();
        if !long_running || !serves {
            continue;
        }
        for (control, probe, (_, value)) in [
            (&LIVENESS, "livenessProbe", container.probes[0]),
            (&READINESS, "readinessProbe", container.probes[1]),
        ] {
            if value.is_none() {
                sink.fail(
                    control,
                    object,
                    Some(container.name),
                    Some(container.path.to_string()),
                    container.message(&[" has no ", probe]),
                );
            }
        }
    }
}

/// Returns whether the pod runs until it is stopped, so that a hung
/// container needs a restart and traffic needs a ready check. Jobs, and
/// pods whose `restartPolicy` is `Never` or `OnFailure`, run to completion
/// and need neither.
fn is_long_running(workload: &Workload, pod: &PodView<'_>) -> bool {
    if matches!(workload, Workload::Job(_) | Workload::CronJob(_)) {
        return false;
    }
    !matches!(
        pod.spec.restart_policy.as_deref(),
        Some("Never" | "OnFailure")
    )
}

/// Returns whether `limits.<resource>` and `requests.<resource>` are set.
fn settings(resources: Option<&ResourceRequirements>, resource: &str) -> (bool, bool) {
    let has = |map: Option<&std::collections::BTreeMap<String, _>>| {
        map.is_some_and(|map| map.contains_key(resource))
    };
    let limits = resources.and_then(|r| r.limits.as_ref());
    let requests = resources.and_then(|r| r.requests.as_ref());
    (has(limits), has(requests))
}
