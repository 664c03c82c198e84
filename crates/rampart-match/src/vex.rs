//! VEX input: OpenVEX (0.2.0, and the 0.0.x shape with string products) and
//! CycloneDX VEX (`vulnerabilities[].analysis` with `affects`).
//!
//! A statement suppresses a finding when it names the finding's
//! vulnerability (by id or alias), has a status that says the product is not
//! affected (OpenVEX `not_affected` or `fixed`; CycloneDX `not_affected`,
//! `false_positive`, `resolved` or `resolved_with_pedigree`), and names the
//! package:
//! - directly as a product, or
//! - as a subcomponent of a product that is the scanned image. A
//!   subcomponent statement never applies to the same package in another
//!   image.
//!
//! purl comparison: type, namespace and name must be equal; a version in the
//! statement must equal the package's (a statement without one covers every
//! version); each qualifier in the statement must be present with the same
//! value (a statement without qualifiers covers `arch=…`/`distro=…` variants).
//! Statements are applied in document order, sorted by timestamp, so a later
//! `affected` statement overrides an earlier `not_affected` one.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::finding::{Finding, Suppression, SuppressionKind};
use crate::language::parse_purl;

/// One VEX statement, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VexStatement {
    pub vulnerability: String,
    pub products: Vec<VexProduct>,
    /// True when the statement's status means the product is not affected.
    pub suppresses: bool,
    /// The status as the document spells it.
    pub status: String,
    pub justification: Option<String>,
    pub timestamp: Option<String>,
    pub file: PathBuf,
}

/// A product of a statement and its subcomponents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VexProduct {
    pub purl: String,
    pub subcomponents: Vec<String>,
}

/// An unreadable VEX document.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the VEX document {path}: {reason}")]
pub struct VexError {
    pub path: PathBuf,
    pub reason: String,
}

/// Reads an OpenVEX or CycloneDX VEX document.
pub fn load(path: &Path) -> Result<Vec<VexStatement>, VexError> {
    let error = |reason: String| VexError {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let document: Value =
        serde_json::from_str(&text).map_err(|e| error(format!("invalid JSON: {e}")))?;
    let context = document
        .get("@context")
        .and_then(Value::as_str)
        .unwrap_or("");
    if context.contains("openvex") {
        Ok(openvex(&document, path))
    } else if document.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        Ok(cyclonedx(&document, path))
    } else {
        Err(error(
            "neither OpenVEX (an @context naming openvex) nor CycloneDX (bomFormat CycloneDX)"
                .to_owned(),
        ))
    }
}

fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(object) => object
            .get("@id")
            .or_else(|| object.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
}

