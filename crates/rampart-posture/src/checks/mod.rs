//! The Pod Security Standards checks, mirroring the check ids, levels and
//! version ranges of Kubernetes' pod-security-admission `policy` package.

mod baseline;
mod restricted;

use crate::level::{Level, PolicyVersion};
use crate::pod::{ContainerRef, PodView};

/// One field that breaks a Pod Security Standards check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Upstream check id, such as `privileged` or `seccompProfile_restricted`.
    pub check: &'static str,
    /// Level whose checks include this one.
    pub level: Level,
    /// Name of the container the field belongs to, or `None` for pod-level
    /// fields and annotations.
    pub container: Option<String>,
    /// Description of the problem, naming the container or the pod.
    pub message: String,
    /// Field path of the offending value, such as
    /// `spec.initContainers[0].securityContext.privileged`.
    pub path: String,
}

/// A check evaluator: appends its violations for one pod, whose
/// containers (from [`PodView::containers`]) it is given.
type CheckFn = fn(&PodView<'_>, &[ContainerRef<'_>], PolicyVersion, &mut Findings);

/// One upstream check with the policy version that introduced it.
pub(crate) struct Check {
    id: &'static str,
    level: Level,
    /// Policy minor version from which the check applies.
    since_minor: u32,
    /// Baseline checks that this restricted check replaces at the
    /// restricted level, as upstream's `OverrideCheckIDs` does. A replaced
    /// check does not run even where this one exempts the pod (Windows pods).
    overrides: &'static [&'static str],
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
    let active = move |check: &&Check| check.level <= level && version.at_least(check.since_minor);
    let overridden: Vec<&str> = CHECKS
        .iter()
        .filter(active)
        .flat_map(|check| check.overrides.iter().copied())
        .collect();
    CHECKS
        .iter()
        .filter(active)
        .filter(move |check| !overridden.contains(&check.id))
}

/// Evaluates one pod template against the checks of `level` at `version`
/// and returns every violation; an empty list means the pod is allowed.
pub fn evaluate(pod: &PodView<'_>, level: Level, version: PolicyVersion) -> Vec<Violation> {
    let containers: Vec<ContainerRef<'_>> = pod.containers().collect();
    let mut violations = Vec::new();
    for check in applicable(level, version) {
        check.evaluate(pod, &containers, version, &mut violations);
    }
    violations
}

/// Returns the checks that apply at `level` and `version` and belong to
/// that level itself, not to a lower one.
pub(crate) fn own_checks(level: Level, version: PolicyVersion) -> Vec<&'static Check> {
    applicable(level, version)
        .filter(|check| check.level == level)
        .collect()
}

impl Check {
    pub(crate) fn id(&self) -> &'static str {
        self.id
    }

    /// Evaluates this check on one pod with `containers`, the ones
    /// [`PodView::containers`] returns, and appends its violations.
    pub(crate) fn evaluate(
        &self,
        pod: &PodView<'_>,
        containers: &[ContainerRef<'_>],
        version: PolicyVersion,
        out: &mut Vec<Violation>,
    ) {
        let mut findings = Findings {
            check: self.id,
            level: self.level,
            violations: std::mem::take(out),
        };
        (self.run)(pod, containers, version, &mut findings);
        *out = findings.violations;
    }
}

/// Collects violations for the check that is running.
pub(crate) struct Findings {
    check: &'static str,
    level: Level,
    violations: Vec<Violation>,
}

impl Findings {
    /// Adds a violation of a pod-level field or annotation.
    pub(crate) fn add(&mut self, path: String, message: String) {
        self.add_for(None, path, message);
    }

    /// Adds a violation of a field of `container`.
    pub(crate) fn add_in(&mut self, container: &ContainerRef<'_>, path: String, message: String) {
        self.add_for(Some(container.name), path, message);
    }

    /// Adds a violation of a field of the named container, or of the pod
    /// when `container` is `None`.
    pub(crate) fn add_for(&mut self, container: Option<&str>, path: String, message: String) {
        self.violations.push(Violation {
            check: self.check,
            level: self.level,
            container: container.map(str::to_owned),
            message,
            path,
        });
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    use super::*;

    fn pod(spec: serde_json::Value, annotations: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "annotations": annotations},
            "spec": spec,
        }))
        .unwrap()
    }

    fn check_names(pod: &Pod, level: Level, version: PolicyVersion) -> Vec<&'static str> {
        let view = PodView::pod(&pod.metadata, pod.spec.as_ref().unwrap());
        evaluate(&view, level, version)
            .iter()
            .map(|violation| violation.check)
            .collect()
    }

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
        assert!(!restricted.contains(&"hostPathVolumes"));
        assert!(!restricted.contains(&"capabilities_baseline"));

        let old_restricted = check_ids(Level::Restricted, PolicyVersion::V1(18));
        assert!(old_restricted.contains(&"seccompProfile_baseline"));
        assert!(old_restricted.contains(&"allowPrivilegeEscalation"));
        assert!(old_restricted.contains(&"capabilities_baseline"));
        assert!(!old_restricted.contains(&"seccompProfile_restricted"));
        assert!(check_ids(Level::Privileged, PolicyVersion::Latest).is_empty());
    }

    #[test]
    fn host_path_reported_once_in_restricted() {
        let spec = json!({
            "containers": [{"name": "a", "image": "a"}],
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
        });
        let pod = pod(spec, json!({}));
        let baseline = check_names(&pod, Level::Baseline, PolicyVersion::Latest);
        assert_eq!(baseline, ["hostPathVolumes"]);
        let restricted = check_names(&pod, Level::Restricted, PolicyVersion::Latest);
        assert!(!restricted.contains(&"hostPathVolumes"), "{restricted:?}");
        let volume_findings = restricted.iter().filter(|id| **id == "restrictedVolumes");
        assert_eq!(volume_findings.count(), 1, "{restricted:?}");
    }

    #[test]
    fn windows_pod_exempt_from_restricted_capabilities() {
        let spec = json!({
            "os": {"name": "windows"},
            "securityContext": {"runAsNonRoot": true},
            "containers": [{
                "name": "a",
                "image": "a",
                "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}},
            }],
        });
        let pod = pod(spec, json!({}));
        // From v1.25 the restricted check exempts Windows pods, and it still
        // replaces the baseline capabilities check, as upstream does.
        let latest = check_names(&pod, Level::Restricted, PolicyVersion::Latest);
        assert!(latest.is_empty(), "{latest:?}");
        let before = check_names(&pod, Level::Restricted, PolicyVersion::V1(24));
        assert!(before.contains(&"capabilities_restricted"), "{before:?}");
        let baseline = check_names(&pod, Level::Baseline, PolicyVersion::Latest);
        assert_eq!(baseline, ["capabilities_baseline"]);
    }

    #[test]
    fn empty_app_armor_annotation_allowed() {
        let spec = json!({"containers": [{"name": "a", "image": "a"}]});
        let prefix = "container.apparmor.security.beta.kubernetes.io/a";
        let empty = pod(spec.clone(), json!({ prefix: "" }));
        assert!(check_names(&empty, Level::Baseline, PolicyVersion::Latest).is_empty());
        let unconfined = pod(spec, json!({ prefix: "unconfined" }));
        let found = check_names(&unconfined, Level::Baseline, PolicyVersion::Latest);
        assert_eq!(found, ["appArmorProfile"]);
    }
}
