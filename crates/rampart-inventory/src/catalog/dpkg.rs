//! The dpkg database: `/var/lib/dpkg/status` (deb-control(5) paragraphs, one
//! per package) and the distroless layout `/var/lib/dpkg/status.d/NAME`, one
//! control file per package, with `status.d/NAME.md5sums` beside it.
//!
//! Traps:
//! - Only packages whose `Status` state is installed (or unpacked, half
//!   configured, or waiting on triggers) have files on disk. A paragraph in
//!   state `config-files` (`deinstall ok config-files`) is a removed package
//!   that left configuration files behind and is not inventoried.
//! - `Source:` may carry its own version, `Source: util-linux (2.38.1-5)`,
//!   when a binNMU gave the binary another version; without it the source
//!   version is the binary version.
//! - Files owned come from `info/NAME.list` (or `NAME:ARCH.list` for
//!   multi-arch packages), which also lists directories, and from
//!   `NAME.md5sums` in distroless images.
//! - Licenses are not in the database: they come from the
//!   `/usr/share/doc/NAME/copyright` files (see `debian_copyright`).

use std::collections::HashSet;

use super::debian_copyright::parse_copyright;
use super::{CatalogContext, CatalogOutput, Cataloger, introduced_in, is_printable_token, lines};
use crate::package::{Package, PackageType};
use crate::purl;

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d";
const INFO: &str = "/var/lib/dpkg/info";
const DOC: &str = "/usr/share/doc";

/// Largest field value kept (a `Description` can be huge; it is not kept).
const MAX_FIELD: usize = 64 * 1024;

pub struct DpkgCataloger;

/// One package paragraph.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DpkgEntry {
    pub package: String,
    pub version: String,
    pub architecture: Option<String>,
    pub status: Option<String>,
    pub source: Option<String>,
    pub maintainer: Option<String>,
}

impl DpkgEntry {
    /// Whether the package's files are on disk. A paragraph without `Status`
    /// (distroless `status.d`) is installed.
    pub fn is_installed(&self) -> bool {
        let Some(status) = &self.status else {
            return true;
        };
        // Status is "WANT FLAG STATE", e.g. "install ok installed".
        matches!(
            status.split_whitespace().nth(2),
            Some(
                "installed"
                    | "unpacked"
                    | "half-configured"
                    | "half-installed"
                    | "triggers-awaited"
                    | "triggers-pending"
            )
        )
    }

    /// The source package name and version: `Source: NAME (VERSION)`, or the
    /// binary's own name and version where the field is absent.
    pub fn source(&self) -> (String, String) {
        match self.source.as_deref().map(str::trim) {
            Some(source) if !source.is_empty() => match source.split_once('(') {
                Some((name, version)) => (
                    name.trim().to_owned(),
                    version.trim_end_matches(')').trim().to_owned(),
                ),
                None => (source.to_owned(), self.version.clone()),
            },
            _ => (self.package.clone(), self.version.clone()),
        }
    }
}

/// Parses deb-control paragraphs. Paragraphs without a plausible `Package`
/// and `Version` are skipped and counted in the second value. Runs in one
/// pass over the bytes, so a 64 MiB line costs linear time.
pub fn parse(content: &[u8]) -> (Vec<DpkgEntry>, usize) {
    let mut entries = Vec::new();
    let mut skipped = 0;
    let mut current = DpkgEntry::default();
    let mut in_paragraph = false;

    let mut finish = |entry: &mut DpkgEntry, in_paragraph: &mut bool| {
        if std::mem::take(in_paragraph) {
            let entry = std::mem::take(entry);
            if is_printable_token(&entry.package) && is_printable_token(&entry.version) {
                entries.push(entry);
            } else {
                skipped += 1;
            }
        }
    };

    for line in lines(content) {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            finish(&mut current, &mut in_paragraph);
            continue;
        }
        in_paragraph = true;
        if line[0] == b' ' || line[0] == b'\t' {
            // A continuation line; no kept field spans lines.
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, value) = (&line[..colon], &line[colon + 1..]);
        let keep = |value: &[u8]| {
            String::from_utf8_lossy(&value[..value.len().min(MAX_FIELD)])
                .trim()
                .to_owned()
        };
        match key {
            b"Package" => current.package = keep(value),
            b"Version" => current.version = keep(value),
            b"Architecture" => current.architecture = Some(keep(value)),
            b"Status" => current.status = Some(keep(value)),
            b"Source" => current.source = Some(keep(value)),
            b"Maintainer" => current.maintainer = Some(keep(value)),
            _ => {}
        }
    }
    finish(&mut current, &mut in_paragraph);
    (entries, skipped)
}

