//! Cilium's network policy kinds (`cilium.io/v2` CiliumNetworkPolicy and
//! CiliumClusterwideNetworkPolicy), reduced to the fields the NetworkPolicy
//! controls read: which endpoints a rule selects, whether it isolates them
//! in each direction, and which peers it allows. Other fields are ignored.
//!
//! Both kinds share one schema. A policy carries one rule in `spec`, a
//! list in `specs`, or both.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Deserialize;

/// A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CiliumNetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<CiliumRule>,
    pub specs: Option<Vec<CiliumRule>>,
}

impl CiliumNetworkPolicy {
    /// Returns each rule with its field path (`spec` or `specs[i]`).
    pub fn rules(&self) -> Vec<(String, &CiliumRule)> {
        let mut rules: Vec<(String, &CiliumRule)> = Vec::new();
        if let Some(rule) = &self.spec {
            rules.push(("spec".to_owned(), rule));
        }
        for (index, rule) in self.specs.iter().flatten().enumerate() {
            rules.push((format!("specs[{index}]"), rule));
        }
        rules
    }
}

/// One Cilium policy rule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumRule {
    /// Endpoints (pods) the rule applies to. An empty selector selects
    /// every endpoint in the policy's scope.
    pub endpoint_selector: Option<LabelSelector>,
    /// Nodes the rule applies to (host policies), instead of endpoints.
    pub node_selector: Option<LabelSelector>,
    pub ingress: Option<Vec<CiliumPeerRule>>,
    pub ingress_deny: Option<Vec<CiliumPeerRule>>,
    pub egress: Option<Vec<CiliumPeerRule>>,
    pub egress_deny: Option<Vec<CiliumPeerRule>>,
    pub enable_default_deny: Option<DefaultDeny>,
}

/// `enableDefaultDeny`: whether a rule with an ingress or egress section
/// puts the selected endpoints into default deny for that direction
/// (true unless set to false).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DefaultDeny {
    pub ingress: Option<bool>,
    pub egress: Option<bool>,
}

/// One ingress or egress rule. Ingress rules name peers with `from*`
/// fields and egress rules with `to*` fields. Both are read into this one
/// struct because the controls treat them alike.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumPeerRule {
    #[serde(alias = "toEndpoints")]
    pub from_endpoints: Option<Vec<LabelSelector>>,
    #[serde(alias = "toRequires")]
    pub from_requires: Option<Vec<LabelSelector>>,
    #[serde(alias = "toEntities")]
    pub from_entities: Option<Vec<String>>,
    #[serde(rename = "fromCIDR", alias = "toCIDR")]
    pub from_cidr: Option<Vec<String>>,
    #[serde(rename = "fromCIDRSet", alias = "toCIDRSet")]
    pub from_cidr_set: Option<Vec<CidrRule>>,
    #[serde(alias = "toGroups")]
    pub from_groups: Option<Vec<serde_json::Value>>,
    #[serde(alias = "toNodes")]
    pub from_nodes: Option<Vec<serde_json::Value>>,
    #[serde(rename = "toFQDNs")]
    pub to_fqdns: Option<Vec<serde_json::Value>>,
    pub to_services: Option<Vec<serde_json::Value>>,
    pub to_ports: Option<Vec<serde_json::Value>>,
    pub icmps: Option<Vec<serde_json::Value>>,
}

/// A `fromCIDRSet`/`toCIDRSet` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CidrRule {
    pub cidr: Option<String>,
    pub except: Option<Vec<String>>,
    pub cidr_group_ref: Option<String>,
}

impl CiliumPeerRule {
    /// Returns whether the rule names any peer. A rule with ports but no
    /// peer applies to every peer; a rule with neither allows nothing.
    pub fn has_peer(&self) -> bool {
        fn some<T>(list: &Option<Vec<T>>) -> bool {
            list.as_ref().is_some_and(|list| !list.is_empty())
        }
        some(&self.from_endpoints)
            || some(&self.from_requires)
            || some(&self.from_entities)
            || some(&self.from_cidr)
            || some(&self.from_cidr_set)
            || some(&self.from_groups)
            || some(&self.from_nodes)
            || some(&self.to_fqdns)
            || some(&self.to_services)
    }
}
