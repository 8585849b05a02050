//! The payment order form: fill it (by hand, from a saved payee, or from an IPS QR code),
//! see the fee of each method ("show the fee"), then pay by card (to the acquirer's page) or
//! by IPS (to the payment's page with its QR code). No JavaScript.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use eposta_kernel::App;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Query};
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::principal::SessionUser;
use serde::Deserialize;
use uuid::Uuid;

use super::form::{PaymentForm, fill_from_ips_qr, input_of};
use super::{citizen_owner, rule_text};
use crate::domain::{FieldError, Method};
use crate::fees::FeeSchedule;
use crate::provider;
use crate::service::{self, NextAction, payees};

/// A rule broken, as the page shows it.
pub struct ErrorView {
    pub input: &'static str,
    pub label: &'static str,
    pub message: String,
}

/// One method's price, for the fee step.
pub struct FeeView {
    pub method: &'static str,
    pub label: &'static str,
    /// The pay button's text.
    pub button: &'static str,
    pub fee: String,
    pub total: String,
    /// Why this method cannot be used for this amount, if it cannot.
    pub unavailable: Option<String>,
}

#[derive(Template)]
#[template(path = "payments/form.html")]
pub struct FormPage {
    pub ctx: PageCtx,
    pub f: PaymentForm,
    pub errors: Vec<ErrorView>,
    pub fees: Vec<FeeView>,
    pub example_fees: bool,
    pub payees: Vec<(Uuid, String)>,
    /// A message of success (`pay.new.photo_read`), if any.
    pub notice: Option<&'static str>,
}

/// One input of the form.
pub struct InputView {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub max: usize,
    pub auto: &'static str,
    pub mode: &'static str,
    pub help: Option<&'static str>,
    /// More than one: a text area of this many rows.
    pub lines: usize,
    pub error: Option<String>,
}

impl InputView {
    /// The ids of the help and error texts, for `aria-describedby`.
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

impl FormPage {
    /// The message for an input, if the last try broke a rule there.
    pub fn err(&self, input: &str) -> Option<&str> {
        error_of(&self.errors, input)
    }

    /// The uplatnica's fields, in three groups: payer, payee, payment.
    pub fn blocks(&self) -> Vec<(&'static str, Vec<InputView>)> {
        order_blocks(&self.f, &self.errors)
    }
}

/// The message for an input among `errors`.
pub(crate) fn error_of<'a>(errors: &'a [ErrorView], input: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.input == input)
        .map(|e| e.message.as_str())
}

/// The uplatnica's fields of `f`, in three groups (payer, payee, payment), each with its
/// message from `errors`: the citizen's form and the counter's draw the same inputs.
pub(crate) fn order_blocks(
    f: &PaymentForm,
    errors: &[ErrorView],
) -> Vec<(&'static str, Vec<InputView>)> {
    use crate::domain::order::{MAX_ADDRESS, MAX_NAME, MAX_PURPOSE};
    let input = |name: &'static str,
                 value: &str,
                 max: usize,
                 (auto, mode, lines): (&'static str, &'static str, usize),
                 help: Option<&'static str>| InputView {
        name,
        label: label_key(name),
        value: value.to_owned(),
        max,
        auto,
        mode,
        help,
        lines,
        error: error_of(errors, name).map(str::to_owned),
    };
    let text = ("off", "text", 1);
    vec![
        (
            "pay.new.payer",
            vec![
                input(
                    "payer_name",
                    &f.payer_name,
                    MAX_NAME,
                    ("name", "text", 1),
                    None,
                ),
                input(
                    "payer_address",
                    &f.payer_address,
                    MAX_ADDRESS,
                    ("street-address", "text", 2),
                    None,
                ),
            ],
        ),
        (
            "pay.new.payee",
            vec![
                input("payee_name", &f.payee_name, MAX_NAME, text, None),
                input(
                    "payee_address",
                    &f.payee_address,
                    MAX_ADDRESS,
                    ("off", "text", 2),
                    None,
                ),
                input(
                    "payee_account",
                    &f.payee_account,
                    22,
                    ("off", "numeric", 1),
                    Some("pay.help.account"),
                ),
            ],
        ),
        (
            "pay.new.payment",
            vec![
                input("purpose", &f.purpose, MAX_PURPOSE, text, None),
                input(
                    "payment_code",
                    &f.payment_code,
                    3,
                    ("off", "numeric", 1),
                    Some("pay.help.payment_code"),
                ),
                input(
                    "amount",
                    &f.amount,
                    16,
                    ("off", "decimal", 1),
                    Some("pay.help.amount"),
                ),
                input(
                    "reference_model",
                    &f.reference_model,
                    2,
                    ("off", "numeric", 1),
                    Some("pay.help.model"),
                ),
                input("reference_number", &f.reference_number, 33, text, None),
            ],
        ),
    ]
}

/// The label of an input, for the list of errors.
fn label_key(input: &str) -> &'static str {
    match input {
        "payer_name" => "pay.field.payer_name",
        "payer_address" => "pay.field.payer_address",
        "payee_name" => "pay.field.payee_name",
        "payee_address" => "pay.field.payee_address",
        "payee_account" => "pay.field.payee_account",
        "purpose" => "pay.field.purpose",
        "payment_code" => "pay.field.payment_code",
        "amount" => "pay.field.amount",
        "reference_number" => "pay.field.reference",
        "reference_model" => "pay.field.model",
        "ips_qr" => "pay.field.ips_qr",
        "method" => "pay.field.method",
        "photo" => "pay.field.photo",
        _ => "pay.field.form",
    }
}

