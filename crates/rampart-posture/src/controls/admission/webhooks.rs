//! Validating and mutating admission webhooks in one shape, and which of
//! them act as security gates.
//!
//! A webhook is a security gate when it intercepts resources that decide
//! what runs with which privileges (pods and their controllers, RBAC,
//! namespaces, NetworkPolicies, admission configuration, or `*`) and it is
//! either a validating webhook or belongs to a known policy engine. Other
//! mutating webhooks (sidecar injectors, defaulting) are not gates.
//! A webhook whose `objectSelector` opts objects in (it requires a label
//! to be present) checks only objects that ask for it, so it is a feature
//! and not a gate either.

use k8s_openapi::api::admissionregistration::v1::{RuleWithOperations, ServiceReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::manifest::{Object, Resource};

/// Resources whose admission decides what runs and with which rights.
const SECURITY_RESOURCES: &[&str] = &[
    "pods",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "replicationcontrollers",
    "roles",
    "clusterroles",
    "rolebindings",
    "clusterrolebindings",
    "namespaces",
    "networkpolicies",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
];

/// Resources that create pods, and pods themselves.
const WORKLOAD_RESOURCES: &[&str] = &[
    "pods",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "replicationcontrollers",
];

/// A policy engine's support for image signature verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ImageVerification {
    /// The product exists to verify images.
    Always,
    /// Verifies images with policy objects (custom resources) that rampart
    /// does not read.
    WithPolicies,
    /// Verifies images only through an external data provider.
    WithProvider,
    No,
}

/// A policy engine or image verifier, recognized by `marker` in the
/// configuration name, the webhook name, or the service name, namespace
/// or URL.
pub(super) struct Engine {
    pub marker: &'static str,
    pub product: &'static str,
    pub images: ImageVerification,
}

/// Known engines. Default names: sigstore policy-controller registers
/// `policy.sigstore.dev` with its service in `cosign-system`; Portieris
/// registers `trust.hooks.securityenforcement.admission.cloud.ibm.com`.
pub(super) const ENGINES: &[Engine] = &[
    Engine {
        marker: "sigstore",
        product: "Sigstore policy-controller",
        images: ImageVerification::Always,
    },
    Engine {
        marker: "cosign",
        product: "Sigstore policy-controller",
        images: ImageVerification::Always,
    },
    Engine {
        marker: "connaisseur",
        product: "Connaisseur",
        images: ImageVerification::Always,
    },
    Engine {
        marker: "portieris",
        product: "Portieris",
        images: ImageVerification::Always,
    },
    Engine {
        marker: "securityenforcement",
        product: "Portieris",
        images: ImageVerification::Always,
    },
    Engine {
        marker: "ratify",
        product: "Ratify",
        images: ImageVerification::Always,
    },
    Engine {
        marker: "kyverno",
        product: "Kyverno",
        images: ImageVerification::WithPolicies,
    },
    Engine {
        marker: "gatekeeper",
        product: "OPA Gatekeeper",
        images: ImageVerification::WithProvider,
    },
    Engine {
        marker: "kubewarden",
        product: "Kubewarden",
        images: ImageVerification::No,
    },
    Engine {
        marker: "jspolicy",
        product: "jsPolicy",
        images: ImageVerification::No,
    },
];

/// One entry of a webhook configuration's `webhooks`.
pub(super) struct Webhook<'a> {
    pub config: &'a Object,
    pub index: usize,
    pub name: &'a str,
    pub mutating: bool,
    pub failure_policy: Option<&'a str>,
    pub namespace_selector: Option<&'a LabelSelector>,
    pub object_selector: Option<&'a LabelSelector>,
    pub rules: &'a [RuleWithOperations],
    pub service: Option<&'a ServiceReference>,
    pub url: Option<&'a str>,
}

