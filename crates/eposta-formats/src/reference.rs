//! Reference numbers of payment orders ("model i poziv na broj"): a two-digit model and the
//! reference itself, whose control the model defines.
//!
//! - **97**: `KK` + body; KK are ISO 7064 MOD 97-10 check digits over the body, letters
//!   counting A = 10 … Z = 35 (case-insensitive), dashes and spaces ignored. On a payment
//!   order `97 47-21750940-2204` is fine; inside an IPS QR code (tag RO) the reference is
//!   written without dashes or spaces (NBS, IPS QR decision Prilog 1, tag RO; research §3).
//! - **00** (or no model): no control; in an IPS QR code the model is written as `00`.
//! - **11**: up to three parts separated by dashes, the first and the optional second each
//!   ending with a control digit, the third without: `11 − (Σ digit × weight mod 11)`, the
//!   weights 2, 3, 4, … from the rightmost digit of the part's body, 10 and 11 becoming 0.
//!   Source: a TypeScript implementation in the public code index that says it was checked on
//!   six real references (research/payments.md §3); **not** checked against the NBS
//!   payment-order decision, Prilog 2/3, which we have not read.
//! - **22**: a 3-digit municipality code, a number and one control digit over the number:
//!   `(11 − (Σ digit × position mod 11)) mod 10`, positions 1, 2, 3, … from the right.
//!   Source: ArtBIT/ips-qr-code (research/payments.md §3); equally unverified against the
//!   regulation.
//! - **Any other model** is accepted without a control, and [`Reference::is_checked`] says
//!   so: its rule is not documented in our sources, and refusing a real bill's reference
//!   would be worse than not checking it.
//!
//! Length: model and reference together at most 35 characters (the RO limit of the IPS QR
//! decision; the payment order's own limit is unverified).

use std::fmt;

use crate::account::mod97_check;

/// The longest reference, model included (IPS QR tag RO).
pub const MAX_LEN: usize = 35;

/// Why a text is not a reference number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("must start with a two-digit model (97, 00, 11, 22, …)")]
    Model,
    #[error("no reference after the model")]
    Empty,
    #[error("longer than {MAX_LEN} characters, model included")]
    TooLong,
    #[error("control characters are not allowed")]
    ControlCharacter,
    #[error("model 97: only letters and digits (dashes and spaces are ignored)")]
    Characters97,
    #[error("model 97 is written without dashes or spaces here")]
    Separators97,
    #[error("model 97: control {found}, expected {expected:02} (ISO 7064 MOD 97-10)")]
    Control97 { found: String, expected: u8 },
    #[error("model {0:02}: only digits and dashes")]
    Digits(u8),
    #[error(
        "model 11: one to three parts separated by dashes, the first two of at least two digits"
    )]
    Parts11,
    #[error("model 11: control digit of part {part} is {found}, expected {expected}")]
    Control11 { part: u8, found: u8, expected: u8 },
    #[error("model 22: a 3-digit municipality code, the number and a control digit")]
    Format22,
    #[error("model 22: control digit {found}, expected {expected}")]
    Control22 { found: u8, expected: u8 },
}

/// The model of a reference number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// `00`: no model, no control.
    None,
    M97,
    M11,
    M22,
    /// A model whose control ePošta does not know; not checked.
    Other(u8),
}

impl Model {
    /// The model of its two-digit number.
    pub fn from_number(n: u8) -> Option<Model> {
        Some(match n {
            0 => Model::None,
            97 => Model::M97,
            11 => Model::M11,
            22 => Model::M22,
            1..=99 => Model::Other(n),
            _ => return None,
        })
    }

    /// Two ASCII digits.
    pub fn parse(s: &str) -> Option<Model> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                Model::from_number((a - b'0') * 10 + (b - b'0'))
            }
            _ => None,
        }
    }

    pub fn number(self) -> u8 {
        match self {
            Model::None => 0,
            Model::M97 => 97,
            Model::M11 => 11,
            Model::M22 => 22,
            Model::Other(n) => n,
        }
    }
}

/// A valid reference: its model and the reference in canonical form (model 97: upper case,
/// no dashes or spaces; models 11 and 22: digits and dashes; others as given, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    model: Model,
    text: String,
}

