//! Package catalogers. Each cataloger is one module: the files it needs (its
//! capture rule) and a parser turning them into packages. Adding one means
//! adding a module and a line in [`CATALOGERS`].

pub mod apk;
pub mod binary;
pub mod cargo_lock;
pub mod debian_copyright;
pub mod dotnet;
pub mod dpkg;
pub mod go_mod;
mod history;
pub mod java;
pub mod npm;
pub mod php;
pub mod python;
pub mod reconcile;
pub mod rpm;
pub mod ruby;

use rampart_image::Filesystem;

use crate::package::{Distro, Location, Package};

pub(crate) use history::introduced_in;

/// A regular file whose content (or extract) the squash kept.
#[derive(Clone, Debug)]
pub struct CapturedFile {
    /// Absolute path inside the image.
    pub path: String,
    pub mode: u32,
}

/// The input of a cataloger.
pub struct CatalogContext<'a> {
    pub fs: &'a Filesystem,
    pub distro: Option<&'a Distro>,
    /// Every captured regular file, in path order, listed once for all
    /// catalogers instead of one walk of the whole tree each.
    captured: Vec<CapturedFile>,
}

impl<'a> CatalogContext<'a> {
    /// Lists the captured files of `fs` for the catalogers.
    pub fn new(fs: &'a Filesystem, distro: Option<&'a Distro>) -> Self {
        let mut captured = Vec::new();
        fs.walk(|info| {
            if info.kind == rampart_image::FileKind::Regular && info.captured {
                captured.push(CapturedFile {
                    path: info.path.clone(),
                    mode: info.mode,
                });
            }
        });
        CatalogContext {
            fs,
            distro,
            captured,
        }
    }
}

impl CatalogContext<'_> {
    /// Every captured regular file, in path order.
    pub fn captured_files(&self) -> &[CapturedFile] {
        &self.captured
    }

    /// The paths of the captured files whose whole content `cataloger`
    /// wants, in path order.
    pub fn wanted_paths(&self, cataloger: &dyn Cataloger) -> Vec<&str> {
        self.captured
            .iter()
            .map(|file| file.path.as_str())
            .filter(|path| cataloger.wants(path))
            .collect()
    }

    /// Reads the captured files whose whole content `cataloger` wants, in
    /// path order. A file that cannot be read (a symbolic link loop, say) is
    /// left out with a warning that names it.
    pub fn read_wanted(
        &self,
        cataloger: &dyn Cataloger,
        warnings: &mut Vec<String>,
    ) -> Vec<rampart_image::FileData> {
        let mut files = Vec::new();
        for path in self.wanted_paths(cataloger) {
            match self.fs.read(path) {
                Ok(Some(data)) => files.push(data),
                Ok(None) => {}
                Err(error) => warnings.push(format!("{}: {error}", cataloger.name())),
            }
        }
        files
    }

    /// The captured files whose content is the output of `cataloger`'s
    /// extractor, as (path, extract) pairs in path order.
    pub fn extracts(&self, cataloger: &dyn Cataloger) -> Vec<(String, std::sync::Arc<[u8]>)> {
        let mut found = Vec::new();
        for file in &self.captured {
            if crate::wants_content(&file.path)
                || cataloger.extractor(&file.path, file.mode).is_none()
            {
                continue;
            }
            if let Ok(Some(data)) = self.fs.read(&file.path) {
                found.push((file.path.clone(), data.content));
            }
        }
        found
    }

    /// The location of a file: its path and the diff_id of the layer that
    /// last wrote it.
    pub fn location(&self, path: &str) -> Location {
        let layer = self
            .fs
            .stat(path)
            .and_then(|info| self.fs.diff_id(info.layer).map(ToString::to_string));
        Location {
            path: path.to_owned(),
            layer_diff_id: layer,
        }
    }

    /// The diff_id of a layer index.
    pub fn diff_id(&self, layer: rampart_image::LayerIndex) -> Option<String> {
        self.fs.diff_id(layer).map(ToString::to_string)
    }

    /// The `distro` purl qualifier, e.g. `debian-12` or `alpine-3.20.3`.
    pub fn distro_qualifier(&self, use_point_release: bool) -> Option<String> {
        let distro = self.distro?;
        let version = if use_point_release {
            distro.point_release.as_ref().or(distro.version_id.as_ref())
        } else {
            distro.version_id.as_ref()
        };
        Some(match version {
            Some(version) => format!("{}-{version}", distro.id),
            None => distro.id.clone(),
        })
    }
}

