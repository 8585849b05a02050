//! The counter's cash payment screens, made for the keyboard and a QR scanner that types:
//! the scan field has the focus; "fill in" takes the scanned code; Enter in a field shows the
//! fee; the confirm button then has the focus, Enter takes the payment. The payment's page
//! prints its receipt.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use eposta_formats::payment_code::PaymentCode;
use eposta_kernel::clock::belgrade;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Path, Query};
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde::Deserialize;
use uuid::Uuid;

use super::service;
use crate::domain::FieldError;
use crate::domain::order::parse_dinars;
use crate::fees::FeeSchedule;
use crate::pages::form::{PaymentForm, fill_from_ips_qr};
use crate::pages::new::{ErrorView, InputView, error_of, error_views, order_blocks};
use crate::service::create::{is_submission_key, submission_key};

/// The fee step: what the customer pays.
struct CashView {
    amount: String,
    fee: String,
    total: String,
    total_para: i64,
}

#[derive(Template)]
#[template(path = "counter/pay.html")]
struct PayPage {
    ctx: PageCtx,
    f: PaymentForm,
    errors: Vec<ErrorView>,
    blocks: Vec<(&'static str, Vec<InputView>)>,
    cash: Option<CashView>,
    /// A message for the whole form (the day is closed, the amount changed).
    error: Option<String>,
    notice: Option<&'static str>,
    closed: bool,
    example_fees: bool,
    /// The id of the input or button that gets the focus.
    focus: &'static str,
}

impl PayPage {
    fn err(&self, input: &str) -> Option<&str> {
        error_of(&self.errors, input)
    }
}

/// The form as posted: the payment order and the total the clerk told the customer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct CounterForm {
    #[serde(flatten)]
    f: PaymentForm,
    quoted_total: String,
}

/// Cash is paid with a cash payment code: a bill's non-cash code (2xx, as IPS QR codes on
/// bills carry) becomes its cash twin (1xx) with the same basis, as on a paper payment order
/// paid at a counter. Anything else is left for the order's checks.
pub fn cash_code(code: &str) -> String {
    match PaymentCode::parse(code.trim()) {
        Ok(c) => format!("1{:02}", c.basis()),
        Err(_) => code.to_owned(),
    }
}

struct Draw<'a> {
    errors: &'a [FieldError],
    cash: Option<CashView>,
    error: Option<String>,
    notice: Option<&'static str>,
    focus: &'static str,
}

async fn page(
    app: &App,
    ctx: PageCtx,
    user: &SessionUser,
    f: PaymentForm,
    d: Draw<'_>,
) -> Result<PayPage, PageError> {
    let errors = error_views(&ctx, d.errors);
    let blocks = order_blocks(&f, &errors);
    Ok(PayPage {
        closed: service::closed_today(app, user).await?,
        example_fees: FeeSchedule::configured(&app.config)?.example,
        blocks,
        errors,
        cash: d.cash,
        error: d.error,
        notice: d.notice,
        focus: d.focus,
        f,
        ctx,
    })
}

pub(super) async fn new_form(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
) -> Result<Response, PageError> {
    service::office_of(&app, &user).await?;
    let f = PaymentForm {
        payment_code: "189".into(),
        submission: submission_key(),
        ..PaymentForm::default()
    };
    let draw = Draw {
        errors: &[],
        cash: None,
        error: None,
        notice: None,
        focus: "ips_qr",
    };
    render(&page(&app, ctx, &user, f, draw).await?)
}

/// A rule the clerk cannot fix in a field (the day is closed), as the page says it.
fn message_of(e: &Error) -> Option<String> {
    match e {
        Error::Conflict(m) => Some(m.to_string()),
        Error::Invalid { field, message } => Some(format!("{field}: {message}")),
        _ => None,
    }
}

