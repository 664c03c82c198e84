//! The Pod Security Standards checks as controls: one control per upstream
//! check id (`pss-` and the id), evaluated at the level the check belongs to.

use crate::checks::{Check, own_checks};
use crate::control::{Category, Control, PssLevel, Severity};
use crate::finding::Sink;
use crate::level::{Level, PolicyVersion};
use crate::manifest::Object;
use crate::pod::{ContainerRef, PodView};

/// A control and the pod-security-admission check id it reports.
pub(crate) struct PssControl {
    pub check: &'static str,
    pub control: Control,
}

const BASELINE_RATIONALE: &str = "The baseline Pod Security Standard blocks known privilege escalations. Kubernetes' pod-security-admission rejects this pod at the baseline level.";
const RESTRICTED_RATIONALE: &str = "The restricted Pod Security Standard enforces current pod hardening practice. Kubernetes' pod-security-admission rejects this pod at the restricted level.";

#[allow(clippy::too_many_arguments)]
const fn pss(
    check: &'static str,
    id: &'static str,
    title: &'static str,
    level: PssLevel,
    severity: Severity,
    remediation: &'static str,
    cis: &'static [&'static str],
    mitre: &'static [&'static str],
    kubescape: &'static [&'static str],
) -> PssControl {
    PssControl {
        check,
        control: Control {
            id,
            title,
            category: Category::PodSecurityStandards,
            severity,
            rationale: match level {
                PssLevel::Baseline => BASELINE_RATIONALE,
                PssLevel::Restricted => RESTRICTED_RATIONALE,
            },
            remediation,
            pss_level: Some(level),
            cis,
            nist_800_190: &["4.4.3"],
            nsa: &["Pod security"],
            mitre,
            kubescape,
        },
    }
}

use PssLevel::{Baseline, Restricted};
use Severity::{High, Low, Medium};

