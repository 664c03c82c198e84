//! Parser for one rpm header blob as the rpm package database stores it.
//!
//! Source: rpm's `lib/header.c` (`hdrblobInit`, `hdrblobVerifyInfo`, `dataLength` and the
//! `hdrchk*` limits). The tag handling follows knqyf263/go-rpmdb (`pkg/entry.go`,
//! `pkg/package.go`, MIT, commit 048d45d7a4a633de1b2d72506ece359a3b8349c2).
//!
//! Layout, every integer big-endian:
//!
//! ```text
//! u32 il                      number of index entries
//! u32 dl                      length of the data store in bytes
//! il × 16-byte index entries  { i32 tag, u32 type, i32 offset, u32 count }
//! dl bytes of data store      offsets in the index entries are relative to its start
//! ```
//!
//! Traps of the format:
//! - The database copy has no 8-byte magic `8e ad e8 01 00 00 00 00`, unlike a header inside
//!   an `.rpm` file. The blob starts directly with `il`.
//! - The first entry is usually a region tag (61, 62 or 63) whose data is a 16-byte trailer,
//!   not package data. Entries after the region ("dribbles") replace region entries with
//!   the same tag, so the last entry for a tag wins, as in go-rpmdb.
//! - Strings are NUL-terminated with no length. A STRING entry has count 1, while a
//!   STRING_ARRAY or I18NSTRING entry contains `count` consecutive strings. Summary-like tags
//!   may use I18NSTRING, whose first string is the untranslated text.
//! - INT32 data must be 4-byte aligned within the data store, and the count can claim
//!   more elements than the store holds.
//! - Packages list files either as BASENAMES + DIRNAMES + DIRINDEXES
//!   (`rpmlib(CompressedFileNames)`, where every directory name ends in `/`) or as the old
//!   FILENAMES full paths.
//! - Optional strings such as SOURCERPM, LICENSE and VENDOR may contain the literal
//!   `(none)`, which this parser reads as absent.

use super::RpmHeader;

/// rpm tag type codes, in the order of the `typeSizes` table in rpm's `lib/header.c`.
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;
const TYPE_MAX: u32 = 9;

const TAG_NAME: i32 = 1000;
const TAG_VERSION: i32 = 1001;
const TAG_RELEASE: i32 = 1002;
const TAG_EPOCH: i32 = 1003;
const TAG_SIZE: i32 = 1009;
const TAG_VENDOR: i32 = 1011;
const TAG_LICENSE: i32 = 1014;
const TAG_ARCH: i32 = 1022;
const TAG_OLDFILENAMES: i32 = 1027;
const TAG_SOURCERPM: i32 = 1044;
const TAG_DIRINDEXES: i32 = 1116;
const TAG_BASENAMES: i32 = 1117;
const TAG_DIRNAMES: i32 = 1118;
/// rpm stores LONGSIZE (int64) in place of SIZE when the installed size exceeds 4 GiB.
const TAG_LONGSIZE: i32 = 5009;

const PREAMBLE_SIZE: usize = 8;
const INDEX_ENTRY_SIZE: usize = 16;

/// Maximum index entries per header, rpm's `HEADER_TAGS_MAX` (0xffff).
pub const MAX_INDEX_ENTRIES: u32 = 0xffff;
/// Maximum data store length, rpm's `HEADER_DATA_MAX` (0x0fffffff, 256 MiB).
pub const MAX_DATA_LENGTH: u32 = 0x0fff_ffff;
/// Maximum element count of an array entry, `HEADER_ARRAY_MAX` (0xfffff) of recent rpm
/// releases. Older releases cap the count only at `HEADER_DATA_MAX`.
pub const MAX_ARRAY_COUNT: u32 = 0x000f_ffff;
/// Maximum total bytes of the joined file paths of one package.
///
/// NOTE: this is an estimate, not an rpm limit. Large real packages list a few MiB of
/// paths, while DIRINDEXES can repeat one long directory name for every base name.
pub const MAX_FILE_LIST_BYTES: usize = 64 << 20;

