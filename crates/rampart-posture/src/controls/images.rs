//! Image references: pinning by digest, mutable tags, and registries
//! outside an allow-list.

use crate::control::{Category, Control, Severity};
use crate::finding::Sink;
use crate::manifest::Object;
use crate::pod::ContainerRef;

pub(crate) static NOT_PINNED: Control = Control {
    id: "image-not-pinned-by-digest",
    title: "Image not pinned by digest",
    category: Category::Images,
    severity: Severity::Medium,
    rationale: "A tag can be moved to other content at any time, so the image that runs is not the one that was scanned and approved.",
    remediation: "Refer to the image by digest (name@sha256:...), for example with the digest your build or scan recorded.",
    pss_level: None,
    cis: &[],
    nist_800_190: &["4.1.5", "4.2.2"],
    nsa: &["Threat detection and supply chain"],
    mitre: &["T1525"],
    kubescape: &["C-0306"],
};

pub(crate) static LATEST_TAG: Control = Control {
    id: "image-latest-tag",
    title: "Image uses the latest tag or no tag",
    category: Category::Images,
    severity: Severity::Medium,
    rationale: "`latest` (which a missing tag means) changes with every push, so rollouts are not reproducible and a rollback may not return to the old image.",
    remediation: "Use an explicit version tag, or better a digest.",
    pss_level: None,
    cis: &[],
    nist_800_190: &["4.2.2"],
    nsa: &["Threat detection and supply chain"],
    mitre: &["T1525"],
    kubescape: &[],
};

pub(crate) static REGISTRY_NOT_ALLOWED: Control = Control {
    id: "image-registry-not-allowed",
    title: "Image from a registry outside the allow-list",
    category: Category::Images,
    severity: Severity::High,
    rationale: "Images from registries the organization does not control bypass its scanning, signing and retention rules.",
    remediation: "Mirror the image into an allowed registry, or add the registry with --allowed-registry.",
    pss_level: None,
    cis: &["5.5.1"],
    nist_800_190: &["4.1.5", "4.2.3"],
    nsa: &["Threat detection and supply chain"],
    mitre: &["T1204.003"],
    kubescape: &["C-0001", "C-0078"],
};

pub(crate) static CONTROLS: [&Control; 3] = [&NOT_PINNED, &LATEST_TAG, &REGISTRY_NOT_ALLOWED];

