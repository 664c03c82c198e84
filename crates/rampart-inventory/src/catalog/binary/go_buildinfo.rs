//! Go build information, the blob the Go linker embeds in every binary and
//! `go version -m` prints. Reimplemented from the format that Go's
//! `debug/buildinfo` and `runtime/debug.ParseBuildInfo` read (Go 1.13 to
//! 1.24), without running or linking Go code.
//!
//! The blob starts with the 14-byte magic `\xff Go buildinf:` at a 16-byte
//! aligned offset, then one byte of pointer size and one byte of flags, and
//! is 32 bytes long:
//! - Go 1.18 and later set flag 2 and write the Go version and the module
//!   information inline after the header, each prefixed by its length as an
//!   unsigned varint.
//! - Older binaries hold two pointers to Go string headers (data pointer,
//!   length) instead. They are virtual addresses, resolved through the
//!   loadable segments; flag 1 marks a big-endian target.
//!
//! The module information is text wrapped in two 16-byte sentinels. Its
//! lines are described in [`super::go_modinfo`].
//!
//! Traps:
//! - ELF binaries carry the blob in `.go.buildinfo` and Mach-O binaries in
//!   `__go_buildinfo`. PE binaries have it near the start of the first
//!   writable data segment.
//! - A binary built in GOPATH mode has a `path` line but no `mod` line, so
//!   its module path is guessed from the package path. `go build file.go`
//!   records the path `command-line-arguments`, which names no package.
//! - A main module built from a checkout reports the version `(devel)` up to
//!   Go 1.23. The release version may sit in an `-ldflags -X` setting.
//! - The Go version may carry experiments, `go1.22.0 X:boringcrypto`.

use object::{BinaryFormat, Object, ObjectSection, ObjectSegment};
use serde::{Deserialize, Serialize};

use super::go_modinfo::{ModInfo, Module, parse_modinfo};
use crate::catalog::go_mod::is_directory_path;
use crate::catalog::is_printable_token;
use crate::package::{Package, PackageType};
use crate::purl;

/// The start of the build information header.
const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// The header sits at an offset that is a multiple of this.
const ALIGN: usize = 16;
const HEADER_SIZE: usize = 32;
const FLAG_BIG_ENDIAN: u8 = 1;
const FLAG_INLINE_STRINGS: u8 = 2;
/// Maximum length of the Go version or module information string. The
/// module information of a large program (hundreds of dependencies) is tens
/// of KiB, so a longer string is damage.
const MAX_STRING_LEN: u64 = 4 << 20;
/// The Go build ID, which the linker puts at the start of the text segment
/// of non-ELF binaries (Go's `cmd/internal/buildid`).
const BUILD_ID_PREFIX: &[u8] = b"\xff Go build ID: \"";
/// How far into a file the build ID is searched for, as `cmd/internal/buildid` does.
const BUILD_ID_SEARCH_LEN: usize = 32 * 1024;
/// Sentinel length around the module information.
const SENTINEL_LEN: usize = 16;
/// The main module version Go writes when it has no version to record.
pub const DEVEL: &str = "(devel)";
/// The package path `go build file.go` records: not a real import path.
const COMMAND_LINE_ARGUMENTS: &str = "command-line-arguments";

/// The two strings of the build information blob, as stored in a binary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawBuildInfo {
    /// The toolchain, e.g. `go1.24.3`.
    pub go_version: String,
    /// The module information text without its sentinels; empty for a
    /// binary built without module support.
    pub modinfo: String,
}

