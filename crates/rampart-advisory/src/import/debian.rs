//! Importer of the Debian Security Tracker JSON export
//! (`https://security-tracker.debian.org/tracker/data/json`).
//!
//! The export is one JSON object keyed by source package, then by issue id
//! (`CVE-…` or `TEMP-…`), then by release codename:
//!
//! ```json
//! {"openssl": {"CVE-2024-0727": {"description": "…", "scope": "local", "debianbug": 1060858,
//!   "releases": {"bookworm": {"status": "resolved", "repositories": {"bookworm": "3.0.11-1~deb12u2"},
//!     "fixed_version": "3.0.13-1~deb12u1", "urgency": "low"}}}}}
//! ```
//!
//! The meaning of the fields follows the tracker's own generator
//! (`bin/tracker_service.py`, `_get_json`, in the security-tracker repository):
//! - `status` is `resolved` (fixed in the release), `open` (vulnerable) or
//!   `undetermined` (still to be checked).
//! - `fixed_version` `"0"` means the release was never affected. grype's
//!   feed builder (anchore vunnel, Debian provider) reads it the same way.
//! - `nodsa` is the comment of the release's no-DSA note and `nodsa_reason`
//!   its kind: `ignored`, `postponed`, or empty for a plain `<no-dsa>`.
//!   Either key means the security team decided not to ship a fix through
//!   a DSA.
//! - `urgency` is `low`, `medium`, `high`, `unimportant`, `not yet assigned`
//!   or `end-of-life`. A trailing `**` marks an urgency the tracker took
//!   from NVD rather than assigned itself.
//!
//! Traps:
//! - The file is about 70 MB, so it is streamed: one issue record is in
//!   memory at a time, never the whole document or a whole source package.
//! - A CVE appears once per affected source package. Each (package, id) pair
//!   becomes its own record, and the store merges records with the same id.
//! - `TEMP-` ids are issues without a CVE yet; they are kept, with no alias.
//! - The `scope` field (`local`/`remote`) and `repositories` (the version in
//!   each suite) are not mapped: the model has no field for them.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::de::{
    self, DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;

use super::nvd::{decompressed, json_error, json_type};
use super::{FeedKind, ImportError, RecordSink, Skipped};
use crate::{
    Advisory, AffectedPackage, Namespace, Rating, Reference, Severity, SeverityKind, Status,
};

/// The `source` of every record this importer emits.
pub const SOURCE: &str = "debian-tracker";

/// Imports a tracker export file, plain or gzip-compressed.
pub fn import_file(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    import_reader(file, path, sink)
}

/// Imports a tracker export from `reader`; `file` names it in errors and
/// skipped records. Records read before a JSON syntax error have already
/// been passed to the sink when the error is returned.
pub fn import_reader<R: Read>(
    reader: R,
    file: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let reader = decompressed(reader).map_err(|error| ImportError::io(file, error))?;
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut context = Context { file, sink };

    deserializer
        .deserialize_map(ExportVisitor {
            context: &mut context,
        })
        .and_then(|()| deserializer.end())
        .map_err(|error| json_error(file, FeedKind::DebianTracker, error))
}

struct Context<'a> {
    file: &'a Path,
    sink: &'a mut dyn RecordSink,
}

impl Context<'_> {
    fn skip(&mut self, record: String, reason: impl Into<String>) {
        self.sink.skipped(Skipped {
            file: self.file.to_owned(),
            record,
            reason: reason.into(),
        });
    }
}

/// Visits the top-level object: source package → issues.
struct ExportVisitor<'c, 'a> {
    context: &'c mut Context<'a>,
}

impl<'de> Visitor<'de> for ExportVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON object keyed by source package")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(package) = map.next_key::<String>()? {
            let wrong_type = map.next_value_seed(PackageSeed {
                context: self.context,
                package: &package,
            })?;
            if let Some(found) = wrong_type {
                self.context.skip(
                    package,
                    format!("expected an object of issues for the source package, found {found}"),
                );
            }
        }
        Ok(())
    }
}

/// Streams the issues of one source package. Yields the JSON type found
/// when the value is not an object, so the caller can skip it.
struct PackageSeed<'c, 'a, 'p> {
    context: &'c mut Context<'a>,
    package: &'p str,
}

