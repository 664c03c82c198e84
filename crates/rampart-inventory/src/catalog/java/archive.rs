//! Reading one Java archive (a zip file) and the archives nested in it into
//! the list of Maven packages it contains.
//!
//! The archive is read from memory, and its central directory lists the
//! entries. When the central directory cannot be read (a truncated
//! download, say), the local file headers are read from the start instead.
//! Whatever they yield is kept beside a warning.
//!
//! Limits: untrusted archives can nest without end and expand without bound
//! (zip bombs), so every read is capped by [`ArchiveLimits`]. An entry over a
//! cap is skipped with a warning, and the rest of the archive is still read.

use std::io::{Cursor, Read};

use serde::{Deserialize, Serialize};

use super::manifest::{self, Manifest};
use super::pom_properties::{self, PomProperties};
use super::{filename, is_java_archive};
use crate::catalog::is_printable_token;

/// Caps on the work done for one archive file of the image.
#[derive(Clone, Copy, Debug)]
pub struct ArchiveLimits {
    /// Archives opened inside the image's archive: 1 opens
    /// `app.war:WEB-INF/lib/x.jar` but not the archives inside `x.jar`.
    pub max_depth: usize,
    /// Entries looked at in one archive. The rest are skipped with a warning.
    pub max_entries: usize,
    /// Size of one `MANIFEST.MF` or `pom.properties` after decompression.
    pub max_metadata_bytes: u64,
    /// Bytes decompressed from the entries of one archive, nested archives
    /// included.
    pub max_archive_expanded_bytes: u64,
    /// Bytes decompressed for one archive file of the image and everything
    /// nested in it.
    pub max_total_expanded_bytes: u64,
    /// Warnings kept for one archive file of the image. The rest are counted.
    pub max_warnings: usize,
}

/// Default cap on nesting depth. Spring Boot (`BOOT-INF/lib`) and web
/// applications (`WEB-INF/lib`) nest one level, an `.ear` holding `.war`s
/// two.
pub const MAX_DEPTH: usize = 4;
/// Default cap on entries per archive. Large fat jars hold tens of
/// thousands of classes.
pub const MAX_ENTRIES: usize = 200_000;
/// Default cap on one metadata entry. Real `MANIFEST.MF` files with long
/// OSGi `Export-Package` headers reach a few hundred KiB.
pub const MAX_METADATA_BYTES: u64 = 4 << 20;
/// Default cap on bytes decompressed from one archive.
pub const MAX_ARCHIVE_EXPANDED_BYTES: u64 = 512 << 20;
/// Default cap on bytes decompressed for one archive file of the image.
/// A nested archive is held in memory while it is read, so this also bounds
/// the memory one extraction uses beyond the outer archive itself.
pub const MAX_TOTAL_EXPANDED_BYTES: u64 = 1 << 30;
/// Default cap on warnings per archive file of the image.
pub const MAX_WARNINGS: usize = 20;

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: MAX_DEPTH,
            max_entries: MAX_ENTRIES,
            max_metadata_bytes: MAX_METADATA_BYTES,
            max_archive_expanded_bytes: MAX_ARCHIVE_EXPANDED_BYTES,
            max_total_expanded_bytes: MAX_TOTAL_EXPANDED_BYTES,
            max_warnings: MAX_WARNINGS,
        }
    }
}

/// The source of a package's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    PomProperties,
    Manifest,
    FileName,
}

/// One package found in an archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JavaPackage {
    /// The Maven groupId, when the archive states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub artifact_id: String,
    /// Empty when nothing in or about the archive gives a version.
    pub version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The image path of the outer archive, then `:ENTRY` for each nested
    /// archive, e.g. `/app/app.jar:BOOT-INF/lib/jackson-core-2.15.2.jar`.
    /// A package from a `pom.properties` other than the archive's own adds
    /// `:` and that file's path.
    pub virtual_path: String,
    pub evidence: Evidence,
}

/// The extract of one archive file: what the squash keeps of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveExtract {
    pub packages: Vec<JavaPackage>,
    /// Problems, each naming the archive's virtual path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Reads the archive at `path` (image path) with `content` as its bytes.