/// An image reference split the way container runtimes resolve it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ImageName {
    /// Registry host (and port), `docker.io` when the reference names none.
    pub registry: String,
    /// Repository path, with `library/` added for Docker Hub short names.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageName {
    pub fn parse(reference: &str) -> ImageName {
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_owned())),
            None => (reference, None),
        };
        // A colon after the last slash separates the tag; an earlier one
        // belongs to a registry port.
        let last_slash = rest.rfind('/').map_or(0, |index| index + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => (
                &rest[..last_slash + colon],
                Some(rest[last_slash + colon + 1..].to_owned()),
            ),
            None => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        ImageName {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// Returns whether `prefix` (a registry, or a registry and repository
    /// path) covers this image, matching whole path segments.
    pub fn is_under(&self, prefix: &str) -> bool {
        let full = format!("{}/{}", self.registry, self.repository);
        let prefix = prefix.trim_end_matches('/');
        let prefix = ImageName::normalize_prefix(prefix);
        full == prefix || full.starts_with(&format!("{prefix}/"))
    }

    /// Rewrites Docker Hub aliases so that `docker.io`, `index.docker.io`
    /// and bare names compare equal.
    fn normalize_prefix(prefix: &str) -> String {
        let prefix = prefix
            .strip_prefix("index.docker.io")
            .map_or_else(|| prefix.to_owned(), |rest| format!("docker.io{rest}"));
        let first = prefix.split('/').next().unwrap_or_default();
        if first.contains('.') || first.contains(':') || first == "localhost" {
            prefix
        } else {
            format!("docker.io/{prefix}")
        }
    }
}

pub(crate) fn check(
    object: &Object,
    containers: &[ContainerRef<'_>],
    allowed: &[String],
    sink: &mut Sink,
) {
    sink.evaluated(&NOT_PINNED);
    sink.evaluated(&LATEST_TAG);
    if !allowed.is_empty() {
        sink.evaluated(&REGISTRY_NOT_ALLOWED);
    }
    for container in containers {
        let Some(reference) = container.image.filter(|image| !image.is_empty()) else {
            continue;
        };
        let field = Some(container.path.join("image"));
        let image = ImageName::parse(reference);
        let digest_problem = match image.digest.as_deref() {
            None => Some(container.message(&[" uses image ", reference, " without a digest"])),
            Some(digest) => invalid_digest(digest)
                .map(|reason| container.message(&[" uses image ", reference, " with ", &reason])),
        };
        if let Some(message) = digest_problem {
            sink.fail(
                &NOT_PINNED,
                object,
                Some(container.name),
                field.clone(),
                message,
            );
        }
        if image.digest.is_none() {
            let floating = match image.tag.as_deref() {
                None => Some("has no tag, which means latest"),
                Some("latest") => Some("uses the latest tag"),
                Some(_) => None,
            };
            if let Some(reason) = floating {
                sink.fail(
                    &LATEST_TAG,
                    object,
                    Some(container.name),
                    field.clone(),
                    container.message(&[" image ", reference, " ", reason]),
                );
            }
        }
        if !allowed.is_empty() && !allowed.iter().any(|prefix| image.is_under(prefix)) {
            sink.fail(
                &REGISTRY_NOT_ALLOWED,
                object,
                Some(container.name),
                field,
                format!(
                    "container {:?} image {reference} is from {}, which is not in the allowed registries",
                    container.name, image.registry
                ),
            );
        }
    }
}

/// Returns why `digest` does not pin an image, or `None` when it does.
///
/// The OCI image specification's descriptor grammar is
/// `algorithm ":" encoded`, with algorithm components `[a-z0-9]+` joined by
/// `[+._-]` and the encoded part `[a-zA-Z0-9=_-]+`. Its registered
/// algorithms fix the encoding: `sha256` is 64 and `sha512` is 128
/// lowercase hex digits. Other algorithms pass when they match the grammar,
/// as the specification recommends for implementations that do not
/// support them.
fn invalid_digest(digest: &str) -> Option<String> {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return Some(format!("digest {digest:?}, which has no algorithm"));
    };

    let component_ok = |component: &str| {
        !component.is_empty()
            && component
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(component_ok);
    let encoded_ok = !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'));
    if !algorithm_ok || !encoded_ok {
        return Some(format!("digest {digest:?}, which is not a valid digest"));
    }

    let hex_length = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return None,
    };
    let lowercase_hex = encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if encoded.len() != hex_length || !lowercase_hex {
        return Some(format!(
            "digest {digest:?}, which is not {hex_length} lowercase hex digits"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_parsed() {
        let short = ImageName::parse("nginx");
        assert_eq!(short.registry, "docker.io");
        assert_eq!(short.repository, "library/nginx");
        assert_eq!(short.tag, None);

        let port = ImageName::parse("registry.local:5000/team/app:1.2@sha256:abc");
        assert_eq!(port.registry, "registry.local:5000");
        assert_eq!(port.repository, "team/app");
        assert_eq!(port.tag.as_deref(), Some("1.2"));
        assert_eq!(port.digest.as_deref(), Some("sha256:abc"));

        let untagged_port = ImageName::parse("localhost:5000/app");
        assert_eq!(untagged_port.registry, "localhost:5000");
        assert_eq!(untagged_port.tag, None);
    }

    #[test]
    fn digests_validated() {
        let sha256 = format!("sha256:{}", "a".repeat(64));
        let sha512 = format!("sha512:{}", "0".repeat(128));
        assert_eq!(invalid_digest(&sha256), None);
        assert_eq!(invalid_digest(&sha512), None);
        assert_eq!(invalid_digest(&format!("blake3:{}", "a".repeat(64))), None);
        assert_eq!(invalid_digest("multihash+base58:QmRZxt2b1FVZPNqd8"), None);
        assert_eq!(invalid_digest("custom-algorithm:a"), None);

        assert!(invalid_digest("sha256:abc").is_some());
        assert!(invalid_digest(&format!("sha256:{}", "A".repeat(64))).is_some());
        assert!(invalid_digest(&format!("sha512:{}", "a".repeat(64))).is_some());
        assert!(invalid_digest("SHA256:abc").is_some());
        assert!(invalid_digest("sha256:").is_some());
        assert!(invalid_digest("abc").is_some());
        assert!(invalid_digest("sha256:a/b").is_some());
    }

    #[test]
    fn allow_list_matches_segments() {
        let image = ImageName::parse("registry.example.com/team/app:1");
        assert!(image.is_under("registry.example.com"));
        assert!(image.is_under("registry.example.com/team/"));
        assert!(!image.is_under("registry.example.com/te"));
        assert!(!image.is_under("registry.example"));
        let hub = ImageName::parse("nginx:1.27");
        assert!(hub.is_under("docker.io"));
        assert!(hub.is_under("index.docker.io/library"));
        assert!(hub.is_under("library/nginx"));
    }
}
