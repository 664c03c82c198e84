//! `META-INF/maven/GROUP/ARTIFACT/pom.properties`, which Maven Archiver
//! writes into every jar it builds. The format is `java.util.Properties`
//! text (Java SE 21, `Properties.load(Reader)`).
//!
//! Traps:
//! - The key ends at the first unescaped `=`, `:` or whitespace, and one
//!   `=` or `:` after it is the separator, so `version:   0.1.0=x` has the
//!   value `0.1.0=x` and `artifactId= a:b` has the value `a:b`.
//! - `#` and `!` start a comment only as the first non-blank character.
//! - A line ending in an odd number of backslashes continues on the next
//!   line, whose leading whitespace is dropped.
//! - Escapes: `\t \n \r \f`, `\uXXXX`, and a backslash before any other
//!   character stands for that character.
//! - Maven never writes trailing whitespace, so values are trimmed; Java
//!   itself would keep it.

use std::collections::BTreeMap;

/// The Maven coordinates of one `pom.properties`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PomProperties {
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
    /// Every other key, e.g. `name`.
    pub extra: BTreeMap<String, String>,
}

/// Parses a properties file. Every input is accepted, and missing keys stay empty. The
/// content is read as UTF-8 when valid, else as ISO-8859-1 (the encoding
/// `Properties.load(InputStream)` assumes).
pub fn parse(content: &[u8]) -> PomProperties {
    let text = match std::str::from_utf8(content) {
        Ok(text) => text.to_owned(),
        Err(_) => content.iter().map(|&b| char::from(b)).collect(),
    };
    let mut properties = PomProperties::default();
    for (key, value) in entries(&text) {
        match key.as_str() {
            "groupId" => properties.group_id = value,
            "artifactId" => properties.artifact_id = value,
            "version" => properties.version = value,
            _ => {
                properties.extra.insert(key, value);
            }
        }
    }
    properties
}

/// Returns the (key, value) pairs in file order.
fn entries(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut logical = String::new();
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        let line = line.trim_start_matches([' ', '\t', '\u{c}']);
        if logical.is_empty() && (line.is_empty() || line.starts_with(['#', '!'])) {
            continue;
        }
        let trailing_backslashes = line.bytes().rev().take_while(|&b| b == b'\\').count();
        if trailing_backslashes % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        pairs.push(split_entry(&logical));
        logical.clear();
    }
    if !logical.is_empty() {
        pairs.push(split_entry(&logical));
    }
    pairs
}

/// Splits one logical line into its unescaped key and value.
fn split_entry(line: &str) -> (String, String) {
    let mut chars = line.chars().peekable();
    let mut raw_key = String::new();
    while let Some(&c) = chars.peek() {
        if c == '\\' {
            raw_key.push(c);
            chars.next();
            if let Some(escaped) = chars.next() {
                raw_key.push(escaped);
            }
            continue;
        }
        if c == '=' || c == ':' || c.is_whitespace() {
            break;
        }
        raw_key.push(c);
        chars.next();
    }

    while chars
        .peek()
        .is_some_and(|c| *c == ' ' || *c == '\t' || *c == '\u{c}')
    {
        chars.next();
    }
    if chars.peek().is_some_and(|c| *c == '=' || *c == ':') {
        chars.next();
    }
    let raw_value: String = chars.collect();
    (
        unescape(&raw_key),
        unescape(raw_value.trim_start()).trim_end().to_owned(),
    )
}

/// Resolves the escapes of `java.util.Properties`. A malformed `\u` escape
/// keeps its text, where Java would throw.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) if hex.len() == 4 => {
                        out.push(decoded);
                        chars.nth(3);
                    }
                    _ => out.push_str("\\u"),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse;

    /// Syft's `pom/*.pom.properties` fixtures with the values its
    /// `parse_pom_properties_test.go` expects.
    const SYFT_CASES: &[(&str, &[u8], &str, &str)] = &[
        (
            "small",
            include_bytes!("../../../tests/fixtures/java/syft/pom/small.pom.properties"),
            "example-java-app-maven",
            "0.1.0",
        ),
        (
            "extra",
            include_bytes!("../../../tests/fixtures/java/syft/pom/extra.pom.properties"),
            "example-java-app-maven",
            "0.1.0",
        ),
        (
            "colon-delimited",
            include_bytes!("../../../tests/fixtures/java/syft/pom/colon-delimited.pom.properties"),
            "example-java-app-maven",
            "0.1.0",
        ),
        (
            "equals-delimited-with-colons",
            include_bytes!(
                "../../../tests/fixtures/java/syft/pom/equals-delimited-with-colons.pom.properties"
            ),
            "example-java:app-maven",
            "0.1.0:something",
        ),
        (
            "colon-delimited-with-equals",
            include_bytes!(
                "../../../tests/fixtures/java/syft/pom/colon-delimited-with-equals.pom.properties"
            ),
            "example-java=app-maven",
            "0.1.0=something",
        ),
    ];

    #[test]
    fn pom_properties_syft_fixtures() {
        for (label, content, artifact, version) in SYFT_CASES {
            let parsed = parse(content);
            assert_eq!(parsed.group_id, "org.anchore", "{label}");
            assert_eq!(parsed.artifact_id, *artifact, "{label}");
            assert_eq!(parsed.version, *version, "{label}");
        }
        let extra = parse(SYFT_CASES[1].1);
        assert_eq!(
            extra.extra.get("name").map(String::as_str),
            Some("something-here")
        );
        assert_eq!(extra.extra.get("sweet").map(String::as_str), Some("work"));
        assert_eq!(extra.extra.len(), 3);
    }

    #[test]
    fn pom_properties_escapes_and_continuations() {
        let parsed = parse(
            b"! comment\r\n  # also a comment\r\ngroup\\u0049d = org.\\\r\n    example\r\nartifactId\tlib\\:core\nversion:1.0\\\\\n",
        );
        assert_eq!(parsed.group_id, "org.example");
        assert_eq!(parsed.artifact_id, "lib:core");
        assert_eq!(parsed.version, "1.0\\");
    }

    #[test]
    fn pom_properties_malformed_escape_kept() {
        let parsed = parse(b"version=1\\u00\nartifactId=a\\");
        assert_eq!(parsed.version, "1\\u00");
        assert_eq!(parsed.artifact_id, "a");
    }
}