pub fn read_archive(path: &str, content: &[u8], limits: &ArchiveLimits) -> ArchiveExtract {
    let mut reader = Reader {
        limits,
        total_expanded: 0,
        extract: ArchiveExtract::default(),
        dropped_warnings: 0,
    };
    reader.read(path, content, 0);
    if reader.dropped_warnings > 0 {
        reader.extract.warnings.push(format!(
            "{path}: {} more warnings not shown",
            reader.dropped_warnings
        ));
    }
    reader.extract
}

struct Reader<'a> {
    limits: &'a ArchiveLimits,
    total_expanded: u64,
    extract: ArchiveExtract,
    dropped_warnings: usize,
}

/// The metadata entries of one archive.
#[derive(Default)]
struct Metadata {
    manifest: Option<Manifest>,
    /// (entry path, parsed file), sorted by path.
    pom_properties: Vec<(String, PomProperties)>,
}

/// The role of an entry, decided from its name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    Manifest,
    PomProperties,
    NestedArchive,
}

fn classify(name: &str) -> Option<EntryKind> {
    if name.ends_with('/') {
        return None;
    }
    if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
        return Some(EntryKind::Manifest);
    }
    if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
        return Some(EntryKind::PomProperties);
    }
    is_java_archive(name).then_some(EntryKind::NestedArchive)
}

