//! Source positions of findings: the line and column of a field in the
//! manifest text an object was read from.
//!
//! The text is read with the YAML event parser that [`parse_manifests`]
//! uses (granit-parser, through serde-saphyr), so flow style, JSON, block
//! scalars, anchors, aliases, merge keys (`<<`) and multi-document streams
//! are placed as the parser reads them. Documents are split and numbered
//! as [`parse_manifests`] does it.
//!
//! Positions are computed at report time and only for findings: all
//! queries on one text are answered in one pass over its events, and only
//! the documents that a query names are built into a tree.
//!
//! [`parse_manifests`]: crate::parse_manifests

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span, Tag};

use crate::block_yaml::{self, Document};
use crate::finding::Finding;

/// Deepest chain of aliases and merge keys followed from one node, so a
/// hostile chain cannot exhaust the stack.
const MAX_INDIRECTION: usize = 64;

/// A 1-based line and column in a manifest text. Columns count Unicode
/// code points, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TextPosition {
    pub line: usize,
    pub column: usize,
    /// Whether the whole field path exists. When it does not (a field left
    /// unset, such as `allowPrivilegeEscalation`), the position is that of
    /// the deepest parent that exists.
    #[serde(skip)]
    pub exact: bool,
}

/// One field to find in a manifest text.
#[derive(Clone, Copy, Debug)]
pub struct FieldQuery<'a> {
    /// 1-based number of the document, as in the object's [`Origin`].
    ///
    /// [`Origin`]: crate::Origin
    pub document: usize,
    /// 0-based index in the `items` of a `List` document.
    pub item: Option<usize>,
    /// Field path such as `spec.containers[1].env[0].value`, relative to
    /// the object; `None` for the object itself.
    pub field: Option<&'a str>,
}

