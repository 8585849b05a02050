//! How the receiving pages show an item and its forms: the recipient's view in the page's
//! language and script, the forms' values, and the messages of broken rules.

use askama::Template;
use eposta_kernel::money::Money;
use eposta_kernel::web::page::PageCtx;
use serde::Deserialize;

use super::domain::{Destination, Document};
use super::service::{CollectorInput, DestinationChoice, RecipientView};
use crate::booking::form::{Input, label_key};
use crate::booking::pages::product_key;
use crate::domain::{FieldError, RecipientInput};
use crate::tracking::pages::EventView;

/// The delivery form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DeliveryForm {
    /// `home` or `pickup`.
    pub delivery: String,
    /// The office code, for `pickup`.
    pub office: String,
}

impl DeliveryForm {
    /// The choice asked for; `None` when neither was picked.
    pub fn choice(&self) -> Option<DestinationChoice> {
        match Destination::parse(&self.delivery)? {
            Destination::Home => Some(DestinationChoice::Home),
            Destination::Pickup => Some(DestinationChoice::Pickup {
                office: self.office.clone(),
            }),
            Destination::Address => None,
        }
    }
}

/// The redirect form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AddressForm {
    pub address_name: String,
    pub address_street: String,
    pub address_number: String,
    pub address_postal_code: String,
    pub address_place: String,
}

impl AddressForm {
    pub fn input(&self) -> RecipientInput {
        RecipientInput {
            name: self.address_name.clone(),
            street: self.address_street.clone(),
            number: self.address_number.clone(),
            postal_code: self.address_postal_code.clone(),
            place: self.address_place.clone(),
            phone: None,
            email: None,
        }
    }
}

/// The collector form as posted; `action=remove` forgets the collector.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectorForm {
    pub action: String,
    pub collector_name: String,
    pub collector_document: String,
    pub collector_digits: String,
}

impl CollectorForm {
    pub fn input(&self) -> Option<CollectorInput> {
        (self.action != "remove").then(|| CollectorInput {
            name: self.collector_name.clone(),
            document: self.collector_document.clone(),
            digits: self.collector_digits.clone(),
        })
    }
}

/// The three forms' values: as posted after an error, else as the recipient chose before.
#[derive(Debug, Clone, Default)]
pub struct Forms {
    pub delivery: DeliveryForm,
    pub address: AddressForm,
    pub collector: CollectorForm,
}

impl Forms {
    pub fn current(v: &RecipientView) -> Forms {
        let Some(c) = &v.choice else {
            return Forms::default();
        };
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        Forms {
            delivery: DeliveryForm {
                delivery: match c.destination() {
                    Some(Destination::Pickup) => "pickup".into(),
                    Some(Destination::Home) => "home".into(),
                    _ => String::new(),
                },
                office: text(&c.office_code),
            },
            address: AddressForm {
                address_name: text(&c.address_name),
                address_street: text(&c.address_street),
                address_number: text(&c.address_number),
                address_postal_code: text(&c.address_postal_code),
                address_place: text(&c.address_place),
            },
            collector: CollectorForm {
                action: String::new(),
                collector_name: text(&c.collector_name),
                collector_document: text(&c.collector_document),
                collector_digits: text(&c.collector_document_digits),
            },
        }
    }
}

/// A broken rule as the page shows it: next to its input and in the summary.
pub struct ErrorView {
    pub name: String,
    pub label: String,
    pub message: String,
}

fn label(field: &str) -> &'static str {
    match field {
        "office" => "receive.delivery.office",
        "delivery" => "receive.delivery.legend",
        "collector.name" => "receive.collector.name",
        "collector.document" => "receive.collector.document",
        "collector.digits" => "receive.collector.digits",
        f => label_key(f.rsplit('.').next().unwrap_or(f)),
    }
}

pub fn error_views(ctx: &PageCtx, errors: &[FieldError]) -> Vec<ErrorView> {
    errors
        .iter()
        .map(|e| {
            let args = e.rule.args();
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ErrorView {
                name: e.form_name(),
                label: ctx.t(label(&e.field)).to_owned(),
                message: ctx.f(&format!("booking.rule.{}", e.rule.key()), &args),
            }
        })
        .collect()
}