pub(crate) static PSS: [PssControl; 19] = [
    pss(
        "hostNamespaces",
        "pss-hostNamespaces",
        "Host namespaces are not shared",
        Baseline,
        High,
        "Remove hostNetwork, hostPID and hostIPC from the pod spec.",
        &["5.2.3", "5.2.4", "5.2.5"],
        &["T1611"],
        &["C-0038", "C-0041"],
    ),
    pss(
        "privileged",
        "pss-privileged",
        "Containers are not privileged",
        Baseline,
        High,
        "Remove securityContext.privileged or set it to false.",
        &["5.2.2"],
        &["T1611"],
        &["C-0057"],
    ),
    pss(
        "capabilities_baseline",
        "pss-capabilities_baseline",
        "Only baseline capabilities are added",
        Baseline,
        High,
        "Add only capabilities from the baseline list (such as NET_BIND_SERVICE, CHOWN, KILL).",
        &["5.2.9"],
        &["T1611"],
        &["C-0046"],
    ),
    pss(
        "hostPathVolumes",
        "pss-hostPathVolumes",
        "No hostPath volumes",
        Baseline,
        High,
        "Replace hostPath volumes with persistent volumes, configMaps, secrets or emptyDir.",
        &["5.2.12"],
        &["T1611"],
        &["C-0048"],
    ),
    pss(
        "hostPorts",
        "pss-hostPorts",
        "No host ports",
        Baseline,
        Medium,
        "Remove hostPort from container ports; expose the pod through a Service.",
        &["5.2.13"],
        &[],
        &["C-0044"],
    ),
    pss(
        "appArmorProfile",
        "pss-appArmorProfile",
        "AppArmor is not disabled",
        Baseline,
        Medium,
        "Remove AppArmor profiles of type Unconfined; use RuntimeDefault or Localhost.",
        &[],
        &[],
        &["C-0055"],
    ),
    pss(
        "seLinuxOptions",
        "pss-seLinuxOptions",
        "SELinux options are not custom",
        Baseline,
        Medium,
        "Remove seLinuxOptions.user and .role, and use only the allowed container types.",
        &[],
        &[],
        &["C-0055"],
    ),
    pss(
        "procMount",
        "pss-procMount",
        "The default /proc mask is kept",
        Baseline,
        Medium,
        "Remove securityContext.procMount or set it to Default.",
        &[],
        &["T1611"],
        &[],
    ),
    pss(
        "seccompProfile_baseline",
        "pss-seccompProfile_baseline",
        "Seccomp is not disabled",
        Baseline,
        Medium,
        "Remove seccomp profiles of type Unconfined.",
        &[],
        &[],
        &["C-0210"],
    ),
    pss(
        "sysctls",
        "pss-sysctls",
        "Only safe sysctls are set",
        Baseline,
        Medium,
        "Set only the sysctls of the baseline safe list.",
        &[],
        &["T1611"],
        &[],
    ),
    pss(
        "windowsHostProcess",
        "pss-windowsHostProcess",
        "No Windows HostProcess containers",
        Baseline,
        High,
        "Remove windowsOptions.hostProcess or set it to false.",
        &["5.2.11"],
        &["T1611"],
        &[],
    ),
    pss(
        "hostProbesAndHostLifecycle",
        "pss-hostProbesAndHostLifecycle",
        "Probes and lifecycle hooks do not target other hosts",
        Baseline,
        Medium,
        "Remove the host field from probes and lifecycle handlers.",
        &[],
        &[],
        &[],
    ),
    pss(
        "restrictedVolumes",
        "pss-restrictedVolumes",
        "Only restricted volume types",
        Restricted,
        Medium,
        "Use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret and image volumes.",
        &[],
        &[],
        &[],
    ),
    pss(
        "allowPrivilegeEscalation",
        "pss-allowPrivilegeEscalation",
        "Privilege escalation is disallowed",
        Restricted,
        Medium,
        "Set securityContext.allowPrivilegeEscalation to false in every container.",
        &["5.2.6"],
        &["T1068"],
        &["C-0016"],
    ),
    pss(
        "runAsNonRoot",
        "pss-runAsNonRoot",
        "Containers run as non-root",
        Restricted,
        Medium,
        "Set securityContext.runAsNonRoot to true in the pod or in every container.",
        &["5.2.7"],
        &[],
        &["C-0013"],
    ),
    pss(
        "runAsUser",
        "pss-runAsUser",
        "Containers do not run as UID 0",
        Restricted,
        Medium,
        "Remove runAsUser: 0 or set a non-zero user id.",
        &["5.2.7"],
        &[],
        &["C-0013"],
    ),
    pss(
        "seccompProfile_restricted",
        "pss-seccompProfile_restricted",
        "A seccomp profile is set",
        Restricted,
        Medium,
        "Set securityContext.seccompProfile.type to RuntimeDefault or Localhost.",
        &["5.7.2"],
        &[],
        &["C-0210", "C-0211"],
    ),
    pss(
        "capabilities_restricted",
        "pss-capabilities_restricted",
        "All capabilities are dropped",
        Restricted,
        Medium,
        "Drop ALL capabilities and add back at most NET_BIND_SERVICE.",
        &["5.2.8", "5.2.10"],
        &["T1611"],
        &["C-0046"],
    ),
    pss(
        "procMount_restricted",
        "pss-procMount_restricted",
        "The default /proc mask is kept",
        Restricted,
        Low,
        "Remove securityContext.procMount or set it to Default.",
        &[],
        &[],
        &[],
    ),
];

fn control_of(check: &str) -> &'static Control {
    let found = PSS.iter().find(|entry| entry.check == check);
    &found.expect("every upstream check has a control").control
}

/// The checks one policy version runs, with their controls, worked out
/// once per audit instead of once per pod.
pub(crate) struct Plan {
    version: PolicyVersion,
    /// The baseline checks, then the restricted ones; each level runs only
    /// its own checks, so that a restricted check that replaces a baseline
    /// one does not hide the baseline result.
    checks: Vec<(&'static Check, &'static Control)>,
    /// The controls each pod-bearing object counts as evaluated.
    evaluated: Vec<&'static Control>,
}

impl Plan {
    pub(crate) fn new(version: PolicyVersion) -> Plan {
        let mut checks = Vec::new();
        let mut evaluated = Vec::new();
        for level in [Level::Baseline, Level::Restricted] {
            for check in own_checks(level, version) {
                let control = control_of(check.id());
                checks.push((check, control));
                if control.pss_level.map(Level::from) == Some(level) {
                    evaluated.push(control);
                }
            }
        }
        Plan {
            version,
            checks,
            evaluated,
        }
    }
}

/// Evaluates the Pod Security Standards on one pod-bearing object: the
/// baseline checks at the baseline level, the restricted checks at the
/// restricted level.
pub(crate) fn check(
    object: &Object,
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    plan: &Plan,
    sink: &mut Sink,
) {
    for control in &plan.evaluated {
        sink.evaluated(control);
    }
    let mut violations = Vec::new();
    for (check, control) in &plan.checks {
        check.evaluate(pod, containers, plan.version, &mut violations);
        for violation in violations.drain(..) {
            sink.fail_owned(
                control,
                control.severity,
                object,
                violation.container,
                Some(violation.path),
                violation.message,
            );
        }
    }
}