/// Returns the position of every query's field in `text`, in query order.
/// A query gets `None` when its document or List item does not exist, or
/// when its document is not valid YAML.
///
/// The text is split into documents as [`parse_manifests`] splits it, and
/// each document named by a query is parsed on its own.
pub fn locate_fields(text: &str, queries: &[FieldQuery<'_>]) -> Vec<Option<TextPosition>> {
    let mut positions = vec![None; queries.len()];
    let mut by_document: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (index, query) in queries.iter().enumerate() {
        by_document.entry(query.document).or_default().push(index);
    }
    for chunk in crate::manifest::split_documents(text) {
        let Some(indexes) = by_document.get(&chunk.number) else {
            continue;
        };
        let local: Vec<FieldQuery<'_>> = indexes
            .iter()
            .map(|&index| FieldQuery {
                document: 1,
                ..queries[index]
            })
            .collect();
        let found = match block_yaml::parse_document(chunk.text) {
            Some(document) => local
                .iter()
                .map(|query| locate_in_tree(&document, query))
                .collect(),
            None => locate_in_stream(chunk.text, &local),
        };
        for (&index, position) in indexes.iter().zip(found) {
            positions[index] = position.map(|position| TextPosition {
                line: position.line + chunk.first_line - 1,
                column: if position.line == 1 {
                    position.column + chunk.first_column_offset
                } else {
                    position.column
                },
                exact: position.exact,
            });
        }
    }
    positions
}

/// Returns the positions of queries whose documents are numbered as the
/// YAML parser sees them in `text`, counting non-empty documents only.
pub(crate) fn locate_in_stream(
    text: &str,
    queries: &[FieldQuery<'_>],
) -> Vec<Option<TextPosition>> {
    let mut positions = vec![None; queries.len()];
    let mut by_document: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (index, query) in queries.iter().enumerate() {
        by_document.entry(query.document).or_default().push(index);
    }
    let Some(&last_wanted) = by_document.keys().next_back() else {
        return positions;
    };

    // The same parser limits as serde-saphyr's defaults, so that any text
    // `parse_manifests` accepted parses here too.
    let options = serde_saphyr::granit_parser::options! { emit_comments: false };
    let parser = Parser::new_from_str_with_options(text, options);
    let mut document = 0usize;
    let mut state = DocumentState::Between;
    for next in parser {
        let Ok((event, span)) = next else {
            break;
        };
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart(..) => state = DocumentState::RootPending,
            Event::DocumentEnd => {
                if let DocumentState::Building(builder) = std::mem::take(&mut state) {
                    let tree = builder.finish();
                    for &index in &by_document[&document] {
                        positions[index] = tree.locate(&queries[index]);
                    }
                }
                if document >= last_wanted {
                    break;
                }
            }
            event if matches!(state, DocumentState::RootPending) && is_node(&event) => {
                if is_null_root(&event) {
                    state = DocumentState::Skipping;
                    continue;
                }
                document += 1;
                if by_document.contains_key(&document) {
                    let mut builder = TreeBuilder::default();
                    builder.push(event, span);
                    state = DocumentState::Building(builder);
                } else {
                    state = DocumentState::Skipping;
                }
            }
            event => {
                if let DocumentState::Building(builder) = &mut state {
                    builder.push(event, span);
                }
            }
        }
    }
    positions
}

/// Returns the position of a query's field in a document read by the
/// block-YAML reader, as [`Tree::locate`] finds it in a parsed stream.
pub(crate) fn locate_in_tree(
    document: &Document<'_>,
    query: &FieldQuery<'_>,
) -> Option<TextPosition> {
    let mut node = document.root();
    if let Some((block_yaml::Style::Plain, text)) = document.scalar(node)
        && matches!(text, "" | "~" | "null" | "Null" | "NULL")
    {
        // A null document is skipped, as serde-saphyr skips it.
        return None;
    }
    if let Some(item) = query.item {
        let (_, items) = document.entry(node, "items")?;
        node = document.elements(items).nth(item)?;
    }
    let mut at = node;
    let mut exact = true;
    for segment in segments(query.field.unwrap_or_default()) {
        let found = match segment {
            Segment::Key(key) => document.entry(node, key),
            Segment::Index(index) => document.elements(node).nth(index).map(|e| (e, e)),
        };
        let Some((position, next)) = found else {
            exact = false;
            break;
        };
        node = next;
        at = position;
    }
    let (line, column) = document.position(at);
    Some(TextPosition {
        line,
        column,
        exact,
    })
}

/// Returns the position of one field; see [`locate_fields`].
pub fn locate_field(
    text: &str,
    document: usize,
    item: Option<usize>,
    field: Option<&str>,
) -> Option<TextPosition> {
    let query = FieldQuery {
        document,
        item,
        field,
    };
    locate_fields(text, &[query])[0]
}

/// Returns the position of every finding's field, in finding order.
///
/// Findings are grouped by their origin's source, and `text_of` is called
/// once per source, from several threads. It returns the text the objects
/// were parsed from, or `None` for a source that is not a manifest text
/// (such as a cluster list) or that can no longer be read as it was.
pub fn locate_findings<'t, F>(findings: &[Finding], text_of: F) -> Vec<Option<TextPosition>>
where
    F: Fn(&str) -> Option<Cow<'t, str>> + Sync,
{
    let mut by_source: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, finding) in findings.iter().enumerate() {
        if let Some(origin) = &finding.origin {
            by_source.entry(&origin.source).or_default().push(index);
        }
    }
    let located: Vec<(usize, Option<TextPosition>)> = by_source
        .into_par_iter()
        .flat_map_iter(|(source, indexes)| {
            let positions = match text_of(source) {
                Some(text) => {
                    let queries: Vec<FieldQuery<'_>> = indexes
                        .iter()
                        .map(|&index| query_of(&findings[index]))
                        .collect();
                    locate_fields(&text, &queries)
                }
                None => vec![None; indexes.len()],
            };
            indexes.into_iter().zip(positions)
        })
        .collect();

    let mut positions = vec![None; findings.len()];
    for (index, position) in located {
        positions[index] = position;
    }
    positions
}

fn query_of(finding: &Finding) -> FieldQuery<'_> {
    let origin = finding
        .origin
        .as_ref()
        .expect("only findings with an origin are grouped");
    FieldQuery {
        document: origin.document,
        item: origin.item,
        field: finding.field.as_deref(),
    }
}

#[derive(Default)]
enum DocumentState {
    #[default]
    Between,
    /// After a document start, before its root node.
    RootPending,
    Building(TreeBuilder),
    Skipping,
}

fn is_node(event: &Event<'_>) -> bool {
    matches!(
        event,
        Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) | Event::Alias(_)
    )
}

