//! SMS templates as GOV.UK Notify writes them (`notifications_utils/field.py`, research/sms.md
//! §1 "Templates and content"):
//!
//! - `((name))` is replaced by the value of `name`;
//! - `((name??text))` shows `text` when the value of `name` is true: `yes`, `y`, `true`,
//!   `t`, `1`, `include` or `show`, in any case (Notify's `str2bool`), and nothing otherwise;
//! - a placeholder is `((`, then one or more characters none of which is `(` or `)`, then
//!   `))` (Notify's pattern `\(\(([^()]+)\)\)`); anything else is plain text;
//! - names match whatever their case and spaces: `((First Name))` takes the value of
//!   `first name` or `FIRSTNAME`.
//!
//! [`render`] refuses a template whose values are missing, naming every missing field.
//! [`preview`] renders and says what the message costs: encoding, segments, characters,
//! what forces UCS-2, and what transliteration changed. The cap is [`MAX_SEGMENTS`] (6)
//! segments, Notify's 918 GSM-7 characters (153 × 6) or 402 UCS-2 units (67 × 6); counted
//! with 8-bit concatenation references.

use std::collections::HashMap;

use crate::text::{self, Encoding, translit};

/// The most segments a message may take (Notify's `SMS_CHAR_COUNT_LIMIT` of 918 = 153 × 6).
pub const MAX_SEGMENTS: usize = 6;

/// The values of a template's placeholders, looked up without regard to case or spaces.
#[derive(Debug, Clone, Default)]
pub struct Personalisation(HashMap<String, String>);

impl Personalisation {
    pub fn new() -> Personalisation {
        Personalisation::default()
    }

    pub fn insert(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(key(name), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&key(name)).map(String::as_str)
    }
}

impl<K: AsRef<str>, V: Into<String>> FromIterator<(K, V)> for Personalisation {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut p = Personalisation::new();
        for (k, v) in iter {
            p.insert(k.as_ref(), v);
        }
        p
    }
}

fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The placeholders the personalisation lacks, as the template writes them, each once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing personalisation: {}", .0.join(", "))]
pub struct MissingFields(pub Vec<String>);

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Field(&'a str),
    Conditional { name: &'a str, text: &'a str },
}

fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain = 0;
    let mut i = 0;
    while i < template.len() {
        if template[i..].starts_with("((") {
            let body_start = i + 2;
            let body_len = template[body_start..]
                .find(['(', ')'])
                .unwrap_or(template.len() - body_start);
            let body_end = body_start + body_len;
            if body_len > 0 && template[body_end..].starts_with("))") {
                if plain < i {
                    out.push(Piece::Text(&template[plain..i]));
                }
                let body = &template[body_start..body_end];
                out.push(match body.split_once("??") {
                    Some((name, text)) => Piece::Conditional { name, text },
                    None => Piece::Field(body),
                });
                i = body_end + 2;
                plain = i;
                continue;
            }
        }
        i += template[i..].chars().next().map_or(1, char::len_utf8);
    }
    if plain < template.len() {
        out.push(Piece::Text(&template[plain..]));
    }
    out
}

/// The placeholder names of a template, as written, each once (for CSV column checks).
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for p in pieces(template) {
        let name = match p {
            Piece::Field(n) | Piece::Conditional { name: n, .. } => n,
            Piece::Text(_) => continue,
        };
        if !names.iter().any(|m| key(m) == key(name)) {
            names.push(name);
        }
    }
    names
}

fn is_true(value: &str) -> bool {
    matches!(
        value.to_lowercase().as_str(),
        "yes" | "y" | "true" | "t" | "1" | "include" | "show"
    )
}

/// Fills the template's placeholders.
pub fn render(template: &str, values: &Personalisation) -> Result<String, MissingFields> {
    let mut out = String::with_capacity(template.len());
    let mut missing: Vec<String> = Vec::new();
    for p in pieces(template) {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(name) | Piece::Conditional { name, .. } => match values.get(name) {
                None => {
                    if !missing.iter().any(|m| key(m) == key(name)) {
                        missing.push(name.to_owned());
                    }
                }
                Some(v) => match p {
                    Piece::Conditional { text, .. } if is_true(v) => out.push_str(text),
                    Piece::Conditional { .. } => {}
                    _ => out.push_str(v),
                },
            },
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(MissingFields(missing))
    }
}

/// What a rendered message will be and cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The text that will be sent (after transliteration, if asked for).
    pub text: String,
    pub encoding: Encoding,
    pub characters: usize,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    pub segments: usize,
    /// The characters that force UCS-2, each once.
    pub ucs2_because_of: Vec<char>,
    /// What transliteration replaced (empty when it was not asked for or changed nothing).
    pub transliterated: Vec<translit::Change>,
}

impl Preview {
    /// Whether the message is within [`MAX_SEGMENTS`].
    pub fn within_limit(&self) -> bool {
        self.segments <= MAX_SEGMENTS
    }
}

/// Renders a template and says what it costs; with `transliterate`, Serbian letters are
/// replaced first ([`translit`]).
pub fn preview(
    template: &str,
    values: &Personalisation,
    transliterate: bool,
) -> Result<Preview, MissingFields> {
    let rendered = render(template, values)?;
    let (text, transliterated) = if transliterate {
        let t = translit::transliterate(&rendered);
        (t.text, t.changes)
    } else {
        (rendered, Vec::new())
    };
    let count = text::count(&text);
    Ok(Preview {
        ucs2_because_of: text::non_gsm_chars(&text),
        encoding: count.encoding,
        characters: count.characters,
        units: count.units,
        segments: count.segments,
        text,
        transliterated,
    })
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
