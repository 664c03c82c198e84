//! NetworkPolicy and Cilium policies in one shape: which pods each rule
//! set selects, in which directions it isolates them, and which of its
//! rules allow every peer.
//!
//! Kubernetes NetworkPolicy semantics (networking.k8s.io/v1):
//! - a missing or empty `podSelector` selects every pod in the policy's
//!   namespace;
//! - without `policyTypes`, a policy isolates ingress always and egress
//!   only when it has egress rules (the API server's defaulting);
//! - a rule without peers (`from`/`to`) admits every peer on its ports.
//!
//! Cilium semantics (cilium.io/v2):
//! - a CiliumNetworkPolicy selects endpoints in its own namespace, a
//!   CiliumClusterwideNetworkPolicy in every namespace, and a rule with a
//!   `nodeSelector` instead of an `endpointSelector` selects nodes;
//! - selector keys may carry a source prefix (`k8s:`, `any:`), and pods
//!   carry the extra labels `io.kubernetes.pod.namespace` and
//!   `io.cilium.k8s.policy.serviceaccount`;
//! - a rule isolates a direction when its `ingress` (or `egress`) list is
//!   not empty, unless `enableDefaultDeny` turns that off;
//! - a rule with ports but no peer applies to every peer, and the entities
//!   `all` and `world` cover every address outside the cluster or
//!   everything.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use crate::cilium::{CiliumNetworkPolicy, CiliumPeerRule, CiliumRule};
use crate::finding::effective_namespace;
use crate::manifest::{Object, Resource};
use crate::selector;

/// Pod label that Cilium sets to the pod's namespace.
const CILIUM_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// Pod label that Cilium sets to the pod's service account.
const CILIUM_SERVICE_ACCOUNT_LABEL: &str = "io.cilium.k8s.policy.serviceaccount";

/// Addresses that cover every IPv4 or every IPv6 peer.
const ANY_ADDRESS: [&str; 2] = ["0.0.0.0/0", "::/0"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    /// Returns the peer word of a NetworkPolicy rule (`from` or `to`).
    fn peers_field(self) -> &'static str {
        match self {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    }

    /// Returns `traffic from every source` or `traffic to every destination`.
    fn every_peer(self) -> &'static str {
        match self {
            Direction::Ingress => "traffic from every source",
            Direction::Egress => "traffic to every destination",
        }
    }
}

/// The pod of a workload as policies select it.
pub(super) struct PodIdentity<'a> {
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub service_account: &'a str,
}

/// The namespaces a policy's selectors look for pods in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope<'a> {
    Namespace(&'a str),
    Cluster,
}

/// A rule that allows every peer in one direction.
pub(super) struct AllowAll {
    pub direction: Direction,
    pub field: String,
    pub reason: String,
    /// The rule names ports, so it opens only those to every peer.
    pub ports_limited: bool,
}

#[derive(Clone, Copy)]
enum Selects<'a> {
    /// A NetworkPolicy `podSelector`; `None` selects every pod.
    Pods(Option<&'a LabelSelector>),
    /// A Cilium `endpointSelector`; `None` (a node rule) selects no pod.
    Endpoints(Option<&'a LabelSelector>),
}

/// One rule set: a NetworkPolicy's spec or one Cilium rule.
pub(super) struct Section<'a> {
    /// Field path of the rule set (`spec`, `specs[1]`).
    pub path: String,
    selects: Selects<'a>,
    pub isolates_ingress: bool,
    pub isolates_egress: bool,
    /// Rules that allow every peer, in the directions the section isolates.
    pub allow_all: Vec<AllowAll>,
}

/// A NetworkPolicy, CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy.
pub(super) struct Policy<'a> {
    pub object: &'a Object,
    pub scope: Scope<'a>,
    pub sections: Vec<Section<'a>>,
}

/// Returns every network policy among `objects`.
pub(super) fn policies(objects: &[Object]) -> Vec<Policy<'_>> {
    objects
        .iter()
        .filter_map(|object| match &object.resource {
            Resource::NetworkPolicy(policy) => Some(Policy {
                object,
                scope: Scope::Namespace(effective_namespace(object).unwrap_or("default")),
                sections: vec![network_policy_section(policy)],
            }),
            Resource::CiliumNetworkPolicy(policy) => Some(Policy {
                object,
                scope: Scope::Namespace(effective_namespace(object).unwrap_or("default")),
                sections: cilium_sections(policy),
            }),
            Resource::CiliumClusterwideNetworkPolicy(policy) => Some(Policy {
                object,
                scope: Scope::Cluster,
                sections: cilium_sections(policy),
            }),
            _ => None,
        })
        .collect()
}

