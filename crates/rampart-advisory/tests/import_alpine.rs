//! Alpine secdb import: fixtures cut from the alpine-secdb repository
//! (v3.8 and v3.10, YAML, and the same v3.10 cut as the JSON the secdb site
//! serves), traps written inline, the whole corpus when it exists, and
//! arbitrary bytes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rampart_advisory::import::alpine::{import_alpine_secdb, import_alpine_secdb_reader};
use rampart_advisory::import::{CollectingSink, ImportError};
use rampart_advisory::{Advisory, Status};
use rampart_version::osv::RangeType;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/alpine")
        .join(name)
}

fn import(path: &Path) -> CollectingSink {
    let mut sink = CollectingSink::default();
    import_alpine_secdb(path, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    sink
}

fn import_text(text: &str) -> CollectingSink {
    let mut sink = CollectingSink::default();
    import_alpine_secdb_reader(text.as_bytes(), Path::new("inline.yaml"), &mut sink)
        .unwrap_or_else(|error| panic!("{error}"));
    sink
}

fn find<'a>(sink: &'a CollectingSink, id: &str, package: &str) -> &'a Advisory {
    sink.advisories
        .iter()
        .find(|advisory| advisory.id == id && advisory.affected[0].package == package)
        .unwrap_or_else(|| panic!("no advisory {id} for {package}"))
}

fn fixed_version<'a>(sink: &'a CollectingSink, id: &str, package: &str) -> Vec<&'a str> {
    find(sink, id, package).affected[0]
        .fixed_versions()
        .collect()
}

/// The v3.10 header of the corpus file, for inline documents.
const HEADER: &str = "---
distroversion: v3.10
reponame: main
archs:
  - x86_64
urlprefix: http://dl-cdn.alpinelinux.org/alpine
apkurl: \"{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk\"
packages:
";

#[test]
fn fixed_entry_maps() {
    let sink = import(&fixture("v3.10-main.yaml"));
    let advisory = find(&sink, "CVE-2019-10206", "ansible");
    let affected = &advisory.affected[0];

    assert_eq!(advisory.source, "alpine-secdb");
    assert_eq!(affected.namespace.as_str(), "alpine:3.10");
    assert_eq!(affected.status, Status::Fixed);
    assert_eq!(affected.ranges.len(), 1);
    assert_eq!(affected.ranges[0].range_type, RangeType::Ecosystem);
    assert_eq!(
        fixed_version(&sink, "CVE-2019-10206", "ansible"),
        ["2.8.4-r0"]
    );
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
}

#[test]
fn one_advisory_per_id_and_package() {
    let sink = import(&fixture("v3.10-main.yaml"));
    let pairs: BTreeSet<(&str, &str)> = sink
        .advisories
        .iter()
        .map(|advisory| (advisory.id.as_str(), advisory.affected[0].package.as_str()))
        .collect();
    assert_eq!(pairs.len(), sink.advisories.len());
}

#[test]
fn xsa_beside_cve_is_alias() {
    let sink = import(&fixture("v3.10-main.yaml"));
    let advisory = find(&sink, "CVE-2019-11091", "xen");
    assert_eq!(advisory.aliases, ["XSA-297"]);
}

#[test]
fn placeholder_cve_leaves_xsa() {
    let sink = import(&fixture("v3.10-main.yaml"));
    let advisory = find(&sink, "XSA-295", "xen");
    assert!(advisory.aliases.is_empty());
    assert!(
        !sink
            .advisories
            .iter()
            .any(|advisory| advisory.id.contains('?'))
    );
}

#[test]
fn comment_after_id_dropped() {
    let sink = import(&fixture("v3.10-main.yaml"));
    assert_eq!(
        fixed_version(&sink, "CVE-2018-16301", "tcpdump"),
        ["4.9.3-r0"]
    );
}

#[test]
fn patch_suffixes_join_one_cve() {
    let sink = import(&fixture("v3.10-main.yaml"));
    let rsync: Vec<&str> = sink
        .advisories
        .iter()
        .filter(|advisory| advisory.affected[0].package == "rsync")
        .map(|advisory| advisory.id.as_str())
        .collect();
    assert_eq!(
        rsync
            .iter()
            .filter(|id| id.starts_with("CVE-2017-17434"))
            .count(),
        1
    );
    assert!(rsync.contains(&"CVE-2017-17434"));
}

