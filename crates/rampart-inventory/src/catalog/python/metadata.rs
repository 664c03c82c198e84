//! Core metadata (`METADATA`, `PKG-INFO`), PyPA "Core metadata
//! specifications" versions 1.0 to 2.4: RFC 822-style `Name: value` headers,
//! continuation lines that start with whitespace, then a blank line and the
//! description body, which is ignored.
//!
//! Traps:
//! - Old setuptools wrote the description as a `Description:` header whose
//!   continuation lines start with 8 spaces or `|`, so the headers can be
//!   thousands of lines long.
//! - `License:` sometimes contains the whole license text. A value spanning
//!   several lines is text, not a license name, and is dropped.
//! - `UNKNOWN` is what setuptools writes for a field the author left empty.

use super::super::lines;

/// Maximum header lines read before the parser stops. A real `PKG-INFO`
/// with the description in a header runs to a few thousand lines.
pub const MAX_HEADER_LINES: usize = 100_000;

/// Maximum length of a `License:` value still taken as a license name.
/// Longer single-line values are license text pasted into one line.
pub const MAX_LICENSE_NAME: usize = 200;

/// The fields rampart uses from a core metadata file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreMetadata {
    pub name: Option<String>,
    pub version: Option<String>,
    /// PEP 639 `License-Expression`.
    pub license_expression: Option<String>,
    /// `License:`, with continuation lines joined by `\n`.
    pub license: Option<String>,
    /// `Classifier:` values that start with `License ::`.
    pub license_classifiers: Vec<String>,
}

impl CoreMetadata {
    /// Returns the licenses: `License-Expression`, else a one-line `License` other
    /// than `UNKNOWN`, else the last component of each license classifier.
    pub fn licenses(&self) -> Vec<String> {
        if let Some(expression) = self.license_expression.as_deref().map(str::trim)
            && !expression.is_empty()
        {
            return vec![expression.to_owned()];
        }
        if let Some(license) = self.license.as_deref().map(str::trim)
            && is_license_name(license)
        {
            return vec![license.to_owned()];
        }
        let mut licenses: Vec<String> = Vec::new();
        for classifier in &self.license_classifiers {
            let last = classifier.rsplit("::").next().unwrap_or("").trim();
            if !last.is_empty() && last != "OSI Approved" && !licenses.iter().any(|l| l == last) {
                licenses.push(last.to_owned());
            }
        }
        licenses
    }
}

/// Returns whether a `License:` value names a license rather than quoting its text.
fn is_license_name(value: &str) -> bool {
    !value.is_empty()
        && !value.eq_ignore_ascii_case("UNKNOWN")
        && !value.contains('\n')
        && value.len() <= MAX_LICENSE_NAME
}

/// The field that a continuation line extends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    License,
    Other,
}

/// Parses the header block of a core metadata file. Lines that are neither a
/// header nor a continuation are skipped. The first blank line after a
/// header ends the block.
pub fn parse(content: &[u8]) -> CoreMetadata {
    let mut metadata = CoreMetadata::default();
    let mut current = Field::Other;
    let mut started = false;

    for line in lines(content).take(MAX_HEADER_LINES) {
        let line = String::from_utf8_lossy(line);
        if line.trim().is_empty() {
            if started {
                break;
            }
            continue;
        }

        if line.starts_with([' ', '\t']) {
            if current == Field::License
                && let Some(license) = metadata.license.as_mut()
            {
                license.push('\n');
                license.push_str(line.trim());
            }
            continue;
        }

        let Some((key, value)) = line.split_once(':') else {
            current = Field::Other;
            continue;
        };
        started = true;
        current = Field::Other;
        let value = value.trim().to_owned();
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => metadata.name = Some(value),
            "version" => metadata.version = Some(value),
            "license-expression" => metadata.license_expression = Some(value),
            "license" => {
                metadata.license = Some(value);
                current = Field::License;
            }
            "classifier" if value.starts_with("License ::") => {
                metadata.license_classifiers.push(value);
            }
            _ => {}
        }
    }
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_stop_at_body() {
        let text = b"Metadata-Version: 2.1\nName: Pygments\nVersion: 2.6.1\nLicense: BSD License\n\nName: not-a-header\n";
        let metadata = parse(text);
        assert_eq!(metadata.name.as_deref(), Some("Pygments"));
        assert_eq!(metadata.version.as_deref(), Some("2.6.1"));
        assert_eq!(metadata.licenses(), ["BSD License"]);
    }

    #[test]
    fn license_expression_wins() {
        let text = b"Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: MIT\nClassifier: License :: OSI Approved :: MIT License\n";
        assert_eq!(parse(text).licenses(), ["MIT OR Apache-2.0"]);
    }

    #[test]
    fn license_text_falls_back_to_classifiers() {
        let text = b"Name: a\nVersion: 1\nLicense: Copyright (c) 2020\n        Permission is hereby granted\nClassifier: License :: OSI Approved :: MIT License\nClassifier: Programming Language :: Python\n";
        let metadata = parse(text);
        assert!(metadata.license.as_deref().unwrap().contains('\n'));
        assert_eq!(metadata.licenses(), ["MIT License"]);
    }

    #[test]
    fn unknown_license_is_skipped() {
        let text = b"Name: a\nVersion: 1\nLicense: UNKNOWN\n";
        assert!(parse(text).licenses().is_empty());
    }

    #[test]
    fn crlf_and_leading_blank_lines() {
        let text = b"\r\n\r\nName: a\r\nVersion: 1.0\r\n\r\nbody";
        let metadata = parse(text);
        assert_eq!(metadata.name.as_deref(), Some("a"));
        assert_eq!(metadata.version.as_deref(), Some("1.0"));
    }
}
