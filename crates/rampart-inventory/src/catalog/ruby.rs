//! Ruby gems: installed gem specifications and Bundler lock files.
//!
//! - `**/specifications/**/*.gemspec` is the specification RubyGems writes
//!   when it installs a gem (`Gem::Specification#to_ruby`). It is Ruby
//!   source and is never evaluated here. Only the `s.name`, `s.version`,
//!   `s.platform`, `s.licenses` and `s.license` assignments are read, and
//!   only when their values are string literals. These packages are
//!   installed.
//! - `Gemfile.lock` (or `gems.locked`) is Bundler's lock file. Its `GEM`,
//!   `GIT`, `PATH` and `PLUGIN SOURCE` sections each list the locked gems
//!   under `specs:`, one per line at four spaces of indent, as
//!   `NAME (VERSION)` or `NAME (VERSION-PLATFORM)`. These packages are
//!   declared.
//!
//! Traps:
//! - RubyGems writes strings with `String#dump`, so a value may carry
//!   escapes such as `\u00E9` or `\#{`, and is often followed by `.freeze`.
//!   Single-quoted strings, `%q{...}` literals and
//!   `Gem::Version.new("1.0")` are accepted too. An unescaped `#{` in a
//!   double-quoted string is interpolation, so such a value is not a
//!   literal and is not read.
//! - `s.rubygems_version` and `s.required_rubygems_version` also end in
//!   `version`: only an attribute named exactly `version` is the gem's.
//! - In a lock file the platform follows the first `-` of the parenthesized
//!   text, as Bundler's `LockfileParser::NAME_VERSION` splits it
//!   (`1.13.10-x86_64-linux` is version `1.13.10` on `x86_64-linux`). A
//!   lock file for several platforms lists one line per platform for the
//!   same gem version, and these lines are merged into one package.
//! - Lines at six spaces of indent are the dependencies of the gem above
//!   and carry version requirements, not versions.
//! - Gems of `PATH`, `GIT` and `PLUGIN SOURCE` sections do not come from a
//!   gem registry: they get a `local_source` (`path`, `git+REMOTE#REVISION`,
//!   `plugin+REMOTE`), with any user and password removed from the URL.

use std::collections::HashMap;

use super::{CatalogContext, CatalogOutput, Cataloger, is_printable_token, lines};
use crate::package::{Package, PackageType};
use crate::purl;

/// Maximum number of gems read from one lock file. Real lock files list
/// hundreds; the limit bounds the memory a crafted file can claim.
pub const MAX_LOCKED_GEMS: usize = 100_000;

/// Maximum number of licenses kept from one gemspec.
pub const MAX_LICENSES: usize = 64;

pub struct RubyCataloger;

/// The identity of a gem read from an installed gemspec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gemspec {
    pub name: String,
    pub version: String,
    /// The platform, absent for the default platform `ruby`.
    pub platform: Option<String>,
    pub licenses: Vec<String>,
}

/// One gem listed under `specs:` in a Gemfile.lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedGem {
    pub name: String,
    pub version: String,
    /// The platform after the version, absent for the default platform or
    /// when the lock file lists the same version for several platforms.
    pub platform: Option<String>,
    /// `path`, `git+REMOTE#REVISION` or `plugin+REMOTE` for gems that do not
    /// come from a gem registry.
    pub local_source: Option<String>,
    /// The 1-based line of the entry.
    pub line: usize,
}

/// A value assigned in a gemspec.
#[derive(Debug, PartialEq, Eq)]
enum RubyValue {
    Text(String),
    List(Vec<String>),
}

/// Returns whether a path is an installed gem specification.
fn is_gemspec(path: &str) -> bool {
    path.ends_with(".gemspec") && path.contains("/specifications/")
}

/// Returns whether a path is a Bundler lock file.
fn is_gemfile_lock(path: &str) -> bool {
    path.ends_with("/Gemfile.lock") || path.ends_with("/gems.locked")
}