/// Finds and decodes the build information of a parsed executable.
/// Returns `Ok(None)` when the file is not a Go binary, and an error that
/// describes the damage when it is one whose blob cannot be read.
pub fn find(file: &object::File, data: &[u8]) -> Result<Option<RawBuildInfo>, String> {
    let named = file
        .section_by_name(".go.buildinfo")
        .or_else(|| file.section_by_name("__go_buildinfo"));
    if let Some(section) = named {
        let bytes = section
            .data()
            .map_err(|error| format!("Go build information section is unreadable: {error}"))?;
        return match search_magic(bytes) {
            Some(header) => decode(file, header).map(Some),
            None => Err("Go build information section has no header".to_owned()),
        };
    }

    if !is_go_binary(file, data) {
        return Ok(None);
    }
    // NOTE: Go scans the whole first writable segment here, as
    // `debug/buildinfo` does, because the blob has no section of its own.
    let Some(bytes) = first_data_segment(file) else {
        return Ok(None);
    };
    match search_magic(bytes) {
        Some(header) => decode(file, header).map(Some),
        None => Ok(None),
    }
}

/// Whether a file without a build information section was built by Go: it
/// has a Go section (`.note.go.buildid`, `.gopclntab`, `__gopclntab`), or it
/// is not ELF and has the Go build ID near its start.
fn is_go_binary(file: &object::File, data: &[u8]) -> bool {
    let has_go_section = file.sections().any(|section| {
        section.name().is_ok_and(|name| {
            name == ".note.go.buildid" || name.ends_with("gopclntab") || name == "__gosymtab"
        })
    });
    if has_go_section {
        return true;
    }
    // `go build` gives ELF binaries a `.note.go.buildid` section, so only
    // other formats pay for this search.
    // NOTE: an ELF Go binary whose section table was removed is missed.
    let head = &data[..data.len().min(BUILD_ID_SEARCH_LEN)];
    file.format() != BinaryFormat::Elf
        && head
            .windows(BUILD_ID_PREFIX.len())
            .any(|window| window == BUILD_ID_PREFIX)
}

/// The file data of the first writable, non-executable segment with content,
/// where the Go linker puts the build information when no section names it.
fn first_data_segment<'data>(file: &object::File<'data>) -> Option<&'data [u8]> {
    file.segments().find_map(|segment| {
        let permissions = segment.permissions();
        let data = segment.data().ok()?;
        (permissions.writable() && !permissions.executable() && !data.is_empty()).then_some(data)
    })
}

/// Returns the bytes from the first 16-byte aligned magic on, when a whole
/// header fits.
fn search_magic(data: &[u8]) -> Option<&[u8]> {
    (0..data.len())
        .step_by(ALIGN)
        .map(|offset| &data[offset..])
        .find(|rest| rest.len() >= HEADER_SIZE && rest.starts_with(MAGIC))
}

/// Decodes the header at the start of `header` and the strings it refers to.
fn decode(file: &object::File<'_>, header: &[u8]) -> Result<RawBuildInfo, String> {
    let pointer_size = header.get(14).copied().unwrap_or(0);
    let flags = header.get(15).copied().unwrap_or(0);

    let (go_version, modinfo) = if flags & FLAG_INLINE_STRINGS != 0 {
        let rest = header.get(HEADER_SIZE..).unwrap_or_default();
        let (go_version, rest) = decode_varint_string(rest)
            .ok_or("Go build information has an invalid Go version string")?;
        let (modinfo, _) = decode_varint_string(rest)
            .ok_or("Go build information has an invalid module information string")?;
        (go_version, modinfo)
    } else {
        let big_endian = flags & FLAG_BIG_ENDIAN != 0;
        let width = usize::from(pointer_size);
        if width != 4 && width != 8 {
            return Err(format!(
                "Go build information has an invalid pointer size {pointer_size}"
            ));
        }
        let pointers = header.get(16..16 + 2 * width).unwrap_or_default();
        let version_header = read_word(pointers, 0, width, big_endian);
        let modinfo_header = read_word(pointers, width, width, big_endian);
        let go_version = version_header
            .and_then(|address| read_go_string(file, address, width, big_endian))
            .ok_or("Go build information points to an unreadable Go version")?;
        let modinfo = modinfo_header
            .and_then(|address| read_go_string(file, address, width, big_endian))
            .ok_or("Go build information points to unreadable module information")?;
        (go_version, modinfo)
    };

    if go_version.is_empty() {
        return Err("Go build information has an empty Go version".to_owned());
    }
    Ok(RawBuildInfo {
        go_version: String::from_utf8_lossy(go_version).into_owned(),
        modinfo: String::from_utf8_lossy(strip_sentinels(modinfo)).into_owned(),
    })
}

