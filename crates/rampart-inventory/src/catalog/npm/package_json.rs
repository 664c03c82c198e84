//! The `package.json` manifest of an installed package (npm's
//! `package.json` documentation). Only `name`, `version` and the license
//! fields are read.

use super::{NpmRecord, is_valid_name, read_licenses};
use crate::catalog::is_printable_token;

/// Parses an installed package's manifest. Returns `Ok(None)` for a
/// manifest without a usable name or version, which is no package (a
/// sub-folder stub or a test fixture), and an error for invalid JSON.
pub fn parse_manifest(content: &[u8]) -> Result<Option<NpmRecord>, String> {
    let manifest: serde_json::Value = serde_json::from_slice(content)
        .map_err(|error| format!("invalid package.json: {error}"))?;
    let name = manifest.get("name").and_then(serde_json::Value::as_str);
    let version = manifest.get("version").and_then(serde_json::Value::as_str);
    let (Some(name), Some(version)) = (name, version) else {
        return Ok(None);
    };
    let (name, version) = (name.trim(), version.trim());
    if !is_valid_name(name) || !is_printable_token(version) {
        return Ok(None);
    }
    Ok(Some(NpmRecord {
        name: name.to_owned(),
        version: version.to_owned(),
        licenses: read_licenses(&manifest),
        local_source: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_named_twice_once() {
        let record = parse_manifest(
            br#"{"name": "utils-merge", "version": "1.0.1", "license": "MIT", "licenses": [{"type": "MIT"}]}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(record.licenses, ["MIT"]);
    }

    #[test]
    fn manifest_with_legacy_licenses() {
        let record = parse_manifest(
            br#"{"name": "cowsay", "version": "1.4.0", "licenses": [{"type": "MIT"}]}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(record.name, "cowsay");
        assert_eq!(record.version, "1.4.0");
        assert_eq!(record.licenses, ["MIT"]);
    }

    #[test]
    fn alias_folder_reports_real_name() {
        // Installed as node_modules/string-width-cjs; the manifest names the real package.
        let record = parse_manifest(br#"{"name": "string-width", "version": "4.2.3"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(record.name, "string-width");
    }

    #[test]
    fn stub_without_version_is_no_package() {
        assert_eq!(parse_manifest(br#"{"name": "lodash/fp"}"#).unwrap(), None);
        assert_eq!(parse_manifest(br#"{"version": "1.0.0"}"#).unwrap(), None);
        assert_eq!(
            parse_manifest(br#"{"name": "a b", "version": "1.0.0"}"#).unwrap(),
            None
        );
        assert_eq!(parse_manifest(br#"[1, 2]"#).unwrap(), None);
    }

    #[test]
    fn invalid_json_is_an_error() {
        let error = parse_manifest(b"{\"name\": ").unwrap_err();
        assert!(error.contains("invalid package.json"), "{error}");
    }
}
