//! A fast reader for the block-style YAML that Kubernetes tooling writes
//! (kubectl, Helm, kustomize, PyYAML and Go's yaml.v3 emitters).
//!
//! libyaml (libyaml-rs through yaml_serde) parsed 15 to 25 MB/s per core
//! in `benches/audit.sh`, which alone kept a large audit from reaching its
//! throughput target, and locating findings needs node positions that its
//! serde layer does not keep. This reader parses one document of the
//! common subset into a flat tree with byte offsets. The subset is block
//! mappings and sequences (compact sequences too), plain, quoted and block
//! scalars (multi-line ones folded as YAML 1.2 folds them), comments,
//! anchors and aliases, and flow collections written on one line.
//!
//! It never guesses. Anything outside the subset (tags, complex keys, merge
//! keys, tabs outside scalars, multi-line flow collections, characters YAML
//! does not allow, nesting deeper than [`MAX_DEPTH`]) makes [`parse`]
//! return `None`, and the caller reads the document with libyaml instead,
//! which also words the errors. Scalars are resolved as yaml_serde resolves
//! them (its `deserialize_*` rules), so an object read here equals the one
//! yaml_serde reads. Tests compare the two.
//!
//! [`MAX_DEPTH`]: crate::manifest::MAX_DEPTH

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, Visitor};

use crate::manifest::MAX_DEPTH;

/// libyaml's limit on the length of a simple (implicit) key.
const MAX_KEY_BYTES: usize = 1024;

/// Characters that cannot start a plain scalar.
const INDICATORS: &[u8] = b"-?:,[]{}#&*!|>'\"%@`";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// Plain scalars resolve to null, booleans and numbers.
    Plain,
    /// Quoted and block scalars are always strings.
    Quoted,
}

#[derive(Debug)]
pub(crate) enum Kind<'a> {
    Scalar(Style, Cow<'a, str>),
    Mapping,
    Sequence,
    /// An alias (`*name`) of the earlier node at this index, which is
    /// never an alias itself.
    Alias(usize),
}

/// One node. Nodes are stored in document order: a collection's children
/// follow it (a mapping's alternate key and value), and `end` is the index
/// after its last descendant, which is where its next sibling starts.
#[derive(Debug)]
pub(crate) struct Node<'a> {
    pub kind: Kind<'a>,
    /// Byte offset where the node starts: a scalar's first character (its
    /// quote or block indicator), a block mapping's first key, a block
    /// sequence's first `-`, a flow collection's bracket.
    pub start: usize,
    end: u32,
    /// Entries of a mapping or elements of a sequence.
    len: u32,
}

/// One parsed document.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    pub text: &'a str,
    pub nodes: Vec<Node<'a>>,
    /// Byte offsets where lines start, built on the first position asked.
    line_starts: OnceCell<Vec<usize>>,
    /// Whether the document is JSON, whose strings are never plain.
    json: bool,
}

/// Parses one YAML document, or returns `None` when it is outside the
/// subset this reader handles (or not valid YAML).
pub(crate) fn parse(text: &str) -> Option<Document<'_>> {
    if !allowed_characters(text) {
        return None;
    }
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        nodes: Vec::with_capacity(text.len() / 8),
        depth: 0,
        tabs: memchr::memchr(b'\t', text.as_bytes()).is_some(),
        anchors: Vec::new(),
    };
    parser.skip_blank_lines()?;
    if parser.at_end() {
        return None;
    }
    let indent = parser.indent_here()?;
    parser.pos += indent;
    parser.block_node(indent, -1)?;
    parser.skip_blank_lines()?;
    if !parser.at_end() {
        return None;
    }
    Some(Document {
        text,
        nodes: parser.nodes,
        line_starts: OnceCell::new(),
        json: false,
    })
}

/// Parses a document that starts with `{` as JSON, and any other (or one
/// that is not JSON) as block YAML; see [`parse`] and [`parse_json`].
pub(crate) fn parse_document(text: &str) -> Option<Document<'_>> {
    if text.trim_start().starts_with('{') {
        parse_json(text).or_else(|| parse(text))
    } else {
        parse(text)
    }
}

/// Parses one JSON document into the same tree, or returns `None` for text
/// that is not JSON as it is written in manifests (tabs and `\r` aside),
/// or nested deeper than [`MAX_DEPTH`].
///
/// The tree is strict, as serde_json is: a string field does not take a
/// number or a boolean, so such a schema error goes to the slow path.
pub(crate) fn parse_json(text: &str) -> Option<Document<'_>> {
    if !allowed_characters(text) || memchr::memchr(b'\t', text.as_bytes()).is_some() {
        return None;
    }
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        nodes: Vec::with_capacity(text.len() / 12),
        depth: 0,
        tabs: false,
        anchors: Vec::new(),
    };
    parser.skip_json_whitespace();
    parser.json_value()?;
    parser.skip_json_whitespace();
    if !parser.at_end() {
        return None;
    }
    Some(Document {
        text,
        nodes: parser.nodes,
        line_starts: OnceCell::new(),
        json: true,
    })
}

