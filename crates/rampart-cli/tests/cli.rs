//! The `rampart` binary end to end, on images built in the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rampart_testkit::*;

mod common;

fn rampart(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An Alpine-like image: os-release and an apk database with two packages,
/// the second added by a later layer.
fn alpine_like(dir: &Path) -> PathBuf {
    let base = TestLayer::gzip(&[
        file(
            "etc/os-release",
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
        ),
        file("etc/alpine-release", "3.20.3\n"),
        file(
            "lib/apk/db/installed",
            "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\nL:MIT\nF:lib\nR:ld-musl-x86_64.so.1\n\n",
        ),
    ]);
    let top = TestLayer::gzip(&[file(
        "lib/apk/db/installed",
        "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\nL:MIT\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:busybox-binsh\nV:1.36.1-r29\nA:x86_64\no:busybox\nL:GPL-2.0-only\nF:bin\nR:sh\n\n",
    )]);
    oci_layout(dir, "alpine", &[base, top])
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn sbom_json_lists_packages_with_layers() {
    let dir = tempfile::tempdir().unwrap();
    let layout = alpine_like(dir.path());
    let reference = format!("oci-dir:{}", layout.display());
    let document = json(&rampart(&["sbom", &reference, "-o", "json"], dir.path()));

    assert_eq!(document["schema"], "rampart.sbom/v1");
    assert_eq!(document["distro"]["id"], "alpine");
    assert_eq!(document["distro"]["point_release"], "3.20.3");
    let packages = document["packages"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["busybox-binsh", "musl"]);

    let layers = document["source"]["layers"].as_array().unwrap();
    assert_eq!(packages[1]["introduced_in_layer"], layers[0]["diff_id"]);
    assert_eq!(packages[0]["introduced_in_layer"], layers[1]["diff_id"]);
    assert_eq!(packages[0]["source_name"], "busybox");
    assert_eq!(packages[0]["files"][0], "/bin/sh");
    assert_eq!(
        packages[0]["purl"],
        "pkg:apk/alpine/busybox-binsh@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3&upstream=busybox"
    );
}

#[test]
fn sbom_several_outputs_validate() {
    let dir = tempfile::tempdir().unwrap();
    let layout = alpine_like(dir.path());
    let reference = format!("oci-dir:{}", layout.display());
    let output = rampart(
        &[
            "sbom",
            &reference,
            "-o",
            "cyclonedx-json=bom.cdx.json",
            "-o",
            "spdx-json=bom.spdx.json",
            "-o",
            "table",
        ],
        dir.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("busybox-binsh") && table.contains("2 packages"),
        "{table}"
    );

    let load = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap()
    };
    let cyclonedx = load("bom.cdx.json");
    assert_eq!(cyclonedx["specVersion"], "1.6");
    let errors = common::cyclonedx_errors(&cyclonedx);
    assert!(errors.is_empty(), "{errors:#?}");

    let spdx = load("bom.spdx.json");
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    let errors = common::spdx_errors(&spdx);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sbom_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let layout = alpine_like(dir.path());
    let reference = format!("oci-dir:{}", layout.display());
    let args = [
        "sbom",
        reference.as_str(),
        "-o",
        "cyclonedx-json",
        "--timestamp",
        "2024-01-01T00:00:00Z",
    ];
    let first = rampart(&args, dir.path());
    let second = rampart(&args, dir.path());
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(first.stdout, second.stdout);
    let document: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(document["metadata"]["timestamp"], "2024-01-01T00:00:00Z");

    let from_epoch = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["sbom", &reference, "-o", "cyclonedx-json"])
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .output()
        .unwrap();
    assert_eq!(from_epoch.stdout, first.stdout);
}

