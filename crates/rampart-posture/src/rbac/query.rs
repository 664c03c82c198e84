//! `who-can` questions: which subjects may send a given request, and
//! through which binding, role and rule.
//!
//! The grants follow the RBAC authorizer, as `kubectl auth can-i` and
//! kubectl-who-can report them: a ClusterRoleBinding grants in every
//! namespace, a RoleBinding only in its own, and a rule restricted by
//! `resourceNames` is reported with the names it is restricted to.

use serde::Serialize;

use super::graph::{BindingId, RbacGraph, RoleId, Scope};
use super::resources::{default_group, is_cluster_scoped};
use super::rule::{Request, ResourceRequest, allows};
use super::subject::Subject;
use crate::manifest::{Object, Origin};

/// A question: may anyone send `verb` on `target`?
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub verb: String,
    pub target: Target,
}

/// Target of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A resource of an API group (`""` is the core group), or one of its
    /// subresources (empty for none).
    Resource {
        group: String,
        resource: String,
        subresource: String,
    },
    /// A path outside the resource API, such as `/metrics`.
    NonResourceUrl(String),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the verb is empty; name one such as get, list, create or *")]
    EmptyVerb,
    #[error(
        "the resource is empty; name one such as pods, pods/exec, deployments.apps or /metrics"
    )]
    EmptyResource,
    #[error(
        "invalid resource {0:?}; write RESOURCE[.GROUP][/SUBRESOURCE], such as pods/exec or deployments.apps, or a URL path starting with /"
    )]
    InvalidResource(String),
}

impl Query {
    /// Parses a verb and a resource written as kubectl writes them:
    /// `pods`, `pods/exec`, `deployments.apps`, `deployments.apps/scale`,
    /// `*`, or a non-resource URL path such as `/metrics`. A built-in
    /// resource named without its group (`deployments`) gets its group;
    /// other bare names are read as core-group resources.
    pub fn parse(verb: &str, resource: &str) -> Result<Query, QueryError> {
        let verb = verb.trim();
        let resource = resource.trim();
        if verb.is_empty() {
            return Err(QueryError::EmptyVerb);
        }
        if resource.is_empty() {
            return Err(QueryError::EmptyResource);
        }
        let target = if resource.starts_with('/') {
            Target::NonResourceUrl(resource.to_owned())
        } else {
            parse_resource(resource)?
        };
        Ok(Query {
            verb: verb.to_owned(),
            target,
        })
    }

    fn request(&self) -> Request<'_> {
        match &self.target {
            Target::Resource {
                group,
                resource,
                subresource,
            } => Request::Resource(ResourceRequest::sub(
                &self.verb,
                group,
                resource,
                subresource,
            )),
            Target::NonResourceUrl(path) => Request::NonResource {
                verb: &self.verb,
                path,
            },
        }
    }

    /// Returns whether the API server checks this request in a namespace.
    fn is_namespaced(&self) -> bool {
        match &self.target {
            Target::Resource {
                group, resource, ..
            } => !is_cluster_scoped(group, resource),
            Target::NonResourceUrl(_) => false,
        }
    }
}

fn parse_resource(text: &str) -> Result<Target, QueryError> {
    let invalid = || QueryError::InvalidResource(text.to_owned());
    let lower = text.to_ascii_lowercase();
    let (kind, subresource) = match lower.split_once('/') {
        Some((kind, subresource)) => (kind, subresource),
        None => (lower.as_str(), ""),
    };
    if kind.is_empty()
        || subresource.contains('/')
        || (lower.contains('/') && subresource.is_empty())
    {
        return Err(invalid());
    }
    let (resource, group) = match kind.split_once('.') {
        Some((resource, group)) if !resource.is_empty() && !group.is_empty() => (resource, group),
        Some(_) => return Err(invalid()),
        None => (kind, default_group(kind)),
    };
    Ok(Target::Resource {
        group: group.to_owned(),
        resource: resource.to_owned(),
        subresource: subresource.to_owned(),
    })
}

/// One way a subject is allowed a request: a rule of a role, granted by a
/// binding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub subject: Subject,
    pub via_role: RoleId,
    pub via_binding: BindingId,
    #[serde(flatten)]
    pub scope: Scope,
    /// The role whose `rules[rule_index]` allows the request: `via_role`,
    /// or for an aggregated ClusterRole the role the rule was aggregated
    /// from.
    pub rule_role: RoleId,
    pub rule_index: usize,
    /// The names the rule is restricted to; empty when it allows every
    /// object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    /// Origin of the binding (file and document).
    #[serde(skip)]
    pub origin: Origin,
}

