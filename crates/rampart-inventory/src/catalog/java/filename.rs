//! Name and version from a Java archive's file name, the last resort when
//! neither `pom.properties` nor the manifest names the archive.
//!
//! The rules follow Maven's artifact file naming (`ARTIFACTID-VERSION.EXT`)
//! as Syft's `archive_filename.go` reads it: the stem (the file name without
//! its last extension) splits at `-`, and the version starts at the first
//! `-` that is followed by
//! - a digit (`commons-jelly-1.1-hudson-20100305` → `1.1-hudson-20100305`),
//! - `build` and a digit (`trilead-ssh2-build212-hudson-5`), or
//! - `r`/`rc` and digits that end the stem (`guava-r06`).
//!
//! Every name segment before the version must start with an ASCII letter and
//! contain only letters, digits, `_` and `.`. A stem that breaks this rule
//! has no name and no version.
//!
//! Traps:
//! - A dot inside the artifactId is not a groupId separator: Scala artifacts
//!   carry the Scala version after an underscore (`http4s-crypto_2.12-0.1.0`
//!   is `http4s-crypto_2.12` at `0.1.0`), and so do names such as
//!   `jboss-saaj-api_1.4_spec`.
//! - Without a `-` version, a version after `_` or `.` is accepted as a
//!   second choice (`org.eclipse.ant.core_3.7.0`), but only when the stem has
//!   no `-` version at all.

/// The name and version read from a file name; either may be empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArchiveFileName {
    pub name: String,
    pub version: String,
}

/// Reads the name and version from a path or bare file name. Only the part
/// after the last `/` and `:` (the virtual path separator) is used.
pub fn parse(path: &str) -> ArchiveFileName {
    let base = path.rsplit(['/', ':']).next().unwrap_or(path);
    let stem = match base.rfind('.') {
        Some(dot) if dot > 0 => &base[..dot],
        _ => base,
    };

    let Some((name, version)) = split_at_dash_version(stem) else {
        return ArchiveFileName::default();
    };
    if !version.is_empty() {
        return ArchiveFileName {
            name: name.to_owned(),
            version: version.to_owned(),
        };
    }

    match split_at_secondary_version(name) {
        Some((name, version)) => ArchiveFileName {
            name: name.to_owned(),
            version: version.to_owned(),
        },
        None => ArchiveFileName {
            name: name.to_owned(),
            version: String::new(),
        },
    }
}

/// Splits `stem` at the first `-` that starts a version. Returns `None`
/// when a name segment is not a word, and an empty version when no segment
/// starts one.
fn split_at_dash_version(stem: &str) -> Option<(&str, &str)> {
    let mut offset = 0;
    for (index, segment) in stem.split('-').enumerate() {
        if index > 0 {
            let rest = &stem[offset..];
            if starts_version(rest) {
                return Some((&stem[..offset - 1], rest));
            }
        }
        if !is_name_word(segment) {
            return None;
        }
        offset += segment.len() + 1;
    }
    Some((stem, ""))
}

/// Finds the first `_`, `.` or `-` in `name` followed by a version that runs
/// to the end, e.g. `org.eclipse.ant.core_3.7.0`.
fn split_at_secondary_version(name: &str) -> Option<(&str, &str)> {
    name.char_indices()
        .filter(|(_, c)| matches!(c, '_' | '.' | '-'))
        .map(|(index, _)| (&name[..index], &name[index + 1..]))
        .find(|(head, rest)| !head.is_empty() && starts_version(rest))
}

/// Whether `text` (the rest of the stem after a separator) is a version:
/// it starts with a digit or with `build` and a digit, or it is exactly `r`
/// or `rc` followed by digits. Letters compare case-insensitively.
fn starts_version(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.first().is_some_and(u8::is_ascii_digit) {
        return true;
    }
    if bytes.len() > 5 && bytes[..5].eq_ignore_ascii_case(b"build") && bytes[5].is_ascii_digit() {
        return true;
    }
    let digits = if bytes.len() > 2 && bytes[..2].eq_ignore_ascii_case(b"rc") {
        &bytes[2..]
    } else if bytes.len() > 1 && bytes[0].eq_ignore_ascii_case(&b'r') {
        &bytes[1..]
    } else {
        return false;
    };
    digits.iter().all(u8::is_ascii_digit)
}

