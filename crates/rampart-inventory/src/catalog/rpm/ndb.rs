//! Reader for rpm's NDB package database `Packages.db` (SUSE Linux Enterprise 15, openSUSE).
//!
//! Source: rpm's `lib/backend/ndb/rpmpkg.c` (rpm-software-management/rpm, commit
//! 09cc8ebad29aeaca58d009fd9d1a789919282cc7), the writer and reader of this file. The
//! reading strategy follows knqyf263/go-rpmdb `pkg/ndb/ndb.go` (MIT, commit
//! 061c574f6eb0215060ef309536eddea19bf3189e).
//!
//! Layout, every integer little-endian u32:
//!
//! ```text
//! offset 0      file header, 32 bytes: magic "RpmP", version 0, generation,
//!               slot page count, next package index, 12 bytes of zero
//! offset 32     slots of 16 bytes: magic "Slot", package index, block offset, block count
//!               (slot pages are 4096 bytes each; the file header takes the first two
//!               slots of page 0)
//! slot pages × 4096
//!               blobs, addressed in 16-byte blocks by the slots:
//!                 head 16 bytes: magic "BlbS", package index, timestamp, blob length
//!                 the header blob, `blob length` bytes
//!                 zero padding up to the tail
//!                 tail 12 bytes at the end of the last block: Adler-32, blob length, magic "BlbE"
//! ```
//!
//! Traps:
//! - A slot with block offset 0 is free. rpm tests the block offset, and go-rpmdb tests the
//!   package index instead. This reader skips a slot when either is 0.
//! - The block count must equal `ceil((16 + blob length + 12) / 16)`, and the blob must lie
//!   after the slot pages and inside the file.
//! - The Adler-32 checksum is not verified, because rpm's own read path
//!   (`rpmpkgGetInternal`) does not verify it either, so rpm lists such packages.
//! - The header blob has the same format as in the other backends.
//!
//! NOTE: no real `Packages.db` was available, so the tests build databases by following
//! `rpmpkg.c`. go-rpmdb's `sle15-bci` fixture would be a real check.

use super::RpmDbError;

const FILE_HEADER_SIZE: usize = 32;
const SLOT_SIZE: usize = 16;
const BLOCK_SIZE: usize = 16;
const SLOT_PAGE_SIZE: usize = 4096;
const SLOTS_PER_PAGE: usize = SLOT_PAGE_SIZE / SLOT_SIZE;
/// The file header occupies the first two slots of page 0.
const FIRST_SLOT: usize = FILE_HEADER_SIZE / SLOT_SIZE;
const BLOB_HEAD_SIZE: usize = 16;
const BLOB_TAIL_SIZE: usize = 12;

const FILE_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_HEAD_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const BLOB_TAIL_MAGIC: u32 = u32::from_le_bytes(*b"BlbE");
const SUPPORTED_VERSION: u32 = 0;

/// Error for an invalid NDB file or one of its blobs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NdbError {
    #[error("file is {len} bytes, shorter than the {FILE_HEADER_SIZE}-byte NDB header")]
    TooShort { len: usize },
    #[error("magic number {magic:#010x} is not the NDB magic \"RpmP\"")]
    NotNdb { magic: u32 },
    #[error("NDB version {0} is not supported, expected 0")]
    UnsupportedVersion(u32),
    #[error("slot page count {slot_pages} does not fit in the {len}-byte file")]
    SlotPagesBeyondFile { slot_pages: u32, len: usize },
    #[error("slot {slot}: magic number {magic:#010x} is not \"Slot\"")]
    SlotMagic { slot: usize, magic: u32 },
    #[error(
        "package {package}: blob at block {block_offset} with {block_count} blocks lies outside \
         the blob area of the {len}-byte file"
    )]
    BlobOutOfRange {
        package: u32,
        block_offset: u32,
        block_count: u32,
        len: usize,
    },
    #[error("package {package}: blob head magic number {magic:#010x} is not \"BlbS\"")]
    BlobHeadMagic { package: u32, magic: u32 },
    #[error("package {package}: blob head names package {found}")]
    BlobPackageMismatch { package: u32, found: u32 },
    #[error(
        "package {package}: blob length {blob_length} does not match the slot's {block_count} blocks"
    )]
    BlobLength {
        package: u32,
        blob_length: u32,
        block_count: u32,
    },
    #[error("package {package}: blob tail is invalid (magic {magic:#010x}, length {tail_length})")]
    BlobTail {
        package: u32,
        magic: u32,
        tail_length: u32,
    },
}

