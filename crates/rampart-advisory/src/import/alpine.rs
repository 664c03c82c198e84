//! Importer of the Alpine security database (secdb): one file per branch and
//! repository, YAML in the alpine-secdb repository and JSON of the same
//! shape on the secdb web site:
//!
//! ```yaml
//! distroversion: v3.10
//! reponame: main
//! packages:
//!   - pkg:
//!       name: openssl          # the origin (source) package
//!       secfixes:
//!         1.1.1d-r0:           # the first fixed apk version
//!           - CVE-2019-1547
//! ```
//!
//! Each (id, package) pair becomes one [`Advisory`] with source
//! `alpine-secdb`, namespace `alpine:<branch>` and one
//! [`AffectedPackage::fixed_in`] entry.
//!
//! Traps:
//! - A `secfixes` key is a version string even where YAML reads a number:
//!   `2.0` must stay `2.0`, and `1.10` must not become `1.1`. Keys are read
//!   with their spelling.
//! - The key `0` lists ids that never affected the package: those become
//!   [`Status::NotAffected`] entries without a range.
//! - An entry is free text. It may hold several ids (`CVE-2017-8903
//!   XSA-213`), a comment (`CVE-2018-14462 (ICMP)`), or a misspelt CVE id
//!   (`CVE_2019-2426`, `CVE 2018-16859`, `CVE-2017-8073.patch`,
//!   `CVE-2017-17434-1`). See [`entry_ids`] for how ids are read.
//! - Some keys are not valid apk versions (`4.8.0.-r1`, `10.2.26.r0`,
//!   `2.7.16-33` in the v3.3 to v3.11 snapshot). They are kept as written,
//!   because apk compares such versions up to their first invalid token and
//!   so does [`rampart_version::apk::compare`]. A key that does not start
//!   with a digit or contains whitespace is skipped.
//! - One id may be listed under several versions of a package; the highest
//!   version is kept (see [`add_fix`]), and `0` wins over every version.
//! - A key may repeat in a hand-edited file; the ids of both are kept.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};

use super::{FeedKind, ImportError, RecordSink, Skipped};
use crate::{Advisory, AffectedPackage, Namespace, Status};

/// The maximum size of a secdb file. The largest file of the v3.3 to v3.11
/// snapshot is 50 KiB.
pub const MAX_SECDB_BYTES: u64 = 64 * 1024 * 1024;

/// The `secfixes` key of ids that never affected the package.
const NOT_AFFECTED_KEY: &str = "0";

/// Imports one secdb file, YAML or JSON (JSON when the first non-blank byte
/// is `{`).
pub fn import_alpine_secdb(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    import_alpine_secdb_reader(file, path, sink)
}

/// Imports one secdb document from a reader, as [`import_alpine_secdb`]
/// does. `origin` names the document in skipped records and errors.
///
/// Fails when the document is larger than [`MAX_SECDB_BYTES`], does not
/// parse, or has no `distroversion`. A malformed package entry or `secfixes`
/// entry is skipped and the import goes on.
pub fn import_alpine_secdb_reader(
    reader: impl Read,
    origin: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_SECDB_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| ImportError::io(origin, error))?;
    if bytes.len() as u64 > MAX_SECDB_BYTES {
        return Err(format_error(
            origin,
            format!("the file is larger than {MAX_SECDB_BYTES} bytes"),
        ));
    }

    let document = parse_document(&bytes).map_err(|reason| format_error(origin, reason))?;
    let release = document
        .distroversion
        .as_deref()
        .map(str::trim)
        .filter(|release| !release.is_empty())
        .ok_or_else(|| format_error(origin, "missing distroversion"))?;
    let namespace = Namespace::distro("alpine", release);

    let mut importer = PackageImporter {
        origin,
        namespace,
        sink,
    };
    for (index, entry) in document
        .packages
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        importer.package(index, entry);
    }
    Ok(())
}

fn format_error(origin: &Path, reason: impl Into<String>) -> ImportError {
    ImportError::format(origin, FeedKind::AlpineSecdb, reason)
}

/// The top level of a secdb file. `archs`, `urlprefix` and `apkurl` are
/// ignored.
#[derive(Deserialize)]
struct SecDb {
    distroversion: Option<String>,
    packages: Option<Vec<Node>>,
}

fn parse_document(bytes: &[u8]) -> Result<SecDb, String> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first == Some(&b'{') {
        return serde_json::from_slice(bytes).map_err(|error| format!("invalid JSON: {error}"));
    }

    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    serde_saphyr::from_slice_with_options(bytes, options)
        .map_err(|error| format!("invalid YAML: {error}"))
}

