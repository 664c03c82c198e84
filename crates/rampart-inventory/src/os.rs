//! OS release detection, in the order container scanners and systemd use:
//! `/etc/os-release`, then `/usr/lib/os-release` (os-release(5)), then the
//! distro-specific files `/etc/alpine-release`, `/etc/debian_version` and
//! `/etc/redhat-release`. The point release comes from the distro file even
//! when os-release names the distro, because os-release carries only the
//! major version on Debian (`VERSION_ID="12"` while the image is 12.15).

use rampart_image::{Filesystem, ReadError};

use crate::package::Distro;

/// Files read for OS detection; the squash must keep their content.
pub const RELEASE_FILES: [&str; 5] = [
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/alpine-release",
    "/etc/debian_version",
    "/etc/redhat-release",
];

/// Maximum size of a release file read. Real ones are under 1 KiB.
const MAX_RELEASE_FILE: usize = 64 * 1024;

/// Detects the OS release. Problems (a symlink loop, an unreadable file) are
/// appended to `warnings`; `None` means no release file names a distro.
pub fn detect(fs: &Filesystem, warnings: &mut Vec<String>) -> Option<Distro> {
    let mut read = |path: &str| -> Option<String> {
        match fs.read(path) {
            Ok(Some(data)) if data.content.len() <= MAX_RELEASE_FILE => {
                Some(String::from_utf8_lossy(&data.content).into_owned())
            }
            Ok(Some(_)) => {
                warnings.push(format!(
                    "{path}: larger than {MAX_RELEASE_FILE} bytes, ignored for OS detection"
                ));
                None
            }
            Ok(None) => None,
            Err(error @ ReadError::SymlinkLoop { .. }) => {
                warnings.push(format!("{error}; ignored for OS detection"));
                None
            }
            Err(error) => {
                warnings.push(format!("{error}; ignored for OS detection"));
                None
            }
        }
    };

    let os_release = ["/etc/os-release", "/usr/lib/os-release"]
        .into_iter()
        .find_map(|path| read(path).map(|text| (path, text)));
    let alpine = read("/etc/alpine-release");
    let debian = read("/etc/debian_version");
    let redhat = read("/etc/redhat-release");

    let mut distro = match os_release {
        Some((path, text)) => parse_os_release(&text, path)?,
        None => from_distro_files(alpine.as_deref(), debian.as_deref(), redhat.as_deref())?,
    };

    let first_line = |text: &str| {
        text.lines()
            .next()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
    };
    let point_release = match distro.id.as_str() {
        "alpine" => alpine.as_deref().and_then(first_line),
        "debian" => debian
            .as_deref()
            .and_then(first_line)
            .filter(|v| v.starts_with(|c: char| c.is_ascii_digit())),
        _ => None,
    };
    distro.point_release = point_release.or_else(|| distro.version_id.clone());
    Some(distro)
}

/// Parses os-release(5): `KEY=value` lines, values optionally quoted with
/// shell-style escapes. Returns `None` when there is no `ID`.
pub fn parse_os_release(text: &str, source_file: &str) -> Option<Distro> {
    let mut distro = Distro {
        source_file: source_file.to_owned(),
        ..Distro::default()
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            "ID" => distro.id = value.to_ascii_lowercase(),
            "VERSION_ID" => distro.version_id = Some(value),
            "VERSION_CODENAME" => distro.codename = Some(value),
            "PRETTY_NAME" => distro.pretty_name = Some(value),
            "ID_LIKE" => distro.id_like = value.split_whitespace().map(str::to_owned).collect(),
            _ => {}
        }
    }
    (!distro.id.is_empty()).then_some(distro)
}

fn unquote(value: &str) -> String {
    let inner = if value.len() >= 2
        && (value.starts_with('"') && value.ends_with('"')
            || value.starts_with('\'') && value.ends_with('\''))
    {
        &value[1..value.len() - 1]
    } else {
        value
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(next) = chars.next()
        {
            out.push(next);
        } else {
            out.push(c);
        }
    }
    out
}

fn from_distro_files(
    alpine: Option<&str>,
    debian: Option<&str>,
    redhat: Option<&str>,
) -> Option<Distro> {
    if let Some(version) = alpine
        .and_then(|t| t.lines().next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        return Some(Distro {
            id: "alpine".to_owned(),
            version_id: Some(version.to_owned()),
            source_file: "/etc/alpine-release".to_owned(),
            ..Distro::default()
        });
    }
    if let Some(version) = debian
        .and_then(|t| t.lines().next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        // Testing and unstable write a codename such as `trixie/sid`.
        let numeric = version.starts_with(|c: char| c.is_ascii_digit());
        return Some(Distro {
            id: "debian".to_owned(),
            version_id: numeric.then(|| version.split('.').next().unwrap_or(version).to_owned()),
            codename: (!numeric).then(|| version.to_owned()),
            source_file: "/etc/debian_version".to_owned(),
            ..Distro::default()
        });
    }
    let line = redhat?.lines().next()?.trim();
    // "CentOS Linux release 7.9.2009 (Core)", "Red Hat Enterprise Linux release 8.4 (Ootpa)".
    let lower = line.to_ascii_lowercase();
    let id = if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("red hat") {
        "rhel"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else {
        return None;
    };
    let version = line
        .split_once(" release ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(str::to_owned);
    Some(Distro {
        id: id.to_owned(),
        version_id: version
            .as_ref()
            .map(|v| v.split('.').next().unwrap_or(v).to_owned()),
        point_release: version,
        pretty_name: Some(line.to_owned()),
        source_file: "/etc/redhat-release".to_owned(),
        ..Distro::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_debian() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";
        let distro = parse_os_release(text, "/etc/os-release").unwrap();
        assert_eq!(distro.id, "debian");
        assert_eq!(distro.version_id.as_deref(), Some("12"));
        assert_eq!(distro.codename.as_deref(), Some("bookworm"));
        assert_eq!(
            distro.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn os_release_without_id() {
        assert!(parse_os_release("NAME=x\n", "/etc/os-release").is_none());
    }

    #[test]
    fn redhat_release_line() {
        let distro =
            from_distro_files(None, None, Some("CentOS Linux release 7.9.2009 (Core)\n")).unwrap();
        assert_eq!(distro.id, "centos");
        assert_eq!(distro.version_id.as_deref(), Some("7"));
        assert_eq!(distro.point_release.as_deref(), Some("7.9.2009"));
    }

    #[test]
    fn debian_version_codename() {
        let distro = from_distro_files(None, Some("trixie/sid\n"), None).unwrap();
        assert_eq!(distro.codename.as_deref(), Some("trixie/sid"));
        assert_eq!(distro.version_id, None);
    }
}
