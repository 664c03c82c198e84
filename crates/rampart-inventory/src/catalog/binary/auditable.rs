//! The dependency list that `cargo auditable` (rust-secure-code/cargo-auditable,
//! format 1 of its `auditable-serde` crate) links into Rust binaries: a
//! zlib-compressed JSON document in the section `.dep-v0` (ELF and PE;
//! `__DATA,.dep-v0` in Mach-O):
//! `{"packages":[{"name","version","source","kind","dependencies","root"}]}`.
//!
//! Traps:
//! - `source` is `crates.io`, `git`, `local` (a path dependency or the
//!   binary's own crate) or `registry` (another registry). Only `crates.io`
//!   crates have the registry identity that advisories name.
//! - `kind` is `runtime` when absent. `build` crates (build scripts, proc
//!   macros) ran at compile time and are not in the binary, so they are not
//!   reported, as Syft 1.18 does.
//! - The data is compressed, so its expanded size is capped.

use std::io::Read;

use object::{Object, ObjectSection};
use serde::{Deserialize, Serialize};

use crate::catalog::is_printable_token;
use crate::package::{Package, PackageType};
use crate::purl;

/// The section name, the same in every format.
const SECTION: &str = ".dep-v0";
/// Maximum expanded size of the JSON document. The list of a program with
/// a thousand crates is about 100 KiB, so 8 MiB leaves room for any real one.
pub const MAX_EXPANDED_LEN: u64 = 8 << 20;

/// One crate kept from the dependency list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditedCrate {
    pub name: String,
    pub version: String,
    /// `crates.io`, `git`, `local`, `registry`, or another value a newer
    /// format writes.
    pub source: String,
}

/// The runtime crates of a dependency list, and the entries skipped.
pub type ParsedList = (Vec<AuditedCrate>, Vec<String>);

#[derive(Deserialize)]
struct Document {
    packages: Vec<DocumentPackage>,
}

#[derive(Deserialize)]
struct DocumentPackage {
    name: String,
    version: String,
    source: Option<String>,
    kind: Option<String>,
}

/// Reads the dependency list of a parsed executable. Returns `Ok(None)`
/// without a `.dep-v0` section, and an error that describes the damage when
/// the section cannot be read. The second value lists skipped entries.
pub fn find(file: &object::File) -> Result<Option<ParsedList>, String> {
    let Some(section) = file.section_by_name(SECTION) else {
        return Ok(None);
    };
    let compressed = section
        .data()
        .map_err(|error| format!("cargo-auditable section is unreadable: {error}"))?;
    parse_compressed(compressed).map(Some)
}

/// Decompresses and parses the section content.
pub fn parse_compressed(compressed: &[u8]) -> Result<ParsedList, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_EXPANDED_LEN + 1)
        .read_to_end(&mut json)
        .map_err(|error| format!("cargo-auditable data is not valid zlib data: {error}"))?;
    if json.len() as u64 > MAX_EXPANDED_LEN {
        return Err(format!(
            "cargo-auditable data expands past {MAX_EXPANDED_LEN} bytes and was not read"
        ));
    }
    parse_json(&json)
}

/// Parses the JSON document, keeping the runtime crates with a plausible
/// name and version.
pub fn parse_json(json: &[u8]) -> Result<ParsedList, String> {
    let document: Document = serde_json::from_slice(json)
        .map_err(|error| format!("cargo-auditable data is not a valid dependency list: {error}"))?;
    let mut crates = Vec::new();
    let mut problems = Vec::new();
    for (index, package) in document.packages.into_iter().enumerate() {
        if package
            .kind
            .as_deref()
            .is_some_and(|kind| kind != "runtime")
        {
            continue;
        }
        let Some(source) = package.source else {
            problems.push(format!(
                "cargo-auditable package {index} ({}) has no source and was skipped",
                package.name
            ));
            continue;
        };
        if !is_printable_token(&package.name) || !is_printable_token(&package.version) {
            problems.push(format!(
                "cargo-auditable package {index} has an invalid name or version and was skipped"
            ));
            continue;
        }
        crates.push(AuditedCrate {
            name: package.name,
            version: package.version,
            source,
        });
    }
    Ok((crates, problems))
}

/// Builds the package of a crate, without location. Crates from anywhere
/// but the default registry get a `local_source` and are never matched.
pub fn package(audited: &AuditedCrate) -> Package {
    let purl = purl::build("cargo", None, &audited.name, &audited.version, &[]);
    let mut package = Package::new(PackageType::Rust, &audited.name, &audited.version, purl);
    package.local_source = match audited.source.as_str() {
        "crates.io" => None,
        "local" => Some("path".to_owned()),
        other => Some(other.to_owned()),
    };
    package
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// The dependency list of `/usr/local/bin/rustdemo` in the polyglot-app image.
    pub(crate) const RUSTDEMO_JSON: &str = r#"{"packages":[{"name":"base64","version":"0.5.1","source":"crates.io","dependencies":[1]},{"name":"byteorder","version":"1.5.0","source":"crates.io"},{"name":"libc","version":"0.2.191","source":"crates.io"},{"name":"maybe-uninit","version":"2.0.0","source":"crates.io"},{"name":"rustdemo","version":"0.1.0","source":"local","dependencies":[0,5,6],"root":true},{"name":"smallvec","version":"0.6.13","source":"crates.io","dependencies":[3]},{"name":"time","version":"0.1.43","source":"crates.io","dependencies":[2]}],"format":1}"#;

    fn compress(data: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn rustdemo_list() {
        let (crates, problems) = parse_compressed(&compress(RUSTDEMO_JSON.as_bytes())).unwrap();
        assert!(problems.is_empty());
        let names: Vec<&str> = crates.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "base64",
                "byteorder",
                "libc",
                "maybe-uninit",
                "rustdemo",
                "smallvec",
                "time"
            ]
        );
        let root = package(&crates[4]);
        assert_eq!(root.purl, "pkg:cargo/rustdemo@0.1.0");
        assert_eq!(root.local_source.as_deref(), Some("path"));
        let smallvec = package(&crates[5]);
        assert_eq!(smallvec.purl, "pkg:cargo/smallvec@0.6.13");
        assert_eq!(smallvec.local_source, None);
    }

    #[test]
    fn build_crates_are_skipped_and_sources_kept() {
        let json = r#"{"packages":[
            {"name":"serde_derive","version":"1.0.0","source":"crates.io","kind":"build"},
            {"name":"fork","version":"0.1.0","source":"git"},
            {"name":"internal","version":"2.0.0","source":"registry","kind":"runtime"},
            {"name":"nosource","version":"1.0.0"},
            {"name":"bad name","version":"1.0.0","source":"crates.io"}]}"#;
        let (crates, problems) = parse_json(json.as_bytes()).unwrap();
        let sources: Vec<Option<String>> = crates.iter().map(|c| package(c).local_source).collect();
        assert_eq!(
            sources,
            [Some("git".to_owned()), Some("registry".to_owned())]
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn expansion_is_capped() {
        let huge = vec![b' '; MAX_EXPANDED_LEN as usize + 10];
        let error = parse_compressed(&compress(&huge)).unwrap_err();
        assert!(error.contains("expands past"), "{error}");
    }

    #[test]
    fn damaged_data_is_an_error() {
        assert!(parse_compressed(b"not zlib").is_err());
        assert!(parse_compressed(&compress(b"{\"packages\":")).is_err());
    }
}
