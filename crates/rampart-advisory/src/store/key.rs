//! Order-preserving encoding of composite keys as byte strings, so every
//! backend stores plain `BLOB`/`&[u8]` keys and a prefix of components is a
//! byte prefix.
//!
//! Each component is written with `0x00` escaped as `0x00 0xFF` and ends
//! with `0x00 0x01`. Byte order of the encoded keys is then the
//! lexicographic order of the component tuples, and the encoding of one
//! component never is a prefix of the encoding of another.

/// Appends one component to an encoded key.
pub(crate) fn push(key: &mut Vec<u8>, component: &str) {
    for &byte in component.as_bytes() {
        key.push(byte);
        if byte == 0 {
            key.push(0xFF);
        }
    }
    key.extend_from_slice(&[0x00, 0x01]);
}

/// Encodes a tuple of components.
pub(crate) fn encode(components: &[&str]) -> Vec<u8> {
    let length = components.iter().map(|c| c.len() + 2).sum();
    let mut key = Vec::with_capacity(length);
    for component in components {
        push(&mut key, component);
    }
    key
}

/// Decodes an encoded key into its components; `None` when the bytes are
/// not an encoding made by [`encode`].
pub(crate) fn decode(mut key: &[u8]) -> Option<Vec<String>> {
    let mut components = Vec::new();
    while !key.is_empty() {
        let mut component = Vec::new();
        loop {
            match key {
                [0x00, 0x01, rest @ ..] => {
                    key = rest;
                    break;
                }
                [0x00, 0xFF, rest @ ..] => {
                    component.push(0x00);
                    key = rest;
                }
                [0x00, ..] | [] => return None,
                [byte, rest @ ..] => {
                    component.push(*byte);
                    key = rest;
                }
            }
        }
        components.push(String::from_utf8(component).ok()?);
    }
    Some(components)
}

/// Returns the smallest key greater than every key that starts with
/// `prefix`, the exclusive end of a prefix scan. `prefix` must be an
/// encoding made by [`encode`], which ends with `0x01`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_nul() {
        let key = encode(&["a\0b", "", "c"]);
        assert_eq!(
            decode(&key),
            Some(vec!["a\0b".to_owned(), String::new(), "c".to_owned()])
        );
    }

    #[test]
    fn order_follows_tuples() {
        let mut keys = [
            encode(&["ab", "x"]),
            encode(&["a", "zz"]),
            encode(&["a\0", "a"]),
            encode(&["a", "z"]),
        ];
        keys.sort();
        assert_eq!(keys[0], encode(&["a", "z"]));
        assert_eq!(keys[1], encode(&["a", "zz"]));
        assert_eq!(keys[2], encode(&["a\0", "a"]));
        assert_eq!(keys[3], encode(&["ab", "x"]));
    }

    #[test]
    fn prefix_covers_only_its_component() {
        let prefix = encode(&["CVE-1"]);
        let end = prefix_end(&prefix);
        let inside = encode(&["CVE-1", "nvd"]);
        let outside = encode(&["CVE-10", "nvd"]);
        assert!(inside > prefix);
        assert!(inside < end);
        assert!(outside > end);
    }

    #[test]
    fn decode_rejects_unterminated() {
        assert_eq!(decode(b"abc"), None);
    }
}
