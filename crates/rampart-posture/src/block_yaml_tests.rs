//! The block-YAML reader against libyaml (through yaml_serde) and the
//! event-parser locator: whenever the reader accepts a document, the value,
//! the typed objects and every node's position must equal theirs.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::ClusterRole;
use proptest::prelude::*;
use serde_json::Value;

use crate::block_yaml::{self, Document, Kind};
use crate::locate::{FieldQuery, locate_in_stream, locate_in_tree};
use crate::manifest::split_documents;

#[derive(Debug, Default)]
struct Tally {
    documents: usize,
    read: usize,
}

/// Checks every document of a stream; see the module comment.
fn differential(text: &str, tally: &mut Tally) {
    for chunk in split_documents(text) {
        tally.documents += 1;
        let Some(document) = block_yaml::parse(chunk.text) else {
            continue;
        };
        tally.read += 1;
        let expected: Value = yaml_serde::from_str(chunk.text).unwrap_or_else(|error| {
            panic!(
                "the reader accepted invalid YAML ({error}):\n{}",
                chunk.text
            )
        });
        let read: Value = document.deserialize(document.root()).unwrap();
        assert_eq!(read, expected, "different values for:\n{}", chunk.text);
        typed_equal::<Pod>(&document, chunk.text);
        typed_equal::<Deployment>(&document, chunk.text);
        typed_equal::<CronJob>(&document, chunk.text);
        typed_equal::<ServiceAccount>(&document, chunk.text);
        typed_equal::<NetworkPolicy>(&document, chunk.text);
        typed_equal::<ClusterRole>(&document, chunk.text);
        positions_equal(&document, chunk.text);
        json_differential(&serde_json::to_string_pretty(&expected).unwrap());
        json_differential(&serde_json::to_string(&expected).unwrap());
    }
}

/// Checks the JSON reader on one document against serde_json (values and
/// strict typed objects) and the event parser (positions).
fn json_differential(text: &str) {
    let Some(document) = block_yaml::parse_json(text) else {
        // Only JSON the reader cannot take exactly is left to the slow path.
        let value: Result<Value, _> = serde_json::from_str(text);
        if let Ok(value) = value {
            assert!(
                !value.is_object() || text.contains(['\t', '\r']) || has_wide_number(&value),
                "JSON not read:\n{text}"
            );
        }
        return;
    };
    let expected: Value = serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("the JSON reader accepted invalid JSON ({error}):\n{text}"));
    let read: Value = document.deserialize(document.root()).unwrap();
    assert_eq!(read, expected, "different JSON values for:\n{text}");
    json_typed_equal::<Pod>(&document, text);
    json_typed_equal::<Deployment>(&document, text);
    json_typed_equal::<CronJob>(&document, text);
    json_typed_equal::<ClusterRole>(&document, text);
    let mut paths = vec![String::new()];
    collect_paths(&document, document.root(), String::new(), &mut paths);
    for path in &paths {
        let query = FieldQuery {
            document: 1,
            item: None,
            field: (!path.is_empty()).then_some(path.as_str()),
        };
        if let Some(expected) = locate_in_stream(text, &[query])[0] {
            let found = locate_in_tree(&document, &query);
            assert_eq!(
                found,
                Some(expected),
                "different positions of `{path}` in:\n{text}"
            );
        }
    }
}

/// Integers of more than 18 digits are left to the slow path.
fn has_wide_number(value: &Value) -> bool {
    match value {
        Value::Number(number) => number.to_string().trim_start_matches('-').len() > 18,
        Value::Array(items) => items.iter().any(has_wide_number),
        Value::Object(fields) => fields.values().any(has_wide_number),
        _ => false,
    }
}

fn json_typed_equal<T>(document: &Document<'_>, text: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let Ok(read) = document.deserialize::<T>(document.root()) else {
        return;
    };
    let expected: T = serde_json::from_str(text).unwrap_or_else(|error| {
        panic!(
            "the JSON reader read a {} that serde_json rejects ({error}):\n{text}",
            std::any::type_name::<T>()
        )
    });
    assert_eq!(
        serde_json::to_value(read).unwrap(),
        serde_json::to_value(expected).unwrap(),
        "different {} for:\n{text}",
        std::any::type_name::<T>()
    );
}

