//! Facts about the built-in resource types that an RBAC question needs
//! without API discovery: the API group of a bare resource name, and
//! which resources are cluster-scoped (Kubernetes v1.35 built-in APIs).

/// Built-in resources outside the core group, by API group.
const GROUPS: &[(&str, &[&str])] = &[
    (
        "apps",
        &[
            "controllerrevisions",
            "daemonsets",
            "deployments",
            "replicasets",
            "statefulsets",
        ],
    ),
    ("batch", &["cronjobs", "jobs"]),
    ("autoscaling", &["horizontalpodautoscalers"]),
    ("policy", &["poddisruptionbudgets"]),
    (
        "rbac.authorization.k8s.io",
        &[
            "clusterrolebindings",
            "clusterroles",
            "rolebindings",
            "roles",
        ],
    ),
    (
        "networking.k8s.io",
        &[
            "ingressclasses",
            "ingresses",
            "ipaddresses",
            "networkpolicies",
            "servicecidrs",
        ],
    ),
    ("discovery.k8s.io", &["endpointslices"]),
    ("coordination.k8s.io", &["leases"]),
    (
        "certificates.k8s.io",
        &["certificatesigningrequests", "clustertrustbundles"],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            "mutatingadmissionpolicies",
            "mutatingadmissionpolicybindings",
            "mutatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "validatingwebhookconfigurations",
        ],
    ),
    ("apiextensions.k8s.io", &["customresourcedefinitions"]),
    ("apiregistration.k8s.io", &["apiservices"]),
    (
        "storage.k8s.io",
        &[
            "csidrivers",
            "csinodes",
            "csistoragecapacities",
            "storageclasses",
            "volumeattachments",
            "volumeattributesclasses",
        ],
    ),
    ("scheduling.k8s.io", &["priorityclasses"]),
    ("node.k8s.io", &["runtimeclasses"]),
    (
        "authentication.k8s.io",
        &["selfsubjectreviews", "tokenreviews", "uids", "userextras"],
    ),
    (
        "authorization.k8s.io",
        &[
            "localsubjectaccessreviews",
            "selfsubjectaccessreviews",
            "selfsubjectrulesreviews",
            "subjectaccessreviews",
        ],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        &["flowschemas", "prioritylevelconfigurations"],
    ),
    (
        "resource.k8s.io",
        &[
            "deviceclasses",
            "resourceclaims",
            "resourceclaimtemplates",
            "resourceslices",
        ],
    ),
];

/// Built-in cluster-scoped resources, as (API group, resource). `users`
/// and `groups` are the targets of impersonation, which the API server
/// checks without a namespace.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "componentstatuses"),
    ("", "groups"),
    ("", "namespaces"),
    ("", "nodes"),
    ("", "persistentvolumes"),
    ("", "users"),
    ("admissionregistration.k8s.io", "mutatingadmissionpolicies"),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicybindings",
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("apiregistration.k8s.io", "apiservices"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authentication.k8s.io", "tokenreviews"),
    ("authentication.k8s.io", "uids"),
    ("authentication.k8s.io", "userextras"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("certificates.k8s.io", "clustertrustbundles"),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"),
    (
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
    ),
    ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "ipaddresses"),
    ("networking.k8s.io", "servicecidrs"),
    ("node.k8s.io", "runtimeclasses"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("resource.k8s.io", "deviceclasses"),
    ("resource.k8s.io", "resourceslices"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "volumeattachments"),
    ("storage.k8s.io", "volumeattributesclasses"),
];

/// Returns the API group of a built-in resource named without one, and
/// the core group `""` for any other name (pods, secrets, nodes, and
/// custom resources, which must be named with their group).
pub(crate) fn default_group(resource: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|(_, resources)| resources.contains(&resource))
        .map_or("", |(group, _)| group)
}

/// Returns whether `resource` of `group` is a built-in cluster-scoped
/// resource. Unknown resources count as namespaced.
pub(crate) fn is_cluster_scoped(group: &str, resource: &str) -> bool {
    CLUSTER_SCOPED.contains(&(group, resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_resolve_to_groups() {
        assert_eq!(default_group("deployments"), "apps");
        assert_eq!(default_group("cronjobs"), "batch");
        assert_eq!(default_group("clusterroles"), "rbac.authorization.k8s.io");
        assert_eq!(default_group("pods"), "");
        assert_eq!(default_group("widgets"), "");
    }

    #[test]
    fn cluster_scope_by_group() {
        assert!(is_cluster_scoped("", "nodes"));
        assert!(is_cluster_scoped(
            "rbac.authorization.k8s.io",
            "clusterroles"
        ));
        assert!(!is_cluster_scoped("", "pods"));
        assert!(!is_cluster_scoped("rbac.authorization.k8s.io", "roles"));
        assert!(!is_cluster_scoped("apps", "nodes"));
    }

    #[test]
    fn every_cluster_scoped_resource_has_its_group() {
        for (group, resource) in CLUSTER_SCOPED {
            assert_eq!(default_group(resource), *group, "{resource}");
        }
    }
}
