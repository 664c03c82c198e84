//! Reader for the Berkeley DB hash database `Packages` (RHEL/CentOS ≤ 8, Amazon Linux 2).
//!
//! Ported from knqyf263/go-rpmdb `pkg/bdb` (MIT, commit 061c574f6eb0215060ef309536eddea19bf3189e),
//! which follows Berkeley DB 5.3 `src/dbinc/db_page.h`. Only what rpm needs is read: the
//! hash metadata page, the hash pages and the overflow pages that hold the header blobs.
//!
//! Layout:
//! - Page 0 is the hash metadata page: magic `0x061561` at byte 12, page size at 20,
//!   encryption algorithm at 24, page type 8 at 25, metadata flags at 26 and the last page
//!   number at 32.
//! - Every page starts with a 26-byte header: page number at 8, next page at 16, entry
//!   count (u16) at 20, `hf_offset` (u16) at 22 and page type at 25.
//! - A hash page (type 13, or type 2 before Berkeley DB 4.6) has an index of u16 item
//!   offsets after the header. Items alternate key, value. rpm's keys are record numbers
//!   and its values are header blobs.
//! - A value too large for the page is an `H_OFFPAGE` item (type 3): `pgno` (u32) at 4 and
//!   the total length (u32) at 8. The data lies in a chain of overflow pages (type 7),
//!   linked by the next-page field, each holding `hf_offset` data bytes after its header.
//!
//! Traps:
//! - A database written on a big-endian host stores every metadata and page field
//!   byte-swapped. The magic number shows which order applies. The header blobs inside are
//!   big-endian in both cases.
//! - The last page number can exceed the file when the image copy is truncated, and the
//!   file can end in a partial page.
//! - A corrupt overflow chain can loop, point past the file, share pages with another
//!   chain, or pass through a page that is not an overflow page. go-rpmdb's
//!   `HashPageValueContent` at commit 061c574 never advances on the last case. Each page
//!   here is used by at most one chain, so the total work is linear in the file size.
//! - Encrypted databases and pages with checksums (`DBMETA_CHKSUM`) have a larger page
//!   header. Both are rejected rather than misread; no fixture here uses either.

use super::RpmDbError;

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER_SIZE: usize = 26;
/// The metadata fields read here end at byte 36, within the smallest page size.
const METADATA_SIZE: usize = 36;
const MIN_PAGE_SIZE: u32 = 512;
const MAX_PAGE_SIZE: u32 = 65536;

const PAGE_TYPE_HASH_UNSORTED: u8 = 2;
const PAGE_TYPE_OVERFLOW: u8 = 7;
const PAGE_TYPE_HASH_METADATA: u8 = 8;
const PAGE_TYPE_HASH: u8 = 13;

const ITEM_TYPE_OFFPAGE: u8 = 3;
const OFFPAGE_ITEM_SIZE: usize = 12;
/// `DBMETA_CHKSUM` in the metadata flags byte.
const METADATA_FLAG_CHECKSUM: u8 = 0x01;

/// Error for an invalid Berkeley DB file or one of its records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BdbError {
    #[error("file is {len} bytes, shorter than the {needed}-byte metadata page")]
    TooShort { len: usize, needed: usize },
    #[error("magic number {magic:#010x} is not the Berkeley DB hash magic 0x00061561")]
    NotHashDatabase { magic: u32 },
    #[error("metadata page type {0} is not the hash metadata type 8")]
    MetadataPageType(u8),
    #[error("page size {0} is not a power of two from 512 to 65536")]
    PageSize(u32),
    #[error("encrypted databases are not supported (encryption algorithm {0})")]
    Encrypted(u8),
    #[error("pages with checksums are not supported (metadata flags {0:#04x})")]
    Checksummed(u8),
    #[error("last page number {last_page} is beyond the {pages} pages in the file")]
    LastPageBeyondFile { last_page: u32, pages: usize },
    #[error("page {page}: hash index count {entries} is odd, but items come in key/value pairs")]
    OddIndexCount { page: u32, entries: u16 },
    #[error("page {page}: hash index of {entries} entries does not fit in the page")]
    IndexPastPage { page: u32, entries: u16 },
    #[error("page {page}: hash item at offset {offset} runs past the end of the page")]
    ItemPastPage { page: u32, offset: u16 },
    #[error("page {page}: overflow page number {target} is beyond the last page {last_page}")]
    OverflowPageOutOfRange {
        page: u32,
        target: u32,
        last_page: u32,
    },
    #[error("page {page}: overflow chain loops")]
    OverflowLoop { page: u32 },
    #[error("page {page}: overflow page already belongs to another item")]
    OverflowShared { page: u32 },
    #[error("page {page}: page type {page_type} in an overflow chain, expected 7")]
    NotOverflowPage { page: u32, page_type: u8 },
    #[error("page {page}: overflow data length {length} exceeds the page")]
    OverflowPageLength { page: u32, length: u16 },
    #[error("page {page}: overflow chain holds {actual} bytes, but the item length is {expected}")]
    OverflowLength {
        page: u32,
        expected: u32,
        actual: usize,
    },
}

