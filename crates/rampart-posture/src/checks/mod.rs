//! The Pod Security Standards checks, mirroring the check ids, levels and
//! version ranges of Kubernetes' pod-security-admission `policy` package.

mod baseline;
mod restricted;

use crate::level::{Level, PolicyVersion};
use crate::pod::PodView;

/// One field that breaks a Pod Security Standards check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Upstream check id, such as `privileged` or `seccompProfile_restricted`.
    pub check: &'static str,
    /// Level whose checks include this one.
    pub level: Level,
    /// What is wrong, naming the container or the pod.
    pub message: String,
    /// Field path of the offending value, such as
    /// `spec.initContainers[0].securityContext.privileged`.
    pub path: String,
}

/// A check evaluator: appends its violations for one pod.
type CheckFn = fn(&PodView<'_>, PolicyVersion, &mut Findings);

/// One upstream check with the policy version that introduced it.
struct Check {
    id: &'static str,
    level: Level,
    /// Policy minor version from which the check applies.
    since_minor: u32,
    /// Restricted check that replaces this baseline check from its own
    /// version on, as upstream's override mechanism does.
    overridden_by: Option<(&'static str, u32)>,
    run: CheckFn,
}

/// Every check, baseline first, in upstream's naming.
const CHECKS: &[Check] = &[
    baseline::HOST_NAMESPACES,
    baseline::PRIVILEGED,
    baseline::CAPABILITIES,
    baseline::HOST_PATH_VOLUMES,
    baseline::HOST_PORTS,
    baseline::APP_ARMOR,
    baseline::SE_LINUX_OPTIONS,
    baseline::PROC_MOUNT,
    baseline::SECCOMP,
    baseline::SYSCTLS,
    baseline::WINDOWS_HOST_PROCESS,
    baseline::HOST_PROBES_AND_LIFECYCLE,
    restricted::VOLUMES,
    restricted::ALLOW_PRIVILEGE_ESCALATION,
    restricted::RUN_AS_NON_ROOT,
    restricted::RUN_AS_USER,
    restricted::SECCOMP,
    restricted::CAPABILITIES,
    restricted::PROC_MOUNT,
];

/// Returns the ids of the checks that apply at `level` and `version`.
pub fn check_ids(level: Level, version: PolicyVersion) -> Vec<&'static str> {
    applicable(level, version).map(|check| check.id).collect()
}

fn applicable(level: Level, version: PolicyVersion) -> impl Iterator<Item = &'static Check> {
    CHECKS.iter().filter(move |check| {
        if check.level > level || !version.at_least(check.since_minor) {
            return false;
        }
        match check.overridden_by {
            Some((_, minor)) => level < Level::Restricted || !version.at_least(minor),
            None => true,
        }
    })
}

/// Evaluates one pod template against the checks of `level` at `version`
/// and returns every violation; an empty list means the pod is allowed.
pub fn evaluate(pod: &PodView<'_>, level: Level, version: PolicyVersion) -> Vec<Violation> {
    let mut findings = Findings {
        check: "",
        level,
        violations: Vec::new(),
    };
    for check in applicable(level, version) {
        findings.check = check.id;
        findings.level = check.level;
        (check.run)(pod, version, &mut findings);
    }
    findings.violations
}

/// Collects violations for the check that is running.
pub(crate) struct Findings {
    check: &'static str,
    level: Level,
    violations: Vec<Violation>,
}

impl Findings {
    pub(crate) fn add(&mut self, path: String, message: String) {
        self.violations.push(Violation {
            check: self.check,
            level: self.level,
            message,
            path,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ids_follow_level_and_version() {
        let baseline = check_ids(Level::Baseline, PolicyVersion::V1(0));
        assert!(baseline.contains(&"privileged"));
        assert!(!baseline.contains(&"runAsNonRoot"));
        assert!(!baseline.contains(&"hostProbesAndHostLifecycle"));

        let restricted = check_ids(Level::Restricted, PolicyVersion::Latest);
        assert!(restricted.contains(&"hostProbesAndHostLifecycle"));
        assert!(restricted.contains(&"seccompProfile_restricted"));
        assert!(!restricted.contains(&"seccompProfile_baseline"));
        assert!(restricted.contains(&"procMount_restricted"));
        assert!(!restricted.contains(&"procMount"));

        let old_restricted = check_ids(Level::Restricted, PolicyVersion::V1(18));
        assert!(old_restricted.contains(&"seccompProfile_baseline"));
        assert!(old_restricted.contains(&"allowPrivilegeEscalation"));
        assert!(!old_restricted.contains(&"seccompProfile_restricted"));
        assert!(check_ids(Level::Privileged, PolicyVersion::Latest).is_empty());
    }
}