impl Reader<'_> {
    fn warn(&mut self, message: String) {
        if self.extract.warnings.len() < self.limits.max_warnings {
            self.extract.warnings.push(message);
        } else {
            self.dropped_warnings += 1;
        }
    }

    /// Reads one archive at nesting `depth` (0 for the image's file) and
    /// appends its packages, its own identity first.
    fn read(&mut self, virtual_path: &str, content: &[u8], depth: usize) {
        let mut metadata = Metadata::default();
        let mut nested = Vec::new();
        let mut archive_expanded = 0;

        match zip::ZipArchive::new(Cursor::new(content)) {
            Ok(mut archive) => self.read_central_directory(
                virtual_path,
                &mut archive,
                depth,
                &mut metadata,
                &mut nested,
                &mut archive_expanded,
            ),
            Err(error) => {
                self.warn(format!(
                    "{virtual_path}: invalid or truncated Java archive ({error}); reading local file headers instead"
                ));
                let entries = self.read_local_headers(
                    virtual_path,
                    content,
                    depth,
                    &mut metadata,
                    &mut nested,
                    &mut archive_expanded,
                );
                // Not a zip at all: its name alone is no evidence of a package.
                if entries == 0 {
                    return;
                }
            }
        }

        metadata.pom_properties.sort_by(|a, b| a.0.cmp(&b.0));
        let own = self.identify(virtual_path, &metadata);
        self.extract.packages.extend(own);
        self.extract.packages.append(&mut nested);
    }

    fn read_central_directory(
        &mut self,
        virtual_path: &str,
        archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
        depth: usize,
        metadata: &mut Metadata,
        nested: &mut Vec<JavaPackage>,
        archive_expanded: &mut u64,
    ) {
        let count = archive.len();
        if count > self.limits.max_entries {
            self.warn(format!(
                "{virtual_path}: {count} entries, only the first {} are read",
                self.limits.max_entries
            ));
        }

        let mut selected = Vec::new();
        for index in 0..count.min(self.limits.max_entries) {
            let Some(Ok(name)) = archive.name_for_index(index) else {
                continue;
            };
            if let Some(kind) = classify(&name) {
                selected.push((index, name.into_owned(), kind));
            }
        }

        for (index, name, kind) in selected {
            let entry = match archive.by_index(index) {
                Ok(entry) => entry,
                Err(error) => {
                    self.warn(format!(
                        "{virtual_path}:{}: unreadable entry ({error})",
                        display(&name)
                    ));
                    continue;
                }
            };
            let declared = entry.size();
            let Some(data) =
                self.read_entry(virtual_path, &name, kind, entry, declared, archive_expanded)
            else {
                continue;
            };
            self.handle_entry(virtual_path, &name, kind, data, depth, metadata, nested);
        }
    }

    /// Reads entries from their local headers, for an archive whose central
    /// directory is missing or damaged. Returns the number of entries read.
    ///
    /// NOTE: skipping an entry decompresses it to find its end, so a large
    /// entry costs CPU time here even when it is not kept.
    fn read_local_headers(
        &mut self,
        virtual_path: &str,
        content: &[u8],
        depth: usize,
        metadata: &mut Metadata,
        nested: &mut Vec<JavaPackage>,
        archive_expanded: &mut u64,
    ) -> usize {
        let mut cursor = Cursor::new(content);
        let mut count = 0;
        while count < self.limits.max_entries {
            let entry = match zip::read::read_zipfile_from_stream(&mut cursor) {
                Ok(Some(entry)) => entry,
                Ok(None) => return count,
                Err(error) => {
                    if count > 0 {
                        self.warn(format!(
                            "{virtual_path}: local file headers end early ({error})"
                        ));
                    }
                    return count;
                }
            };
            count += 1;
            let Ok(name) = entry.name().map(std::borrow::Cow::into_owned) else {
                continue;
            };
            let Some(kind) = classify(&name) else {
                continue;
            };
            let declared = entry.size();
            let Some(data) =
                self.read_entry(virtual_path, &name, kind, entry, declared, archive_expanded)
            else {
                continue;
            };
            self.handle_entry(virtual_path, &name, kind, data, depth, metadata, nested);
        }
        count
    }

    /// Decompresses one entry within the caps. `declared` is the size the
    /// archive states, which is checked first but not trusted.
    fn read_entry(
        &mut self,
        virtual_path: &str,
        name: &str,
        kind: EntryKind,
        entry: impl Read,
        declared: u64,
        archive_expanded: &mut u64,
    ) -> Option<Vec<u8>> {
        let archive_left = self
            .limits
            .max_archive_expanded_bytes
            .saturating_sub(*archive_expanded);
        let total_left = self
            .limits
            .max_total_expanded_bytes
            .saturating_sub(self.total_expanded);
        let (cap, cap_name) = match kind {
            EntryKind::Manifest | EntryKind::PomProperties
                if self.limits.max_metadata_bytes <= archive_left.min(total_left) =>
            {
                (self.limits.max_metadata_bytes, "metadata entry")
            }
            _ if archive_left <= total_left => (archive_left, "archive expansion"),
            _ => (total_left, "total expansion"),
        };

        let too_large = |size: u64| {
            format!(
                "{virtual_path}:{}: expands to more than {cap} bytes ({cap_name} limit; {size} bytes declared); skipped",
                display(name)
            )
        };
        if declared > cap {
            self.warn(too_large(declared));
            return None;
        }

        let mut data = Vec::new();
        let read = entry.take(cap.saturating_add(1)).read_to_end(&mut data);
        let expanded = data.len() as u64;
        *archive_expanded = archive_expanded.saturating_add(expanded);
        self.total_expanded = self.total_expanded.saturating_add(expanded);
        if let Err(error) = read {
            self.warn(format!(
                "{virtual_path}:{}: unreadable entry ({error}); skipped",
                display(name)
            ));
            return None;
        }
        if expanded > cap {
            self.warn(too_large(declared));
            return None;
        }
        Some(data)
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_entry(
        &mut self,
        virtual_path: &str,
        name: &str,
        kind: EntryKind,
        data: Vec<u8>,
        depth: usize,
        metadata: &mut Metadata,
        nested: &mut Vec<JavaPackage>,
    ) {
        match kind {
            EntryKind::Manifest => metadata.manifest = Some(manifest::parse(&data)),
            EntryKind::PomProperties => metadata
                .pom_properties
                .push((name.to_owned(), pom_properties::parse(&data))),
            EntryKind::NestedArchive => {
                let inner_path = format!("{virtual_path}:{}", display(name));
                if depth >= self.limits.max_depth {
                    self.warn(format!(
                        "{inner_path}: nested deeper than {} archives; not read",
                        self.limits.max_depth
                    ));
                    return;
                }
                // The nested archive's packages go after this archive's own,
                // so they are collected apart and appended by `read`.
                let outer = std::mem::take(&mut self.extract.packages);
                self.read(&inner_path, &data, depth + 1);
                let inner = std::mem::replace(&mut self.extract.packages, outer);
                nested.extend(inner);
            }
        }
    }

    /// Builds the archive's own package and one package for every other
    /// `pom.properties` it carries.
    fn identify(&mut self, virtual_path: &str, metadata: &Metadata) -> Vec<JavaPackage> {
        let file = filename::parse(virtual_path);
        let licenses: Vec<String> = metadata
            .manifest
            .as_ref()
            .and_then(|m| m.main_value("Bundle-License"))
            .map(str::trim)
            .filter(|license| !license.is_empty())
            .map(|license| vec![license.to_owned()])
            .unwrap_or_default();

        let usable: Vec<&(String, PomProperties)> = metadata
            .pom_properties
            .iter()
            .filter(|(_, p)| is_printable_token(&p.artifact_id) && is_printable_token(&p.version))
            .collect();
        for (entry, _) in &metadata.pom_properties {
            if !usable.iter().any(|(used, _)| used == entry) {
                self.warn(format!(
                    "{virtual_path}:{}: no usable artifactId and version; ignored",
                    display(entry)
                ));
            }
        }

        let own_index = select_own_pom(&usable, &file.name);
        let mut packages = Vec::new();

        let is_instrumentation = metadata
            .manifest
            .as_ref()
            .is_some_and(|m| m.main_value("Weave-Classes").is_some());
        let own = match own_index {
            Some(index) => usable.get(index).map(|(_, properties)| JavaPackage {
                group_id: group_of(properties),
                artifact_id: properties.artifact_id.clone(),
                version: properties.version.clone(),
                licenses: licenses.clone(),
                virtual_path: virtual_path.to_owned(),
                evidence: Evidence::PomProperties,
            }),
            None if is_instrumentation => None,
            None => identify_without_pom(virtual_path, metadata.manifest.as_ref(), &file, licenses),
        };
        if let Some(own) = own {
            packages.push(own);
        }

        for (index, (entry, properties)) in usable.iter().enumerate() {
            if Some(index) == own_index {
                continue;
            }
            let duplicate = packages.first().is_some_and(|own: &JavaPackage| {
                own.artifact_id == properties.artifact_id
                    && own.version == properties.version
                    && own.group_id == group_of(properties)
            });
            if duplicate {
                continue;
            }
            packages.push(JavaPackage {
                group_id: group_of(properties),
                artifact_id: properties.artifact_id.clone(),
                version: properties.version.clone(),
                licenses: Vec::new(),
                virtual_path: format!("{virtual_path}:{}", display(entry)),
                evidence: Evidence::PomProperties,
            });
        }
        packages
    }
}

