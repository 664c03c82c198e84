//! Secrets in workloads: credentials written into the manifest, secrets
//! handed over as environment variables, and service account tokens
//! mounted where no API access is needed.

use crate::audit::ServiceAccounts;
use crate::control::{Category, Control, Severity};
use crate::finding::Sink;
use crate::manifest::Object;
use crate::message::quoted_message;
use crate::pod::{ContainerRef, PodView};

mod credentials;

use credentials::credential_reason;

pub(crate) static LITERAL_IN_ENV: Control = Control {
    id: "secret-in-env-literal",
    title: "Credential written into an environment variable",
    category: Category::Secrets,
    severity: Severity::High,
    rationale: "A credential in env[].value is stored in the manifest, in version control and in the API server's object, where everyone who can read the workload can read it.",
    remediation: "Move the value into a Secret and reference it with valueFrom.secretKeyRef, or mount the Secret as a file.",
    pss_level: None,
    cis: &[],
    nist_800_190: &["4.1.4"],
    nsa: &["Secrets"],
    mitre: &["T1552.007"],
    kubescape: &["C-0012", "C-0259"],
};

pub(crate) static SECRET_AS_ENV: Control = Control {
    id: "secret-as-env-var",
    title: "Secret exposed as an environment variable",
    category: Category::Secrets,
    severity: Severity::Low,
    rationale: "Applications often log or dump their environment, and child processes inherit it; a secret mounted as a file is read only where it is needed.",
    remediation: "Mount the Secret as a volume and read the file, instead of secretKeyRef or envFrom.secretRef.",
    pss_level: None,
    cis: &["5.4.1"],
    nist_800_190: &["4.1.4"],
    nsa: &["Secrets"],
    mitre: &[],
    kubescape: &["C-0207"],
};

pub(crate) static TOKEN_AUTOMOUNT: Control = Control {
    id: "service-account-token-automount",
    title: "Service account token mounted automatically",
    category: Category::Secrets,
    severity: Severity::Medium,
    rationale: "Every pod gets an API token unless automountServiceAccountToken is false; a compromised container can use it against the API server.",
    remediation: "Set automountServiceAccountToken: false on the pod or its ServiceAccount, unless the pod calls the Kubernetes API.",
    pss_level: None,
    cis: &["5.1.6"],
    nist_800_190: &["4.3.2"],
    nsa: &["Authentication and authorization"],
    mitre: &["T1528"],
    kubescape: &["C-0034", "C-0190"],
};

pub(crate) static CONTROLS: [&Control; 3] = [&LITERAL_IN_ENV, &SECRET_AS_ENV, &TOKEN_AUTOMOUNT];

pub(crate) fn check(
    object: &Object,
    pod: &PodView<'_>,
    containers: &[ContainerRef<'_>],
    service_accounts: &ServiceAccounts<'_>,
    sink: &mut Sink,
) {
    for control in CONTROLS {
        sink.evaluated(control);
    }
    for container in containers {
        for (index, var) in container.env.iter().enumerate() {
            if let Some(value) = var.value.as_deref()
                && let Some(reason) = credential_reason(&var.name, value)
            {
                sink.fail(
                    &LITERAL_IN_ENV,
                    object,
                    Some(container.name),
                    Some(format!("{}.env[{index}].value", container.path)),
                    format!(
                        "container {:?} sets {} to a literal value ({reason})",
                        container.name, var.name
                    ),
                );
            }
            let secret_ref = var
                .value_from
                .as_ref()
                .and_then(|from| from.secret_key_ref.as_ref());
            if let Some(secret) = secret_ref {
                sink.fail(
                    &SECRET_AS_ENV,
                    object,
                    Some(container.name),
                    Some(format!(
                        "{}.env[{index}].valueFrom.secretKeyRef",
                        container.path
                    )),
                    format!(
                        "container {:?} reads {} from secret {:?} as an environment variable",
                        container.name, var.name, secret.name
                    ),
                );
            }
        }
        for (index, source) in container.env_from.iter().enumerate() {
            if let Some(secret) = &source.secret_ref {
                sink.fail(
                    &SECRET_AS_ENV,
                    object,
                    Some(container.name),
                    Some(format!("{}.envFrom[{index}].secretRef", container.path)),
                    format!(
                        "container {:?} loads every key of secret {:?} as environment variables",
                        container.name, secret.name
                    ),
                );
            }
        }
    }
    token_automount(object, pod, service_accounts, sink);
}

fn token_automount(
    object: &Object,
    pod: &PodView<'_>,
    service_accounts: &ServiceAccounts<'_>,
    sink: &mut Sink,
) {
    let spec = pod.spec;
    let account = spec
        .service_account_name
        .as_deref()
        .filter(|name| !name.is_empty())
        .unwrap_or("default");
    let namespace = crate::finding::effective_namespace(object).unwrap_or("default");
    let account_setting = service_accounts
        .get(&(namespace, account))
        .copied()
        .flatten();
    // The pod's own setting wins over its service account's.
    let mounted = spec
        .automount_service_account_token
        .or(account_setting)
        .unwrap_or(true);
    if mounted {
        let field = match spec.automount_service_account_token {
            Some(_) => format!("{}.automountServiceAccountToken", pod.spec_path),
            None => pod.spec_path.to_owned(),
        };
        sink.fail(
            &TOKEN_AUTOMOUNT,
            object,
            None,
            Some(field),
            quoted_message("pod mounts the token of service account ", account, &[]),
        );
    }
}