/// Returns whether every character is one YAML allows in a stream and none
/// is a line break other than `\n` (libyaml also breaks lines at `\r`,
/// NEL, LS and PS).
fn allowed_characters(text: &str) -> bool {
    let controls = text.as_bytes().iter().fold(false, |found, &byte| {
        found | (byte < 0x20 && byte != b'\n' && byte != b'\t') | (byte == 0x7f)
    });
    if controls {
        return false;
    }
    text.is_ascii()
        || text.chars().all(|c| {
            let c = c as u32;
            !(0x80..=0x9f).contains(&c) && !matches!(c, 0x2028 | 0x2029 | 0xfeff | 0xfffe | 0xffff)
        })
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    nodes: Vec<Node<'a>>,
    depth: usize,
    /// Whether the text has a tab anywhere; tabs are only allowed in
    /// quoted and block scalars and comments, and most texts have none.
    tabs: bool,
    /// Anchors by name with their node, in document order, and whether the
    /// node is complete (an alias inside its own anchor is left to
    /// libyaml).
    anchors: Vec<(&'a str, usize, bool)>,
}

fn is_space_break_or_end(byte: Option<u8>) -> bool {
    matches!(byte, None | Some(b'\n' | b' '))
}

impl<'a> Parser<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, pos: usize) -> Option<u8> {
        self.bytes.get(pos).copied()
    }

    /// Returns whether a plain scalar may start at `pos`: not at an
    /// indicator, except `-`, `?` and `:` followed by a non-space.
    fn starts_plain(&self, pos: usize) -> bool {
        match self.peek_at(pos) {
            Some(b'-' | b'?' | b':') => !is_space_break_or_end(self.peek_at(pos + 1)),
            Some(byte) => !INDICATORS.contains(&byte),
            None => false,
        }
    }

    fn line_end(&self, from: usize) -> usize {
        memchr::memchr(b'\n', &self.bytes[from..]).map_or(self.bytes.len(), |i| from + i)
    }

    /// Column of `pos`, in bytes from its line's start.
    fn column(&self, pos: usize) -> usize {
        pos - memchr::memrchr(b'\n', &self.bytes[..pos]).map_or(0, |i| i + 1)
    }

    /// Number of spaces at `pos`, which is a line start; `None` if a tab
    /// is part of the indentation.
    fn indent_here(&self) -> Option<usize> {
        let rest = &self.bytes[self.pos..];
        let spaces = rest.iter().take_while(|&&b| b == b' ').count();
        (rest.get(spaces) != Some(&b'\t')).then_some(spaces)
    }

    /// From a line start, skips blank lines and comment lines, and stops at
    /// the start of the next line with content (or at the end).
    fn skip_blank_lines(&mut self) -> Option<()> {
        while !self.at_end() {
            let indent = self.indent_here()?;
            match self.peek_at(self.pos + indent) {
                None => {
                    self.pos = self.bytes.len();
                }
                Some(b'\n') => self.pos += indent + 1,
                Some(b'#') => self.pos = (self.line_end(self.pos) + 1).min(self.bytes.len()),
                Some(_) => return Some(()),
            }
        }
        Some(())
    }

    /// Skips spaces after a value on its line and an optional comment, and
    /// moves to the next line's start. `None` if anything else is there.
    fn finish_line(&mut self) -> Option<()> {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        match self.peek() {
            None => Some(()),
            Some(b'\n') => {
                self.pos += 1;
                Some(())
            }
            Some(b'#') if self.pos > start => {
                self.pos = (self.line_end(self.pos) + 1).min(self.bytes.len());
                Some(())
            }
            _ => None,
        }
    }

    fn push(&mut self, kind: Kind<'a>, start: usize) -> usize {
        self.nodes.push(Node {
            kind,
            start,
            end: 0,
            len: 0,
        });
        self.nodes.len() - 1
    }

    fn close(&mut self, node: usize, len: usize) {
        let end = self.nodes.len() as u32;
        let node = &mut self.nodes[node];
        node.end = end;
        node.len = len as u32;
    }

    fn scalar(&mut self, style: Style, value: Cow<'a, str>, start: usize) {
        let node = self.push(Kind::Scalar(style, value), start);
        self.close(node, 0);
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Parses the block node at `pos`, the first non-space character of a
    /// line indented by `indent` columns, inside a collection indented by
    /// `parent` (-1 for the root).
    fn block_node(&mut self, indent: usize, parent: isize) -> Option<()> {
        if self.peek() == Some(b'-') && is_space_break_or_end(self.peek_at(self.pos + 1)) {
            self.block_sequence(indent)
        } else if let Some(colon) = self.plain_or_quoted_key() {
            self.block_mapping(indent, colon)
        } else {
            self.inline_value(parent)
        }
    }

    /// Parses a block mapping whose first key starts at `pos` and ends
    /// before the `:` at `colon`.
    fn block_mapping(&mut self, indent: usize, mut colon: usize) -> Option<()> {
        self.enter()?;
        let node = self.push(Kind::Mapping, self.pos);
        let mut entries = 0;
        loop {
            self.mapping_entry(indent, colon)?;
            entries += 1;
            self.skip_blank_lines()?;
            if self.at_end() {
                break;
            }
            let next = self.indent_here()?;
            if next < indent {
                break;
            }
            if next > indent {
                return None;
            }
            self.pos += next;
            colon = self.plain_or_quoted_key()?;
        }
        self.close(node, entries);
        self.depth -= 1;
        Some(())
    }

    /// Returns the offset of the `:` after a mapping key that starts at
    /// `pos`, if the line has one there.
    fn plain_or_quoted_key(&self) -> Option<usize> {
        let first = self.peek()?;
        let after_key = if first == b'"' || first == b'\'' {
            let line_end = self.line_end(self.pos);
            let mut probe = Parser {
                text: self.text,
                bytes: self.bytes,
                pos: self.pos,
                nodes: Vec::new(),
                depth: 0,
                tabs: self.tabs,
                anchors: Vec::new(),
            };
            probe.quoted_text(-1)?;
            if probe.pos > line_end {
                return None;
            }
            let mut at = probe.pos;
            while self.peek_at(at) == Some(b' ') {
                at += 1;
            }
            (self.peek_at(at) == Some(b':')).then_some(at)?
        } else {
            if !self.starts_plain(self.pos) {
                return None;
            }
            let mut from = self.pos;
            let colon = loop {
                let i = from + memchr::memchr3(b':', b'#', b'\n', &self.bytes[from..])?;
                match self.bytes[i] {
                    b':' if is_space_break_or_end(self.peek_at(i + 1)) => break i,
                    b'#' if self.bytes[i - 1] == b' ' => return None,
                    b'\n' => return None,
                    _ => {}
                }
                from = i + 1;
            };
            if self.tabs && memchr::memchr(b'\t', &self.bytes[self.pos..colon]).is_some() {
                return None;
            }
            colon
        };
        is_space_break_or_end(self.peek_at(after_key + 1)).then_some(after_key)
    }

    /// Parses `key: value` at `pos`, for a mapping indented by `indent`,
    /// and leaves `pos` at the start of the line after the value.
    fn mapping_entry(&mut self, indent: usize, colon: usize) -> Option<()> {
        let key_start = self.pos;
        if matches!(self.peek(), Some(b'"' | b'\'')) {
            let text = self.quoted_text(-1)?;
            self.scalar(Style::Quoted, text, key_start);
        } else {
            let key = self.text[key_start..colon].trim_end_matches(' ');
            if key == "<<" || key.len() > MAX_KEY_BYTES {
                return None;
            }
            self.scalar(Style::Plain, Cow::Borrowed(key), key_start);
        }
        if colon - key_start > MAX_KEY_BYTES {
            return None;
        }
        self.pos = colon + 1;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'\t') => None,
            None | Some(b'\n') | Some(b'#') => {
                if self.peek() == Some(b'#') && self.bytes[self.pos - 1] != b' ' {
                    return None;
                }
                // libyaml places an empty value at the end of its line.
                let empty_at = self.line_end(self.pos);
                self.pos = (empty_at + 1).min(self.bytes.len());
                self.nested_value(indent, true, empty_at)
            }
            Some(_) => self.inline_value(indent as isize),
        }
    }

    /// Parses the value of a key or sequence entry that has nothing after
    /// it on its line. The value is the node on the following lines when
    /// that is indented more than `indent` (or, after a key, is a sequence
    /// at `indent`), and null otherwise.
    fn nested_value(&mut self, indent: usize, after_key: bool, empty_at: usize) -> Option<()> {
        let line_start = self.pos;
        self.skip_blank_lines()?;
        if !self.at_end() {
            let next = self.indent_here()?;
            let dash = self.pos + next;
            let sequence =
                self.peek_at(dash) == Some(b'-') && is_space_break_or_end(self.peek_at(dash + 1));
            if next > indent || (after_key && next == indent && sequence) {
                self.pos += next;
                return self.block_node(next, indent as isize);
            }
        }
        // The value is null; the lines skipped are left to the caller.
        self.pos = line_start;
        self.scalar(Style::Plain, Cow::Borrowed(""), empty_at);
        Some(())
    }

    fn block_sequence(&mut self, indent: usize) -> Option<()> {
        self.enter()?;
        let node = self.push(Kind::Sequence, self.pos);
        let mut elements = 0;
        loop {
            // At a `-` followed by a space or line break.
            self.pos += 1;
            while self.peek() == Some(b' ') {
                self.pos += 1;
            }
            match self.peek() {
                Some(b'\t') => return None,
                None | Some(b'\n') | Some(b'#') => {
                    if self.peek() == Some(b'#') && self.bytes[self.pos - 1] != b' ' {
                        return None;
                    }
                    let empty_at = self.line_end(self.pos);
                    self.pos = (empty_at + 1).min(self.bytes.len());
                    self.nested_value(indent, false, empty_at)?;
                }
                Some(b'-') if is_space_break_or_end(self.peek_at(self.pos + 1)) => return None,
                Some(_) => {
                    if let Some(colon) = self.plain_or_quoted_key() {
                        let column = self.column(self.pos);
                        self.block_mapping(column, colon)?;
                    } else {
                        self.inline_value(indent as isize)?;
                    }
                }
            }
            elements += 1;
            self.skip_blank_lines()?;
            if self.at_end() {
                break;
            }
            let next = self.indent_here()?;
            if next > indent {
                return None;
            }
            let dash = self.pos + next;
            let more = next == indent
                && self.peek_at(dash) == Some(b'-')
                && is_space_break_or_end(self.peek_at(dash + 1));
            if !more {
                break;
            }
            self.pos = dash;
        }
        self.close(node, elements);
        self.depth -= 1;
        Some(())
    }

    /// Parses a value that starts at `pos`, in the middle of a line, inside
    /// a collection indented by `parent`, and moves to the start of the
    /// line after it.
    fn inline_value(&mut self, parent: isize) -> Option<()> {
        let start = self.pos;
        match self.peek()? {
            b'|' | b'>' => {
                // libyaml places a block scalar at its first text line.
                let (text, start) = self.block_scalar(parent)?;
                self.scalar(Style::Quoted, Cow::Owned(text), start);
                Some(())
            }
            b'"' | b'\'' => {
                let text = self.quoted_text(parent)?;
                self.scalar(Style::Quoted, text, start);
                self.finish_line()
            }
            b'[' | b'{' => {
                let line_end = self.line_end(self.pos);
                self.flow_node(line_end)?;
                self.finish_line()
            }
            b'&' => self.anchored_value(parent),
            b'*' => {
                let name = self.anchor_name()?;
                let &(_, target, complete) = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(anchor, ..)| *anchor == name)?;
                if !complete {
                    return None;
                }
                let target = match self.nodes[target].kind {
                    Kind::Alias(target) => target,
                    _ => target,
                };
                let node = self.push(Kind::Alias(target), start);
                self.close(node, 0);
                self.finish_line()
            }
            _ if !self.starts_plain(self.pos) => None,
            _ => self.plain_scalar(parent),
        }
    }

    /// Reads `&name` or `*name` at `pos` and moves past it; the name must
    /// be followed by a space or a line break.
    fn anchor_name(&mut self) -> Option<&'a str> {
        let start = self.pos + 1;
        let length = self.bytes[start..]
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            .count();
        self.pos = start + length;
        (length > 0 && is_space_break_or_end(self.peek()))
            .then(|| &self.text[start..start + length])
    }

    /// Parses `&name` and the node it names: the rest of the line (not a
    /// mapping key, whose anchor YAML gives to the key) or a block node on
    /// the following lines indented more than `parent`.
    fn anchored_value(&mut self, parent: isize) -> Option<()> {
        let name = self.anchor_name()?;
        let index = self.anchors.len();
        self.anchors.push((name, self.nodes.len(), false));
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        match self.peek() {
            None | Some(b'\n') | Some(b'#') => {
                if self.peek() == Some(b'#') && self.bytes[self.pos - 1] != b' ' {
                    return None;
                }
                self.pos = (self.line_end(self.pos) + 1).min(self.bytes.len());
                self.skip_blank_lines()?;
                if self.at_end() {
                    return None;
                }
                let indent = self.indent_here()?;
                if indent as isize <= parent {
                    return None;
                }
                self.pos += indent;
                // A second property or an alias on the next line is an error
                // for one node, unless it starts a mapping (`&a` then
                // `&k key:`). libyaml tells the two apart.
                if matches!(self.peek(), Some(b'&' | b'*' | b'!')) {
                    return None;
                }
                self.block_node(indent, parent)?;
            }
            Some(b'&' | b'*' | b'!') => return None,
            Some(_) => {
                if self.plain_or_quoted_key().is_some() {
                    return None;
                }
                self.inline_value(parent)?;
            }
        }
        self.anchors[index].2 = true;
        Some(())
    }

    /// Parses a plain scalar in block context, with its continuation lines
    /// (those indented more than `parent`).
    fn plain_scalar(&mut self, parent: isize) -> Option<()> {
        let start = self.pos;
        let (first_end, comment, line_end) = self.plain_line(start)?;
        let mut value: Cow<'a, str> = Cow::Borrowed(&self.text[start..first_end]);
        let mut next = (line_end + 1).min(self.bytes.len());
        // The start of the line after the scalar's last line.
        let mut consumed = next;
        let mut empty_lines = 0usize;
        while !comment && next < self.bytes.len() {
            let spaces = self.bytes[next..]
                .iter()
                .take_while(|&&b| b == b' ')
                .count();
            match self.peek_at(next + spaces) {
                None => break,
                Some(b'\n') => {
                    empty_lines += 1;
                    next += spaces + 1;
                    continue;
                }
                Some(b'\t') => return None,
                Some(b'#') => break,
                Some(_) => {}
            }
            if spaces as isize <= parent {
                break;
            }
            let end = self.line_end(next);
            let content_start = next + spaces;
            if !self.starts_plain(content_start) {
                return None;
            }
            let (content_end, comment, _) = self.plain_line(content_start)?;
            if comment {
                return None;
            }
            let text = value.to_mut();
            if empty_lines == 0 {
                text.push(' ');
            } else {
                text.extend(std::iter::repeat_n('\n', empty_lines));
            }
            text.push_str(&self.text[content_start..content_end]);
            empty_lines = 0;
            next = (end + 1).min(self.bytes.len());
            consumed = next;
        }
        self.scalar(Style::Plain, value, start);
        self.pos = consumed;
        Some(())
    }

    /// Returns, for plain text starting at `start`, where the text ends
    /// (before trailing spaces and a comment), whether a comment follows,
    /// and where the line ends. `None` when the line contains `: ` (a key
    /// where none may be), a tab, a trailing `:` or no text.
    fn plain_line(&self, start: usize) -> Option<(usize, bool, usize)> {
        let mut from = start;
        let (end, comment, line_end) = loop {
            let Some(found) = memchr::memchr3(b':', b'#', b'\n', &self.bytes[from..]) else {
                break (self.bytes.len(), false, self.bytes.len());
            };
            let i = from + found;
            match self.bytes[i] {
                b'\n' => break (i, false, i),
                b':' if is_space_break_or_end(self.peek_at(i + 1)) => return None,
                b'#' if i > start && self.bytes[i - 1] == b' ' => {
                    break (i, true, self.line_end(i));
                }
                _ => {}
            }
            from = i + 1;
        };
        let text = &self.bytes[start..end];
        if self.tabs && memchr::memchr(b'\t', text).is_some() {
            return None;
        }
        let trimmed = text.iter().rposition(|&b| b != b' ')? + 1;
        Some((start + trimmed, comment, line_end))
    }

    /// Parses a single- or double-quoted scalar at `pos` and moves past
    /// its closing quote. Lines after the first must be indented more than
    /// `parent`. Line breaks fold as in YAML: one break becomes a space,
    /// each further empty line a `\n`, and spaces around breaks go.
    fn quoted_text(&mut self, parent: isize) -> Option<Cow<'a, str>> {
        let quote = self.peek()?;
        let single = quote == b'\'';
        self.pos += 1;
        let start = self.pos;
        // Fast path: no escape, no doubled quote and no line break.
        let stop = self.bytes[start..]
            .iter()
            .position(|&b| b == quote || b == b'\\' || b == b'\n')?;
        if self.bytes[start + stop] == quote
            && !(single && self.peek_at(start + stop + 1) == Some(b'\''))
            && (single || self.bytes[start + stop] != b'\\')
        {
            self.pos = start + stop + 1;
            return Some(Cow::Borrowed(&self.text[start..start + stop]));
        }
        let mut text = String::new();
        let mut whitespace = String::new();
        loop {
            // Non-blank characters.
            let mut escaped_break = false;
            loop {
                let byte = self.peek()?;
                match byte {
                    b' ' | b'\t' | b'\n' => break,
                    b'\'' if single && self.peek_at(self.pos + 1) == Some(b'\'') => {
                        text.push('\'');
                        self.pos += 2;
                    }
                    _ if byte == quote => break,
                    b'\\' if !single => {
                        if self.peek_at(self.pos + 1) == Some(b'\n') {
                            self.pos += 2;
                            escaped_break = true;
                            self.check_continuation(parent)?;
                            break;
                        }
                        self.escape(&mut text)?;
                    }
                    _ => {
                        let c = self.text[self.pos..].chars().next()?;
                        text.push(c);
                        self.pos += c.len_utf8();
                    }
                }
            }
            if self.peek() == Some(quote) {
                break;
            }
            // Blanks and line breaks.
            let mut breaks = 0usize;
            let mut line_break = escaped_break;
            whitespace.clear();
            loop {
                match self.peek()? {
                    b' ' | b'\t' => {
                        if !line_break {
                            whitespace.push(self.bytes[self.pos] as char);
                        }
                        self.pos += 1;
                    }
                    b'\n' => {
                        self.pos += 1;
                        if line_break {
                            breaks += 1;
                        } else {
                            line_break = true;
                            whitespace.clear();
                            if escaped_break {
                                breaks += 1;
                            }
                        }
                        self.check_continuation(parent)?;
                    }
                    _ => break,
                }
            }
            if escaped_break {
                text.extend(std::iter::repeat_n('\n', breaks));
            } else if line_break {
                if breaks == 0 {
                    text.push(' ');
                } else {
                    text.extend(std::iter::repeat_n('\n', breaks));
                }
            } else {
                text.push_str(&whitespace);
            }
        }
        self.pos += 1;
        Some(Cow::Owned(text))
    }

    /// After a line break inside a quoted scalar, checks that the next
    /// line, unless blank, is indented more than `parent`.
    fn check_continuation(&self, parent: isize) -> Option<()> {
        let rest = &self.bytes[self.pos..];
        let spaces = rest.iter().take_while(|&&b| b == b' ').count();
        match rest.get(spaces) {
            None => None,
            Some(b'\n') => Some(()),
            Some(_) => (spaces as isize > parent).then_some(()),
        }
    }

    /// Reads one escape sequence of a double-quoted scalar at `pos`.
    fn escape(&mut self, text: &mut String) -> Option<()> {
        let code = self.peek_at(self.pos + 1)?;
        let simple = match code {
            b'0' => Some('\0'),
            b'a' => Some('\u{7}'),
            b'b' => Some('\u{8}'),
            b't' | b'\t' => Some('\t'),
            b'n' => Some('\n'),
            b'v' => Some('\u{b}'),
            b'f' => Some('\u{c}'),
            b'r' => Some('\r'),
            b'e' => Some('\u{1b}'),
            b' ' => Some(' '),
            b'"' => Some('"'),
            b'/' => Some('/'),
            b'\\' => Some('\\'),
            b'N' => Some('\u{85}'),
            b'_' => Some('\u{a0}'),
            b'L' => Some('\u{2028}'),
            b'P' => Some('\u{2029}'),
            _ => None,
        };
        if let Some(c) = simple {
            text.push(c);
            self.pos += 2;
            return Some(());
        }
        let digits = match code {
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => return None,
        };
        let hex = self.text.get(self.pos + 2..self.pos + 2 + digits)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
        text.push(c);
        self.pos += 2 + digits;
        Some(())
    }

    /// Parses a literal (`|`) or folded (`>`) block scalar at `pos`, in a
    /// collection indented by `parent`, with libyaml's folding and
    /// chomping, and moves to the line after it.
    fn block_scalar(&mut self, parent: isize) -> Option<(String, usize)> {
        let literal = self.peek() == Some(b'|');
        self.pos += 1;
        // Chomping: -1 strip, 0 clip, 1 keep. An explicit indentation
        // indicator is left to libyaml.
        let chomping = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                -1
            }
            Some(b'+') => {
                self.pos += 1;
                1
            }
            _ => 0,
        };
        if self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return None;
        }
        self.finish_line()?;

        let minimum = (parent + 1).max(1) as usize;
        let mut text = String::new();
        // Leading empty lines, and the indentation from the first line
        // with text.
        let mut trailing_breaks = 0usize;
        let mut max_spaces = 0usize;
        let indent;
        loop {
            let rest = &self.bytes[self.pos..];
            let spaces = rest.iter().take_while(|&&b| b == b' ').count();
            max_spaces = max_spaces.max(spaces);
            match rest.get(spaces) {
                Some(b'\n') => {
                    trailing_breaks += 1;
                    self.pos += spaces + 1;
                }
                // libyaml refuses a tab where the indentation is not known yet.
                Some(b'\t') => return None,
                _ => {
                    if spaces < max_spaces && rest.get(spaces).is_some() {
                        // An empty line is longer than the first text line.
                        return None;
                    }
                    indent = max_spaces.max(minimum);
                    break;
                }
            }
        }

        let mut leading_break = false;
        let mut leading_blank = false;
        let mut first_text = None;
        loop {
            let rest = &self.bytes[self.pos..];
            let spaces = rest.iter().take_while(|&&b| b == b' ').count();
            if spaces == rest.len() && spaces > indent {
                // Spaces at the end without a line break: left to libyaml.
                return None;
            }
            if spaces < indent || spaces == rest.len() {
                break;
            }
            // A text line: the first `indent` spaces are indentation.
            let content = self.pos + indent;
            first_text.get_or_insert(content);
            let trailing_blank = matches!(self.peek_at(content), Some(b' ' | b'\t'));
            if !literal && leading_break && !leading_blank && !trailing_blank {
                if trailing_breaks == 0 {
                    text.push(' ');
                }
            } else if leading_break {
                text.push('\n');
            }
            text.extend(std::iter::repeat_n('\n', trailing_breaks));
            trailing_breaks = 0;
            leading_blank = trailing_blank;
            let end = self.line_end(content);
            text.push_str(&self.text[content..end]);
            if end == self.bytes.len() {
                self.pos = end;
                leading_break = false;
                break;
            }
            self.pos = end + 1;
            leading_break = true;
            // Empty lines (up to `indent` spaces) after the text line.
            loop {
                let rest = &self.bytes[self.pos..];
                let spaces = rest.iter().take(indent).take_while(|&&b| b == b' ').count();
                match rest.get(spaces) {
                    Some(b'\n') => {
                        trailing_breaks += 1;
                        self.pos += spaces + 1;
                    }
                    Some(b'\t') if spaces < indent => return None,
                    _ => break,
                }
            }
        }
        if chomping != -1 && leading_break {
            text.push('\n');
        }
        if chomping == 1 {
            text.extend(std::iter::repeat_n('\n', trailing_breaks));
        }
        // An empty block scalar is left to libyaml, which places it
        // differently at the end of a stream.
        Some((text, first_text?))
    }

    /// Parses a flow collection or flow scalar that ends before
    /// `line_end`; a flow collection over several lines is left to
    /// libyaml.
    fn flow_node(&mut self, line_end: usize) -> Option<()> {
        let start = self.pos;
        match self.peek()? {
            open @ (b'[' | b'{') => {
                self.enter()?;
                let mapping = open == b'{';
                let close = if mapping { b'}' } else { b']' };
                let node = self.push(
                    if mapping {
                        Kind::Mapping
                    } else {
                        Kind::Sequence
                    },
                    start,
                );
                self.pos += 1;
                self.skip_flow_spaces();
                let mut entries = 0;
                if self.peek() == Some(close) {
                    self.pos += 1;
                } else {
                    loop {
                        if mapping {
                            self.flow_scalar(line_end, true)?;
                            if self.peek() != Some(b':') || self.peek_at(self.pos + 1) != Some(b' ')
                            {
                                return None;
                            }
                            self.pos += 1;
                            self.skip_flow_spaces();
                        }
                        self.flow_node(line_end)?;
                        entries += 1;
                        self.skip_flow_spaces();
                        match self.peek()? {
                            b',' => {
                                self.pos += 1;
                                self.skip_flow_spaces();
                                if matches!(self.peek(), Some(b']' | b'}' | b',')) {
                                    return None;
                                }
                            }
                            byte if byte == close => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                if self.pos > line_end {
                    return None;
                }
                self.close(node, entries);
                self.depth -= 1;
                Some(())
            }
            _ => self.flow_scalar(line_end, false),
        }
    }

    fn skip_flow_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    /// Parses a quoted or plain scalar inside a flow collection, on one
    /// line. A key stops before its `:`.
    fn flow_scalar(&mut self, line_end: usize, key: bool) -> Option<()> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'"' | b'\'')) {
            let text = self.quoted_text(-1)?;
            if self.pos > line_end {
                return None;
            }
            self.scalar(Style::Quoted, text, start);
            return Some(());
        }
        let plain_start = match self.peek()? {
            b'-' | b'?' | b':' => !matches!(
                self.peek_at(self.pos + 1),
                None | Some(b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
            ),
            byte => !INDICATORS.contains(&byte),
        };
        if !plain_start {
            return None;
        }
        let mut end = self.pos;
        while end < line_end {
            match self.bytes[end] {
                b',' | b'[' | b']' | b'{' | b'}' | b'\t' => break,
                b':' if matches!(
                    self.peek_at(end + 1),
                    None | Some(b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
                ) =>
                {
                    break;
                }
                b'#' if self.bytes[end - 1] == b' ' => return None,
                _ => end += 1,
            }
        }
        if end >= line_end || self.bytes[end] == b'\t' {
            return None;
        }
        let text = self.text[start..end].trim_end_matches(' ');
        if key && text.len() > MAX_KEY_BYTES {
            return None;
        }
        self.pos = end;
        self.scalar(Style::Plain, Cow::Borrowed(text), start);
        Some(())
    }
}

impl<'a> Parser<'a> {
    fn skip_json_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n')) {
            self.pos += 1;
        }
    }

    fn json_value(&mut self) -> Option<()> {
        let start = self.pos;
        match self.peek()? {
            b'{' | b'[' => {
                self.enter()?;
                let object = self.peek() == Some(b'{');
                let close = if object { b'}' } else { b']' };
                let node = self.push(
                    if object {
                        Kind::Mapping
                    } else {
                        Kind::Sequence
                    },
                    start,
                );
                self.pos += 1;
                self.skip_json_whitespace();
                let mut entries = 0;
                if self.peek() == Some(close) {
                    self.pos += 1;
                } else {
                    loop {
                        if object {
                            let key_start = self.pos;
                            let key = self.json_string()?;
                            self.scalar(Style::Quoted, key, key_start);
                            self.skip_json_whitespace();
                            if self.peek() != Some(b':') {
                                return None;
                            }
                            self.pos += 1;
                            self.skip_json_whitespace();
                        }
                        self.json_value()?;
                        entries += 1;
                        self.skip_json_whitespace();
                        match self.peek()? {
                            b',' => {
                                self.pos += 1;
                                self.skip_json_whitespace();
                            }
                            byte if byte == close => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.close(node, entries);
                self.depth -= 1;
                Some(())
            }
            b'"' => {
                let text = self.json_string()?;
                self.scalar(Style::Quoted, text, start);
                Some(())
            }
            _ => {
                let length = self.bytes[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                    .count();
                let token = &self.text[start..start + length];
                if !matches!(token, "true" | "false" | "null") && !is_json_number(token) {
                    return None;
                }
                self.pos += length;
                self.scalar(Style::Plain, Cow::Borrowed(token), start);
                Some(())
            }
        }
    }

    /// Reads a JSON string at `pos`: no raw line break, JSON's escapes
    /// only, and no unpaired surrogate (which YAML rejects).
    fn json_string(&mut self) -> Option<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos + 1;
        let end = start + memchr::memchr3(b'"', b'\\', b'\n', &self.bytes[start..])?;
        if self.bytes[end] == b'"' {
            self.pos = end + 1;
            return Some(Cow::Borrowed(&self.text[start..end]));
        }
        let mut text = String::from(&self.text[start..end]);
        self.pos = end;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(Cow::Owned(text));
                }
                b'\n' => return None,
                b'\\' => {
                    let escaped = match self.peek_at(self.pos + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex = self.text.get(self.pos + 2..self.pos + 6)?;
                            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return None;
                            }
                            self.pos += 4;
                            char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                        }
                        _ => return None,
                    };
                    text.push(escaped);
                    self.pos += 2;
                }
                _ => {
                    let next =
                        self.pos + memchr::memchr3(b'"', b'\\', b'\n', &self.bytes[self.pos..])?;
                    text.push_str(&self.text[self.pos..next]);
                    self.pos = next;
                }
            }
        }
    }
}