impl Policy<'_> {
    /// Returns whether the policy's selectors can reach pods in `namespace`.
    pub fn covers_namespace(&self, namespace: &str) -> bool {
        match self.scope {
            Scope::Namespace(own) => own == namespace,
            Scope::Cluster => true,
        }
    }

    /// Returns whether any section selects `pod` and isolates it in at
    /// least one direction.
    pub fn isolates(&self, pod: &PodIdentity<'_>) -> bool {
        self.covers_namespace(pod.namespace)
            && self.sections.iter().any(|section| {
                (section.isolates_ingress || section.isolates_egress) && section.selects(pod)
            })
    }

    /// Returns whether any section selects `pod`, isolating or not.
    pub fn selects(&self, pod: &PodIdentity<'_>) -> bool {
        self.covers_namespace(pod.namespace) && self.sections.iter().any(|s| s.selects(pod))
    }

    /// Returns whether the policy is a default deny for `direction` in
    /// `namespace`: a section selects every pod there, isolates the
    /// direction, and has no rule that opens every port to every peer.
    pub fn default_denies(&self, namespace: &str, direction: Direction) -> bool {
        self.covers_namespace(namespace)
            && self.sections.iter().any(|section| {
                let isolates = match direction {
                    Direction::Ingress => section.isolates_ingress,
                    Direction::Egress => section.isolates_egress,
                };
                let opened = section
                    .allow_all
                    .iter()
                    .any(|rule| rule.direction == direction && !rule.ports_limited);
                isolates && !opened && section.selects_whole_namespace(namespace)
            })
    }

    /// Returns whether every section's selector is narrower than "every
    /// pod in scope", so that the policy may select no pod at all.
    pub fn has_only_narrow_selectors(&self) -> bool {
        self.sections.iter().all(|section| match section.selects {
            Selects::Pods(None) => false,
            Selects::Pods(Some(selector)) => !selector::is_empty(selector),
            Selects::Endpoints(None) => false,
            Selects::Endpoints(Some(selector)) => !selector::is_empty(selector),
        }) && !self.sections.is_empty()
    }
}

impl Section<'_> {
    fn selects(&self, pod: &PodIdentity<'_>) -> bool {
        match self.selects {
            Selects::Pods(None) => true,
            Selects::Pods(Some(selector)) => selector::matches(selector, pod.labels),
            Selects::Endpoints(None) => false,
            Selects::Endpoints(Some(endpoints)) => {
                let mut labels = pod.labels.clone();
                labels.insert(CILIUM_NAMESPACE_LABEL.to_owned(), pod.namespace.to_owned());
                labels.insert(
                    CILIUM_SERVICE_ACCOUNT_LABEL.to_owned(),
                    pod.service_account.to_owned(),
                );
                selector::matches(&without_source_prefixes(endpoints), &labels)
            }
        }
    }

    /// Returns whether the section selects every pod of `namespace`
    /// whatever its labels: an empty selector, or a Cilium selector that
    /// only names the namespace.
    fn selects_whole_namespace(&self, namespace: &str) -> bool {
        match self.selects {
            Selects::Pods(None) => true,
            Selects::Pods(Some(selector)) => selector::is_empty(selector),
            Selects::Endpoints(None) => false,
            Selects::Endpoints(Some(endpoints)) => {
                let endpoints = without_source_prefixes(endpoints);
                let only_namespace =
                    selector::keys(&endpoints).all(|key| key == CILIUM_NAMESPACE_LABEL);
                let labels =
                    BTreeMap::from([(CILIUM_NAMESPACE_LABEL.to_owned(), namespace.to_owned())]);
                only_namespace && selector::matches(&endpoints, &labels)
            }
        }
    }

    /// Returns the selector in `kubectl -l` form, for messages.
    pub fn selector_text(&self) -> String {
        match self.selects {
            Selects::Pods(None) | Selects::Endpoints(None) => "(everything)".to_owned(),
            Selects::Pods(Some(selector)) | Selects::Endpoints(Some(selector)) => {
                selector::display(selector)
            }
        }
    }

    /// Returns the field path and validity problem of an invalid selector.
    pub fn invalid_selector(&self) -> Option<(String, String)> {
        let (field, selector) = match self.selects {
            Selects::Pods(Some(selector)) => ("podSelector", selector),
            Selects::Endpoints(Some(selector)) => ("endpointSelector", selector),
            _ => return None,
        };
        let error = selector::validate(selector).err()?;
        let path = format!("{}.{field}.matchExpressions[{}]", self.path, error.index);
        Some((path, error.message))
    }
}