/// A parsed value below `packages`, kept loose so that one malformed package
/// entry skips that entry only. Map keys keep their spelling (`2.0`, `1.10`),
/// and scalar values are text.
///
/// NOTE: a YAML scalar value (not a key) that reads as a number loses its
/// spelling (`1.10` becomes `1.1`). Package names and ids are never numbers.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Null,
    Text(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Text(_) => "a scalar",
            Node::List(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    fn field(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML or JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Text(value.to_string()))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Text(value.to_string()))
    }

    fn visit_i128<E>(self, value: i128) -> Result<Node, E> {
        Ok(Node::Text(value.to_string()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Text(value.to_string()))
    }

    fn visit_u128<E>(self, value: u128) -> Result<Node, E> {
        Ok(Node::Text(value.to_string()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Text(value.to_string()))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Text(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::Text(value))
    }

    fn visit_bytes<E>(self, value: &[u8]) -> Result<Node, E> {
        Ok(Node::Text(String::from_utf8_lossy(value).into_owned()))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = sequence.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        // Keys are read as strings, which makes the YAML deserializer keep
        // the scalar's spelling instead of reading `2.0` as a float.
        while let Some(key) = map.next_key::<String>()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Node::Map(entries))
    }
}

/// The outcome of one `secfixes` id for a package: fixed in a version, or
/// never affected.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fix {
    NotAffected,
    FixedIn(String),
}

impl Fix {
    fn from_key(key: &str) -> Fix {
        if key == NOT_AFFECTED_KEY {
            Fix::NotAffected
        } else {
            Fix::FixedIn(key.to_owned())
        }
    }

    /// Orders fixes by version, with `NotAffected` (key `0`) lowest.
    fn compare(&self, other: &Fix) -> Ordering {
        match (self, other) {
            (Fix::NotAffected, Fix::NotAffected) => Ordering::Equal,
            (Fix::NotAffected, _) => Ordering::Less,
            (_, Fix::NotAffected) => Ordering::Greater,
            (Fix::FixedIn(a), Fix::FixedIn(b)) => {
                rampart_version::apk::compare(a, b).unwrap_or(Ordering::Equal)
            }
        }
    }
}

/// The fix and the aliases that a package's `secfixes` give for one id.
struct IdFix {
    fix: Fix,
    aliases: Vec<String>,
}

struct PackageImporter<'a> {
    origin: &'a Path,
    namespace: Namespace,
    sink: &'a mut dyn RecordSink,
}

impl PackageImporter<'_> {
    fn skip(&mut self, record: String, reason: String) {
        self.sink.skipped(Skipped {
            file: self.origin.to_owned(),
            record,
            reason,
        });
    }

    /// Imports one `packages[]` entry: one advisory per id of its secfixes.
    fn package(&mut self, index: usize, entry: Node) {
        let position = format!("package {}", index + 1);
        let Some(pkg) = entry.field("pkg") else {
            self.skip(
                position,
                format!("expected a mapping with key pkg, found {}", entry.kind()),
            );
            return;
        };
        let name = match pkg.field("name") {
            Some(Node::Text(name)) if !name.trim().is_empty() => name.trim().to_owned(),
            _ => {
                self.skip(position, "pkg has no name".to_owned());
                return;
            }
        };
        let secfixes = match pkg.field("secfixes") {
            None | Some(Node::Null) => return,
            Some(Node::Map(secfixes)) => secfixes,
            Some(other) => {
                let reason = format!("secfixes must be a mapping, found {}", other.kind());
                self.skip(name, reason);
                return;
            }
        };

        let mut fixes: BTreeMap<String, IdFix> = BTreeMap::new();
        for (key, entries) in secfixes {
            self.secfix(&name, key.trim(), entries, &mut fixes);
        }

        for (id, id_fix) in fixes {
            let affected = match &id_fix.fix {
                Fix::FixedIn(version) => {
                    AffectedPackage::fixed_in(self.namespace.clone(), name.clone(), version)
                }
                Fix::NotAffected => {
                    let mut entry = AffectedPackage::new(self.namespace.clone(), name.clone());
                    entry.status = Status::NotAffected;
                    entry
                }
            };
            self.sink.advisory(Advisory {
                id,
                aliases: id_fix.aliases,
                source: FeedKind::AlpineSecdb.name().to_owned(),
                affected: vec![affected],
                ..Advisory::default()
            });
        }
    }

    /// Reads the ids listed under one `secfixes` key into `fixes`.
    fn secfix(
        &mut self,
        package: &str,
        key: &str,
        entries: &Node,
        fixes: &mut BTreeMap<String, IdFix>,
    ) {
        let position = format!("{package} {key}");
        if !key.starts_with(|c: char| c.is_ascii_digit()) || key.contains(char::is_whitespace) {
            self.skip(position, format!("{key:?} is not a fixed version"));
            return;
        }
        if key != NOT_AFFECTED_KEY
            && let Err(error) = rampart_version::apk::validate(key)
        {
            tracing::debug!(file = %self.origin.display(), package, %error, "keeping fixed version as written");
        }
        let texts: Vec<&str> = match entries {
            Node::Null => Vec::new(),
            Node::Text(text) => vec![text.as_str()],
            Node::List(items) => {
                let mut texts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Node::Text(text) => texts.push(text.as_str()),
                        Node::Null => {}
                        other => {
                            self.skip(
                                position.clone(),
                                format!("expected an id, found {}", other.kind()),
                            );
                        }
                    }
                }
                texts
            }
            Node::Map(_) => {
                self.skip(
                    position,
                    "expected a list of ids, found a mapping".to_owned(),
                );
                return;
            }
        };

        let fix = Fix::from_key(key);
        for text in texts {
            let ids = entry_ids(text);
            if ids.primary.is_empty() {
                self.skip(position.clone(), format!("no advisory id in {text:?}"));
                continue;
            }
            for id in ids.primary {
                add_fix(fixes, id, &fix, &ids.aliases);
            }
        }
    }
}

