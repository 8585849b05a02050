//! The booking form as posted: flat text fields named like the API's fields with `_` for
//! `.` (`recipient_postal_code` is `recipient.postal_code`), read into a [`ShipmentInput`],
//! and its inputs and messages for the page.

use eposta_kernel::web::page::PageCtx;
use serde::Deserialize;

use crate::domain::{
    FieldError, OptionsInput, Product, RecipientInput, Rule, SenderInput, ShipmentInput,
    parse_dinars, parse_grams,
};

/// Every input, in the order of the page (error summaries follow it).
pub const FORM_ORDER: &[&str] = &[
    "sender_name",
    "sender_street",
    "sender_number",
    "sender_postal_code",
    "sender_place",
    "sender_phone",
    "recipient_name",
    "recipient_street",
    "recipient_number",
    "recipient_postal_code",
    "recipient_place",
    "recipient_phone",
    "recipient_email",
    "product",
    "weight_g",
    "options_registered",
    "options_cash_on_delivery",
    "options_declared_value",
    "options_delivery_confirmation",
    "options_sms_notice",
];

/// The form as posted; a ticked checkbox is `on`, an unticked one is absent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BookingForm {
    /// `quote` (calculate the price) or `confirm`.
    pub action: String,
    /// The total (in para) the page showed before the confirm button.
    pub quoted_total: String,
    /// The key from the price step, so that confirming twice books once.
    pub submission: String,
    /// At the counter: how the customer pays (`cash` or `card`).
    pub payment: String,
    pub product: String,
    pub weight_g: String,
    pub sender_name: String,
    pub sender_street: String,
    pub sender_number: String,
    pub sender_postal_code: String,
    pub sender_place: String,
    pub sender_phone: String,
    pub recipient_name: String,
    pub recipient_street: String,
    pub recipient_number: String,
    pub recipient_postal_code: String,
    pub recipient_place: String,
    pub recipient_phone: String,
    pub recipient_email: String,
    pub options_registered: String,
    pub options_cash_on_delivery: String,
    pub options_declared_value: String,
    pub options_delivery_confirmation: String,
    pub options_sms_notice: String,
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl BookingForm {
    /// The value typed into an input, by its name.
    pub fn value(&self, name: &str) -> &str {
        match name {
            "product" => &self.product,
            "weight_g" => &self.weight_g,
            "sender_name" => &self.sender_name,
            "sender_street" => &self.sender_street,
            "sender_number" => &self.sender_number,
            "sender_postal_code" => &self.sender_postal_code,
            "sender_place" => &self.sender_place,
            "sender_phone" => &self.sender_phone,
            "recipient_name" => &self.recipient_name,
            "recipient_street" => &self.recipient_street,
            "recipient_number" => &self.recipient_number,
            "recipient_postal_code" => &self.recipient_postal_code,
            "recipient_place" => &self.recipient_place,
            "recipient_phone" => &self.recipient_phone,
            "recipient_email" => &self.recipient_email,
            "options_registered" => &self.options_registered,
            "options_cash_on_delivery" => &self.options_cash_on_delivery,
            "options_declared_value" => &self.options_declared_value,
            "options_delivery_confirmation" => &self.options_delivery_confirmation,
            "options_sms_notice" => &self.options_sms_notice,
            _ => "",
        }
    }

    pub fn checked(&self, name: &str) -> bool {
        !self.value(name).is_empty()
    }

    /// The shipment the form asks for, and what could not even be read (a weight that is
    /// not a number, an amount that is not one). Unreadable values are left out, so the
    /// shipment's own check can still report everything else.
    pub fn to_input(&self) -> (ShipmentInput, Vec<FieldError>) {
        let mut errors = Vec::new();
        let product = match Product::parse(&self.product) {
            Some(p) => p,
            None => {
                let rule = if self.product.trim().is_empty() {
                    Rule::Required
                } else {
                    Rule::Product
                };
                errors.push(FieldError::new("product", rule));
                Product::Letter
            }
        };
        let weight_g = parse_grams(&self.weight_g).unwrap_or_else(|rule| {
            errors.push(FieldError::new("weight_g", rule));
            0
        });
        let mut amount = |field: &str, text: &str| {
            parse_dinars(text).unwrap_or_else(|rule| {
                errors.push(FieldError::new(field, rule));
                None
            })
        };
        let options = OptionsInput {
            registered: self.checked("options_registered"),
            cash_on_delivery: amount("options.cash_on_delivery", &self.options_cash_on_delivery),
            declared_value: amount("options.declared_value", &self.options_declared_value),
            delivery_confirmation: self.checked("options_delivery_confirmation"),
            sms_notice: self.checked("options_sms_notice"),
        };
        let input = ShipmentInput {
            product,
            weight_g,
            sender: SenderInput {
                name: self.sender_name.clone(),
                street: self.sender_street.clone(),
                number: self.sender_number.clone(),
                postal_code: self.sender_postal_code.clone(),
                place: self.sender_place.clone(),
                phone: optional(&self.sender_phone),
            },
            recipient: RecipientInput {
                name: self.recipient_name.clone(),
                street: self.recipient_street.clone(),
                number: self.recipient_number.clone(),
                postal_code: self.recipient_postal_code.clone(),
                place: self.recipient_place.clone(),
                phone: optional(&self.recipient_phone),
                email: optional(&self.recipient_email),
            },
            options,
        };
        (input, errors)
    }
}