/// Chooses the `pom.properties` that describes the archive itself: one whose
/// artifactId matches the file name (an exact match first, then one whose
/// groupId the file name also carries, then the first by path), else the
/// only one.
fn select_own_pom(usable: &[&(String, PomProperties)], file_name: &str) -> Option<usize> {
    let matching: Vec<usize> = usable
        .iter()
        .enumerate()
        .filter(|(_, (_, p))| artifact_matches_file_name(&p.artifact_id, file_name))
        .map(|(index, _)| index)
        .collect();
    let exact = matching
        .iter()
        .copied()
        .find(|&index| usable[index].1.artifact_id == file_name);
    let grouped = matching.iter().copied().find(|&index| {
        let group = &usable[index].1.group_id;
        !group.is_empty() && file_name.starts_with(group.as_str())
    });
    exact
        .or(grouped)
        .or(matching.first().copied())
        .or((usable.len() == 1).then_some(0))
}

/// Whether an artifactId names the archive: the file name is a prefix of
/// it (`multiple-matching-1` in `multiple-matching-2.11.5.jar`) or it ends
/// the file name after a separator (`thename` in `org.multiple-thename.jar`).
fn artifact_matches_file_name(artifact_id: &str, file_name: &str) -> bool {
    if file_name.is_empty() || artifact_id.is_empty() {
        return false;
    }
    if artifact_id.starts_with(file_name) {
        return true;
    }
    file_name
        .strip_suffix(artifact_id)
        .is_some_and(|head| head.ends_with(['.', '-', '_']))
}

fn group_of(properties: &PomProperties) -> Option<String> {
    let group = properties.group_id.trim();
    is_printable_token(group).then(|| group.to_owned())
}

