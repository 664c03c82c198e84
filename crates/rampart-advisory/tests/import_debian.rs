//! Debian importers: the security tracker's JSON export (`import::debian`)
//! and its DSA/DLA/DTSA list files (`import::debian_list`), on the fixtures
//! beside this file and, when the shared corpus exists, on the full files.

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use proptest::prelude::*;
use rampart_advisory::import::{CollectingSink, ImportError, debian, debian_list};
use rampart_advisory::{Advisory, AffectedPackage, Rating, Status};
use rampart_testkit::corpus_dir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/debian")
        .join(name)
}

fn import_tracker(path: &Path) -> CollectingSink {
    let mut sink = CollectingSink::default();
    debian::import_file(path, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    sink
}

fn import_list(path: &Path) -> CollectingSink {
    let mut sink = CollectingSink::default();
    debian_list::import_file(path, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    sink
}

fn advisory<'a>(sink: &'a CollectingSink, package: &str, id: &str) -> &'a Advisory {
    sink.advisories
        .iter()
        .find(|advisory| {
            advisory.id == id
                && advisory
                    .affected
                    .iter()
                    .all(|affected| affected.package == package)
        })
        .unwrap_or_else(|| panic!("no record {id} for {package}"))
}

fn release<'a>(advisory: &'a Advisory, namespace: &str) -> &'a AffectedPackage {
    advisory
        .affected
        .iter()
        .find(|affected| affected.namespace.as_str() == namespace)
        .unwrap_or_else(|| panic!("{} has no {namespace} entry", advisory.id))
}

// --- tracker JSON export ---

#[test]
fn tracker_cut_fixture() {
    let sink = import_tracker(&fixture("tracker/bookworm-changelog-fixes-cut.json"));
    assert_eq!(sink.advisories.len(), 4);
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);

    let zlib = advisory(&sink, "zlib", "CVE-2026-27171");
    assert_eq!(zlib.source, "debian-tracker");
    let bookworm = release(zlib, "debian:12");
    assert_eq!(bookworm.status, Status::Fixed);
    assert_eq!(
        bookworm.fixed_versions().collect::<Vec<_>>(),
        ["1:1.2.13.dfsg-1+deb12u1"]
    );
    assert_eq!(bookworm.urgency.as_deref(), Some("high"));
    assert_eq!(bookworm.severities[0].rating, Rating::High);
}

