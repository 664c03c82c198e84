//! Language packages are matched in their OSV ecosystem, which follows from
//! the package's purl type (purl specification, `PURL-TYPES.rst`).

use rampart_advisory::Namespace;
pub use rampart_inventory::purl::{PurlParts, parse as parse_purl};

/// purl types and the OSV ecosystems that publish their advisories.
const ECOSYSTEMS: [(&str, &str); 9] = [
    ("pypi", "PyPI"),
    ("npm", "npm"),
    ("golang", "Go"),
    ("cargo", "crates.io"),
    ("maven", "Maven"),
    ("gem", "RubyGems"),
    ("composer", "Packagist"),
    ("nuget", "NuGet"),
    ("hex", "Hex"),
];

/// Returns the namespace and the advisory package name of a language
/// package's purl: `pkg:npm/%40babel/core` → (`npm`, `@babel/core`),
/// `pkg:maven/org.x/lib` → (`maven`, `org.x:lib`), `pkg:golang/github.com/a/b`
/// → (`go`, `github.com/a/b`). Returns `None` for OS purls and unknown types.
pub fn namespace_for_purl(purl: &PurlParts) -> Option<(Namespace, String)> {
    let (_, ecosystem) = ECOSYSTEMS
        .iter()
        .find(|(purl_type, _)| *purl_type == purl.purl_type)?;
    let namespace = Namespace::ecosystem(ecosystem);
    let name = match (purl.purl_type.as_str(), &purl.namespace) {
        ("maven", Some(group)) => format!("{group}:{}", purl.name),
        (_, Some(prefix)) => format!("{prefix}/{}", purl.name),
        (_, None) => purl.name.clone(),
    };
    let name = namespace.normalize_package(&name);
    Some((namespace, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(purl: &str) -> (String, String) {
        let parts = parse_purl(purl).unwrap();
        let (namespace, name) = namespace_for_purl(&parts).unwrap();
        (namespace.to_string(), name)
    }

    #[test]
    fn ecosystems_from_purls() {
        assert_eq!(
            key("pkg:pypi/Jinja2@2.10"),
            ("pypi".into(), "jinja2".into())
        );
        assert_eq!(
            key("pkg:npm/%40babel/core@7.0.0"),
            ("npm".into(), "@babel/core".into())
        );
        assert_eq!(
            key("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
            ("maven".into(), "org.apache.logging.log4j:log4j-core".into())
        );
        assert_eq!(
            key("pkg:golang/github.com/docker/cli@v20.10.0"),
            ("go".into(), "github.com/docker/cli".into())
        );
        assert_eq!(
            key("pkg:cargo/smallvec@1.6.0"),
            ("crates.io".into(), "smallvec".into())
        );
    }

    #[test]
    fn versions_decoded() {
        let parts = parse_purl("pkg:deb/debian/zlib1g@1%3A1.2.13?arch=amd64").unwrap();
        assert_eq!(parts.version.as_deref(), Some("1:1.2.13"));
        assert_eq!(parts.namespace.as_deref(), Some("debian"));
    }

    #[test]
    fn os_purls_have_no_ecosystem() {
        let parts = parse_purl("pkg:deb/debian/bash@5.2").unwrap();
        assert!(namespace_for_purl(&parts).is_none());
    }

    #[test]
    fn not_a_purl() {
        assert!(parse_purl("bash@5.2").is_none());
        assert!(parse_purl("pkg:").is_none());
    }
}
