//! Renderers of rampart results. For an image inventory this crate writes
//! CycloneDX 1.6 JSON, SPDX 2.3 JSON, rampart's own JSON and a terminal table.
//! For vulnerability scan results, [`scan::render_scan`] writes a terminal
//! table, rampart's JSON, SARIF 2.1.0, CycloneDX 1.6 and Markdown.
//!
//! Every renderer is deterministic: the same [`Inventory`] and [`DocumentMeta`]
//! give byte-identical output whatever the order of the input packages. The
//! caller injects the timestamp and the serial number through [`DocumentMeta`].

pub mod audit;
pub mod diff;
mod license;
mod meta;
pub mod sbom;
pub mod scan;
mod table;

use std::fmt;
use std::str::FromStr;

use rampart_inventory::Inventory;

pub use meta::DocumentMeta;

/// The project URL, which SBOMs name as the tool's source and under which
/// SPDX document namespaces are built.
const PROJECT_URL: &str = env!("CARGO_PKG_REPOSITORY");

/// An output format for an image inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    CycloneDxJson,
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// rampart's own JSON (`rampart.sbom/v1`), the serde form of the inventory.
    Json,
    /// A table for the terminal.
    Table,
}

impl SbomFormat {
    /// Names accepted by [`FromStr`], canonical names first.
    pub const NAMES: &'static [&'static str] = &[
        "cyclonedx-json",
        "spdx-json",
        "json",
        "table",
        "cyclonedx",
        "spdx",
    ];

    /// Returns the canonical name, as `--output` takes it.
    pub fn name(self) -> &'static str {
        match self {
            SbomFormat::CycloneDxJson => "cyclonedx-json",
            SbomFormat::SpdxJson => "spdx-json",
            SbomFormat::Json => "json",
            SbomFormat::Table => "table",
        }
    }
}

impl fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for an SBOM format name that [`SbomFormat`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown SBOM format {name:?}: expected one of cyclonedx-json, cyclonedx, spdx-json, spdx, json, table"
)]
pub struct UnknownFormat {
    pub name: String,
}

impl FromStr for SbomFormat {
    type Err = UnknownFormat;

    /// Parses a format name. Matching ignores ASCII case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "cyclonedx-json" | "cyclonedx" => Ok(SbomFormat::CycloneDxJson),
            "spdx-json" | "spdx" => Ok(SbomFormat::SpdxJson),
            "json" => Ok(SbomFormat::Json),
            "table" => Ok(SbomFormat::Table),
            _ => Err(UnknownFormat {
                name: text.to_owned(),
            }),
        }
    }
}

/// Renders `inventory` in `format`. JSON formats are pretty-printed, and every
/// format ends with a newline. `color` applies to the table only.
pub fn render_sbom(
    format: SbomFormat,
    inventory: &Inventory,
    meta: &DocumentMeta,
    color: bool,
) -> String {
    match format {
        SbomFormat::CycloneDxJson => sbom::cyclonedx::render(inventory, meta),
        SbomFormat::SpdxJson => sbom::spdx::render(inventory, meta),
        SbomFormat::Json => sbom::json::render(inventory, meta),
        SbomFormat::Table => table::render(inventory, color),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_url_set() {
        assert!(
            PROJECT_URL.starts_with("https://"),
            "repository missing from Cargo.toml: {PROJECT_URL:?}"
        );
    }

    #[test]
    fn format_names_parse() {
        let cases = [
            ("cyclonedx-json", SbomFormat::CycloneDxJson),
            ("cyclonedx", SbomFormat::CycloneDxJson),
            ("CycloneDX", SbomFormat::CycloneDxJson),
            ("spdx-json", SbomFormat::SpdxJson),
            ("spdx", SbomFormat::SpdxJson),
            ("json", SbomFormat::Json),
            ("table", SbomFormat::Table),
        ];
        for (name, expected) in cases {
            assert_eq!(name.parse::<SbomFormat>(), Ok(expected), "{name}");
        }
    }

    #[test]
    fn format_names_round_trip() {
        for name in SbomFormat::NAMES {
            let format: SbomFormat = name.parse().unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(format.name().parse::<SbomFormat>(), Ok(format));
        }
    }

    #[test]
    fn unknown_format_rejected() {
        let error = "syft-json".parse::<SbomFormat>().unwrap_err();
        assert_eq!(error.name, "syft-json");
        assert!(error.to_string().contains("cyclonedx-json"));
    }
}
