//! Document metadata that is not part of the inventory: creation time, serial
//! number and tool version.

use chrono::{DateTime, SecondsFormat, Utc};
use rampart_inventory::Inventory;
use sha2::{Digest, Sha256};

/// Prefix of the serial hash input, so that a serial cannot equal a hash that
/// rampart computes for another purpose from the same fields.
const SERIAL_DOMAIN: &[u8] = b"rampart.sbom.serial/v1";

/// Metadata of one rendered document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentMeta {
    /// Creation time. SBOM formats print it to whole seconds in UTC.
    pub timestamp: DateTime<Utc>,
    /// A UUID in lowercase hyphenated form, without the `urn:uuid:` prefix.
    pub serial: String,
    /// The rampart version that wrote the document.
    pub tool_version: String,
}

impl DocumentMeta {
    /// Builds metadata whose serial depends only on the image and the tool.
    /// The serial is the first 16 bytes of the SHA-256 of the image ID, the
    /// manifest digest, the sorted package purls and `tool_version`, with the
    /// version-5 and variant bits of RFC 9562 set. Name-based version 5
    /// prescribes SHA-1, so the result has the layout of a v5 UUID but is not
    /// one that a v5 generator would compute.
    ///
    /// The same image scanned by the same rampart version therefore gets the
    /// same serial. CycloneDX recommends a new serial for every generated BOM.
    /// rampart prefers reproducible output, and the timestamp still distinguishes runs.
    pub fn deterministic(
        inventory: &Inventory,
        timestamp: DateTime<Utc>,
        tool_version: &str,
    ) -> Self {
        let mut purls: Vec<&str> = inventory.packages.iter().map(|p| p.purl.as_str()).collect();
        purls.sort_unstable();

        let mut hasher = Sha256::new();
        hash_field(&mut hasher, SERIAL_DOMAIN);
        hash_field(
            &mut hasher,
            inventory
                .source
                .image_id
                .as_deref()
                .unwrap_or("")
                .as_bytes(),
        );
        hash_field(
            &mut hasher,
            inventory
                .source
                .manifest_digest
                .as_deref()
                .unwrap_or("")
                .as_bytes(),
        );
        hash_field(&mut hasher, &(purls.len() as u64).to_le_bytes());
        for purl in purls {
            hash_field(&mut hasher, purl.as_bytes());
        }
        hash_field(&mut hasher, tool_version.as_bytes());
        let digest = hasher.finalize();

        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        DocumentMeta {
            timestamp,
            serial: format_uuid_v5(bytes),
            tool_version: tool_version.to_owned(),
        }
    }

    /// Formats the timestamp as RFC 3339 in UTC to whole seconds (`2024-05-01T12:00:00Z`),
    /// the form that SPDX 2.3 requires for `created`.
    pub fn timestamp_rfc3339(&self) -> String {
        self.timestamp.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// Feeds one length-prefixed field, so that field boundaries cannot shift
/// (`"ab" + "c"` and `"a" + "bc"` hash differently).
fn hash_field(hasher: &mut Sha256, field: &[u8]) {
    hasher.update((field.len() as u64).to_le_bytes());
    hasher.update(field);
}

/// Sets the version (5) and variant (RFC 4122/9562) bits and formats the UUID.
pub(crate) fn format_uuid_v5(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rampart_inventory::SourceInfo;

    fn inventory(image_id: &str) -> Inventory {
        Inventory {
            source: SourceInfo {
                facts: None,
                image_id: Some(image_id.to_owned()),
                ..SourceInfo::default()
            },
            ..Inventory::default()
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
    }

    #[test]
    fn serial_is_uuid_v5_layout() {
        let meta = DocumentMeta::deterministic(&inventory("sha256:aa"), at(0), "0.1.0");
        let parts: Vec<&str> = meta.serial.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('5'), "version nibble: {}", meta.serial);
        assert!(
            matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "variant: {}",
            meta.serial
        );
        assert!(
            meta.serial
                .bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn serial_ignores_timestamp() {
        let first = DocumentMeta::deterministic(&inventory("sha256:aa"), at(0), "0.1.0");
        let second = DocumentMeta::deterministic(&inventory("sha256:aa"), at(86_400), "0.1.0");
        assert_eq!(first.serial, second.serial);
    }

    #[test]
    fn serial_depends_on_image_and_tool() {
        let base = DocumentMeta::deterministic(&inventory("sha256:aa"), at(0), "0.1.0");
        let other_image = DocumentMeta::deterministic(&inventory("sha256:ab"), at(0), "0.1.0");
        let other_tool = DocumentMeta::deterministic(&inventory("sha256:aa"), at(0), "0.2.0");
        assert_ne!(base.serial, other_image.serial);
        assert_ne!(base.serial, other_tool.serial);
    }

    #[test]
    fn timestamp_whole_seconds_utc() {
        let timestamp = Utc
            .timestamp_opt(1_714_564_800, 123_456_789)
            .single()
            .unwrap_or_default();
        let meta = DocumentMeta::deterministic(&inventory("sha256:aa"), timestamp, "0.1.0");
        assert_eq!(meta.timestamp_rfc3339(), "2024-05-01T12:00:00Z");
    }
}
