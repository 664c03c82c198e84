//! The apk installed database, `/lib/apk/db/installed` (apk-tools' "installed
//! database" format, documented on the Alpine wiki "Apk spec"): records
//! separated by blank lines, one `X:value` field per line. `P` is the name,
//! `V` the version, `A` the architecture, `o` the origin (the source package
//! that advisories name), `L` the license, `m` the maintainer, and `F`/`R`
//! pairs list the directories and files the package owns.

use std::collections::HashSet;

use super::{CatalogContext, CatalogOutput, Cataloger, introduced_in, is_printable_token, lines};
use crate::package::{Package, PackageType};
use crate::purl;

/// The database path, also used on usr-merged layouts through `/lib`.
const DB_SUFFIX: &str = "lib/apk/db/installed";
const DB_PATH: &str = "/lib/apk/db/installed";

pub struct ApkCataloger;

/// One parsed record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApkRecord {
    pub name: String,
    pub version: String,
    pub architecture: Option<String>,
    pub origin: Option<String>,
    pub license: Option<String>,
    pub maintainer: Option<String>,
    pub files: Vec<String>,
}

/// Parses the whole database. Records without a plausible name and version
/// (as garbage bytes produce) are skipped and counted in the second value.
pub fn parse(content: &[u8]) -> (Vec<ApkRecord>, usize) {
    let mut records = Vec::new();
    let mut skipped = 0;
    let mut current = ApkRecord::default();
    let mut directory = String::new();
    let mut started = false;

    let finish = |record: &mut ApkRecord,
                  started: &mut bool,
                  records: &mut Vec<ApkRecord>,
                  skipped: &mut usize| {
        if *started {
            let record = std::mem::take(record);
            if is_printable_token(&record.name) && is_printable_token(&record.version) {
                records.push(record);
            } else {
                *skipped += 1;
            }
        }
        *started = false;
    };

    for line in lines(content) {
        if line.is_empty() {
            finish(&mut current, &mut started, &mut records, &mut skipped);
            directory.clear();
            continue;
        }
        let [key, b':', value @ ..] = line else {
            continue;
        };
        let value = String::from_utf8_lossy(value).trim().to_owned();
        started = true;
        match key {
            b'P' => current.name = value,
            b'V' => current.version = value,
            b'A' => current.architecture = Some(value),
            b'o' => current.origin = Some(value),
            b'L' => current.license = Some(value),
            b'm' => current.maintainer = Some(value),
            b'F' => directory = value,
            b'R' => current.files.push(if directory.is_empty() {
                format!("/{value}")
            } else {
                format!("/{directory}/{value}")
            }),
            _ => {}
        }
    }
    finish(&mut current, &mut started, &mut records, &mut skipped);
    (records, skipped)
}

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn wants(&self, path: &str) -> bool {
        path.ends_with(DB_SUFFIX)
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        let data = match context.fs.read(DB_PATH) {
            Ok(Some(data)) => data,
            Ok(None) => return,
            Err(error) => {
                output.warnings.push(format!("apk database: {error}"));
                return;
            }
        };
        let (records, skipped) = parse(&data.content);
        if skipped > 0 {
            output.warnings.push(format!(
                "{}: skipped {skipped} unreadable records",
                data.path
            ));
        }

        let versions: Vec<_> = context
            .fs
            .history(DB_PATH)
            .iter()
            .map(|version| {
                let keys: HashSet<(String, String)> = parse(&version.content)
                    .0
                    .into_iter()
                    .map(|r| (r.name, r.version))
                    .collect();
                (version.layer, keys)
            })
            .collect();

        let location = context.location(&data.path);
        let distro = context.distro_qualifier(true);
        for record in records {
            let introduced =
                introduced_in(&versions, &(record.name.clone(), record.version.clone()))
                    .and_then(|layer| context.diff_id(layer));
            let upstream = record
                .origin
                .as_deref()
                .filter(|origin| *origin != record.name);
            let purl = purl::build(
                "apk",
                Some(context.distro.map_or("alpine", |d| d.id.as_str())),
                &record.name,
                &record.version,
                &[
                    ("arch", record.architecture.as_deref()),
                    ("distro", distro.as_deref()),
                    ("upstream", upstream),
                ],
            );
            output.packages.push(Package {
                package_type: PackageType::Apk,
                source_name: Some(record.origin.clone().unwrap_or_else(|| record.name.clone())),
                source_version: Some(record.version.clone()),
                name: record.name,
                version: record.version,
                epoch: None,
                architecture: record.architecture,
                licenses: record.license.into_iter().collect(),
                maintainer: record.maintainer,
                purl,
                locations: vec![location.clone()],
                introduced_in_layer: introduced,
                files: record.files,
                declared: false,
                local_source: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIVY_CASE_DB: &[u8] = b"C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:jq\nV:1.6-r0\nA:x86_64\nS:10000\nI:20000\nT:A lightweight and flexible command-line JSON processor\no:jq\n";

    #[test]
    fn parse_single_record() {
        let (records, skipped) = parse(TRIVY_CASE_DB);
        assert_eq!(skipped, 0);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name, "jq");
        assert_eq!(records[0].version, "1.6-r0");
        assert_eq!(records[0].origin.as_deref(), Some("jq"));
        assert_eq!(records[0].architecture.as_deref(), Some("x86_64"));
    }

    #[test]
    fn parse_files_and_origin() {
        let db = b"P:busybox-binsh\nV:1.36.1-r29\nA:x86_64\no:busybox\nL:GPL-2.0-only\nF:bin\nR:sh\nF:usr/bin\nR:a\nR:b\n\nP:musl\nV:1.2.5-r0\n\n\n";
        let (records, _) = parse(db);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].files, ["/bin/sh", "/usr/bin/a", "/usr/bin/b"]);
        assert_eq!(records[0].origin.as_deref(), Some("busybox"));
        assert_eq!(records[1].name, "musl");
        assert!(records[1].files.is_empty());
    }

    #[test]
    fn garbage_between_records_is_skipped() {
        let mut db = b"P:musl\nV:1.2.5-r0\n\n".to_vec();
        db.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        db.extend_from_slice(b"\n\nP:busybox\nV:1.36.1-r29\n");
        let (records, _) = parse(&db);
        let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"musl"));
        assert!(names.contains(&"busybox"));
        assert!(records.iter().all(|r| is_printable_token(&r.name)));
    }
}