#[test]
fn bad_image_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let layout = oci_layout(
        dir.path(),
        "bad",
        &[TestLayer::gzip(&[Entry::RawFile(
            "../../rampart-escape",
            b"x".to_vec(),
        )])],
    );
    let output = rampart(
        &[
            "sbom",
            &format!("oci-dir:{}", layout.display()),
            "-o",
            "json=out.json",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    let errors: Vec<&str> = message
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{message}");
    assert!(
        errors[0].contains("sha256:") && errors[0].contains("../../rampart-escape"),
        "{message}"
    );
    assert!(!dir.path().join("out.json").exists());
}

#[test]
fn existing_output_survives_failure() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("out.json"), "previous").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    let output = rampart(&["sbom", "notes.txt", "-o", "json=out.json"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a container image"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.json")).unwrap(),
        "previous"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let layout = alpine_like(dir.path());
    let reference = format!("oci-dir:{}", layout.display());
    for args in [
        vec!["sbom", reference.as_str(), "-o", "json", "-o", "table"],
        vec!["sbom", reference.as_str(), "-o", "xml"],
        vec!["sbom", reference.as_str(), "--platform", "linux"],
        vec!["sbom", "registry:alpine:3.20"],
        vec![
            "sbom",
            reference.as_str(),
            "-o",
            "json=same.json",
            "-o",
            "spdx-json=same.json",
        ],
        vec!["sbom", reference.as_str(), "--timestamp", "2024-01-01"],
        vec!["sbom", reference.as_str(), "--max-expansion-ratio", "0"],
        vec!["sbom", reference.as_str(), "--platform", "linux/arm64"],
        vec!["sbom", "/no/such/image"],
    ] {
        let output = rampart(&args, dir.path());
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).trim().is_empty(), "{args:?}");
    }
}

#[test]
fn help_names_options() {
    let dir = tempfile::tempdir().unwrap();
    let output = rampart(&["sbom", "--help"], dir.path());
    let help = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--output",
        "--platform",
        "--timestamp",
        "--max-layer-size",
        "--max-expansion-ratio",
        "--max-entries",
        "cyclonedx-json",
        "oci-dir:",
    ] {
        assert!(help.contains(option), "{option} missing from help:\n{help}");
    }
}

#[test]
fn wrong_kind_of_input_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let layout = alpine_like(dir.path());

    let output = rampart(
        &["sbom", &format!("dir:{}", layout.display()), "-o", "json"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("oci-dir:PATH"),
        "{}",
        stderr(&output)
    );
    let document = json(&output);
    assert!(
        document["warnings"][0]
            .as_str()
            .unwrap()
            .contains("OCI image layout"),
        "{document}"
    );

    std::fs::write(dir.path().join("notes.txt"), "not a tar").unwrap();
    let output = rampart(&["sbom", "rootfs:notes.txt"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("needs a tar archive"),
        "{}",
        stderr(&output)
    );

    let output = rampart(&["sbom", "/no/such/image"], dir.path());
    let message = stderr(&output);
    assert_eq!(
        message.matches("No such file or directory").count(),
        1,
        "{message}"
    );
    assert!(message.contains("check the path"), "{message}");
}

#[test]
fn version_compare_prints_order() {
    let dir = tempfile::tempdir().unwrap();
    for (scheme, a, b, expected) in [
        ("apk", "1.6-r0", "1.6_rc1-r0", ">"),
        ("dpkg", "1.0~rc1", "1.0", "<"),
        ("rpm", "4:5.26.3-417.el8_3", "0:5.26.3-417.el8_3", ">"),
        ("pep440", "1.0", "1.0.0", "="),
    ] {
        let output = rampart(
            &["version", "compare", "--scheme", scheme, a, b],
            dir.path(),
        );
        assert!(output.status.success(), "{scheme}: {}", stderr(&output));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            expected,
            "{scheme} {a} {b}"
        );
    }

    let output = rampart(
        &[
            "version", "compare", "--scheme", "semver", "01.0.0", "1.0.0",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("leading zero"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn version_compare_batch_keeps_lines_aligned() {
    use std::io::Write;

    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["version", "compare", "--scheme", "pep440", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"1.0\t1.0.0\nnot a version\t1.0\n1.0a1\t1.0\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "=\ninvalid\n<\n");
    assert!(stderr(&output).contains("line 2"), "{}", stderr(&output));
}