/// Error for a header blob that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("header blob is {len} bytes, shorter than the 8-byte index count and data length")]
    TooShort { len: usize },
    #[error("header index count {count} is outside the valid range 1..={MAX_INDEX_ENTRIES}")]
    IndexCount { count: u32 },
    #[error("header data length {length} exceeds the maximum of {MAX_DATA_LENGTH} bytes")]
    DataLength { length: u32 },
    #[error(
        "header needs {needed} bytes for {entries} index entries and {data_length} data bytes, \
         but the blob is {len} bytes"
    )]
    Truncated {
        needed: usize,
        entries: u32,
        data_length: u32,
        len: usize,
    },
    #[error("header index entry {index} (tag {tag}): {problem}")]
    Entry {
        index: usize,
        tag: i32,
        problem: EntryProblem,
    },
    #[error("header has no {name} tag ({tag})")]
    MissingTag { name: &'static str, tag: i32 },
}

/// Problem found in one index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    #[error("type {0} is not a valid rpm tag type (0..=9)")]
    InvalidType(u32),
    #[error("data offset {offset} is outside the {data_length}-byte data store")]
    OffsetOutOfRange { offset: i32, data_length: u32 },
    #[error("type {found} is invalid for this tag, expected {expected}")]
    WrongType { found: u32, expected: &'static str },
    #[error("count {0} is invalid, expected at least 1 and at most {MAX_ARRAY_COUNT}")]
    InvalidCount(u32),
    #[error("STRING entry has count {0}, expected 1")]
    StringCount(u32),
    #[error("data offset {0} is not aligned to the element size")]
    Misaligned(i32),
    #[error("{count} elements starting at offset {offset} run past the end of the data store")]
    PastEnd { offset: i32, count: u32 },
    #[error("string at offset {0} has no NUL terminator inside the data store")]
    UnterminatedString(i32),
}

/// One index entry after the checks that apply to every entry.
#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    position: usize,
    tag: i32,
    data_type: u32,
    offset: usize,
    raw_offset: i32,
    count: u32,
}

impl IndexEntry {
    fn error(&self, problem: EntryProblem) -> HeaderError {
        HeaderError::Entry {
            index: self.position,
            tag: self.tag,
            problem,
        }
    }
}

/// Index entries of the tags this parser reads, the last one per tag.
#[derive(Debug, Default)]
struct SelectedEntries {
    name: Option<IndexEntry>,
    version: Option<IndexEntry>,
    release: Option<IndexEntry>,
    epoch: Option<IndexEntry>,
    size: Option<IndexEntry>,
    long_size: Option<IndexEntry>,
    vendor: Option<IndexEntry>,
    license: Option<IndexEntry>,
    arch: Option<IndexEntry>,
    source_rpm: Option<IndexEntry>,
    old_file_names: Option<IndexEntry>,
    dir_indexes: Option<IndexEntry>,
    base_names: Option<IndexEntry>,
    dir_names: Option<IndexEntry>,
}

impl SelectedEntries {
    fn slot(&mut self, tag: i32) -> Option<&mut Option<IndexEntry>> {
        let slot = match tag {
            TAG_NAME => &mut self.name,
            TAG_VERSION => &mut self.version,
            TAG_RELEASE => &mut self.release,
            TAG_EPOCH => &mut self.epoch,
            TAG_SIZE => &mut self.size,
            TAG_LONGSIZE => &mut self.long_size,
            TAG_VENDOR => &mut self.vendor,
            TAG_LICENSE => &mut self.license,
            TAG_ARCH => &mut self.arch,
            TAG_SOURCERPM => &mut self.source_rpm,
            TAG_OLDFILENAMES => &mut self.old_file_names,
            TAG_DIRINDEXES => &mut self.dir_indexes,
            TAG_BASENAMES => &mut self.base_names,
            TAG_DIRNAMES => &mut self.dir_names,
            _ => return None,
        };
        Some(slot)
    }
}