/// Calls `visit` once per used slot with the slot's header blob.
///
/// The record number passed to `visit` is the package index of the slot. Returns an error
/// when the file header or a slot magic number shows that `bytes` is not an NDB database.
pub fn for_each_blob(
    bytes: &[u8],
    mut visit: impl FnMut(u64, Result<&[u8], RpmDbError>),
) -> Result<(), NdbError> {
    let slot_pages = read_file_header(bytes)?;
    let slot_count = slot_pages * SLOTS_PER_PAGE;
    // Blobs start after the slot pages, counted in blocks as the slots address them.
    let first_blob_block = slot_pages * (SLOT_PAGE_SIZE / BLOCK_SIZE);

    for slot in FIRST_SLOT..slot_count {
        let at = slot * SLOT_SIZE;
        let magic = read_u32(bytes, at);
        if magic != SLOT_MAGIC {
            return Err(NdbError::SlotMagic { slot, magic });
        }
        let package = read_u32(bytes, at + 4);
        let block_offset = read_u32(bytes, at + 8);
        let block_count = read_u32(bytes, at + 12);
        if block_offset == 0 || package == 0 {
            continue;
        }

        let blob = read_blob(bytes, package, block_offset, block_count, first_blob_block);
        visit(u64::from(package), blob.map_err(RpmDbError::from));
    }
    Ok(())
}

/// Validates the file header and returns the number of slot pages.
fn read_file_header(bytes: &[u8]) -> Result<usize, NdbError> {
    if bytes.len() < FILE_HEADER_SIZE {
        return Err(NdbError::TooShort { len: bytes.len() });
    }
    let magic = read_u32(bytes, 0);
    if magic != FILE_MAGIC {
        return Err(NdbError::NotNdb { magic });
    }
    let version = read_u32(bytes, 4);
    if version != SUPPORTED_VERSION {
        return Err(NdbError::UnsupportedVersion(version));
    }

    let slot_pages = read_u32(bytes, 12);
    let fits = (slot_pages as usize)
        .checked_mul(SLOT_PAGE_SIZE)
        .is_some_and(|size| size <= bytes.len());
    if slot_pages == 0 || !fits {
        return Err(NdbError::SlotPagesBeyondFile {
            slot_pages,
            len: bytes.len(),
        });
    }
    Ok(slot_pages as usize)
}

fn read_blob(
    bytes: &[u8],
    package: u32,
    block_offset: u32,
    block_count: u32,
    first_blob_block: usize,
) -> Result<&[u8], NdbError> {
    let out_of_range = NdbError::BlobOutOfRange {
        package,
        block_offset,
        block_count,
        len: bytes.len(),
    };
    let min_blocks = (BLOB_HEAD_SIZE + BLOB_TAIL_SIZE).div_ceil(BLOCK_SIZE);
    if (block_offset as usize) < first_blob_block || (block_count as usize) < min_blocks {
        return Err(out_of_range);
    }
    let start = block_offset as usize * BLOCK_SIZE;
    let Some(region) = (block_count as usize)
        .checked_mul(BLOCK_SIZE)
        .and_then(|size| start.checked_add(size))
        .and_then(|end| bytes.get(start..end))
    else {
        return Err(out_of_range);
    };

    let magic = read_u32(region, 0);
    if magic != BLOB_HEAD_MAGIC {
        return Err(NdbError::BlobHeadMagic { package, magic });
    }
    let found = read_u32(region, 4);
    if found != package {
        return Err(NdbError::BlobPackageMismatch { package, found });
    }
    let blob_length = read_u32(region, 12);
    let framed_length = (BLOB_HEAD_SIZE + BLOB_TAIL_SIZE) as u64 + u64::from(blob_length);
    if framed_length.div_ceil(BLOCK_SIZE as u64) != u64::from(block_count) {
        return Err(NdbError::BlobLength {
            package,
            blob_length,
            block_count,
        });
    }

    let tail = region.len() - BLOB_TAIL_SIZE;
    let tail_length = read_u32(region, tail + 4);
    let tail_magic = read_u32(region, tail + 8);
    if tail_length != blob_length || tail_magic != BLOB_TAIL_MAGIC {
        return Err(NdbError::BlobTail {
            package,
            magic: tail_magic,
            tail_length,
        });
    }
    // The block count check above guarantees that the blob ends before the tail.
    Ok(&region[BLOB_HEAD_SIZE..BLOB_HEAD_SIZE + blob_length as usize])
}

