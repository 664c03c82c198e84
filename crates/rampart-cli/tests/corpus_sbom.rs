//! Corpus tier: the CycloneDX and SPDX documents of every real corpus image
//! validate against the official schemas, with real license strings and
//! package names.

use std::process::Command;

mod common;

#[test]
fn corpus_sboms_validate() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    for name in rampart_testkit::CORPUS_IMAGES {
        let layout = corpus.join("images").join(name);
        let cdx = out.path().join(format!("{name}.cdx.json"));
        let spdx = out.path().join(format!("{name}.spdx.json"));
        let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .arg("sbom")
            .arg(format!("oci-dir:{}", layout.display()))
            .arg("-o")
            .arg(format!("cyclonedx-json={}", cdx.display()))
            .arg("-o")
            .arg(format!("spdx-json={}", spdx.display()))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );

        let document: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
        let errors = common::cyclonedx_errors(&document);
        assert!(errors.is_empty(), "{name} CycloneDX: {errors:#?}");
        assert!(
            document["components"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
            "{name}: no components"
        );

        let document: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
        let errors = common::spdx_errors(&document);
        assert!(errors.is_empty(), "{name} SPDX: {errors:#?}");
    }
}