/// Reads the gem identity and licenses from an installed gemspec. Returns
/// a message naming the line or the missing field when the name or the
/// version is not a plausible string literal.
pub fn parse_gemspec(content: &[u8]) -> Result<Gemspec, String> {
    let mut name = None;
    let mut version = None;
    let mut platform = None;
    let mut licenses: Option<Vec<String>> = None;

    for (index, line) in lines(content).enumerate() {
        let text = String::from_utf8_lossy(line);
        let Some((attribute, expression)) = split_assignment(&text) else {
            continue;
        };
        let slot = match attribute {
            "name" => &mut name,
            "version" => &mut version,
            "platform" => &mut platform,
            "licenses" | "license" if licenses.is_none() => {
                licenses = match ruby_value(expression) {
                    Some(RubyValue::Text(license)) => Some(vec![license]),
                    Some(RubyValue::List(list)) => Some(list),
                    None => None,
                };
                continue;
            }
            _ => continue,
        };
        if slot.is_some() {
            continue;
        }
        match ruby_value(expression) {
            Some(RubyValue::Text(value)) => *slot = Some(value),
            _ if attribute == "platform" => {}
            _ => {
                return Err(format!(
                    "line {}: {attribute} is not a string literal",
                    index + 1
                ));
            }
        }
    }

    let name = name.ok_or("no s.name assignment")?;
    let version = version.ok_or("no s.version assignment")?;
    if !is_printable_token(&name) || !is_printable_token(&version) {
        return Err(format!("invalid name {name:?} or version {version:?}"));
    }
    let mut licenses = licenses.unwrap_or_default();
    licenses.retain(|license| !license.trim().is_empty());
    licenses.truncate(MAX_LICENSES);
    Ok(Gemspec {
        name,
        version,
        platform: platform.filter(|p| p != "ruby" && is_printable_token(p)),
        licenses,
    })
}

/// Splits `IDENT.ATTRIBUTE = EXPRESSION` into the attribute and the
/// expression. Comparisons (`==`) and other statements return `None`.
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    let (target, expression) = line.split_once('=')?;
    if expression.starts_with(['=', '~']) {
        return None;
    }
    let (receiver, attribute) = target.trim().split_once('.')?;
    let is_identifier = |text: &str| {
        !text.is_empty()
            && !text.starts_with(|c: char| c.is_ascii_digit())
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    (is_identifier(receiver) && is_identifier(attribute)).then_some((attribute, expression))
}

/// Reads the value of a gemspec assignment: a string literal, an array of
/// string literals, or `Gem::Version.new(LITERAL)`, each literal optionally
/// followed by `.freeze`. Text after the value (` if s.respond_to? ...`)
/// is ignored. Returns `None` for any other expression.
fn ruby_value(expression: &str) -> Option<RubyValue> {
    let expression = expression.trim_start();
    if let Some(rest) = expression.strip_prefix("Gem::Version.new(") {
        let (text, rest) = ruby_string(rest.trim_start())?;
        return rest
            .trim_start()
            .starts_with(')')
            .then_some(RubyValue::Text(text));
    }
    let Some(mut rest) = expression.strip_prefix('[') else {
        return ruby_string(expression).map(|(text, _)| RubyValue::Text(text));
    };

    let mut items = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.starts_with(']') {
            return Some(RubyValue::List(items));
        }
        let (text, after) = ruby_string(rest)?;
        items.push(text);
        rest = after.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with(']') {
            return None;
        }
    }
}

