//! SBOM documents for one image inventory: CycloneDX 1.6 JSON, SPDX 2.3 JSON
//! and rampart's own JSON, with the helpers that they share.

pub mod cyclonedx;
pub mod json;
pub mod spdx;

use std::cmp::Ordering;

use rampart_inventory::purl::encode;
use rampart_inventory::{Inventory, Package, PackageType, SourceInfo};
use sha2::{Digest, Sha256};

/// Sorts the packages of `inventory` in a total order that does not depend on the
/// input order: the inventory sort key, then purl, locations and the
/// remaining fields.
pub(crate) fn sorted_packages(inventory: &Inventory) -> Vec<&Package> {
    let mut packages: Vec<&Package> = inventory.packages.iter().collect();
    packages.sort_by(|a, b| compare_packages(a, b));
    packages
}

pub(crate) fn compare_packages(a: &Package, b: &Package) -> Ordering {
    a.sort_key()
        .cmp(&b.sort_key())
        .then_with(|| a.purl.cmp(&b.purl))
        .then_with(|| a.locations.cmp(&b.locations))
        // Only exact duplicates in the fields above reach this, so the cost
        // of serializing is rare.
        .then_with(|| {
            serde_json::to_string(a)
                .ok()
                .cmp(&serde_json::to_string(b).ok())
        })
}

/// 16 hex digits that identify a package within one image: the SHA-256 of
/// its purl and location paths. Layer digests are left out, so rebuilding the
/// layers below a package does not change it.
pub(crate) fn package_id(package: &Package) -> String {
    let mut hasher = Sha256::new();
    hasher.update((package.purl.len() as u64).to_le_bytes());
    hasher.update(package.purl.as_bytes());
    for location in &package.locations {
        hasher.update((location.path.len() as u64).to_le_bytes());
        hasher.update(location.path.as_bytes());
    }
    hex::encode(&hasher.finalize()[..8])
}

/// A person or organization from a package's maintainer field, in the
/// `Name <address>` form that apk, dpkg and rpm use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Contact {
    pub name: String,
    pub email: Option<String>,
    /// An address in angle brackets that is a URL, as in rpm's
    /// `Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>`.
    pub url: Option<String>,
}

impl Contact {
    /// Splits `Name <address>`. Returns `None` for blank text. Text without
    /// brackets is all name.
    pub(crate) fn parse(text: &str) -> Option<Contact> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }

        let bracketed = text
            .strip_suffix('>')
            .and_then(|rest| rest.rsplit_once('<'))
            .map(|(name, address)| (name.trim(), address.trim()));
        let Some((name, address)) = bracketed else {
            return Some(Contact {
                name: text.to_owned(),
                email: None,
                url: None,
            });
        };

        let name = if name.is_empty() { address } else { name };
        let is_url = address.contains("://") && !address.contains(char::is_whitespace);
        let is_email = !is_url && looks_like_email(address);
        Some(Contact {
            name: name.to_owned(),
            email: is_email.then(|| address.to_owned()),
            url: is_url.then(|| address.to_owned()),
        })
    }
}

/// Checks roughly for an RFC 5322 `addr-spec`: one `@` with text on both sides and
/// no whitespace or bracket characters. An address that fails stays in the
/// raw maintainer text but is not written where a schema expects an email.
fn looks_like_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let forbidden = |c: char| c.is_whitespace() || "<>()[],;\"".contains(c);
    !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !address.contains(forbidden)
}

/// Returns how SBOMs name the kind of file a package was read from.
pub(crate) fn database_name(package_type: PackageType) -> &'static str {
    match package_type {
        PackageType::Apk => "apk database",
        PackageType::Deb => "dpkg database",
        PackageType::Rpm => "rpm database",
        PackageType::Python => "Python package metadata",
        PackageType::Npm => "npm package manifest",
        PackageType::Go => "Go module information",
        PackageType::Rust => "Rust dependency information",
        PackageType::Java => "Java archive",
        PackageType::Ruby => "Ruby gem specification",
        PackageType::Php => "Composer package list",
        PackageType::DotNet => ".NET dependency file",
    }
}

/// Returns the hex part of a digest, cut to 12 characters as container tools show it.
pub(crate) fn short_digest(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, hex)| hex);
    hex.get(..12).unwrap_or(hex)
}

/// Returns whether the source is a container image, as opposed to a directory or a
/// root filesystem tarball.
pub(crate) fn is_image(source: &SourceInfo) -> bool {
    !matches!(source.kind.as_str(), "dir" | "rootfs")
}

/// The version that SBOMs give the image: the manifest digest (as Syft does),
/// else the image ID, which a docker archive has alone.
pub(crate) fn image_version(source: &SourceInfo) -> Option<&str> {
    source
        .manifest_digest
        .as_deref()
        .or(source.image_id.as_deref())
}

