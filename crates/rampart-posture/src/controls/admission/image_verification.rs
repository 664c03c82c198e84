//! Whether any admission component verifies image signatures or
//! provenance before pods run. Only a whole cluster can show that none
//! does: a manifest set may simply not include the verifier.
//!
//! A cluster counts as verifying images when a webhook that intercepts
//! pods or their controllers belongs to:
//! - a dedicated verifier (Sigstore policy-controller, Connaisseur,
//!   Portieris, Ratify);
//! - Kyverno, which verifies images with `verifyImages` rules or
//!   ImageValidatingPolicy objects. Those are custom resources that rampart
//!   does not read, so an installed Kyverno that intercepts pods is taken
//!   to verify images;
//! - OPA Gatekeeper, when a workload of an external data provider that
//!   verifies signatures (Ratify, cosign-gatekeeper-provider) runs too.
//!
//! ValidatingAdmissionPolicy bindings do not count: CEL expressions cannot
//! fetch or check a signature. Registry allow-lists written in CEL are the
//! `image-registry-not-allowed` control's subject.

use std::sync::Arc;

use crate::finding::{Finding, ResourceRef, Sink};
use crate::manifest::Object;

use super::NO_IMAGE_VERIFICATION;
use super::webhooks::{ImageVerification, Webhook};

/// Words in a workload's name or image that mark a Gatekeeper external
/// data provider that verifies image signatures.
const GATEKEEPER_PROVIDERS: [&str; 2] = ["ratify", "cosign-gatekeeper-provider"];

pub(super) fn check(objects: &[Object], webhooks: &[Webhook<'_>], sink: &mut Sink) {
    sink.evaluated_in(&NO_IMAGE_VERIFICATION, None);
    if verifier(objects, webhooks).is_some() {
        return;
    }

    let message = "no admission webhook in the cluster verifies image signatures: none of Sigstore policy-controller, Connaisseur, Portieris, Ratify, Kyverno or Gatekeeper with a signature provider intercepts pods".to_owned();
    sink.push(Finding {
        control: &NO_IMAGE_VERIFICATION,
        severity: NO_IMAGE_VERIFICATION.severity,
        resource: Arc::new(ResourceRef {
            api_version: "",
            kind: "Cluster",
            namespace: None,
            name: "cluster".to_owned(),
        }),
        origin: None,
        container: None,
        field: None,
        message,
        exception: None,
    });
}

/// Returns the product that verifies images, if the objects show one.
pub(super) fn verifier(objects: &[Object], webhooks: &[Webhook<'_>]) -> Option<&'static str> {
    let provider_runs = objects.iter().any(is_signature_provider);
    webhooks
        .iter()
        .filter(|webhook| webhook.intercepts_workloads())
        .filter_map(Webhook::engine)
        .find(|engine| match engine.images {
            ImageVerification::Always | ImageVerification::WithPolicies => true,
            ImageVerification::WithProvider => provider_runs,
            ImageVerification::No => false,
        })
        .map(|engine| engine.product)
}

fn is_signature_provider(object: &Object) -> bool {
    let Some(workload) = object.workload() else {
        return false;
    };
    let name = object.name().to_ascii_lowercase();
    let images: Vec<String> = workload
        .pod_view()
        .map(|pod| {
            pod.containers()
                .filter_map(|container| container.image)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    GATEKEEPER_PROVIDERS
        .iter()
        .any(|marker| name.contains(marker) || images.iter().any(|image| image.contains(marker)))
}
