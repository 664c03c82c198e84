//! Importer of the CISA Known Exploited Vulnerabilities catalog, in both
//! forms CISA publishes:
//!
//! - JSON (`known_exploited_vulnerabilities.json`, described by CISA's
//!   `known_exploited_vulnerabilities_schema.json`): `{"catalogVersion",
//!   "dateReleased", "count", "vulnerabilities": [{"cveID", "vendorProject",
//!   "product", "vulnerabilityName", "dateAdded", "shortDescription",
//!   "requiredAction", "dueDate", "knownRansomwareCampaignUse", "notes",
//!   "cwes"}]}`.
//! - CSV (`known_exploited_vulnerabilities.csv`): a header row with the same
//!   field names, then one row per entry. Fields are quoted and contain
//!   commas, so the file is read with the `csv` crate rather than split.
//!
//! An entry needs `cveID` and a `dateAdded` in `YYYY-MM-DD` form; a missing
//! or invalid `dueDate` is kept as `None`. `shortDescription`, `notes` and
//! `cwes` are not mapped, because the model's [`KevEntry`] has no field for
//! them.

use std::fs::File;
use std::io::{BufRead, Read};
use std::path::Path;

use chrono::NaiveDate;
use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::nvd::{decompressed, json_error};
use super::{FeedKind, ImportError, RecordSink, Skipped};
use crate::KevEntry;

/// Imports the catalog from a JSON or CSV file. The first non-blank byte
/// selects the format: `{` for JSON, anything else for CSV.
pub fn import_file(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    import_reader(file, path, sink)
}

/// Imports the catalog from `reader`, JSON or CSV; `file` names it in
/// errors and skipped entries.
pub fn import_reader<R: Read>(
    reader: R,
    file: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let mut reader = decompressed(reader).map_err(|error| ImportError::io(file, error))?;
    let is_json = first_content_byte(&mut reader).map_err(|error| ImportError::io(file, error))?
        == Some(b'{');
    if is_json {
        import_json(reader, file, sink)
    } else {
        import_csv(reader, file, sink)
    }
}

/// Returns the first byte that is not whitespace or a UTF-8 byte order
/// mark, consuming nothing but those.
fn first_content_byte(reader: &mut dyn BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buffer = reader.fill_buf()?;
        let Some(&byte) = buffer.first() else {
            return Ok(None);
        };
        if buffer.starts_with(b"\xef\xbb\xbf") {
            reader.consume(3);
        } else if byte.is_ascii_whitespace() {
            reader.consume(1);
        } else {
            return Ok(Some(byte));
        }
    }
}

/// Imports the JSON catalog, streaming its `vulnerabilities` array.
pub fn import_json<R: Read>(
    reader: R,
    file: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut context = Context {
        file,
        sink,
        position: 0,
    };
    let found = deserializer
        .deserialize_map(CatalogVisitor {
            context: &mut context,
        })
        .and_then(|found| deserializer.end().map(|()| found))
        .map_err(|error| json_error(file, FeedKind::Kev, error))?;
    if !found {
        return Err(ImportError::format(
            file,
            FeedKind::Kev,
            "no `vulnerabilities` array found",
        ));
    }
    Ok(())
}

/// Imports the CSV catalog. Rows are matched to fields by the header names,
/// so a column added or moved by CISA does not shift the others.
pub fn import_csv<R: Read>(
    reader: R,
    file: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|error| csv_error(file, error))?
        .clone();
    let column = |name: &str| headers.iter().position(|header| header.trim() == name);
    let Some(cve_column) = column("cveID") else {
        return Err(ImportError::format(
            file,
            FeedKind::Kev,
            "the header row has no `cveID` column",
        ));
    };
    let columns = CsvColumns {
        cve: cve_column,
        vendor_project: column("vendorProject"),
        product: column("product"),
        name: column("vulnerabilityName"),
        date_added: column("dateAdded"),
        due_date: column("dueDate"),
        ransomware: column("knownRansomwareCampaignUse"),
        required_action: column("requiredAction"),
    };

    let mut row = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut row) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            // A row that is not valid UTF-8: the reader has moved past it.
            Err(error) if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) => {
                let line = error.position().map_or(0, csv::Position::line);
                sink.skipped(Skipped {
                    file: file.to_owned(),
                    record: format!("line {line}"),
                    reason: "not valid UTF-8".to_owned(),
                });
                continue;
            }
            Err(error) => return Err(csv_error(file, error)),
        }
        if row.iter().all(|field| field.trim().is_empty()) {
            continue;
        }

        let line = row.position().map_or(0, csv::Position::line);
        match columns.entry(&row) {
            Ok(entry) => sink.kev(entry),
            Err(reason) => {
                let cve = row.get(columns.cve).map(str::trim).unwrap_or_default();
                sink.skipped(Skipped {
                    file: file.to_owned(),
                    record: if cve.is_empty() {
                        format!("line {line}")
                    } else {
                        format!("{cve} (line {line})")
                    },
                    reason,
                });
            }
        }
    }
}

