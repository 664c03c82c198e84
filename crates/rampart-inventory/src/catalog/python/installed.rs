//! Installed distributions: one package per `METADATA` or `PKG-INFO` file,
//! with its file list and its origin from the files beside it.
//! `direct_url.json` follows PEP 610 ("Recording the Direct URL Origin of
//! installed distributions"): `dir_info` marks a local directory install,
//! `vcs_info` a checkout, `archive_info` an archive fetched by URL.

use serde_json::Value;

use super::super::{CatalogContext, CatalogOutput, is_printable_token};
use super::{metadata, pypi_purl, read_file, record};
use crate::package::{Package, PackageType};

/// Reads one installed distribution from its metadata file at `path`.
/// `is_egg_file` marks a `*.egg-info` regular file, which has no folder and
/// so no file list. Returns `None`, with a warning, when the metadata lacks a
/// usable name or version.
pub(super) fn read_installed(
    context: &CatalogContext,
    path: &str,
    content: &[u8],
    is_egg_file: bool,
    output: &mut CatalogOutput,
) -> Option<Package> {
    let metadata = metadata::parse(content);
    let (Some(name), Some(version)) = (metadata.name.as_deref(), metadata.version.as_deref())
    else {
        output.warnings.push(format!(
            "{path}: missing Name or Version header; distribution skipped"
        ));
        return None;
    };
    if !is_printable_token(name) || !is_printable_token(version) {
        output.warnings.push(format!(
            "{path}: invalid Name {name:?} or Version {version:?}; distribution skipped"
        ));
        return None;
    }

    let mut package = Package::new(PackageType::Python, name, version, pypi_purl(name, version));
    package.licenses = metadata.licenses();
    package.locations.push(context.location(path));
    if !is_egg_file && let Some((folder, _)) = path.rsplit_once('/') {
        package.files = read_files(context, folder, output);
        package.local_source = read_direct_url(context, folder, output);
    }
    Some(package)
}

/// Reads the file list of the distribution whose metadata folder is
/// `folder`: `RECORD`, else `installed-files.txt`.
fn read_files(context: &CatalogContext, folder: &str, output: &mut CatalogOutput) -> Vec<String> {
    let record_path = format!("{folder}/RECORD");
    if let Some(content) = read_file(context, &record_path, output) {
        let base = folder.rsplit_once('/').map_or("/", |(parent, _)| parent);
        let (files, bad_rows) = record::parse_record(&content, base);
        if let Some(first) = bad_rows.first() {
            output.warnings.push(format!(
                "{record_path}: line {first}: not a path,hash,size row ({} such rows skipped)",
                bad_rows.len()
            ));
        }
        return files;
    }
    let installed_files = format!("{folder}/installed-files.txt");
    read_file(context, &installed_files, output)
        .map(|content| record::parse_installed_files(&content, folder))
        .unwrap_or_default()
}

/// Reads `direct_url.json` beside the metadata and returns the package's
/// origin when it is not an index.
fn read_direct_url(
    context: &CatalogContext,
    folder: &str,
    output: &mut CatalogOutput,
) -> Option<String> {
    let path = format!("{folder}/direct_url.json");
    let content = read_file(context, &path, output)?;
    match serde_json::from_slice::<Value>(&content) {
        Ok(document) => local_source(&document),
        Err(error) => {
            output.warnings.push(format!(
                "{path}: invalid JSON: {error}; origin not recorded"
            ));
            None
        }
    }
}

/// Returns the origin recorded by a PEP 610 document: `path` for a local directory,
/// `VCS+URL#COMMIT` for a checkout.
/// NOTE: an `archive_info` install (a wheel or sdist fetched by URL) keeps
/// its registry identity, because such URLs often point at an index's own
/// files.
pub fn local_source(document: &Value) -> Option<String> {
    if document.get("dir_info").is_some_and(Value::is_object) {
        return Some("path".to_owned());
    }
    let vcs_info = document.get("vcs_info")?;
    let url = document.get("url").and_then(Value::as_str)?;
    let vcs = vcs_info.get("vcs").and_then(Value::as_str).unwrap_or("git");
    let prefix = format!("{vcs}+");
    let mut source = if url.starts_with(&prefix) {
        url.to_owned()
    } else {
        format!("{prefix}{url}")
    };
    if let Some(commit) = vcs_info.get("commit_id").and_then(Value::as_str) {
        source.push('#');
        source.push_str(commit);
    }
    Some(source)
}

#[cfg(test)]
mod tests {
    use super::local_source;

    #[test]
    fn direct_url_vcs_and_dir() {
        let vcs: serde_json::Value = serde_json::from_str(
            r#"{"url": "https://github.com/python-test/test.git", "vcs_info": {"commit_id": "aaaa", "vcs": "git"}}"#,
        )
        .unwrap();
        assert_eq!(
            local_source(&vcs).as_deref(),
            Some("git+https://github.com/python-test/test.git#aaaa")
        );
        let dir: serde_json::Value =
            serde_json::from_str(r#"{"url": "file:///src/app", "dir_info": {"editable": true}}"#)
                .unwrap();
        assert_eq!(local_source(&dir).as_deref(), Some("path"));
        let archive: serde_json::Value = serde_json::from_str(
            r#"{"url": "https://example.invalid/a-1.0.tar.gz", "archive_info": {}}"#,
        )
        .unwrap();
        assert_eq!(local_source(&archive), None);
    }
}
