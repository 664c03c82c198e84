//! A block-style YAML writer for JSON values, for the PolicyReport output.
//! Mapping keys come out sorted, as `serde_json::Map` stores them.
//!
//! Strings are written plain only when no YAML 1.1 or 1.2 reader can take
//! them for anything else (a number, a boolean, null, an indicator). Every
//! other string is double-quoted, with the escapes that JSON and YAML
//! share. kubectl reads YAML 1.1, where `yes`, `on` and `y` are booleans,
//! so those are quoted too.

use serde_json::Value;

/// Writes `value` as one YAML document body, ending with a newline.
pub(super) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_mapping(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_sequence(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// Writes the entries of `map` at `indent` spaces. With `continued`, the
/// first entry continues a line that already contains a `- ` indicator.
fn write_mapping(
    out: &mut String,
    map: &serde_json::Map<String, Value>,
    indent: usize,
    continued: bool,
) {
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 || !continued {
            push_indent(out, indent);
        }
        out.push_str(&string(key));
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_mapping(out, inner, indent + 2, false);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_sequence(out, items, indent);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

/// Writes the items of a sequence, each starting with `- ` at `indent`
/// spaces, as kubectl writes them under a mapping key.
fn write_sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        push_indent(out, indent);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_mapping(out, map, indent + 2, true);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_sequence(out, inner, indent + 2);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Returns a scalar or an empty collection on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::String(text) => string(text),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

/// Returns `text` plain when that is safe, else double-quoted.
fn string(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else {
        quoted(text)
    }
}

/// Returns `text` as a double-quoted scalar. Besides `"`, `\` and the C0
/// controls, it escapes what YAML does not allow unescaped (DEL, the C1
/// controls, U+FFFE, U+FFFF) and what YAML 1.1 readers take as a line
/// break or a byte order mark (U+0085, U+2028, U+2029, U+FEFF).
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{20}'..='\u{7e}' => out.push(c),
            '\u{0}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Returns whether `text` reads back as the same string when written
/// plain: it starts with a letter, holds only letters, digits, `-`, `_`,
/// `.`, `/` and inner single spaces, and is no YAML 1.1 boolean or null.
fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if !first.is_ascii_alphabetic() || text.ends_with(' ') || text.contains("  ") {
        return false;
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ' ');
    if !text.chars().all(allowed) {
        return false;
    }
    const RESERVED: [&str; 9] = ["y", "yes", "n", "no", "true", "false", "on", "off", "null"];
    !RESERVED
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn plain_and_quoted_strings() {
        assert_eq!(string("PolicyReport"), "PolicyReport");
        assert_eq!(string("wgpolicyk8s.io/v1alpha2"), "wgpolicyk8s.io/v1alpha2");
        assert_eq!(string("Escape to host"), "Escape to host");
        for quoted in [
            "", "yes", "No", "ON", "y", "null", "1.5", "5.2.2", "-x", " a", "a ", "a: b", "a #b",
            "*alias", "&anchor", "!tag", "a  b", "é",
        ] {
            assert!(string(quoted).starts_with('"'), "{quoted:?} left plain");
        }
    }

    #[test]
    fn escapes_in_quoted_strings() {
        assert_eq!(quoted("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(
            quoted("\u{1}\u{7f}\u{85}\u{2028}\u{feff}"),
            "\"\\u0001\\u007f\\u0085\\u2028\\ufeff\""
        );
        assert_eq!(quoted("é😀"), "\"é😀\"");
    }

    #[test]
    fn nested_layout() {
        let value = json!({
            "kind": "PolicyReport",
            "metadata": {"name": "r", "labels": {}},
            "results": [
                {"policy": "p", "resources": [{"kind": "Pod"}], "scored": true},
                "text",
                [],
            ],
            "summary": {"pass": 3},
        });
        let expected = "\
kind: PolicyReport
metadata:
  labels: {}
  name: r
results:
- policy: p
  resources:
  - kind: Pod
  scored: true
- text
- []
summary:
  pass: 3
";
        assert_eq!(to_yaml(&value), expected);
    }

    fn value_strategy() -> impl Strategy<Value = Value> {
        let special = prop::sample::select(vec![
            "",
            " ",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "n",
            "~",
            "null",
            "true",
            "1.5",
            "0x1F",
            "1e3",
            ".inf",
            "- a",
            "a: b",
            "a #b",
            "#c",
            "'q'",
            "\"q\"",
            "a\nb",
            "  lead",
            "trail  ",
            "@at",
            "`tick",
            "%pct",
            "!bang",
            "&amp",
            "*star",
            "|",
            "> fold",
            "[",
            "{",
            "?",
            ":",
            "---",
            "...",
            "\u{7f}",
            "\u{85}",
            "\u{9f}",
            "\u{2028}",
            "\u{feff}",
            "tab\there",
            "\r\n",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
            special.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,6}|\\PC{0,6}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trip(value in value_strategy()) {
            let text = to_yaml(&value);
            let parsed: Value = serde_saphyr::from_str(&text)
                .map_err(|error| TestCaseError::fail(format!("{error}\n{text}")))?;
            prop_assert_eq!(parsed, value, "{}", text);
        }
    }
}
