//! The package table for the terminal: one row per package, sorted by name,
//! then a line with the count per package type and the inventory warnings.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use comfy_table::{Attribute, Cell, Table, presets};
use rampart_inventory::{Inventory, Package, PackageType};

use crate::sbom::{compare_packages, short_digest};

const HEADER: [&str; 5] = ["NAME", "VERSION", "TYPE", "SOURCE", "LAYER"];

/// Renders the table, ending with a newline. `color` makes the headers bold.
/// Without it the output contains no escape sequences.
pub(crate) fn render(inventory: &Inventory, color: bool) -> String {
    let mut packages: Vec<&Package> = inventory.packages.iter().collect();
    packages.sort_by(|a, b| compare_for_table(a, b));

    let mut out = String::new();
    if !packages.is_empty() {
        out.push_str(&package_table(&packages, color));
        out.push('\n');
    }
    out.push_str(&count_line(&packages));
    out.push('\n');
    for warning in &inventory.warnings {
        out.push_str("warning: ");
        out.push_str(&printable(warning));
        out.push('\n');
    }
    out
}

fn compare_for_table(a: &Package, b: &Package) -> Ordering {
    a.name
        .cmp(&b.name)
        .then_with(|| a.version.cmp(&b.version))
        .then_with(|| a.package_type.cmp(&b.package_type))
        .then_with(|| compare_packages(a, b))
}

fn package_table(packages: &[&Package], color: bool) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    // The caller decides about colour, so comfy-table must not probe
    // whether stdout is a terminal.
    table.force_no_tty();
    if color {
        table.enforce_styling();
    }

    let header: Vec<Cell> = HEADER
        .iter()
        .map(|title| {
            if color {
                Cell::new(title).add_attribute(Attribute::Bold)
            } else {
                Cell::new(title)
            }
        })
        .collect();
    table.set_header(header);

    for package in packages {
        table.add_row(vec![
            printable(&package.name),
            printable(&package.version),
            package.package_type.purl_type().to_owned(),
            printable(source_column(package)),
            layer_column(package)
                .map(short_digest)
                .unwrap_or("")
                .to_owned(),
        ]);
    }

    for index in 0..HEADER.len() {
        if let Some(column) = table.column_mut(index) {
            column.set_padding((0, 2));
        }
    }
    table.trim_fmt()
}

/// Returns the source package name where it differs from the binary package name.
fn source_column(package: &Package) -> &str {
    match &package.source_name {
        Some(source) if *source != package.name => source,
        _ => "",
    }
}

/// Returns the layer that introduced the package, else the layer of its first
/// database file.
fn layer_column(package: &Package) -> Option<&str> {
    package.introduced_in_layer.as_deref().or_else(|| {
        package
            .locations
            .iter()
            .find_map(|location| location.layer_diff_id.as_deref())
    })
}

/// `3 packages: 2 apk, 1 deb`, or `No packages found.`
fn count_line(packages: &[&Package]) -> String {
    if packages.is_empty() {
        return "No packages found.".to_owned();
    }

    let mut counts: BTreeMap<PackageType, usize> = BTreeMap::new();
    for package in packages {
        *counts.entry(package.package_type).or_default() += 1;
    }
    let per_type: Vec<String> = counts
        .iter()
        .map(|(package_type, count)| format!("{count} {}", package_type.purl_type()))
        .collect();
    let noun = if packages.len() == 1 {
        "package"
    } else {
        "packages"
    };
    format!("{} {noun}: {}", packages.len(), per_type.join(", "))
}

/// Replaces control characters with their Rust escapes, because package
/// metadata comes from the image and could otherwise send escape sequences
/// to the terminal.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_escaped() {
        assert_eq!(printable("evil\u{1b}[31mred"), "evil\\u{1b}[31mred");
        assert_eq!(printable("plain"), "plain");
    }

    #[test]
    fn empty_inventory_message() {
        assert_eq!(render(&Inventory::default(), false), "No packages found.\n");
    }
}