/// Every step of the screen: fill from the scanned code, show the fee, take the cash.
pub(super) async fn submit(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(form): Form<CounterForm>,
) -> Result<Response, PageError> {
    let CounterForm {
        mut f,
        quoted_total,
    } = form;
    if !is_submission_key(f.submission.trim()) {
        f.submission = submission_key();
    }
    let action = match f.action.as_str() {
        // Enter in a field submits with the first button, "fill in": with nothing scanned,
        // that means "show the fee".
        "fill_qr" if f.ips_qr.trim().is_empty() => "quote",
        "fill_qr" => "fill_qr",
        "confirm" => "confirm",
        _ => "quote",
    };
    if action == "fill_qr" {
        let text = f.ips_qr.clone();
        let filled = fill_from_ips_qr(&mut f, &text);
        f.payment_code = cash_code(&f.payment_code);
        let (status, errors, focus) = match &filled {
            Ok(()) => (StatusCode::OK, Vec::new(), "quote"),
            Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, vec![e.clone()], "ips_qr"),
        };
        let draw = Draw {
            errors: &errors,
            cash: None,
            error: None,
            notice: filled.is_ok().then_some("cpay.filled"),
            focus,
        };
        return render_status(status, &page(&app, ctx, &user, f, draw).await?);
    }
    f.payment_code = cash_code(&f.payment_code);
    let (input, mut errors) = f.to_input("cash");
    let checked = service::quote(&app, &user, &input).await?;
    let quote = match checked {
        Ok((_, q)) if errors.is_empty() => q,
        Ok(_) => return refuse(&app, ctx, &user, f, &errors).await,
        Err(mut e) => {
            errors.append(&mut e);
            return refuse(&app, ctx, &user, f, &errors).await;
        }
    };
    let cash = CashView {
        amount: Money::rsd(quote.amount_para).to_string(),
        fee: Money::rsd(quote.fee_para).to_string(),
        total: Money::rsd(quote.total_para()).to_string(),
        total_para: quote.total_para(),
    };
    let told = quoted_total.trim().parse::<i64>().ok();
    if action == "quote" || told != Some(quote.total_para()) {
        // The fee step; or the order changed since the customer was told the total.
        let notice = (action == "confirm").then_some("cpay.changed");
        let draw = Draw {
            errors: &[],
            cash: Some(cash),
            error: None,
            notice,
            focus: "confirm",
        };
        return render(&page(&app, ctx, &user, f, draw).await?);
    }
    let submission = f.submission.trim().to_owned();
    match service::take_cash(&app, &user, &input, &submission).await {
        Ok(Ok(created)) => {
            Ok(Redirect::to(&format!("/counter/payments/{}", created.payment.id)).into_response())
        }
        Ok(Err(errors)) => refuse(&app, ctx, &user, f, &errors).await,
        Err(e) => match message_of(&e) {
            Some(message) => {
                let message = if service::closed_today(&app, &user).await? {
                    ctx.t("cpay.day_closed").to_owned()
                } else {
                    message
                };
                let draw = Draw {
                    errors: &[],
                    cash: None,
                    error: Some(message),
                    notice: None,
                    focus: "ips_qr",
                };
                let status = if matches!(e, Error::Conflict(_)) {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                render_status(status, &page(&app, ctx, &user, f, draw).await?)
            }
            None => Err(e.into()),
        },
    }
}

async fn refuse(
    app: &App,
    ctx: PageCtx,
    user: &SessionUser,
    f: PaymentForm,
    errors: &[FieldError],
) -> Result<Response, PageError> {
    let draw = Draw {
        errors,
        cash: None,
        error: None,
        notice: None,
        focus: "quote",
    };
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(app, ctx, user, f, draw).await?,
    )
}

/// A refund of the payment, as its page lists it.
struct RefundLine {
    at: String,
    amount: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "counter/paid.html")]
