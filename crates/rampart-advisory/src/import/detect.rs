//! Recognises feed files by name and by their first bytes, so `rampart db
//! build --from DIR` can be pointed at a folder of mixed feeds.
//!
//! Only the start of a file is read (at most [`SNIFF_BYTES`], after gzip
//! decompression for `.gz` files), so a file is classified before any
//! importer streams it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::FeedKind;

/// How much of a file's start the sniffing reads.
pub const SNIFF_BYTES: usize = 16 * 1024;

/// The kind of a file, as far as the advisory import is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Feed(FeedKind),
    /// An OSV `all.zip` archive of one ecosystem.
    OsvZip,
    /// Not a feed file (a README, a schema, a script).
    NotAFeed,
}

/// Classifies one file. Fails only when the file cannot be read.
pub fn detect(path: &Path) -> std::io::Result<Detected> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();

    if name == "list" {
        let parent = path
            .parent()
            .and_then(Path::file_name)
            .map(|parent| parent.to_string_lossy().to_ascii_uppercase());
        if matches!(parent.as_deref(), Some("DSA" | "DLA" | "DTSA")) {
            return Ok(Detected::Feed(FeedKind::DebianAdvisoryList));
        }
        return Ok(Detected::NotAFeed);
    }
    if name.ends_with(".zip") {
        return Ok(Detected::OsvZip);
    }

    let (stem, gzipped) = match name.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (name.as_str(), false),
    };
    let extension = stem.rsplit_once('.').map_or("", |(_, extension)| extension);
    if !matches!(extension, "json" | "yaml" | "yml" | "csv") {
        return Ok(Detected::NotAFeed);
    }

    let head = read_head(path, gzipped)?;
    let kind = match extension {
        "json" => sniff_json(&head),
        "yaml" | "yml" => sniff_yaml(&head),
        _ => sniff_csv(&head),
    };
    Ok(kind.map_or(Detected::NotAFeed, Detected::Feed))
}