/// Strips Cilium's label source prefixes (`k8s:`, `any:`) from selector
/// keys, since Kubernetes pod labels carry the `k8s` source and `any`
/// matches every source. Other sources, such as `reserved:`, stay and so
/// match no pod label.
fn without_source_prefixes(selector: &LabelSelector) -> LabelSelector {
    fn strip(key: &str) -> String {
        key.strip_prefix("k8s:")
            .or_else(|| key.strip_prefix("any:"))
            .unwrap_or(key)
            .to_owned()
    }
    LabelSelector {
        match_labels: selector.match_labels.as_ref().map(|labels| {
            labels
                .iter()
                .map(|(key, value)| (strip(key), value.clone()))
                .collect()
        }),
        match_expressions: selector.match_expressions.as_ref().map(|requirements| {
            requirements
                .iter()
                .map(|requirement| LabelSelectorRequirement {
                    key: strip(&requirement.key),
                    ..requirement.clone()
                })
                .collect()
        }),
    }
}

fn network_policy_section(policy: &NetworkPolicy) -> Section<'_> {
    let spec = policy.spec.as_ref();
    let ingress = spec.and_then(|s| s.ingress.as_deref()).unwrap_or_default();
    let egress = spec.and_then(|s| s.egress.as_deref()).unwrap_or_default();
    let (isolates_ingress, isolates_egress) = match spec.and_then(|s| s.policy_types.as_deref()) {
        Some(types) if !types.is_empty() => (
            types.iter().any(|t| t == "Ingress"),
            types.iter().any(|t| t == "Egress"),
        ),
        _ => (true, !egress.is_empty()),
    };

    let mut allow_all = Vec::new();
    if isolates_ingress {
        for (index, rule) in ingress.iter().enumerate() {
            let ports = rule.ports.as_ref().is_some_and(|p| !p.is_empty());
            let path = format!("spec.ingress[{index}]");
            allow_all.extend(open_peers(
                Direction::Ingress,
                &path,
                rule.from.as_deref(),
                ports,
            ));
        }
    }
    if isolates_egress {
        for (index, rule) in egress.iter().enumerate() {
            let ports = rule.ports.as_ref().is_some_and(|p| !p.is_empty());
            let path = format!("spec.egress[{index}]");
            allow_all.extend(open_peers(
                Direction::Egress,
                &path,
                rule.to.as_deref(),
                ports,
            ));
        }
    }

    Section {
        path: "spec".to_owned(),
        selects: Selects::Pods(spec.and_then(|s| s.pod_selector.as_ref())),
        isolates_ingress,
        isolates_egress,
        allow_all,
    }
}

/// Returns the allow-every-peer findings of one NetworkPolicy rule.
fn open_peers(
    direction: Direction,
    path: &str,
    peers: Option<&[NetworkPolicyPeer]>,
    ports_limited: bool,
) -> Vec<AllowAll> {
    let on_ports = if ports_limited {
        " on its ports"
    } else {
        " on every port"
    };
    let peers = peers.unwrap_or_default();
    if peers.is_empty() {
        return vec![AllowAll {
            direction,
            field: path.to_owned(),
            reason: format!(
                "has no {} peers, so it allows {}{on_ports}",
                direction.peers_field(),
                direction.every_peer()
            ),
            ports_limited,
        }];
    }

    let mut open = Vec::new();
    for (index, peer) in peers.iter().enumerate() {
        let field = format!("{path}.{}[{index}]", direction.peers_field());
        let empty = peer.ip_block.is_none()
            && peer.namespace_selector.is_none()
            && peer.pod_selector.is_none();
        if empty {
            open.push(AllowAll {
                direction,
                field,
                reason: format!(
                    "has an empty peer, which matches {}{on_ports}",
                    direction.every_peer()
                ),
                ports_limited,
            });
            continue;
        }
        if let Some(block) = &peer.ip_block {
            let no_except = block.except.as_ref().is_none_or(Vec::is_empty);
            if ANY_ADDRESS.contains(&block.cidr.as_str()) && no_except {
                open.push(AllowAll {
                    direction,
                    field: format!("{field}.ipBlock.cidr"),
                    reason: format!(
                        "allows ipBlock {} without except, which is {}{on_ports}",
                        block.cidr,
                        direction.every_peer()
                    ),
                    ports_limited,
                });
            }
        }
    }
    open
}