impl<'de> DeserializeSeed<'de> for PackageSeed<'_, '_, '_> {
    type Value = Option<&'static str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PackageSeed<'_, '_, '_> {
    type Value = Option<&'static str>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an object keyed by issue id")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(id) = map.next_key::<String>()? {
            let record: Value = map.next_value()?;
            let label = format!("{id} in {}", self.package);
            match parse_record(self.package, &id, &record) {
                Ok(parsed) => {
                    for (release, reason) in parsed.skipped_releases {
                        self.context
                            .skip(format!("{label}, release {release}"), reason);
                    }
                    self.context.sink.advisory(parsed.advisory);
                }
                Err(reason) => self.context.skip(label, reason),
            }
        }
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Some("an array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Some("a string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Some("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some("null"))
    }
}

/// One issue record of one source package, and the releases of it that
/// could not be used.
#[derive(Debug)]
struct ParsedRecord {
    advisory: Advisory,
    /// (codename, reason) of each release entry left out.
    skipped_releases: Vec<(String, String)>,
}

/// Maps one issue record. Fails when the record as a whole is unusable
/// (not an object, no `releases` object); a bad release entry is only left
/// out and listed.
fn parse_record(package: &str, id: &str, record: &Value) -> Result<ParsedRecord, String> {
    if id.trim().is_empty() {
        return Err("empty issue id".to_owned());
    }
    let Some(record) = record.as_object() else {
        return Err(format!("expected an object, found {}", json_type(record)));
    };
    let Some(releases) = record.get("releases").and_then(Value::as_object) else {
        return Err("missing the `releases` object".to_owned());
    };

    let mut advisory = Advisory {
        id: id.to_owned(),
        source: SOURCE.to_owned(),
        summary: record
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        ..Advisory::default()
    };
    advisory.references.push(Reference {
        kind: Some("ADVISORY".to_owned()),
        url: format!("https://security-tracker.debian.org/tracker/{id}"),
    });
    if let Some(bug) = debian_bug(record.get("debianbug")) {
        advisory.references.push(Reference {
            kind: Some("REPORT".to_owned()),
            url: format!("https://bugs.debian.org/{bug}"),
        });
    }

    let mut skipped_releases = Vec::new();
    for (codename, release) in releases {
        match parse_release(package, codename, release) {
            Ok(affected) => advisory.affected.push(affected),
            Err(reason) => skipped_releases.push((codename.clone(), reason)),
        }
    }
    Ok(ParsedRecord {
        advisory,
        skipped_releases,
    })
}

/// Maps one `releases.<codename>` entry to the package's status there.
fn parse_release(
    package: &str,
    codename: &str,
    release: &Value,
) -> Result<AffectedPackage, String> {
    let Some(release) = release.as_object() else {
        return Err(format!("expected an object, found {}", json_type(release)));
    };
    let Some(status) = release.get("status").and_then(Value::as_str) else {
        return Err("missing `status`".to_owned());
    };
    let urgency = release
        .get("urgency")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|urgency| !urgency.is_empty());
    let fixed_version = match release.get("fixed_version") {
        None | Some(Value::Null) => None,
        Some(Value::String(version)) => Some(version.trim()),
        Some(other) => {
            return Err(format!(
                "`fixed_version` is {}, not a string",
                json_type(other)
            ));
        }
    };
    let no_dsa = release.contains_key("nodsa") || release.contains_key("nodsa_reason");

    let namespace = Namespace::distro("debian", codename);
    let mut affected = match (status, fixed_version) {
        ("resolved", Some(version)) if !version.is_empty() && version != "0" => {
            AffectedPackage::fixed_in(namespace, package, version)
        }
        // `"0"` is how the tracker writes `<not-affected>`.
        // NOTE: a resolved entry with no fixed version is read the same way:
        // the tracker found no version of the release vulnerable.
        ("resolved", _) => with_status(namespace, package, Status::NotAffected),
        ("open" | "undetermined", _) if urgency == Some("end-of-life") => {
            with_status(namespace, package, Status::EndOfLife)
        }
        ("open", _) if no_dsa => with_status(namespace, package, Status::WontFix),
        ("open", _) => with_status(namespace, package, Status::NotFixed),
        ("undetermined", _) => with_status(namespace, package, Status::Undetermined),
        (other, _) => {
            return Err(format!(
                "unknown status {other:?}: expected resolved, open or undetermined"
            ));
        }
    };

    if let Some(urgency) = urgency {
        affected.urgency = Some(urgency.to_owned());
        if let Some(severity) = urgency_severity(urgency) {
            affected.severities.push(severity);
        }
    }
    Ok(affected)
}