/// Returns whether a document root is null, so that serde-saphyr skips
/// the document: `!!null`, or an untagged plain `~`, `null` or empty
/// scalar.
fn is_null_root(event: &Event<'_>) -> bool {
    match event {
        Event::Scalar(value, style, _, tag) => match tag {
            Some(tag) => tag.core_suffix() == Some("null"),
            None => {
                *style == ScalarStyle::Plain
                    && matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL")
            }
        },
        _ => false,
    }
}

/// One parsed document, reduced to what locating needs: the structure,
/// mapping keys and node positions.
#[derive(Default)]
struct Tree {
    nodes: Vec<Node>,
    /// Anchor id to the anchored node.
    anchors: HashMap<usize, usize>,
    root: Option<usize>,
}

struct Node {
    line: usize,
    column: usize,
    kind: NodeKind,
}

enum NodeKind {
    Scalar,
    Alias(usize),
    Sequence(Vec<usize>),
    Mapping(Vec<Entry>),
}

struct Entry {
    /// The key's text, or `None` for a key that is not a scalar.
    key: Option<String>,
    /// Whether this is a YAML merge key (`<<`).
    merge: bool,
    line: usize,
    column: usize,
    value: usize,
}

/// A scalar that will become a mapping key.
struct Key {
    text: Option<String>,
    merge: bool,
    line: usize,
    column: usize,
}

enum Open {
    Sequence(usize),
    Mapping(usize, Option<Key>),
}

#[derive(Default)]
struct TreeBuilder {
    tree: Tree,
    open: Vec<Open>,
}

impl TreeBuilder {
    fn push(&mut self, event: Event<'_>, span: Span) {
        let (line, column) = (span.start.line(), span.start.col() + 1);
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let id = self.add(line, column, NodeKind::Scalar, anchor);
                let merge = is_merge_key(&value, style, tag.as_deref());
                self.attach(id, Some(value.into_owned()), merge);
            }
            Event::Alias(anchor) => {
                let id = self.add(line, column, NodeKind::Alias(anchor), 0);
                self.attach(id, None, false);
            }
            Event::SequenceStart(_, anchor, _) => {
                let id = self.add(line, column, NodeKind::Sequence(Vec::new()), anchor);
                self.open.push(Open::Sequence(id));
            }
            Event::MappingStart(_, anchor, _) => {
                let id = self.add(line, column, NodeKind::Mapping(Vec::new()), anchor);
                self.open.push(Open::Mapping(id, None));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let id = match self.open.pop() {
                    Some(Open::Sequence(id) | Open::Mapping(id, _)) => id,
                    None => return,
                };
                self.attach(id, None, false);
            }
            _ => {}
        }
    }

    fn add(&mut self, line: usize, column: usize, kind: NodeKind, anchor: usize) -> usize {
        let id = self.tree.nodes.len();
        self.tree.nodes.push(Node { line, column, kind });
        if anchor != 0 {
            self.tree.anchors.insert(anchor, id);
        }
        id
    }

    /// Files a finished node under the open collection, as a sequence
    /// element, a mapping key or a mapping value. `text` is the node's
    /// scalar text, kept only when the node is a key.
    fn attach(&mut self, id: usize, text: Option<String>, merge: bool) {
        let nodes = &mut self.tree.nodes;
        match self.open.last_mut() {
            None => self.tree.root = Some(id),
            Some(Open::Sequence(parent)) => {
                if let NodeKind::Sequence(items) = &mut nodes[*parent].kind {
                    items.push(id);
                }
            }
            Some(Open::Mapping(parent, pending)) => match pending.take() {
                None => {
                    *pending = Some(Key {
                        text,
                        merge,
                        line: nodes[id].line,
                        column: nodes[id].column,
                    });
                }
                Some(key) => {
                    if let NodeKind::Mapping(entries) = &mut nodes[*parent].kind {
                        entries.push(Entry {
                            key: key.text,
                            merge: key.merge,
                            line: key.line,
                            column: key.column,
                            value: id,
                        });
                    }
                }
            },
        }
    }

    fn finish(self) -> Tree {
        self.tree
    }
}

fn is_merge_key(value: &str, style: ScalarStyle, tag: Option<&Tag>) -> bool {
    match tag {
        Some(tag) => tag.core_suffix() == Some("merge"),
        None => style == ScalarStyle::Plain && value == "<<",
    }
}