/// Whether a name segment starts with an ASCII letter and contains only
/// letters, digits, `_` and `.`.
fn is_name_word(segment: &str) -> bool {
    let mut bytes = segment.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::parse;

    /// (file name, name, version), from Syft's `archive_filename_test.go`
    /// and its name-selection tests, plus the Scala cases.
    const CASES: &[(&str, &str, &str)] = &[
        ("pkg-maven-4.3.2.blerg", "pkg-maven", "4.3.2"),
        ("pkg-maven-4.3.2.jar", "pkg-maven", "4.3.2"),
        (
            "pkg-extra-field-maven-4.3.2.war",
            "pkg-extra-field-maven",
            "4.3.2",
        ),
        ("liferay-package.lpkg", "liferay-package", ""),
        (
            "pkg-extra-field-maven-4.3.2-rc1.ear",
            "pkg-extra-field-maven",
            "4.3.2-rc1",
        ),
        (
            "/some/path/pkg-extra-field-maven-4.3.2-rc1.jpi",
            "pkg-extra-field-maven",
            "4.3.2-rc1",
        ),
        (
            "/some/path-with-version-5.4.3/pkg-extra-field-maven-4.3.2-rc1.hpi",
            "pkg-extra-field-maven",
            "4.3.2-rc1",
        ),
        (
            "/some/path-with-version-5.4.3/wagon-webdav-1.0.2-beta-2.2.3a-hudson.jar",
            "wagon-webdav",
            "1.0.2-beta-2.2.3a-hudson",
        ),
        (
            "/some/path-with-version-5.4.3/wagon-webdav-1.0.2-beta-2.2.3-hudson.jar",
            "wagon-webdav",
            "1.0.2-beta-2.2.3-hudson",
        ),
        (
            "/some/path-with-version-5.4.3/windows-remote-command-1.0.jar",
            "windows-remote-command",
            "1.0",
        ),
        (
            "/some/path-with-version-5.4.3/wagon-http-lightweight-1.0.5-beta-2.jar",
            "wagon-http-lightweight",
            "1.0.5-beta-2",
        ),
        (
            "/hudson.war:WEB-INF/lib/commons-jelly-1.1-hudson-20100305.jar",
            "commons-jelly",
            "1.1-hudson-20100305",
        ),
        (
            "/hudson.war:WEB-INF/lib/jtidy-4aug2000r7-dev-hudson-1.jar",
            "jtidy",
            "4aug2000r7-dev-hudson-1",
        ),
        (
            "/hudson.war:WEB-INF/lib/trilead-ssh2-build212-hudson-5.jar",
            "trilead-ssh2",
            "build212-hudson-5",
        ),
        ("/hudson.war:WEB-INF/lib/guava-r06.jar", "guava", "r06"),
        (
            "BOOT-INF/lib/spring-data-r2dbc-1.1.0.RELEASE.jar",
            "spring-data-r2dbc",
            "1.1.0.RELEASE",
        ),
        (
            "jboss-saaj-api_1.4_spec-1.0.2.Final.jar",
            "jboss-saaj-api_1.4_spec",
            "1.0.2.Final",
        ),
        (
            "/something/http4s-crypto_2.12-0.1.0.jar",
            "http4s-crypto_2.12",
            "0.1.0",
        ),
        ("/something//kafka_2.13-3.2.2.jar", "kafka_2.13", "3.2.2"),
        (
            "/something/org.eclipse.ant.core-3.7.0.jar",
            "org.eclipse.ant.core",
            "3.7.0",
        ),
        (
            "/something/google-oauth-client-1.25.0.jar",
            "google-oauth-client",
            "1.25.0",
        ),
        ("/something/omg.jar", "omg", ""),
        ("api-all-2.0.0-sources.jar", "api-all", "2.0.0-sources"),
        (
            "org.eclipse.ant.core_3.7.0.jar",
            "org.eclipse.ant.core",
            "3.7.0",
        ),
        ("ironman-r4-2009.jar", "ironman-r4", "2009"),
        ("my-http2-server-5.jar", "my-http2-server", "5"),
        ("JETPACK-BUILD235-rc5.jar", "JETPACK", "BUILD235-rc5"),
    ];

    #[test]
    fn filename_cases() {
        for (file, name, version) in CASES {
            let parsed = parse(file);
            assert_eq!(parsed.name, *name, "name of {file}");
            assert_eq!(parsed.version, *version, "version of {file}");
        }
    }

    #[test]
    fn filename_scala_suffix_is_not_a_group() {
        for file in ["http4s-crypto_2.12-0.1.0.jar", "kafka_2.13-3.2.2.jar"] {
            let parsed = parse(file);
            assert!(
                !["12", "13", "2.12", "2.13"].contains(&parsed.name.as_str()),
                "{file}"
            );
        }
    }

    #[test]
    fn filename_without_word_has_no_name() {
        for file in [
            "2048-game-1.0.jar",
            "-1.0.jar",
            "foo+bar-1.0.jar",
            "ünicode-1.0.jar",
            ".jar",
            "",
        ] {
            let parsed = parse(file);
            assert_eq!(parsed.name, "", "name of {file:?}");
            assert_eq!(parsed.version, "", "version of {file:?}");
        }
    }
}