impl DpkgCataloger {
    fn owned_files(
        &self,
        context: &CatalogContext,
        entry: &DpkgEntry,
        distroless: bool,
    ) -> Vec<String> {
        let fs = context.fs;
        let read = |path: &str| fs.read(path).ok().flatten();
        if distroless {
            let Some(md5sums) = read(&format!("{STATUS_D}/{}.md5sums", entry.package)) else {
                return Vec::new();
            };
            return lines(&md5sums.content)
                .filter_map(|line| {
                    let line = String::from_utf8_lossy(line);
                    let (_, path) = line.split_once("  ")?;
                    Some(format!("/{}", path.trim().trim_start_matches('/')))
                })
                .collect();
        }

        let arch_name = entry
            .architecture
            .as_deref()
            .map(|arch| format!("{}:{arch}", entry.package));
        let list = read(&format!("{INFO}/{}.list", entry.package))
            .or_else(|| arch_name.and_then(|name| read(&format!("{INFO}/{name}.list"))));
        let Some(list) = list else {
            return Vec::new();
        };
        lines(&list.content)
            .map(|line| String::from_utf8_lossy(line).trim().to_owned())
            .filter(|path| path.starts_with('/') && path != "/.")
            .filter(|path| {
                fs.lstat(path)
                    .is_none_or(|info| info.kind != rampart_image::FileKind::Directory)
            })
            .collect()
    }

    fn licenses(&self, context: &CatalogContext, package: &str) -> Vec<String> {
        match context.fs.read(&format!("{DOC}/{package}/copyright")) {
            Ok(Some(data)) => parse_copyright(&data.content),
            _ => Vec::new(),
        }
    }

    fn package(
        &self,
        context: &CatalogContext,
        entry: DpkgEntry,
        database: &str,
        introduced: Option<String>,
        distroless: bool,
    ) -> Package {
        let (source_name, source_version) = entry.source();
        // Syft's form: the source name where it differs, with `@VERSION`
        // where the source version differs (binNMUs such as bash 5.2.15-2+b13
        // built from bash 5.2.15-2).
        let upstream = match (
            source_name == entry.package,
            source_version == entry.version,
        ) {
            (true, true) => None,
            (false, true) => Some(source_name.clone()),
            (_, false) => Some(format!("{source_name}@{source_version}")),
        };

        let distro = context.distro_qualifier(false);
        let namespace = context.distro.map_or("debian", |d| d.id.as_str());
        let purl = purl::build(
            "deb",
            Some(namespace),
            &entry.package,
            &entry.version,
            &[
                ("arch", entry.architecture.as_deref()),
                ("distro", distro.as_deref()),
                ("upstream", upstream.as_deref()),
            ],
        );

        let files = self.owned_files(context, &entry, distroless);
        let licenses = self.licenses(context, &entry.package);
        let epoch = entry
            .version
            .split_once(':')
            .and_then(|(epoch, _)| epoch.parse().ok());

        Package {
            package_type: PackageType::Deb,
            name: entry.package,
            version: entry.version,
            epoch,
            architecture: entry.architecture,
            source_name: Some(source_name),
            source_version: Some(source_version),
            licenses,
            maintainer: entry.maintainer,
            purl,
            locations: vec![context.location(database)],
            introduced_in_layer: introduced,
            files,
            declared: false,
            local_source: None,
        }
    }
}

type Key = (String, String, Option<String>);