/// Parses a header blob from the package database into an [`RpmHeader`].
///
/// Every index entry must have a valid type and an offset inside the data store. Only the
/// entries of the tags that [`RpmHeader`] needs are decoded, so the work stays linear in
/// the blob size. NAME, VERSION and RELEASE are required. An inconsistent file list is
/// logged and leaves `files` empty, because the package identity is still sound.
pub fn parse_header(blob: &[u8]) -> Result<RpmHeader, HeaderError> {
    let (Some(entry_count), Some(data_length)) = (read_be_u32(blob, 0), read_be_u32(blob, 4))
    else {
        return Err(HeaderError::TooShort { len: blob.len() });
    };
    if entry_count == 0 || entry_count > MAX_INDEX_ENTRIES {
        return Err(HeaderError::IndexCount { count: entry_count });
    }
    if data_length > MAX_DATA_LENGTH {
        return Err(HeaderError::DataLength {
            length: data_length,
        });
    }

    // Both values are capped above, so this sum cannot overflow.
    let index_end = PREAMBLE_SIZE + entry_count as usize * INDEX_ENTRY_SIZE;
    let needed = index_end + data_length as usize;
    let Some(data) = blob.get(index_end..needed) else {
        return Err(HeaderError::Truncated {
            needed,
            entries: entry_count,
            data_length,
            len: blob.len(),
        });
    };

    let mut selected = SelectedEntries::default();
    for position in 0..entry_count as usize {
        let at = PREAMBLE_SIZE + position * INDEX_ENTRY_SIZE;
        let entry = read_index_entry(blob, at, position, data_length)?;
        if let Some(slot) = selected.slot(entry.tag) {
            *slot = Some(entry);
        }
    }

    decode_header(&selected, data)
}

fn read_index_entry(
    blob: &[u8],
    at: usize,
    position: usize,
    data_length: u32,
) -> Result<IndexEntry, HeaderError> {
    // The caller checked that the whole index lies inside the blob.
    let field = |n: usize| read_be_u32(blob, at + 4 * n).unwrap_or(0);
    let tag = field(0) as i32;
    let data_type = field(1);
    let raw_offset = field(2) as i32;
    let count = field(3);

    let problem = if data_type > TYPE_MAX {
        Some(EntryProblem::InvalidType(data_type))
    } else if raw_offset < 0 || raw_offset as u32 > data_length {
        Some(EntryProblem::OffsetOutOfRange {
            offset: raw_offset,
            data_length,
        })
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(HeaderError::Entry {
            index: position,
            tag,
            problem,
        });
    }

    Ok(IndexEntry {
        position,
        tag,
        data_type,
        offset: raw_offset as usize,
        raw_offset,
        count,
    })
}

fn decode_header(selected: &SelectedEntries, data: &[u8]) -> Result<RpmHeader, HeaderError> {
    let required = |entry: Option<IndexEntry>, name: &'static str, tag: i32| {
        let entry = entry.ok_or(HeaderError::MissingTag { name, tag })?;
        read_string(&entry, data)
    };
    let name = required(selected.name, "NAME", TAG_NAME)?;
    let version = required(selected.version, "VERSION", TAG_VERSION)?;
    let release = required(selected.release, "RELEASE", TAG_RELEASE)?;

    let optional = |entry: Option<IndexEntry>| -> Result<Option<String>, HeaderError> {
        let Some(entry) = entry else { return Ok(None) };
        let value = read_string(&entry, data)?;
        Ok((!value.is_empty() && value != "(none)").then_some(value))
    };
    let arch = optional(selected.arch)?;
    let source_rpm = optional(selected.source_rpm)?;
    let license = optional(selected.license)?;
    let vendor = optional(selected.vendor)?;

    let epoch = match selected.epoch {
        Some(entry) => Some(read_first_u32(&entry, data)?),
        None => None,
    };
    let size = match (selected.long_size, selected.size) {
        (Some(entry), _) => Some(read_first_u64(&entry, data)?),
        (None, Some(entry)) => Some(u64::from(read_first_u32(&entry, data)?)),
        (None, None) => None,
    };

    let files = match read_file_list(selected, data) {
        Ok(files) => files,
        Err(problem) => {
            tracing::warn!(package = %name, %problem, "ignoring the invalid file list of an rpm header");
            Vec::new()
        }
    };

    Ok(RpmHeader {
        name,
        epoch,
        version,
        release,
        arch,
        source_rpm,
        license,
        vendor,
        size,
        files,
    })
}