/// Records that `id` is fixed by `fix`, keeping every alias. Of two
/// versions the higher is kept: a branch lists an id under an older version
/// when the fix was first made on an older package line, and the package
/// this branch ships is fixed only from the later entry (busybox in v3.10
/// lists CVE-2019-5747 under 1.29.3-r10 and 1.30.1-r2, and ships
/// 1.30.1-r1 unfixed). `0` (never affected) wins over any version.
fn add_fix(fixes: &mut BTreeMap<String, IdFix>, id: String, fix: &Fix, aliases: &[String]) {
    let id_fix = fixes.entry(id).or_insert_with(|| IdFix {
        fix: fix.clone(),
        aliases: Vec::new(),
    });
    let replace = match (fix, &id_fix.fix) {
        (_, Fix::NotAffected) => false,
        (Fix::NotAffected, _) => true,
        (new, kept) => new.compare(kept) == Ordering::Greater,
    };
    if replace {
        id_fix.fix = fix.clone();
    }
    for alias in aliases {
        if !id_fix.aliases.contains(alias) {
            id_fix.aliases.push(alias.clone());
        }
    }
}

/// The ids of one `secfixes` entry.
#[derive(Debug, Default, PartialEq, Eq)]
struct EntryIds {
    /// The ids that become advisories: every CVE id, or else the first id.
    primary: Vec<String>,
    /// The entry's other ids (an XSA or TALOS id beside a CVE id).
    aliases: Vec<String>,
}

/// Reads the ids of one free-text `secfixes` entry.
///
/// - Text from the first `(` on is a comment.
/// - Tokens are split at whitespace. A CVE id is read from a token that
///   starts with `CVE-YYYY-N` or the misspellings `CVE_YYYY-N` and
///   `CVE YYYY-N`, and whatever follows the number (`.patch`, `-1`) is cut.
/// - Another token is an id when it looks like one: a letter first, parts
///   joined by `-`, and a digit somewhere (`XSA-213`, `TALOS-2017-0499`,
///   `ZBX-11023`, `wnpa-sec-2017-21`, `GHSA-…`). Other tokens (`XPTI`,
///   the placeholder `CVE-????-?????`) are dropped.
fn entry_ids(text: &str) -> EntryIds {
    let text = text.split('(').next().unwrap_or_default();
    let tokens: Vec<&str> = text.split_whitespace().collect();

    let mut cves: Vec<String> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        let token = tokens[index];
        index += 1;

        // `CVE 2018-16859`: the prefix and the number are two tokens.
        if token.eq_ignore_ascii_case("CVE")
            && let Some(cve) = tokens
                .get(index)
                .and_then(|next| cve_id(&format!("CVE-{next}")))
        {
            index += 1;
            push_unique(&mut cves, cve);
            continue;
        }
        if let Some(cve) = cve_id(token) {
            push_unique(&mut cves, cve);
        } else if is_other_id(token) {
            push_unique(&mut others, token.to_owned());
        }
    }

    if cves.is_empty() {
        let mut others = others.into_iter();
        EntryIds {
            primary: others.next().into_iter().collect(),
            aliases: others.collect(),
        }
    } else {
        EntryIds {
            primary: cves,
            aliases: others,
        }
    }
}