/// Builds the package URL of the image under the purl `oci` type:
/// `pkg:oci/NAME@sha256%3AHEX?arch=…&repository_url=…&tag=…`.
///
/// The version must be the manifest digest, so a source without one (a docker
/// archive) gets no purl. NAME is the last path segment of the repository,
/// taken from the first tag that names a repository.
// NOTE: an OCI layout whose `org.opencontainers.image.ref.name` is a bare tag
// such as `3.20` names no repository, so such an image gets no purl.
pub(crate) fn oci_purl(source: &SourceInfo) -> Option<String> {
    let digest = source.manifest_digest.as_deref()?;
    let (repository, tag) = source.tags.iter().find_map(|tag| split_repository(tag))?;
    let name = repository
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())?
        .to_ascii_lowercase();

    // The purl spec wants the registry host in `repository_url`. A short
    // docker name such as `alpine` has none, and writing docker.io would add
    // a fact that the image does not contain.
    let first_segment = repository.split('/').next().unwrap_or("");
    let has_registry = repository.contains('/')
        && (first_segment.contains('.')
            || first_segment.contains(':')
            || first_segment == "localhost");

    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if let Some(arch) = source.architecture.as_deref().filter(|a| !a.is_empty()) {
        qualifiers.push(("arch", encode(arch, b"")));
    }
    if has_registry {
        qualifiers.push(("repository_url", encode(repository, b"/:")));
    }
    if let Some(tag) = tag {
        qualifiers.push(("tag", encode(tag, b"")));
    }

    let mut purl = format!("pkg:oci/{}@{}", encode(&name, b""), encode(digest, b""));
    for (index, (key, value)) in qualifiers.iter().enumerate() {
        purl.push(if index == 0 { '?' } else { '&' });
        purl.push_str(key);
        purl.push('=');
        purl.push_str(value);
    }
    Some(purl)
}

/// Splits `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]` into repository and tag.
/// Returns `None` for a bare tag, which OCI layouts store without a repository.
fn split_repository(reference: &str) -> Option<(&str, Option<&str>)> {
    let reference = reference.split('@').next().unwrap_or(reference);
    let last_slash = reference.rfind('/');
    let tag_colon = reference
        .rfind(':')
        .filter(|colon| last_slash.is_none_or(|slash| *colon > slash));
    match tag_colon {
        Some(colon) => {
            let repository = &reference[..colon];
            let tag = &reference[colon + 1..];
            (!repository.is_empty()).then_some((repository, (!tag.is_empty()).then_some(tag)))
        }
        None if last_slash.is_some() => Some((reference, None)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(tags: &[&str], manifest_digest: Option<&str>) -> SourceInfo {
        SourceInfo {
            reference: "oci-dir:/images/x".to_owned(),
            kind: "oci-dir".to_owned(),
            name: tags.first().copied().unwrap_or("x").to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            manifest_digest: manifest_digest.map(str::to_owned),
            architecture: Some("amd64".to_owned()),
            ..SourceInfo::default()
        }
    }

    #[test]
    fn contact_with_email() {
        let contact = Contact::parse("Natanael Copa <ncopa@alpinelinux.org>");
        assert_eq!(
            contact,
            Some(Contact {
                name: "Natanael Copa".to_owned(),
                email: Some("ncopa@alpinelinux.org".to_owned()),
                url: None
            })
        );
    }

    #[test]
    fn contact_with_url() {
        let contact = Contact::parse("Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>");
        assert_eq!(
            contact,
            Some(Contact {
                name: "Red Hat, Inc.".to_owned(),
                email: None,
                url: Some("http://bugzilla.redhat.com/bugzilla".to_owned())
            })
        );
    }

    #[test]
    fn contact_plain_and_blank() {
        assert_eq!(Contact::parse("  "), None);
        assert_eq!(
            Contact::parse("Debian QA Group"),
            Some(Contact {
                name: "Debian QA Group".to_owned(),
                email: None,
                url: None
            })
        );
        let broken = Contact::parse("Jane Doe <jane@>");
        assert_eq!(
            broken.map(|c| (c.name, c.email)),
            Some(("Jane Doe".to_owned(), None))
        );
        let only_address = Contact::parse("<qa@debian.org>");
        assert_eq!(
            only_address.map(|c| c.name),
            Some("qa@debian.org".to_owned())
        );
    }

    #[test]
    fn oci_purl_full_reference() {
        let purl = oci_purl(&source(
            &["docker.io/library/alpine:3.20"],
            Some("sha256:abc"),
        ));
        assert_eq!(
            purl.as_deref(),
            Some(
                "pkg:oci/alpine@sha256%3Aabc?arch=amd64&repository_url=docker.io/library/alpine&tag=3.20"
            )
        );
    }

    #[test]
    fn oci_purl_registry_port() {
        let purl = oci_purl(&source(
            &["localhost:5000/team/app:1.0"],
            Some("sha256:abc"),
        ));
        assert_eq!(
            purl.as_deref(),
            Some(
                "pkg:oci/app@sha256%3Aabc?arch=amd64&repository_url=localhost:5000/team/app&tag=1.0"
            )
        );
    }

    #[test]
    fn oci_purl_short_name() {
        let purl = oci_purl(&source(&["alpine:3.20"], Some("sha256:abc")));
        assert_eq!(
            purl.as_deref(),
            Some("pkg:oci/alpine@sha256%3Aabc?arch=amd64&tag=3.20")
        );
    }

    #[test]
    fn oci_purl_needs_digest_and_repository() {
        assert_eq!(oci_purl(&source(&["alpine:3.20"], None)), None);
        assert_eq!(oci_purl(&source(&["3.20"], Some("sha256:abc"))), None);
        assert_eq!(oci_purl(&source(&[], Some("sha256:abc"))), None);
    }

    #[test]
    fn short_digest_cuts_hex() {
        assert_eq!(short_digest("sha256:1bccf10afce5c1ffe313"), "1bccf10afce5");
        assert_eq!(short_digest("abc"), "abc");
    }
}