/// Reads a string prefixed by its length as an unsigned LEB128 varint (Go's
/// `binary.Uvarint`). Returns the string and the bytes after it.
fn decode_varint_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut length: u64 = 0;
    let mut used = 0;
    for (index, byte) in data.iter().enumerate().take(10) {
        length |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            used = index + 1;
            break;
        }
    }
    if used == 0 || length > MAX_STRING_LEN {
        return None;
    }
    let rest = &data[used..];
    let length = usize::try_from(length).ok()?;
    (length <= rest.len()).then(|| rest.split_at(length))
}

/// Reads a little- or big-endian unsigned word of `width` bytes at `offset`.
fn read_word(data: &[u8], offset: usize, width: usize, big_endian: bool) -> Option<u64> {
    let bytes = data.get(offset..offset.checked_add(width)?)?;
    let fold = |value: u64, byte: &u8| (value << 8) | u64::from(*byte);
    Some(if big_endian {
        bytes.iter().fold(0, fold)
    } else {
        bytes.iter().rev().fold(0, fold)
    })
}

/// Reads a Go string header (data pointer, length) at a virtual address and
/// then the string it points to.
fn read_go_string<'data>(
    file: &object::File<'data>,
    address: u64,
    width: usize,
    big_endian: bool,
) -> Option<&'data [u8]> {
    let string_header = read_at_address(file, address, 2 * width as u64)?;
    let data_address = read_word(string_header, 0, width, big_endian)?;
    let length = read_word(string_header, width, width, big_endian)?;
    if length > MAX_STRING_LEN {
        return None;
    }
    read_at_address(file, data_address, length)
}

/// Maps a virtual address range to file data through the loadable segments.
/// Returns `None` unless one segment contains the whole range in the file.
fn read_at_address<'data>(
    file: &object::File<'data>,
    address: u64,
    length: u64,
) -> Option<&'data [u8]> {
    file.segments().find_map(|segment| {
        let start = address.checked_sub(segment.address())?;
        let data = segment.data().ok()?;
        let start = usize::try_from(start).ok()?;
        let end = start.checked_add(usize::try_from(length).ok()?)?;
        data.get(start..end)
    })
}

/// Removes the 16-byte sentinels around the module information, as
/// `debug/buildinfo` does: text without them is no module information.
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let length = modinfo.len();
    if length > 2 * SENTINEL_LEN && modinfo[length - SENTINEL_LEN - 1] == b'\n' {
        &modinfo[SENTINEL_LEN..length - SENTINEL_LEN]
    } else {
        &[]
    }
}

/// The packages of one Go binary: every dependency (its replacement when
/// there is one), the main module and the Go standard library. Packages
/// have no location yet. Problems name the line of the module information.
pub fn packages(raw: &RawBuildInfo) -> (Vec<Package>, Vec<String>) {
    let (info, mut problems) = parse_modinfo(&raw.modinfo);
    let mut packages = Vec::new();

    for dep in &info.deps {
        packages.push(dependency_package(dep));
    }
    if let Some(main) = main_package(&info) {
        packages.push(main);
    }
    match stdlib_version(&raw.go_version) {
        Some(version) => {
            let purl = purl::build("golang", None, "stdlib", version, &[]);
            let mut stdlib = Package::new(PackageType::Go, "stdlib", version, purl);
            stdlib.licenses.push("BSD-3-Clause".to_owned());
            packages.push(stdlib);
        }
        None => problems.push(format!("unrecognized Go version {:?}", raw.go_version)),
    }
    (packages, problems)
}