/// Returns whether a token is a JSON number that both readers give the same
/// value: integers of up to 18 digits (a larger one is a float for
/// serde_json but a 128-bit integer for yaml_serde) or a fraction or
/// exponent form.
fn is_json_number(token: &str) -> bool {
    let digits = token.strip_prefix('-').unwrap_or(token);
    let (integer, rest) = digits.split_at(
        digits
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(digits.len()),
    );
    if integer.is_empty() || (integer.len() > 1 && integer.starts_with('0')) {
        return false;
    }
    if rest.is_empty() {
        return integer.len() <= 18;
    }
    let (fraction, exponent) = match rest.strip_prefix('.') {
        Some(after) => {
            let end = after
                .bytes()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(after.len());
            if end == 0 {
                return false;
            }
            (true, &after[end..])
        }
        None => (false, rest),
    };
    match exponent.strip_prefix(['e', 'E']) {
        Some(power) => {
            let power = power.strip_prefix(['+', '-']).unwrap_or(power);
            !power.is_empty() && power.bytes().all(|b| b.is_ascii_digit())
        }
        None => fraction && exponent.is_empty(),
    }
}

impl<'a> Document<'a> {
    pub fn root(&self) -> usize {
        0
    }

    /// Returns the node an alias names, or the node itself.
    pub fn resolve(&self, node: usize) -> usize {
        match self.nodes[node].kind {
            Kind::Alias(target) => target,
            _ => node,
        }
    }