/// The remainder mod 97 of a model-97 body, letters counting A = 10 … Z = 35 and dashes
/// and spaces skipped; `None` for any other character.
fn mod97_of_body(body: &str) -> Option<u32> {
    // Reduced only when large: a compare per digit instead of a division.
    const LIMIT: u64 = 1 << 56;
    let mut r = 0u64;
    for b in body.bytes() {
        r = match b {
            b'0'..=b'9' => r * 10 + u64::from(b - b'0'),
            b'A'..=b'Z' => r * 100 + u64::from(b - b'A' + 10),
            b'a'..=b'z' => r * 100 + u64::from(b - b'a' + 10),
            b'-' | b' ' => r,
            _ => return None,
        };
        if r >= LIMIT {
            r %= 97;
        }
    }
    Some((r % 97) as u32)
}

/// The model-97 control digits of a body (`1234567890` → 92); dashes and spaces are
/// ignored, letters count A = 10 … Z = 35. `None` for other characters or no body at all.
pub fn model97_control(body: &str) -> Option<u8> {
    if !body.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    mod97_of_body(body).map(mod97_check)
}

/// The digit string the model-97 check works on: letters as two digits (`ABC` → `101112`).
pub fn model97_digits(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len() * 2);
    for c in body.chars() {
        match c {
            '0'..='9' => out.push(c),
            'A'..='Z' | 'a'..='z' => {
                let v = c.to_ascii_uppercase() as u32 - 'A' as u32 + 10;
                out.push_str(&v.to_string());
            }
            '-' | ' ' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The model-11 control digit of a part's body (`80132678904` → 2), or `None` when it is
/// not all digits or empty.
pub fn model11_control(body: &str) -> Option<u8> {
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u64 = body
        .bytes()
        .rev()
        .zip(2u64..)
        .map(|(d, w)| u64::from(d - b'0') * w)
        .sum();
    Some(match 11 - (sum % 11) {
        10 | 11 => 0,
        k => k as u8,
    })
}

/// The model-22 control digit of the number between the municipality code and the control
/// (`2345671` → 5), or `None` when it is not all digits or empty.
pub fn model22_control(number: &str) -> Option<u8> {
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u64 = number
        .bytes()
        .rev()
        .zip(1u64..)
        .map(|(d, p)| u64::from(d - b'0') * p)
        .sum();
    Some(((11 - sum % 11) % 10) as u8)
}

impl Reference {
    /// Parses model and reference written together, as on a bill or in the CLI:
    /// `97 14123412`, `9714123412`, `9728-12345a`, `22-223-23456715`, `0045-21730800-2204`.
    /// One space or dash between the model and the reference is skipped.
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let s = input.trim();
        let model = s
            .get(..2)
            .and_then(Model::parse)
            .ok_or(ReferenceError::Model)?;
        let rest = &s[2..];
        let rest = rest
            .strip_prefix(' ')
            .or_else(|| rest.strip_prefix('-'))
            .unwrap_or(rest);
        Reference::new(model, rest)
    }

    /// Checks a reference given apart from its model (the two fields of a payment order).
    /// Spaces are dropped for models 97, 11 and 22, and dashes for model 97.
    pub fn new(model: Model, reference: &str) -> Result<Reference, ReferenceError> {
        let reference = reference.trim();
        if reference.chars().any(char::is_control) {
            return Err(ReferenceError::ControlCharacter);
        }
        let text = match model {
            Model::M97 => {
                if !reference
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b' ')
                {
                    return Err(ReferenceError::Characters97);
                }
                reference
                    .bytes()
                    .filter(u8::is_ascii_alphanumeric)
                    .map(|b| char::from(b.to_ascii_uppercase()))
                    .collect()
            }
            Model::M11 | Model::M22 => reference.replace(' ', ""),
            Model::None | Model::Other(_) => reference.to_owned(),
        };
        Reference::checked(model, text)
    }

    /// Parses the content of IPS QR tag RO: the model's two digits, then the reference;
    /// model 97 without dashes or spaces (NBS).
    pub fn parse_ro(ro: &str) -> Result<Reference, ReferenceError> {
        let model = ro
            .get(..2)
            .and_then(Model::parse)
            .ok_or(ReferenceError::Model)?;
        let text = &ro[2..];
        if text.chars().any(char::is_control) {
            return Err(ReferenceError::ControlCharacter);
        }
        if model == Model::M97 && text.bytes().any(|b| b == b'-' || b == b' ') {
            return Err(ReferenceError::Separators97);
        }
        if model == Model::M97 && text.bytes().any(|b| b.is_ascii_lowercase()) {
            // The same reference; kept canonical (upper case).
            return Reference::checked(model, text.to_ascii_uppercase());
        }
        Reference::checked(model, text.to_owned())
    }

    /// Builds the model-97 reference of a body, computing its control (`123412` →
    /// `14123412`). Dashes and spaces in the body are dropped.
    pub fn model97(body: &str) -> Result<Reference, ReferenceError> {
        let control = model97_control(body).ok_or(ReferenceError::Characters97)?;
        Reference::new(Model::M97, &format!("{control:02}{body}"))
    }

    /// Checks canonical text against its model.
    fn checked(model: Model, text: String) -> Result<Reference, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if 2 + text.len() > MAX_LEN && 2 + text.chars().count() > MAX_LEN {
            return Err(ReferenceError::TooLong);
        }
        match model {
            Model::M97 => check97(&text)?,
            Model::M11 => check11(&text)?,
            Model::M22 => check22(&text)?,
            Model::None | Model::Other(_) => {}
        }
        Ok(Reference { model, text })
    }

    pub fn model(&self) -> Model {
        self.model
    }

    /// The reference without its model, in canonical form.
    pub fn reference(&self) -> &str {
        &self.text
    }

    /// Whether a control was checked (models 97, 11 and 22); `false` for 00 and for models
    /// whose rule is not known here.
    pub fn is_checked(&self) -> bool {
        matches!(self.model, Model::M97 | Model::M11 | Model::M22)
    }

    /// The IPS QR form (tag RO): the model's two digits, then the reference (`9714123412`).
    pub fn ro(&self) -> String {
        format!("{:02}{}", self.model.number(), self.text)
    }
}

