//! Pure booking rules: products, options, addresses, weights and phone numbers, and how an
//! untrusted shipment (a web form or a JSON object) becomes a valid one, or the list of every
//! field it got wrong. Prices and per-product limits are the tariff's (`tariff.rs`).

pub mod phone;
mod rule;
mod text;

use std::fmt;

use eposta_kernel::accounts::Email;
use eposta_kernel::money::{Currency, Money};
use serde::{Deserialize, Serialize};

pub use phone::Phone;
pub use rule::{FieldError, Rule};
pub use text::{
    BOOKING_ALPHABET, group_booking_code, parse_booking_code, parse_dinars, parse_grams,
};

/// Longest name, street and place, in characters.
pub const MAX_TEXT: usize = 100;
/// Longest house number (`12a`, `bb`, `15/3`), in characters.
pub const MAX_NUMBER: usize = 20;
/// The largest amount anyone may type (COD, declared value): 100 million dinars. Tariffs
/// set lower limits; this one only keeps the arithmetic far from overflowing.
pub const MAX_AMOUNT_PARA: i64 = 10_000_000_000;

/// What is sent. Every product except the plain letter is registered: tracked from
/// acceptance to delivery and signed for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    Letter,
    RegisteredLetter,
    Parcel,
    Express,
}

impl Product {
    pub const ALL: [Product; 4] = [
        Product::Letter,
        Product::RegisteredLetter,
        Product::Parcel,
        Product::Express,
    ];

    /// The stored and wire name (`registered_letter`).
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Letter => "letter",
            Product::RegisteredLetter => "registered_letter",
            Product::Parcel => "parcel",
            Product::Express => "express",
        }
    }

    pub fn parse(s: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }

    pub fn is_registered(self) -> bool {
        self != Product::Letter
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An option that has a price and that the tariff allows per product. (Registration is not
/// one of them: it is what makes a registered letter, see [`parse_item`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extra {
    /// Otkupnina: the postman collects an amount from the recipient for the sender.
    CashOnDelivery,
    /// Vrednosna pošiljka: insured up to the declared value.
    DeclaredValue,
    /// Povratnica: the signed delivery confirmation goes back to the sender.
    DeliveryConfirmation,
    /// An SMS to the recipient when the item is on its way and when it waits at an office.
    SmsNotice,
}

impl Extra {
    pub const ALL: [Extra; 4] = [
        Extra::CashOnDelivery,
        Extra::DeclaredValue,
        Extra::DeliveryConfirmation,
        Extra::SmsNotice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Extra::CashOnDelivery => "cash_on_delivery",
            Extra::DeclaredValue => "declared_value",
            Extra::DeliveryConfirmation => "delivery_confirmation",
            Extra::SmsNotice => "sms_notice",
        }
    }

    pub fn parse(s: &str) -> Option<Extra> {
        Extra::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The input field that asks for it (`options.cash_on_delivery`).
    pub fn field(self) -> &'static str {
        match self {
            Extra::CashOnDelivery => "options.cash_on_delivery",
            Extra::DeclaredValue => "options.declared_value",
            Extra::DeliveryConfirmation => "options.delivery_confirmation",
            Extra::SmsNotice => "options.sms_notice",
        }
    }
}

/// The chosen options of a valid item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The amount to collect from the recipient.
    pub cash_on_delivery: Option<Money>,
    pub declared_value: Option<Money>,
    pub delivery_confirmation: bool,
    pub sms_notice: bool,
}

impl Options {
    /// The priced options chosen, in a fixed order.
    pub fn extras(&self) -> Vec<Extra> {
        let mut out = Vec::new();
        if self.cash_on_delivery.is_some() {
            out.push(Extra::CashOnDelivery);
        }
        if self.declared_value.is_some() {
            out.push(Extra::DeclaredValue);
        }
        if self.delivery_confirmation {
            out.push(Extra::DeliveryConfirmation);
        }
        if self.sms_notice {
            out.push(Extra::SmsNotice);
        }
        out
    }
}

/// What the tariff prices: the product, the weight and the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSpec {
    pub product: Product,
    pub weight_g: u32,
    pub options: Options,
}