/// Whenever the reader deserializes a type, yaml_serde gives the same
/// object.
fn typed_equal<T>(document: &Document<'_>, text: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let Ok(read) = document.deserialize::<T>(document.root()) else {
        return;
    };
    let expected: T = yaml_serde::from_str(text).unwrap_or_else(|error| {
        panic!(
            "the reader read a {} that yaml_serde rejects ({error}):\n{text}",
            std::any::type_name::<T>()
        )
    });
    assert_eq!(
        serde_json::to_value(read).unwrap(),
        serde_json::to_value(expected).unwrap(),
        "different {} for:\n{text}",
        std::any::type_name::<T>()
    );
}

/// Every node's field path is located at the same place by both readers.
fn positions_equal(document: &Document<'_>, text: &str) {
    let mut paths = vec![String::new()];
    collect_paths(document, document.root(), String::new(), &mut paths);
    for path in &paths {
        let query = FieldQuery {
            document: 1,
            item: None,
            field: (!path.is_empty()).then_some(path.as_str()),
        };
        let expected = locate_in_stream(text, &[query])[0];
        let found = locate_in_tree(document, &query);
        assert_eq!(
            found, expected,
            "different positions of `{path}` in:\n{text}"
        );
    }
}

fn collect_paths(document: &Document<'_>, node: usize, prefix: String, paths: &mut Vec<String>) {
    match document.kind(node) {
        Kind::Mapping => {
            for (key, value) in document.entries(node) {
                let Some((_, key)) = document.scalar(key) else {
                    continue;
                };
                // Paths cannot name keys with brackets, quotes or nothing.
                if key.is_empty() || key.contains(['[', ']', '"', '\'']) {
                    continue;
                }
                let path = if key.contains('.') {
                    format!("{prefix}[{key}]")
                } else if prefix.is_empty() {
                    key.to_owned()
                } else {
                    format!("{prefix}.{key}")
                };
                paths.push(path.clone());
                collect_paths(document, value, path, paths);
            }
        }
        Kind::Sequence => {
            for (index, element) in document.elements(node).enumerate() {
                let path = format!("{prefix}[{index}]");
                paths.push(path.clone());
                collect_paths(document, element, path, paths);
            }
        }
        Kind::Scalar(..) | Kind::Alias(_) => {}
    }
}

fn yaml_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, files);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            files.push(path);
        }
    }
}

fn check_files(dirs: &[PathBuf]) -> Tally {
    let mut files = Vec::new();
    for dir in dirs {
        yaml_files(dir, &mut files);
    }
    files.sort();
    let mut tally = Tally::default();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        differential(&text, &mut tally);
    }
    tally
}

#[test]
fn committed_fixtures_read_as_libyaml_reads_them() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let tally = check_files(&[fixtures]);
    assert!(tally.documents > 500, "{tally:?}");
    // Most fixtures are block YAML, which the reader must take.
    assert!(tally.read * 10 > tally.documents * 8, "{tally:?}");
}

#[test]
fn corpus_manifests_read_as_libyaml_reads_them() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let tally = check_files(&[
        corpus.join("vectors/psa"),
        corpus.join("vectors/regolibrary"),
    ]);
    assert!(tally.documents > 3000, "{tally:?}");
    assert!(tally.read * 10 > tally.documents * 8, "{tally:?}");
}

