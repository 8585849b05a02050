//! The rules a payment order can break, with their English messages for the API and
//! catalogue keys (`pay.rule.<key>`) for the pages.

use std::fmt;

use eposta_kernel::money::Money;

/// The rule an input broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Required,
    TooLong(usize),
    /// More lines than the field takes (names and addresses: three).
    TooManyLines(usize),
    /// Control characters other than the line breaks a field allows.
    Text,
    /// `|` is never allowed: it would break the IPS QR code and the statement files.
    Separator,
    /// Not a Serbian payment account (the text of [`eposta_formats::account::AccountError`]).
    Account(String),
    /// Not a payment code (three digits, the first 1 or 2).
    PaymentCode(String),
    /// Not a reference number of its model (the text of the reference error).
    Reference(String),
    /// Zero or negative.
    Amount,
    /// Over the most one payment may be (by this method).
    AmountOverMax(Money),
    Currency,
    /// `card` or `ips` (`cash` at the counter only).
    Method,
    /// Not offered on this channel: cash at home, cards at the counter.
    MethodNotHere,
    /// Card payments are switched off (no acquirer configured).
    MethodUnavailable,
    /// Not an absolute `http(s)` URL.
    Url,
    /// Not of the expected JSON type, or an unknown field (API only).
    Shape(String),
    /// Not a valid NBS IPS QR string (the tag and rule it broke).
    IpsQr(String),
    /// A photo of a bill that gave no IPS QR code to fill the form from.
    Photo(Photo),
}

/// Why a photo of a bill filled nothing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Photo {
    /// No file was sent.
    Missing,
    /// Larger than the upload limit.
    TooLarge,
    /// Neither PNG nor JPEG.
    NotAnImage,
    /// A PNG or JPEG that cannot be decoded, or one with too many pixels.
    Damaged,
    /// No QR code in the picture.
    NoQrCode,
    /// A QR code that could not be read.
    Unreadable,
    /// QR codes, but none is an NBS IPS QR code.
    NotIps,
}

impl Photo {
    fn key(self) -> &'static str {
        match self {
            Photo::Missing => "photo_missing",
            Photo::TooLarge => "photo_too_large",
            Photo::NotAnImage => "photo_not_an_image",
            Photo::Damaged => "photo_damaged",
            Photo::NoQrCode => "photo_no_qr",
            Photo::Unreadable => "photo_unreadable",
            Photo::NotIps => "photo_not_ips",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Photo::Missing => "choose a photo of the bill",
            Photo::TooLarge => "the photo is too large",
            Photo::NotAnImage => "is not a PNG or JPEG image",
            Photo::Damaged => "the image is damaged or too large to read",
            Photo::NoQrCode => "no QR code was found in the photo",
            Photo::Unreadable => "a QR code was found but could not be read",
            Photo::NotIps => "the QR code in the photo is not an NBS IPS QR code",
        }
    }
}

impl Rule {
    /// The catalogue key's last part (`pay.rule.account`).
    pub fn key(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::TooLong(_) => "too_long",
            Rule::TooManyLines(_) => "too_many_lines",
            Rule::Text => "text",
            Rule::Separator => "separator",
            Rule::Account(_) => "account",
            Rule::PaymentCode(_) => "payment_code",
            Rule::Reference(_) => "reference",
            Rule::Amount => "amount",
            Rule::AmountOverMax(_) => "amount_over_max",
            Rule::Currency => "currency",
            Rule::Method => "method",
            Rule::MethodNotHere => "method_not_here",
            Rule::MethodUnavailable => "method_unavailable",
            Rule::Url => "url",
            Rule::Shape(_) => "shape",
            Rule::IpsQr(_) => "ips_qr",
            Rule::Photo(p) => p.key(),
        }
    }

    /// The values the catalogue's message names (`{max}`, `{detail}`).
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Rule::TooLong(n) | Rule::TooManyLines(n) => vec![("max", n.to_string())],
            Rule::AmountOverMax(m) => vec![("max", m.to_string())],
            Rule::Account(d)
            | Rule::PaymentCode(d)
            | Rule::Reference(d)
            | Rule::Shape(d)
            | Rule::IpsQr(d) => vec![("detail", d.clone())],
            _ => Vec::new(),
        }
    }

    /// In English, for the API.
    pub fn message(&self) -> String {
        match self {
            Rule::Required => "is required".into(),
            Rule::TooLong(n) => format!("must be at most {n} characters"),
            Rule::TooManyLines(n) => format!("must be at most {n} lines"),
            Rule::Text => "must not contain control characters".into(),
            Rule::Separator => "must not contain '|'".into(),
            Rule::Account(d) => format!("is not a payment account: {d}"),
            Rule::PaymentCode(d) => format!("is not a payment code: {d}"),
            Rule::Reference(d) => format!("is not a reference number: {d}"),
            Rule::Amount => "must be more than zero".into(),
            Rule::AmountOverMax(m) => format!("must be at most {m}"),
            Rule::Currency => "must be in RSD".into(),
            Rule::Method => "must be card or ips".into(),
            Rule::MethodNotHere => {
                "is not offered here (cash only at a post office counter)".into()
            }
            Rule::MethodUnavailable => "card payments are not available at the moment".into(),
            Rule::Url => "must be an absolute http:// or https:// URL".into(),
            Rule::Shape(m) => m.clone(),
            Rule::IpsQr(d) => format!("is not a valid IPS QR code: {d}"),
            Rule::Photo(p) => p.message().to_owned(),
        }
    }
}

/// A rule one field broke; `field` is dotted (`payee.account`). Forms name their inputs with
/// underscores instead ([`FieldError::form_name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub rule: Rule,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            field: field.into(),
            rule,
        }
    }

    /// The form input's name: `payee_account`.
    pub fn form_name(&self) -> String {
        self.field.replace('.', "_")
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule.message())
    }
}
