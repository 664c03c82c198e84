//! Package URLs (package-url spec, `PURL-SPECIFICATION.rst`): percent-encoding
//! of each component and qualifiers sorted by key.
//!
//! Encoding follows what Syft and packageurl-go emit so rampart's purls compare
//! equal to theirs: every byte outside `A-Z a-z 0-9 . - _ ~` is encoded, except
//! `:` in the version and in qualifier values (an epoch such as `1:2.38.1-5`),
//! which the spec allows.

/// Percent-encodes one purl component. `keep` lists extra characters left as is.
pub fn encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) || keep.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Builds `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS`. Qualifiers with empty
/// values are dropped; the rest are sorted by key.
pub fn build(
    purl_type: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, Option<&str>)],
) -> String {
    let mut purl = format!("pkg:{purl_type}/");
    if let Some(namespace) = namespace.filter(|n| !n.is_empty()) {
        let segments: Vec<String> = namespace.split('/').map(|s| encode(s, &[])).collect();
        purl.push_str(&segments.join("/"));
        purl.push('/');
    }
    purl.push_str(&encode(name, &[]));
    if !version.is_empty() {
        purl.push('@');
        purl.push_str(&encode(version, b":"));
    }

    let mut pairs: Vec<(&str, &str)> = qualifiers
        .iter()
        .filter_map(|(key, value)| value.filter(|v| !v.is_empty()).map(|v| (*key, v)))
        .collect();
    pairs.sort();
    for (index, (key, value)) in pairs.iter().enumerate() {
        purl.push(if index == 0 { '?' } else { '&' });
        purl.push_str(key);
        purl.push('=');
        purl.push_str(&encode(value, b":"));
    }
    purl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_purl_like_syft() {
        let purl = build(
            "deb",
            Some("debian"),
            "bsdutils",
            "1:2.38.1-5+deb12u3",
            &[
                ("arch", Some("amd64")),
                ("distro", Some("debian-12")),
                ("upstream", Some("util-linux@2.38.1-5+deb12u3")),
            ],
        );
        assert_eq!(
            purl,
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3"
        );
    }

    #[test]
    fn empty_qualifiers_dropped() {
        assert_eq!(
            build("apk", Some("alpine"), "musl", "1.2.5-r0", &[("arch", None)]),
            "pkg:apk/alpine/musl@1.2.5-r0"
        );
    }
}