/// Reads a little-endian u32. Callers check that `at + 4` is within `bytes`.
fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::super::header::test_blob::sample_header;
    use super::super::{RpmDbKind, read_rpmdb};
    use super::*;

    /// Adler-32 as in RFC 1950, which rpm writes into each blob tail.
    fn adler32(data: &[u8]) -> u32 {
        let (mut low, mut high) = (1u32, 0u32);
        for &byte in data {
            low = (low + u32::from(byte)) % 65521;
            high = (high + low) % 65521;
        }
        (high << 16) | low
    }

    /// Writes an NDB file the way `rpmpkg.c` does: one slot page, then each blob in
    /// package index order right after the slot pages.
    fn build_database(blobs: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = vec![0u8; SLOT_PAGE_SIZE];
        bytes[0..4].copy_from_slice(b"RpmP");
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        bytes[12..16].copy_from_slice(&1u32.to_le_bytes());
        bytes[16..20].copy_from_slice(&(blobs.len() as u32 + 1).to_le_bytes());
        for slot in FIRST_SLOT..SLOTS_PER_PAGE {
            bytes[slot * SLOT_SIZE..slot * SLOT_SIZE + 4].copy_from_slice(b"Slot");
        }

        for (position, blob) in blobs.iter().enumerate() {
            let package = position as u32 + 1;
            let block_offset = (bytes.len() / BLOCK_SIZE) as u32;
            let block_count = (BLOB_HEAD_SIZE + blob.len() + BLOB_TAIL_SIZE).div_ceil(BLOCK_SIZE);

            let slot = (FIRST_SLOT + position) * SLOT_SIZE;
            bytes[slot + 4..slot + 8].copy_from_slice(&package.to_le_bytes());
            bytes[slot + 8..slot + 12].copy_from_slice(&block_offset.to_le_bytes());
            bytes[slot + 12..slot + 16].copy_from_slice(&(block_count as u32).to_le_bytes());

            let mut region = Vec::new();
            region.extend_from_slice(b"BlbS");
            region.extend_from_slice(&package.to_le_bytes());
            region.extend_from_slice(&1_700_000_000u32.to_le_bytes());
            region.extend_from_slice(&(blob.len() as u32).to_le_bytes());
            region.extend_from_slice(blob);
            region.resize(block_count * BLOCK_SIZE - BLOB_TAIL_SIZE, 0);
            let checksum = adler32(&region);
            region.extend_from_slice(&checksum.to_le_bytes());
            region.extend_from_slice(&(blob.len() as u32).to_le_bytes());
            region.extend_from_slice(b"BlbE");
            bytes.extend_from_slice(&region);
        }
        bytes
    }

    fn slot_field(bytes: &mut [u8], position: usize, field: usize, value: u32) {
        let at = (FIRST_SLOT + position) * SLOT_SIZE + field * 4;
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    #[test]
    fn synthetic_database_round_trips() {
        let blobs = vec![
            sample_header("aaa-tools", "1.2.3", None),
            sample_header("zypper", "1.14.59", Some(7)),
        ];
        let bytes = build_database(&blobs);

        let mut seen = Vec::new();
        for_each_blob(&bytes, |record, blob| {
            seen.push((record, blob.map(<[u8]>::to_vec).ok()))
        })
        .expect("valid database");
        assert_eq!(
            seen,
            [(1, Some(blobs[0].clone())), (2, Some(blobs[1].clone()))]
        );

        let headers = read_rpmdb(RpmDbKind::Ndb, &bytes).expect("valid database");
        let names: Vec<&str> = headers.iter().map(|header| header.name.as_str()).collect();
        assert_eq!(names, ["aaa-tools", "zypper"]);
        assert_eq!(headers[1].epoch, Some(7));
        assert_eq!(headers[1].version, "1.14.59");
        assert_eq!(
            headers[1].files,
            ["/usr/share/doc/zypper", "/usr/share/doc/README"]
        );
    }

    #[test]
    fn empty_database_has_no_packages() {
        let bytes = build_database(&[]);
        assert_eq!(
            read_rpmdb(RpmDbKind::Ndb, &bytes).expect("valid database"),
            []
        );
    }

    #[test]
    fn free_slots_are_skipped() {
        let blobs = vec![
            sample_header("kept", "1", None),
            sample_header("freed", "1", None),
        ];
        let mut bytes = build_database(&blobs);
        slot_field(&mut bytes, 1, 2, 0);
        let headers = read_rpmdb(RpmDbKind::Ndb, &bytes).expect("valid database");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].name, "kept");
    }

    #[test]
    fn wrong_file_magic_is_rejected() {
        let mut bytes = build_database(&[]);
        bytes[0] = b'X';
        assert!(matches!(
            for_each_blob(&bytes, |_, _| {}),
            Err(NdbError::NotNdb { .. })
        ));
    }

    #[test]
    fn unsupported_version_is_rejected() {
        let mut bytes = build_database(&[]);
        bytes[4] = 1;
        assert_eq!(
            for_each_blob(&bytes, |_, _| {}),
            Err(NdbError::UnsupportedVersion(1))
        );
    }

    #[test]
    fn huge_slot_page_count_is_rejected() {
        let mut bytes = build_database(&[]);
        bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            for_each_blob(&bytes, |_, _| {}),
            Err(NdbError::SlotPagesBeyondFile {
                slot_pages: u32::MAX,
                len: 4096
            })
        );
    }

    #[test]
    fn bad_slot_magic_is_rejected() {
        let mut bytes = build_database(&[]);
        bytes[100 * SLOT_SIZE] = b'X';
        let result = for_each_blob(&bytes, |_, _| {});
        assert!(
            matches!(result, Err(NdbError::SlotMagic { slot: 100, .. })),
            "{result:?}"
        );
    }

    #[test]
    fn corrupt_blobs_are_skipped() {
        let blobs = vec![
            sample_header("good", "1", None),
            sample_header("far", "1", None),
            sample_header("inside-slots", "1", None),
            sample_header("wrong-count", "1", None),
        ];
        let mut bytes = build_database(&blobs);
        slot_field(&mut bytes, 1, 2, u32::MAX);
        slot_field(&mut bytes, 2, 2, 3);
        slot_field(&mut bytes, 3, 3, 1);

        let mut errors = Vec::new();
        for_each_blob(&bytes, |_, blob| {
            if let Err(error) = blob {
                errors.push(error.to_string());
            }
        })
        .expect("valid database");
        assert_eq!(errors.len(), 3, "{errors:?}");

        let headers = read_rpmdb(RpmDbKind::Ndb, &bytes).expect("one valid package");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].name, "good");
    }

    #[test]
    fn blob_package_mismatch_is_detected() {
        let blobs = vec![sample_header("one", "1", None)];
        let mut bytes = build_database(&blobs);
        slot_field(&mut bytes, 0, 1, 9);
        let mut errors = Vec::new();
        for_each_blob(&bytes, |_, blob| {
            errors.push(blob.err().map(|e| e.to_string()))
        })
        .expect("valid database");
        assert_eq!(
            errors,
            [Some(
                "invalid NDB rpm database: package 9: blob head names package 1".to_owned()
            )]
        );
    }

    #[test]
    fn truncated_file_never_panics() {
        let blobs = vec![sample_header("a", "1", None), sample_header("b", "2", None)];
        let bytes = build_database(&blobs);
        for length in 0..bytes.len() {
            let _ = read_rpmdb(RpmDbKind::Ndb, &bytes[..length]);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(256))]

        #[test]
        fn mutated_database_never_panics(
            edits in proptest::collection::vec((0usize..5000, proptest::num::u8::ANY), 1..16)
        ) {
            let blobs = vec![sample_header("a", "1", None), sample_header("b", "2", Some(1))];
            let mut bytes = build_database(&blobs);
            for (position, value) in edits {
                let index = position % bytes.len();
                bytes[index] = value;
            }
            let _ = read_rpmdb(RpmDbKind::Ndb, &bytes);
        }
    }
}
