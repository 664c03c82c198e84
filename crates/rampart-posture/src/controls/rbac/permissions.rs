//! Subjects allowed a dangerous request: reading secrets, starting pods,
//! running commands in containers, escalating or binding roles,
//! impersonation, and the other accesses of CIS 5.1.9 to 5.1.13.
//!
//! Each control lists the requests it looks for, with whether the API
//! server checks them in a namespace. A RoleBinding reaches only
//! namespaced requests: it cannot grant access to nodes, persistent
//! volumes or webhook configurations, whatever its role lists.

use std::collections::HashSet;

use super::{grant_finding, rbac, through};
use crate::control::{Control, Severity};
use crate::finding::Sink;
use crate::rbac::{Allowance, GrantRef, RbacGraph, Request, ResourceRequest, Scope, allows};

pub(crate) static READ_SECRETS: Control = rbac(
    "rbac-read-secrets",
    "Subject can read secrets",
    Severity::Medium,
    "get, list or watch on secrets returns their values, which include service account tokens, TLS keys and registry credentials; whoever reads them can act as their owners.",
    "Grant access to named secrets only (resourceNames), or mount the secrets the workload needs instead of reading them through the API.",
    &["5.1.2"],
    &["4.3.2"],
    &["T1552.007"],
    &["C-0015", "C-0186"],
);

pub(crate) static CREATE_PODS: Control = rbac(
    "rbac-create-pods",
    "Subject can create pods or pod controllers",
    Severity::Medium,
    "Creating a pod, or a Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob or ReplicationController that creates pods, runs any image as any service account of the namespace with any secret mounted, which is as much as every permission of those accounts.",
    "Let a deployment pipeline create workloads, and give people read access; where creation is needed, confine it to one namespace and enforce the restricted Pod Security Standard there.",
    &["5.1.4"],
    &["4.3.2"],
    &["T1610"],
    &["C-0188"],
);

pub(crate) static EXEC: Control = rbac(
    "rbac-exec-into-pods",
    "Subject can run commands in containers",
    Severity::Medium,
    "create or get on pods/exec or pods/attach, or update on pods/ephemeralcontainers, runs commands inside running containers, with their credentials, mounted secrets and network position.",
    "Remove pods/exec, pods/attach and pods/ephemeralcontainers from the role, or restrict them with resourceNames to the pods that need debugging.",
    &[],
    &["4.3.2"],
    &["T1609"],
    &["C-0002"],
);

pub(crate) static ESCALATE_OR_BIND: Control = rbac(
    "rbac-escalate-or-bind",
    "Subject can escalate or bind roles",
    Severity::High,
    "The escalate verb on roles or clusterroles lets a subject write rules it does not hold, and bind lets it create bindings to roles it does not hold, such as cluster-admin; both bypass the API server's privilege-escalation check. Only rules whose apiGroups cover rbac.authorization.k8s.io grant them.",
    "Remove the escalate and bind verbs, or restrict bind with resourceNames to the roles the subject must hand out.",
    &["5.1.8"],
    &["4.3.1"],
    &["T1098.006"],
    &["C-0191"],
);

pub(crate) static IMPERSONATE: Control = rbac(
    "rbac-impersonate",
    "Subject can impersonate users, groups or service accounts",
    Severity::High,
    "The impersonate verb lets a subject send requests as another user, group or service account and receive its permissions; impersonating the group system:masters bypasses authorization altogether.",
    "Remove the impersonate verb, or restrict it with resourceNames to the identities the subject must act as.",
    &["5.1.8"],
    &["4.3.1"],
    &["T1078"],
    &["C-0065", "C-0191"],
);

pub(crate) static CREATE_PERSISTENT_VOLUMES: Control = rbac(
    "rbac-create-persistent-volumes",
    "Subject can create persistent volumes",
    Severity::High,
    "A PersistentVolume can be a hostPath volume, so whoever creates one and a claim to it mounts the node's file system into a pod, past the Pod Security Standards' hostPath check.",
    "Let a storage class provision volumes, and remove create on persistentvolumes.",
    &["5.1.9"],
    &["4.3.2"],
    &["T1611"],
    &["C-0278"],
);