fn read_head(path: &Path, gzipped: bool) -> std::io::Result<String> {
    let file = File::open(path)?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    if gzipped {
        // A truncated or corrupt gzip stream still yields its first bytes,
        // and the importer reports the error with context.
        let mut decoder = MultiGzDecoder::new(file).take(SNIFF_BYTES as u64);
        let _ = decoder.read_to_end(&mut head);
    } else {
        file.take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Returns whether `text` contains `"key"` followed by optional
/// whitespace and a colon.
fn has_json_key(text: &str, key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    text.match_indices(&quoted)
        .any(|(at, _)| text[at + quoted.len()..].trim_start().starts_with(':'))
}

fn sniff_json(head: &str) -> Option<FeedKind> {
    if has_json_key(head, "$schema") && has_json_key(head, "properties") {
        // A JSON schema (such as the one published beside the KEV catalog).
        return None;
    }
    if has_json_key(head, "catalogVersion") {
        return Some(FeedKind::Kev);
    }
    if head.contains("\"NVD_CVE\"") || has_json_key(head, "cvssMetricV31") {
        return Some(FeedKind::Nvd);
    }
    if head.contains("\"CVE_RECORD\"") {
        return Some(FeedKind::Cve5);
    }
    if has_json_key(head, "distroversion") && has_json_key(head, "packages") {
        return Some(FeedKind::AlpineSecdb);
    }
    if has_json_key(head, "releases") && !has_json_key(head, "affected") {
        return Some(FeedKind::DebianTracker);
    }
    if has_json_key(head, "id")
        && (has_json_key(head, "affected")
            || has_json_key(head, "modified")
            || has_json_key(head, "schema_version"))
    {
        return Some(FeedKind::Osv);
    }
    None
}

fn sniff_yaml(head: &str) -> Option<FeedKind> {
    let has_key = |key: &str| {
        head.lines().any(|line| {
            line.trim_start_matches("- ")
                .starts_with(&format!("{key}:"))
        })
    };
    if has_key("distroversion") && has_key("packages") {
        return Some(FeedKind::AlpineSecdb);
    }
    if has_key("id") && (has_key("affected") || has_key("modified")) {
        return Some(FeedKind::Osv);
    }
    None
}

fn sniff_csv(head: &str) -> Option<FeedKind> {
    let first = head.lines().next().unwrap_or_default().trim();
    if first.starts_with("cveID,") {
        return Some(FeedKind::Kev);
    }
    if first.starts_with("#model_version") || first.starts_with("cve,epss") {
        return Some(FeedKind::Epss);
    }
    let mut fields = first.split([';', ',']);
    let is_cve = fields.next().is_some_and(|id| id.starts_with("CVE-"));
    let is_score = fields
        .next()
        .is_some_and(|score| score.parse::<f64>().is_ok());
    (is_cve && is_score).then_some(FeedKind::Epss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_kinds() {
        assert_eq!(
            sniff_json(r#"{"title": "x", "catalogVersion" : "2025.08.25"}"#),
            Some(FeedKind::Kev)
        );
        assert_eq!(
            sniff_json(r#"{"resultsPerPage":1,"format":"NVD_CVE","version":"2.0"}"#),
            Some(FeedKind::Nvd)
        );
        assert_eq!(
            sniff_json(r#"{"dataType": "CVE_RECORD", "dataVersion": "5.1"}"#),
            Some(FeedKind::Cve5)
        );
        assert_eq!(
            sniff_json(r#"{"apkurl":"x","distroversion":"v3.20","packages":[]}"#),
            Some(FeedKind::AlpineSecdb)
        );
        assert_eq!(
            sniff_json(r#"{"openssl":{"CVE-2024-1":{"releases":{"bookworm":{}}}}}"#),
            Some(FeedKind::DebianTracker)
        );
        assert_eq!(
            sniff_json(r#"{"id":"GO-2024-1","modified":"2024-01-01T00:00:00Z"}"#),
            Some(FeedKind::Osv)
        );
        assert_eq!(
            sniff_json(
                r#"{"$schema":"http://json-schema.org/draft-04/schema#","properties":{"catalogVersion":{},"vulnerabilities":{}}}"#
            ),
            None
        );
    }

    #[test]
    fn key_text_in_values_ignored() {
        assert_eq!(sniff_json(r#"{"note": "see \"releases\" page"}"#), None);
    }

    #[test]
    fn yaml_kinds() {
        assert_eq!(
            sniff_yaml("---\ndistroversion: v3.10\nreponame: main\npackages:\n"),
            Some(FeedKind::AlpineSecdb)
        );
        assert_eq!(
            sniff_yaml("id: PYSEC-2021-335\ndetails: x\naffected:\n- package:\n"),
            Some(FeedKind::Osv)
        );
    }

    #[test]
    fn csv_kinds() {
        assert_eq!(
            sniff_csv("cveID,vendorProject,product\n"),
            Some(FeedKind::Kev)
        );
        assert_eq!(
            sniff_csv("#model_version:v2025.03.14,score_date:2025-08-25T00:00:00Z\n"),
            Some(FeedKind::Epss)
        );
        assert_eq!(sniff_csv("CVE-1999-0001;0.01;0.5\n"), Some(FeedKind::Epss));
        assert_eq!(sniff_csv("source,cve,fixed_version\n"), None);
    }

    #[test]
    fn advisory_lists_by_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("DSA")).unwrap();
        std::fs::write(dir.path().join("DSA/list"), "").unwrap();
        std::fs::create_dir(dir.path().join("CPE")).unwrap();
        std::fs::write(dir.path().join("CPE/list"), "").unwrap();
        assert_eq!(
            detect(&dir.path().join("DSA/list")).unwrap(),
            Detected::Feed(FeedKind::DebianAdvisoryList)
        );
        assert_eq!(
            detect(&dir.path().join("CPE/list")).unwrap(),
            Detected::NotAFeed
        );
    }
}