fn error_of(errors: &[ErrorView], name: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.message.clone())
}

fn input(
    ctx: &PageCtx,
    errors: &[ErrorView],
    name: &str,
    label: &'static str,
    value: &str,
    max: usize,
) -> Input {
    Input {
        name: name.to_owned(),
        label: ctx.t(label),
        value: value.to_owned(),
        kind: "text",
        autocomplete: "off",
        mode: "text",
        required: true,
        max,
        help: None,
        error: error_of(errors, name),
    }
}

/// Where an item waits for pickup, as shown.
pub struct PickupView {
    pub office: String,
    pub hours: String,
    pub deadline: String,
}

/// A document kind in the collector form's list.
pub struct DocumentChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "postal/receive_item.html")]
pub struct ItemPage {
    pub ctx: PageCtx,
    pub number: String,
    pub grouped: String,
    pub saved: Option<&'static str>,
    pub refusal: Option<&'static str>,
    pub errors: Vec<ErrorView>,
    pub status: &'static str,
    pub product: &'static str,
    pub sender: String,
    pub cod: Option<String>,
    pub destination: String,
    pub collector: Option<String>,
    pub pickup: Option<PickupView>,
    pub events: Vec<EventView>,
    /// Why the delivery can no longer change; `None` when it can.
    pub destination_closed: Option<&'static str>,
    pub collector_closed: Option<&'static str>,
    pub home_label: String,
    pub home_checked: bool,
    pub pickup_checked: bool,
    pub office: String,
    pub office_error: Option<String>,
    pub address_inputs: Vec<Input>,
    pub collector_name: Input,
    pub documents: Vec<DocumentChoice>,
    pub document_error: Option<String>,
    pub collector_digits: Input,
    pub has_collector: bool,
    pub by_account: bool,
}

/// What happened before the page is drawn: saved, refused for the item's status, or input
/// that broke rules.
#[derive(Default)]
pub struct Outcome {
    pub saved: Option<&'static str>,
    pub refusal: Option<&'static str>,
    pub errors: Vec<FieldError>,
}

fn address_line(ctx: &PageCtx, street: &str, number: &str, code: &str, place: &str) -> String {
    format!(
        "{} {}, {code} {}",
        ctx.script(street),
        ctx.script(number),
        ctx.script(place)
    )
}