/// The archive's identity from its manifest and file name, when no
/// `pom.properties` names it. The name comes from the Maven Bundle Plugin's
/// symbolic name, else the file name, else other manifest headers. The
/// version comes from the manifest, else the file name.
///
/// NOTE: a file name such as `com.example.lib-1.0.jar` may be
/// `GROUPID.ARTIFACTID`, but artifactIds with dots are common too
/// (`jakarta.annotation-api`), so the whole name is kept unless the
/// manifest states that groupId.
fn identify_without_pom(
    virtual_path: &str,
    manifest: Option<&Manifest>,
    file: &filename::ArchiveFileName,
    licenses: Vec<String>,
) -> Option<JavaPackage> {
    let mut evidence = Evidence::Manifest;
    let artifact_id = match manifest.and_then(Manifest::bundle_plugin_artifact_id) {
        Some(name) => name,
        None if is_printable_token(&file.name) => {
            evidence = Evidence::FileName;
            file.name.clone()
        }
        None => manifest.and_then(Manifest::fallback_name)?,
    };

    let group_id = manifest.and_then(|m| m.group_id(&artifact_id));
    let mut artifact_id = artifact_id;
    if evidence == Evidence::FileName
        && let Some(group) = &group_id
        && let Some(rest) = artifact_id
            .strip_prefix(group.as_str())
            .and_then(|r| r.strip_prefix('.'))
        && !rest.is_empty()
    {
        artifact_id = rest.to_owned();
    }

    let version = match manifest.and_then(Manifest::version) {
        Some(version) => {
            evidence = Evidence::Manifest;
            version
        }
        None => file.version.clone(),
    };
    Some(JavaPackage {
        group_id,
        artifact_id,
        version,
        licenses,
        virtual_path: virtual_path.to_owned(),
        evidence,
    })
}