/// Calls `visit` once per off-page value of the database.
///
/// The record number passed to `visit` is the first overflow page of the value, or the
/// hash page number when that page's index is invalid. Returns an error only when the
/// metadata page shows that `bytes` is not a usable hash database.
pub fn for_each_blob(
    bytes: &[u8],
    mut visit: impl FnMut(u64, Result<&[u8], RpmDbError>),
) -> Result<(), BdbError> {
    let database = Database::open(bytes)?;

    // Chain owner per page: 0 for unused, else the 1-based number of the chain that used it.
    // The vector has one element per page in the file, a length checked by `open`.
    let mut owners = vec![0u64; database.page_count];
    let mut chain_number = 0u64;

    for page_number in 0..=database.last_readable_page() {
        let Some(page) = database.page(page_number) else {
            break;
        };
        let page_type = page[25];
        if page_type != PAGE_TYPE_HASH && page_type != PAGE_TYPE_HASH_UNSORTED {
            continue;
        }

        let value_offsets = match database.value_offsets(page_number, page) {
            Ok(offsets) => offsets,
            Err(error) => {
                visit(u64::from(page_number), Err(error.into()));
                continue;
            }
        };

        for offset in value_offsets {
            let Some(item) = page.get(offset as usize..offset as usize + OFFPAGE_ITEM_SIZE) else {
                // A short inline value at the page end cannot be an off-page item.
                if page.get(offset as usize) == Some(&ITEM_TYPE_OFFPAGE) {
                    let error = BdbError::ItemPastPage {
                        page: page_number,
                        offset,
                    };
                    visit(u64::from(page_number), Err(error.into()));
                }
                continue;
            };
            // NOTE: like go-rpmdb, only off-page values are read. An inline value (H_KEYDATA)
            // is skipped, so a header small enough to be stored inline would be missed.
            if item[0] != ITEM_TYPE_OFFPAGE {
                continue;
            }

            let first_page = database.read_u32(item, 4);
            let length = database.read_u32(item, 8);
            chain_number += 1;
            let blob = database.read_overflow_chain(first_page, length, &mut owners, chain_number);
            match blob {
                Ok(blob) => visit(u64::from(first_page), Ok(&blob)),
                Err(error) => visit(u64::from(first_page), Err(error.into())),
            }
        }
    }
    Ok(())
}

/// A validated view of the database file.
struct Database<'a> {
    bytes: &'a [u8],
    page_size: usize,
    /// Number of whole pages in the file.
    page_count: usize,
    last_page: u32,
    /// Whether the fields are big-endian (written on a big-endian host).
    swapped: bool,
}