/// Reads one Ruby string literal at the start of `text` (`"..."`, `'...'`,
/// `%q{...}`, `%Q{...}` or `%{...}`) and a following `.freeze`. Returns the
/// string and the rest of the text, or `None` when `text` does not start
/// with a complete literal or the literal interpolates.
fn ruby_string(text: &str) -> Option<(String, &str)> {
    let (open, close, interpolates, body) = if let Some(body) = text.strip_prefix('"') {
        ('"', '"', true, body)
    } else if let Some(body) = text.strip_prefix('\'') {
        ('\'', '\'', false, body)
    } else {
        let rest = text.strip_prefix('%')?;
        let (interpolates, rest) = match rest.strip_prefix('q') {
            Some(rest) => (false, rest),
            None => (true, rest.strip_prefix('Q').unwrap_or(rest)),
        };
        let open = rest.chars().next()?;
        let close = match open {
            '{' => '}',
            '(' => ')',
            '[' => ']',
            '<' => '>',
            c if c.is_ascii_punctuation() => c,
            _ => return None,
        };
        (open, close, interpolates, &rest[open.len_utf8()..])
    };

    let (value, rest) = scan_literal(body, open, close, interpolates)?;
    let rest = rest.strip_prefix(".freeze").unwrap_or(rest);
    Some((value, rest))
}

/// Scans a literal body up to its unnested closing delimiter. Bracket
/// delimiters nest, as in Ruby. With `interpolates`, escapes are those of
/// double-quoted strings, and `#{`, `#@` or `#$` make the literal dynamic
/// (`None`). Without it, only `\\` and an escaped delimiter are escapes.
fn scan_literal(body: &str, open: char, close: char, interpolates: bool) -> Option<(String, &str)> {
    let mut out: Vec<u8> = Vec::with_capacity(body.len().min(256));
    let mut depth = 0usize;
    let mut chars = body.char_indices().peekable();

    while let Some((index, c)) = chars.next() {
        if c == '\\' {
            let (_, escaped) = chars.next()?;
            if interpolates {
                push_escape(escaped, &mut chars, &mut out)?;
            } else if escaped == '\\' || escaped == open || escaped == close {
                push_char(&mut out, escaped);
            } else {
                out.push(b'\\');
                push_char(&mut out, escaped);
            }
            continue;
        }
        if interpolates && c == '#' && matches!(chars.peek(), Some((_, '{' | '@' | '$'))) {
            return None;
        }
        if c == close && depth == 0 {
            let value = String::from_utf8_lossy(&out).into_owned();
            return Some((value, &body[index + c.len_utf8()..]));
        }
        if open != close && c == open {
            depth += 1;
        } else if open != close && c == close {
            depth -= 1;
        }
        push_char(&mut out, c);
    }
    None
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buffer = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
}

/// Appends the text of one double-quoted escape whose letter is `escaped`.
/// `\x` and octal escapes are bytes, so the result is decoded as UTF-8
/// only at the end. Returns `None` for a malformed `\u`.
fn push_escape(
    escaped: char,
    chars: &mut std::iter::Peekable<std::str::CharIndices>,
    out: &mut Vec<u8>,
) -> Option<()> {
    match escaped {
        'n' => out.push(b'\n'),
        't' => out.push(b'\t'),
        'r' => out.push(b'\r'),
        'e' => out.push(0x1b),
        's' => out.push(b' '),
        'a' => out.push(0x07),
        'b' => out.push(0x08),
        'f' => out.push(0x0c),
        'v' => out.push(0x0b),
        'x' => {
            let (value, count) = take_digits(chars, 16, 2);
            if count == 0 {
                return None;
            }
            out.push(u8::try_from(value).ok()?);
        }
        '0'..='7' => {
            let first = escaped.to_digit(8)?;
            let (rest, count) = take_digits(chars, 8, 2);
            let value = first * 8u32.pow(u32::try_from(count).ok()?) + rest;
            out.push(u8::try_from(value & 0xff).ok()?);
        }
        'u' => {
            if matches!(chars.peek(), Some((_, '{'))) {
                chars.next();
                // `\u{...}` contains one or more code points separated by spaces.
                loop {
                    while matches!(chars.peek(), Some((_, ' '))) {
                        chars.next();
                    }
                    if matches!(chars.peek(), Some((_, '}'))) {
                        chars.next();
                        break;
                    }
                    let (value, count) = take_digits(chars, 16, 6);
                    if count == 0 {
                        return None;
                    }
                    push_char(out, char::from_u32(value)?);
                }
            } else {
                let (value, count) = take_digits(chars, 16, 4);
                if count != 4 {
                    return None;
                }
                push_char(out, char::from_u32(value).unwrap_or('\u{FFFD}'));
            }
        }
        other => push_char(out, other),
    }
    Some(())
}