fn cilium_sections(policy: &CiliumNetworkPolicy) -> Vec<Section<'_>> {
    policy
        .rules()
        .into_iter()
        .map(|(path, rule)| cilium_section(path, rule))
        .collect()
}

fn cilium_section(path: String, rule: &CiliumRule) -> Section<'_> {
    let default_deny = rule.enable_default_deny.as_ref();
    let ingress = rule.ingress.as_deref().unwrap_or_default();
    let egress = rule.egress.as_deref().unwrap_or_default();
    let isolates_ingress =
        !ingress.is_empty() && default_deny.and_then(|d| d.ingress) != Some(false);
    let isolates_egress = !egress.is_empty() && default_deny.and_then(|d| d.egress) != Some(false);

    let mut allow_all = Vec::new();
    if isolates_ingress {
        for (index, peer_rule) in ingress.iter().enumerate() {
            let field = format!("{path}.ingress[{index}]");
            allow_all.extend(cilium_open_peers(Direction::Ingress, &field, peer_rule));
        }
    }
    if isolates_egress {
        for (index, peer_rule) in egress.iter().enumerate() {
            let field = format!("{path}.egress[{index}]");
            allow_all.extend(cilium_open_peers(Direction::Egress, &field, peer_rule));
        }
    }

    Section {
        path,
        // A rule with a nodeSelector instead has no endpointSelector and
        // applies to no pod.
        selects: Selects::Endpoints(rule.endpoint_selector.as_ref()),
        isolates_ingress,
        isolates_egress,
        allow_all,
    }
}

/// Returns the allow-every-peer findings of one Cilium ingress or egress
/// rule.
fn cilium_open_peers(direction: Direction, path: &str, rule: &CiliumPeerRule) -> Vec<AllowAll> {
    let prefix = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let ports_limited = rule.to_ports.as_ref().is_some_and(|p| !p.is_empty())
        || rule.icmps.as_ref().is_some_and(|p| !p.is_empty());
    let on_ports = if ports_limited {
        " on its ports"
    } else {
        " on every port"
    };

    if !rule.has_peer() {
        // A rule with neither peers nor ports allows nothing.
        if !ports_limited {
            return Vec::new();
        }
        return vec![AllowAll {
            direction,
            field: path.to_owned(),
            reason: format!(
                "names ports but no peer, so it allows {}{on_ports}",
                direction.every_peer()
            ),
            ports_limited,
        }];
    }

    let mut open = Vec::new();
    for (index, entity) in rule.from_entities.iter().flatten().enumerate() {
        if entity == "all" || entity == "world" {
            open.push(AllowAll {
                direction,
                field: format!("{path}.{prefix}Entities[{index}]"),
                reason: format!(
                    "allows the entity {entity:?}, which is {}{on_ports}",
                    direction.every_peer()
                ),
                ports_limited,
            });
        }
    }
    for (index, cidr) in rule.from_cidr.iter().flatten().enumerate() {
        if ANY_ADDRESS.contains(&cidr.as_str()) {
            open.push(AllowAll {
                direction,
                field: format!("{path}.{prefix}CIDR[{index}]"),
                reason: format!(
                    "allows CIDR {cidr}, which is {}{on_ports}",
                    direction.every_peer()
                ),
                ports_limited,
            });
        }
    }
    for (index, set) in rule.from_cidr_set.iter().flatten().enumerate() {
        let no_except = set.except.as_ref().is_none_or(Vec::is_empty);
        if let Some(cidr) = &set.cidr
            && ANY_ADDRESS.contains(&cidr.as_str())
            && no_except
        {
            open.push(AllowAll {
                direction,
                field: format!("{path}.{prefix}CIDRSet[{index}]"),
                reason: format!(
                    "allows CIDR {cidr} without except, which is {}{on_ports}",
                    direction.every_peer()
                ),
                ports_limited,
            });
        }
    }
    open
}