fn push_unique(ids: &mut Vec<String>, id: String) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

/// Reads `CVE-YYYY-N…` or `CVE_YYYY-N…` (any case) at the start of a token
/// as the canonical `CVE-YYYY-N`, where N has at least four digits.
fn cve_id(token: &str) -> Option<String> {
    let prefix = token.get(..4)?;
    if !prefix[..3].eq_ignore_ascii_case("CVE") || !matches!(prefix.as_bytes()[3], b'-' | b'_') {
        return None;
    }
    let rest = &token[4..];
    let year = rest
        .get(..4)
        .filter(|year| year.bytes().all(|b| b.is_ascii_digit()))?;
    let number = rest.get(4..)?.strip_prefix('-')?;
    let digits = number.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 4 {
        return None;
    }
    Some(format!("CVE-{year}-{}", &number[..digits]))
}

/// Returns whether a token looks like a non-CVE advisory id (see [`entry_ids`]).
fn is_other_id(token: &str) -> bool {
    let starts_with_letter = token
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic());
    let parts_valid = token
        .split('-')
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
    starts_with_letter
        && parts_valid
        && token.contains('-')
        && token.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary(text: &str) -> Vec<String> {
        entry_ids(text).primary
    }

    fn aliases(text: &str) -> Vec<String> {
        entry_ids(text).aliases
    }

    #[test]
    fn entry_plain_cve() {
        assert_eq!(primary("CVE-2019-10206"), ["CVE-2019-10206"]);
        assert!(aliases("CVE-2019-10206").is_empty());
    }

    #[test]
    fn entry_cve_with_xsa() {
        assert_eq!(primary("CVE-2017-8903 XSA-213"), ["CVE-2017-8903"]);
        assert_eq!(aliases("CVE-2017-8903 XSA-213"), ["XSA-213"]);
    }

    #[test]
    fn entry_several_cves() {
        let text = "CVE-2018-3620 CVE-2018-3646 XSA-273";
        assert_eq!(primary(text), ["CVE-2018-3620", "CVE-2018-3646"]);
        assert_eq!(aliases(text), ["XSA-273"]);
    }

    #[test]
    fn entry_trailing_comment() {
        assert_eq!(
            primary("CVE-2018-16301 (was fixed in libpcap)"),
            ["CVE-2018-16301"]
        );
        assert!(aliases("CVE-2018-16301 (was fixed in libpcap)").is_empty());
        assert_eq!(
            aliases("CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI"),
            ["XSA-254"]
        );
    }

    #[test]
    fn entry_misspelt_cves() {
        assert_eq!(primary("CVE_2019-2426"), ["CVE-2019-2426"]);
        assert_eq!(primary("CVE 2018-16859"), ["CVE-2018-16859"]);
        assert_eq!(primary("CVE-2017-8073.patch"), ["CVE-2017-8073"]);
        assert_eq!(primary("CVE-2017-17434-1"), ["CVE-2017-17434"]);
        assert_eq!(primary(" CVE-2016-6263"), ["CVE-2016-6263"]);
    }

    #[test]
    fn entry_placeholder_cve() {
        assert_eq!(primary("CVE-????-?????  XSA-295"), ["XSA-295"]);
        assert!(aliases("CVE-????-?????  XSA-295").is_empty());
    }

    #[test]
    fn entry_non_cve_ids() {
        assert_eq!(primary("XSA-207"), ["XSA-207"]);
        assert_eq!(primary("wnpa-sec-2017-21"), ["wnpa-sec-2017-21"]);
        assert_eq!(primary("GHSA-jfh8-c2jp-5v3q"), ["GHSA-jfh8-c2jp-5v3q"]);
    }

    #[test]
    fn entry_without_id() {
        assert!(primary("(+ regression fix)").is_empty());
        assert!(primary("XPTI").is_empty());
    }

    #[test]
    fn zero_key_lowest() {
        let fix = Fix::FixedIn("1.0-r0".into());
        assert_eq!(Fix::NotAffected.compare(&fix), Ordering::Less);
    }

    #[test]
    fn fixed_versions_compare_as_apk() {
        let lower = Fix::FixedIn("1.9-r0".into());
        let higher = Fix::FixedIn("1.10-r0".into());
        assert_eq!(lower.compare(&higher), Ordering::Less);
    }
}
