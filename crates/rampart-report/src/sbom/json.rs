//! rampart's own SBOM JSON, schema `rampart.sbom/v1`: the serde form of the
//! inventory model with a tool and timestamp header.
//!
//! Field names and shapes are those of `rampart_inventory`'s types, so a change
//! there changes this output. Such a change needs a new schema name.

use rampart_inventory::{Distro, Inventory, Package, SourceInfo};
use serde::Serialize;

use super::sorted_packages;
use crate::meta::DocumentMeta;

/// The value of the `schema` field.
pub const SCHEMA: &str = "rampart.sbom/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    tool: Tool<'a>,
    timestamp: String,
    source: &'a SourceInfo,
    /// `null` when no OS release was detected.
    distro: Option<&'a Distro>,
    packages: Vec<&'a Package>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

/// Renders the `rampart.sbom/v1` document, pretty-printed, ending with a newline.
pub fn render(inventory: &Inventory, meta: &DocumentMeta) -> String {
    let document = Document {
        schema: SCHEMA,
        tool: Tool {
            name: "rampart",
            version: &meta.tool_version,
        },
        timestamp: meta.timestamp_rfc3339(),
        source: &inventory.source,
        distro: inventory.distro.as_ref(),
        packages: sorted_packages(inventory),
        warnings: &inventory.warnings,
    };
    to_pretty_string(&document)
}

/// Serializes with two-space indentation and a final newline.
pub(crate) fn to_pretty_string<T: Serialize>(value: &T) -> String {
    // serde_json fails only on maps with non-string keys and on Serialize
    // impls that return errors. The document types derive Serialize and
    // contain no maps.
    let mut text =
        serde_json::to_string_pretty(value).expect("SBOM document types always serialize to JSON");
    text.push('\n');
    text
}
