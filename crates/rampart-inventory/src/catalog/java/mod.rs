//! Java archives: `.jar`, `.war`, `.ear` and the other zip-based formats
//! Maven, Jenkins and application servers use, including the archives nested
//! in them (Spring Boot `BOOT-INF/lib`, `WEB-INF/lib`, `.ear` modules).
//!
//! Each archive is read once, in the layer worker, by the extractor: it keeps
//! a small JSON list of the packages found ([`archive::ArchiveExtract`]) and
//! drops the content. An archive's own identity comes from, in order:
//! 1. the `META-INF/maven/GROUP/ARTIFACT/pom.properties` whose artifactId
//!    matches the file name, or the only one;
//! 2. the manifest (`META-INF/MANIFEST.MF`);
//! 3. the file name, following Maven's `ARTIFACTID-VERSION.EXT` rules.
//!
//! Every other `pom.properties` is a package too, because shaded and fat
//! jars copy the metadata of what they bundle.
//!
//! Traps:
//! - The purl namespace is the groupId. When nothing in the archive states
//!   it, the purl has no namespace (`pkg:maven/lib@1.0`) rather than a
//!   guessed one, and no Maven advisory matches it.
//! - Instrumentation jars of the New Relic agent (manifest `Weave-Classes`)
//!   carry the name of the library they instrument, not their own, so they
//!   report no identity.
//! - Every package of an archive is located at the image path of the
//!   outermost archive, because that is the file that exists in the image.
//!   The path inside it is kept in the extract only.

pub mod archive;
mod filename;
mod manifest;
mod pom_properties;

use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::package::{Package, PackageType};
use crate::purl;

/// The file extensions of zip-based Java archives, compared
/// case-insensitively: plain and web applications (`jar`, `war`, `ear`),
/// Jenkins plugins (`jpi`, `hpi`), JBoss service and persistence archives
/// (`sar`, `par`), NiFi archives (`nar`) and Karaf features (`kar`).
const ARCHIVE_EXTENSIONS: [&str; 9] = [
    "jar", "war", "ear", "jpi", "hpi", "par", "sar", "nar", "kar",
];

pub struct JavaArchiveCataloger;

/// Whether a path or entry name ends in a Java archive extension.
pub(crate) fn is_java_archive(path: &str) -> bool {
    let bytes = path.as_bytes();
    let Some(dot) = bytes.len().checked_sub(4) else {
        return false;
    };
    let (stem, extension) = bytes.split_at(dot);
    extension[0] == b'.'
        && !stem.is_empty()
        && !stem.ends_with(b"/")
        && ARCHIVE_EXTENSIONS
            .iter()
            .any(|known| extension[1..].eq_ignore_ascii_case(known.as_bytes()))
}

/// The extractor: reads the archive and returns its JSON
/// [`archive::ArchiveExtract`], or `None` when it contains neither packages
/// nor warnings.
pub fn extract(path: &str, content: &[u8]) -> Option<Vec<u8>> {
    let extract = archive::read_archive(path, content, &archive::ArchiveLimits::default());
    if extract.packages.is_empty() && extract.warnings.is_empty() {
        return None;
    }
    serde_json::to_vec(&extract).ok()
}

impl Cataloger for JavaArchiveCataloger {
    fn name(&self) -> &'static str {
        "java-archive"
    }

    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn extractor(&self, path: &str, _mode: u32) -> Option<rampart_image::Extractor> {
        is_java_archive(path).then_some(extract as rampart_image::Extractor)
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        for (path, data) in context.extracts(self) {
            let extract: archive::ArchiveExtract = match serde_json::from_slice(&data) {
                Ok(extract) => extract,
                Err(error) => {
                    output
                        .warnings
                        .push(format!("{path}: unreadable Java archive extract ({error})"));
                    continue;
                }
            };
            output.warnings.extend(extract.warnings);

            let location = context.location(&path);
            for found in extract.packages {
                let purl = purl::build(
                    PackageType::Java.purl_type(),
                    found.group_id.as_deref(),
                    &found.artifact_id,
                    &found.version,
                    &[],
                );
                let mut package =
                    Package::new(PackageType::Java, &found.artifact_id, &found.version, purl);
                package.licenses = found.licenses;
                package.locations = vec![location.clone()];
                output.packages.push(package);
            }
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::archive::{ArchiveLimits, read_archive, tests::zip_of};
    use super::{filename, manifest, pom_properties};

    proptest! {
        /// The parsers accept any bytes without panicking.
        #[test]
        fn java_parsers_accept_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let _ = manifest::parse(&bytes);
            let _ = pom_properties::parse(&bytes);
            let _ = filename::parse(&String::from_utf8_lossy(&bytes));
            let extract = read_archive("/a-1.jar", &bytes, &ArchiveLimits::default());
            prop_assert!(extract.packages.len() <= 1);
        }

        /// A real jar with bytes overwritten reads without panicking.
        #[test]
        fn java_archive_accepts_damaged_zip(
            damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
            cut in any::<prop::sample::Index>(),
        ) {
            let inner = zip_of(&[("META-INF/maven/g/b/pom.properties", b"groupId=g\nartifactId=b\nversion=2\n")]);
            let mut jar = zip_of(&[
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nImplementation-Version: 1\n"),
                ("META-INF/maven/g/a/pom.properties", b"groupId=g\nartifactId=a\nversion=1\n"),
                ("lib/b-2.jar", &inner),
            ]);
            for (index, byte) in damage {
                let at = index.index(jar.len());
                jar[at] = byte;
            }
            let length = cut.index(jar.len() + 1);
            let _ = read_archive("/a-1.jar", &jar[..length], &ArchiveLimits::default());
        }
    }
}
