//! Package URLs (package-url spec, `PURL-SPECIFICATION.rst`): percent-encoding
//! of each component and qualifiers sorted by key.
//!
//! Encoding follows what Syft and packageurl-go emit so rampart's purls compare
//! equal to theirs: every byte outside `A-Z a-z 0-9 . - _ ~` is encoded, except
//! `:` in the version and in qualifier values (an epoch such as `1:2.38.1-5`),
//! which the spec allows.

/// The parts of a parsed purl, with percent-escapes decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurlParts {
    /// The type, lowercased (`deb`, `pypi`).
    pub purl_type: String,
    /// The namespace segments joined with `/` (`debian`, `@babel`, an npm scope).
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// Qualifiers in document order, keys lowercased.
    pub qualifiers: Vec<(String, String)>,
}

impl PurlParts {
    /// Returns the value of a qualifier.
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// Parses `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH`. The version
/// starts at the last `@` after the final `/`, since an `@` in an npm scope
/// is percent-encoded. Returns `None` when the text is not a purl.
pub fn parse(purl: &str) -> Option<PurlParts> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (path, version) = match rest.rsplit_once('@') {
        Some((path, version)) if !version.contains('/') => (path, Some(decode(version))),
        _ => (rest, None),
    };
    let mut segments = path.trim_matches('/').split('/');
    let purl_type = segments.next()?.to_ascii_lowercase();
    let segments: Vec<String> = segments.map(decode).collect();
    let (name, namespace) = segments.split_last()?;
    if purl_type.is_empty() || name.is_empty() {
        return None;
    }
    let qualifiers = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_ascii_lowercase(), decode(value)))
        .collect();
    Some(PurlParts {
        purl_type,
        namespace: (!namespace.is_empty()).then(|| namespace.join("/")),
        name: name.clone(),
        version,
        qualifiers,
    })
}

/// Decodes the percent-escapes of one purl component; a `%` not followed by
/// two hex digits stays as it is.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[index + 1..index + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

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
    fn parse_round_trips_build() {
        let purl = build(
            "deb",
            Some("debian"),
            "zlib1g",
            "1:1.2.13.dfsg-1",
            &[("arch", Some("amd64")), ("upstream", Some("zlib"))],
        );
        let parts = parse(&purl).unwrap();
        assert_eq!(parts.purl_type, "deb");
        assert_eq!(parts.namespace.as_deref(), Some("debian"));
        assert_eq!(parts.name, "zlib1g");
        assert_eq!(parts.version.as_deref(), Some("1:1.2.13.dfsg-1"));
        assert_eq!(parts.qualifier("upstream"), Some("zlib"));
    }

    #[test]
    fn parse_npm_scope() {
        let parts = parse("pkg:npm/%40babel/core@7.0.0").unwrap();
        assert_eq!(parts.namespace.as_deref(), Some("@babel"));
        assert_eq!(parts.name, "core");
    }

    #[test]
    fn decode_keeps_stray_percent() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("a%2Bb"), "a+b");
    }

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
