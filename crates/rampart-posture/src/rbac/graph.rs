//! The effective-permission graph: every Role and ClusterRole with its
//! rules after aggregation, and every binding resolved to its role and its
//! subjects.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::LazyLock;

use k8s_openapi::api::rbac::v1::{AggregationRule, PolicyRule, RoleRef};
use serde::Serialize;

use super::aggregation;
use super::subject::Subject;
use crate::finding::{ResourceRef, Warning, effective_namespace};
use crate::manifest::{Object, Origin, Resource};

/// Whether a role is namespaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

/// A Role (with its namespace) or a ClusterRole.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RoleId {
    pub kind: RoleKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

/// Whether a binding is namespaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

/// A RoleBinding (with its namespace) or a ClusterRoleBinding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BindingId {
    pub kind: BindingKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

/// Reach of a grant: the whole cluster (a ClusterRoleBinding), or one
/// namespace (a RoleBinding, even when it refers to a ClusterRole).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase", tag = "scope", content = "namespace")]
pub enum Scope {
    Cluster,
    Namespace(String),
}

impl Scope {
    /// Returns whether a grant of this scope reaches a request, which is
    /// namespaced or not. The API server checks cluster-scoped requests
    /// (nodes, users, ClusterRoles) without a namespace, so RoleBindings
    /// never apply to them.
    pub fn reaches(&self, namespaced_request: bool) -> bool {
        matches!(self, Scope::Cluster) || namespaced_request
    }

    /// Returns `cluster-wide` or `in namespace NS`.
    pub fn describe(&self) -> String {
        match self {
            Scope::Cluster => "cluster-wide".to_owned(),
            Scope::Namespace(namespace) => format!("in namespace {namespace}"),
        }
    }
}

impl fmt::Display for RoleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "Role {namespace}/{}", self.name),
            None => write!(f, "ClusterRole {}", self.name),
        }
    }
}

impl fmt::Display for BindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "RoleBinding {namespace}/{}", self.name),
            None => write!(f, "ClusterRoleBinding {}", self.name),
        }
    }
}

/// A rule of the graph: `rules[rule]` of role `role`, the role that
/// defines it (for an aggregated role, the role it was aggregated from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RuleRef {
    pub role: usize,
    pub rule: usize,
}

/// A role and its effective rules.
#[derive(Debug)]
pub(crate) struct RoleNode<'a> {
    pub id: RoleId,
    /// `None` for a Kubernetes default role assumed because the input
    /// lacks it.
    pub object: Option<&'a Object>,
    pub labels: Option<&'a BTreeMap<String, String>>,
    pub own_rules: &'a [PolicyRule],
    pub aggregation: Option<&'a AggregationRule>,
    /// The rules the role grants, after aggregation.
    pub rules: Vec<RuleRef>,
}

impl RoleNode<'_> {
    pub(crate) fn warning(&self, message: String) -> Warning {
        Warning {
            resource: ResourceRef {
                api_version: "rbac.authorization.k8s.io/v1",
                kind: match self.id.kind {
                    RoleKind::Role => "Role",
                    RoleKind::ClusterRole => "ClusterRole",
                },
                namespace: self.id.namespace.clone(),
                name: self.id.name.clone(),
            },
            origin: self.object.map(|object| object.origin.clone()),
            message,
        }
    }

    /// Returns whether Kubernetes itself created the role: the API server
    /// labels its default roles `kubernetes.io/bootstrapping:
    /// rbac-defaults` and names them `system:*`, apart from the user-facing
    /// cluster-admin, admin, edit and view.
    pub(crate) fn is_kubernetes_default(&self) -> bool {
        let Some(labels) = self.labels else {
            return self.object.is_none();
        };
        let bootstrapped = labels
            .get("kubernetes.io/bootstrapping")
            .map(String::as_str)
            == Some("rbac-defaults");
        let default_name = self.id.name.starts_with("system:")
            || matches!(
                self.id.name.as_str(),
                "cluster-admin" | "admin" | "edit" | "view"
            );
        bootstrapped && default_name
    }
}

/// A binding, with its role (when the graph has it) and its subjects.
#[derive(Debug)]
pub(crate) struct BindingNode<'a> {
    pub id: BindingId,
    pub object: &'a Object,
    pub role_ref: &'a RoleRef,
    /// Index of the role in the graph, or `None` when it is missing.
    pub role: Option<usize>,
    /// The subjects that could be read, with their index in `subjects`.
    pub subjects: Vec<(usize, Subject)>,
}

impl BindingNode<'_> {
    pub(crate) fn scope(&self) -> Scope {
        match &self.id.namespace {
            Some(namespace) => Scope::Namespace(namespace.clone()),
            None => Scope::Cluster,
        }
    }

    pub(crate) fn origin(&self) -> &Origin {
        &self.object.origin
    }
}