/// Documents that Kubernetes tooling writes, each of which the reader must
/// take, in the styles it handles.
const ACCEPTED: &[&str] = &[
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n",
    "a:\n- b\n- c: d\n  e: f\n-\n  g: h\n-\n",
    "k: 'it''s'\nl: \"tab\\there \\u00e9 \\x41\"\nm: ''\n",
    "folded: >\n  one\n  two\n\n  three\n    indented\n  four\nnext: x\n",
    "literal: |-\n  a\n\n  b\n\nkeep: |+\n  c\n\nclip: |\n  d\n\n\ne: f\n",
    "plain: one\n  two\n\n  three\nq: \"x\n  y\\\n  z\n\n  w\"\n",
    "s: 'multi\n  line\n\n  single'\n",
    "flow: []\nmap: {}\nlist: [a, 'b c', \"d\", 1, true]\nnested: {a: [1, 2], b: {c: d}}\n",
    "n: ~\no: null\np:\nq: 0x1F\nr: 0755\ns: 1e3\nt: .inf\nu: -12\nv: +5\nw: yes\n",
    "# comment\nkey: value # trailing\n  # indented comment\nother: x#y\n",
    "url: http://example.invalid:8080/a?b=c\ntime: 12:30:00\nimage: nginx@sha256:abc\n",
    "args:\n- -c\n- --flag=1\n- ?x\n- :y\n",
    "\"quoted key\": 1\n'single key' : 2\nkey with spaces: 3\n",
    "empty_item:\n-\n- x\n",
    "root:\n    deep:\n        deeper: 1\n    back: 2\n",
    "unicode: \"caf\u{e9}\"\nplain: na\u{ef}ve\n",
    "probe: &p\n  path: /x\n  port: 80\nother: *p\nlist:\n- &s v\n- *s\n- &m\n  k: *s\n- *m\n",
];

#[test]
fn reader_accepts_common_styles() {
    for text in ACCEPTED {
        assert!(block_yaml::parse(text).is_some(), "not read:\n{text}");
        let mut tally = Tally::default();
        differential(text, &mut tally);
    }
}

/// Documents outside the subset: the reader must leave them to libyaml.
const REFUSED: &[&str] = &[
    "a: &x\n  b: *x\n",
    "a: *undefined\n",
    "- &a key: value\n",
    "&a \n&a 1",
    "a: &x\n  *y\n",
    "a: !!str 1\n",
    "<<: {a: 1}\n",
    "? complex\n: key\n",
    "a:\n\t- b\n",
    "a: b: c\n",
    "a: [1,\n  2]\n",
    "a: |2\n   x\n",
    "a: b\n c: d\n",
    "a:\n  - b\n  c: d\n",
    "a: \"unterminated\n",
    "a: 'x' y\n",
    "a: x\r\nb: y\r\n",
    "a: \"\\q\"\n",
    "- a\nb: c\n",
];

#[test]
fn reader_leaves_unsupported_yaml_to_libyaml() {
    for text in REFUSED {
        assert!(block_yaml::parse(text).is_none(), "read:\n{text}");
    }
}

/// Builds YAML from lines of tricky pieces; many results are invalid,
/// which is the point: the reader must never accept what libyaml rejects
/// or read a value differently.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("key".to_owned()),
        Just(":".to_owned()),
        Just(": ".to_owned()),
        Just("- ".to_owned()),
        Just("-".to_owned()),
        Just(" ".to_owned()),
        Just("  ".to_owned()),
        Just("\n".to_owned()),
        Just("#".to_owned()),
        Just(" #c".to_owned()),
        Just("'".to_owned()),
        Just("''".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\\n".to_owned()),
        Just("|".to_owned()),
        Just("|-".to_owned()),
        Just(">".to_owned()),
        Just(">+".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just(", ".to_owned()),
        Just("1".to_owned()),
        Just("0x10".to_owned()),
        Just("007".to_owned()),
        Just("true".to_owned()),
        Just("~".to_owned()),
        Just("1.5".to_owned()),
        Just("\u{e9}".to_owned()),
        Just("\t".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        "[a-z]{1,3}".prop_map(|s| s),
    ]
}

fn mangled_document() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 1..40).prop_map(|pieces| pieces.concat())
}