pub(crate) static NODE_PROXY: Control = rbac(
    "rbac-node-proxy",
    "Subject can use the nodes/proxy subresource",
    Severity::High,
    "nodes/proxy reaches the kubelet API of every node through the API server, which runs commands in any pod on the node without the audit record or admission checks of pods/exec.",
    "Remove nodes/proxy from the role; monitoring agents can read the metrics endpoints with nodes/metrics or nodes/stats.",
    &["5.1.10"],
    &["4.3.2"],
    &["T1609"],
    &["C-0279"],
);

pub(crate) static APPROVE_CSR: Control = rbac(
    "rbac-approve-csr",
    "Subject can approve certificate signing requests",
    Severity::High,
    "Updating certificatesigningrequests/approval approves certificate requests, so the subject can have a signer issue client certificates for identities it chooses.",
    "Leave approval to the controller manager's approvers, and remove update and patch on certificatesigningrequests/approval.",
    &["5.1.11"],
    &["4.3.1"],
    &["T1649"],
    &["C-0280"],
);

pub(crate) static MODIFY_WEBHOOKS: Control = rbac(
    "rbac-modify-admission-webhooks",
    "Subject can change admission webhooks",
    Severity::High,
    "A mutating webhook rewrites every object it selects, such as adding a privileged container to each pod, and deleting a validating webhook turns off the policy it enforces.",
    "Restrict create, update, patch and delete on validatingwebhookconfigurations and mutatingwebhookconfigurations to the cluster's administrators.",
    &["5.1.12"],
    &["4.3.1"],
    &[],
    &["C-0281"],
);

pub(crate) static CREATE_TOKENS: Control = rbac(
    "rbac-create-service-account-tokens",
    "Subject can create service account tokens",
    Severity::Medium,
    "create on serviceaccounts/token issues a token for any service account of the namespace, so the subject gains every permission of those accounts.",
    "Remove create on serviceaccounts/token, or restrict it with resourceNames to the accounts the subject manages.",
    &["5.1.13"],
    &["4.3.2"],
    &["T1528"],
    &["C-0282"],
);

pub(crate) static PORT_FORWARD: Control = rbac(
    "rbac-port-forward",
    "Subject can forward ports to pods",
    Severity::Medium,
    "create or get on pods/portforward opens a tunnel from the client to any port of a pod, past Services, ingress and NetworkPolicy.",
    "Remove pods/portforward from the role, or restrict it with resourceNames.",
    &[],
    &["4.3.2"],
    &[],
    &["C-0063"],
);

/// A request a control looks for.
struct Need {
    request: ResourceRequest<'static>,
    /// Whether the API server checks the request in a namespace, so that
    /// a RoleBinding can grant it.
    namespaced: bool,
}

const fn namespaced(verb: &'static str, group: &'static str, resource: &'static str) -> Need {
    Need {
        request: ResourceRequest::new(verb, group, resource),
        namespaced: true,
    }
}

const fn namespaced_sub(verb: &'static str, resource: &'static str, sub: &'static str) -> Need {
    Need {
        request: ResourceRequest::sub(verb, "", resource, sub),
        namespaced: true,
    }
}