#[test]
fn misspelt_cve_repaired() {
    let sink = import(&fixture("v3.10-community.yaml"));
    assert_eq!(
        fixed_version(&sink, "CVE-2019-2426", "openjdk7"),
        ["7.211.2.6.17-r0"]
    );
}

#[test]
fn zero_key_not_affected() {
    let sink = import(&fixture("v3.8-main.yaml"));
    let advisory = find(&sink, "CVE-2016-0682", "db");
    let affected = &advisory.affected[0];

    assert_eq!(affected.namespace.as_str(), "alpine:3.8");
    assert_eq!(affected.status, Status::NotAffected);
    assert!(affected.ranges.is_empty());
}

#[test]
fn json_matches_yaml() {
    let yaml = import(&fixture("v3.10-main.yaml"));
    let json = import(&fixture("v3.10-main.json"));
    assert!(!json.advisories.is_empty());
    assert_eq!(json.advisories, yaml.advisories);
}

#[test]
fn unquoted_version_keys_keep_spelling() {
    let sink = import(&fixture("v3.10-community.yaml"));
    assert_eq!(
        fixed_version(&sink, "CVE-2019-9512", "containerd"),
        ["1.2.9"]
    );

    // The containerd entry with keys YAML reads as floats.
    let text = format!(
        "{HEADER}  - pkg:
      name: containerd
      secfixes:
        2.0:
          - CVE-2019-9512
        1.10:
          - CVE-2019-9946
"
    );
    let sink = import_text(&text);
    assert_eq!(fixed_version(&sink, "CVE-2019-9512", "containerd"), ["2.0"]);
    assert_eq!(
        fixed_version(&sink, "CVE-2019-9946", "containerd"),
        ["1.10"]
    );
}

#[test]
fn duplicate_id_keeps_highest_version() {
    // 1.10-r0 sorts above 1.9-r0 as an apk version, below it as a string;
    // 2.8.4-r0 is the highest.
    let text = format!(
        "{HEADER}  - pkg:
      name: ansible
      secfixes:
        1.10-r0:
          - CVE-2019-10206
        1.9-r0:
          - CVE-2019-10206
        2.8.4-r0:
          - CVE-2019-10206
"
    );
    let sink = import_text(&text);
    assert_eq!(sink.advisories.len(), 1);
    assert_eq!(
        fixed_version(&sink, "CVE-2019-10206", "ansible"),
        ["2.8.4-r0"]
    );
}

#[test]
fn zero_key_wins_over_version() {
    let text = format!(
        "{HEADER}  - pkg:
      name: db
      secfixes:
        5.3.28-r1:
          - CVE-2016-0682
        \"0\":
          - CVE-2016-0682
"
    );
    let sink = import_text(&text);
    assert_eq!(sink.advisories.len(), 1);
    assert_eq!(sink.advisories[0].affected[0].status, Status::NotAffected);
}

#[test]
fn repeated_key_keeps_both_lists() {
    let text = format!(
        "{HEADER}  - pkg:
      name: rsync
      secfixes:
        3.1.3-r0:
          - CVE-2017-16548
        3.1.3-r0:
          - CVE-2017-17433
"
    );
    let sink = import_text(&text);
    let ids: Vec<&str> = sink.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2017-16548", "CVE-2017-17433"]);
}

#[test]
fn malformed_package_skipped() {
    let text = format!(
        "{HEADER}  - pkg:
      secfixes:
        1.0-r0:
          - CVE-2019-0001
  - pkg:
      name: apache2
      secfixes:
        - CVE-2019-9517
  - pkg:
      name: ansible
      secfixes:
        2.8.4-r0:
          - CVE-2019-10206
          - (no id here)
        not a version:
          - CVE-2019-10217
  - just text
"
    );
    let sink = import_text(&text);
    let skipped: Vec<&str> = sink.skipped.iter().map(|s| s.record.as_str()).collect();

    assert_eq!(
        skipped,
        [
            "package 1",
            "apache2",
            "ansible 2.8.4-r0",
            "ansible not a version",
            "package 4"
        ]
    );
    assert_eq!(sink.skipped[0].file, Path::new("inline.yaml"));
    assert_eq!(sink.advisories.len(), 1);
    assert_eq!(sink.advisories[0].id, "CVE-2019-10206");
}