pub fn item_page(ctx: PageCtx, v: &RecipientView, forms: &Forms, outcome: Outcome) -> ItemPage {
    let errors = error_views(&ctx, &outcome.errors);
    let item = &v.item;
    let home_address = address_line(
        &ctx,
        &item.recipient_street,
        &item.recipient_number,
        &item.recipient_postal_code,
        &item.recipient_place,
    );
    let destination = match v
        .choice
        .as_ref()
        .and_then(|c| c.destination().map(|d| (c, d)))
    {
        Some((c, Destination::Pickup)) => ctx.f(
            "receive.destination.pickup",
            &[(
                "office",
                &format!(
                    "{} ({})",
                    ctx.script(c.office_name.as_deref().unwrap_or_default()),
                    c.office_code.as_deref().unwrap_or_default()
                ),
            )],
        ),
        Some((c, Destination::Address)) => ctx.f(
            "receive.destination.address",
            &[(
                "address",
                &format!(
                    "{}, {}",
                    ctx.script(c.address_name.as_deref().unwrap_or_default()),
                    address_line(
                        &ctx,
                        c.address_street.as_deref().unwrap_or_default(),
                        c.address_number.as_deref().unwrap_or_default(),
                        c.address_postal_code.as_deref().unwrap_or_default(),
                        c.address_place.as_deref().unwrap_or_default(),
                    )
                ),
            )],
        ),
        _ => ctx.f("receive.destination.home", &[("address", &home_address)]),
    };
    let collector = v.choice.as_ref().and_then(|c| {
        let name = ctx.script(c.collector_name.as_deref()?);
        let document = c.collector_document.as_deref().and_then(Document::parse);
        Some(match (document, c.collector_document_digits.as_deref()) {
            (Some(d), Some(digits)) => ctx.f(
                "receive.collector.shown",
                &[
                    ("name", &name),
                    ("document", ctx.t(d.text_key())),
                    ("digits", digits),
                ],
            ),
            _ => name,
        })
    });
    let pickup = v.pickup.as_ref().map(|p| PickupView {
        office: match (&p.office_name, &p.office_address) {
            (Some(n), Some(a)) => {
                format!("{}, {} ({})", ctx.script(n), ctx.script(a), p.office_code)
            }
            (Some(n), None) => format!("{} ({})", ctx.script(n), p.office_code),
            _ => p.office_code.clone(),
        },
        hours: p
            .hours
            .as_deref()
            .filter(|h| !h.trim().is_empty())
            .map_or_else(
                || ctx.t("receive.pickup.no_hours").to_owned(),
                |h| ctx.script(h),
            ),
        deadline: p.deadline.clone(),
    });
    let a = &forms.address;
    let address_inputs = vec![
        input(
            &ctx,
            &errors,
            "address_name",
            "booking.field.name",
            &a.address_name,
            100,
        ),
        input(
            &ctx,
            &errors,
            "address_street",
            "booking.field.street",
            &a.address_street,
            100,
        ),
        input(
            &ctx,
            &errors,
            "address_number",
            "booking.field.number",
            &a.address_number,
            20,
        ),
        Input {
            mode: "numeric",
            help: Some(ctx.t("booking.help.postal_code")),
            ..input(
                &ctx,
                &errors,
                "address_postal_code",
                "booking.field.postal_code",
                &a.address_postal_code,
                5,
            )
        },
        input(
            &ctx,
            &errors,
            "address_place",
            "booking.field.place",
            &a.address_place,
            100,
        ),
    ];
    let c = &forms.collector;
    let collector_name = input(
        &ctx,
        &errors,
        "collector_name",
        "receive.collector.name",
        &c.collector_name,
        100,
    );
    let collector_digits = Input {
        mode: "numeric",
        required: false,
        help: Some(ctx.t("receive.collector.digits_help")),
        ..input(
            &ctx,
            &errors,
            "collector_digits",
            "receive.collector.digits",
            &c.collector_digits,
            4,
        )
    };
    let documents = Document::ALL
        .into_iter()
        .map(|d| DocumentChoice {
            value: d.as_str(),
            label: ctx.t(d.text_key()),
            selected: c.collector_document == d.as_str(),
        })
        .collect();
    ItemPage {
        number: item.tracking_number.clone(),
        grouped: item.grouped(),
        saved: outcome.saved,
        refusal: outcome.refusal,
        office_error: error_of(&errors, "office"),
        document_error: error_of(&errors, "collector_document"),
        errors,
        status: ctx.t(v.status.text_key()),
        product: ctx.t(product_key(&item.product)),
        sender: ctx.script(&item.sender_name),
        cod: item.cod_minor.map(|m| Money::rsd(m).to_string()),
        destination,
        collector,
        pickup,
        events: v.events.iter().map(|e| EventView::new(&ctx, e)).collect(),
        destination_closed: v.destination_rule.err().map(|r| ctx.t(r.key())),
        collector_closed: v.collector_rule.err().map(|r| ctx.t(r.key())),
        home_label: ctx.f("receive.delivery.home", &[("address", &home_address)]),
        home_checked: forms.delivery.delivery == "home",
        pickup_checked: forms.delivery.delivery == "pickup",
        office: forms.delivery.office.clone(),
        address_inputs,
        collector_name,
        documents,
        collector_digits,
        has_collector: v
            .choice
            .as_ref()
            .is_some_and(|c| c.collector_name.is_some()),
        by_account: matches!(v.proof, super::service::Proof::Account(_)),
        ctx,
    }
}