/// A dependency as the build used it: the replacement wins, and a
/// replacement by a local directory keeps the required module path but has
/// no version and no registry identity.
fn dependency_package(dep: &Module) -> Package {
    let used = dep.replace.as_deref().unwrap_or(dep);
    if is_directory_path(&used.path) {
        let mut package =
            Package::new(PackageType::Go, &dep.path, "", go_purl(&dep.path, "", None));
        package.local_source = Some("path".to_owned());
        return package;
    }
    Package::new(
        PackageType::Go,
        &used.path,
        &used.version,
        go_purl(&used.path, &used.version, None),
    )
}

/// The main module, named by its module path, with the main package's path
/// below it as the purl subpath. In GOPATH mode there is no module, so the
/// package is named by the main package path and the module is guessed.
fn main_package(info: &ModInfo) -> Option<Package> {
    let package_path = info
        .path
        .as_deref()
        .filter(|path| *path != COMMAND_LINE_ARGUMENTS);
    let (name, module, version) = match &info.main {
        Some(main) if main.path != COMMAND_LINE_ARGUMENTS => (
            main.path.as_str(),
            main.path.as_str(),
            main.version.as_str(),
        ),
        _ => {
            let path = package_path?;
            (path, gopath_module(path), DEVEL)
        }
    };

    let version = if version.is_empty() || version == DEVEL {
        ldflags_version(info, module)
            .or_else(|| vcs_pseudo_version(info))
            .unwrap_or_else(|| DEVEL.to_owned())
    } else {
        version.to_owned()
    };
    let subpath = package_path
        .and_then(|path| path.strip_prefix(module))
        .and_then(|rest| rest.strip_prefix('/'));
    Some(Package::new(
        PackageType::Go,
        name,
        &version,
        go_purl(module, &version, subpath),
    ))
}

/// Guesses the module of a package built in GOPATH mode as Syft 1.18 does
/// in its Go purl: the first three path elements, or the whole path when it
/// is shorter. That is `github.com/docker/cli` for
/// `github.com/docker/cli/cmd/docker`, right for the usual `HOST/OWNER/REPO`.
fn gopath_module(path: &str) -> &str {
    match path.match_indices('/').nth(2) {
        Some((index, _)) => &path[..index],
        None => path,
    }
}

/// The version in an `-ldflags` `-X IMPORTPATH.NAME=VALUE` setting whose
/// variable name ends in `version` or `Version` and whose import path is
/// `main` or inside `module`, with a `v` prefix added as Go versions have.
/// Only values that start like a semantic version are taken.
fn ldflags_version(info: &ModInfo, module: &str) -> Option<String> {
    let ldflags = info.setting("-ldflags")?;
    let arguments = split_quoted(ldflags);
    let mut assignments = Vec::new();
    let mut iter = arguments.iter();
    while let Some(argument) = iter.next() {
        let flag = argument.trim_start_matches('-');
        if !argument.starts_with('-') {
            continue;
        }
        if flag == "X" {
            if let Some(value) = iter.next() {
                assignments.push(value.as_str());
            }
        } else if let Some(value) = flag.strip_prefix("X=") {
            assignments.push(value);
        }
    }

    assignments.into_iter().find_map(|assignment| {
        let (key, value) = assignment.split_once('=')?;
        let (import_path, variable) = key.rsplit_once('.')?;
        let in_module = import_path == "main"
            || import_path == module
            || import_path
                .strip_prefix(module)
                .is_some_and(|rest| rest.starts_with('/'));
        let names_version = variable.ends_with("version") || variable.ends_with("Version");
        (in_module && names_version && is_semantic_version(value)).then(|| {
            if value.starts_with('v') {
                value.to_owned()
            } else {
                format!("v{value}")
            }
        })
    })
}

/// Whether `text` is `[v]MAJOR.MINOR.PATCH` followed only by pre-release or
/// build characters.
fn is_semantic_version(text: &str) -> bool {
    let text = text.strip_prefix('v').unwrap_or(text);
    let core_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (core, suffix) = text.split_at(core_end);
    let mut parts = core.split('.');
    let numbers_ok = (0..3).all(|_| parts.next().is_some_and(|part| !part.is_empty()));
    let suffix_ok = suffix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.' | '_'));
    numbers_ok && parts.next().is_none() && suffix_ok
}