/// The errors to show: what could not be read first, then the shipment's own check, one
/// message per input. When the product itself is unknown, the rules that depend on it
/// (weight limits, options) are left out: they were checked against a stand-in.
pub fn merge(read: Vec<FieldError>, checked: Vec<FieldError>) -> Vec<FieldError> {
    let product_unknown = read.iter().any(|e| e.field == "product");
    let mut out = read;
    for e in checked {
        let depends_on_product = e.field == "weight_g" || e.field.starts_with("options");
        if (product_unknown && depends_on_product) || out.iter().any(|o| o.field == e.field) {
            continue;
        }
        out.push(e);
    }
    let position = |e: &FieldError| {
        let name = e.form_name();
        FORM_ORDER
            .iter()
            .position(|n| *n == name)
            .unwrap_or(FORM_ORDER.len())
    };
    out.sort_by_key(position);
    out
}

/// An error as the page shows it: next to its input, and in the summary above the form.
pub struct ErrorView {
    /// The input's name and id.
    pub name: String,
    /// What the summary calls the input: `Прималац: Поштански број`.
    pub label: String,
    pub message: String,
}

/// The catalogue key of an input's label.
pub fn label_key(field: &str) -> &'static str {
    match field {
        "name" => "booking.field.name",
        "street" => "booking.field.street",
        "number" => "booking.field.number",
        "postal_code" => "booking.field.postal_code",
        "place" => "booking.field.place",
        "phone" => "booking.field.phone",
        "email" => "booking.field.email",
        "product" => "booking.field.product",
        "weight_g" => "booking.field.weight",
        "registered" => "booking.option.registered",
        "cash_on_delivery" => "booking.option.cash_on_delivery",
        "declared_value" => "booking.option.declared_value",
        "delivery_confirmation" => "booking.option.delivery_confirmation",
        _ => "booking.option.sms_notice",
    }
}

pub fn error_views(ctx: &PageCtx, errors: &[FieldError]) -> Vec<ErrorView> {
    errors
        .iter()
        .map(|e| {
            let (group, field) = match e.field.split_once('.') {
                Some(("sender", f)) => (Some("booking.sender"), f),
                Some(("recipient", f)) => (Some("booking.recipient"), f),
                Some((_, f)) => (None, f),
                None => (None, e.field.as_str()),
            };
            let label = match group {
                Some(g) => format!("{}: {}", ctx.t(g), ctx.t(label_key(field))),
                None => ctx.t(label_key(field)).to_owned(),
            };
            let args = e.rule.args();
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ErrorView {
                name: e.form_name(),
                label,
                message: ctx.f(&format!("booking.rule.{}", e.rule.key()), &args),
            }
        })
        .collect()
}

