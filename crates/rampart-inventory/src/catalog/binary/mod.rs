//! Packages recorded inside executables: the Go build information of Go
//! binaries (see [`go_buildinfo`]) and the cargo-auditable dependency list
//! of Rust binaries (see [`auditable`]), in ELF, Mach-O (including fat
//! binaries) and PE files.
//!
//! One cataloger reads both, because the image squash keeps a single
//! extract per file. The extractor runs on every executable of an image
//! (hundreds of shared libraries and programs in a Debian image), so it
//! checks the magic bytes first and then reads only the headers and the
//! section table. Beyond a search for the Go build ID in the first 32 KiB
//! of non-ELF files, it scans content only for a Go binary whose build
//! information has no section of its own.
//!
//! Traps:
//! - A fat Mach-O file contains one binary per architecture. The first
//!   architecture with build information or a dependency list is used.
//! - Several catalogers may have an extractor for the same executable (a
//!   `.jar` with the execute bit). The squash keeps the first one's output,
//!   so records carry [`RECORD_PREFIX`] and anything else is not ours.

pub mod auditable;
pub mod go_buildinfo;
pub mod go_modinfo;

use object::FileKind;
use object::read::macho::{FatArch, MachOFatFile32, MachOFatFile64};
use serde::{Deserialize, Serialize};

use super::{CatalogContext, CatalogOutput, Cataloger};
use auditable::AuditedCrate;
use go_buildinfo::RawBuildInfo;

/// Marks an extract written by this cataloger, followed by JSON.
pub const RECORD_PREFIX: &[u8] = b"rampart-binary-v1\n";

/// Magic numbers of the executable formats read here: ELF, Mach-O (32 and
/// 64 bit, both byte orders), fat Mach-O, and the MS-DOS stub of PE.
const MAGICS: [&[u8]; 8] = [
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xca\xfe\xba\xbf",
    b"MZ",
];

pub struct BinaryCataloger;

/// The extract of one executable: its Go build information, its crates
/// and the damage found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<RawBuildInfo>,
    /// The runtime crates of the cargo-auditable list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crates: Vec<AuditedCrate>,
    /// Damage found while reading, without the file path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl BinaryRecord {
    fn is_empty(&self) -> bool {
        self.go.is_none() && self.crates.is_empty() && self.problems.is_empty()
    }
}

/// Whether a file is a regular file the extractor should see: any execute
/// bit set, or a Windows `.exe` name.
fn is_executable(path: &str, mode: u32) -> bool {
    let bytes = path.as_bytes();
    mode & 0o111 != 0 || (bytes.len() > 4 && bytes[bytes.len() - 4..].eq_ignore_ascii_case(b".exe"))
}

/// Extracts the record of an executable with Go build information or a
/// cargo-auditable list, or with damage in either. Returns `None` otherwise.
pub fn extract(_path: &str, content: &[u8]) -> Option<Vec<u8>> {
    if !MAGICS.iter().any(|magic| content.starts_with(magic)) {
        return None;
    }
    let record = read_binary(content);
    if record.is_empty() {
        return None;
    }
    let mut output = RECORD_PREFIX.to_vec();
    serde_json::to_writer(&mut output, &record).ok()?;
    Some(output)
}

/// Reads an executable, each architecture of a fat Mach-O file in turn.
pub fn read_binary(content: &[u8]) -> BinaryRecord {
    let mut record = BinaryRecord::default();
    match FileKind::parse(content) {
        Ok(FileKind::MachOFat32) => {
            if let Ok(fat) = MachOFatFile32::parse(content) {
                for arch in fat.arches() {
                    if let Ok(data) = arch.data(content) {
                        read_object(data, &mut record);
                    }
                }
            }
        }
        Ok(FileKind::MachOFat64) => {
            if let Ok(fat) = MachOFatFile64::parse(content) {
                for arch in fat.arches() {
                    if let Ok(data) = arch.data(content) {
                        read_object(data, &mut record);
                    }
                }
            }
        }
        Ok(_) => read_object(content, &mut record),
        Err(_) => {}
    }
    record
}

/// Adds the build information and crates of one object file to the record,
/// unless an earlier architecture already gave them.
fn read_object(data: &[u8], record: &mut BinaryRecord) {
    let Ok(file) = object::File::parse(data) else {
        return;
    };
    if record.go.is_none() {
        match go_buildinfo::find(&file, data) {
            Ok(found) => record.go = found,
            Err(problem) => record.problems.push(problem),
        }
    }
    if record.crates.is_empty() {
        match auditable::find(&file) {
            Ok(Some((crates, problems))) => {
                record.crates = crates;
                record.problems.extend(problems);
            }
            Ok(None) => {}
            Err(problem) => record.problems.push(problem),
        }
    }
}

