//! License identifiers and expressions as SPDX 2.3 Annex D defines them, and
//! the translation of the license strings that package databases store.
//!
//! Package databases mix three shapes: SPDX identifiers (`MIT`, Alpine's
//! `GPL-2.0-only`), SPDX-like expressions (`MPL-2.0 AND MIT`) and free names
//! (Debian's `GPL-2+`, `Artistic or GPL-1+`, `public-domain`). A name that is an
//! SPDX identifier in any letter case maps to the canonical identifier, because
//! Annex D matches identifiers case-insensitively. Every other name is kept and
//! later written as a `LicenseRef-` identifier or as a plain license name.
//! Names are never guessed into identifiers: `GPL-2+` does not become
//! `GPL-2.0-or-later`.
//!
//! Operators are accepted in any case (Debian writes `or`), and a run of words
//! without an operator is one name (`Public Domain`). A string that does not
//! parse, for example with unbalanced parentheses, a comma list in the Debian
//! copyright-format style or a `with` exception that is not on the SPDX list,
//! becomes a single name.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use rampart_inventory::Package;
use sha2::{Digest, Sha256};

/// SPDX License List 3.28.0 license identifiers.
const LICENSE_IDS: &str = include_str!("spdx_license_ids.txt");
/// SPDX License List 3.28.0 exception identifiers.
const EXCEPTION_IDS: &str = include_str!("spdx_exception_ids.txt");

/// The SPDX License List version that [`LICENSE_IDS`] comes from, as SPDX
/// `creationInfo.licenseListVersion` writes it.
pub(crate) const LICENSE_LIST_VERSION: &str = "3.28";

static LICENSES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| index_ids(LICENSE_IDS));
static EXCEPTIONS: LazyLock<HashMap<String, &'static str>> =
    LazyLock::new(|| index_ids(EXCEPTION_IDS));

/// Maps the lowercase form of every identifier in `list` to its canonical spelling.
fn index_ids(list: &'static str) -> HashMap<String, &'static str> {
    list.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|id| (id.to_ascii_lowercase(), id))
        .collect()
}

/// Looks up the canonical SPDX license identifier that `text` spells, ignoring case.
pub(crate) fn license_id(text: &str) -> Option<&'static str> {
    LICENSES.get(&text.to_ascii_lowercase()).copied()
}

/// Looks up the canonical SPDX exception identifier that `text` spells, ignoring case.
fn exception_id(text: &str) -> Option<&'static str> {
    EXCEPTIONS.get(&text.to_ascii_lowercase()).copied()
}

/// A license expression whose leaves are SPDX identifiers or free names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Expression {
    /// A listed license. `or_later` is the SPDX `+` operator.
    License {
        id: &'static str,
        or_later: bool,
    },
    /// A license that is not on the SPDX list, by the name the database gives.
    Named(String),
    With {
        license: Box<Expression>,
        exception: &'static str,
    },
    And(Vec<Expression>),
    Or(Vec<Expression>),
}

impl Expression {
    /// Parses one license string from a package database. Never fails: text
    /// that is not an expression becomes one [`Expression::Named`].
    pub(crate) fn parse(text: &str) -> Expression {
        let text = text.trim();
        if text.contains([',', ';']) {
            return Expression::Named(text.to_owned());
        }

        let tokens = tokenize(text);
        let mut parser = Parser {
            tokens: &tokens,
            position: 0,
        };
        match parser.parse_or() {
            Some(expression) if parser.position == tokens.len() => expression,
            _ => Expression::Named(text.to_owned()),
        }
    }

    /// Joins `parts` with AND, flattening nested conjunctions. Returns
    /// `None` for no parts and the part itself for one.
    pub(crate) fn all_of(parts: Vec<Expression>) -> Option<Expression> {
        let mut flat = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Expression::And(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => None,
            1 => flat.pop(),
            _ => Some(Expression::And(flat)),
        }
    }

    /// Returns the identifier when the expression is one listed license without `+`.
    pub(crate) fn as_listed_id(&self) -> Option<&'static str> {
        match self {
            Expression::License {
                id,
                or_later: false,
            } => Some(id),
            _ => None,
        }
    }

    /// Appends every free name in the expression to `names`.
    fn collect_names<'a>(&'a self, names: &mut Vec<&'a str>) {
        match self {
            Expression::License { .. } => {}
            Expression::Named(name) => names.push(name),
            Expression::With { license, .. } => license.collect_names(names),
            Expression::And(parts) | Expression::Or(parts) => {
                for part in parts {
                    part.collect_names(names);
                }
            }
        }
    }

    /// Writes the expression in SPDX syntax, with free names as the
    /// `LicenseRef-` identifiers that `refs` assigns.
    pub(crate) fn to_spdx(&self, refs: &LicenseRefs) -> String {
        match self {
            Expression::License { id, or_later } => {
                if *or_later {
                    format!("{id}+")
                } else {
                    (*id).to_owned()
                }
            }
            Expression::Named(name) => refs.id_for(name),
            Expression::With { license, exception } => {
                format!("{} WITH {exception}", license.to_spdx(refs))
            }
            Expression::And(parts) => join_operands(parts, " AND ", refs),
            Expression::Or(parts) => join_operands(parts, " OR ", refs),
        }
    }
}

