//! Image references as Docker and the OCI distribution tools read them:
//! `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`, with Docker Hub as the default
//! registry and `library/` as the default namespace there.

use std::fmt;

use crate::digest::Digest;

/// The registry that references without a host name.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// The API host of [`DEFAULT_REGISTRY`]; Docker clients send requests for
/// `docker.io` there.
const DEFAULT_REGISTRY_API: &str = "registry-1.docker.io";

/// Maximum repository path length the distribution specification allows.
const MAX_PATH_LENGTH: usize = 255;

/// Maximum tag length the distribution specification allows.
const MAX_TAG_LENGTH: usize = 128;

/// A parsed registry reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryReference {
    /// The registry as named (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// The repository path (`library/alpine`, `org/app`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl RegistryReference {
    /// Parses a reference. A reference with neither tag nor digest gets the
    /// tag `latest`, as Docker gives it.
    pub fn parse(text: &str) -> Result<RegistryReference, String> {
        if text.is_empty() {
            return Err("the reference is empty".to_owned());
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the reference contains white space or a control character".to_owned());
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                let digest = digest.parse::<Digest>()?;
                (name, Some(digest))
            }
            None => (text, None),
        };
        let last_slash = name_and_tag.rfind('/').map_or(0, |slash| slash + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                (
                    &name_and_tag[..colon],
                    Some(name_and_tag[colon + 1..].to_owned()),
                )
            }
            None => (name_and_tag, None),
        };
        if let Some(tag) = &tag {
            check_tag(tag)?;
        }

        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (first.to_owned(), rest.to_owned())
            }
            _ => (DEFAULT_REGISTRY.to_owned(), name.to_owned()),
        };
        let registry = if registry == "index.docker.io" {
            DEFAULT_REGISTRY.to_owned()
        } else {
            registry
        };
        check_registry(&registry)?;
        let repository = if registry == DEFAULT_REGISTRY && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        check_path(&repository)?;

        let tag = match (tag, &digest) {
            (None, None) => Some("latest".to_owned()),
            (tag, _) => tag,
        };
        Ok(RegistryReference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// Returns the host (and port) that serves the registry API.
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY {
            DEFAULT_REGISTRY_API
        } else {
            &self.registry
        }
    }

    /// Returns the reference to request from the manifests endpoint: the digest when there is
    /// one (it pins the content), else the tag.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// `REGISTRY/REPOSITORY`, the name without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl fmt::Display for RegistryReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn check_tag(tag: &str) -> Result<(), String> {
    let valid = !tag.is_empty()
        && tag.len() <= MAX_TAG_LENGTH
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid tag {tag:?}: a tag has 1 to {MAX_TAG_LENGTH} letters, digits, `_`, `.` or `-` and does not start with `.` or `-`"
        ))
    }
}

fn check_registry(registry: &str) -> Result<(), String> {
    let (host, port) = match registry.rsplit_once(':') {
        // An IPv6 address in brackets keeps its colons.
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (registry, None),
    };
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(format!("invalid port {port:?} in registry {registry:?}"));
    }
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    if valid_host {
        Ok(())
    } else {
        Err(format!("invalid registry host {host:?}"))
    }
}

/// Checks a repository path: lowercase components of letters and digits
/// joined by `.`, `_`, `__` or runs of `-`, separated by `/`.
fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > MAX_PATH_LENGTH {
        return Err(format!(
            "invalid repository {path:?}: the name must have 1 to {MAX_PATH_LENGTH} characters"
        ));
    }
    for component in path.split('/') {
        if !valid_component(component) {
            return Err(format!(
                "invalid repository {path:?}: component {component:?} must be lowercase letters and digits, separated by `.`, `_`, `__` or `-`"
            ));
        }
    }
    Ok(())
}

fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if bytes.is_empty()
        || !bytes[0].is_ascii_alphanumeric()
        || !bytes[bytes.len() - 1].is_ascii_alphanumeric()
    {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
            index += 1;
            continue;
        }
        // A separator: `.`, `_`, `__`, or a run of `-`.
        let start = index;
        match byte {
            b'.' => index += 1,
            b'_' => {
                index += 1;
                if bytes.get(index) == Some(&b'_') {
                    index += 1;
                }
            }
            b'-' => {
                while bytes.get(index) == Some(&b'-') {
                    index += 1;
                }
            }
            _ => return false,
        }
        if index == start || !bytes.get(index).is_some_and(u8::is_ascii_alphanumeric) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RegistryReference {
        RegistryReference::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn docker_hub_defaults() {
        let reference = parse("alpine");
        assert_eq!(reference.registry, "docker.io");
        assert_eq!(reference.repository, "library/alpine");
        assert_eq!(reference.tag.as_deref(), Some("latest"));
        assert_eq!(reference.api_host(), "registry-1.docker.io");
        assert_eq!(parse("alpine:3.20").tag.as_deref(), Some("3.20"));
        assert_eq!(parse("org/app:1").repository, "org/app");
        assert_eq!(parse("docker.io/alpine").repository, "library/alpine");
        assert_eq!(
            parse("index.docker.io/library/alpine").registry,
            "docker.io"
        );
    }

    #[test]
    fn hosts_ports_and_digests() {
        let reference = parse("127.0.0.1:5000/team/app:v1.2");
        assert_eq!(reference.registry, "127.0.0.1:5000");
        assert_eq!(reference.repository, "team/app");
        assert_eq!(reference.tag.as_deref(), Some("v1.2"));
        assert_eq!(parse("localhost/app").registry, "localhost");
        assert_eq!(parse("ghcr.io/org/app").registry, "ghcr.io");
        // Without a dot, colon or `localhost`, the first component is a namespace.
        assert_eq!(parse("team/app").registry, "docker.io");

        let digest = "sha256:6d576bbb6a58a9975515631b6750ad082c9a2479c4490e4e2b31bda4417c2a55";
        let pinned = parse(&format!("localhost:5000/app@{digest}"));
        assert_eq!(pinned.tag, None);
        assert_eq!(pinned.manifest_reference(), digest);
        let both = parse(&format!("localhost:5000/app:1.0@{digest}"));
        assert_eq!(both.tag.as_deref(), Some("1.0"));
        assert_eq!(both.manifest_reference(), digest);
        assert_eq!(both.to_string(), format!("localhost:5000/app:1.0@{digest}"));
    }

    #[test]
    fn invalid_references() {
        for text in [
            "",
            "Alpine",
            "alpine:",
            "alpine:-bad",
            "alpine@sha256:123",
            "org//app",
            "org/app-",
            "localhost:99999/app",
            "a b",
            "app/.hidden",
        ] {
            assert!(RegistryReference::parse(text).is_err(), "{text:?}");
        }
        assert!(RegistryReference::parse(&format!("{}:1", "a".repeat(256))).is_err());
        assert!(RegistryReference::parse("a__b/c--d/e.f_g").is_ok());
    }
}