#[test]
fn tracker_shapes_statuses() {
    let sink = import_tracker(&fixture("tracker/tracker-shapes.json"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.advisories.len(), 5);

    let linux = advisory(&sink, "linux", "CVE-2013-7445");
    assert_eq!(release(linux, "debian:12").status, Status::NotFixed);
    assert_eq!(release(linux, "debian:11").status, Status::WontFix);
    assert_eq!(
        release(linux, "debian:unstable").status,
        Status::Undetermined
    );

    let openssl = advisory(&sink, "openssl", "CVE-2024-0727");
    assert_eq!(release(openssl, "debian:12").status, Status::Fixed);
    assert_eq!(release(openssl, "debian:11").status, Status::WontFix);
    assert_eq!(release(openssl, "debian:13").status, Status::Fixed);

    let zlib = advisory(&sink, "zlib", "CVE-2023-45853");
    assert_eq!(release(zlib, "debian:12").status, Status::NotAffected);
    assert!(release(zlib, "debian:12").ranges.is_empty());
    assert_eq!(release(zlib, "debian:11").status, Status::WontFix);

    let chromium = advisory(&sink, "chromium", "CVE-2023-1528");
    assert_eq!(release(chromium, "debian:10").status, Status::EndOfLife);
    assert!(release(chromium, "debian:10").severities.is_empty());
}

#[test]
fn tracker_uncertain_urgency() {
    let sink = import_tracker(&fixture("tracker/tracker-shapes.json"));
    let linux = advisory(&sink, "linux", "CVE-2013-7445");
    let bullseye = release(linux, "debian:11");
    assert_eq!(bullseye.urgency.as_deref(), Some("low**"));
    assert_eq!(bullseye.severities[0].rating, Rating::Low);
    let bookworm = release(linux, "debian:12");
    assert_eq!(bookworm.severities[0].rating, Rating::Negligible);
}

#[test]
fn tracker_temp_id_kept() {
    let sink = import_tracker(&fixture("tracker/tracker-shapes.json"));
    let bash = advisory(&sink, "bash", "TEMP-0841856-B18BAF");
    assert!(bash.aliases.is_empty());
    assert_eq!(bash.cve(), None);
    assert_eq!(release(bash, "debian:12").status, Status::NotFixed);
}

#[test]
fn tracker_description_and_bug() {
    let sink = import_tracker(&fixture("tracker/tracker-shapes.json"));
    let openssl = advisory(&sink, "openssl", "CVE-2024-0727");
    assert!(
        openssl
            .summary
            .starts_with("Issue summary: Processing a maliciously formatted PKCS12")
    );
    let urls: Vec<&str> = openssl.references.iter().map(|r| r.url.as_str()).collect();
    assert!(
        urls.contains(&"https://bugs.debian.org/1061582"),
        "{urls:?}"
    );
}

#[test]
fn tracker_gzip_same_records() {
    let path = fixture("tracker/tracker-shapes.json");
    let plain = import_tracker(&path);
    let compressed = rampart_testkit::gzip(&std::fs::read(&path).unwrap());
    let mut sink = CollectingSink::default();
    debian::import_reader(Cursor::new(compressed), &path, &mut sink).unwrap();
    assert_eq!(sink.advisories, plain.advisories);
}

#[test]
fn tracker_malformed_records_skipped() {
    let path = fixture("tracker/tracker-malformed.json");
    let sink = import_tracker(&path);

    let ids: Vec<&str> = sink.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2023-38545", "CVE-2024-25062"]);
    let curl = &sink.advisories[0];
    assert_eq!(
        curl.affected.len(),
        1,
        "the sid entry has an unknown status"
    );

    let records: Vec<&str> = sink.skipped.iter().map(|s| s.record.as_str()).collect();
    assert_eq!(
        records,
        [
            "CVE-2023-38545 in curl, release sid",
            "CVE-2023-38546 in curl",
            "CVE-2023-46218 in curl",
            "gnupg2",
        ]
    );
    assert!(sink.skipped.iter().all(|s| s.file == path));
}

#[test]
fn tracker_missing_file_error() {
    let mut sink = CollectingSink::default();
    let error = debian::import_file(&fixture("tracker/absent.json"), &mut sink).unwrap_err();
    assert!(matches!(error, ImportError::Io { .. }), "{error}");
}

#[test]
fn tracker_invalid_json_error() {
    let cases: [&[u8]; 3] = [
        br#"{"zlib": {"CVE-2023-45853": {"releases": {"#,
        br#"[{"zlib": {}}]"#,
        b"",
    ];
    for bytes in cases {
        let mut sink = CollectingSink::default();
        let result = debian::import_reader(bytes, Path::new("data.json"), &mut sink);
        let error = result.expect_err(&String::from_utf8_lossy(bytes));
        assert!(matches!(error, ImportError::Format { .. }), "{error}");
    }
}

proptest! {
    #[test]
    fn tracker_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut sink = CollectingSink::default();
        let _ = debian::import_reader(bytes.as_slice(), Path::new("data.json"), &mut sink);
    }

    #[test]
    fn tracker_mutated_fixture(position in 0usize..4096, byte in any::<u8>()) {
        let mut bytes = std::fs::read(fixture("tracker/tracker-shapes.json")).unwrap();
        let position = position % bytes.len();
        bytes[position] = byte;
        let mut sink = CollectingSink::default();
        let _ = debian::import_reader(bytes.as_slice(), Path::new("data.json"), &mut sink);
    }
}