/// A text input of an address block.
pub struct Input {
    pub name: String,
    pub label: &'static str,
    pub value: String,
    /// `text`, `tel` or `email`.
    pub kind: &'static str,
    pub autocomplete: &'static str,
    /// `inputmode` for phones' keyboards.
    pub mode: &'static str,
    pub required: bool,
    pub max: usize,
    pub help: Option<&'static str>,
    pub error: Option<String>,
}

impl Input {
    /// The ids of the help and error texts the input is described by.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("{}-help", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

/// How one input of an address block is drawn.
struct Spec {
    field: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    mode: &'static str,
    required: bool,
    max: usize,
    help: Option<&'static str>,
}

const fn spec(
    field: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    max: usize,
) -> Spec {
    Spec {
        field,
        kind,
        autocomplete,
        mode: kind,
        required: true,
        max,
        help: None,
    }
}

/// The inputs of the sender's or the recipient's block. The sender's fill in from the
/// browser's memory of the user's own address; the recipient's do not.
pub fn address_inputs(
    ctx: &PageCtx,
    form: &BookingForm,
    who: &str,
    errors: &[ErrorView],
) -> Vec<Input> {
    let own = who == "sender";
    let mut specs = vec![
        spec("name", "text", "name", 100),
        spec("street", "text", "address-line1", 100),
        spec("number", "text", "off", 20),
        Spec {
            mode: "numeric",
            help: Some("booking.help.postal_code"),
            ..spec("postal_code", "text", "postal-code", 5)
        },
        spec("place", "text", "address-level2", 100),
        Spec {
            required: false,
            help: Some(if own {
                "booking.help.phone_sender"
            } else {
                "booking.help.phone_recipient"
            }),
            ..spec("phone", "tel", "tel", 20)
        },
    ];
    if !own {
        specs.push(Spec {
            required: false,
            ..spec("email", "email", "email", 254)
        });
    }
    specs
        .into_iter()
        .map(|s| {
            let name = format!("{who}_{}", s.field);
            Input {
                label: ctx.t(label_key(s.field)),
                value: form.value(&name).to_owned(),
                error: error_of(errors, &name),
                name,
                kind: s.kind,
                autocomplete: if own { s.autocomplete } else { "off" },
                mode: s.mode,
                required: s.required,
                max: s.max,
                help: s.help.map(|h| ctx.t(h)),
            }
        })
        .collect()
}

/// A fieldset of inputs.
pub struct Block {
    pub legend: &'static str,
    pub inputs: Vec<Input>,
}

/// A checkbox.
pub struct Check {
    pub name: &'static str,
    pub label: &'static str,
    pub checked: bool,
    pub error: Option<String>,
}

fn error_of(errors: &[ErrorView], name: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.message.clone())
}

/// The weight, and the amounts of the options that have one.
pub fn item_inputs(ctx: &PageCtx, form: &BookingForm, errors: &[ErrorView]) -> (Input, Vec<Input>) {
    let input =
        |name: &str, label: &'static str, mode: &'static str, help: Option<&'static str>| Input {
            name: name.to_owned(),
            label: ctx.t(label),
            value: form.value(name).to_owned(),
            kind: "text",
            autocomplete: "off",
            mode,
            required: help.is_none(),
            max: 20,
            help: help.map(|h| ctx.t(h)),
            error: error_of(errors, name),
        };
    let weight = input("weight_g", "booking.field.weight", "numeric", None);
    let amounts = vec![
        input(
            "options_cash_on_delivery",
            "booking.option.cash_on_delivery",
            "decimal",
            Some("booking.option.amount_help"),
        ),
        input(
            "options_declared_value",
            "booking.option.declared_value",
            "decimal",
            Some("booking.option.amount_help"),
        ),
    ];
    (weight, amounts)
}

/// The options that are ticked or not.
pub fn checks(ctx: &PageCtx, form: &BookingForm, errors: &[ErrorView]) -> Vec<Check> {
    [
        ("options_registered", "booking.option.registered_help"),
        (
            "options_delivery_confirmation",
            "booking.option.delivery_confirmation",
        ),
        ("options_sms_notice", "booking.option.sms_notice"),
    ]
    .into_iter()
    .map(|(name, label)| Check {
        name,
        label: ctx.t(label),
        checked: form.checked(name),
        error: error_of(errors, name),
    })
    .collect()
}