/// Joins operands, bracketing compound ones so that the reader need not
/// apply the AND-before-OR precedence.
fn join_operands(parts: &[Expression], operator: &str, refs: &LicenseRefs) -> String {
    let rendered: Vec<String> = parts
        .iter()
        .map(|part| match part {
            Expression::And(_) | Expression::Or(_) => format!("({})", part.to_spdx(refs)),
            _ => part.to_spdx(refs),
        })
        .collect();
    rendered.join(operator)
}

/// Parses the distinct license strings of a package, in database order.
pub(crate) fn package_licenses(package: &Package) -> Vec<Expression> {
    let mut seen: Vec<&str> = Vec::new();
    let mut expressions = Vec::new();
    for text in &package.licenses {
        let text = text.trim();
        if text.is_empty() || seen.contains(&text) {
            continue;
        }
        seen.push(text);
        expressions.push(Expression::parse(text));
    }
    expressions
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token<'a> {
    Open,
    Close,
    Word(&'a str),
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut word_start: Option<usize> = None;
    for (index, character) in text.char_indices() {
        let is_separator = character.is_whitespace() || character == '(' || character == ')';
        if is_separator {
            if let Some(start) = word_start.take() {
                tokens.push(Token::Word(&text[start..index]));
            }
            match character {
                '(' => tokens.push(Token::Open),
                ')' => tokens.push(Token::Close),
                _ => {}
            }
        } else if word_start.is_none() {
            word_start = Some(index);
        }
    }
    if let Some(start) = word_start {
        tokens.push(Token::Word(&text[start..]));
    }
    tokens
}

/// A recursive-descent parser with the Annex D precedence: `WITH` binds
/// tighter than `AND`, which binds tighter than `OR`.
struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    position: usize,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.position)
    }

    /// Consumes the next token when it is the operator `keyword`, in any case.
    fn eat_operator(&mut self, keyword: &str) -> bool {
        let matches =
            matches!(self.peek(), Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword));
        if matches {
            self.position += 1;
        }
        matches
    }

    fn parse_or(&mut self) -> Option<Expression> {
        let mut parts = vec![self.parse_and()?];
        while self.eat_operator("or") {
            parts.push(self.parse_and()?);
        }
        Some(if parts.len() == 1 {
            parts.pop()?
        } else {
            Expression::Or(parts)
        })
    }

    fn parse_and(&mut self) -> Option<Expression> {
        let mut parts = vec![self.parse_with()?];
        while self.eat_operator("and") {
            parts.push(self.parse_with()?);
        }
        Some(if parts.len() == 1 {
            parts.pop()?
        } else {
            Expression::And(parts)
        })
    }

    fn parse_with(&mut self) -> Option<Expression> {
        let license = self.parse_primary()?;
        if !self.eat_operator("with") {
            return Some(license);
        }

        // Annex D allows WITH only after a single license, and only a listed
        // exception identifier after it.
        if !matches!(license, Expression::License { .. } | Expression::Named(_)) {
            return None;
        }
        let Some(Token::Word(word)) = self.peek() else {
            return None;
        };
        let exception = exception_id(word)?;
        self.position += 1;
        Some(Expression::With {
            license: Box::new(license),
            exception,
        })
    }

    fn parse_primary(&mut self) -> Option<Expression> {
        if self.peek() == Some(&Token::Open) {
            self.position += 1;
            let inner = self.parse_or()?;
            if self.peek() != Some(&Token::Close) {
                return None;
            }
            self.position += 1;
            return Some(inner);
        }

        let mut words = Vec::new();
        while let Some(Token::Word(word)) = self.peek() {
            let is_operator = ["and", "or", "with"]
                .iter()
                .any(|op| word.eq_ignore_ascii_case(op));
            if is_operator {
                break;
            }
            words.push(*word);
            self.position += 1;
        }
        if words.is_empty() {
            return None;
        }
        Some(resolve_term(&words.join(" ")))
    }
}

