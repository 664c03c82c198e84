//! License names from Debian copyright files (`/usr/share/doc/PKG/copyright`).
//!
//! Machine-readable files (DEP-5, "copyright-format 1.0") name licenses in
//! `License:` fields, using the short names of the DEP-5 specification
//! (`GPL-2+`, `BSD-3-clause`, `Expat`) joined by `or`, `and` and `,`.
//! Free-form files only point at `/usr/share/common-licenses/NAME`. Short
//! names with an SPDX equivalent are mapped to the SPDX identifier; the rest
//! are kept as written.
//!
//! Trap: many files are not DEP-5 and have lines such as
//! `License: Permission to use, copy, modify ...`. A `License:` value whose
//! parts are not single license tokens is prose, and is skipped whole.

use std::collections::BTreeSet;

use super::lines;

const COMMON_LICENSES: &str = "/usr/share/common-licenses/";

/// Extracts the license names of a copyright file, mapped to SPDX
/// identifiers where DEP-5 short names have one, sorted and deduplicated.
pub fn parse_copyright(content: &[u8]) -> Vec<String> {
    let mut licenses = BTreeSet::new();
    for line in lines(content) {
        let line = String::from_utf8_lossy(line);
        if let Some(value) = line.strip_prefix("License:") {
            licenses.extend(license_field(value));
        }
        if let Some(position) = line.find(COMMON_LICENSES) {
            let name: String = line[position + COMMON_LICENSES.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                licenses.insert(to_spdx(name));
            }
        }
    }
    licenses.into_iter().collect()
}

/// Returns the licenses of one `License:` field value, or nothing when the
/// value is prose rather than a list of short names.
fn license_field(value: &str) -> Vec<String> {
    let mut names = Vec::new();
    for part in value
        .split(',')
        .flat_map(|p| p.split(" or "))
        .flat_map(|p| p.split(" and "))
    {
        // "GPL-2+ with OpenSSL exception": the exception does not change
        // which license applies.
        let part = part
            .split(" with ")
            .next()
            .unwrap_or(part)
            .trim()
            .trim_end_matches('.');
        if part.is_empty() {
            continue;
        }
        let is_token = part.len() <= 64
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+' | '_'));
        if !is_token {
            return Vec::new();
        }
        names.push(to_spdx(part));
    }
    names
}

/// Maps a DEP-5 short name to its SPDX identifier, or returns it unchanged.
/// `+` means "or any later version" in DEP-5, `-or-later` in SPDX.
pub fn to_spdx(name: &str) -> String {
    let (base, or_later) = match name.strip_suffix('+') {
        Some(base) => (base, true),
        None => (name, false),
    };
    let suffix = if or_later { "-or-later" } else { "-only" };
    let versioned = |family: &str, version: &str| format!("{family}-{version}{suffix}");

    let mapped = match base {
        "GPL-1" | "GPL-1.0" => Some(versioned("GPL", "1.0")),
        "GPL-2" | "GPL-2.0" => Some(versioned("GPL", "2.0")),
        "GPL-3" | "GPL-3.0" => Some(versioned("GPL", "3.0")),
        "LGPL-2" | "LGPL-2.0" => Some(versioned("LGPL", "2.0")),
        "LGPL-2.1" => Some(versioned("LGPL", "2.1")),
        "LGPL-3" | "LGPL-3.0" => Some(versioned("LGPL", "3.0")),
        "AGPL-3" | "AGPL-3.0" => Some(versioned("AGPL", "3.0")),
        "GFDL-1.1" => Some(versioned("GFDL", "1.1")),
        "GFDL-1.2" => Some(versioned("GFDL", "1.2")),
        "GFDL-1.3" => Some(versioned("GFDL", "1.3")),
        _ => None,
    };
    if let Some(mapped) = mapped {
        return mapped;
    }
    if or_later {
        return name.to_owned();
    }
    match base {
        "Apache-2" | "Apache-2.0" => "Apache-2.0".to_owned(),
        "BSD-2-clause" => "BSD-2-Clause".to_owned(),
        "BSD-3-clause" => "BSD-3-Clause".to_owned(),
        "BSD-4-clause" => "BSD-4-Clause".to_owned(),
        "Expat" => "MIT".to_owned(),
        "MPL-2" => "MPL-2.0".to_owned(),
        "CC0" => "CC0-1.0".to_owned(),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep5_fields_and_common_licenses() {
        let text = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1 or Artistic\n\nLicense: GPL-2+\n On Debian systems, see /usr/share/common-licenses/GPL-2.\n";
        assert_eq!(
            parse_copyright(text),
            [
                "Artistic",
                "GPL-2.0-only",
                "GPL-2.0-or-later",
                "LGPL-2.1-only"
            ]
        );
    }

    #[test]
    fn prose_license_lines_are_skipped() {
        let text = b"License: Permission to use, copy, modify, and distribute this software\nLicense: BSD-3-clause, Expat\nLicense: GPL-2+ with OpenSSL exception\n";
        assert_eq!(
            parse_copyright(text),
            ["BSD-3-Clause", "GPL-2.0-or-later", "MIT"]
        );
    }

    #[test]
    fn short_names_map_to_spdx() {
        for (short, spdx) in [
            ("GPL-3+", "GPL-3.0-or-later"),
            ("LGPL-2+", "LGPL-2.0-or-later"),
            ("GFDL-1.3", "GFDL-1.3-only"),
            ("Apache-2.0", "Apache-2.0"),
            ("public-domain", "public-domain"),
            ("GFDL-NIV-1.3", "GFDL-NIV-1.3"),
            ("GPL", "GPL"),
        ] {
            assert_eq!(to_spdx(short), spdx, "{short}");
        }
    }
}
