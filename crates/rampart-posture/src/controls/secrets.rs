//! Secrets in workloads: credentials written into the manifest, secrets
//! handed over as environment variables, and service account tokens
//! mounted where no API access is needed.

use std::collections::HashMap;

use crate::control::{Category, Control, Severity};
use crate::finding::Sink;
use crate::manifest::Object;
use crate::pod::PodView;

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
    kubescape: &["C-0012"],
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
    kubescape: &["C-0034"],
};

pub(crate) static CONTROLS: [&Control; 3] = [&LITERAL_IN_ENV, &SECRET_AS_ENV, &TOKEN_AUTOMOUNT];

/// Words in a variable name that mark its value as a credential, compared
/// with the name's letters only, upper-cased.
const CREDENTIAL_NAME_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "ACCESSKEY",
    "PRIVATEKEY",
    "CREDENTIAL",
    "AUTHKEY",
    "CLIENTKEY",
    "CONNECTIONSTRING",
];

/// Variable names that contain a credential word but never hold one.
const NOT_CREDENTIAL_SUFFIXES: &[&str] =
    &["FILE", "PATH", "DIR", "NAME", "REF", "URL", "ID", "TTL"];

/// Prefixes of well-known credential formats, found whatever the name.
const CREDENTIAL_VALUE_PREFIXES: &[&str] = &[
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "AKIA",
    "ghp_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "sk_live_",
];

/// Returns why `name`/`value` looks like a credential, or `None`.
pub(crate) fn credential_reason(name: &str, value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() || is_reference(value) {
        return None;
    }
    if CREDENTIAL_VALUE_PREFIXES
        .iter()
        .any(|prefix| value.starts_with(prefix) && value.len() >= prefix.len() + 12)
    {
        return Some("the value has the format of a credential");
    }
    let upper = name.to_ascii_uppercase();
    let letters: String = upper.chars().filter(char::is_ascii_alphanumeric).collect();
    let last_word = upper.rsplit(['_', '-', '.']).next().unwrap_or_default();
    if NOT_CREDENTIAL_SUFFIXES.contains(&last_word) {
        return None;
    }
    CREDENTIAL_NAME_WORDS
        .iter()
        .any(|word| letters.contains(word))
        .then_some("the name marks a credential")
}

/// Returns whether a value only refers to another variable (`$(VAR)` or
/// `${VAR}`), which puts no secret into the manifest.
fn is_reference(value: &str) -> bool {
    (value.starts_with("$(") && value.ends_with(')'))
        || (value.starts_with("${") && value.ends_with('}'))
}

pub(crate) fn check(
    object: &Object,
    pod: &PodView<'_>,
    service_accounts: &HashMap<(String, String), Option<bool>>,
    sink: &mut Sink,
) {
    for control in CONTROLS {
        sink.evaluated(control);
    }
    for container in pod.containers() {
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
    service_accounts: &HashMap<(String, String), Option<bool>>,
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
        .get(&(namespace.to_owned(), account.to_owned()))
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
            format!("pod mounts the token of service account {account:?}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_and_values() {
        assert!(credential_reason("DB_PASSWORD", "hunter2").is_some());
        assert!(credential_reason("api-key", "abc").is_some());
        assert!(credential_reason("PASSWORD_FILE", "/run/secrets/db").is_none());
        assert!(credential_reason("TOKEN_TTL", "3600").is_none());
        assert!(credential_reason("LOG_LEVEL", "debug").is_none());
        assert!(credential_reason("DB_PASSWORD", "").is_none());
        assert!(credential_reason("DB_PASSWORD", "$(OTHER)").is_none());
        assert!(credential_reason("CONFIG", "AKIAIOSFODNN7EXAMPLE1").is_some());
    }
}