impl Cataloger for BinaryCataloger {
    fn name(&self) -> &'static str {
        "binary"
    }

    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn extractor(&self, path: &str, mode: u32) -> Option<rampart_image::Extractor> {
        is_executable(path, mode).then_some(extract as rampart_image::Extractor)
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        for (path, extract) in context.extracts(self) {
            let Some(json) = extract.strip_prefix(RECORD_PREFIX) else {
                // Another cataloger's extract of the same executable.
                continue;
            };
            let record: BinaryRecord = match serde_json::from_slice(json) {
                Ok(record) => record,
                Err(error) => {
                    output
                        .warnings
                        .push(format!("{path}: unreadable binary record: {error}"));
                    continue;
                }
            };
            for problem in &record.problems {
                output.warnings.push(format!("{path}: {problem}"));
            }

            let location = context.location(&path);
            let mut packages = Vec::new();
            if let Some(raw) = &record.go {
                let (go_packages, problems) = go_buildinfo::packages(raw);
                packages.extend(go_packages);
                for problem in problems {
                    output
                        .warnings
                        .push(format!("{path}: Go build information {problem}"));
                }
            }
            packages.extend(record.crates.iter().map(auditable::package));
            for mut package in packages {
                package.locations.push(location.clone());
                output.packages.push(package);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod test_elf {
    //! A writer of minimal ELF64 little-endian executables: the file header,
    //! one `PT_LOAD` segment (read and write) mapping the whole file at
    //! [`BASE`], the given `PROGBITS` sections, `.shstrtab` and the section
    //! header table. The object crate's writer is not a dependency.

    /// The virtual address of file offset 0.
    pub const BASE: u64 = 0x40_0000;
    /// The file offset of the first section: the 64-byte file header and
    /// one 56-byte program header, rounded up to 16.
    pub const FIRST_SECTION_OFFSET: u64 = 128;

    fn align16(value: usize) -> usize {
        (value + 15) & !15
    }

    /// Builds the file; sections are laid out in order, each 16-byte aligned.
    pub fn build(sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut file = vec![0u8; FIRST_SECTION_OFFSET as usize];
        let mut headers = Vec::new();
        let mut names = b"\0".to_vec();
        for (name, data) in sections {
            file.resize(align16(file.len()), 0);
            headers.push((names.len() as u32, 1u32, 3u64, file.len(), data.len()));
            names.extend_from_slice(name.as_bytes());
            names.push(0);
            file.extend_from_slice(data);
        }
        let shstrtab_name = names.len() as u32;
        names.extend_from_slice(b".shstrtab\0");
        file.resize(align16(file.len()), 0);
        headers.push((shstrtab_name, 3, 0, file.len(), names.len()));
        file.extend_from_slice(&names);
        file.resize(align16(file.len()), 0);
        let section_headers = file.len();

        let mut table = vec![0u8; 64];
        for (name, kind, flags, offset, size) in &headers {
            let address = if *flags != 0 {
                BASE + *offset as u64
            } else {
                0
            };
            table.extend_from_slice(&name.to_le_bytes());
            table.extend_from_slice(&kind.to_le_bytes());
            table.extend_from_slice(&flags.to_le_bytes());
            table.extend_from_slice(&address.to_le_bytes());
            table.extend_from_slice(&(*offset as u64).to_le_bytes());
            table.extend_from_slice(&(*size as u64).to_le_bytes());
            table.extend_from_slice(&[0; 8]);
            table.extend_from_slice(&16u64.to_le_bytes());
            table.extend_from_slice(&[0; 8]);
        }
        file.extend_from_slice(&table);
        let total = file.len() as u64;

        let mut header = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        header.resize(16, 0);
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&0x3eu16.to_le_bytes());
        header.extend_from_slice(&1u32.to_le_bytes());
        header.extend_from_slice(&BASE.to_le_bytes());
        header.extend_from_slice(&64u64.to_le_bytes());
        header.extend_from_slice(&(section_headers as u64).to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&64u16.to_le_bytes());
        header.extend_from_slice(&56u16.to_le_bytes());
        header.extend_from_slice(&1u16.to_le_bytes());
        header.extend_from_slice(&64u16.to_le_bytes());
        header.extend_from_slice(&(headers.len() as u16 + 1).to_le_bytes());
        header.extend_from_slice(&(headers.len() as u16).to_le_bytes());

        // PT_LOAD, PF_R | PF_W, the whole file.
        header.extend_from_slice(&1u32.to_le_bytes());
        header.extend_from_slice(&6u32.to_le_bytes());
        header.extend_from_slice(&0u64.to_le_bytes());
        header.extend_from_slice(&BASE.to_le_bytes());
        header.extend_from_slice(&BASE.to_le_bytes());
        header.extend_from_slice(&total.to_le_bytes());
        header.extend_from_slice(&total.to_le_bytes());
        header.extend_from_slice(&0x1000u64.to_le_bytes());

        file[..header.len()].copy_from_slice(&header);
        file
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::test_elf::{BASE, FIRST_SECTION_OFFSET, build};
    use super::*;

    const MODINFO: &str = "path\texample.com/hello\nmod\texample.com/hello\tv1.2.3\t\ndep\tgithub.com/google/uuid\tv1.6.0\th1:x=\nbuild\tGOARCH=amd64\n";

    fn wrapped_modinfo(text: &str) -> Vec<u8> {
        let mut modinfo = vec![0x30; 16];
        modinfo.extend_from_slice(text.as_bytes());
        modinfo.extend_from_slice(&[0xf9; 16]);
        modinfo
    }

    /// A Go 1.18+ build information blob with inline strings.
    pub(crate) fn inline_blob(go_version: &str, modinfo: &str) -> Vec<u8> {
        let modinfo = wrapped_modinfo(modinfo);
        let mut blob = b"\xff Go buildinf:".to_vec();
        blob.extend_from_slice(&[8, 2]);
        blob.resize(32, 0);
        for string in [go_version.as_bytes(), &modinfo] {
            let mut length = string.len();
            loop {
                let byte = (length & 0x7f) as u8;
                length >>= 7;
                if length == 0 {
                    blob.push(byte);
                    break;
                }
                blob.push(byte | 0x80);
            }
            blob.extend_from_slice(string);
        }
        blob
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn go_inline_section() {
        let blob = inline_blob("go1.24.3", MODINFO);
        let elf = build(&[(".text", b"\x90\x90"), (".go.buildinfo", &blob)]);
        let record = read_binary(&elf);
        assert!(record.problems.is_empty(), "{:?}", record.problems);
        let go = record.go.unwrap();
        assert_eq!(go.go_version, "go1.24.3");
        assert_eq!(go.modinfo, MODINFO);
    }

    #[test]
    fn go_pointer_format() {
        // Header, then two 16-byte string headers, then the two strings, all
        // in one section whose address is known.
        let address = BASE + FIRST_SECTION_OFFSET;
        let version = b"go1.16.15";
        let modinfo = wrapped_modinfo(MODINFO);
        let version_at = address + 64;
        let modinfo_at = version_at + version.len() as u64;
        let mut blob = b"\xff Go buildinf:".to_vec();
        blob.extend_from_slice(&[8, 0]);
        blob.extend_from_slice(&(address + 32).to_le_bytes());
        blob.extend_from_slice(&(address + 48).to_le_bytes());
        blob.extend_from_slice(&version_at.to_le_bytes());
        blob.extend_from_slice(&(version.len() as u64).to_le_bytes());
        blob.extend_from_slice(&modinfo_at.to_le_bytes());
        blob.extend_from_slice(&(modinfo.len() as u64).to_le_bytes());
        blob.extend_from_slice(version);
        blob.extend_from_slice(&modinfo);

        let record = read_binary(&build(&[(".go.buildinfo", &blob)]));
        let go = record.go.unwrap();
        assert_eq!(go.go_version, "go1.16.15");
        assert_eq!(go.modinfo, MODINFO);
    }

    #[test]
    fn go_buildinfo_in_data_segment() {
        // No `.go.buildinfo` section: a Go binary (it has `.gopclntab`) whose
        // blob sits in the writable segment at an aligned offset.
        let mut data = vec![0u8; 48];
        data.extend_from_slice(&inline_blob("go1.24.3", MODINFO));
        let elf = build(&[(".gopclntab", b"\xf1\xff\xff\xff"), (".data", &data)]);
        assert_eq!(read_binary(&elf).go.unwrap().go_version, "go1.24.3");

        // Without a Go marker the data is not searched.
        let elf = build(&[(".data", &data)]);
        assert_eq!(read_binary(&elf).go, None);
    }

    #[test]
    fn auditable_section() {
        let json = br#"{"packages":[{"name":"smallvec","version":"0.6.13","source":"crates.io"},{"name":"app","version":"0.1.0","source":"local","root":true}]}"#;
        let elf = build(&[(".dep-v0", &zlib(json))]);
        let record = read_binary(&elf);
        assert_eq!(record.crates.len(), 2);
        assert_eq!(record.crates[0].name, "smallvec");
        assert!(record.go.is_none());
    }

    #[test]
    fn go_and_rust_in_one_binary() {
        let json = br#"{"packages":[{"name":"libc","version":"0.2.191","source":"crates.io"}]}"#;
        let blob = inline_blob("go1.22.1", MODINFO);
        let elf = build(&[(".go.buildinfo", &blob), (".dep-v0", &zlib(json))]);
        let extract = extract("/bin/x", &elf).unwrap();
        let json = extract.strip_prefix(RECORD_PREFIX).unwrap();
        let record: BinaryRecord = serde_json::from_slice(json).unwrap();
        assert_eq!(record.crates.len(), 1);
        assert_eq!(record.go.unwrap().go_version, "go1.22.1");
    }

    #[test]
    fn plain_elf_gives_no_extract() {
        let elf = build(&[(".text", b"\x90\x90\xc3"), (".data", &[0; 64])]);
        assert_eq!(extract("/usr/lib/libplain.so", &elf), None);
    }

    #[test]
    fn not_an_executable_gives_no_extract() {
        assert_eq!(extract("/usr/bin/script", b"#!/bin/sh\necho hi\n"), None);
        assert_eq!(extract("/x", b""), None);
        assert_eq!(extract("/x", b"MZ"), None);
    }

    #[test]
    fn truncated_elf_does_not_panic() {
        let blob = inline_blob("go1.24.3", MODINFO);
        let json = br#"{"packages":[{"name":"libc","version":"0.2.191","source":"crates.io"}]}"#;
        let elf = build(&[(".go.buildinfo", &blob), (".dep-v0", &zlib(json))]);
        for length in 0..elf.len() {
            let _ = extract("/bin/x", &elf[..length]);
        }
    }

    #[test]
    fn damaged_sections_are_problems() {
        let elf = build(&[(".go.buildinfo", &[0u8; 64]), (".dep-v0", b"garbage")]);
        let record = read_binary(&elf);
        assert!(record.go.is_none());
        assert_eq!(record.problems.len(), 2, "{:?}", record.problems);
        assert!(record.problems[0].contains("Go build information"));
        assert!(record.problems[1].contains("cargo-auditable"));
    }

    proptest::proptest! {
        /// The extractor accepts any bytes after an executable magic
        /// without panicking.
        #[test]
        fn extract_accepts_arbitrary_bytes(
            magic in 0..MAGICS.len(),
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
        ) {
            let mut content = MAGICS[magic].to_vec();
            content.extend_from_slice(&bytes);
            let _ = extract("/bin/x", &content);
        }

        /// A valid binary with corrupted bytes is read without panicking,
        /// and only printable crate names are kept.
        #[test]
        fn extract_accepts_damaged_elf(
            damage in proptest::collection::vec((0usize..2048, proptest::prelude::any::<u8>()), 1..16),
        ) {
            let json = br#"{"packages":[{"name":"libc","version":"0.2.191","source":"crates.io"}]}"#;
            let blob = inline_blob("go1.24.3", MODINFO);
            let mut elf = build(&[(".go.buildinfo", &blob), (".dep-v0", &zlib(json))]);
            for (offset, byte) in damage {
                let length = elf.len();
                elf[offset % length] = byte;
            }
            let record = read_binary(&elf);
            for audited in &record.crates {
                proptest::prop_assert!(crate::catalog::is_printable_token(&audited.name));
            }
            if let Some(raw) = &record.go {
                let _ = go_buildinfo::packages(raw);
            }
        }

        /// Module information soup never panics the parser or the package builder.
        #[test]
        fn modinfo_accepts_line_soup(
            lines in proptest::collection::vec("(path|mod|dep|=>|build|go)\t[ -~\t]{0,24}", 0..40),
            go_version in "[ -~]{0,12}",
        ) {
            let raw = RawBuildInfo { go_version, modinfo: lines.join("\n") };
            let (packages, _) = go_buildinfo::packages(&raw);
            for package in packages {
                proptest::prop_assert!(!package.purl.is_empty());
            }
        }

        /// Arbitrary section content gives an error or crates, never a panic.
        #[test]
        fn auditable_accepts_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let _ = auditable::parse_compressed(&bytes);
            let _ = auditable::parse_json(&bytes);
            let _ = auditable::parse_compressed(&zlib(&bytes));
        }
    }

    #[test]
    fn executable_rule() {
        assert!(is_executable("/usr/bin/x", 0o100755));
        assert!(is_executable("/app/tool.EXE", 0o644));
        assert!(!is_executable("/usr/lib/libc.so.6", 0o644));
        assert!(!is_executable(".exe", 0o644));
    }
}
