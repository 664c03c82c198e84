//! String escaping for the hand-written parts of the audit outputs.

/// Appends `value` as a JSON string, escaped as `serde_json` escapes it:
/// `"` and `\`, the short forms `\b`, `\f`, `\n`, `\r` and `\t`, and
/// `\u00XX` with lowercase hex digits for the other C0 controls. Every
/// other character is written as it is.
pub(crate) fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    if needs_json_escape(value) {
        push_escaped(out, value);
    } else {
        out.push_str(value);
    }
    out.push('"');
}

/// Returns whether any byte of `value` needs an escape. The loop does not
/// stop early, so that the compiler can check many bytes per instruction.
fn needs_json_escape(value: &str) -> bool {
    value.bytes().fold(false, |found, byte| {
        found | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    })
}

fn push_escaped(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (index, byte) in value.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every escaped byte is ASCII, so `index` is a character boundary.
        out.push_str(&value[start..index]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(short);
        }
        start = index + 1;
    }
    out.push_str(&value[start..]);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn json_string(value: &str) -> String {
        let mut out = String::new();
        push_json_string(&mut out, value);
        out
    }

    #[test]
    fn json_escapes_match_serde_for_ascii() {
        for code in 0..=0x7f_u8 {
            let value = format!("a{}b", char::from(code));
            let expected = serde_json::to_string(&value).unwrap();
            assert_eq!(json_string(&value), expected, "byte {code:#04x}");
        }
    }

    #[test]
    fn json_leaves_unicode_as_is() {
        let value = "é\u{2028}\u{feff}😀";
        assert_eq!(json_string(value), format!("\"{value}\""));
        assert_eq!(json_string(""), "\"\"");
    }

    proptest! {
        #[test]
        fn json_escapes_match_serde(value in "\\PC*|[\\x00-\\x7f]{0,40}") {
            prop_assert_eq!(json_string(&value), serde_json::to_string(&value).unwrap());
        }
    }
}
