//! Corpus tier: the hostile-image generator beside the repository
//! (`shared/corpus/hostile/make.py`) writes images that attack a scanner;
//! `rampart sbom` must give each the behaviour its `cases.tsv` row accepts.
//!
//! Each case runs from a working folder five levels below a scratch folder
//! that contains sentinel files, so any `../../..` write lands where the check
//! can find it. Peak RSS comes from GNU time (`/usr/bin/time -v`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use rampart_testkit::corpus_dir as corpus;

const DEFAULT_RSS_BOUND_KIB: u64 = 512 * 1024;

struct Case {
    name: String,
    accepted_exits: Vec<i32>,
    expect: String,
}

fn read_cases(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            Case {
                name: columns[0].to_owned(),
                accepted_exits: columns[2].split('|').map(|c| c.parse().unwrap()).collect(),
                expect: columns[3].to_owned(),
            }
        })
        .collect()
}

/// Reads a bound such as `time < 60 s` or `peak RSS < 512 MiB` from the row.
fn bound(expect: &str, prefix: &str, unit: &str) -> Option<u64> {
    let start = expect.find(prefix)? + prefix.len();
    let rest = expect[start..].trim_start();
    let number: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    rest[number.len()..]
        .trim_start()
        .starts_with(unit)
        .then(|| number.parse().ok())
        .flatten()
}

fn list_files(root: &Path) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path.clone());
            }
            files.insert(path);
        }
    }
    files
}

fn peak_rss_kib(time_output: &str) -> Option<u64> {
    time_output
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes):")
        })
        .and_then(|value| value.trim().parse().ok())
}

#[test]
fn hostile_images_get_accepted_behaviour() {
    let Some(corpus) = corpus() else { return };
    let generated = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(corpus.join("hostile/make.py"))
        .arg(generated.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 is needed to generate hostile images");
    assert!(status.success(), "make.py failed");
    let gnu_time = Path::new("/usr/bin/time").exists();
    if !gnu_time {
        assert!(
            std::env::var_os("RAMPART_REQUIRE_CORPUS").is_none(),
            "GNU time (/usr/bin/time) is needed for peak RSS"
        );
        eprintln!("/usr/bin/time not found; peak RSS not checked");
    }

    let mut failures = Vec::new();
    for case in read_cases(&generated.path().join("cases.tsv")) {
        let scratch = tempfile::tempdir().unwrap();
        let run_dir = scratch.path().join("a/b/c/d/e/run");
        std::fs::create_dir_all(&run_dir).unwrap();
        let mut level = scratch.path().to_path_buf();
        for part in ["", "a", "b", "c", "d", "e"] {
            if !part.is_empty() {
                level = level.join(part);
            }
            std::fs::write(level.join("rampart-sentinel"), "keep").unwrap();
        }
        let before = list_files(scratch.path());

        let image = generated.path().join(&case.name);
        let rampart = env!("CARGO_BIN_EXE_rampart");
        let mut command = if gnu_time {
            let mut command = Command::new("/usr/bin/time");
            command.arg("-v").arg(rampart);
            command
        } else {
            Command::new(rampart)
        };
        command.current_dir(&run_dir).args([
            "sbom",
            &format!("oci-dir:{}", image.display()),
            "-o",
            "json=out.json",
        ]);
        let started = Instant::now();
        let output = command.output().unwrap();
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let code = output.status.code().unwrap_or(-1);
        let mut fail =
            |reason: String| failures.push(format!("{}: {reason}\nstderr:\n{stderr}", case.name));

        if !case.accepted_exits.contains(&code) {
            fail(format!("exit {code}, accepted {:?}", case.accepted_exits));
        }
        let time_bound = bound(&case.expect, "time <", "s").unwrap_or(20);
        if elapsed > Duration::from_secs(time_bound) {
            fail(format!("took {elapsed:?}, bound {time_bound} s"));
        }
        let rss_bound = bound(&case.expect, "peak RSS <", "MiB")
            .map_or(DEFAULT_RSS_BOUND_KIB, |mib| mib * 1024);
        if let Some(rss) = peak_rss_kib(&stderr)
            && rss > rss_bound
        {
            fail(format!("peak RSS {rss} KiB, bound {rss_bound} KiB"));
        }
        if code == 2 {
            let errors: Vec<&str> = stderr
                .lines()
                .filter(|line| line.starts_with("error:"))
                .collect();
            if errors.len() != 1 {
                fail(format!("expected one error line, got {errors:?}"));
            } else if !errors[0].contains("sha256:") {
                fail(format!("error names no digest: {}", errors[0]));
            }
        }

        let after = list_files(scratch.path());
        let added: Vec<_> = after
            .difference(&before)
            .filter(|p| !p.ends_with("out.json"))
            .collect();
        let removed: Vec<_> = before.difference(&after).collect();
        if !added.is_empty() || !removed.is_empty() {
            fail(format!("files added {added:?}, removed {removed:?}"));
        }
        if Path::new("/rampart-escape-absolute").exists() {
            fail("/rampart-escape-absolute exists".to_owned());
        }

        let out = run_dir.join("out.json");
        if code == 0 {
            let document: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
            let text = document.to_string();
            if text.contains("root:x:0:0") {
                fail("host /etc/passwd content in the output".to_owned());
            }
            let packages = document["packages"].as_array().cloned().unwrap_or_default();
            if packages.iter().any(|p| {
                !p["name"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .all(|c| c.is_ascii_graphic())
            }) {
                fail("a package name with non-printable characters".to_owned());
            }
            let has = |name: &str, version: &str| {
                packages
                    .iter()
                    .any(|p| p["name"] == name && p["version"] == version)
            };
            if (case.name == "control-ok" || case.name == "apk-db-garbage")
                && !has("musl", "1.2.5-r0")
            {
                fail("musl 1.2.5-r0 not reported".to_owned());
            }
            if case.name == "control-ok" {
                if !has("busybox", "1.36.1-r29") {
                    fail("busybox 1.36.1-r29 not reported".to_owned());
                }
                if document["distro"]["point_release"] != "3.20.3" {
                    fail(format!("distro {}", document["distro"]));
                }
            }
        } else if out.exists() {
            fail("an output file was written although the command failed".to_owned());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