    /// Returns a node's kind, an alias's target's for an alias.
    pub fn kind(&self, node: usize) -> &Kind<'a> {
        &self.nodes[self.resolve(node)].kind
    }

    /// Returns the key and value nodes of a mapping's entries.
    pub fn entries(&self, node: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let node = self.resolve(node);
        let count = match self.nodes[node].kind {
            Kind::Mapping => self.nodes[node].len as usize,
            _ => 0,
        };
        let mut next = node + 1;
        (0..count).map(move |_| {
            let key = next;
            let value = key + 1;
            next = self.nodes[value].end as usize;
            (key, value)
        })
    }

    /// Returns the element nodes of a sequence.
    pub fn elements(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        let node = self.resolve(node);
        let count = match self.nodes[node].kind {
            Kind::Sequence => self.nodes[node].len as usize,
            _ => 0,
        };
        let mut next = node + 1;
        (0..count).map(move |_| {
            let element = next;
            next = self.nodes[element].end as usize;
            element
        })
    }

    /// Returns the text of a scalar node.
    pub fn scalar(&self, node: usize) -> Option<(Style, &str)> {
        match self.kind(node) {
            Kind::Scalar(style, text) => Some((*style, text)),
            _ => None,
        }
    }

    /// Returns the first entry of a mapping whose key is `key`, as the key
    /// and value nodes.
    pub fn entry(&self, mapping: usize, key: &str) -> Option<(usize, usize)> {
        self.entries(mapping)
            .find(|&(k, _)| self.scalar(k).is_some_and(|(_, text)| text == key))
    }

    /// Returns the string a mapping holds under `key`, as yaml_serde reads
    /// it into a `serde_json::Value`: `None` when the key is missing or the
    /// value is not a string (a plain `1`, `true` or `null`).
    pub fn string_at(&self, mapping: usize, key: &str) -> Option<&str> {
        let (_, value) = self.entry(mapping, key)?;
        match self.scalar(value)? {
            (Style::Quoted, text) => Some(text),
            (Style::Plain, text) => (resolve_plain(text) == Resolved::String).then_some(text),
        }
    }

    /// Returns the 1-based line and column (in characters) of a node.
    pub fn position(&self, node: usize) -> (usize, usize) {
        let line_starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1))
                .collect()
        });
        let offset = self.nodes[node].start;
        let line = line_starts.partition_point(|&start| start <= offset);
        let column = self.text[line_starts[line - 1]..offset].chars().count() + 1;
        (line, column)
    }

    /// Deserializes a node as yaml_serde would deserialize the same text.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self, node: usize) -> Result<T, Error> {
        let jumps = Cell::new(0);
        T::deserialize(NodeDeserializer::new(self, node, &jumps)?)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    Null,
    Bool,
    Int,
    Float,
    String,
}