/// Well-formed documents in varied styles, so that the accepted cases are
/// plentiful too.
fn styled_document() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        "[a-z][a-z0-9 .:/-]{0,12}".prop_map(|s| s.trim_end().to_owned()),
        "[a-z ]{0,8}".prop_map(|s| format!("'{s}'")),
        "[a-z ]{0,8}".prop_map(|s| format!("\"{s}\\t\"")),
        "[a-z]{1,5}( [a-z]{1,5}){0,3}".prop_map(|s| format!("|\n{}\n", indent_lines(&s))),
        "[a-z]{1,5}( [a-z]{1,5}){0,3}".prop_map(|s| format!(">-\n{}\n", indent_lines(&s))),
        Just("[a, b]".to_owned()),
        Just("{}".to_owned()),
        Just("12".to_owned()),
        Just("".to_owned()),
    ];
    prop::collection::vec(("[a-z]{1,6}", scalar, 0usize..3), 1..12).prop_map(|entries| {
        let mut text = String::new();
        for (key, value, shape) in entries {
            let value = value.replace("\n  ", "\n      ");
            match shape {
                0 => text.push_str(&format!("{key}: {value}\n")),
                1 => text.push_str(&format!("{key}:\n- {value}\n- x\n")),
                _ => text.push_str(&format!("{key}:\n  inner: {value}\n  other: 1\n")),
            }
        }
        text.replace("\n\n", "\n")
    })
}

fn indent_lines(text: &str) -> String {
    text.split(' ')
        .map(|word| format!("  {word}"))
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn mangled_yaml_is_never_misread(text in mangled_document()) {
        let mut tally = Tally::default();
        differential(&text, &mut tally);
    }

    #[test]
    fn styled_yaml_is_read_as_libyaml_reads_it(text in styled_document()) {
        let mut tally = Tally::default();
        differential(&text, &mut tally);
    }
}

/// The line-by-line splitter that `split_documents` replaced: it visits
/// every line, which is easy to check by eye.
fn split_by_lines(text: &str) -> Vec<(usize, usize, usize, &str)> {
    let has_content = |body: &str| {
        body.lines().any(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#') && !line.starts_with('%')
        })
    };
    let is_marker = |line: &str, marker: &str| {
        line.strip_prefix(marker)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    };
    let mut documents = Vec::new();
    let (mut start, mut start_line, mut explicit, mut column, mut offset) = (0, 1, false, 0, 0);
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = if is_marker(bare, "---") {
            Some(true)
        } else if is_marker(bare, "...") {
            Some(false)
        } else {
            None
        };
        if let Some(starts) = marker {
            let body = &text[start..offset];
            if explicit || has_content(body) {
                documents.push((documents.len() + 1, start_line, column, body));
            }
            start = offset + if starts { 3 } else { line.len() }.min(line.len());
            start_line = if starts { index + 1 } else { index + 2 };
            column = if starts { 3 } else { 0 };
            explicit = starts;
        }
        offset += line.len();
    }
    let body = &text[start..];
    if explicit || has_content(body) {
        documents.push((documents.len() + 1, start_line, column, body));
    }
    documents
}

fn stream_line() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("---\n"),
        Just("--- a: b\n"),
        Just("---\t\n"),
        Just("---x\n"),
        Just(" ---\n"),
        Just("...\n"),
        Just("... #c\n"),
        Just("....\n"),
        Just("a: 1\n"),
        Just("\n"),
        Just("# c\n"),
        Just("%YAML 1.2\n"),
        Just("---\r\n"),
        Just("---"),
        Just("..."),
    ]
}

fn json_piece() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just(","),
        Just(":"),
        Just(" "),
        Just("\n"),
        Just("\"a\""),
        Just("\"k\": "),
        Just("\"\\n\\u00e9\\\"\""),
        Just("\"\\ud800\""),
        Just("1"),
        Just("-0"),
        Just("1.5e3"),
        Just("01"),
        Just("1234567890123456789012"),
        Just("true"),
        Just("null"),
        Just("nul"),
    ]
}

proptest! {
    #[test]
    fn mangled_json_is_never_misread(pieces in prop::collection::vec(json_piece(), 1..30)) {
        let text = format!("{{{}", pieces.concat());
        if let Some(document) = block_yaml::parse_json(&text) {
            let expected: Value = serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("accepted invalid JSON ({error}):\n{text}"));
            let read: Value = document.deserialize(document.root()).unwrap();
            prop_assert_eq!(read, expected);
        }
    }

    #[test]
    fn documents_split_as_line_by_line(lines in prop::collection::vec(stream_line(), 0..20)) {
        let text = lines.concat();
        let split: Vec<_> = split_documents(&text)
            .into_iter()
            .map(|d| (d.number, d.first_line, d.first_column_offset, d.text))
            .collect();
        prop_assert_eq!(split, split_by_lines(&text));
    }
}