/// Reads up to `max` digits in `radix`. Returns the value and the number
/// of digits read.
fn take_digits(
    chars: &mut std::iter::Peekable<std::str::CharIndices>,
    radix: u32,
    max: usize,
) -> (u32, usize) {
    let mut value = 0u32;
    let mut count = 0;
    while count < max {
        let Some(digit) = chars.peek().and_then(|(_, c)| c.to_digit(radix)) else {
            break;
        };
        value = value * radix + digit;
        count += 1;
        chars.next();
    }
    (value, count)
}

/// The source of the lock file section being read.
enum Section {
    Gem,
    Path,
    Git {
        remote: Option<String>,
        revision: Option<String>,
    },
    Plugin {
        remote: Option<String>,
    },
    /// `PLATFORMS`, `DEPENDENCIES`, `BUNDLED WITH` and unknown sections.
    Other,
}

impl Section {
    /// Returns the `local_source` of the gems in this section. A missing
    /// remote or revision is left out.
    fn local_source(&self) -> Option<String> {
        let (scheme, remote, revision) = match self {
            Section::Gem | Section::Other => return None,
            Section::Path => return Some("path".to_owned()),
            Section::Git { remote, revision } => ("git", remote, revision.as_deref()),
            Section::Plugin { remote } => ("plugin", remote, None),
        };
        let mut source = scheme.to_owned();
        if let Some(remote) = remote {
            source.push('+');
            source.push_str(&strip_userinfo(remote));
        }
        if let Some(revision) = revision {
            source.push('#');
            source.push_str(revision);
        }
        Some(source)
    }
}

/// Removes `user:password@` from a URL, so credentials in a lock file do
/// not reach the inventory.
fn strip_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Reads the `specs:` entries of a Gemfile.lock. Malformed entries are
/// skipped and returned as (line, message) problems.
pub fn parse_gemfile_lock(content: &[u8]) -> (Vec<LockedGem>, Vec<(usize, String)>) {
    let mut gems: Vec<LockedGem> = Vec::new();
    let mut problems = Vec::new();
    let mut section = Section::Other;
    // (name, version, source) -> index in `gems`, to merge platform variants.
    let mut seen: HashMap<(String, String, Option<String>), usize> = HashMap::new();

    for (index, line) in lines(content).enumerate() {
        let number = index + 1;
        let text = String::from_utf8_lossy(line);
        if text.trim().is_empty() {
            continue;
        }

        let indent = text.len() - text.trim_start_matches(' ').len();
        if indent == 0 {
            section = match text.trim() {
                "GEM" => Section::Gem,
                "PATH" => Section::Path,
                "GIT" => Section::Git {
                    remote: None,
                    revision: None,
                },
                "PLUGIN SOURCE" => Section::Plugin { remote: None },
                _ => Section::Other,
            };
            continue;
        }
        if matches!(section, Section::Other) {
            continue;
        }

        if indent == 2 {
            let Some((key, value)) = text.trim().split_once(':') else {
                continue;
            };
            let value = Some(value.trim().to_owned());
            match (&mut section, key) {
                (Section::Git { remote, .. } | Section::Plugin { remote }, "remote") => {
                    *remote = value;
                }
                (Section::Git { revision, .. }, "revision") => *revision = value,
                _ => {}
            }
            continue;
        }
        if indent != 4 {
            continue;
        }

        if gems.len() >= MAX_LOCKED_GEMS {
            problems.push((
                number,
                format!("more than {MAX_LOCKED_GEMS} gems, the rest is not read"),
            ));
            break;
        }
        let Some((name, version, platform)) = parse_spec_line(text.trim()) else {
            problems.push((
                number,
                format!(
                    "invalid spec entry {:?}, expected NAME (VERSION)",
                    text.trim()
                ),
            ));
            continue;
        };
        let local_source = section.local_source();
        let key = (name.to_owned(), version.to_owned(), local_source.clone());
        if let Some(&first) = seen.get(&key) {
            if let Some(gem) = gems.get_mut(first)
                && gem.platform.as_deref() != platform
            {
                gem.platform = None;
            }
            continue;
        }
        seen.insert(key, gems.len());
        gems.push(LockedGem {
            name: name.to_owned(),
            version: version.to_owned(),
            platform: platform.map(str::to_owned),
            local_source,
            line: number,
        });
    }
    (gems, problems)
}