/// How yaml_serde resolves an untagged plain scalar when the target type
/// accepts anything (its `deserialize_any`).
fn resolve_plain(text: &str) -> Resolved {
    if text.is_empty() || is_null(text) {
        Resolved::Null
    } else if parse_bool(text).is_some() {
        Resolved::Bool
    } else if parse_unsigned::<u128>(text).is_some() || parse_signed::<i128>(text).is_some() {
        Resolved::Int
    } else if !leading_zero_digits(text) && parse_float(text).is_some() {
        Resolved::Float
    } else {
        Resolved::String
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Digits with a leading zero, such as `0755`, are strings in YAML 1.2.
fn leading_zero_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

trait Integer: Sized {
    fn from_radix(text: &str, radix: u32) -> Option<Self>;
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl Integer for $t {
            fn from_radix(text: &str, radix: u32) -> Option<Self> {
                <$t>::from_str_radix(text, radix).ok()
            }
        }
    )*};
}
integer!(u64, i64, u128, i128);

/// Splits a `0x`, `0o` or `0b` prefix off an integer's digits.
fn radix_of(text: &str) -> Option<(u32, &str)> {
    [("0x", 16), ("0o", 8), ("0b", 2)]
        .into_iter()
        .find_map(|(prefix, radix)| text.strip_prefix(prefix).map(|rest| (radix, rest)))
        .filter(|(_, rest)| !rest.starts_with(['+', '-']))
}

