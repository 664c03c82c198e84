//! Helpers shared by the CLI test files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

fn load(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn schemas() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rampart-report/tests/schemas")
}

/// Returns the validation errors of a CycloneDX 1.6 document against the
/// official schema, with the two schemas it references registered locally.
pub fn cyclonedx_errors(document: &serde_json::Value) -> Vec<String> {
    let schemas = schemas();
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load(&schemas.join("spdx.schema.json")),
        )
        .and_then(|registry| {
            registry.add(
                "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                load(&schemas.join("jsf-0.82.schema.json")),
            )
        })
        .and_then(|registry| registry.prepare())
        .unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load(&schemas.join("bom-1.6.schema.json")))
        .unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Returns the validation errors of an SPDX 2.3 document.
pub fn spdx_errors(document: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&load(&schemas().join("spdx-schema.json")))
        .unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Returns the validation errors of a SARIF 2.1.0 document against the
/// official schema.
pub fn sarif_errors(document: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&load(&schemas().join("sarif-schema-2.1.0.json")))
        .unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