/// Builds the installed file paths, or reports why the file list is unusable.
fn read_file_list(selected: &SelectedEntries, data: &[u8]) -> Result<Vec<String>, String> {
    if let (Some(base_entry), Some(dir_entry), Some(index_entry)) = (
        selected.base_names,
        selected.dir_names,
        selected.dir_indexes,
    ) {
        let base_names = read_string_array(&base_entry, data).map_err(|e| e.to_string())?;
        let dir_names = read_string_array(&dir_entry, data).map_err(|e| e.to_string())?;
        let dir_indexes = read_u32_array(&index_entry, data).map_err(|e| e.to_string())?;
        return join_file_names(&base_names, &dir_names, &dir_indexes);
    }
    if let Some(entry) = selected.old_file_names {
        let paths = read_string_array(&entry, data).map_err(|e| e.to_string())?;
        let total: usize = paths.iter().map(String::len).sum();
        if total > MAX_FILE_LIST_BYTES {
            return Err(format!(
                "FILENAMES holds {total} bytes of paths, more than the {MAX_FILE_LIST_BYTES}-byte limit"
            ));
        }
        return Ok(paths);
    }
    Ok(Vec::new())
}

fn join_file_names(
    base_names: &[String],
    dir_names: &[String],
    dir_indexes: &[u32],
) -> Result<Vec<String>, String> {
    if base_names.len() != dir_indexes.len() {
        return Err(format!(
            "{} BASENAMES but {} DIRINDEXES, expected equal counts",
            base_names.len(),
            dir_indexes.len()
        ));
    }

    let mut files = Vec::with_capacity(base_names.len());
    let mut total_bytes = 0usize;
    for (base_name, &dir_index) in base_names.iter().zip(dir_indexes) {
        let Some(dir_name) = dir_names.get(dir_index as usize) else {
            return Err(format!(
                "DIRINDEXES value {dir_index} is out of range for {} DIRNAMES",
                dir_names.len()
            ));
        };
        total_bytes = total_bytes.saturating_add(dir_name.len() + base_name.len());
        if total_bytes > MAX_FILE_LIST_BYTES {
            return Err(format!(
                "joined file paths exceed the {MAX_FILE_LIST_BYTES}-byte limit"
            ));
        }
        // rpm joins by plain concatenation because every DIRNAMES value ends in '/'.
        files.push(format!("{dir_name}{base_name}"));
    }
    Ok(files)
}

/// Reads a STRING entry, or the first string of an I18NSTRING or STRING_ARRAY entry.
fn read_string(entry: &IndexEntry, data: &[u8]) -> Result<String, HeaderError> {
    match entry.data_type {
        TYPE_STRING if entry.count != 1 => Err(entry.error(EntryProblem::StringCount(entry.count))),
        TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY => {
            if entry.count == 0 {
                return Err(entry.error(EntryProblem::InvalidCount(entry.count)));
            }
            let (text, _) = next_string(data, entry.offset)
                .ok_or_else(|| entry.error(EntryProblem::UnterminatedString(entry.raw_offset)))?;
            Ok(text)
        }
        found => Err(entry.error(EntryProblem::WrongType {
            found,
            expected: "STRING",
        })),
    }
}

