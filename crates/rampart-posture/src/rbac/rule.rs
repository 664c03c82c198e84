//! Matching one policy rule against one request, as the Kubernetes RBAC
//! authorizer does (`RuleAllows` and the `*Matches` helpers of
//! `k8s.io/kubernetes/pkg/apis/rbac/v1`, unchanged from v1.8 to v1.35).
//!
//! The traps:
//! - `*` is the only wildcard in verbs, API groups and resources, except
//!   that a resource `*/SUB` matches subresource SUB of every resource.
//!   `pods/*` is a literal name that matches nothing.
//! - A request for a subresource is matched by its combined name
//!   (`pods/exec`); a rule for `pods` does not cover `pods/exec`.
//! - `resourceNames` restricts a rule to objects of those names. Requests
//!   without a name, creating a top-level object or deleting a collection,
//!   never match a restricted rule.
//! - `nonResourceURLs` entries match exactly, or by prefix when they end in
//!   `*`.

use k8s_openapi::api::rbac::v1::PolicyRule;

/// A request an authorizer decides on, with the name left open: the
/// question is whether some object of the resource can be acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request<'s> {
    Resource(ResourceRequest<'s>),
    /// A path outside the resource API, such as `/healthz` or `/metrics`.
    NonResource {
        verb: &'s str,
        path: &'s str,
    },
}

/// A request for a resource: a verb on `resource` (or its `subresource`)
/// in API group `group`, where `""` is the core group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ResourceRequest<'s> {
    pub verb: &'s str,
    pub group: &'s str,
    pub resource: &'s str,
    /// Empty when the request is for the resource itself.
    pub subresource: &'s str,
}

impl<'s> ResourceRequest<'s> {
    pub(crate) const fn new(verb: &'s str, group: &'s str, resource: &'s str) -> Self {
        ResourceRequest {
            verb,
            group,
            resource,
            subresource: "",
        }
    }

    pub(crate) const fn sub(
        verb: &'s str,
        group: &'s str,
        resource: &'s str,
        subresource: &'s str,
    ) -> Self {
        ResourceRequest {
            verb,
            group,
            resource,
            subresource,
        }
    }

    /// Returns whether the API server fills in an object name for this
    /// request, which is what `resourceNames` is compared with. Creating a
    /// top-level object and deleting a collection carry none. A list or
    /// watch carries one when it selects `metadata.name`, so that a
    /// restricted rule still allows it for the named objects.
    fn carries_name(&self) -> bool {
        let creates_object = self.verb == "create" && self.subresource.is_empty();
        !creates_object && self.verb != "deletecollection"
    }

    /// Returns the resource as kubectl names it: `pods/exec`,
    /// `deployments.apps`, `certificatesigningrequests.certificates.k8s.io/approval`.
    pub(crate) fn display(&self) -> String {
        let mut text = self.resource.to_owned();
        if !self.group.is_empty() {
            text = format!("{text}.{}", self.group);
        }
        if !self.subresource.is_empty() {
            text = format!("{text}/{}", self.subresource);
        }
        text
    }
}

/// How far a rule allows a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Allowance<'r> {
    /// Every object of the resource (or every matching path).
    All,
    /// Only the objects with these names.
    Named(&'r [String]),
}

impl Allowance<'_> {
    pub(crate) fn names(&self) -> &[String] {
        match self {
            Allowance::All => &[],
            Allowance::Named(names) => names,
        }
    }
}

/// Returns how far `rule` allows `request`, or `None` when it does not.
pub(crate) fn allows<'r>(rule: &'r PolicyRule, request: &Request<'_>) -> Option<Allowance<'r>> {
    match request {
        Request::Resource(request) => allows_resource(rule, request),
        Request::NonResource { verb, path } => (verb_matches(rule, verb)
            && non_resource_url_matches(rule, path))
        .then_some(Allowance::All),
    }
}

fn allows_resource<'r>(
    rule: &'r PolicyRule,
    request: &ResourceRequest<'_>,
) -> Option<Allowance<'r>> {
    let matches = verb_matches(rule, request.verb)
        && group_matches(rule, request.group)
        && resource_matches(rule, request.resource, request.subresource);
    if !matches {
        return None;
    }

    let names = rule.resource_names.as_deref().unwrap_or_default();
    if names.is_empty() {
        Some(Allowance::All)
    } else if request.carries_name() {
        Some(Allowance::Named(names))
    } else {
        None
    }
}

fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|own| own == "*" || own == verb)
}

fn group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups
        .iter()
        .flatten()
        .any(|own| own == "*" || own == group)
}

/// Matches `resource/subresource` (or `resource` when `subresource` is
/// empty) against the rule's resources, where `*/SUB` stands for
/// subresource SUB of any resource.
fn resource_matches(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    rule.resources.iter().flatten().any(|own| {
        if own == "*" {
            return true;
        }
        if subresource.is_empty() {
            return own == resource;
        }
        let (own_resource, own_subresource) = own.split_once('/').unwrap_or((own, ""));
        own_subresource == subresource && (own_resource == resource || own_resource == "*")
    })
}

fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().flatten().any(|own| {
        own == "*"
            || own == path
            || (own.ends_with('*') && path.starts_with(own.trim_end_matches('*')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        PolicyRule {
            api_groups: Some(strings(groups)),
            resources: Some(strings(resources)),
            verbs: strings(verbs),
            ..PolicyRule::default()
        }
    }

    fn resource(request: ResourceRequest<'static>) -> Request<'static> {
        Request::Resource(request)
    }

    #[test]
    fn verb_wildcard_and_literal() {
        let all = rule(&[""], &["pods"], &["*"]);
        let get = rule(&[""], &["pods"], &["get"]);
        let request = resource(ResourceRequest::new("delete", "", "pods"));
        assert_eq!(allows(&all, &request), Some(Allowance::All));
        assert_eq!(allows(&get, &request), None);
    }

    #[test]
    fn group_must_match_exactly() {
        let core = rule(&[""], &["roles"], &["bind"]);
        let rbac = rule(&["rbac.authorization.k8s.io"], &["roles"], &["bind"]);
        let any = rule(&["*"], &["roles"], &["bind"]);
        let request = resource(ResourceRequest::new(
            "bind",
            "rbac.authorization.k8s.io",
            "roles",
        ));
        assert_eq!(allows(&core, &request), None);
        assert_eq!(allows(&rbac, &request), Some(Allowance::All));
        assert_eq!(allows(&any, &request), Some(Allowance::All));
    }

    #[test]
    fn subresource_needs_its_own_entry() {
        let pods = rule(&[""], &["pods"], &["create"]);
        let exec = rule(&[""], &["pods/exec"], &["create"]);
        let request = resource(ResourceRequest::sub("create", "", "pods", "exec"));
        assert_eq!(allows(&pods, &request), None);
        assert_eq!(allows(&exec, &request), Some(Allowance::All));
    }

    #[test]
    fn star_slash_subresource_matches_any_resource() {
        let scale = rule(&["apps"], &["*/scale"], &["update"]);
        let deployments = resource(ResourceRequest::sub(
            "update",
            "apps",
            "deployments",
            "scale",
        ));
        let status = resource(ResourceRequest::sub(
            "update",
            "apps",
            "deployments",
            "status",
        ));
        let parent = resource(ResourceRequest::new("update", "apps", "deployments"));
        assert_eq!(allows(&scale, &deployments), Some(Allowance::All));
        assert_eq!(allows(&scale, &status), None);
        assert_eq!(allows(&scale, &parent), None);
    }

    #[test]
    fn resource_slash_star_is_literal() {
        let pods_star = rule(&[""], &["pods/*"], &["create"]);
        let request = resource(ResourceRequest::sub("create", "", "pods", "exec"));
        assert_eq!(allows(&pods_star, &request), None);
    }

    #[test]
    fn resource_wildcard_covers_subresources() {
        let all = rule(&[""], &["*"], &["get"]);
        let request = resource(ResourceRequest::sub("get", "", "pods", "exec"));
        assert_eq!(allows(&all, &request), Some(Allowance::All));
    }

    #[test]
    fn resource_names_restrict_named_requests() {
        let mut named = rule(&[""], &["secrets"], &["get", "create", "list"]);
        named.resource_names = Some(vec!["app-tls".to_owned()]);
        let get = resource(ResourceRequest::new("get", "", "secrets"));
        let list = resource(ResourceRequest::new("list", "", "secrets"));
        let create = resource(ResourceRequest::new("create", "", "secrets"));
        let expected = Some(Allowance::Named(
            &named.resource_names.as_ref().unwrap()[..],
        ));
        assert_eq!(allows(&named, &get), expected);
        assert_eq!(allows(&named, &list), expected);
        assert_eq!(allows(&named, &create), None);
    }

    #[test]
    fn resource_names_restrict_subresource_create() {
        let mut named = rule(&[""], &["pods/exec"], &["create"]);
        named.resource_names = Some(vec!["debug".to_owned()]);
        let request = resource(ResourceRequest::sub("create", "", "pods", "exec"));
        assert!(matches!(
            allows(&named, &request),
            Some(Allowance::Named(_))
        ));
    }

    #[test]
    fn empty_resource_names_mean_all() {
        let mut rule = rule(&[""], &["secrets"], &["get"]);
        rule.resource_names = Some(Vec::new());
        let request = resource(ResourceRequest::new("get", "", "secrets"));
        assert_eq!(allows(&rule, &request), Some(Allowance::All));
    }

    #[test]
    fn non_resource_urls_exact_and_prefix() {
        let rule = PolicyRule {
            non_resource_urls: Some(vec!["/healthz".to_owned(), "/apis/*".to_owned()]),
            verbs: vec!["get".to_owned()],
            ..PolicyRule::default()
        };
        let path = |path| Request::NonResource { verb: "get", path };
        assert_eq!(allows(&rule, &path("/healthz")), Some(Allowance::All));
        assert_eq!(allows(&rule, &path("/healthz/etcd")), None);
        assert_eq!(allows(&rule, &path("/apis/apps/v1")), Some(Allowance::All));
        assert_eq!(allows(&rule, &path("/metrics")), None);
    }

    #[test]
    fn non_resource_rule_grants_no_resources() {
        let rule = PolicyRule {
            non_resource_urls: Some(vec!["*".to_owned()]),
            verbs: vec!["*".to_owned()],
            ..PolicyRule::default()
        };
        let request = resource(ResourceRequest::new("get", "", "secrets"));
        assert_eq!(allows(&rule, &request), None);
    }
}
