//! The file lists of installed distributions:
//! - `RECORD` (PyPA "Recording installed projects"): CSV rows of
//!   `path,hash,size`, the path relative to the parent of the
//!   `.dist-info` folder (`site-packages`), with `..` for scripts installed
//!   elsewhere (`../../../bin/pygmentize`).
//! - `installed-files.txt` (setuptools/pip, legacy egg installs): one path
//!   per line, relative to the `.egg-info` folder itself.
//!
//! Traps: paths with a comma are quoted with `"` and a quote inside is
//! doubled (Python's `csv` module defaults). A path that climbs above the
//! image root is dropped, never clamped, because it names no file.

use super::super::lines;

/// Maximum entries read from one file list. The largest real distributions
/// (scipy, tensorflow) list some tens of thousands of files.
pub const MAX_FILE_ENTRIES: usize = 200_000;

/// Splits one CSV row into fields, honouring `"` quoting with `""` escapes.
fn csv_fields(row: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Joins `relative` onto the absolute folder `base` and normalises `.` and
/// `..`. Returns `None` when the path climbs above `/` or is empty. An
/// absolute `relative` (RECORD allows them for files outside the prefix)
/// is normalised as it is.
pub fn resolve(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    let joined_base = if relative.starts_with('/') { "" } else { base };
    for part in joined_base.split('/').chain(relative.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("/{}", parts.join("/")))
}

/// Parses a RECORD file. Returns the absolute paths, resolved against
/// `base` (the folder holding the `.dist-info` folder), and the 1-based
/// numbers of the rows that are not `path,hash,size` rows.
pub fn parse_record(content: &[u8], base: &str) -> (Vec<String>, Vec<usize>) {
    let mut files = Vec::new();
    let mut bad_rows = Vec::new();
    for (index, line) in lines(content).enumerate().take(MAX_FILE_ENTRIES) {
        let line = String::from_utf8_lossy(line);
        if line.trim().is_empty() {
            continue;
        }
        let fields = csv_fields(&line);
        let path = match fields.as_slice() {
            [path, _hash, _size] if !path.is_empty() => path,
            _ => {
                bad_rows.push(index + 1);
                continue;
            }
        };
        if let Some(resolved) = resolve(base, path) {
            files.push(resolved);
        }
    }
    (files, bad_rows)
}

/// Parses `installed-files.txt`. `egg_info` is the absolute `.egg-info`
/// folder the paths are relative to.
pub fn parse_installed_files(content: &[u8], egg_info: &str) -> Vec<String> {
    lines(content)
        .take(MAX_FILE_ENTRIES)
        .map(String::from_utf8_lossy)
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| resolve(egg_info, line.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_normalises_and_drops_escapes() {
        assert_eq!(
            resolve("/usr/lib/site", "a/./b.py").as_deref(),
            Some("/usr/lib/site/a/b.py")
        );
        assert_eq!(
            resolve("/usr/lib/python3/site", "../../../bin/x").as_deref(),
            Some("/usr/bin/x")
        );
        assert_eq!(resolve("/usr", "../../../etc/passwd"), None);
        assert_eq!(resolve("/site", "/opt/abs"), Some("/opt/abs".to_owned()));
        assert_eq!(resolve("/", ".."), None);
    }

    #[test]
    fn record_rows_and_quoting() {
        let record = b"pkg/__init__.py,sha256=abc,10\n\"pkg/a,b.py\",sha256=def,3\npkg-1.0.dist-info/RECORD,,\n\nnot a row\n";
        let (files, bad) = parse_record(record, "/site");
        assert_eq!(
            files,
            [
                "/site/pkg/__init__.py",
                "/site/pkg/a,b.py",
                "/site/pkg-1.0.dist-info/RECORD"
            ]
        );
        assert_eq!(bad, [5]);
    }

    #[test]
    fn installed_files_relative_to_egg_info() {
        let list = b"../__pycache__/dicttoxml.cpython-36.pyc\n../dicttoxml.py\nPKG-INFO\n";
        let files = parse_installed_files(list, "/site/dicttoxml-1.7.4.egg-info");
        assert_eq!(
            files,
            [
                "/site/__pycache__/dicttoxml.cpython-36.pyc",
                "/site/dicttoxml.py",
                "/site/dicttoxml-1.7.4.egg-info/PKG-INFO"
            ]
        );
    }
}
