//! Building the messages and field paths of findings.
//!
//! An audit writes hundreds of thousands of them. On the 50,000-object set
//! of `benches/k8s_gen.py`, `format!` took a fifth of the audit's time, so
//! the most frequent ones are assembled from their parts with these
//! helpers, which write the same text as `format!` does.

use std::fmt::Write as _;

/// Appends `text` in double quotes, escaped as `format!("{text:?}")`
/// writes it.
pub(crate) fn push_quoted(out: &mut String, text: &str) {
    // Printable ASCII other than `"` and `\` is written as it is.
    let plain = text
        .bytes()
        .all(|byte| (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\');
    if plain {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        let _ = write!(out, "{text:?}");
    }
}

/// Returns `prefix`, then `name` as [`push_quoted`] writes it, then
/// `parts`.
pub(crate) fn quoted_message(prefix: &str, name: &str, parts: &[&str]) -> String {
    let length = prefix.len() + name.len() + 2 + parts.iter().map(|part| part.len()).sum::<usize>();
    let mut message = String::with_capacity(length);
    message.push_str(prefix);
    push_quoted(&mut message, name);
    for part in parts {
        message.push_str(part);
    }
    message
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn quoted(text: &str) -> String {
        let mut out = String::new();
        push_quoted(&mut out, text);
        out
    }

    #[test]
    fn quoted_matches_debug_for_ascii() {
        for code in 0..=0x7f_u8 {
            let text = format!("a{}b", char::from(code));
            assert_eq!(quoted(&text), format!("{text:?}"), "byte {code:#04x}");
        }
    }

    #[test]
    fn quoted_message_joins_parts() {
        let message = quoted_message("container ", "app", &[" adds ", "NET_RAW"]);
        assert_eq!(message, "container \"app\" adds NET_RAW");
        let escaped = quoted_message("pod ", "a\"b\u{301}", &[]);
        assert_eq!(escaped, format!("pod {:?}", "a\"b\u{301}"));
    }

    proptest! {
        #[test]
        fn quoted_matches_debug(text in "\\PC*|[\\x00-\\x7f]{0,30}|\\p{M}{1,3}[a-z]{0,5}") {
            prop_assert_eq!(quoted(&text), format!("{text:?}"));
        }
    }
}