impl Grant {
    /// Returns whether the grant covers only the objects in
    /// `resource_names`.
    pub fn is_restricted(&self) -> bool {
        !self.resource_names.is_empty()
    }
}

impl RbacGraph<'_> {
    /// Returns every grant that allows `query`, sorted by subject.
    ///
    /// With `namespace`, the request is checked in that namespace:
    /// ClusterRoleBindings and that namespace's RoleBindings apply, as for
    /// `kubectl auth can-i -n NAMESPACE`. Without it, the grants of every
    /// namespace are returned, each RoleBinding grant labelled with its namespace,
    /// except for built-in cluster-scoped resources and non-resource URLs,
    /// which only ClusterRoleBindings can grant.
    pub fn who_can(&self, query: &Query, namespace: Option<&str>) -> Vec<Grant> {
        let request = query.request();
        let namespaced = query.is_namespaced();
        let reaches = |scope: &Scope| match (scope, namespace) {
            (Scope::Cluster, _) => true,
            // A RoleBinding grants only namespaced resources, so `-n` does
            // not make it reach nodes, ClusterRoles or non-resource URLs.
            (Scope::Namespace(own), Some(wanted)) => own == wanted && namespaced,
            (Scope::Namespace(_), None) => namespaced,
        };

        let mut grants: Vec<Grant> = self
            .grants()
            .filter(|grant| reaches(&grant.scope))
            .filter_map(|grant| {
                let allowance = allows(self.rule(grant.rule), &request)?;
                Some(Grant {
                    subject: grant.subject.clone(),
                    via_role: grant.role.id.clone(),
                    via_binding: grant.binding.id.clone(),
                    scope: grant.scope.clone(),
                    rule_role: self.role_of(grant.rule).id.clone(),
                    rule_index: grant.rule.rule,
                    resource_names: allowance.names().to_vec(),
                    origin: grant.binding.origin().clone(),
                })
            })
            .collect();
        grants.sort_by(|a, b| {
            (
                &a.subject,
                &a.scope,
                &a.via_binding,
                &a.rule_role,
                a.rule_index,
            )
                .cmp(&(
                    &b.subject,
                    &b.scope,
                    &b.via_binding,
                    &b.rule_role,
                    b.rule_index,
                ))
        });
        grants.dedup();
        grants
    }
}

/// Returns the grants among `objects` (read as manifests, not a whole
/// cluster) that allow `verb` on `resource`, as [`RbacGraph::who_can`]
/// does. Build an [`RbacGraph`] instead to read its warnings or to ask
/// several questions.
pub fn who_can(
    objects: &[Object],
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
) -> Result<Vec<Grant>, QueryError> {
    let query = Query::parse(verb, resource)?;
    Ok(RbacGraph::build(objects, false).who_can(&query, namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(group: &str, resource: &str, subresource: &str) -> Target {
        Target::Resource {
            group: group.to_owned(),
            resource: resource.to_owned(),
            subresource: subresource.to_owned(),
        }
    }

    #[test]
    fn parse_kubectl_forms() {
        let target = |text| Query::parse("get", text).unwrap().target;
        assert_eq!(target("pods"), resource("", "pods", ""));
        assert_eq!(target("pods/exec"), resource("", "pods", "exec"));
        assert_eq!(target("deployments"), resource("apps", "deployments", ""));
        assert_eq!(
            target("deployments.apps/scale"),
            resource("apps", "deployments", "scale")
        );
        assert_eq!(
            target("certificates.cert-manager.io"),
            resource("cert-manager.io", "certificates", "")
        );
        assert_eq!(target("*"), resource("", "*", ""));
        assert_eq!(target("*.*"), resource("*", "*", ""));
        assert_eq!(
            target("/metrics"),
            Target::NonResourceUrl("/metrics".to_owned())
        );
    }

    #[test]
    fn parse_rejects_malformed() {
        assert_eq!(Query::parse("", "pods"), Err(QueryError::EmptyVerb));
        assert_eq!(Query::parse("get", " "), Err(QueryError::EmptyResource));
        for bad in ["pods/", "a/b/c", ".apps", "pods.", "pods./exec"] {
            let error = Query::parse("get", bad).unwrap_err();
            assert_eq!(error, QueryError::InvalidResource(bad.to_owned()));
        }
    }
}
