//! The citizen's payment pages: the payment order form ([`new`]), the history of their
//! payments, one payment's page (its state, read afresh on every visit; an IPS payment's QR
//! code; the way back from the acquirer), and saved payees ([`payees`]).

pub mod form;
pub(crate) mod new;
mod payees;
mod photo;

use askama::Template;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::handler::Handler;
use axum::response::{IntoResponse, Redirect, Response};
use eposta_kernel::clock::belgrade;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Path, Query};
use eposta_kernel::web::page::{PageCtx, render};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::web::routes::{Access, Routes};
use eposta_kernel::{App, Error};
use serde::Deserialize;
use uuid::Uuid;

pub use form::{PaymentForm, fill_from_ips_qr};

use crate::domain::{Owner, Rule, State as PaymentState};
use crate::model::Payment;
use crate::service::{self, NextAction, notify};

/// Payments per page of the history.
const PAGE_SIZE: i64 = 50;

pub fn routes() -> Routes {
    Routes::new()
        .get("/payments", Access::Citizen, list)
        .get("/payments/new", Access::Citizen, new::new_form)
        .post("/payments/new", Access::Citizen, new::submit)
        .post(
            "/payments/new/photo",
            Access::Citizen,
            photo::submit.layer(DefaultBodyLimit::max(photo::MAX_UPLOAD)),
        )
        .get("/payments/payees", Access::Citizen, payees::list)
        .post("/payments/payees", Access::Citizen, payees::save)
        .post(
            "/payments/payees/{id}/delete",
            Access::Citizen,
            payees::delete,
        )
        .get("/payments/{id}", Access::Citizen, show)
        .get("/payments/{id}/return", Access::Citizen, back_from_acquirer)
        .get("/payments/{id}/qr.png", Access::Citizen, qr_png)
        .get("/payments/{id}/qr.svg", Access::Citizen, qr_svg)
        .get("/payments/{id}/receipt.pdf", Access::Citizen, receipt_pdf)
}

/// The citizen as the owner of new payments.
pub(crate) fn citizen_owner(user: &SessionUser) -> Result<Owner, Error> {
    if user.role != eposta_kernel::accounts::Role::Citizen {
        return Err(Error::Forbidden);
    }
    Ok(Owner::Citizen { user: user.id })
}

/// A rule's message in the page's language (`pay.rule.<key>`, with its arguments).
pub(crate) fn rule_text(ctx: &PageCtx, rule: &Rule) -> String {
    let args = rule.args();
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ctx.f(&format!("pay.rule.{}", rule.key()), &args)
}

pub(crate) fn state_key(s: PaymentState) -> &'static str {
    match s {
        PaymentState::Created => "pay.state.created",
        PaymentState::Pending => "pay.state.pending",
        PaymentState::Succeeded => "pay.state.succeeded",
        PaymentState::Failed => "pay.state.failed",
        PaymentState::Cancelled => "pay.state.cancelled",
        PaymentState::Expired => "pay.state.expired",
        PaymentState::Refunded => "pay.state.refunded",
        PaymentState::PartiallyRefunded => "pay.state.partially_refunded",
    }
}

pub(crate) fn method_key(m: crate::domain::Method) -> &'static str {
    match m {
        crate::domain::Method::Card => "pay.method.card",
        crate::domain::Method::Ips => "pay.method.ips",
        crate::domain::Method::Cash => "pay.method.cash",
    }
}

/// A payment in a list or on its page, in the page's language.
struct PaymentView {
    id: Uuid,
    confirmation: String,
    state: &'static str,
    /// `pending`, `succeeded`, …: for styling and tests.
    state_code: &'static str,
    method: &'static str,
    payee: String,
    amount: String,
    fee: String,
    total: String,
    refunded: Option<String>,
    created: String,
    /// Paid: the receipt can be downloaded.
    receipt: bool,
}

impl PaymentView {
    fn new(ctx: &PageCtx, p: &Payment) -> Self {
        Self {
            id: p.id,
            confirmation: p.confirmation_grouped(),
            state: ctx.t(state_key(p.state)),
            state_code: p.state.as_str(),
            method: ctx.t(method_key(p.method)),
            payee: ctx.script(&p.payee.name),
            amount: p.amount().to_string(),
            fee: p.fee().to_string(),
            total: p.total().to_string(),
            refunded: (p.refunded_para > 0).then(|| p.refunded().to_string()),
            created: belgrade(p.created_at),
            receipt: service::receipts::has_receipt(p),
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "payments/list.html")]
struct ListPage {
    ctx: PageCtx,
    payments: Vec<PaymentView>,
    prev: Option<String>,
    next: Option<String>,
}

async fn list(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let offset = i64::from(page - 1) * PAGE_SIZE;
    let (rows, more) = service::list_for_citizen(&app, &user, PAGE_SIZE, offset).await?;
    render(&ListPage {
        payments: rows.iter().map(|p| PaymentView::new(&ctx, p)).collect(),
        prev: (page > 1).then(|| format!("/payments?page={}", page - 1)),
        next: more.then(|| format!("/payments?page={}", page + 1)),
        ctx,
    })
}

/// An IPS payment's instructions as the page shows them.
struct IpsView {
    account: String,
    name: String,
    reference: String,
    payment_code: String,
    total: String,
    expires: String,
    qr: String,
}

/// A line of the payment's history.
struct HistoryView {
    at: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "payments/show.html")]