fn openvex(document: &Value, path: &Path) -> Vec<VexStatement> {
    let document_time = document.get("timestamp").and_then(Value::as_str);
    let mut statements = Vec::new();
    let empty = Vec::new();
    for statement in document
        .get("statements")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
    {
        let Some(vulnerability) = statement.get("vulnerability").and_then(id_of) else {
            continue;
        };
        let status = statement
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        // OpenVEX 0.0.x put subcomponents beside the products; 0.2.0 nests them.
        let shared_subcomponents: Vec<String> = statement
            .get("subcomponents")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(id_of).collect())
            .unwrap_or_default();
        let products = statement
            .get("products")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|product| {
                        let purl = id_of(product)?;
                        let mut subcomponents: Vec<String> = product
                            .get("subcomponents")
                            .and_then(Value::as_array)
                            .map(|list| list.iter().filter_map(id_of).collect())
                            .unwrap_or_default();
                        subcomponents.extend(shared_subcomponents.iter().cloned());
                        Some(VexProduct {
                            purl,
                            subcomponents,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        statements.push(VexStatement {
            vulnerability,
            products,
            suppresses: matches!(status.as_str(), "not_affected" | "fixed"),
            status,
            justification: statement
                .get("justification")
                .and_then(Value::as_str)
                .map(str::to_owned),
            timestamp: statement
                .get("timestamp")
                .and_then(Value::as_str)
                .or(document_time)
                .map(str::to_owned),
            file: path.to_owned(),
        });
    }
    statements.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    statements
}

fn cyclonedx(document: &Value, path: &Path) -> Vec<VexStatement> {
    let empty = Vec::new();
    // `affects[].ref` names a bom-ref; map it to the component's purl.
    let mut refs = std::collections::HashMap::new();
    let mut stack: Vec<&Value> = document
        .get("components")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .collect();
    if let Some(component) = document.pointer("/metadata/component") {
        stack.push(component);
    }
    while let Some(component) = stack.pop() {
        if let (Some(reference), Some(purl)) = (
            component.get("bom-ref").and_then(Value::as_str),
            component.get("purl").and_then(Value::as_str),
        ) {
            refs.insert(reference.to_owned(), purl.to_owned());
        }
        if let Some(children) = component.get("components").and_then(Value::as_array) {
            stack.extend(children);
        }
    }

    let mut statements = Vec::new();
    for vulnerability in document
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
    {
        let Some(id) = vulnerability.get("id").and_then(Value::as_str) else {
            continue;
        };
        let state = vulnerability
            .pointer("/analysis/state")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let products = vulnerability
            .get("affects")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
            .iter()
            .filter_map(|affect| affect.get("ref").and_then(Value::as_str))
            .map(|reference| VexProduct {
                purl: refs
                    .get(reference)
                    .cloned()
                    .unwrap_or_else(|| reference.to_owned()),
                subcomponents: Vec::new(),
            })
            .collect();
        statements.push(VexStatement {
            vulnerability: id.to_owned(),
            products,
            suppresses: matches!(
                state.as_str(),
                "not_affected" | "false_positive" | "resolved" | "resolved_with_pedigree"
            ),
            status: state,
            justification: vulnerability
                .pointer("/analysis/justification")
                .and_then(Value::as_str)
                .map(str::to_owned),
            timestamp: vulnerability
                .get("updated")
                .or_else(|| vulnerability.get("published"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            file: path.to_owned(),
        });
    }
    statements.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    statements
}

/// Returns whether a statement's purl covers a package's purl.
pub fn purl_covers(statement_purl: &str, package_purl: &str) -> bool {
    let (Some(rule), Some(target)) = (parse_purl(statement_purl), parse_purl(package_purl)) else {
        return statement_purl == package_purl;
    };
    if rule.purl_type != target.purl_type
        || rule.name != target.name
        || rule.namespace != target.namespace
    {
        return false;
    }
    if let Some(version) = &rule.version
        && target.version.as_ref() != Some(version)
    {
        return false;
    }
    let wanted = &rule.qualifiers;
    let present = &target.qualifiers;
    wanted.iter().all(|pair| present.contains(pair))
}

/// Applies statements to findings. `image_purl` is the scanned image's purl
/// (`pkg:oci/NAME@DIGEST?repository_url=…`), when it has one.
pub fn apply(statements: &[VexStatement], findings: &mut [Finding], image_purl: Option<&str>) {
    for finding in findings.iter_mut() {
        let mut decision: Option<&VexStatement> = None;
        for statement in statements {
            let names_vulnerability = statement.vulnerability == finding.id
                || finding.aliases.contains(&statement.vulnerability);
            if names_vulnerability && covers_package(statement, &finding.package.purl, image_purl) {
                decision = Some(statement);
            }
        }
        let Some(statement) = decision else {
            continue;
        };
        if statement.suppresses && finding.suppressed.is_none() {
            finding.suppressed = Some(Suppression {
                kind: SuppressionKind::Vex,
                reason: format!(
                    "VEX {}{}",
                    statement.status,
                    statement
                        .justification
                        .as_deref()
                        .map(|j| format!(": {j}"))
                        .unwrap_or_default()
                ),
                file: Some(statement.file.display().to_string()),
                vex_status: Some(statement.status.clone()),
                justification: statement.justification.clone(),
            });
        }
    }
}

fn covers_package(statement: &VexStatement, package_purl: &str, image_purl: Option<&str>) -> bool {
    statement.products.iter().any(|product| {
        if product.subcomponents.is_empty() {
            return purl_covers(&product.purl, package_purl);
        }
        let in_this_image = image_purl.is_some_and(|image| purl_covers(&product.purl, image));
        in_this_image
            && product
                .subcomponents
                .iter()
                .any(|subcomponent| purl_covers(subcomponent, package_purl))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versionless_purl_covers_versions() {
        assert!(purl_covers(
            "pkg:oci/example-app",
            "pkg:oci/example-app@sha256%3A00?repository_url=registry.example%2Fexample-app"
        ));
    }

    #[test]
    fn qualifierless_purl_covers_qualified() {
        assert!(purl_covers(
            "pkg:deb/ubuntu/bash@5.1-6ubuntu1",
            "pkg:deb/ubuntu/bash@5.1-6ubuntu1?arch=amd64&distro=ubuntu-22.04"
        ));
    }

    #[test]
    fn other_version_not_covered() {
        assert!(!purl_covers(
            "pkg:deb/ubuntu/bash@5.1-6ubuntu2",
            "pkg:deb/ubuntu/bash@5.1-6ubuntu1"
        ));
    }

    #[test]
    fn qualifier_must_match() {
        assert!(!purl_covers(
            "pkg:deb/ubuntu/bash?arch=arm64",
            "pkg:deb/ubuntu/bash@5.1?arch=amd64"
        ));
    }

    #[test]
    fn cyclonedx_vex_maps_refs_to_purls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vex.cdx.json");
        std::fs::write(
            &path,
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
                "components":[{"type":"library","bom-ref":"urllib3-ref","name":"urllib3","purl":"pkg:pypi/urllib3@1.23"}],
                "vulnerabilities":[{"id":"CVE-2019-11324","analysis":{"state":"not_affected","justification":"code_not_reachable"},"affects":[{"ref":"urllib3-ref"}]},
                                   {"id":"CVE-2018-20060","analysis":{"state":"exploitable"},"affects":[{"ref":"urllib3-ref"}]}]}"#,
        )
        .unwrap();
        let statements = load(&path).unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].products[0].purl, "pkg:pypi/urllib3@1.23");
        assert!(statements[0].suppresses);
        assert!(!statements[1].suppresses);
    }

    #[test]
    fn unknown_document_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.json");
        std::fs::write(&path, "{\"statements\": []}").unwrap();
        let error = load(&path).unwrap_err();
        assert!(error.to_string().contains("neither OpenVEX"));
    }
}