/// An unsigned integer as yaml_serde reads one: an optional `+`, then
/// decimal digits (no leading zero) or a `0x`/`0o`/`0b` number.
fn parse_unsigned<T: Integer>(text: &str) -> Option<T> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if let Some((radix, rest)) = radix_of(digits)
        && let Some(value) = T::from_radix(rest, radix)
    {
        return Some(value);
    }
    if digits.starts_with(['+', '-']) || leading_zero_digits(text) {
        return None;
    }
    T::from_radix(digits, 10)
}

/// A signed integer as yaml_serde reads one: [`parse_unsigned`]'s forms,
/// or a `-` before them.
fn parse_signed<T: Integer>(text: &str) -> Option<T> {
    let digits = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    if let Some((radix, rest)) = radix_of(digits)
        && let Some(value) = T::from_radix(rest, radix)
    {
        return Some(value);
    }
    if let Some(negative) = text.strip_prefix('-')
        && let Some((radix, rest)) = radix_of(negative)
        && let Some(value) = T::from_radix(&format!("-{rest}"), radix)
    {
        return Some(value);
    }
    if leading_zero_digits(text) {
        return None;
    }
    T::from_radix(digits, 10)
}

fn parse_float(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    match text {
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    unsigned
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
}

/// A deserialization error. Its wording does not matter: on any error the
/// document is read again with libyaml, which reports it.
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

#[derive(Clone, Copy)]
struct NodeDeserializer<'d, 'a> {
    document: &'d Document<'a>,
    /// Never an alias.
    node: usize,
    /// Aliases followed so far in this document.
    jumps: &'d Cell<usize>,
}

impl<'d, 'a> NodeDeserializer<'d, 'a> {
    /// Follows an alias. yaml_serde stops after 100 jumps per event of
    /// the document; this stops after 100 per node, which is never later.
    fn new(document: &'d Document<'a>, node: usize, jumps: &'d Cell<usize>) -> Result<Self, Error> {
        let resolved = document.resolve(node);
        if resolved != node {
            jumps.set(jumps.get() + 1);
            if jumps.get() > document.nodes.len() * 100 {
                return Err(de::Error::custom("too many aliases followed"));
            }
        }
        Ok(NodeDeserializer {
            document,
            node: resolved,
            jumps,
        })
    }

    fn kind(&self) -> &'d Kind<'a> {
        &self.document.nodes[self.node].kind
    }

    fn plain(&self) -> Option<&'d str> {
        match self.kind() {
            Kind::Scalar(Style::Plain, text) => Some(text),
            _ => None,
        }
    }

    fn is_plain_empty(&self) -> bool {
        self.plain() == Some("")
    }

    fn invalid<V: de::Expected>(&self, expected: &V) -> Error {
        let unexpected = match self.kind() {
            Kind::Scalar(_, text) => de::Unexpected::Str(text),
            Kind::Mapping => de::Unexpected::Map,
            Kind::Sequence => de::Unexpected::Seq,
            Kind::Alias(_) => de::Unexpected::Other("alias"),
        };
        de::Error::invalid_type(unexpected, expected)
    }

    /// Visits a collection's children, or none for a plain empty scalar
    /// (a key without a value), as yaml_serde does.
    fn children(&self) -> Children<'d, 'a> {
        let remaining = match self.kind() {
            Kind::Mapping | Kind::Sequence => self.document.nodes[self.node].len as usize,
            Kind::Scalar(..) | Kind::Alias(_) => 0,
        };
        Children {
            document: self.document,
            next: self.node + 1,
            remaining,
            value: None,
            jumps: self.jumps,
        }
    }

    fn map<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(self.children())
    }

    fn seq<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(self.children())
    }
}