impl<'a> Database<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, BdbError> {
        let Some(metadata) = bytes.get(..METADATA_SIZE) else {
            return Err(BdbError::TooShort {
                len: bytes.len(),
                needed: MIN_PAGE_SIZE as usize,
            });
        };

        let magic_bytes = [metadata[12], metadata[13], metadata[14], metadata[15]];
        let swapped = if u32::from_le_bytes(magic_bytes) == HASH_MAGIC {
            false
        } else if u32::from_be_bytes(magic_bytes) == HASH_MAGIC {
            true
        } else {
            return Err(BdbError::NotHashDatabase {
                magic: u32::from_le_bytes(magic_bytes),
            });
        };
        let read = |at: usize| {
            let field = [
                metadata[at],
                metadata[at + 1],
                metadata[at + 2],
                metadata[at + 3],
            ];
            if swapped {
                u32::from_be_bytes(field)
            } else {
                u32::from_le_bytes(field)
            }
        };

        let page_size = read(20);
        if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(BdbError::PageSize(page_size));
        }
        if metadata[24] != 0 {
            return Err(BdbError::Encrypted(metadata[24]));
        }
        if metadata[25] != PAGE_TYPE_HASH_METADATA {
            return Err(BdbError::MetadataPageType(metadata[25]));
        }
        if metadata[26] & METADATA_FLAG_CHECKSUM != 0 {
            return Err(BdbError::Checksummed(metadata[26]));
        }

        let page_size = page_size as usize;
        if bytes.len() < page_size {
            return Err(BdbError::TooShort {
                len: bytes.len(),
                needed: page_size,
            });
        }
        let page_count = bytes.len() / page_size;

        // A last page equal to the page count means that the final page is cut off.
        // go-rpmdb accepts this, because truncated copies of real databases end this way.
        let last_page = read(32);
        if last_page as usize > page_count {
            return Err(BdbError::LastPageBeyondFile {
                last_page,
                pages: page_count,
            });
        }

        Ok(Self {
            bytes,
            page_size,
            page_count,
            last_page,
            swapped,
        })
    }

    /// Returns the last page number that is both in use and entirely in the file.
    fn last_readable_page(&self) -> u32 {
        // `page_count` is at least 1 and, by the check in `open`, at most `last_page + 1`.
        let last_in_file = u32::try_from(self.page_count - 1).unwrap_or(u32::MAX);
        self.last_page.min(last_in_file)
    }

    fn page(&self, number: u32) -> Option<&'a [u8]> {
        let start = (number as usize).checked_mul(self.page_size)?;
        let end = start.checked_add(self.page_size)?;
        self.bytes.get(start..end)
    }

    fn read_u16(&self, bytes: &[u8], at: usize) -> u16 {
        let field = [bytes[at], bytes[at + 1]];
        if self.swapped {
            u16::from_be_bytes(field)
        } else {
            u16::from_le_bytes(field)
        }
    }

    fn read_u32(&self, bytes: &[u8], at: usize) -> u32 {
        let field = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if self.swapped {
            u32::from_be_bytes(field)
        } else {
            u32::from_le_bytes(field)
        }
    }

    /// Returns the offsets of the value items (odd index positions) of a hash page.
    fn value_offsets(&self, page_number: u32, page: &[u8]) -> Result<Vec<u16>, BdbError> {
        let entries = self.read_u16(page, 20);
        if !entries.is_multiple_of(2) {
            return Err(BdbError::OddIndexCount {
                page: page_number,
                entries,
            });
        }
        let index_end = PAGE_HEADER_SIZE + usize::from(entries) * 2;
        let Some(index) = page.get(PAGE_HEADER_SIZE..index_end) else {
            return Err(BdbError::IndexPastPage {
                page: page_number,
                entries,
            });
        };
        Ok(index
            .chunks_exact(4)
            .map(|pair| self.read_u16(pair, 2))
            .collect())
    }

    /// Concatenates the data of the overflow chain that starts at `first_page`.
    ///
    /// `owners` records which chain used each page, so a page seen twice ends the chain
    /// with an error instead of looping.
    fn read_overflow_chain(
        &self,
        first_page: u32,
        expected_length: u32,
        owners: &mut [u64],
        chain_number: u64,
    ) -> Result<Vec<u8>, BdbError> {
        // The chain cannot hold more bytes than the file, so cap the reservation there.
        let capacity = (expected_length as usize).min(self.bytes.len());
        let mut data = Vec::with_capacity(capacity);
        let data_capacity = self.page_size - PAGE_HEADER_SIZE;

        let mut page_number = first_page;
        let mut previous_page = first_page;
        // Page 0 is the metadata page, so Berkeley DB uses 0 as the end-of-chain marker.
        while page_number != 0 {
            let out_of_range = BdbError::OverflowPageOutOfRange {
                page: previous_page,
                target: page_number,
                last_page: self.last_page,
            };
            if page_number > self.last_page {
                return Err(out_of_range);
            }
            let (Some(owner), Some(page)) =
                (owners.get_mut(page_number as usize), self.page(page_number))
            else {
                return Err(out_of_range);
            };

            match *owner {
                0 => *owner = chain_number,
                number if number == chain_number => {
                    return Err(BdbError::OverflowLoop { page: page_number });
                }
                _ => return Err(BdbError::OverflowShared { page: page_number }),
            }

            let page_type = page[25];
            if page_type != PAGE_TYPE_OVERFLOW {
                return Err(BdbError::NotOverflowPage {
                    page: page_number,
                    page_type,
                });
            }
            let length = self.read_u16(page, 22);
            if usize::from(length) > data_capacity {
                return Err(BdbError::OverflowPageLength {
                    page: page_number,
                    length,
                });
            }
            data.extend_from_slice(&page[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + usize::from(length)]);
            if data.len() > expected_length as usize {
                break;
            }

            previous_page = page_number;
            page_number = self.read_u32(page, 16);
        }

        if data.len() != expected_length as usize {
            return Err(BdbError::OverflowLength {
                page: first_page,
                expected: expected_length,
                actual: data.len(),
            });
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::super::header::test_blob::{HeaderBuilder, sample_header};
    use super::super::{RpmDbKind, read_rpmdb};
    use super::*;

    const LIBUUID: &[u8] = include_bytes!("testdata/libuuid-Packages");
    const SYFT_DIVE: &[u8] = include_bytes!("testdata/syft-dive-Packages");

    /// Returns each blob or record error that `for_each_blob` reports.
    fn collect(bytes: &[u8]) -> Result<Vec<Result<Vec<u8>, BdbError>>, BdbError> {
        let mut blobs = Vec::new();
        for_each_blob(bytes, |_, blob| {
            let blob = blob.map(<[u8]>::to_vec).map_err(|error| match error {
                RpmDbError::BerkeleyDb(inner) => inner,
                other => panic!("unexpected error type: {other}"),
            });
            blobs.push(blob);
        })?;
        Ok(blobs)
    }

    #[test]
    fn libuuid_fixture_matches_rpm() {
        let headers = read_rpmdb(RpmDbKind::BerkeleyDb, LIBUUID).expect("valid database");
        assert_eq!(headers.len(), 1);

        let libuuid = &headers[0];
        assert_eq!(libuuid.name, "libuuid");
        assert_eq!(libuuid.epoch, None);
        assert_eq!(libuuid.version, "2.32.1");
        assert_eq!(libuuid.release, "42.el8_8");
        assert_eq!(libuuid.arch.as_deref(), Some("x86_64"));
        assert_eq!(
            libuuid.source_rpm.as_deref(),
            Some("util-linux-2.32.1-42.el8_8.src.rpm")
        );
        assert_eq!(libuuid.license.as_deref(), Some("BSD"));
        assert_eq!(libuuid.vendor.as_deref(), Some("Red Hat, Inc."));
        assert_eq!(libuuid.size, Some(35104));
        assert_eq!(
            libuuid.files,
            [
                "/usr/lib/.build-id",
                "/usr/lib/.build-id/df/ef6a880adac817216ab9866779a0725e017647",
                "/usr/lib64/libuuid.so.1",
                "/usr/lib64/libuuid.so.1.3.0",
                "/usr/share/licenses/libuuid",
                "/usr/share/licenses/libuuid/COPYING",
                "/usr/share/licenses/libuuid/COPYING.BSD-3",
            ]
        );
    }

    #[test]
    fn syft_dive_fixture_matches_syft() {
        let headers = read_rpmdb(RpmDbKind::BerkeleyDb, SYFT_DIVE).expect("valid database");
        assert_eq!(headers.len(), 1);

        let dive = &headers[0];
        assert_eq!(dive.name, "dive");
        assert_eq!(dive.epoch, None);
        assert_eq!(dive.version, "0.9.2");
        assert_eq!(dive.release, "1");
        assert_eq!(dive.arch.as_deref(), Some("x86_64"));
        assert_eq!(dive.source_rpm.as_deref(), Some("dive-0.9.2-1.src.rpm"));
        assert_eq!(dive.license.as_deref(), Some("MIT"));
        assert_eq!(dive.vendor, None);
        assert_eq!(dive.size, Some(12_406_784));
        assert_eq!(dive.files, ["/usr/local/bin/dive"]);
    }

    #[test]
    fn bad_rpm_file_is_not_a_database() {
        let result = for_each_blob(b"this is not a real RPM file", |_, _| {});
        assert!(
            matches!(result, Err(BdbError::TooShort { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let mut bytes = LIBUUID.to_vec();
        bytes[12..16].copy_from_slice(&0x0005_3162u32.to_le_bytes());
        assert_eq!(
            collect(&bytes),
            Err(BdbError::NotHashDatabase { magic: 0x0005_3162 })
        );
    }

    #[test]
    fn invalid_page_size_is_rejected() {
        let mut bytes = LIBUUID.to_vec();
        bytes[20..24].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(collect(&bytes), Err(BdbError::PageSize(1000)));
    }

    #[test]
    fn encrypted_database_is_rejected() {
        let mut bytes = LIBUUID.to_vec();
        bytes[24] = 1;
        assert_eq!(collect(&bytes), Err(BdbError::Encrypted(1)));
    }

    #[test]
    fn metadata_page_only_database() {
        let result = read_rpmdb(RpmDbKind::BerkeleyDb, &LIBUUID[..4096]);
        assert!(
            result.is_err(),
            "last page number beyond the file: {result:?}"
        );

        let mut bytes = LIBUUID[..4096].to_vec();
        bytes[32..36].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            read_rpmdb(RpmDbKind::BerkeleyDb, &bytes).expect("empty database"),
            []
        );
    }

    #[test]
    fn truncated_file_never_panics() {
        for length in (0..LIBUUID.len()).step_by(509) {
            let _ = read_rpmdb(RpmDbKind::BerkeleyDb, &LIBUUID[..length]);
        }
    }

    /// Builds a little-endian database: metadata page, one hash page with one off-page
    /// value, and the value's overflow chain over pages 2.. with `page_size`-byte pages.
    fn build_database(blob: &[u8], page_size: usize, big_endian: bool) -> Vec<u8> {
        let u16_bytes = |value: u16| {
            if big_endian {
                value.to_be_bytes()
            } else {
                value.to_le_bytes()
            }
        };
        let u32_bytes = |value: u32| {
            if big_endian {
                value.to_be_bytes()
            } else {
                value.to_le_bytes()
            }
        };
        let chunk_size = page_size - PAGE_HEADER_SIZE;
        let chunks: Vec<&[u8]> = blob.chunks(chunk_size).collect();
        let last_page = 1 + chunks.len() as u32;
        let mut bytes = vec![0u8; page_size * (last_page as usize + 1)];

        bytes[12..16].copy_from_slice(&u32_bytes(HASH_MAGIC));
        bytes[20..24].copy_from_slice(&u32_bytes(page_size as u32));
        bytes[25] = PAGE_TYPE_HASH_METADATA;
        bytes[32..36].copy_from_slice(&u32_bytes(last_page));

        let hash_page = &mut bytes[page_size..2 * page_size];
        hash_page[8..12].copy_from_slice(&u32_bytes(1));
        hash_page[20..22].copy_from_slice(&u16_bytes(2));
        hash_page[25] = PAGE_TYPE_HASH;
        let key_offset = page_size - 8;
        let value_offset = key_offset - OFFPAGE_ITEM_SIZE;
        hash_page[26..28].copy_from_slice(&u16_bytes(key_offset as u16));
        hash_page[28..30].copy_from_slice(&u16_bytes(value_offset as u16));
        hash_page[key_offset] = 1;
        hash_page[key_offset + 1..key_offset + 5].copy_from_slice(&1u32.to_le_bytes());
        hash_page[value_offset] = ITEM_TYPE_OFFPAGE;
        hash_page[value_offset + 4..value_offset + 8].copy_from_slice(&u32_bytes(2));
        hash_page[value_offset + 8..value_offset + 12]
            .copy_from_slice(&u32_bytes(blob.len() as u32));

        for (position, chunk) in chunks.iter().enumerate() {
            let number = 2 + position as u32;
            let next = if number == last_page { 0 } else { number + 1 };
            let page = &mut bytes[number as usize * page_size..(number as usize + 1) * page_size];
            page[8..12].copy_from_slice(&u32_bytes(number));
            page[16..20].copy_from_slice(&u32_bytes(next));
            page[22..24].copy_from_slice(&u16_bytes(chunk.len() as u16));
            page[25] = PAGE_TYPE_OVERFLOW;
            page[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + chunk.len()].copy_from_slice(chunk);
        }
        bytes
    }

    /// Builds a header of about 1.3 KB, so that its chain spans three 512-byte pages.
    fn multi_page_header(name: &str) -> Vec<u8> {
        HeaderBuilder::default()
            .string(1000, name)
            .string(1001, "1.0")
            .string(1002, "1")
            .string(1014, &"MIT and ".repeat(150))
            .build()
    }

    fn set_next_page(bytes: &mut [u8], page_size: usize, page: usize, next: u32) {
        bytes[page * page_size + 16..page * page_size + 20].copy_from_slice(&next.to_le_bytes());
    }

    #[test]
    fn synthetic_database_round_trips() {
        let blob = sample_header("synthetic", "1.0", Some(2));
        let bytes = build_database(&blob, 512, false);
        assert_eq!(collect(&bytes), Ok(vec![Ok(blob)]));

        let headers = read_rpmdb(RpmDbKind::BerkeleyDb, &bytes).expect("valid database");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].name, "synthetic");
        assert_eq!(headers[0].epoch, Some(2));
    }

    #[test]
    fn big_endian_database_round_trips() {
        let blob = sample_header("swapped", "1.0", None);
        let bytes = build_database(&blob, 512, true);
        assert_eq!(collect(&bytes), Ok(vec![Ok(blob)]));
    }

    #[test]
    fn overflow_chain_loop_detected() {
        let blob = multi_page_header("loop");
        let mut bytes = build_database(&blob, 512, false);
        // The chain is 2 -> 3 -> 2.
        set_next_page(&mut bytes, 512, 3, 2);

        assert_eq!(
            collect(&bytes),
            Ok(vec![Err(BdbError::OverflowLoop { page: 2 })])
        );

        let result = read_rpmdb(RpmDbKind::BerkeleyDb, &bytes);
        let Err(RpmDbError::NoValidHeaders {
            records: 1,
            first_error,
        }) = result
        else {
            panic!("expected NoValidHeaders, got {result:?}");
        };
        assert!(matches!(
            *first_error,
            RpmDbError::BerkeleyDb(BdbError::OverflowLoop { page: 2 })
        ));
    }

    #[test]
    fn overflow_chain_self_loop_detected() {
        let blob = multi_page_header("loop");
        let mut bytes = build_database(&blob, 512, false);
        set_next_page(&mut bytes, 512, 2, 2);
        assert_eq!(
            collect(&bytes),
            Ok(vec![Err(BdbError::OverflowLoop { page: 2 })])
        );
    }

    #[test]
    fn overflow_chain_past_last_page() {
        let blob = multi_page_header("far");
        let mut bytes = build_database(&blob, 512, false);
        set_next_page(&mut bytes, 512, 2, 900);
        let last_page = u32::try_from(bytes.len() / 512 - 1).expect("small file");
        assert_eq!(
            collect(&bytes),
            Ok(vec![Err(BdbError::OverflowPageOutOfRange {
                page: 2,
                target: 900,
                last_page
            })])
        );
    }

    #[test]
    fn overflow_chain_through_hash_page() {
        let blob = multi_page_header("detour");
        let mut bytes = build_database(&blob, 512, false);
        set_next_page(&mut bytes, 512, 2, 1);
        assert_eq!(
            collect(&bytes),
            Ok(vec![Err(BdbError::NotOverflowPage {
                page: 1,
                page_type: PAGE_TYPE_HASH
            })])
        );
    }

    #[test]
    fn overflow_chain_shorter_than_item() {
        let blob = multi_page_header("short");
        let mut bytes = build_database(&blob, 512, false);
        set_next_page(&mut bytes, 512, 2, 0);
        let expected = u32::try_from(blob.len()).expect("small blob");
        assert_eq!(
            collect(&bytes),
            Ok(vec![Err(BdbError::OverflowLength {
                page: 2,
                expected,
                actual: 486
            })])
        );
    }

    #[test]
    fn odd_hash_index_count_skips_page() {
        let blob = multi_page_header("odd");
        let mut bytes = build_database(&blob, 512, false);
        bytes[512 + 20..512 + 22].copy_from_slice(&3u16.to_le_bytes());
        assert_eq!(
            collect(&bytes),
            Ok(vec![Err(BdbError::OddIndexCount {
                page: 1,
                entries: 3
            })])
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(128))]

        #[test]
        fn mutated_fixture_never_panics(
            edits in proptest::collection::vec((0usize..LIBUUID.len(), proptest::num::u8::ANY), 1..16)
        ) {
            let mut bytes = LIBUUID.to_vec();
            for (position, value) in edits {
                bytes[position] = value;
            }
            let _ = read_rpmdb(RpmDbKind::BerkeleyDb, &bytes);
        }

        #[test]
        fn mutated_page_headers_never_panic(
            edits in proptest::collection::vec((0usize..23, 0usize..26, proptest::num::u8::ANY), 1..16)
        ) {
            // libuuid uses 4096-byte pages; edit only the page headers, where the
            // structure lives.
            let mut bytes = LIBUUID.to_vec();
            for (page, position, value) in edits {
                bytes[page * 4096 + position] = value;
            }
            let _ = read_rpmdb(RpmDbKind::BerkeleyDb, &bytes);
        }
    }
}