/// Splits `NAME (VERSION)` or `NAME (VERSION-PLATFORM)` as Bundler's
/// `LockfileParser::NAME_VERSION` does: the version ends at the first `-`.
fn parse_spec_line(text: &str) -> Option<(&str, &str, Option<&str>)> {
    let (name, rest) = text.split_once(" (")?;
    let inside = rest.strip_suffix(')')?;
    let (version, platform) = match inside.split_once('-') {
        Some((version, platform)) => (version, Some(platform)),
        None => (inside, None),
    };
    let platform = platform.filter(|p| *p != "ruby");
    let valid = is_printable_token(name)
        && is_printable_token(version)
        && platform.is_none_or(is_printable_token);
    valid.then_some((name, version, platform))
}

fn gem_purl(name: &str, version: &str, platform: Option<&str>) -> String {
    purl::build("gem", None, name, version, &[("platform", platform)])
}

impl RubyCataloger {
    fn catalog_gemspec(
        context: &CatalogContext,
        path: &str,
        content: &[u8],
        output: &mut CatalogOutput,
    ) {
        let spec = match parse_gemspec(content) {
            Ok(spec) => spec,
            Err(message) => {
                output
                    .warnings
                    .push(format!("{path}: gemspec not read: {message}"));
                return;
            }
        };
        let purl = gem_purl(&spec.name, &spec.version, spec.platform.as_deref());
        let mut package = Package::new(PackageType::Ruby, &spec.name, &spec.version, purl);
        package.architecture = spec.platform;
        package.licenses = spec.licenses;
        package.locations.push(context.location(path));
        output.packages.push(package);
    }

    fn catalog_lock(
        context: &CatalogContext,
        path: &str,
        content: &[u8],
        output: &mut CatalogOutput,
    ) {
        let (gems, problems) = parse_gemfile_lock(content);
        for (line, message) in problems {
            output.warnings.push(format!("{path}:{line}: {message}"));
        }
        let location = context.location(path);
        for gem in gems {
            let purl = gem_purl(&gem.name, &gem.version, gem.platform.as_deref());
            let mut package = Package::new(PackageType::Ruby, &gem.name, &gem.version, purl);
            package.architecture = gem.platform;
            package.declared = true;
            package.local_source = gem.local_source;
            package.locations.push(location.clone());
            output.packages.push(package);
        }
    }
}