pub(crate) fn error_views(ctx: &PageCtx, errors: &[FieldError]) -> Vec<ErrorView> {
    errors
        .iter()
        .map(|e| {
            let input = input_of(e);
            ErrorView {
                input,
                label: ctx.t(label_key(input)),
                message: rule_text(ctx, &e.rule),
            }
        })
        .collect()
}

pub(super) async fn page(
    app: &App,
    ctx: PageCtx,
    user: &SessionUser,
    f: PaymentForm,
    errors: &[FieldError],
    fees: Vec<FeeView>,
) -> Result<FormPage, PageError> {
    let schedule = FeeSchedule::configured(&app.config)?;
    let payees = payees::list(app, user)
        .await?
        .into_iter()
        .map(|p| (p.id, ctx.script(&p.name)))
        .collect();
    Ok(FormPage {
        errors: error_views(&ctx, errors),
        example_fees: schedule.example,
        fees,
        payees,
        notice: None,
        f,
        ctx,
    })
}

#[derive(Deserialize)]
pub struct NewQuery {
    payee: Option<Uuid>,
}

pub async fn new_form(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let mut f = PaymentForm {
        payer_name: user.display_name.clone(),
        payment_code: "289".into(),
        submission: service::create::submission_key(),
        ..PaymentForm::default()
    };
    if let Some(id) = q.payee {
        f.fill_from_payee(&payees::get(&app, &user, id).await?);
    }
    render(&page(&app, ctx, &user, f, &[], Vec::new()).await?)
}

/// The fee of each method for the form's amount (the form is valid otherwise).
fn fee_views(app: &App, ctx: &PageCtx, amount_para: i64) -> Result<Vec<FeeView>, PageError> {
    let schedule = FeeSchedule::configured(&app.config)?;
    let card_on = provider::card_provider(app).is_some();
    Ok([
        (Method::Card, "pay.method.card", "pay.new.pay_card"),
        (Method::Ips, "pay.method.ips", "pay.new.pay_ips"),
    ]
    .into_iter()
    .map(|(m, label, button)| {
        let q = schedule.quote(m, amount_para);
        let unavailable = match &q {
            Err(e) => Some(rule_text(ctx, &e.rule)),
            Ok(_) if m == Method::Card && !card_on => {
                Some(ctx.t("pay.rule.method_unavailable").to_owned())
            }
            Ok(_) => None,
        };
        let (fee, total) = q.map_or((String::new(), String::new()), |q| {
            (
                Money::rsd(q.fee_para).to_string(),
                Money::rsd(q.total_para()).to_string(),
            )
        });
        FeeView {
            method: m.as_str(),
            label: ctx.t(label),
            button: ctx.t(button),
            fee,
            total,
            unavailable,
        }
    })
    .collect())
}

/// Every step of the form: fill from a QR code, show the fee, pay.
pub async fn submit(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(mut f): Form<PaymentForm>,
) -> Result<Response, PageError> {
    if !service::create::is_submission_key(f.submission.trim()) {
        f.submission = service::create::submission_key();
    }
    let method = match f.action.as_str() {
        "fill_qr" => {
            let text = f.ips_qr.clone();
            return match fill_from_ips_qr(&mut f, &text) {
                Ok(()) => render(&page(&app, ctx, &user, f, &[], Vec::new()).await?),
                Err(e) => render_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &page(&app, ctx, &user, f, &[e], Vec::new()).await?,
                ),
            };
        }
        "pay_card" => "card",
        "pay_ips" => "ips",
        // "quote", or Enter in a field: show the fees.
        _ => "",
    };
    let owner = citizen_owner(&user)?;
    // Checked as an IPS order for the fee step: both methods take the same fields.
    let (input, read_errors) = f.to_input(if method.is_empty() { "ips" } else { method });
    let checked = service::create::quote(&app, owner, &input)?;
    let errors = match (checked, read_errors.is_empty()) {
        (Ok(_), true) => Vec::new(),
        (Ok(_), false) => read_errors,
        (Err(mut e), _) => {
            let mut all = read_errors;
            all.append(&mut e);
            all
        }
    };
    // The fee step shows both methods even when the amount is over one method's limit
    // (the table says which).
    let amount = input.amount.map_or(0, |m| m.minor);
    let errors: Vec<FieldError> = if method.is_empty() {
        errors
            .into_iter()
            .filter(|e| !matches!(e.rule, crate::domain::Rule::AmountOverMax(_)))
            .collect()
    } else {
        errors
    };
    if !errors.is_empty() {
        let page = page(&app, ctx, &user, f, &errors, Vec::new()).await?;
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    if method.is_empty() {
        let fees = fee_views(&app, &ctx, amount)?;
        return render(&page(&app, ctx, &user, f, &[], fees).await?);
    }
    let submission = f.submission.trim().to_owned();
    match service::create(&app, owner, &input, Some(&submission)).await? {
        Ok(created) => {
            let to = match created.next {
                NextAction::Redirect { url } => url,
                _ => format!("/payments/{}", created.payment.id),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(errors) => {
            let fees = fee_views(&app, &ctx, amount)?;
            let page = page(&app, ctx, &user, f, &errors, fees).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
