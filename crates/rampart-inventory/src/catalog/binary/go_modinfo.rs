//! The module information text of Go build information, in the format that
//! `runtime/debug.ParseBuildInfo` reads (Go 1.13 to 1.24). Each line is
//! tab-separated and starts with its type: `path` (the main package), `mod`
//! (the main module), `dep` (a dependency), `=>` (replaces the module on the
//! line above) or, since Go 1.18, `build KEY=VALUE`.
//!
//! Traps:
//! - Keys and values of `build` lines are Go-quoted (`strconv.Quote`) when
//!   they contain spaces, quotes, tabs or `=`, so `-ldflags` values are
//!   quoted strings with escaped quotes inside.
//! - A module replaced by a local directory has an empty version on its
//!   `=>` line.

use crate::catalog::is_printable_token;

/// One module of the module information.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    /// Empty for a module replaced by a local directory.
    pub version: String,
    /// The module on the following `=>` line, which the build used instead.
    pub replace: Option<Box<Module>>,
}

/// The parsed module information.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// The import path of the main package.
    pub path: Option<String>,
    /// The main module; absent in GOPATH mode.
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` settings in order, keys and values unquoted.
    pub settings: Vec<(String, String)>,
}

impl ModInfo {
    /// Returns the value of a `build` setting.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// The module on a `mod` or `dep` line, which one `=>` line can replace.
#[derive(Clone, Copy)]
enum LastModule {
    None,
    Main,
    Dep,
}

/// Parses the module information text. Lines that do not follow the format
/// are skipped and described in the second value with their line number.
pub fn parse_modinfo(text: &str) -> (ModInfo, Vec<String>) {
    let mut info = ModInfo::default();
    let mut problems = Vec::new();
    let mut last = LastModule::None;

    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.is_empty() {
            continue;
        }
        let Some((tag, rest)) = line.split_once('\t') else {
            problems.push(format!("line {number}: no tab after the line type"));
            continue;
        };
        match tag {
            "go" => {}
            "path" => info.path = Some(rest.to_owned()),
            "mod" | "dep" | "=>" => {
                let Some(module) = parse_module(rest) else {
                    problems.push(format!("line {number}: invalid module {rest:?}"));
                    continue;
                };
                match (tag, last) {
                    ("mod", _) => {
                        info.main = Some(module);
                        last = LastModule::Main;
                    }
                    ("dep", _) => {
                        info.deps.push(module);
                        last = LastModule::Dep;
                    }
                    (_, LastModule::Main) => {
                        if let Some(main) = &mut info.main {
                            main.replace = Some(Box::new(module));
                        }
                        last = LastModule::None;
                    }
                    (_, LastModule::Dep) => {
                        if let Some(dep) = info.deps.last_mut() {
                            dep.replace = Some(Box::new(module));
                        }
                        last = LastModule::None;
                    }
                    (_, LastModule::None) => {
                        problems.push(format!(
                            "line {number}: replacement without a module above it"
                        ));
                    }
                }
            }
            "build" => match parse_setting(rest) {
                Some(setting) => info.settings.push(setting),
                None => problems.push(format!("line {number}: invalid build setting {rest:?}")),
            },
            _ => problems.push(format!("line {number}: unknown line type {tag:?}")),
        }
    }
    (info, problems)
}

/// Parses `PATH\tVERSION[\tSUM]`. The version is empty for a local directory.
fn parse_module(fields: &str) -> Option<Module> {
    let mut fields = fields.split('\t');
    let path = fields.next()?;
    let version = fields.next().unwrap_or("");
    if !is_printable_token(path) || !(version.is_empty() || is_printable_token(version)) {
        return None;
    }
    Some(Module {
        path: path.to_owned(),
        version: version.to_owned(),
        replace: None,
    })
}

/// Parses `KEY=VALUE`, where either may be Go-quoted.
fn parse_setting(text: &str) -> Option<(String, String)> {
    let (key, raw_value) = if text.starts_with('"') {
        let end = quoted_end(text)?;
        (unquote(&text[..end])?, text[end..].strip_prefix('=')?)
    } else {
        let (key, value) = text.split_once('=')?;
        (key.to_owned(), value)
    };
    if key.is_empty() {
        return None;
    }
    let value = if raw_value.starts_with('"') {
        unquote(raw_value)?
    } else {
        raw_value.to_owned()
    };
    Some((key, value))
}

/// The end of the double-quoted Go string at the start of `text`.
fn quoted_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut index = 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return Some(index + 1),
            b'\n' => return None,
            _ => index += 1,
        }
    }
    None
}

/// Unquotes a double-quoted Go string literal (the escapes `strconv.Quote`
/// writes). Returns `None` when the text is not one.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        index += 1;
        if byte == b'"' {
            return None;
        }
        if byte != b'\\' {
            out.push(byte);
            continue;
        }
        let escape = *bytes.get(index)?;
        index += 1;
        let simple = match escape {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' | b'"' | b'\'' => Some(escape),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let (digits, radix) = match escape {
            b'x' => (2, 16),
            b'u' => (4, 16),
            b'U' => (8, 16),
            b'0'..=b'7' => {
                index -= 1;
                (3, 8)
            }
            _ => return None,
        };
        let number = std::str::from_utf8(bytes.get(index..index + digits)?).ok()?;
        let value = u32::from_str_radix(number, radix).ok()?;
        index += digits;
        if matches!(escape, b'u' | b'U') {
            let mut buffer = [0; 4];
            out.extend_from_slice(char::from_u32(value)?.encode_utf8(&mut buffer).as_bytes());
        } else {
            out.push(u8::try_from(value).ok()?);
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let (info, problems) =
            parse_modinfo("path\ta/b\nnonsense\n=>\tx\tv1\ndep\tgood/mod\tv1.0.0\nwhat\tever\n");
        assert_eq!(info.deps.len(), 1);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("line 2:"));
        assert!(problems[1].starts_with("line 3:"));
        assert!(problems[2].starts_with("line 5:"));
    }

    #[test]
    fn quoted_settings() {
        assert_eq!(
            parse_setting("\"-ld=x\"=\"a \\\"b\\\"\\t\\u00e9\\x41\""),
            Some(("-ld=x".into(), "a \"b\"\té\x41".into()))
        );
        assert_eq!(
            parse_setting("CGO_ENABLED=1"),
            Some(("CGO_ENABLED".into(), "1".into()))
        );
        assert_eq!(parse_setting("=1"), None);
        assert_eq!(parse_setting("k=\"unterminated"), None);
    }
}