impl ItemSpec {
    /// The option names as stored in `postal_items.options` (a JSON array): `registered`
    /// for every registered product, then the priced options.
    pub fn option_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.product.is_registered() {
            names.push("registered");
        }
        names.extend(self.options.extras().into_iter().map(Extra::as_str));
        names
    }
}

/// A valid address: trimmed, within bounds, postal code of five digits, phone in E.164.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    pub street: String,
    pub number: String,
    pub postal_code: String,
    pub place: String,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
}

/// A valid shipment, ready to price and book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub item: ItemSpec,
    pub sender: Address,
    pub recipient: Address,
}

/// The sender as typed: untrusted, any field possibly empty.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SenderInput {
    #[schema(example = "Петар Петровић")]
    pub name: String,
    #[schema(example = "Булевар краља Александра")]
    pub street: String,
    /// House number, with any letter or flat: `12a`, `bb`, `15/3`.
    #[schema(example = "73")]
    pub number: String,
    /// Exactly five digits.
    #[schema(example = "11000")]
    pub postal_code: String,
    #[schema(example = "Београд")]
    pub place: String,
    /// Serbian mobile or landline, `+381…` or `0…`.
    pub phone: Option<String>,
}

/// The recipient as typed: untrusted, any field possibly empty.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RecipientInput {
    #[schema(example = "Јелена Јовановић")]
    pub name: String,
    #[schema(example = "Змај Јовина")]
    pub street: String,
    #[schema(example = "12a")]
    pub number: String,
    #[schema(example = "21000")]
    pub postal_code: String,
    #[schema(example = "Нови Сад")]
    pub place: String,
    /// For notices; required for registered products and for the SMS notice.
    #[schema(example = "+381641234567")]
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The options as asked for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OptionsInput {
    /// Registered handling. Implied by every product but `letter`; a letter with it becomes
    /// a `registered_letter`.
    pub registered: bool,
    /// Otkupnina: the amount the postman collects from the recipient (RSD).
    pub cash_on_delivery: Option<Money>,
    /// The value the item is insured for (RSD).
    pub declared_value: Option<Money>,
    /// Povratnica: the signed confirmation returns to the sender.
    pub delivery_confirmation: bool,
    /// An SMS to the recipient's phone about the item.
    pub sms_notice: bool,
}

/// One shipment as asked for, in the JSON shape of the API; the booking form is read into
/// it too, so both go through [`parse_shipment`].
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentInput {
    pub product: Product,
    /// Whole grams.
    #[schema(example = 1200)]
    pub weight_g: i64,
    pub sender: SenderInput,
    pub recipient: RecipientInput,
    #[serde(default)]
    pub options: OptionsInput,
}

fn text(field: &str, input: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let s = input.trim();
    let rule = if s.is_empty() {
        Some(Rule::Required)
    } else if s.chars().count() > max {
        Some(Rule::TooLong(max))
    } else if s.chars().any(char::is_control) {
        Some(Rule::Text)
    } else {
        None
    };
    if let Some(rule) = rule {
        errors.push(FieldError::new(field, rule));
    }
    s.to_owned()
}

fn postal_code(field: &str, input: &str, errors: &mut Vec<FieldError>) -> String {
    let s = input.trim();
    if s.is_empty() {
        errors.push(FieldError::new(field, Rule::Required));
    } else if eposta_kernel::offices::domain::PostalCode::parse(s).is_err() {
        errors.push(FieldError::new(field, Rule::PostalCode));
    }
    s.to_owned()
}

fn phone(field: &str, input: Option<&str>, errors: &mut Vec<FieldError>) -> Option<Phone> {
    let s = input.map(str::trim).filter(|s| !s.is_empty())?;
    let parsed = Phone::parse(s);
    if parsed.is_none() {
        errors.push(FieldError::new(field, Rule::Phone));
    }
    parsed
}