struct PaidPage {
    ctx: PageCtx,
    id: Uuid,
    confirmation: String,
    state: &'static str,
    payer: String,
    payee: String,
    account: String,
    purpose: String,
    payment_code: String,
    reference: Option<String>,
    amount: String,
    fee: String,
    total: String,
    at: String,
    refunds: Vec<RefundLine>,
    refunded: Option<String>,
    /// What may still be paid back, when the form is shown.
    left: Option<String>,
    /// Why nothing can be paid back (the locale key), when something is left.
    no_pay_back: Option<&'static str>,
    back_amount: String,
    back_reason: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

/// What the pay-back form had and how it went.
#[derive(Default)]
struct Back {
    amount: String,
    reason: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn paid_page(
    app: &App,
    ctx: PageCtx,
    user: &SessionUser,
    id: Uuid,
    back: Back,
) -> Result<PaidPage, PageError> {
    let p = service::for_office(app, user, id).await?;
    let refunds = crate::service::refunds_of(app, p.id).await?;
    let committed: i64 = refunds
        .iter()
        .filter(|r| r.state != "failed")
        .map(|r| r.amount_para)
        .sum();
    let left = p.total_para() - committed;
    let remitted = {
        let mut conn = app.db.conn().await?;
        crate::store::remitted_in(&mut conn, p.id).await?.is_some()
    };
    let no_pay_back = if left <= 0 || !p.state.is_paid() {
        None
    } else if remitted {
        Some("cpay.back.remitted")
    } else if service::closed_today(app, user).await? {
        Some("cpay.back.day_closed")
    } else {
        None
    };
    let can = left > 0 && p.state.is_paid() && no_pay_back.is_none();
    Ok(PaidPage {
        id: p.id,
        confirmation: p.confirmation_grouped(),
        state: p.state.as_str(),
        payer: ctx.script(&p.payer.name),
        payee: ctx.script(&p.payee.name),
        account: p.payee_account.dashed(),
        purpose: ctx.script(&p.purpose),
        payment_code: p.payment_code.to_string(),
        reference: p.reference.as_ref().map(ToString::to_string),
        amount: p.amount().to_string(),
        fee: p.fee().to_string(),
        total: p.total().to_string(),
        at: belgrade(p.completed_at.unwrap_or(p.created_at)),
        refunds: refunds
            .iter()
            .filter(|r| r.state == "succeeded")
            .map(|r| RefundLine {
                at: belgrade(r.created_at),
                amount: Money::rsd(r.amount_para).to_string(),
                reason: r.reason.clone().unwrap_or_default(),
            })
            .collect(),
        refunded: (p.refunded_para > 0).then(|| p.refunded().to_string()),
        left: can.then(|| Money::rsd(left).to_string()),
        no_pay_back,
        back_amount: back.amount,
        back_reason: back.reason,
        error: back.error,
        notice: back.notice,
        ctx,
    })
}

#[derive(Deserialize)]
pub(super) struct ShowQuery {
    #[serde(default)]
    paid_back: Option<String>,
}

/// `GET /counter/payments/{id}`: a cash payment taken at the user's office, with its
/// receipt to print, its refunds, and the form to pay cash back.
pub(super) async fn show(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(id): Path<Uuid>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let back = Back {
        notice: q.paid_back.is_some().then_some("cpay.back.done"),
        ..Back::default()
    };
    render(&paid_page(&app, ctx, &user, id, back).await?)
}

#[derive(Deserialize)]
pub(super) struct PayBackForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

/// `POST /counter/payments/{id}/refunds`: pays cash back (see [`super::refund::pay_back`]);
/// then back to the payment's page, which lists the refund.
pub(super) async fn pay_back(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(id): Path<Uuid>,
    Form(f): Form<PayBackForm>,
) -> Result<Response, PageError> {
    // Another office's payment is not found, whatever the form says.
    service::for_office(&app, &user, id).await?;
    let result = match parse_dinars(&f.amount) {
        Ok(Some(para)) => super::refund::pay_back(&app, &user, id, para, &f.reason).await,
        _ => Err(Error::invalid(
            "amount",
            ctx.t("cpay.back.bad_amount").to_owned(),
        )),
    };
    let (status, error) = match result {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/counter/payments/{id}?paid_back=1")).into_response());
        }
        Err(e @ (Error::Conflict(_) | Error::Invalid { .. })) => {
            let status = if matches!(e, Error::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            (status, message_of(&e))
        }
        Err(e) => return Err(e.into()),
    };
    let back = Back {
        amount: f.amount,
        reason: f.reason,
        error,
        notice: None,
    };
    render_status(status, &paid_page(&app, ctx, &user, id, back).await?)
}

/// `GET /counter/payments/{id}/receipt.pdf`: the receipt, naming the office.
pub(super) async fn receipt_pdf(
    State(app): State<App>,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let p = service::for_office(&app, &user, id).await?;
    Ok(crate::service::receipts::pdf(&app, &p).await?)
}

#[cfg(test)]
mod tests {
    use super::cash_code;

    #[test]
    fn cash_takes_the_cash_twin_of_the_payment_code() {
        let table = [
            ("289", "189"),
            ("189", "189"),
            (" 221 ", "121"),
            ("253", "153"),
            ("", ""),
            ("389", "389"),
            ("28", "28"),
        ];
        for (typed, paid) in table {
            assert_eq!(cash_code(typed), paid, "{typed:?}");
        }
    }
}