fn key_of(entry: &DpkgEntry) -> Key {
    (
        entry.package.clone(),
        entry.version.clone(),
        entry.architecture.clone(),
    )
}

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn wants(&self, path: &str) -> bool {
        if path == STATUS {
            return true;
        }
        if let Some(name) = path.strip_prefix("/var/lib/dpkg/status.d/") {
            return !name.contains('/');
        }
        if let Some(name) = path.strip_prefix("/var/lib/dpkg/info/") {
            return !name.contains('/') && name.ends_with(".list");
        }
        path.strip_prefix("/usr/share/doc/")
            .and_then(|rest| rest.strip_suffix("/copyright"))
            .is_some_and(|package| !package.contains('/'))
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        let fs = context.fs;

        match fs.read(STATUS) {
            Ok(Some(data)) => {
                let (entries, skipped) = parse(&data.content);
                if skipped > 0 {
                    output.warnings.push(format!(
                        "{}: skipped {skipped} paragraphs without a valid Package and Version",
                        data.path
                    ));
                }
                let versions: Vec<_> = fs
                    .history(STATUS)
                    .iter()
                    .map(|version| {
                        let keys: HashSet<Key> = parse(&version.content)
                            .0
                            .iter()
                            .filter(|e| e.is_installed())
                            .map(key_of)
                            .collect();
                        (version.layer, keys)
                    })
                    .collect();
                for entry in entries.into_iter().filter(DpkgEntry::is_installed) {
                    let introduced = introduced_in(&versions, &key_of(&entry))
                        .and_then(|layer| context.diff_id(layer));
                    let package = self.package(context, entry, &data.path, introduced, false);
                    output.packages.push(package);
                }
            }
            Ok(None) => {}
            Err(error) => output.warnings.push(format!("dpkg database: {error}")),
        }

        let Some(listing) = fs.list_dir(STATUS_D) else {
            return;
        };
        for file in listing {
            let name = file.path.rsplit('/').next().unwrap_or_default();
            if name.ends_with(".md5sums")
                || name.starts_with('.')
                || file.kind == rampart_image::FileKind::Directory
            {
                continue;
            }
            let data = match fs.read(&file.path) {
                Ok(Some(data)) => data,
                Ok(None) => continue,
                Err(error) => {
                    output.warnings.push(format!("dpkg database: {error}"));
                    continue;
                }
            };
            let (entries, skipped) = parse(&data.content);
            if skipped > 0 {
                output.warnings.push(format!(
                    "{}: skipped {skipped} paragraphs without a valid Package and Version",
                    data.path
                ));
            }
            let introduced = Some(data.layer).and_then(|layer| context.diff_id(layer));
            for entry in entries.into_iter().filter(DpkgEntry::is_installed) {
                let package = self.package(context, entry, &data.path, introduced.clone(), true);
                output.packages.push(package);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deinstalled_paragraphs_are_not_installed() {
        let status = b"Package: libexample1\nStatus: install ok installed\nArchitecture: amd64\nSource: example-src\nVersion: 2.4.1-3\n\nPackage: gnupg\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 2.2.40-1.1\n";
        let (entries, _) = parse(status);
        let installed: Vec<_> = entries
            .iter()
            .filter(|e| e.is_installed())
            .map(|e| e.package.as_str())
            .collect();
        assert_eq!(installed, ["libexample1"]);
        assert_eq!(
            entries[0].source(),
            ("example-src".to_owned(), "2.4.1-3".to_owned())
        );
    }

    #[test]
    fn source_with_version() {
        let entry = DpkgEntry {
            package: "bsdutils".into(),
            version: "1:2.38.1-5+b1".into(),
            source: Some("util-linux (2.38.1-5)".into()),
            ..DpkgEntry::default()
        };
        assert_eq!(
            entry.source(),
            ("util-linux".to_owned(), "2.38.1-5".to_owned())
        );
    }

    #[test]
    fn continuation_and_crlf() {
        let status = b"Package: a\r\nVersion: 1\r\nDescription: x\r\n more\r\n .\r\n\r\nPackage: b\nVersion: 2\n";
        let (entries, skipped) = parse(status);
        assert_eq!(skipped, 0);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].version, "1");
    }

    #[test]
    fn huge_line_is_linear() {
        let mut status = b"Package: base-files\nVersion: 12.4+deb12u5\n\nPackage: big\nVersion: 1\nDescription: ".to_vec();
        status.resize(status.len() + (8 << 20), b'x');
        let (entries, _) = parse(&status);
        assert_eq!(entries.len(), 2);
    }
}