/// Splits command-line flags as Go's `cmd/internal/quoted.Split` does: on
/// white space, with single or double quotes around a whole field.
fn split_quoted(text: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let Some(first) = rest.chars().next() else {
            break;
        };
        if first == '"' || first == '\'' {
            let Some(end) = rest[1..].find(first) else {
                break;
            };
            fields.push(rest[1..=end].to_owned());
            rest = &rest[end + 2..];
            continue;
        }
        let end = rest.find([' ', '\t', '\n', '\r']).unwrap_or(rest.len());
        fields.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    fields
}

/// The pseudo-version `v0.0.0-YYYYMMDDHHMMSS-REVISION` that
/// `golang.org/x/mod/module.PseudoVersion` forms from the `vcs.time` and
/// `vcs.revision` settings, as Syft reports a `(devel)` main module. Only a
/// UTC time (the form `go build` writes) and a hexadecimal revision are
/// accepted, so the result is exact.
fn vcs_pseudo_version(info: &ModInfo) -> Option<String> {
    let revision = info.setting("vcs.revision")?;
    let time = info.setting("vcs.time")?;
    if revision.is_empty() || !revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let revision = &revision[..revision.len().min(12)];

    // RFC 3339 in UTC: 2024-01-02T15:04:05Z, with optional fractional seconds.
    let time = time.strip_suffix('Z')?;
    let time = time.split_once('.').map_or(time, |(whole, _)| whole);
    let bytes = time.as_bytes();
    let layout_ok = bytes.len() == 19
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    let digits: String = time.chars().filter(char::is_ascii_digit).collect();
    (layout_ok && digits.len() == 14).then(|| format!("v0.0.0-{digits}-{revision}"))
}

/// The standard library version of a Go toolchain version: `go1.24.3` →
/// `1.24.3`, `go1.21rc2` → `1.21rc2`, `go1.22.0 X:boringcrypto` →
/// `1.22.0`. Returns `None` for a development toolchain (`devel ...`).
pub fn stdlib_version(go_version: &str) -> Option<&str> {
    let release = go_version.split(' ').next()?;
    let version = release.strip_prefix("go")?;
    (version.starts_with(|c: char| c.is_ascii_digit()) && is_printable_token(version))
        .then_some(version)
}