impl Cataloger for RubyCataloger {
    fn name(&self) -> &'static str {
        "ruby"
    }

    fn wants(&self, path: &str) -> bool {
        is_gemspec(path) || is_gemfile_lock(path)
    }

    fn catalog(&self, context: &CatalogContext, output: &mut CatalogOutput) {
        for data in context.read_wanted(self, &mut output.warnings) {
            let path = data.path.as_str();
            if is_gemfile_lock(path) {
                Self::catalog_lock(context, &data.path, &data.content, output);
            } else {
                Self::catalog_gemspec(context, &data.path, &data.content, output);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLER: &[u8] = include_bytes!(
        "../../tests/fixtures/ruby/rootfs/usr/local/bundle/specifications/bundler-2.1.4.gemspec"
    );
    const FORMATADOR: &[u8] = include_bytes!(
        "../../tests/fixtures/ruby/rootfs/usr/local/bundle/specifications/formatador-1.1.0.gemspec"
    );
    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/ruby/rootfs/srv/app/Gemfile.lock");

    #[test]
    fn gemspec_bundler() {
        let spec = parse_gemspec(BUNDLER).unwrap();
        assert_eq!(spec.name, "bundler");
        assert_eq!(spec.version, "2.1.4");
        assert_eq!(spec.licenses, ["MIT"]);
        assert_eq!(spec.platform, None);
    }

    #[test]
    fn gemspec_frozen_version() {
        let spec = parse_gemspec(FORMATADOR).unwrap();
        assert_eq!(spec.name, "formatador");
        assert_eq!(spec.version, "1.1.0");
        assert_eq!(spec.licenses, ["MIT"]);
    }

    #[test]
    fn gemspec_older_literal_forms() {
        let spec = parse_gemspec(
            b"Gem::Specification.new do |s|\n  s.name = %q{rake}\n  s.version = Gem::Version.new(\"0.8.7\")\n  s.license = 'MIT'\n  s.platform = \"x86_64-linux\".freeze\nend\n",
        )
        .unwrap();
        assert_eq!(spec.name, "rake");
        assert_eq!(spec.version, "0.8.7");
        assert_eq!(spec.licenses, ["MIT"]);
        assert_eq!(spec.platform.as_deref(), Some("x86_64-linux"));
    }

    #[test]
    fn gemspec_ignores_rubygems_version() {
        let spec = parse_gemspec(
            b"  s.rubygems_version = \"3.1.2\".freeze\n  s.required_rubygems_version = Gem::Requirement.new(\">= 0\")\n  s.name = \"x\"\n  s.version = \"1.0\"\n",
        )
        .unwrap();
        assert_eq!(spec.version, "1.0");
    }

    #[test]
    fn gemspec_escapes() {
        let spec = parse_gemspec(
            b"s.name = \"caf\\u00E9\\#{x}\"\ns.version = \"1.0\"\ns.licenses = [\"Ruby\".freeze, \"BSD-2-Clause\".freeze]\n",
        )
        .unwrap();
        assert_eq!(spec.name, "caf\u{e9}#{x}");
        assert_eq!(spec.licenses, ["Ruby", "BSD-2-Clause"]);
    }

    #[test]
    fn gemspec_interpolation_is_rejected() {
        let error = parse_gemspec(b"s.name = \"x\"\ns.version = \"#{VERSION}\"\n").unwrap_err();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn gemspec_constant_version_is_rejected() {
        let error = parse_gemspec(b"spec.name = 'x'\nspec.version = X::VERSION\n").unwrap_err();
        assert!(error.contains("version"), "{error}");
    }

    #[test]
    fn gemspec_without_version() {
        let error = parse_gemspec(b"s.name = \"x\"\n").unwrap_err();
        assert!(error.contains("s.version"), "{error}");
    }

    #[test]
    fn lock_sections_and_sources() {
        let (gems, problems) = parse_gemfile_lock(LOCK);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(gems.len(), 52);

        let path = gems
            .iter()
            .find(|g| g.name == "google-cloud-errors")
            .unwrap();
        assert_eq!(path.version, "1.3.0");
        assert_eq!(path.local_source.as_deref(), Some("path"));

        let git = gems.iter().find(|g| g.name == "turbolinks").unwrap();
        assert_eq!(
            git.local_source.as_deref(),
            Some(
                "git+https://github.com/rails/turbolinks.git#80216ce9d89920bf073709405e3fce6d0a3ccd9a"
            )
        );

        let registry = gems.iter().find(|g| g.name == "arel").unwrap();
        assert_eq!(registry.version, "5.0.1.20140414130214");
        assert_eq!(registry.local_source, None);
    }

    #[test]
    fn lock_skips_unknown_sections() {
        let (gems, _) = parse_gemfile_lock(LOCK);
        assert!(gems.iter().all(|g| !g.name.starts_with("bad-")));
        // Dependency lines (six spaces) are not entries.
        assert_eq!(gems.iter().filter(|g| g.name == "polyglot").count(), 1);
    }

    #[test]
    fn lock_platforms() {
        let lock = b"GEM\n  remote: https://gems.example/\n  specs:\n    nokogiri (1.13.10-x86_64-linux)\n      racc (~> 1.4)\n    nokogiri (1.13.10-arm64-darwin)\n    ffi (1.15.5-x86_64-linux)\n    json (2.6.3-java)\n\nPLATFORMS\n  x86_64-linux\n";
        let (gems, problems) = parse_gemfile_lock(lock);
        assert!(problems.is_empty(), "{problems:?}");
        let found: Vec<(&str, &str, Option<&str>)> = gems
            .iter()
            .map(|g| (g.name.as_str(), g.version.as_str(), g.platform.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("nokogiri", "1.13.10", None),
                ("ffi", "1.15.5", Some("x86_64-linux")),
                ("json", "2.6.3", Some("java")),
            ]
        );
    }

    #[test]
    fn lock_bad_entry_names_line() {
        let lock = b"GEM\n  specs:\n    good (1.0)\n    broken\n    also-good (2.0)\n";
        let (gems, problems) = parse_gemfile_lock(lock);
        assert_eq!(gems.len(), 2);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, 4);
    }

    #[test]
    fn lock_git_credentials_removed() {
        let lock = b"GIT\n  remote: https://user:secret@git.example/x.git\n  revision: abc\n  specs:\n    x (1.0)\n";
        let (gems, _) = parse_gemfile_lock(lock);
        assert_eq!(
            gems[0].local_source.as_deref(),
            Some("git+https://git.example/x.git#abc")
        );
    }

    #[test]
    fn lock_plugin_source_without_remote() {
        let lock = b"PLUGIN SOURCE\n  type: x\n  specs:\n    y (2.0)\n";
        let (gems, _) = parse_gemfile_lock(lock);
        assert_eq!(gems[0].local_source.as_deref(), Some("plugin"));
    }

    #[test]
    fn wants_paths() {
        let cataloger = RubyCataloger;
        assert!(cataloger.wants("/usr/local/bundle/specifications/rack-2.2.8.gemspec"));
        assert!(
            cataloger.wants("/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec")
        );
        assert!(cataloger.wants("/srv/app/Gemfile.lock"));
        assert!(!cataloger.wants("/srv/app/rack.gemspec"));
        assert!(!cataloger.wants("/srv/app/Gemfile"));
    }

    proptest::proptest! {
        /// Both parsers accept any bytes without panicking, and only report
        /// printable names and versions.
        #[test]
        fn parsers_accept_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            if let Ok(spec) = parse_gemspec(&bytes) {
                proptest::prop_assert!(is_printable_token(&spec.name) && is_printable_token(&spec.version));
            }
            let (gems, _) = parse_gemfile_lock(&bytes);
            for gem in gems {
                proptest::prop_assert!(is_printable_token(&gem.name) && is_printable_token(&gem.version));
            }
        }

        /// Gemspec-shaped lines, more likely to reach the literal scanner.
        #[test]
        fn gemspec_accepts_literal_soup(lines in proptest::collection::vec("s\\.(name|version|licenses|platform) = [\\[\"'%qQ{(\\\\ux0-9a-f#$@,.\\]})]{0,24}", 0..12)) {
            let _ = parse_gemspec(lines.join("\n").as_bytes());
        }
    }
}