fn with_status(namespace: Namespace, package: &str, status: Status) -> AffectedPackage {
    let mut affected = AffectedPackage::new(namespace, package);
    affected.status = status;
    affected
}

/// Returns the Debian vendor severity of an urgency, or `None` when the
/// urgency rates nothing (`not yet assigned`, `end-of-life`). A trailing
/// `*` or `**` (an urgency copied from NVD) is dropped before rating.
pub(crate) fn urgency_severity(urgency: &str) -> Option<Severity> {
    let word = urgency.trim_end_matches('*');
    let rating = Rating::from_vendor_word(word);
    (rating != Rating::Unknown).then(|| Severity {
        source: "debian".to_owned(),
        kind: SeverityKind::Vendor,
        vector: None,
        score: None,
        rating,
    })
}

/// Reads `debianbug`, which the tracker writes as a number.
fn debian_bug(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn release(value: Value) -> AffectedPackage {
        parse_release("zlib", "bookworm", &value).unwrap()
    }

    #[test]
    fn resolved_with_version_is_fixed() {
        let affected = release(
            json!({"status": "resolved", "fixed_version": "1:1.2.13.dfsg-1+deb12u1", "urgency": "high"}),
        );
        assert_eq!(affected.status, Status::Fixed);
        assert_eq!(
            affected.fixed_versions().collect::<Vec<_>>(),
            ["1:1.2.13.dfsg-1+deb12u1"]
        );
        assert_eq!(affected.namespace.as_str(), "debian:12");
    }

    #[test]
    fn resolved_zero_is_not_affected() {
        let affected =
            release(json!({"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}));
        assert_eq!(affected.status, Status::NotAffected);
        assert!(affected.ranges.is_empty());
    }

    #[test]
    fn open_statuses() {
        let plain = release(json!({"status": "open", "urgency": "low"}));
        assert_eq!(plain.status, Status::NotFixed);
        let no_dsa = release(
            json!({"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": ""}),
        );
        assert_eq!(no_dsa.status, Status::WontFix);
        let postponed =
            release(json!({"status": "open", "urgency": "low", "nodsa_reason": "postponed"}));
        assert_eq!(postponed.status, Status::WontFix);
        let end_of_life = release(json!({"status": "open", "urgency": "end-of-life"}));
        assert_eq!(end_of_life.status, Status::EndOfLife);
        let undetermined =
            release(json!({"status": "undetermined", "urgency": "not yet assigned"}));
        assert_eq!(undetermined.status, Status::Undetermined);
    }

    #[test]
    fn urgency_kept_and_rated() {
        let affected = release(json!({"status": "open", "urgency": "medium**"}));
        assert_eq!(affected.urgency.as_deref(), Some("medium**"));
        assert_eq!(affected.severities[0].rating, Rating::Medium);
        assert_eq!(affected.severities[0].kind, SeverityKind::Vendor);
        let unimportant = release(json!({"status": "open", "urgency": "unimportant"}));
        assert_eq!(unimportant.severities[0].rating, Rating::Negligible);
        let unassigned = release(json!({"status": "open", "urgency": "not yet assigned"}));
        assert!(unassigned.severities.is_empty());
    }

    #[test]
    fn unknown_status_rejected() {
        let error = parse_release("zlib", "bookworm", &json!({"status": "fixed"})).unwrap_err();
        assert!(error.contains("\"fixed\""), "{error}");
    }

    #[test]
    fn record_without_releases_rejected() {
        let error =
            parse_record("zlib", "CVE-2022-37434", &json!({"description": "x"})).unwrap_err();
        assert!(error.contains("releases"), "{error}");
    }

    #[test]
    fn bad_release_left_out() {
        let record = json!({"releases": {"bookworm": {"status": "open"}, "sid": 3}});
        let parsed = parse_record("zlib", "CVE-2022-37434", &record).unwrap();
        assert_eq!(parsed.advisory.affected.len(), 1);
        assert_eq!(parsed.skipped_releases[0].0, "sid");
    }
}