fn read_string_array(entry: &IndexEntry, data: &[u8]) -> Result<Vec<String>, HeaderError> {
    if entry.data_type != TYPE_STRING_ARRAY && entry.data_type != TYPE_I18NSTRING {
        return Err(entry.error(EntryProblem::WrongType {
            found: entry.data_type,
            expected: "STRING_ARRAY",
        }));
    }
    check_array_count(entry)?;

    // Each string takes at least one byte, so the data store bounds the loop and the capacity.
    let remaining = data.len().saturating_sub(entry.offset);
    let mut strings = Vec::with_capacity((entry.count as usize).min(remaining));
    let mut position = entry.offset;
    for _ in 0..entry.count {
        let (text, next) = next_string(data, position)
            .ok_or_else(|| entry.error(EntryProblem::UnterminatedString(entry.raw_offset)))?;
        strings.push(text);
        position = next;
    }
    Ok(strings)
}

fn read_u32_array(entry: &IndexEntry, data: &[u8]) -> Result<Vec<u32>, HeaderError> {
    let bytes = fixed_width_data(entry, data, TYPE_INT32, 4, "INT32")?;
    Ok(bytes
        .chunks_exact(4)
        .map(|chunk| u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect())
}

fn read_first_u32(entry: &IndexEntry, data: &[u8]) -> Result<u32, HeaderError> {
    let bytes = fixed_width_data(entry, data, TYPE_INT32, 4, "INT32")?;
    match bytes.first_chunk::<4>() {
        Some(first) => Ok(u32::from_be_bytes(*first)),
        None => Err(entry.error(EntryProblem::InvalidCount(entry.count))),
    }
}

fn read_first_u64(entry: &IndexEntry, data: &[u8]) -> Result<u64, HeaderError> {
    let bytes = fixed_width_data(entry, data, TYPE_INT64, 8, "INT64")?;
    match bytes.first_chunk::<8>() {
        Some(first) => Ok(u64::from_be_bytes(*first)),
        None => Err(entry.error(EntryProblem::InvalidCount(entry.count))),
    }
}

/// Returns the `count × width` bytes of a numeric entry after the type, count, alignment
/// and bounds checks.
fn fixed_width_data<'a>(
    entry: &IndexEntry,
    data: &'a [u8],
    data_type: u32,
    width: usize,
    type_name: &'static str,
) -> Result<&'a [u8], HeaderError> {
    if entry.data_type != data_type {
        return Err(entry.error(EntryProblem::WrongType {
            found: entry.data_type,
            expected: type_name,
        }));
    }
    check_array_count(entry)?;
    if !entry.offset.is_multiple_of(width) {
        return Err(entry.error(EntryProblem::Misaligned(entry.raw_offset)));
    }
    let past_end = || {
        entry.error(EntryProblem::PastEnd {
            offset: entry.raw_offset,
            count: entry.count,
        })
    };
    let length = (entry.count as usize)
        .checked_mul(width)
        .ok_or_else(past_end)?;
    let end = entry.offset.checked_add(length).ok_or_else(past_end)?;
    data.get(entry.offset..end).ok_or_else(past_end)
}

fn check_array_count(entry: &IndexEntry) -> Result<(), HeaderError> {
    if entry.count == 0 || entry.count > MAX_ARRAY_COUNT {
        return Err(entry.error(EntryProblem::InvalidCount(entry.count)));
    }
    Ok(())
}

/// Returns the NUL-terminated string at `start` and the position after its terminator.
/// Invalid UTF-8 is replaced, because old packages carry Latin-1 text.
fn next_string(data: &[u8], start: usize) -> Option<(String, usize)> {
    let rest = data.get(start..)?;
    let length = rest.iter().position(|&byte| byte == 0)?;
    let text = String::from_utf8_lossy(&rest[..length]).into_owned();
    Some((text, start + length + 1))
}

fn read_be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let chunk = bytes.get(at..end)?;
    Some(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
}

