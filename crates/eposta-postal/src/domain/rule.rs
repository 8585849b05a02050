//! The rules an input can break, with their messages for the API and catalogue keys for
//! the pages.

use std::fmt;

use eposta_kernel::money::Money;

use super::Product;

/// The rule an input broke. The API shows [`Rule::message`]; pages show the catalogue's
/// `booking.rule.<key>` with the same arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Required,
    TooLong(usize),
    /// Control characters (a newline in a name would break every label and list).
    Text,
    PostalCode,
    Phone,
    Email,
    Product,
    Weight,
    WeightOverMax(u32),
    /// The option is not offered for this product.
    NotAllowed(Product),
    Amount,
    AmountOverMax(Money),
    Currency,
    /// The SMS notice needs the recipient's phone.
    PhoneForSms,
    /// A registered item needs the recipient's phone for its notices.
    PhoneForNotices,
    /// Not of the expected JSON type, or an unknown field (API only).
    Shape(String),
    /// An identity document ePošta does not know (receiving: the collector's document).
    Document,
    /// Not the last 2 to 4 digits of a document number.
    DocumentDigits,
    /// No post office has this code.
    Office,
}

impl Rule {
    /// The catalogue key's last part (`booking.rule.postal_code`).
    pub fn key(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::TooLong(_) => "too_long",
            Rule::Text => "text",
            Rule::PostalCode => "postal_code",
            Rule::Phone => "phone",
            Rule::Email => "email",
            Rule::Product => "product",
            Rule::Weight => "weight",
            Rule::WeightOverMax(_) => "weight_over_max",
            Rule::NotAllowed(_) => "not_allowed",
            Rule::Amount => "amount",
            Rule::AmountOverMax(_) => "amount_over_max",
            Rule::Currency => "currency",
            Rule::PhoneForSms => "phone_for_sms",
            Rule::PhoneForNotices => "phone_for_notices",
            Rule::Shape(_) => "shape",
            Rule::Document => "document",
            Rule::DocumentDigits => "document_digits",
            Rule::Office => "office",
        }
    }

    /// The values the message names: `max`, `product`.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Rule::TooLong(n) => vec![("max", n.to_string())],
            Rule::WeightOverMax(g) => vec![("max", g.to_string())],
            Rule::NotAllowed(p) => vec![("product", p.as_str().to_owned())],
            Rule::AmountOverMax(m) => vec![("max", m.to_string())],
            _ => Vec::new(),
        }
    }

    /// In English, for the API.
    pub fn message(&self) -> String {
        match self {
            Rule::Required => "is required".into(),
            Rule::TooLong(n) => format!("must be at most {n} characters"),
            Rule::Text => "must not contain control characters".into(),
            Rule::PostalCode => "must be exactly 5 digits".into(),
            Rule::Phone => "must be a Serbian mobile or landline number (+381… or 0…)".into(),
            Rule::Email => "is not a valid e-mail address".into(),
            Rule::Product => "must be letter, registered_letter, parcel or express".into(),
            Rule::Weight => "must be a whole number of grams, at least 1".into(),
            Rule::WeightOverMax(g) => format!("is over the {g} g this product takes"),
            Rule::NotAllowed(p) => format!("is not offered for {p}"),
            Rule::Amount => "must be an amount greater than zero".into(),
            Rule::AmountOverMax(m) => format!("must be at most {m}"),
            Rule::Currency => "must be in RSD".into(),
            Rule::PhoneForSms => "is required for the SMS notice".into(),
            Rule::PhoneForNotices => "is required for registered items (for their notices)".into(),
            Rule::Shape(m) => m.clone(),
            Rule::Document => "must be an identity card, a passport or a driving licence".into(),
            Rule::DocumentDigits => "must be the last 2 to 4 digits of the document number".into(),
            Rule::Office => "no post office has this code".into(),
        }
    }
}

/// A rule one field broke. `field` is dotted (`recipient.postal_code`); forms name their
/// inputs with underscores instead ([`FieldError::form_name`]).
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

    /// The form input's name: `recipient_postal_code`.
    pub fn form_name(&self) -> String {
        self.field.replace('.', "_")
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule.message())
    }
}