macro_rules! forward_integer {
    ($($method:ident => $target:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.$target(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            Kind::Mapping => self.map(visitor),
            Kind::Sequence => self.seq(visitor),
            Kind::Alias(_) => Err(self.invalid(&visitor)),
            Kind::Scalar(Style::Quoted, text) => visitor.visit_str(text),
            Kind::Scalar(Style::Plain, text) => match resolve_plain(text) {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool => visitor.visit_bool(parse_bool(text) == Some(true)),
                Resolved::Int => {
                    if let Some(value) = parse_unsigned::<u64>(text) {
                        visitor.visit_u64(value)
                    } else if let Some(value) = text
                        .starts_with('-')
                        .then(|| parse_signed::<i64>(text))
                        .flatten()
                    {
                        visitor.visit_i64(value)
                    } else if let Some(value) = parse_unsigned::<u128>(text) {
                        visitor.visit_u128(value)
                    } else {
                        match parse_signed::<i128>(text) {
                            Some(value) => visitor.visit_i128(value),
                            None => Err(self.invalid(&visitor)),
                        }
                    }
                }
                Resolved::Float => match parse_float(text) {
                    Some(value) => visitor.visit_f64(value),
                    None => Err(self.invalid(&visitor)),
                },
                Resolved::String => visitor.visit_str(text),
            },
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain().and_then(parse_bool) {
            Some(value) => visitor.visit_bool(value),
            None => Err(self.invalid(&visitor)),
        }
    }

    forward_integer!(
        deserialize_i8 => deserialize_i64,
        deserialize_i16 => deserialize_i64,
        deserialize_i32 => deserialize_i64,
        deserialize_u8 => deserialize_u64,
        deserialize_u16 => deserialize_u64,
        deserialize_u32 => deserialize_u64,
        deserialize_f32 => deserialize_f64
    );

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain().and_then(parse_signed::<i64>) {
            Some(value) => visitor.visit_i64(value),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain().and_then(parse_signed::<i128>) {
            Some(value) => visitor.visit_i128(value),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain().and_then(parse_unsigned::<u64>) {
            Some(value) => visitor.visit_u64(value),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain().and_then(parse_unsigned::<u128>) {
            Some(value) => visitor.visit_u128(value),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain().and_then(parse_float) {
            Some(value) => visitor.visit_f64(value),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            // A JSON number or boolean is not a string, as for serde_json.
            Kind::Scalar(Style::Plain, _) if self.document.json => Err(self.invalid(&visitor)),
            Kind::Scalar(_, text) => visitor.visit_str(text),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("bytes are not supported"))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("bytes are not supported"))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain() {
            Some(text) if text.is_empty() || is_null(text) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.plain() {
            Some(text) if text.is_empty() || is_null(text) => visitor.visit_unit(),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            Kind::Sequence => self.seq(visitor),
            _ if self.is_plain_empty() => self.seq(visitor),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            Kind::Mapping => self.map(visitor),
            _ if self.is_plain_empty() => self.map(visitor),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.kind() {
            Kind::Scalar(_, text) => visitor.visit_enum(de::value::StrDeserializer::new(text)),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

/// The children of a mapping (as entries) or a sequence (as elements).
struct Children<'d, 'a> {
    document: &'d Document<'a>,
    next: usize,
    remaining: usize,
    value: Option<usize>,
    jumps: &'d Cell<usize>,
}

impl<'d, 'a> Children<'d, 'a> {
    fn deserializer(&self, node: usize) -> Result<NodeDeserializer<'d, 'a>, Error> {
        NodeDeserializer::new(self.document, node, self.jumps)
    }
}

impl<'de> de::MapAccess<'de> for Children<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let key = self.next;
        self.value = Some(key + 1);
        self.next = self.document.nodes[key + 1].end as usize;
        seed.deserialize(self.deserializer(key)?).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let node = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("value without a key"))?;
        seed.deserialize(self.deserializer(node)?)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}

impl<'de> de::SeqAccess<'de> for Children<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let node = self.next;
        self.next = self.document.nodes[node].end as usize;
        seed.deserialize(self.deserializer(node)?).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}