/// One rule granted to one subject through one binding.
pub(crate) struct GrantRef<'g, 'a> {
    pub binding: &'g BindingNode<'a>,
    pub subject: &'g Subject,
    pub role: &'g RoleNode<'a>,
    pub rule: RuleRef,
    pub scope: Scope,
}

/// The RBAC objects of the input, resolved: roles with their rules after
/// aggregation, bindings with their roles and subjects.
#[derive(Debug)]
pub struct RbacGraph<'a> {
    roles: Vec<RoleNode<'a>>,
    bindings: Vec<BindingNode<'a>>,
    warnings: Vec<Warning>,
}

/// The rules of Kubernetes' default ClusterRole cluster-admin, which the
/// API server creates and keeps in every cluster: every verb on every
/// resource, and every verb on every non-resource URL.
static CLUSTER_ADMIN_RULES: LazyLock<Vec<PolicyRule>> = LazyLock::new(|| {
    let all = || Some(vec!["*".to_owned()]);
    vec![
        PolicyRule {
            api_groups: all(),
            resources: all(),
            verbs: vec!["*".to_owned()],
            ..PolicyRule::default()
        },
        PolicyRule {
            non_resource_urls: all(),
            verbs: vec!["*".to_owned()],
            ..PolicyRule::default()
        },
    ]
});

impl<'a> RbacGraph<'a> {
    /// Builds the graph of the Roles, ClusterRoles and bindings among
    /// `objects`. `whole_cluster` means the objects are every object of a
    /// cluster, so that a missing role is absent from the cluster; for
    /// manifests, a binding to the default ClusterRole cluster-admin is
    /// checked against its built-in definition when the input lacks it.
    pub fn build(objects: &'a [Object], whole_cluster: bool) -> RbacGraph<'a> {
        let mut warnings = Vec::new();
        let mut roles = collect_roles(objects, &mut warnings);
        let has_cluster_admin = roles
            .iter()
            .any(|role| role.id.kind == RoleKind::ClusterRole && role.id.name == "cluster-admin");
        if !whole_cluster && !has_cluster_admin {
            roles.push(default_cluster_admin());
        }
        aggregation::resolve(&mut roles, &mut warnings);

        let index: HashMap<&RoleId, usize> = roles
            .iter()
            .enumerate()
            .map(|(position, role)| (&role.id, position))
            .collect();
        let bindings = objects
            .iter()
            .filter_map(|object| read_binding(object, &index, whole_cluster, &mut warnings))
            .collect();
        RbacGraph {
            roles,
            bindings,
            warnings,
        }
    }

    /// Returns what could not be resolved: bindings whose role is missing
    /// or invalid, subjects that match no identity, roles defined twice and
    /// invalid aggregation selectors. Their grants are not checked.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    pub(crate) fn roles(&self) -> &[RoleNode<'a>] {
        &self.roles
    }

    pub(crate) fn bindings(&self) -> &[BindingNode<'a>] {
        &self.bindings
    }

    pub(crate) fn rule(&self, rule: RuleRef) -> &PolicyRule {
        &self.roles[rule.role].own_rules[rule.rule]
    }

    pub(crate) fn role_of(&self, rule: RuleRef) -> &RoleNode<'a> {
        &self.roles[rule.role]
    }

    /// Returns every (binding, subject, rule) triple of the resolved
    /// bindings.
    pub(crate) fn grants(&self) -> impl Iterator<Item = GrantRef<'_, 'a>> {
        self.bindings.iter().flat_map(move |binding| {
            let role = binding.role.map(|role| &self.roles[role]);
            let scope = binding.scope();
            binding.subjects.iter().flat_map(move |(_, subject)| {
                let scope = scope.clone();
                role.into_iter().flat_map(move |role| {
                    let scope = scope.clone();
                    role.rules.iter().map(move |rule| GrantRef {
                        binding,
                        subject,
                        role,
                        rule: *rule,
                        scope: scope.clone(),
                    })
                })
            })
        })
    }
}

fn default_cluster_admin() -> RoleNode<'static> {
    RoleNode {
        id: RoleId {
            kind: RoleKind::ClusterRole,
            namespace: None,
            name: "cluster-admin".to_owned(),
        },
        object: None,
        labels: None,
        own_rules: &CLUSTER_ADMIN_RULES,
        aggregation: None,
        rules: Vec::new(),
    }
}