/// One step of a field path.
#[derive(Debug, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits a field path such as `spec.containers[1].env[0].value` or
/// `metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]` into
/// keys and indexes. A bracketed step that is not a number is a map key,
/// which may contain dots; surrounding quotes are removed.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            // NOTE: a map key that itself contains `]` ends early here.
            // Kubernetes label and annotation keys cannot contain one.
            let end = inner.find(']').unwrap_or(inner.len());
            let step = &inner[..end];
            match step.parse::<usize>() {
                Ok(index) => segments.push(Segment::Index(index)),
                Err(_) => segments.push(Segment::Key(unquote(step))),
            }
            rest = inner.get(end + 1..).unwrap_or_default();
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end > 0 {
                segments.push(Segment::Key(&rest[..end]));
            }
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    segments
}

fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    text
}

impl Tree {
    fn locate(&self, query: &FieldQuery<'_>) -> Option<TextPosition> {
        let root = self.root?;
        let mut node = root;
        if let Some(item) = query.item {
            let items = self.entry(root, "items", 0)?;
            node = self.element(items.value, item)?;
        }
        let start = &self.nodes[node];
        let mut position = TextPosition {
            line: start.line,
            column: start.column,
            exact: true,
        };

        for segment in segments(query.field.unwrap_or_default()) {
            let found = match segment {
                Segment::Key(key) => self
                    .entry(node, key, 0)
                    .map(|entry| (entry.value, entry.line, entry.column)),
                Segment::Index(index) => self.element(node, index).map(|element| {
                    let element_node = &self.nodes[element];
                    (element, element_node.line, element_node.column)
                }),
            };
            let Some((next, line, column)) = found else {
                position.exact = false;
                break;
            };
            node = next;
            position.line = line;
            position.column = column;
        }
        Some(position)
    }

    /// Follows aliases to the node they name.
    fn resolve(&self, mut id: usize) -> Option<usize> {
        for _ in 0..MAX_INDIRECTION {
            match self.nodes[id].kind {
                NodeKind::Alias(anchor) => id = *self.anchors.get(&anchor)?,
                _ => return Some(id),
            }
        }
        None
    }

    fn element(&self, sequence: usize, index: usize) -> Option<usize> {
        match &self.nodes[self.resolve(sequence)?].kind {
            NodeKind::Sequence(items) => items.get(index).copied(),
            _ => None,
        }
    }

    /// Finds `key` in a mapping. Keys written in the mapping come before
    /// merged ones, and merged mappings are searched in order, as the YAML
    /// merge key type defines.
    fn entry(&self, mapping: usize, key: &str, depth: usize) -> Option<&Entry> {
        if depth > MAX_INDIRECTION {
            return None;
        }
        let NodeKind::Mapping(entries) = &self.nodes[self.resolve(mapping)?].kind else {
            return None;
        };
        let own = entries
            .iter()
            .find(|entry| !entry.merge && entry.key.as_deref() == Some(key));
        if own.is_some() {
            return own;
        }
        for merge in entries.iter().filter(|entry| entry.merge) {
            let source = self.resolve(merge.value)?;
            let found = match &self.nodes[source].kind {
                NodeKind::Sequence(sources) => sources
                    .iter()
                    .find_map(|&source| self.entry(source, key, depth + 1)),
                _ => self.entry(source, key, depth + 1),
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments() {
        assert_eq!(
            segments("spec.template.spec.containers[1].env[0].value"),
            vec![
                Segment::Key("spec"),
                Segment::Key("template"),
                Segment::Key("spec"),
                Segment::Key("containers"),
                Segment::Index(1),
                Segment::Key("env"),
                Segment::Index(0),
                Segment::Key("value"),
            ]
        );
        assert_eq!(
            segments("metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]"),
            vec![
                Segment::Key("metadata"),
                Segment::Key("annotations"),
                Segment::Key("container.apparmor.security.beta.kubernetes.io/app"),
            ]
        );
        assert_eq!(
            segments("metadata.labels[\"app.kubernetes.io/name\"].x"),
            vec![
                Segment::Key("metadata"),
                Segment::Key("labels"),
                Segment::Key("app.kubernetes.io/name"),
                Segment::Key("x"),
            ]
        );
        assert_eq!(segments(""), Vec::<Segment<'_>>::new());
        assert_eq!(
            segments("items[3]"),
            vec![Segment::Key("items"), Segment::Index(3)]
        );
    }
}