struct ShowPage {
    ctx: PageCtx,
    p: PaymentView,
    payer: Vec<String>,
    payee: Vec<String>,
    account: String,
    purpose: String,
    payment_code: String,
    reference: Option<String>,
    ips: Option<IpsView>,
    card_url: Option<String>,
    history: Vec<HistoryView>,
    saved: bool,
    can_save: bool,
}

#[derive(Deserialize)]
struct ShowQuery {
    saved: Option<String>,
}

fn lines(ctx: &PageCtx, name: &str, address: &str) -> Vec<String> {
    std::iter::once(name)
        .chain(address.lines())
        .filter(|l| !l.is_empty())
        .map(|l| ctx.script(l))
        .collect()
}

/// One payment: its state as of now (a pending card payment is checked with the acquirer on
/// every visit), its order, an IPS payment's QR code and instructions, its history.
async fn show(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(id): Path<Uuid>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let p = service::for_citizen(&app, &user, id).await?;
    let p = notify::refresh(&app, p).await?;
    let next = service::next_action(&app, &p)?;
    let (ips, card_url) = match next {
        NextAction::IpsQr(i) => (
            Some(IpsView {
                account: i.account.dashed(),
                name: i.name.replace('\n', ", "),
                reference: i.reference.to_string(),
                payment_code: i.payment_code.to_string(),
                total: eposta_kernel::money::Money::rsd(i.total_para).to_string(),
                expires: i.expires_at.map(belgrade).unwrap_or_default(),
                qr: i.qr,
            }),
            None,
        ),
        NextAction::Redirect { url } => (None, Some(url)),
        NextAction::None => (None, None),
    };
    let history = service::history(&app, id)
        .await?
        .into_iter()
        .filter_map(|h| {
            Some(HistoryView {
                at: belgrade(h.at),
                state: ctx.t(state_key(PaymentState::parse(&h.to_state)?)),
            })
        })
        .collect();
    render(&ShowPage {
        payer: lines(&ctx, &p.payer.name, &p.payer.address),
        payee: lines(&ctx, &p.payee.name, &p.payee.address),
        account: p.payee_account.dashed(),
        purpose: ctx.script(&p.purpose),
        payment_code: p.payment_code.to_string(),
        reference: p.reference.as_ref().map(ToString::to_string),
        can_save: p.channel == crate::domain::Channel::Web,
        saved: q.saved.is_some(),
        p: PaymentView::new(&ctx, &p),
        ips,
        card_url,
        history,
        ctx,
    })
}

/// Where the acquirer sends the card holder back. The visit proves nothing, so the payment
/// is checked with the acquirer, then its page is shown.
async fn back_from_acquirer(
    State(app): State<App>,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let p = service::for_citizen(&app, &user, id).await?;
    notify::refresh(&app, p).await?;
    Ok(Redirect::to(&format!("/payments/{id}")).into_response())
}

async fn qr_text(app: &App, user: &SessionUser, id: Uuid) -> Result<String, Error> {
    let p = service::for_citizen(app, user, id).await?;
    match service::next_action(app, &p)? {
        NextAction::IpsQr(i) => Ok(i.qr),
        _ => Err(Error::NotFound),
    }
}

async fn qr_png(
    State(app): State<App>,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    Ok(crate::api::qr_image(
        &qr_text(&app, &user, id).await?,
        true,
    )?)
}

async fn qr_svg(
    State(app): State<App>,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    Ok(crate::api::qr_image(
        &qr_text(&app, &user, id).await?,
        false,
    )?)
}

/// `GET /payments/{id}/receipt.pdf`: the receipt of one of the citizen's own paid payments
/// (another's is "not found"; an unpaid one is 409).
async fn receipt_pdf(
    State(app): State<App>,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let p = service::for_citizen(&app, &user, id).await?;
    Ok(service::receipts::pdf(&app, &p).await?)
}