#[test]
fn missing_distroversion_fails() {
    let mut sink = CollectingSink::default();
    let result =
        import_alpine_secdb_reader(&b"packages: []\n"[..], Path::new("main.yaml"), &mut sink);
    assert!(matches!(result, Err(ImportError::Format { .. })));
}

#[test]
fn unparsable_file_fails() {
    let mut sink = CollectingSink::default();
    let result = import_alpine_secdb_reader(
        &b"{\"distroversion\": "[..],
        Path::new("main.json"),
        &mut sink,
    );
    assert!(matches!(result, Err(ImportError::Format { .. })));
}

#[test]
fn missing_file_fails() {
    let mut sink = CollectingSink::default();
    let result = import_alpine_secdb(&fixture("absent.yaml"), &mut sink);
    assert!(matches!(result, Err(ImportError::Io { .. })));
}

/// Corpus tier: every file of the alpine-secdb snapshot (v3.3 to v3.11,
/// main and community).
#[test]
fn corpus_counts() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let root = corpus.join("advisories/alpine-secdb");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|branch| std::fs::read_dir(branch.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 18);

    let mut sink = CollectingSink::default();
    let mut packages = BTreeSet::new();
    let mut v3_10_main = CollectingSink::default();
    for file in &files {
        let mut file_sink = CollectingSink::default();
        import_alpine_secdb(file, &mut file_sink).unwrap_or_else(|error| panic!("{error}"));
        for advisory in &file_sink.advisories {
            packages.insert((file.clone(), advisory.affected[0].package.clone()));
        }
        if file.ends_with("v3.10/main.yaml") {
            v3_10_main.advisories = file_sink.advisories.clone();
        }
        sink.advisories.extend(file_sink.advisories);
        sink.skipped.extend(file_sink.skipped);
    }

    let ids: BTreeSet<&str> = sink.advisories.iter().map(|a| a.id.as_str()).collect();
    let cve_ids = ids.iter().filter(|id| id.starts_with("CVE-")).count();
    let v3_10_ids: BTreeSet<&str> = v3_10_main
        .advisories
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    let v3_10_packages: BTreeSet<&str> = v3_10_main
        .advisories
        .iter()
        .map(|a| a.affected[0].package.as_str())
        .collect();
    let not_affected = sink
        .advisories
        .iter()
        .filter(|a| a.affected[0].status == Status::NotAffected)
        .count();

    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    // Every package entry of the corpus lists at least one id.
    assert_eq!(packages.len(), 1_652);
    assert_eq!(sink.advisories.len(), 11_881);
    assert_eq!(ids.len(), 2_474);
    assert_eq!(cve_ids, 2_444);
    assert_eq!(not_affected, 5);
    assert_eq!(v3_10_packages.len(), 166);
    assert_eq!(v3_10_ids.len(), 1_110);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut sink = CollectingSink::default();
        let _ = import_alpine_secdb_reader(bytes.as_slice(), Path::new("fuzz.yaml"), &mut sink);
    }

    #[test]
    fn mutated_fixture_never_panics(
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
        json in any::<bool>(),
    ) {
        let name = if json { "v3.10-main.json" } else { "v3.10-main.yaml" };
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        let position = position.index(bytes.len());
        bytes[position] = byte;
        bytes.truncate(cut.index(bytes.len()) + 1);

        let mut sink = CollectingSink::default();
        let _ = import_alpine_secdb_reader(bytes.as_slice(), Path::new(name), &mut sink);
    }
}

/// Alpine v3.10's real busybox entry lists CVE-2019-5747 under the 1.29
/// line and again under 1.30.1-r2; v3.10 ships the 1.30 line, so 1.30.1-r1
/// must stay affected.
#[test]
fn id_under_two_package_lines_keeps_later_fix() {
    let text = format!(
        "{HEADER}  - pkg:
      name: busybox
      secfixes:
        1.30.1-r2:
          - CVE-2019-5747
        1.29.3-r10:
          - CVE-2018-20679
          - CVE-2019-5747
        1.27.2-r4:
          - CVE-2017-16544
"
    );
    let sink = import_text(&text);
    assert_eq!(
        fixed_version(&sink, "CVE-2019-5747", "busybox"),
        ["1.30.1-r2"]
    );
    assert_eq!(
        fixed_version(&sink, "CVE-2018-20679", "busybox"),
        ["1.29.3-r10"]
    );
}