fn csv_error(file: &Path, error: csv::Error) -> ImportError {
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(error) => ImportError::io(file, error),
        _ => ImportError::format(file, FeedKind::Kev, message),
    }
}

/// Column positions of the CSV fields the entry needs.
struct CsvColumns {
    cve: usize,
    vendor_project: Option<usize>,
    product: Option<usize>,
    name: Option<usize>,
    date_added: Option<usize>,
    due_date: Option<usize>,
    ransomware: Option<usize>,
    required_action: Option<usize>,
}

impl CsvColumns {
    fn entry(&self, row: &csv::StringRecord) -> Result<KevEntry, String> {
        let field = |column: Option<usize>| column.and_then(|column| row.get(column));
        build_entry(EntryFields {
            cve: field(Some(self.cve)),
            vendor_project: field(self.vendor_project),
            product: field(self.product),
            name: field(self.name),
            date_added: field(self.date_added),
            due_date: field(self.due_date),
            ransomware: field(self.ransomware),
            required_action: field(self.required_action),
        })
    }
}

/// The catalog fields of one entry, as text, whichever format they came in.
struct EntryFields<'a> {
    cve: Option<&'a str>,
    vendor_project: Option<&'a str>,
    product: Option<&'a str>,
    name: Option<&'a str>,
    date_added: Option<&'a str>,
    due_date: Option<&'a str>,
    ransomware: Option<&'a str>,
    required_action: Option<&'a str>,
}

fn build_entry(fields: EntryFields<'_>) -> Result<KevEntry, String> {
    let cve = fields
        .cve
        .map(str::trim)
        .filter(|cve| !cve.is_empty())
        .ok_or("missing `cveID`")?;
    if !cve.starts_with("CVE-") {
        return Err(format!("`cveID` {cve:?} is not a CVE id"));
    }
    let date_added = match fields.date_added.map(str::trim) {
        None | Some("") => return Err("missing `dateAdded`".to_owned()),
        Some(text) => parse_date(text)
            .ok_or_else(|| format!("`dateAdded` {text:?} is not a YYYY-MM-DD date"))?,
    };
    let text = |value: Option<&str>| value.map(str::trim).unwrap_or_default().to_owned();

    Ok(KevEntry {
        cve: cve.to_owned(),
        vendor_project: text(fields.vendor_project),
        product: text(fields.product),
        name: text(fields.name),
        date_added,
        due_date: fields.due_date.and_then(|due| parse_date(due.trim())),
        known_ransomware_campaign_use: text(fields.ransomware),
        required_action: text(fields.required_action),
    })
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn json_entry(value: &Value) -> Result<KevEntry, String> {
    if !value.is_object() {
        return Err("expected an object".to_owned());
    }
    let field = |key: &str| value.get(key).and_then(Value::as_str);
    build_entry(EntryFields {
        cve: field("cveID"),
        vendor_project: field("vendorProject"),
        product: field("product"),
        name: field("vulnerabilityName"),
        date_added: field("dateAdded"),
        due_date: field("dueDate"),
        ransomware: field("knownRansomwareCampaignUse"),
        required_action: field("requiredAction"),
    })
}

struct Context<'a> {
    file: &'a Path,
    sink: &'a mut dyn RecordSink,
    /// 1-based index of the current element of `vulnerabilities`.
    position: usize,
}

/// Visits the catalog object; yields whether `vulnerabilities` was found.
struct CatalogVisitor<'c, 'a> {
    context: &'c mut Context<'a>,
}

impl<'de> Visitor<'de> for CatalogVisitor<'_, '_> {
    type Value = bool;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("the KEV catalog object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "vulnerabilities" {
                map.next_value_seed(EntriesSeed {
                    context: &mut *self.context,
                })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

struct EntriesSeed<'c, 'a> {
    context: &'c mut Context<'a>,
}

impl<'de> de::DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an array of catalog entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            self.context.position += 1;
            match json_entry(&value) {
                Ok(entry) => self.context.sink.kev(entry),
                Err(reason) => {
                    let record = value
                        .get("cveID")
                        .and_then(Value::as_str)
                        .filter(|cve| !cve.trim().is_empty())
                        .map_or_else(
                            || format!("record {}", self.context.position),
                            str::to_owned,
                        );
                    self.context.sink.skipped(Skipped {
                        file: self.context.file.to_owned(),
                        record,
                        reason,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entry_needs_date_added() {
        let error =
            json_entry(&json!({"cveID": "CVE-2021-44228", "dateAdded": "12/10/2021"})).unwrap_err();
        assert!(error.contains("dateAdded"), "{error}");
    }

    #[test]
    fn bad_due_date_kept_as_none() {
        let entry = json_entry(
            &json!({"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10", "dueDate": "soon"}),
        )
        .unwrap();
        assert_eq!(entry.due_date, None);
    }

    #[test]
    fn non_cve_id_rejected() {
        let error = json_entry(&json!({"cveID": "GHSA-jfh8-c2jp-5v3q", "dateAdded": "2021-12-10"}))
            .unwrap_err();
        assert!(error.contains("not a CVE id"), "{error}");
    }
}
