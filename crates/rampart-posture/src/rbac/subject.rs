//! Binding subjects: users, groups and service accounts, as the RBAC
//! authorizer matches them against a request's user (`appliesToUser` in
//! k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac).

use std::fmt;

use k8s_openapi::api::rbac::v1::Subject as SubjectSpec;
use serde::Serialize;

use crate::finding::ResourceRef;

/// The kind of a binding subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
            SubjectKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// A user, group or service account that bindings grant roles to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
    /// The service account's namespace; `None` for users and groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Prefix of the user name a service account authenticates as:
/// `system:serviceaccount:NAMESPACE:NAME`.
const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// Groups and users that stand for many identities at once, so that a
/// grant to them is a grant to everyone in them.
const GROUP_ALL_SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
const GROUP_AUTHENTICATED: &str = "system:authenticated";
const GROUP_UNAUTHENTICATED: &str = "system:unauthenticated";
const USER_ANONYMOUS: &str = "system:anonymous";

impl Subject {
    /// Reads a binding subject. A service account without a namespace
    /// takes `binding_namespace` (a RoleBinding's own), and a user named
    /// `system:serviceaccount:NS:NAME` is read as that service account,
    /// since the authorizer compares user names only.
    pub(crate) fn from_spec(
        spec: &SubjectSpec,
        binding_namespace: Option<&str>,
    ) -> Result<Subject, String> {
        match spec.kind.as_str() {
            "User" => Ok(service_account_user(&spec.name).unwrap_or_else(|| Subject {
                kind: SubjectKind::User,
                name: spec.name.clone(),
                namespace: None,
            })),
            "Group" => Ok(Subject {
                kind: SubjectKind::Group,
                name: spec.name.clone(),
                namespace: None,
            }),
            "ServiceAccount" => {
                let namespace = spec
                    .namespace
                    .as_deref()
                    .filter(|namespace| !namespace.is_empty())
                    .or(binding_namespace);
                let Some(namespace) = namespace else {
                    return Err(format!(
                        "ServiceAccount subject {:?} names no namespace, and a ClusterRoleBinding supplies none, so it matches no service account",
                        spec.name
                    ));
                };
                Ok(Subject::service_account(namespace, &spec.name))
            }
            other => Err(format!(
                "subject {:?} has kind {other:?}; RBAC matches only User, Group and ServiceAccount",
                spec.name
            )),
        }
    }

    pub(crate) fn service_account(namespace: &str, name: &str) -> Subject {
        Subject {
            kind: SubjectKind::ServiceAccount,
            name: name.to_owned(),
            namespace: Some(namespace.to_owned()),
        }
    }