/// Builder for synthetic header blobs in tests, laid out the way rpm writes them:
/// a region entry (tag 63) first, aligned data, and the 16-byte region trailer last.
#[cfg(test)]
pub(crate) mod test_blob {
    const REGION_TAG: i32 = 63;
    const TYPE_BIN: u32 = 7;

    #[derive(Default)]
    pub(crate) struct HeaderBuilder {
        entries: Vec<(i32, u32, u32, Vec<u8>)>,
    }

    impl HeaderBuilder {
        pub(crate) fn string(mut self, tag: i32, value: &str) -> Self {
            let mut bytes = value.as_bytes().to_vec();
            bytes.push(0);
            self.entries.push((tag, super::TYPE_STRING, 1, bytes));
            self
        }

        pub(crate) fn string_array(mut self, tag: i32, values: &[&str]) -> Self {
            let mut bytes = Vec::new();
            for value in values {
                bytes.extend_from_slice(value.as_bytes());
                bytes.push(0);
            }
            self.entries
                .push((tag, super::TYPE_STRING_ARRAY, values.len() as u32, bytes));
            self
        }

        pub(crate) fn int32(mut self, tag: i32, values: &[u32]) -> Self {
            let bytes = values
                .iter()
                .flat_map(|value| value.to_be_bytes())
                .collect();
            self.entries
                .push((tag, super::TYPE_INT32, values.len() as u32, bytes));
            self
        }

        /// Adds an entry with arbitrary type, count and data, for malformed headers.
        pub(crate) fn raw(mut self, tag: i32, data_type: u32, count: u32, bytes: &[u8]) -> Self {
            self.entries.push((tag, data_type, count, bytes.to_vec()));
            self
        }

        pub(crate) fn build(self) -> Vec<u8> {
            let entry_count = self.entries.len() + 1;
            let mut index = Vec::new();
            let mut data = Vec::new();
            for (tag, data_type, count, bytes) in &self.entries {
                let alignment = match *data_type {
                    3 => 2,
                    4 => 4,
                    5 => 8,
                    _ => 1,
                };
                while data.len() % alignment != 0 {
                    data.push(0);
                }
                push_entry(&mut index, *tag, *data_type, data.len() as i32, *count);
                data.extend_from_slice(bytes);
            }

            let trailer_offset = data.len() as i32;
            let region_size = (entry_count * 16) as i32;
            push_entry(&mut data, REGION_TAG, TYPE_BIN, -region_size, 16);

            let mut blob = Vec::new();
            blob.extend_from_slice(&(entry_count as u32).to_be_bytes());
            blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
            push_entry(&mut blob, REGION_TAG, TYPE_BIN, trailer_offset, 16);
            blob.extend_from_slice(&index);
            blob.extend_from_slice(&data);
            blob
        }
    }

    fn push_entry(out: &mut Vec<u8>, tag: i32, data_type: u32, offset: i32, count: u32) {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&data_type.to_be_bytes());
        out.extend_from_slice(&offset.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
    }