/// The amount of an option: RSD, more than zero, at most [`MAX_AMOUNT_PARA`].
fn amount(field: &str, m: Option<Money>, errors: &mut Vec<FieldError>) -> Option<Money> {
    let m = m?;
    if m.currency != Currency::RSD {
        errors.push(FieldError::new(field, Rule::Currency));
        None
    } else if m.minor <= 0 || m.minor > MAX_AMOUNT_PARA {
        errors.push(FieldError::new(field, Rule::Amount));
        None
    } else {
        Some(m)
    }
}

fn address(prefix: &str, a: &RecipientInput, errors: &mut Vec<FieldError>) -> Result<Address, ()> {
    let before = errors.len();
    let f = |name: &str| format!("{prefix}.{name}");
    let name = text(&f("name"), &a.name, MAX_TEXT, errors);
    let street = text(&f("street"), &a.street, MAX_TEXT, errors);
    let number = text(&f("number"), &a.number, MAX_NUMBER, errors);
    let postal_code = postal_code(&f("postal_code"), &a.postal_code, errors);
    let place = text(&f("place"), &a.place, MAX_TEXT, errors);
    let phone = phone(&f("phone"), a.phone.as_deref(), errors);
    let email = match a.email.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(e) => match Email::parse(e) {
            Ok(e) => Some(e),
            Err(_) => {
                errors.push(FieldError::new(f("email"), Rule::Email));
                None
            }
        },
    };
    if errors.len() > before {
        return Err(());
    }
    Ok(Address {
        name,
        street,
        number,
        postal_code,
        place,
        phone,
        email,
    })
}

/// A delivery address on its own (a recipient's redirect, say), checked by the same rules as
/// a booking's: name, street, number, a postal code of five digits, place, and a phone and
/// e-mail only when given. Fields are named `{prefix}.{name}`; every broken rule is reported.
pub fn parse_address(prefix: &str, input: &RecipientInput) -> Result<Address, Vec<FieldError>> {
    let mut errors = Vec::new();
    address(prefix, input, &mut errors).map_err(|()| errors)
}

/// The product, weight and options, with registration folded into the product: a letter
/// asked for as registered is a registered letter (one price, one service indicator).
pub fn parse_item(
    product: Product,
    weight_g: i64,
    o: &OptionsInput,
    errors: &mut Vec<FieldError>,
) -> Option<ItemSpec> {
    let before = errors.len();
    let weight_g = match u32::try_from(weight_g) {
        Ok(g) if g >= 1 => g,
        _ => {
            errors.push(FieldError::new("weight_g", Rule::Weight));
            0
        }
    };
    let options = Options {
        cash_on_delivery: amount("options.cash_on_delivery", o.cash_on_delivery, errors),
        declared_value: amount("options.declared_value", o.declared_value, errors),
        delivery_confirmation: o.delivery_confirmation,
        sms_notice: o.sms_notice,
    };
    let product = match product {
        Product::Letter if o.registered => Product::RegisteredLetter,
        p => p,
    };
    (errors.len() == before).then_some(ItemSpec {
        product,
        weight_g,
        options,
    })
}

/// Checks everything that does not depend on the tariff, and reports every broken rule.
pub fn parse_shipment(input: &ShipmentInput) -> Result<Shipment, Vec<FieldError>> {
    let mut errors = Vec::new();
    let item = parse_item(input.product, input.weight_g, &input.options, &mut errors);
    let s = &input.sender;
    let sender = address(
        "sender",
        &RecipientInput {
            name: s.name.clone(),
            street: s.street.clone(),
            number: s.number.clone(),
            postal_code: s.postal_code.clone(),
            place: s.place.clone(),
            phone: s.phone.clone(),
            email: None,
        },
        &mut errors,
    );
    let recipient = address("recipient", &input.recipient, &mut errors);
    if let (Some(item), Ok(r)) = (&item, &recipient)
        && r.phone.is_none()
    {
        if item.options.sms_notice {
            errors.push(FieldError::new("recipient.phone", Rule::PhoneForSms));
        } else if item.product.is_registered() {
            errors.push(FieldError::new("recipient.phone", Rule::PhoneForNotices));
        }
    }
    match (item, sender, recipient) {
        (Some(item), Ok(sender), Ok(recipient)) if errors.is_empty() => Ok(Shipment {
            item,
            sender,
            recipient,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests;