/// Resolves one license name to a listed identifier where it is one.
fn resolve_term(term: &str) -> Expression {
    if let Some(id) = license_id(term) {
        return Expression::License {
            id,
            or_later: false,
        };
    }
    if let Some(id) = term.strip_suffix('+').and_then(license_id) {
        return Expression::License { id, or_later: true };
    }
    Expression::Named(term.to_owned())
}

/// The `LicenseRef-` identifiers of every free license name in one document.
///
/// An identifier is the name with characters outside SPDX's `idstring` set
/// (`A-Z a-z 0-9 . -`) replaced by `-`, and `+` spelled `-plus` so that
/// `GPL-2+` and `GPL-2` stay apart. Names that still collide, compared without
/// case as Annex D compares identifiers, each get 8 hex digits of the SHA-256
/// of the name appended.
#[derive(Clone, Debug, Default)]
pub(crate) struct LicenseRefs {
    /// Name → `LicenseRef-` identifier.
    by_name: BTreeMap<String, String>,
}

impl LicenseRefs {
    /// Assigns identifiers to the free names in the licenses of `packages`.
    pub(crate) fn from_packages<'p>(packages: impl IntoIterator<Item = &'p Package>) -> Self {
        let expressions: Vec<Expression> =
            packages.into_iter().flat_map(package_licenses).collect();
        let mut names: Vec<&str> = Vec::new();
        for expression in &expressions {
            expression.collect_names(&mut names);
        }
        names.sort_unstable();
        names.dedup();

        let mut by_stem: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for name in names {
            by_stem
                .entry(sanitize(name).to_ascii_lowercase())
                .or_default()
                .push(name);
        }

        let mut by_name = BTreeMap::new();
        for group in by_stem.into_values() {
            let collides = group.len() > 1;
            for name in group {
                let id = if collides {
                    format!("LicenseRef-{}-{}", sanitize(name), short_hash(name))
                } else {
                    format!("LicenseRef-{}", sanitize(name))
                };
                by_name.insert(name.to_owned(), id);
            }
        }
        LicenseRefs { by_name }
    }

    /// Returns the identifier of `name`. A name that the table does not contain (a
    /// caller bug) still gets a valid, hash-suffixed identifier.
    pub(crate) fn id_for(&self, name: &str) -> String {
        match self.by_name.get(name) {
            Some(id) => id.clone(),
            None => format!("LicenseRef-{}-{}", sanitize(name), short_hash(name)),
        }
    }

    /// `(identifier, name)` pairs sorted by identifier.
    pub(crate) fn entries(&self) -> Vec<(&str, &str)> {
        let mut entries: Vec<(&str, &str)> = self
            .by_name
            .iter()
            .map(|(name, id)| (id.as_str(), name.as_str()))
            .collect();
        entries.sort_unstable();
        entries
    }
}