/// Packages and problems found by one cataloger.
#[derive(Default, Debug)]
pub struct CatalogOutput {
    pub packages: Vec<Package>,
    /// Problems that did not stop the cataloger, each naming the file.
    pub warnings: Vec<String>,
}

/// One package ecosystem's reader.
pub trait Cataloger: Sync {
    /// A short name for logs, e.g. `dpkg`.
    fn name(&self) -> &'static str;

    /// Whether the content of the file at `path` (absolute, inside the image)
    /// is needed. Called for every regular file while layers stream, so it
    /// must be cheap.
    fn wants(&self, path: &str) -> bool;

    /// The extractor for a file whose content is too large to keep (a
    /// binary or an archive): the squash hands the content to it and keeps
    /// only its output. Called only for files no cataloger `wants`, so a
    /// cataloger can tell its extracts by calling this again with the path
    /// and mode. Called for every regular file, so it must be cheap.
    fn extractor(&self, _path: &str, _mode: u32) -> Option<rampart_image::Extractor> {
        None
    }

    /// Reads the packages from the squashed filesystem.
    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput);
}

/// Every cataloger, in the order they run.
pub static CATALOGERS: &[&dyn Cataloger] = &[
    &apk::ApkCataloger,
    &dpkg::DpkgCataloger,
    &rpm::RpmCataloger,
    &python::PythonCataloger,
    &npm::NpmCataloger,
    &java::JavaArchiveCataloger,
    &ruby::RubyCataloger,
    &php::PhpCataloger,
    &dotnet::DotnetCataloger,
    &go_mod::GoModCataloger,
    &cargo_lock::CargoLockCataloger,
    // Last: its extractor takes every executable, so catalogers with an
    // extractor for particular names (archives) must come before it.
    &binary::BinaryCataloger,
];

/// Splits `text` into lines, accepting `\n` and `\r\n`.
pub(crate) fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
}

/// Whether a package name or version read from a database is plausible:
/// non-empty, printable, without whitespace. Garbage bytes in a damaged
/// database fail this.
pub(crate) fn is_printable_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 1024
        && text
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && c != '\u{FFFD}')
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::{apk, dpkg, is_printable_token};

    proptest! {
        /// The database parsers accept any bytes without panicking, and only
        /// report printable names and versions.
        #[test]
        fn parsers_accept_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let (records, _) = apk::parse(&bytes);
            for record in records {
                prop_assert!(is_printable_token(&record.name) && is_printable_token(&record.version));
            }
            let (entries, _) = dpkg::parse(&bytes);
            for entry in entries {
                prop_assert!(is_printable_token(&entry.package) && is_printable_token(&entry.version));
            }
            let _ = super::debian_copyright::parse_copyright(&bytes);
            let _ = crate::os::parse_os_release(&String::from_utf8_lossy(&bytes), "/etc/os-release");
        }

        /// Field-shaped input, more likely to form records than random bytes.
        #[test]
        fn parsers_accept_field_soup(lines in prop::collection::vec("(P|V|A|o|F|R|Package|Version|Status|Source):? ?[ -~]{0,12}", 0..60)) {
            let text = lines.join("\n");
            let _ = apk::parse(text.as_bytes());
            let (entries, _) = dpkg::parse(text.as_bytes());
            for entry in entries {
                let _ = entry.source();
                let _ = entry.is_installed();
            }
        }
    }
}
