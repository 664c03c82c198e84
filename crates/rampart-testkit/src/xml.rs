//! A strict reader for the XML subset that rampart writes (JUnit reports):
//! an XML declaration, elements, attributes in double quotes, character
//! data and the predefined and numeric character references.
//!
//! It rejects what it does not know (comments, CDATA, processing
//! instructions after the declaration, DOCTYPE), so every document it
//! accepts is well-formed XML 1.0. Tests use it to check well-formedness
//! and to read the document back.

/// One element with its attributes (in document order), child elements
/// and the concatenated character data directly inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// Returns the value of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Returns the child elements named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |child| child.name == name)
    }
}

/// Parses `text` as a whole document and returns its root element, or a
/// message naming the byte offset of the first error.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader { text, offset: 0 };
    reader.expect("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    reader.skip_whitespace();
    let root = reader.element()?;
    reader.skip_whitespace();
    if reader.offset != text.len() {
        return Err(reader.error("content after the root element"));
    }
    Ok(root)
}

struct Reader<'a> {
    text: &'a str,
    offset: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.offset..]
    }

    fn error(&self, message: &str) -> String {
        let context: String = self.rest().chars().take(40).collect();
        format!("{message} at byte {} (before {context:?})", self.offset)
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.rest().starts_with(token) {
            self.offset += token.len();
            Ok(())
        } else {
            Err(self.error(&format!("expected {token:?}")))
        }
    }

    fn skip_whitespace(&mut self) -> bool {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        self.offset += rest.len() - trimmed.len();
        rest.len() != trimmed.len()
    }

    fn name(&mut self) -> Result<String, String> {
        let rest = self.rest();
        let mut chars = rest.char_indices();
        match chars.next() {
            Some((_, c)) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {}
            _ => return Err(self.error("expected a name")),
        }
        let end = chars
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')))
            .map_or(rest.len(), |(index, _)| index);
        self.offset += end;
        Ok(rest[..end].to_owned())
    }

    fn element(&mut self) -> Result<Element, String> {
        self.expect("<")?;
        let name = self.name()?;
        let mut attributes: Vec<(String, String)> = Vec::new();
        loop {
            let spaced = self.skip_whitespace();
            if self.rest().starts_with("/>") {
                self.offset += 2;
                return Ok(Element {
                    name,
                    attributes,
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            if self.rest().starts_with('>') {
                self.offset += 1;
                break;
            }
            if !spaced {
                return Err(self.error("expected white space before an attribute"));
            }
            let key = self.name()?;
            if attributes.iter().any(|(existing, _)| *existing == key) {
                return Err(self.error(&format!("duplicate attribute {key}")));
            }
            self.expect("=\"")?;
            let value = self.characters('"')?;
            self.expect("\"")?;
            attributes.push((key, value));
        }

        let mut children = Vec::new();
        let mut text = String::new();
        loop {
            text.push_str(&self.characters('<')?);
            if self.rest().starts_with("</") {
                self.offset += 2;
                let closing = self.name()?;
                if closing != name {
                    return Err(self.error(&format!("</{closing}> closes <{name}>")));
                }
                self.skip_whitespace();
                self.expect(">")?;
                return Ok(Element {
                    name,
                    attributes,
                    children,
                    text,
                });
            }
            if self.rest().starts_with("<!") || self.rest().starts_with("<?") {
                return Err(
                    self.error("comments, CDATA and processing instructions are not expected")
                );
            }
            if self.rest().is_empty() {
                return Err(self.error(&format!("<{name}> is not closed")));
            }
            children.push(self.element()?);
        }
    }

    /// Reads character data up to `end` (not consumed), resolving
    /// references. In attribute values `<` is an error.
    fn characters(&mut self, end: char) -> Result<String, String> {
        let mut out = String::new();
        loop {
            let Some(c) = self.rest().chars().next() else {
                return Ok(out);
            };
            if c == end {
                return Ok(out);
            }
            if !is_xml_char(c) {
                return Err(self.error(&format!("character U+{:04X} is not allowed", c as u32)));
            }
            match c {
                '<' => return Err(self.error("raw '<' in an attribute value")),
                '&' => out.push(self.reference()?),
                '>' if self.text[..self.offset].ends_with("]]") => {
                    return Err(self.error("']]>' in character data"));
                }
                c => {
                    out.push(c);
                    self.offset += c.len_utf8();
                }
            }
        }
    }

    fn reference(&mut self) -> Result<char, String> {
        let rest = self.rest();
        let Some(end) = rest.find(';') else {
            return Err(self.error("unterminated reference"));
        };
        let body = &rest[1..end];
        let c = match body {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let code = if let Some(hex) = body.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = body.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32).filter(|c| is_xml_char(*c))
            }
        };
        let Some(c) = c else {
            return Err(self.error(&format!("invalid reference &{body};")));
        };
        self.offset += end + 1;
        Ok(c)
    }
}

/// Returns whether XML 1.0 allows `c` (its `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    #[test]
    fn reads_elements_and_references() {
        let document = format!(
            "{PROLOG}<a x=\"1 &amp; &#10;\" y=\"&quot;\">t &lt;<b/> u<c z=\"2\">v</c></a>\n"
        );
        let root = parse(&document).unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attribute("x"), Some("1 & \n"));
        assert_eq!(root.attribute("y"), Some("\""));
        assert_eq!(root.text, "t < u");
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children_named("c").next().unwrap().text, "v");
    }

    #[test]
    fn rejects_malformed() {
        for body in [
            "<a>",
            "<a></b>",
            "<a x=\"1\" x=\"2\"/>",
            "<a x=\"<\"/>",
            "<a>&nbsp;</a>",
            "<a>&#0;</a>",
            "<a>\u{1}</a>",
            "<a>]]></a>",
            "<a/><b/>",
            "<a><!-- c --></a>",
            "<a x='1'/>",
            "<a x=\"1\"y=\"2\"/>",
            "<1a/>",
        ] {
            let document = format!("{PROLOG}{body}");
            assert!(parse(&document).is_err(), "accepted {body:?}");
        }
        assert!(
            parse("<a/>").is_err(),
            "accepted a document without declaration"
        );
    }
}