impl fmt::Display for Reference {
    /// The payment-order form: model, a space, the reference (`97 14123412`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02} {}", self.model.number(), self.text)
    }
}

fn check97(text: &str) -> Result<(), ReferenceError> {
    let b = text.as_bytes();
    if !b.iter().all(u8::is_ascii_alphanumeric) {
        return Err(ReferenceError::Characters97);
    }
    if b.len() < 3 {
        return Err(ReferenceError::Empty);
    }
    let expected = model97_control(&text[2..]).ok_or(ReferenceError::Characters97)?;
    let found = &text[..2];
    if found.parse::<u8>().ok() != Some(expected) || !found.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ReferenceError::Control97 {
            found: found.to_owned(),
            expected,
        });
    }
    Ok(())
}

fn check11(text: &str) -> Result<(), ReferenceError> {
    if !text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(ReferenceError::Digits(11));
    }
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(ReferenceError::Parts11);
    }
    for (i, part) in parts.iter().take(2).enumerate() {
        let Some((body, control)) = part.split_at_checked(part.len().saturating_sub(1)) else {
            return Err(ReferenceError::Parts11);
        };
        let expected = model11_control(body).ok_or(ReferenceError::Parts11)?;
        let found = control.as_bytes()[0] - b'0';
        if found != expected {
            return Err(ReferenceError::Control11 {
                part: i as u8 + 1,
                found,
                expected,
            });
        }
    }
    Ok(())
}

fn check22(text: &str) -> Result<(), ReferenceError> {
    if !text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(ReferenceError::Digits(22));
    }
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
    if digits.len() < 5 {
        return Err(ReferenceError::Format22);
    }
    let number = std::str::from_utf8(&digits[3..digits.len() - 1]).unwrap_or_default();
    let expected = model22_control(number).ok_or(ReferenceError::Format22)?;
    let found = digits[digits.len() - 1] - b'0';
    if found != expected {
        return Err(ReferenceError::Control22 { found, expected });
    }
    Ok(())
}

#[cfg(test)]
#[path = "reference_tests.rs"]
mod tests;