/// Reads every Role and ClusterRole. A role defined twice keeps its later
/// definition, as `kubectl apply` of the whole input would.
fn collect_roles<'a>(objects: &'a [Object], warnings: &mut Vec<Warning>) -> Vec<RoleNode<'a>> {
    let mut roles: Vec<RoleNode<'a>> = Vec::new();
    let mut index: HashMap<RoleId, usize> = HashMap::new();
    for object in objects {
        let (kind, rules, aggregation) = match &object.resource {
            Resource::Role(role) => (RoleKind::Role, role.rules.as_deref(), None),
            Resource::ClusterRole(role) => (
                RoleKind::ClusterRole,
                role.rules.as_deref(),
                role.aggregation_rule.as_ref(),
            ),
            _ => continue,
        };
        let id = RoleId {
            kind,
            namespace: effective_namespace(object).map(str::to_owned),
            name: object.name().to_owned(),
        };
        let node = RoleNode {
            id: id.clone(),
            object: Some(object),
            labels: object.resource.metadata().labels.as_ref(),
            own_rules: rules.unwrap_or_default(),
            aggregation,
            rules: Vec::new(),
        };
        match index.get(&id) {
            Some(&earlier) => {
                warnings.push(node.warning(format!(
                    "{id} is defined more than once; the last definition is checked"
                )));
                roles[earlier] = node;
            }
            None => {
                index.insert(id, roles.len());
                roles.push(node);
            }
        }
    }
    roles
}

/// Reads a RoleBinding or ClusterRoleBinding; `None` for other objects.
fn read_binding<'a>(
    object: &'a Object,
    roles: &HashMap<&RoleId, usize>,
    whole_cluster: bool,
    warnings: &mut Vec<Warning>,
) -> Option<BindingNode<'a>> {
    let (kind, role_ref, subjects) = match &object.resource {
        Resource::RoleBinding(binding) => (
            BindingKind::RoleBinding,
            &binding.role_ref,
            binding.subjects.as_deref(),
        ),
        Resource::ClusterRoleBinding(binding) => (
            BindingKind::ClusterRoleBinding,
            &binding.role_ref,
            binding.subjects.as_deref(),
        ),
        _ => return None,
    };
    let id = BindingId {
        kind,
        namespace: effective_namespace(object).map(str::to_owned),
        name: object.name().to_owned(),
    };
    let warn = |message: String| Warning {
        resource: ResourceRef::of(object),
        origin: Some(object.origin.clone()),
        message,
    };

    let role = match role_key(&id, role_ref) {
        Ok(key) => match roles.get(&key) {
            Some(&role) => Some(role),
            None => {
                warnings.push(warn(missing_role_message(&id, &key, whole_cluster)));
                None
            }
        },
        Err(reason) => {
            warnings.push(warn(format!("{id}: {reason}; its grants were not checked")));
            None
        }
    };

    let mut read = Vec::new();
    for (position, spec) in subjects.unwrap_or_default().iter().enumerate() {
        match Subject::from_spec(spec, id.namespace.as_deref()) {
            Ok(subject) => read.push((position, subject)),
            Err(reason) => warnings.push(warn(format!("{id}: subjects[{position}]: {reason}"))),
        }
    }
    Some(BindingNode {
        id,
        object,
        role_ref,
        role,
        subjects: read,
    })
}

/// Returns the role a binding refers to, or why the reference is invalid.
fn role_key(binding: &BindingId, role_ref: &RoleRef) -> Result<RoleId, String> {
    let group = role_ref
        .api_group
        .as_deref()
        .unwrap_or("rbac.authorization.k8s.io");
    if group != "rbac.authorization.k8s.io" {
        return Err(format!(
            "roleRef.apiGroup is {group:?}; it must be rbac.authorization.k8s.io"
        ));
    }
    match (role_ref.kind.as_str(), binding.kind) {
        ("ClusterRole", _) => Ok(RoleId {
            kind: RoleKind::ClusterRole,
            namespace: None,
            name: role_ref.name.clone(),
        }),
        ("Role", BindingKind::RoleBinding) => Ok(RoleId {
            kind: RoleKind::Role,
            namespace: binding.namespace.clone(),
            name: role_ref.name.clone(),
        }),
        ("Role", BindingKind::ClusterRoleBinding) => Err(format!(
            "roleRef names Role {:?}, but a ClusterRoleBinding can refer only to a ClusterRole, and the API server rejects it",
            role_ref.name
        )),
        (other, _) => Err(format!(
            "roleRef.kind is {other:?}; it must be Role or ClusterRole"
        )),
    }
}

fn missing_role_message(binding: &BindingId, role: &RoleId, whole_cluster: bool) -> String {
    if whole_cluster {
        format!(
            "{binding} refers to {role}, which does not exist in the cluster; the binding grants nothing until a role of that name is created"
        )
    } else {
        format!(
            "{binding} refers to {role}, which is not in the input, so its grants were not checked; add the role's manifest, or audit the cluster with --cluster"
        )
    }
}