    /// Builds a complete header for package `name` with two files in one directory.
    pub(crate) fn sample_header(name: &str, version: &str, epoch: Option<u32>) -> Vec<u8> {
        let mut builder = HeaderBuilder::default()
            .string(1000, name)
            .string(1001, version)
            .string(1002, "1.fc40")
            .string(1022, "x86_64")
            .string(1044, &format!("{name}-{version}-1.fc40.src.rpm"))
            .string(1014, "MIT")
            .string(1011, "(none)")
            .int32(1009, &[4096])
            .int32(1116, &[0, 0])
            .string_array(1117, &[name, "README"])
            .string_array(1118, &["/usr/share/doc/"]);
        if let Some(epoch) = epoch {
            builder = builder.int32(1003, &[epoch]);
        }
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::test_blob::{HeaderBuilder, sample_header};
    use super::*;

    #[test]
    fn parse_header_reads_sample_fields() {
        let header = parse_header(&sample_header("demo", "2.1", Some(3))).expect("valid header");

        assert_eq!(header.name, "demo");
        assert_eq!(header.version, "2.1");
        assert_eq!(header.release, "1.fc40");
        assert_eq!(header.epoch, Some(3));
        assert_eq!(header.arch.as_deref(), Some("x86_64"));
        assert_eq!(
            header.source_rpm.as_deref(),
            Some("demo-2.1-1.fc40.src.rpm")
        );
        assert_eq!(header.license.as_deref(), Some("MIT"));
        assert_eq!(header.vendor, None, "the literal (none) reads as absent");
        assert_eq!(header.size, Some(4096));
        assert_eq!(
            header.files,
            ["/usr/share/doc/demo", "/usr/share/doc/README"]
        );
    }

    #[test]
    fn parse_header_without_epoch() {
        let header = parse_header(&sample_header("demo", "2.1", None)).expect("valid header");
        assert_eq!(header.epoch, None);
    }

    #[test]
    fn later_entry_replaces_earlier() {
        let blob = HeaderBuilder::default()
            .string(TAG_NAME, "demo")
            .string(TAG_VERSION, "1")
            .string(TAG_RELEASE, "1")
            .string(TAG_ARCH, "i686")
            .string(TAG_ARCH, "noarch")
            .build();
        let header = parse_header(&blob).expect("valid header");
        assert_eq!(header.arch.as_deref(), Some("noarch"));
    }

    #[test]
    fn long_size_wins_over_size() {
        let blob = HeaderBuilder::default()
            .string(TAG_NAME, "big")
            .string(TAG_VERSION, "1")
            .string(TAG_RELEASE, "1")
            .int32(TAG_SIZE, &[7])
            .raw(TAG_LONGSIZE, TYPE_INT64, 1, &(5u64 << 32).to_be_bytes())
            .build();
        let header = parse_header(&blob).expect("valid header");
        assert_eq!(header.size, Some(5u64 << 32));
    }

    #[test]
    fn old_filenames_without_basenames() {
        let blob = HeaderBuilder::default()
            .string(TAG_NAME, "old")
            .string(TAG_VERSION, "1")
            .string(TAG_RELEASE, "1")
            .string_array(TAG_OLDFILENAMES, &["/bin/old", "/etc/old.conf"])
            .build();
        let header = parse_header(&blob).expect("valid header");
        assert_eq!(header.files, ["/bin/old", "/etc/old.conf"]);
    }

    #[test]
    fn invalid_dir_index_drops_only_files() {
        let blob = HeaderBuilder::default()
            .string(TAG_NAME, "demo")
            .string(TAG_VERSION, "1")
            .string(TAG_RELEASE, "1")
            .int32(TAG_DIRINDEXES, &[0, 9])
            .string_array(TAG_BASENAMES, &["a", "b"])
            .string_array(TAG_DIRNAMES, &["/usr/"])
            .build();
        let header = parse_header(&blob).expect("package identity is still valid");
        assert_eq!(header.name, "demo");
        assert!(header.files.is_empty());
    }

    #[test]
    fn missing_name_is_an_error() {
        let blob = HeaderBuilder::default()
            .string(TAG_VERSION, "1")
            .string(TAG_RELEASE, "1")
            .build();
        assert_eq!(
            parse_header(&blob),
            Err(HeaderError::MissingTag {
                name: "NAME",
                tag: TAG_NAME
            })
        );
    }

    #[test]
    fn short_blob_is_an_error() {
        assert_eq!(
            parse_header(&[0, 0, 0]),
            Err(HeaderError::TooShort { len: 3 })
        );
    }

    #[test]
    fn huge_index_count_is_rejected() {
        let mut blob = sample_header("demo", "1", None);
        blob[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            parse_header(&blob),
            Err(HeaderError::IndexCount { count: u32::MAX })
        );

        blob[..4].copy_from_slice(&(MAX_INDEX_ENTRIES).to_be_bytes());
        assert!(matches!(
            parse_header(&blob),
            Err(HeaderError::Truncated { .. })
        ));
    }

    #[test]
    fn huge_data_length_is_rejected() {
        let mut blob = sample_header("demo", "1", None);
        blob[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            parse_header(&blob),
            Err(HeaderError::DataLength { length: u32::MAX })
        );
    }

    #[test]
    fn truncated_blob_is_rejected() {
        let blob = sample_header("demo", "1", None);
        let result = parse_header(&blob[..blob.len() - 1]);
        assert!(
            matches!(result, Err(HeaderError::Truncated { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn offset_outside_data_is_rejected() {
        let mut blob = sample_header("demo", "1", None);
        // The second index entry starts at byte 8 + 16, and its offset field is 8 bytes in.
        blob[32..36].copy_from_slice(&0x7fff_0000i32.to_be_bytes());
        let result = parse_header(&blob);
        assert!(
            matches!(
                result,
                Err(HeaderError::Entry {
                    index: 1,
                    problem: EntryProblem::OffsetOutOfRange { .. },
                    ..
                })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn array_count_past_data_is_rejected() {
        let blob = HeaderBuilder::default()
            .string(TAG_NAME, "demo")
            .string(TAG_VERSION, "1")
            .string(TAG_RELEASE, "1")
            .raw(TAG_EPOCH, TYPE_INT32, MAX_ARRAY_COUNT, &[0, 0, 0, 1])
            .build();
        let result = parse_header(&blob);
        assert!(
            matches!(
                result,
                Err(HeaderError::Entry {
                    problem: EntryProblem::PastEnd { .. },
                    ..
                })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn string_array_count_over_limit() {
        let blob = HeaderBuilder::default()
            .string(TAG_NAME, "demo")
            .string(TAG_VERSION, "1")
            .string(TAG_RELEASE, "1")
            .int32(TAG_DIRINDEXES, &[0])
            .raw(TAG_BASENAMES, TYPE_STRING_ARRAY, u32::MAX, b"a\0")
            .string_array(TAG_DIRNAMES, &["/"])
            .build();
        let header = parse_header(&blob).expect("file list problems keep the package");
        assert!(header.files.is_empty());
    }

    #[test]
    fn unterminated_name_is_rejected() {
        let blob = HeaderBuilder::default()
            .raw(TAG_NAME, TYPE_STRING, 1, b"no-terminator")
            .build();
        // The region trailer follows the string, so cut the data store before it.
        let data_length = u32::from_be_bytes([blob[4], blob[5], blob[6], blob[7]]);
        let mut cut = blob.clone();
        let new_length = data_length - 16;
        cut[4..8].copy_from_slice(&new_length.to_be_bytes());
        cut.truncate(cut.len() - 16);
        let result = parse_header(&cut);
        assert!(
            matches!(
                result,
                Err(HeaderError::Entry {
                    problem: EntryProblem::UnterminatedString(_),
                    ..
                })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn long_dirname_hits_file_list_limit() {
        let long_dir = format!("/{}/", "d".repeat(1 << 20));
        let indexes = vec![0u32; 100];
        let names: Vec<String> = (0..100).map(|i| format!("f{i}")).collect();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let blob = HeaderBuilder::default()
            .string(TAG_NAME, "bomb")
            .string(TAG_VERSION, "1")
            .string(TAG_RELEASE, "1")
            .int32(TAG_DIRINDEXES, &indexes)
            .string_array(TAG_BASENAMES, &name_refs)
            .string_array(TAG_DIRNAMES, &[&long_dir])
            .build();
        let header = parse_header(&blob).expect("package identity is still valid");
        assert!(header.files.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn parse_header_never_panics(blob in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_header(&blob);
        }

        #[test]
        fn parse_header_survives_byte_flips(
            flips in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 1..8)
        ) {
            let mut blob = sample_header("demo", "1.0", Some(1));
            for (position, value) in flips {
                let index = position % blob.len();
                blob[index] = value;
            }
            let _ = parse_header(&blob);
        }
    }
}