/// Maps a free name to SPDX `idstring` characters.
fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for character in name.chars() {
        match character {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' => out.push(character),
            '+' => out.push_str("-plus"),
            _ => out.push('-'),
        }
    }

    let mut collapsed = String::with_capacity(out.len());
    for character in out.chars() {
        if !(character == '-' && collapsed.ends_with('-')) {
            collapsed.push(character);
        }
    }
    let trimmed = collapsed.trim_matches('-');
    if trimmed.is_empty() {
        "unnamed".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn short_hash(name: &str) -> String {
    hex::encode(&Sha256::digest(name.as_bytes())[..4])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spdx(text: &str) -> String {
        let expression = Expression::parse(text);
        let mut names = Vec::new();
        expression.collect_names(&mut names);
        let package = Package {
            package_type: rampart_inventory::PackageType::Deb,
            name: "p".to_owned(),
            version: "1".to_owned(),
            epoch: None,
            architecture: None,
            source_name: None,
            source_version: None,
            licenses: vec![text.to_owned()],
            maintainer: None,
            purl: "pkg:deb/debian/p@1".to_owned(),
            locations: Vec::new(),
            introduced_in_layer: None,
            files: Vec::new(),
            declared: false,
            local_source: None,
        };
        expression.to_spdx(&LicenseRefs::from_packages([&package]))
    }

    #[test]
    fn id_lists_match_cyclonedx_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../tests/schemas/spdx.schema.json"))
                .unwrap_or_else(|error| panic!("vendored spdx.schema.json: {error}"));
        let listed: Vec<&str> = schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        let ours: Vec<&str> = LICENSE_IDS
            .lines()
            .chain(EXCEPTION_IDS.lines())
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        assert_eq!(ours, listed);
    }

    #[test]
    fn id_lookup_ignores_case() {
        assert_eq!(license_id("mit"), Some("MIT"));
        assert_eq!(license_id("apache-2.0"), Some("Apache-2.0"));
        assert_eq!(license_id("GPL-2.0-or-later"), Some("GPL-2.0-or-later"));
        assert_eq!(license_id("Expat"), None);
        assert_eq!(license_id("GPL-2+"), None);
    }

    #[test]
    fn listed_id_stays_id() {
        assert_eq!(
            Expression::parse("zlib"),
            Expression::License {
                id: "Zlib",
                or_later: false
            }
        );
        assert_eq!(
            Expression::parse("GPL-2.0+"),
            Expression::License {
                id: "GPL-2.0+",
                or_later: false
            }
        );
    }

    #[test]
    fn plus_after_listed_id() {
        assert_eq!(
            Expression::parse("Apache-2.0+"),
            Expression::License {
                id: "Apache-2.0",
                or_later: true
            }
        );
        assert_eq!(spdx("Apache-2.0+"), "Apache-2.0+");
    }

    #[test]
    fn debian_names_become_refs() {
        assert_eq!(
            Expression::parse("GPL-2+"),
            Expression::Named("GPL-2+".to_owned())
        );
        assert_eq!(spdx("GPL-2+"), "LicenseRef-GPL-2-plus");
        assert_eq!(spdx("public-domain"), "LicenseRef-public-domain");
        assert_eq!(spdx("MIT/X11"), "LicenseRef-MIT-X11");
    }

    #[test]
    fn lowercase_operators_parse() {
        assert_eq!(
            spdx("Artistic or GPL-1+"),
            "LicenseRef-Artistic OR LicenseRef-GPL-1-plus"
        );
        assert_eq!(spdx("MPL-2.0 AND MIT"), "MPL-2.0 AND MIT");
    }

    #[test]
    fn precedence_and_brackets() {
        assert_eq!(
            spdx("MIT OR Apache-2.0 AND BSD-3-Clause"),
            "MIT OR (Apache-2.0 AND BSD-3-Clause)"
        );
        assert_eq!(
            spdx("(MIT OR Apache-2.0) AND BSD-3-Clause"),
            "(MIT OR Apache-2.0) AND BSD-3-Clause"
        );
    }

    #[test]
    fn listed_exception_parses() {
        assert_eq!(
            spdx("GPL-2.0-or-later with Classpath-exception-2.0"),
            "GPL-2.0-or-later WITH Classpath-exception-2.0"
        );
    }

    #[test]
    fn unparsable_text_is_one_name() {
        for text in [
            "GPL-2+ with OpenSSL exception",
            "(MIT",
            "MIT)",
            "AND MIT",
            "MIT OR",
            "GPL-2+, and LGPL-2+",
        ] {
            assert_eq!(
                Expression::parse(text),
                Expression::Named(text.to_owned()),
                "{text}"
            );
        }
    }

    #[test]
    fn multi_word_name_is_one_term() {
        assert_eq!(
            spdx("Public Domain and MIT"),
            "LicenseRef-Public-Domain AND MIT"
        );
    }

    #[test]
    fn all_of_flattens() {
        let parts = vec![
            Expression::parse("MPL-2.0 AND MIT"),
            Expression::parse("Zlib"),
        ];
        let combined =
            Expression::all_of(parts).unwrap_or_else(|| panic!("two parts give an expression"));
        assert_eq!(
            combined.to_spdx(&LicenseRefs::default()),
            "MPL-2.0 AND MIT AND Zlib"
        );
        assert_eq!(Expression::all_of(Vec::new()), None);
    }

    #[test]
    fn colliding_refs_get_hash() {
        let mut package = Package {
            package_type: rampart_inventory::PackageType::Deb,
            name: "p".to_owned(),
            version: "1".to_owned(),
            epoch: None,
            architecture: None,
            source_name: None,
            source_version: None,
            licenses: vec![
                "GPL 2".to_owned(),
                "gpl-2".to_owned(),
                "Artistic".to_owned(),
            ],
            maintainer: None,
            purl: "pkg:deb/debian/p@1".to_owned(),
            locations: Vec::new(),
            introduced_in_layer: None,
            files: Vec::new(),
            declared: false,
            local_source: None,
        };
        let refs = LicenseRefs::from_packages([&package]);
        let first = refs.id_for("GPL 2");
        let second = refs.id_for("gpl-2");
        assert_ne!(first.to_ascii_lowercase(), second.to_ascii_lowercase());
        assert!(first.starts_with("LicenseRef-GPL-2-"), "{first}");
        assert_eq!(refs.id_for("Artistic"), "LicenseRef-Artistic");

        package.licenses = vec!["***".to_owned()];
        assert_eq!(
            LicenseRefs::from_packages([&package]).id_for("***"),
            "LicenseRef-unnamed"
        );
    }
}