/// Returns every webhook of every configuration among `objects`.
pub(super) fn webhooks(objects: &[Object]) -> Vec<Webhook<'_>> {
    let mut all = Vec::new();
    for config in objects {
        match &config.resource {
            Resource::ValidatingWebhookConfiguration(configuration) => {
                for (index, hook) in configuration.webhooks.iter().flatten().enumerate() {
                    all.push(Webhook {
                        config,
                        index,
                        name: &hook.name,
                        mutating: false,
                        failure_policy: hook.failure_policy.as_deref(),
                        namespace_selector: hook.namespace_selector.as_ref(),
                        object_selector: hook.object_selector.as_ref(),
                        rules: hook.rules.as_deref().unwrap_or_default(),
                        service: hook.client_config.service.as_ref(),
                        url: hook.client_config.url.as_deref(),
                    });
                }
            }
            Resource::MutatingWebhookConfiguration(configuration) => {
                for (index, hook) in configuration.webhooks.iter().flatten().enumerate() {
                    all.push(Webhook {
                        config,
                        index,
                        name: &hook.name,
                        mutating: true,
                        failure_policy: hook.failure_policy.as_deref(),
                        namespace_selector: hook.namespace_selector.as_ref(),
                        object_selector: hook.object_selector.as_ref(),
                        rules: hook.rules.as_deref().unwrap_or_default(),
                        service: hook.client_config.service.as_ref(),
                        url: hook.client_config.url.as_deref(),
                    });
                }
            }
            _ => {}
        }
    }
    all
}

impl Webhook<'_> {
    /// Returns the known engine this webhook belongs to, if any.
    pub fn engine(&self) -> Option<&'static Engine> {
        let mut texts = vec![self.config.name(), self.name];
        if let Some(service) = self.service {
            texts.push(&service.name);
            texts.push(&service.namespace);
        }
        texts.extend(self.url);
        let lowered: Vec<String> = texts.iter().map(|text| text.to_ascii_lowercase()).collect();
        ENGINES
            .iter()
            .find(|engine| lowered.iter().any(|text| text.contains(engine.marker)))
    }

    /// Returns the resources the webhook intercepts, as its rules write them.
    pub fn resources(&self) -> Vec<&str> {
        let mut resources: Vec<&str> = self
            .rules
            .iter()
            .flat_map(|rule| rule.resources.iter().flatten())
            .map(String::as_str)
            .collect();
        resources.sort_unstable();
        resources.dedup();
        resources
    }

    /// Returns whether a rule intercepts one of `kinds` (or `*`), counting
    /// subresources such as `pods/exec` under their resource.
    fn intercepts(&self, kinds: &[&str]) -> bool {
        self.resources().iter().any(|resource| {
            let main = resource.split('/').next().unwrap_or_default();
            main == "*" || kinds.contains(&main)
        })
    }

    pub fn intercepts_workloads(&self) -> bool {
        self.intercepts(WORKLOAD_RESOURCES)
    }

    /// Returns whether the webhook is a security gate (see the module
    /// documentation).
    pub fn is_security_gate(&self) -> bool {
        if !self.intercepts(SECURITY_RESOURCES) || self.opts_objects_in() {
            return false;
        }
        !self.mutating || self.engine().is_some()
    }

    /// Returns whether the webhook's failure policy is `Ignore` (the v1
    /// default is `Fail`).
    pub fn fails_open(&self) -> bool {
        self.failure_policy == Some("Ignore")
    }

    /// Returns whether `objectSelector` requires a label to be present, so
    /// that only objects carrying it are sent to the webhook.
    fn opts_objects_in(&self) -> bool {
        let Some(selector) = self.object_selector else {
            return false;
        };
        let has_labels = selector
            .match_labels
            .as_ref()
            .is_some_and(|labels| !labels.is_empty());
        has_labels
            || selector
                .match_expressions
                .iter()
                .flatten()
                .any(|requirement| matches!(requirement.operator.as_str(), "In" | "Exists"))
    }

    /// Returns the `objectSelector` requirements that let an object skip
    /// the webhook by carrying a label (`NotIn`, `DoesNotExist`), as
    /// (index, key, operator).
    pub fn object_opt_outs(&self) -> Vec<(usize, &str, &str)> {
        self.object_selector
            .and_then(|selector| selector.match_expressions.as_deref())
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, requirement)| {
                matches!(requirement.operator.as_str(), "NotIn" | "DoesNotExist")
            })
            .map(|(index, requirement)| {
                (
                    index,
                    requirement.key.as_str(),
                    requirement.operator.as_str(),
                )
            })
            .collect()
    }

    /// Returns the namespace the webhook's service runs in, if it is an
    /// in-cluster service.
    pub fn service_namespace(&self) -> Option<&str> {
        self.service.map(|service| service.namespace.as_str())
    }

    /// Returns the field path of this webhook in its configuration.
    pub fn path(&self) -> String {
        format!("webhooks[{}]", self.index)
    }

    /// Returns `ValidatingWebhookConfiguration "name" webhook "hook"`.
    pub fn describe(&self) -> String {
        format!(
            "{} {:?} webhook {:?}",
            self.config.kind(),
            self.config.name(),
            self.name
        )
    }
}