    /// Returns the subject as the resource of a finding.
    pub fn resource_ref(&self) -> ResourceRef {
        let api_version = match self.kind {
            SubjectKind::ServiceAccount => "v1",
            SubjectKind::User | SubjectKind::Group => "rbac.authorization.k8s.io/v1",
        };
        ResourceRef {
            api_version,
            kind: self.kind.as_str(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// Returns whether the subject stands for clients that presented no
    /// credentials: the user `system:anonymous` or the group
    /// `system:unauthenticated`.
    pub fn is_unauthenticated(&self) -> bool {
        match self.kind {
            SubjectKind::User => self.name == USER_ANONYMOUS,
            SubjectKind::Group => self.name == GROUP_UNAUTHENTICATED,
            SubjectKind::ServiceAccount => false,
        }
    }

    /// Returns whether the subject is a group of every authenticated
    /// identity, every service account or every service account of a
    /// namespace, or stands for unauthenticated clients.
    pub fn is_everyone(&self) -> bool {
        let broad_group = self.kind == SubjectKind::Group
            && (self.name == GROUP_AUTHENTICATED
                || self.name == GROUP_ALL_SERVICE_ACCOUNTS
                || self.name.starts_with("system:serviceaccounts:"));
        broad_group || self.is_unauthenticated()
    }

    /// Returns whether the subject is the `default` service account that
    /// Kubernetes creates in every namespace and gives to every pod that
    /// names no other.
    pub fn is_default_service_account(&self) -> bool {
        self.kind == SubjectKind::ServiceAccount && self.name == "default"
    }

    /// Returns whether a grant of `role_name` to this subject is part of
    /// the control plane's own set-up, which the RBAC controls skip as
    /// Kubescape's default exceptions do:
    /// - users and groups named `system:*` other than the ones that stand
    ///   for many identities (`system:kube-controller-manager`,
    ///   `system:kube-scheduler`, `system:kube-proxy`, `system:node:NAME`,
    ///   `system:nodes`, `system:masters`, `system:bootstrappers:*`);
    /// - service accounts in kube-system granted a role named `system:*`,
    ///   which is how the controller manager's per-controller accounts,
    ///   kube-proxy and CoreDNS get their permissions.
    ///
    /// A role not named `system:*` bound to a kube-system service account,
    /// and any grant to `system:authenticated`, `system:unauthenticated`,
    /// `system:anonymous` or `system:serviceaccounts*`, is still checked.
    pub fn is_control_plane_grant(&self, role_name: &str) -> bool {
        match self.kind {
            SubjectKind::User | SubjectKind::Group => {
                self.name.starts_with("system:") && !self.is_everyone()
            }
            SubjectKind::ServiceAccount => {
                self.namespace.as_deref() == Some("kube-system") && role_name.starts_with("system:")
            }
        }
    }
}

/// Reads `system:serviceaccount:NS:NAME` as the service account NS/NAME.
fn service_account_user(user: &str) -> Option<Subject> {
    let rest = user.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)?;
    let (namespace, name) = rest.split_once(':')?;
    let valid = !namespace.is_empty() && !name.is_empty() && !name.contains(':');
    valid.then(|| Subject::service_account(namespace, name))
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind.as_str(), self.name),
            None => write!(f, "{} {}", self.kind.as_str(), self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: &str, name: &str, namespace: Option<&str>) -> SubjectSpec {
        SubjectSpec {
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
            api_group: None,
        }
    }

    #[test]
    fn service_account_namespace_defaults_to_binding() {
        let subject =
            Subject::from_spec(&spec("ServiceAccount", "app", None), Some("team")).unwrap();
        assert_eq!(subject, Subject::service_account("team", "app"));
        let explicit =
            Subject::from_spec(&spec("ServiceAccount", "app", Some("other")), Some("team"))
                .unwrap();
        assert_eq!(explicit.namespace.as_deref(), Some("other"));
    }

    #[test]
    fn cluster_binding_service_account_needs_namespace() {
        let error = Subject::from_spec(&spec("ServiceAccount", "app", None), None).unwrap_err();
        assert!(error.contains("no namespace"), "{error}");
    }

    #[test]
    fn service_account_user_name_read_as_account() {
        let subject = Subject::from_spec(
            &spec("User", "system:serviceaccount:ci:deployer", None),
            None,
        )
        .unwrap();
        assert_eq!(subject, Subject::service_account("ci", "deployer"));
    }

    #[test]
    fn unknown_kind_rejected() {
        assert!(Subject::from_spec(&spec("Robot", "r2", None), None).is_err());
    }

    #[test]
    fn control_plane_grants_recognised() {
        let user = |name: &str| Subject {
            kind: SubjectKind::User,
            name: name.to_owned(),
            namespace: None,
        };
        let group = |name: &str| Subject {
            kind: SubjectKind::Group,
            name: name.to_owned(),
            namespace: None,
        };
        assert!(user("system:kube-scheduler").is_control_plane_grant("system:kube-scheduler"));
        assert!(group("system:masters").is_control_plane_grant("cluster-admin"));
        assert!(!group("system:authenticated").is_control_plane_grant("cluster-admin"));
        assert!(!group("system:serviceaccounts:dev").is_control_plane_grant("edit"));
        assert!(!user("system:anonymous").is_control_plane_grant("view"));
        assert!(!user("alice").is_control_plane_grant("system:basic-user"));

        let controller = Subject::service_account("kube-system", "job-controller");
        assert!(controller.is_control_plane_grant("system:controller:job-controller"));
        assert!(!controller.is_control_plane_grant("cluster-admin"));
        let elsewhere = Subject::service_account("apps", "job-controller");
        assert!(!elsewhere.is_control_plane_grant("system:controller:job-controller"));
    }
}
