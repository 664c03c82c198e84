//! `META-INF/MANIFEST.MF`, as the JAR File Specification (Java SE 21,
//! "JAR Manifest") defines it: a main section of `Name: value` headers,
//! then per-entry sections, each separated by a blank line.
//!
//! Traps:
//! - Lines are at most 72 bytes, so long values continue on the next line,
//!   which starts with one space. Exactly that one space is dropped: the
//!   break can fall inside a word (`CLASS_MISS` / ` ING_REQUIRED`) or just
//!   before a space that belongs to the value.
//! - Lines end with CR LF, LF or CR.
//! - Real manifests carry lines that are not headers (no colon, an empty
//!   name, a name with spaces). They are skipped, and a continuation after
//!   them still extends the last header of the section, as Syft reads them.
//! - Sections without any header (runs of blank lines) are not sections.

use crate::catalog::is_printable_token;

/// One header, as (name, value).
pub type Header = (String, String);

/// A parsed manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The main section's headers, in file order.
    pub main: Vec<Header>,
    /// The per-entry sections (usually starting with `Name:`), in file order.
    pub sections: Vec<Vec<Header>>,
}

impl Manifest {
    /// Returns the first value of a main-section header; names compare
    /// case-insensitively, as the specification requires.
    pub fn main_value(&self, name: &str) -> Option<&str> {
        find(&self.main, name)
    }

    /// Returns the value of `name` from the main section, else from the
    /// first per-entry section that has it.
    pub fn any_value(&self, name: &str) -> Option<&str> {
        self.main_value(name)
            .or_else(|| self.sections.iter().find_map(|section| find(section, name)))
    }
}