const fn cluster(
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    sub: &'static str,
) -> Need {
    Need {
        request: ResourceRequest::sub(verb, group, resource, sub),
        namespaced: false,
    }
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const WEBHOOK_GROUP: &str = "admissionregistration.k8s.io";

/// One permission control: the requests it looks for and how it reads.
struct PermissionControl {
    control: &'static Control,
    /// Action the control reports, completing "SUBJECT can ...".
    action: &'static str,
    needs: &'static [Need],
    /// Severity of an unrestricted grant that reaches the whole cluster or
    /// kube-system, where the control plane's accounts and secrets live.
    wide: Severity,
}

static CHECKS: [PermissionControl; 11] = [
    PermissionControl {
        control: &READ_SECRETS,
        action: "read secrets",
        needs: &[
            namespaced("get", "", "secrets"),
            namespaced("list", "", "secrets"),
            namespaced("watch", "", "secrets"),
        ],
        wide: Severity::High,
    },
    PermissionControl {
        control: &CREATE_PODS,
        action: "create pods",
        needs: &[
            namespaced("create", "", "pods"),
            namespaced("create", "", "replicationcontrollers"),
            namespaced("create", "apps", "deployments"),
            namespaced("create", "apps", "replicasets"),
            namespaced("create", "apps", "statefulsets"),
            namespaced("create", "apps", "daemonsets"),
            namespaced("create", "batch", "jobs"),
            namespaced("create", "batch", "cronjobs"),
        ],
        wide: Severity::High,
    },
    PermissionControl {
        control: &EXEC,
        action: "run commands in containers",
        needs: &[
            namespaced_sub("create", "pods", "exec"),
            namespaced_sub("get", "pods", "exec"),
            namespaced_sub("create", "pods", "attach"),
            namespaced_sub("get", "pods", "attach"),
            namespaced_sub("update", "pods", "ephemeralcontainers"),
            namespaced_sub("patch", "pods", "ephemeralcontainers"),
        ],
        wide: Severity::High,
    },
    PermissionControl {
        control: &ESCALATE_OR_BIND,
        action: "escalate or bind roles",
        // The API server checks bind in the namespace of the RoleBinding
        // being created, also for a ClusterRole, while escalate on a
        // ClusterRole is checked cluster-wide.
        needs: &[
            namespaced("escalate", RBAC_GROUP, "roles"),
            cluster("escalate", RBAC_GROUP, "clusterroles", ""),
            namespaced("bind", RBAC_GROUP, "roles"),
            namespaced("bind", RBAC_GROUP, "clusterroles"),
        ],
        wide: Severity::High,
    },
    PermissionControl {
        control: &IMPERSONATE,
        action: "impersonate other identities",
        needs: &[
            cluster("impersonate", "", "users", ""),
            cluster("impersonate", "", "groups", ""),
            namespaced("impersonate", "", "serviceaccounts"),
        ],
        wide: Severity::High,
    },
    PermissionControl {
        control: &CREATE_PERSISTENT_VOLUMES,
        action: "create persistent volumes",
        needs: &[cluster("create", "", "persistentvolumes", "")],
        wide: Severity::High,
    },
    PermissionControl {
        control: &NODE_PROXY,
        action: "reach the kubelet API",
        needs: &[
            cluster("get", "", "nodes", "proxy"),
            cluster("create", "", "nodes", "proxy"),
        ],
        wide: Severity::High,
    },
    PermissionControl {
        control: &APPROVE_CSR,
        action: "approve certificate signing requests",
        needs: &[
            cluster(
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "approval",
            ),
            cluster(
                "patch",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "approval",
            ),
        ],
        wide: Severity::High,
    },
    PermissionControl {
        control: &MODIFY_WEBHOOKS,
        action: "change admission webhooks",
        needs: &[
            cluster(
                "create",
                WEBHOOK_GROUP,
                "validatingwebhookconfigurations",
                "",
            ),
            cluster(
                "update",
                WEBHOOK_GROUP,
                "validatingwebhookconfigurations",
                "",
            ),
            cluster(
                "patch",
                WEBHOOK_GROUP,
                "validatingwebhookconfigurations",
                "",
            ),
            cluster(
                "delete",
                WEBHOOK_GROUP,
                "validatingwebhookconfigurations",
                "",
            ),
            cluster("create", WEBHOOK_GROUP, "mutatingwebhookconfigurations", ""),
            cluster("update", WEBHOOK_GROUP, "mutatingwebhookconfigurations", ""),
            cluster("patch", WEBHOOK_GROUP, "mutatingwebhookconfigurations", ""),
            cluster("delete", WEBHOOK_GROUP, "mutatingwebhookconfigurations", ""),
        ],
        wide: Severity::High,
    },
    PermissionControl {
        control: &CREATE_TOKENS,
        action: "create service account tokens",
        needs: &[namespaced_sub("create", "serviceaccounts", "token")],
        wide: Severity::High,
    },
    PermissionControl {
        control: &PORT_FORWARD,
        action: "forward ports to pods",
        needs: &[
            namespaced_sub("create", "pods", "portforward"),
            namespaced_sub("get", "pods", "portforward"),
        ],
        wide: Severity::Medium,
    },
];

/// A request of a control that a rule allows, and how far.
type Matched<'r> = (&'static Need, Allowance<'r>);

pub(super) fn check(graph: &RbacGraph<'_>, sink: &mut Sink) {
    let mut reported = HashSet::new();
    for grant in graph.grants() {
        if grant.subject.is_control_plane_grant(&grant.role.id.name) {
            continue;
        }
        let rule = graph.rule(grant.rule);
        for check in &CHECKS {
            let matched: Vec<Matched<'_>> = check
                .needs
                .iter()
                .filter(|need| grant.scope.reaches(need.namespaced))
                .filter_map(|need| Some((need, allows(rule, &Request::Resource(need.request))?)))
                .collect();
            if matched.is_empty() {
                continue;
            }
            // A subject listed twice in one binding is one grant.
            let key = (
                check.control.id,
                grant.subject,
                &grant.binding.id,
                grant.rule.role,
                grant.rule.rule,
            );
            if !reported.insert(key) {
                continue;
            }
            let message = message(check, graph, &grant, &matched);
            let severity = severity(check, &grant, &matched);
            sink.push(grant_finding(
                graph,
                check.control,
                severity,
                &grant,
                message,
            ));
        }
    }
}

fn severity(
    check: &PermissionControl,
    grant: &GrantRef<'_, '_>,
    matched: &[Matched<'_>],
) -> Severity {
    if grant.subject.is_everyone() {
        return Severity::Critical;
    }
    if check.control.id == IMPERSONATE.id && can_impersonate_masters(matched) {
        return Severity::Critical;
    }
    let restricted = is_restricted(matched);
    let wide = match &grant.scope {
        Scope::Cluster => true,
        Scope::Namespace(namespace) => namespace == "kube-system",
    };
    if wide && !restricted {
        check.wide.max(check.control.severity)
    } else {
        check.control.severity
    }
}

/// Returns whether every matched request is restricted to named objects.
fn is_restricted(matched: &[Matched<'_>]) -> bool {
    matched
        .iter()
        .all(|(_, allowance)| matches!(allowance, Allowance::Named(_)))
}

/// Returns whether the grant allows impersonating the group
/// `system:masters`, whose members bypass authorization.
fn can_impersonate_masters(matched: &[Matched<'_>]) -> bool {
    matched.iter().any(|(need, allowance)| {
        need.request.resource == "groups"
            && match allowance {
                Allowance::All => true,
                Allowance::Named(names) => names.iter().any(|name| name == "system:masters"),
            }
    })
}

/// Returns "SUBJECT can ACTION SCOPE (VERBS on RESOURCES) through BINDING,
/// which grants ROLE", with the names a restricted rule allows.
fn message(
    check: &PermissionControl,
    graph: &RbacGraph<'_>,
    grant: &GrantRef<'_, '_>,
    matched: &[Matched<'_>],
) -> String {
    let mut text = format!(
        "{} can {} {} ({}) {}",
        grant.subject,
        check.action,
        grant.scope.describe(),
        describe_requests(matched),
        through(graph, grant)
    );
    if is_restricted(matched) {
        let names = matched[0].1.names().join(", ");
        text.push_str(&format!(", only for the objects named {names}"));
    }
    text
}

/// Returns the matched requests as "VERBS on RESOURCES", resources with
/// the same verbs together: "create, get on pods/exec, pods/attach".
fn describe_requests(matched: &[Matched<'_>]) -> String {
    let mut by_resource: Vec<(String, Vec<&str>)> = Vec::new();
    for (need, _) in matched {
        let resource = need.request.display();
        match by_resource.iter_mut().find(|(known, _)| *known == resource) {
            Some((_, verbs)) => verbs.push(need.request.verb),
            None => by_resource.push((resource, vec![need.request.verb])),
        }
    }

    let mut by_verbs: Vec<(Vec<&str>, Vec<String>)> = Vec::new();
    for (resource, verbs) in by_resource {
        match by_verbs.iter_mut().find(|(known, _)| *known == verbs) {
            Some((_, resources)) => resources.push(resource),
            None => by_verbs.push((verbs, vec![resource])),
        }
    }
    let parts: Vec<String> = by_verbs
        .iter()
        .map(|(verbs, resources)| format!("{} on {}", verbs.join(", "), resources.join(", ")))
        .collect();
    parts.join("; ")
}