#[test]
fn tracker_corpus_bookworm_fixes() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let sink =
        import_tracker(&corpus.join("advisories/debian-derived/bookworm-changelog-fixes.json"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.advisories.len(), 81);

    let packages: BTreeSet<&str> = sink
        .advisories
        .iter()
        .flat_map(|advisory| {
            advisory
                .affected
                .iter()
                .map(|affected| affected.package.as_str())
        })
        .collect();
    assert_eq!(packages.len(), 12);
    let all_fixed = sink.advisories.iter().all(|advisory| {
        advisory.affected.len() == 1
            && advisory.affected[0].status == Status::Fixed
            && advisory.affected[0].namespace.as_str() == "debian:12"
    });
    assert!(all_fixed);
}

// --- DSA / DLA / DTSA lists ---

fn by_id<'a>(sink: &'a CollectingSink, id: &str) -> &'a Advisory {
    sink.advisories
        .iter()
        .find(|advisory| advisory.id == id)
        .unwrap_or_else(|| panic!("no advisory {id}"))
}

#[test]
fn dsa_list_fixture() {
    let sink = import_list(&fixture("DSA/list"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.advisories.len(), 10);

    let dsa = by_id(&sink, "DSA-5380-1");
    assert_eq!(dsa.source, "debian-dsa");
    assert_eq!(dsa.aliases, ["CVE-2023-1393"]);
    assert_eq!(dsa.summary, "xorg-server - security update");
    assert_eq!(
        dsa.published.unwrap().date_naive(),
        NaiveDate::from_ymd_opt(2023, 3, 29).unwrap()
    );
    let bullseye = release(dsa, "debian:11");
    assert_eq!(bullseye.package, "xorg-server");
    assert_eq!(
        bullseye.fixed_versions().collect::<Vec<_>>(),
        ["2:1.20.11-1+deb11u6"]
    );
}

#[test]
fn dsa_list_pseudo_versions() {
    let sink = import_list(&fixture("DSA/list"));
    let openoffice = by_id(&sink, "DSA-2275-1");
    assert_eq!(release(openoffice, "debian:6").status, Status::Fixed);
    assert_eq!(release(openoffice, "debian:5").status, Status::NotAffected);

    let virtualbox = by_id(&sink, "DSA-3699-1");
    assert_eq!(release(virtualbox, "debian:8").status, Status::EndOfLife);

    let phpgroupware = by_id(&sink, "DSA-746-1");
    let woody = release(phpgroupware, "debian:3.0");
    assert_eq!(woody.status, Status::NotFixed);
    assert_eq!(woody.urgency.as_deref(), Some("high"));
}

#[test]
fn dsa_list_notes_and_old_ids() {
    let sink = import_list(&fixture("DSA/list"));
    let end_of_life = by_id(&sink, "DSA-4205-1");
    assert!(end_of_life.affected.is_empty());
    assert_eq!(
        end_of_life.details,
        "NOTE: end of security support for jessie"
    );

    let kernel = by_id(&sink, "DSA-1304");
    assert_eq!(kernel.aliases.len(), 14);
    assert_eq!(release(kernel, "debian:3.1").package, "kernel-source-2.6.8");

    let awstats = by_id(&sink, "DSA-892-1");
    assert_eq!(
        release(awstats, "debian:3.1").urgency.as_deref(),
        Some("medium")
    );
}

#[test]
fn dla_list_fixture() {
    let sink = import_list(&fixture("DLA/list"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.advisories.len(), 6);
    assert!(sink.advisories.iter().all(|a| a.source == "debian-dla"));

    let bash = by_id(&sink, "DLA-63-1");
    assert_eq!(
        bash.aliases,
        ["CVE-2014-7169", "CVE-2014-7186", "CVE-2014-7187"]
    );
    let tzdata = by_id(&sink, "DLA-179-1");
    assert_eq!(
        release(tzdata, "debian:6")
            .fixed_versions()
            .collect::<Vec<_>>(),
        ["2015b-0squeeze1"]
    );
}

#[test]
fn dtsa_list_testing_codenames() {
    let sink = import_list(&fixture("DTSA/list"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.advisories.len(), 4);

    let kismet = by_id(&sink, "DTSA-1-1");
    assert_eq!(kismet.source, "debian-dtsa");
    assert_eq!(
        kismet.published.unwrap().date_naive(),
        NaiveDate::from_ymd_opt(2005, 8, 26).unwrap()
    );
    assert_eq!(release(kismet, "debian:4").urgency.as_deref(), Some("high"));
    assert_eq!(
        release(by_id(&sink, "DTSA-35-1"), "debian:5").package,
        "aircrack-ng"
    );
    assert_eq!(
        release(by_id(&sink, "DTSA-207-1"), "debian:6").package,
        "mediawiki"
    );
    assert!(by_id(&sink, "DTSA-16-1").affected.is_empty());
}

#[test]
fn list_malformed_lines_skipped() {
    let text = "\
[29 Mar 2023] DSA-5380-1 xorg-server - security update
\t{CVE-2023-1393}
\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6
\tsomething unexpected
[32 Mar 2023] DSA-5379-1 dino-im - security update
\t{CVE-2023-28686}
\t[bullseye] - dino-im 0.2.0-3+deb11u1
[25 Mar 2023] DSA-5378-1 xen - security update
\t[bullseye] - xen <frozen>
\t[bullseye] - xen 4.14.5+94-ge49571868d-1
";
    let path = Path::new("DSA/list");
    let mut sink = CollectingSink::default();
    debian_list::import_reader(text.as_bytes(), path, &mut sink).unwrap();

    let ids: Vec<&str> = sink.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["DSA-5380-1", "DSA-5378-1"]);
    let records: Vec<&str> = sink.skipped.iter().map(|s| s.record.as_str()).collect();
    assert_eq!(
        records,
        ["DSA-5380-1 (line 4)", "line 5", "DSA-5378-1 (line 9)"]
    );
    assert!(sink.skipped.iter().all(|s| s.file == path));
    assert_eq!(sink.advisories[1].affected.len(), 1);
}

#[test]
fn list_missing_file_error() {
    let mut sink = CollectingSink::default();
    let error = debian_list::import_file(&fixture("DSA/absent"), &mut sink).unwrap_err();
    assert!(matches!(error, ImportError::Io { .. }), "{error}");
}

#[test]
fn list_without_headers_error() {
    let mut sink = CollectingSink::default();
    let text = "source,cve,fixed_version\nzlib,CVE-2023-45853,0\n";
    let error =
        debian_list::import_reader(text.as_bytes(), Path::new("list"), &mut sink).unwrap_err();
    assert!(matches!(error, ImportError::Format { .. }), "{error}");
}

proptest! {
    #[test]
    fn list_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut sink = CollectingSink::default();
        let _ = debian_list::import_reader(bytes.as_slice(), Path::new("list"), &mut sink);
    }

    #[test]
    fn list_arbitrary_lines(lines in proptest::collection::vec("[\\[\\] \t{}<>()a-z0-9:;.~+-]{0,40}", 0..30)) {
        let text = lines.join("\n");
        let mut sink = CollectingSink::default();
        let _ = debian_list::import_reader(text.as_bytes(), Path::new("list"), &mut sink);
    }
}

#[test]
fn list_corpus_counts() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let tracker = corpus.join("advisories/debian-tracker");
    for (kind, source, expected) in [
        ("DSA", "debian-dsa", 5406),
        ("DLA", "debian-dla", 3534),
        ("DTSA", "debian-dtsa", 208),
    ] {
        let sink = import_list(&tracker.join(kind).join("list"));
        assert!(sink.skipped.is_empty(), "{kind}: {:?}", sink.skipped);
        assert_eq!(sink.advisories.len(), expected, "{kind}");
        assert!(sink.advisories.iter().all(|a| a.source == source), "{kind}");
        let ids: BTreeSet<&str> = sink.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids.len(), expected, "{kind}: repeated ids");
    }
}