/// Shortens an entry name from the archive for a message or virtual path,
/// replacing control characters.
fn display(name: &str) -> String {
    const MAX_CHARS: usize = 512;
    name.chars()
        .take(MAX_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// Builds a deflated zip archive from (entry name, content) pairs.
    pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        zip_with(entries, zip::CompressionMethod::Deflated)
    }

    fn zip_with(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(false);
        for (name, content) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn pom(group: &str, artifact: &str, version: &str) -> Vec<u8> {
        format!("#Created by Apache Maven 3.9.6\ngroupId={group}\nartifactId={artifact}\nversion={version}\n")
            .into_bytes()
    }

    fn coordinates(extract: &ArchiveExtract) -> Vec<(Option<&str>, &str, &str)> {
        extract
            .packages
            .iter()
            .map(|p| {
                (
                    p.group_id.as_deref(),
                    p.artifact_id.as_str(),
                    p.version.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn war_with_nested_jar() {
        let inner = zip_of(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
            (
                "META-INF/maven/org.apache.commons/commons-lang3/pom.properties",
                &pom("org.apache.commons", "commons-lang3", "3.12.0"),
            ),
        ]);
        let outer = zip_of(&[
            (
                "META-INF/maven/com.example/shop/pom.properties",
                &pom("com.example", "shop", "2.0.1"),
            ),
            (
                "WEB-INF/classes/com/example/Shop.class",
                b"\xca\xfe\xba\xbe",
            ),
            ("WEB-INF/lib/commons-lang3-3.12.0.jar", &inner),
        ]);
        let extract = read_archive("/srv/shop-2.0.1.war", &outer, &ArchiveLimits::default());
        assert_eq!(
            coordinates(&extract),
            [
                (Some("com.example"), "shop", "2.0.1"),
                (Some("org.apache.commons"), "commons-lang3", "3.12.0"),
            ]
        );
        assert_eq!(extract.packages[0].virtual_path, "/srv/shop-2.0.1.war");
        assert_eq!(
            extract.packages[1].virtual_path,
            "/srv/shop-2.0.1.war:WEB-INF/lib/commons-lang3-3.12.0.jar"
        );
        assert!(extract.warnings.is_empty(), "{:?}", extract.warnings);
    }

    #[test]
    fn shaded_jar_reports_contents() {
        let jar = zip_of(&[
            (
                "META-INF/maven/com.example/tool/pom.properties",
                &pom("com.example", "tool", "1.4"),
            ),
            (
                "META-INF/maven/com.google.guava/guava/pom.properties",
                &pom("com.google.guava", "guava", "31.1-jre"),
            ),
        ]);
        let extract = read_archive("/opt/tool-1.4-all.jar", &jar, &ArchiveLimits::default());
        assert_eq!(
            coordinates(&extract),
            [
                (Some("com.example"), "tool", "1.4"),
                (Some("com.google.guava"), "guava", "31.1-jre"),
            ]
        );
        assert_eq!(extract.packages[0].evidence, Evidence::PomProperties);
        assert_eq!(
            extract.packages[1].virtual_path,
            "/opt/tool-1.4-all.jar:META-INF/maven/com.google.guava/guava/pom.properties"
        );
    }

    #[test]
    fn metadata_bomb_is_skipped() {
        let mut padded = pom("com.example", "padded", "9.9");
        padded.extend(std::iter::repeat_n(b'#', 64 * 1024));
        let jar = zip_of(&[
            ("META-INF/maven/com.example/padded/pom.properties", &padded),
            ("META-INF/MANIFEST.MF", b"Implementation-Version: 1.0\n"),
        ]);
        let limits = ArchiveLimits {
            max_metadata_bytes: 4096,
            ..ArchiveLimits::default()
        };
        let extract = read_archive("/lib/padded-1.0.jar", &jar, &limits);
        assert_eq!(coordinates(&extract), [(None, "padded", "1.0")]);
        assert_eq!(extract.warnings.len(), 1, "{:?}", extract.warnings);
        assert!(extract.warnings[0].contains("pom.properties: expands to more than 4096 bytes"));
    }

    #[test]
    fn nested_archive_bomb_is_skipped() {
        // A jar whose entries are stored, not compressed, deflates very well
        // as an entry of the outer jar: 2 MiB expanded from a few KiB.
        let zeros = vec![0_u8; 2 << 20];
        let bomb = zip_with(&[("zeros.bin", &zeros)], zip::CompressionMethod::Stored);
        let outer = zip_of(&[
            ("BOOT-INF/lib/bomb-1.0.jar", &bomb),
            ("BOOT-INF/lib/small-2.0.jar", &zip_of(&[])),
        ]);
        assert!(outer.len() < 64 * 1024, "the fixture is small compressed");
        let limits = ArchiveLimits {
            max_archive_expanded_bytes: 64 * 1024,
            ..ArchiveLimits::default()
        };
        let extract = read_archive("/app/app.jar", &outer, &limits);
        assert_eq!(
            coordinates(&extract),
            [(None, "app", ""), (None, "small", "2.0")]
        );
        assert!(
            extract
                .warnings
                .iter()
                .any(|w| w
                    .starts_with("/app/app.jar:BOOT-INF/lib/bomb-1.0.jar: expands to more than")),
            "{:?}",
            extract.warnings
        );
    }

    #[test]
    fn total_expansion_is_capped() {
        let inner = zip_of(&[("META-INF/maven/g/a/pom.properties", &pom("g", "a", "1"))]);
        let outer = zip_of(&[
            ("lib/a-1.jar", &inner),
            ("lib/b-1.jar", &inner),
            ("lib/c-1.jar", &inner),
        ]);
        let limits = ArchiveLimits {
            max_total_expanded_bytes: inner.len() as u64 * 2 + 200,
            ..ArchiveLimits::default()
        };
        let extract = read_archive("/x.jar", &outer, &limits);
        assert_eq!(
            extract
                .packages
                .iter()
                .filter(|p| p.artifact_id == "a")
                .count(),
            2
        );
        assert!(
            extract
                .warnings
                .iter()
                .any(|w| w.contains("total expansion limit")),
            "{:?}",
            extract.warnings
        );
    }

    #[test]
    fn depth_is_capped() {
        let mut archive = zip_of(&[(
            "META-INF/maven/g/deep/pom.properties",
            &pom("g", "deep", "1"),
        )]);
        for level in 0..3 {
            archive = zip_of(&[(&format!("lib/level{level}.jar"), &archive)]);
        }
        let limits = ArchiveLimits {
            max_depth: 2,
            ..ArchiveLimits::default()
        };
        let extract = read_archive("/top.jar", &archive, &limits);
        assert!(extract.packages.iter().all(|p| p.artifact_id != "deep"));
        assert_eq!(extract.warnings.len(), 1, "{:?}", extract.warnings);
        assert!(extract.warnings[0].contains("nested deeper than 2 archives"));
        let deep = read_archive("/top.jar", &archive, &ArchiveLimits::default());
        assert!(deep.packages.iter().any(|p| p.artifact_id == "deep"));
    }

    #[test]
    fn truncated_jar_keeps_leading_entries() {
        let jar = zip_of(&[
            (
                "META-INF/maven/org.example/first/pom.properties",
                &pom("org.example", "first", "1.0"),
            ),
            (
                "padding.bin",
                &(0..40_000_u32)
                    .flat_map(u32::to_le_bytes)
                    .collect::<Vec<_>>(),
            ),
            (
                "META-INF/maven/org.example/last/pom.properties",
                &pom("org.example", "last", "2.0"),
            ),
        ]);
        let truncated = &jar[..jar.len() / 2];
        let extract = read_archive("/lib/first-1.0.jar", truncated, &ArchiveLimits::default());
        assert_eq!(
            coordinates(&extract),
            [(Some("org.example"), "first", "1.0")]
        );
        assert!(!extract.warnings.is_empty());
        assert!(
            extract.warnings[0]
                .starts_with("/lib/first-1.0.jar: invalid or truncated Java archive")
        );
    }

    #[test]
    fn not_a_zip_gives_warning_only() {
        let extract = read_archive(
            "/x/example.jar",
            b"example archive\nexample archive\n",
            &ArchiveLimits::default(),
        );
        assert!(extract.packages.is_empty());
        assert!(
            extract.warnings[0].starts_with("/x/example.jar: invalid or truncated Java archive")
        );
    }

    #[test]
    fn instrumentation_jar_has_no_identity() {
        let jar = zip_of(&[(
            "META-INF/MANIFEST.MF",
            b"Implementation-Title: com.newrelic.instrumentation.spring-4.3.0\nImplementation-Version: 1.0\nWeave-Classes: org/a/B\n",
        )]);
        let extract = read_archive("/nr/spring-4.3.0-1.0.jar", &jar, &ArchiveLimits::default());
        assert!(extract.packages.is_empty());
    }

    #[test]
    fn manifest_and_file_name_fallbacks() {
        let jar = zip_of(&[(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nBundle-License: Apache-2.0\nImplementation-Vendor-Id: io.example\nImplementation-Version: 3.1\n",
        )]);
        let extract = read_archive(
            "/lib/io.example.widget.jar",
            &jar,
            &ArchiveLimits::default(),
        );
        assert_eq!(
            coordinates(&extract),
            [(Some("io.example"), "widget", "3.1")]
        );
        assert_eq!(extract.packages[0].licenses, ["Apache-2.0"]);

        let bare = zip_of(&[("a.txt", b"x")]);
        let extract = read_archive(
            "/lib/http4s-crypto_2.12-0.1.0.jar",
            &bare,
            &ArchiveLimits::default(),
        );
        assert_eq!(
            coordinates(&extract),
            [(None, "http4s-crypto_2.12", "0.1.0")]
        );
        assert_eq!(extract.packages[0].evidence, Evidence::FileName);
    }

    #[test]
    fn entry_count_is_capped() {
        let names: Vec<String> = (0..50).map(|i| format!("f{i}.txt")).collect();
        let mut entries: Vec<(&str, &[u8])> = names
            .iter()
            .map(|n| (n.as_str(), b"x".as_slice()))
            .collect();
        entries.push((
            "META-INF/maven/g/late/pom.properties",
            b"groupId=g\nartifactId=late\nversion=1\n",
        ));
        let jar = zip_of(&entries);
        let limits = ArchiveLimits {
            max_entries: 10,
            ..ArchiveLimits::default()
        };
        let extract = read_archive("/late-1.jar", &jar, &limits);
        assert_eq!(coordinates(&extract), [(None, "late", "1")]);
        assert!(extract.warnings[0].contains("51 entries, only the first 10 are read"));
    }
}