/// `pkg:golang/MODULE@VERSION#SUBPATH`: the module path is the namespace and
/// name, and a package below the module is the subpath.
pub fn go_purl(module: &str, version: &str, subpath: Option<&str>) -> String {
    let (namespace, name) = match module.rsplit_once('/') {
        Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() => {
            (Some(namespace), name)
        }
        _ => (None, module),
    };
    let mut purl = purl::build("golang", namespace, name, version, &[]);
    let segments: Vec<String> = subpath
        .unwrap_or("")
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != "." && *segment != "..")
        .map(|segment| purl::encode(segment, &[]))
        .collect();
    if !segments.is_empty() {
        purl.push('#');
        purl.push_str(&segments.join("/"));
    }
    purl
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The module information of the docker CLI 28.2.2 in the polyglot-app
    /// image, without its sentinels (a GOPATH-mode build: no `mod` line).
    const DOCKER_MODINFO: &str = "path\tgithub.com/docker/cli/cmd/docker\nbuild\t-buildmode=pie\nbuild\t-compiler=gc\nbuild\t-ldflags=\" -X \\\"github.com/docker/cli/cli/version.GitCommit=e6534b4\\\" -X \\\"github.com/docker/cli/cli/version.BuildTime=2025-05-30T12:07:14Z\\\" -X \\\"github.com/docker/cli/cli/version.Version=28.2.2\\\" -extldflags -static\"\nbuild\t-tags=osusergo,pkcs11\nbuild\tCGO_ENABLED=1\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tGOAMD64=v1\n";

    const MODULE_MODINFO: &str = "path\texample.com/app/cmd/server\nmod\texample.com/app\t(devel)\t\ndep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ndep\tgolang.org/x/text\tv0.3.0\th1:abc=\n=>\tgolang.org/x/text\tv0.3.8\th1:def=\ndep\texample.com/local\tv1.0.0\n=>\t../local\t\t\nbuild\tvcs=git\nbuild\tvcs.revision=0123456789abcdef0123456789abcdef01234567\nbuild\tvcs.time=2024-05-06T07:08:09Z\n";

    fn sentinel_wrapped(text: &str) -> Vec<u8> {
        let mut modinfo = vec![0x30; SENTINEL_LEN];
        modinfo.extend_from_slice(text.as_bytes());
        modinfo.extend_from_slice(&[0xf9; SENTINEL_LEN]);
        modinfo
    }

    fn names_versions(packages: &[Package]) -> Vec<(String, String)> {
        packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect()
    }

    #[test]
    fn docker_gopath_build() {
        let raw = RawBuildInfo {
            go_version: "go1.24.3".into(),
            modinfo: DOCKER_MODINFO.into(),
        };
        let (packages, problems) = packages(&raw);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].name, "github.com/docker/cli/cmd/docker");
        assert_eq!(packages[0].version, "v28.2.2");
        assert_eq!(
            packages[0].purl,
            "pkg:golang/github.com/docker/cli@v28.2.2#cmd/docker"
        );
        assert_eq!(packages[1].name, "stdlib");
        assert_eq!(packages[1].version, "1.24.3");
        assert_eq!(packages[1].purl, "pkg:golang/stdlib@1.24.3");
    }

    #[test]
    fn module_build_with_replacements() {
        let raw = RawBuildInfo {
            go_version: "go1.22.0 X:boringcrypto".into(),
            modinfo: MODULE_MODINFO.into(),
        };
        let (packages, problems) = packages(&raw);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            names_versions(&packages),
            [
                ("github.com/google/uuid".into(), "v1.6.0".into()),
                ("golang.org/x/text".into(), "v0.3.8".into()),
                ("example.com/local".into(), String::new()),
                (
                    "example.com/app".into(),
                    "v0.0.0-20240506070809-0123456789ab".into()
                ),
                ("stdlib".into(), "1.22.0".into()),
            ]
        );
        assert_eq!(packages[2].local_source.as_deref(), Some("path"));
        assert_eq!(packages[1].local_source, None);
        assert_eq!(
            packages[3].purl,
            "pkg:golang/example.com/app@v0.0.0-20240506070809-0123456789ab#cmd/server"
        );
        assert_eq!(packages[0].purl, "pkg:golang/github.com/google/uuid@v1.6.0");
    }

    #[test]
    fn devel_without_hints_is_kept() {
        let raw = RawBuildInfo {
            go_version: "go1.21rc2".into(),
            modinfo: "path\texample.com/tool\nmod\texample.com/tool\t(devel)\t\n".into(),
        };
        let (packages, _) = packages(&raw);
        assert_eq!(packages[0].version, DEVEL);
        assert_eq!(packages[0].purl, "pkg:golang/example.com/tool@%28devel%29");
        assert_eq!(packages[1].version, "1.21rc2");
    }

    #[test]
    fn command_line_arguments_has_no_main_package() {
        let raw = RawBuildInfo {
            go_version: "go1.20".into(),
            modinfo: "path\tcommand-line-arguments\ndep\tgithub.com/pkg/errors\tv0.9.1\n".into(),
        };
        let (packages, _) = packages(&raw);
        assert_eq!(
            names_versions(&packages),
            [
                ("github.com/pkg/errors".into(), "v0.9.1".into()),
                ("stdlib".into(), "1.20".into())
            ]
        );
    }

    #[test]
    fn ldflags_versions() {
        let info = |ldflags: &str| ModInfo {
            settings: vec![("-ldflags".into(), ldflags.into())],
            ..ModInfo::default()
        };
        let module = "github.com/org/tool";
        assert_eq!(
            ldflags_version(&info("-s -w -X main.version=1.2.3"), module).as_deref(),
            Some("v1.2.3")
        );
        assert_eq!(
            ldflags_version(
                &info("-X=github.com/org/tool/internal.Version=v2.0.0-rc.1"),
                module
            )
            .as_deref(),
            Some("v2.0.0-rc.1")
        );
        // Another module's variable, a commit and a non-version value are ignored.
        assert_eq!(
            ldflags_version(&info("-X github.com/other/lib.Version=1.0.0"), module),
            None
        );
        assert_eq!(ldflags_version(&info("-X main.commit=1.2.3"), module), None);
        assert_eq!(ldflags_version(&info("-X main.version=dev"), module), None);
    }

    #[test]
    fn stdlib_versions() {
        assert_eq!(stdlib_version("go1.24.3"), Some("1.24.3"));
        assert_eq!(
            stdlib_version("go1.22.0 X:nocoverageredesign"),
            Some("1.22.0")
        );
        assert_eq!(stdlib_version("devel go1.23-abcdef"), None);
        assert_eq!(stdlib_version(""), None);
    }

    #[test]
    fn inline_header_decodes() {
        let modinfo = sentinel_wrapped(DOCKER_MODINFO);
        let mut blob = MAGIC.to_vec();
        blob.extend_from_slice(&[8, FLAG_INLINE_STRINGS]);
        blob.resize(HEADER_SIZE, 0);
        blob.push(8);
        blob.extend_from_slice(b"go1.24.3");
        // 2-byte varint length
        let length = modinfo.len();
        assert!((128..16384).contains(&length));
        blob.push((length & 0x7f) as u8 | 0x80);
        blob.push((length >> 7) as u8);
        blob.extend_from_slice(&modinfo);

        let (version, rest) = decode_varint_string(&blob[HEADER_SIZE..]).unwrap();
        assert_eq!(version, b"go1.24.3");
        let (text, _) = decode_varint_string(rest).unwrap();
        assert_eq!(strip_sentinels(text), DOCKER_MODINFO.as_bytes());
    }

    #[test]
    fn varint_length_past_end_is_rejected() {
        assert_eq!(decode_varint_string(&[5, b'a', b'b']), None);
        assert_eq!(decode_varint_string(&[0x80; 12]), None);
        assert_eq!(decode_varint_string(&[]), None);
    }

    #[test]
    fn magic_must_be_aligned() {
        let mut data = vec![0u8; 8];
        data.extend_from_slice(MAGIC);
        data.resize(96, 0);
        assert!(search_magic(&data).is_none());
        data[32..46].copy_from_slice(MAGIC);
        assert_eq!(search_magic(&data).map(<[u8]>::len), Some(64));
    }

    #[test]
    fn sentinels_need_newline() {
        assert_eq!(
            strip_sentinels(&sentinel_wrapped("path\tx\n")),
            b"path\tx\n"
        );
        assert_eq!(strip_sentinels(&sentinel_wrapped("path\tx")), b"");
        assert_eq!(strip_sentinels(b"short"), b"");
    }

    #[test]
    fn purl_subpaths() {
        assert_eq!(go_purl("stdlib", "1.0", None), "pkg:golang/stdlib@1.0");
        assert_eq!(
            go_purl("github.com/a/b/v2", "v2.1.0+incompatible", Some("cmd/x")),
            "pkg:golang/github.com/a/b/v2@v2.1.0%2Bincompatible#cmd/x"
        );
        assert_eq!(
            gopath_module("github.com/docker/cli/cmd/docker"),
            "github.com/docker/cli"
        );
        assert_eq!(gopath_module("example.com/x"), "example.com/x");
    }

    #[test]
    fn split_like_go() {
        assert_eq!(
            split_quoted(" -X 'a=b c' -X \"d=e\"\t-s"),
            ["-X", "a=b c", "-X", "d=e", "-s"]
        );
        assert_eq!(split_quoted("-X \"unterminated"), ["-X"]);
    }
}