fn find<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Parses a manifest. Lines that are not headers are skipped, so there is no error.
/// Invalid UTF-8 is replaced, because the specification requires UTF-8.
pub fn parse(content: &[u8]) -> Manifest {
    let text = String::from_utf8_lossy(content);
    let mut manifest = Manifest::default();
    let mut section: Vec<Header> = Vec::new();
    let mut in_main = true;

    for line in split_lines(&text) {
        if line.is_empty() {
            finish_section(&mut manifest, &mut section, &mut in_main);
            continue;
        }
        if let Some(continuation) = line.strip_prefix(' ') {
            if let Some((_, value)) = section.last_mut() {
                value.push_str(continuation);
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            continue;
        }
        section.push((name.to_owned(), value.trim_start().to_owned()));
    }
    finish_section(&mut manifest, &mut section, &mut in_main);
    manifest
}

/// Ends the current section at a blank line or the end of the file.
fn finish_section(manifest: &mut Manifest, section: &mut Vec<Header>, in_main: &mut bool) {
    if section.is_empty() {
        return;
    }
    let headers = std::mem::take(section);
    if *in_main {
        manifest.main = headers;
        *in_main = false;
    } else {
        manifest.sections.push(headers);
    }
}

/// Splits at CR LF, LF and lone CR.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}

/// Headers that carry a version, most specific first. `Plugin-Version` is
/// written by the Jenkins plugin tooling; `Specification-Version` names the
/// version of a specification the archive implements, so it comes last.
const VERSION_HEADERS: [&str; 4] = [
    "Implementation-Version",
    "Plugin-Version",
    "Bundle-Version",
    "Specification-Version",
];

/// Headers that may name the archive when its file name does not, in order
/// of preference: the Jenkins plugin names, the OSGi bundle name, the
/// implementation title and the Java module name.
const NAME_HEADERS: [&str; 5] = [
    "Short-Name",
    "Extension-Name",
    "Bundle-SymbolicName",
    "Implementation-Title",
    "Automatic-Module-Name",
];

impl Manifest {
    /// Returns the artifactId that the Apache Maven Bundle Plugin baked into
    /// `Bundle-SymbolicName`: by default it is `GROUPID.ARTIFACTID`, so the
    /// part after the `Implementation-Vendor-Id` (the groupId) or after the
    /// last dot. `None` for other tools, or when the symbolic name is just
    /// the groupId.
    pub fn bundle_plugin_artifact_id(&self) -> Option<String> {
        let created_by = self.main_value("Created-By")?;
        if !created_by.starts_with("Apache Maven Bundle Plugin") {
            return None;
        }
        let symbolic = self.symbolic_name()?;
        let vendor_id = self.main_value("Implementation-Vendor-Id").map(str::trim);
        if vendor_id == Some(symbolic) {
            return None;
        }
        let artifact = vendor_id
            .and_then(|group| symbolic.strip_prefix(group)?.strip_prefix('.'))
            .unwrap_or_else(|| symbolic.rsplit('.').next().unwrap_or(symbolic));
        is_printable_token(artifact).then(|| artifact.to_owned())
    }

    /// Returns a name for the archive from the headers in [`NAME_HEADERS`],
    /// for an archive whose file name gives none.
    pub fn fallback_name(&self) -> Option<String> {
        NAME_HEADERS.iter().find_map(|header| {
            let value = if *header == "Bundle-SymbolicName" {
                self.symbolic_name()?
            } else {
                self.main_value(header)?.trim()
            };
            is_printable_token(value).then(|| value.to_owned())
        })
    }

    /// Returns the first version in [`VERSION_HEADERS`] order, from the main
    /// section or else a per-entry section. A value with whitespace (`1.3
    /// 2244 October 5 2005`) is not a version and is passed over.
    pub fn version(&self) -> Option<String> {
        VERSION_HEADERS.iter().find_map(|header| {
            let value = self.any_value(header)?.trim();
            is_printable_token(value).then(|| value.to_owned())
        })
    }

    /// Returns the groupId the manifest states for `artifact_id`:
    /// `Group-Id` (Jenkins plugins), `Implementation-Vendor-Id` (Maven
    /// Archiver writes the groupId there), or the prefix of a
    /// `Bundle-SymbolicName` of the form `GROUPID.ARTIFACTID`.
    pub fn group_id(&self, artifact_id: &str) -> Option<String> {
        let declared = ["Group-Id", "Implementation-Vendor-Id"]
            .iter()
            .filter_map(|header| self.main_value(header))
            .map(str::trim)
            .find(|value| is_printable_token(value));
        let from_symbolic_name = || {
            self.symbolic_name()?
                .strip_suffix(artifact_id)?
                .strip_suffix('.')
                .filter(|group| is_printable_token(group))
        };
        declared.or_else(from_symbolic_name).map(str::to_owned)
    }

    /// `Bundle-SymbolicName` without its directives (`;singleton:=true`).
    fn symbolic_name(&self) -> Option<&str> {
        let value = self.main_value("Bundle-SymbolicName")?;
        let name = value.split(';').next().unwrap_or(value).trim();
        (!name.is_empty()).then_some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<Header> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn manifest_continuation_drops_one_space() {
        let manifest = parse(
            b"Manifest-Version: 1.0\r\nWeave-Violation-Filter: METHOD,CLASS_MISS\r\n ING_REQUIRED\r\nTitle: Google OAuth Client Library\r\n  for Java\r\n",
        );
        assert_eq!(
            manifest.main_value("weave-violation-filter"),
            Some("METHOD,CLASS_MISSING_REQUIRED")
        );
        assert_eq!(
            manifest.main_value("Title"),
            Some("Google OAuth Client Library for Java")
        );
    }

    #[test]
    fn manifest_sections_and_blank_runs() {
        let manifest = parse(
            b"Manifest-Version: 1.0\n\n\nName: org/a/\nImplementation-Version: 1.8.2\n\n.\n\n \n\nName: b\nX: y\n",
        );
        assert_eq!(manifest.main, headers(&[("Manifest-Version", "1.0")]));
        assert_eq!(
            manifest.sections,
            vec![
                headers(&[("Name", "org/a/"), ("Implementation-Version", "1.8.2")]),
                headers(&[("Name", "b"), ("X", "y")]),
            ]
        );
        assert_eq!(manifest.any_value("Implementation-Version"), Some("1.8.2"));
        assert_eq!(manifest.main_value("Implementation-Version"), None);
    }

    /// Syft's `manifest/*` fixtures with the headers its
    /// `parse_java_manifest_test.go` expects, except `leading-space`: Syft
    /// trims continuation lines, and the specification drops one space.
    #[test]
    fn manifest_syft_fixtures() {
        let small = parse(include_bytes!(
            "../../../tests/fixtures/java/syft/manifest/small"
        ));
        assert_eq!(small.main, headers(&[("Manifest-Version", "1.0")]));
        assert!(small.sections.is_empty());

        let standard = parse(include_bytes!(
            "../../../tests/fixtures/java/syft/manifest/standard-info"
        ));
        assert_eq!(standard.main.len(), 8);
        assert_eq!(standard.main_value("Name"), Some("the-best-name"));
        assert_eq!(
            standard.main_value("Implementation-Version"),
            Some("the-impl-version")
        );

        let extra = parse(include_bytes!(
            "../../../tests/fixtures/java/syft/manifest/extra-info"
        ));
        assert_eq!(extra.main.len(), 3);
        assert_eq!(
            extra.sections,
            vec![
                headers(&[("Name", "thing-1"), ("Built-By", "?")]),
                headers(&[("Build-Jdk", "14.0.1"), ("Main-Class", "hello.HelloWorld")]),
            ]
        );

        let empty_lines = parse(include_bytes!(
            "../../../tests/fixtures/java/syft/manifest/extra-empty-lines"
        ));
        assert_eq!(empty_lines.main.len(), 3);
        assert_eq!(
            empty_lines.sections,
            vec![
                headers(&[("Name", "thing-1"), ("Built-By", "?")]),
                headers(&[("Name", "thing-2"), ("Built-By", "someone!")]),
                headers(&[("Other", "things")]),
                headers(&[("Last", "item")]),
            ]
        );

        let continuation = parse(include_bytes!(
            "../../../tests/fixtures/java/syft/manifest/continuation"
        ));
        assert_eq!(
            continuation.main_value("Plugin-ScmUrl"),
            Some("https://github.com/jenkinsci/plugin-pom/example-jenkins-plugin")
        );

        let dated = parse(include_bytes!(
            "../../../tests/fixtures/java/syft/manifest/version-with-date"
        ));
        assert_eq!(
            dated.main_value("Implementation-Version"),
            Some("1.3 2244 October 5 2005")
        );
        assert_eq!(dated.version(), None);

        let leading = parse(include_bytes!(
            "../../../tests/fixtures/java/syft/manifest/leading-space"
        ));
        assert_eq!(
            leading.main,
            headers(&[
                (
                    "Key-keykeykey",
                    "initialconfig:com   $    # aka not empty line"
                ),
                ("should", "parse"),
            ])
        );
    }

    #[test]
    fn manifest_lone_carriage_returns() {
        let manifest = parse(b"A: 1\rB: 2\r\rName: x\r");
        assert_eq!(manifest.main, headers(&[("A", "1"), ("B", "2")]));
        assert_eq!(manifest.sections, vec![headers(&[("Name", "x")])]);
    }
}
