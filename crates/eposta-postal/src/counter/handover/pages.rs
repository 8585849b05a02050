//! The hand-over screen, made for the keyboard: the tracking-number field has the focus (a
//! scanner types the number and Enter), then the "who collected it" choice; Space ticks the
//! confirmations and Enter hands the item over.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use eposta_kernel::clock::belgrade;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Query};
use eposta_kernel::web::page::{PageCtx, render_status};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde::Deserialize;

use super::domain::{Collected, Confirmation, Refusal};
use super::service::{self, Handover};
use crate::booking::pages::product_key;
use crate::tracking::domain::Status;

/// The named collector as the clerk sees it.
struct CollectorShown {
    name: String,
    document: Option<&'static str>,
    digits: Option<String>,
}

/// The item as the hand-over screen shows it.
struct ItemView {
    number: String,
    grouped: String,
    product: &'static str,
    status: &'static str,
    /// Where it waits, or that it does not wait at an office.
    place: String,
    refusal: Option<String>,
    addressee: Option<String>,
    collector: Option<CollectorShown>,
    cod: Option<String>,
}

fn refusal_text(ctx: &PageCtx, h: &Handover, r: &Refusal) -> String {
    let office = r.office().map(|o| h.office_named(o)).unwrap_or_default();
    ctx.f(r.key(), &[("office", &ctx.script(&office))])
}

impl ItemView {
    fn new(ctx: &PageCtx, h: &Handover) -> Self {
        let ready = h.rule.is_ok();
        let place = match (&h.waiting_at, h.since) {
            (Some(o), Some(since)) => ctx.f(
                if o.code == h.here {
                    "counter.handover.waits_here"
                } else {
                    "counter.handover.waits_at"
                },
                &[
                    ("office", &ctx.script(&h.office_named(&o.code))),
                    ("since", &belgrade(since)),
                ],
            ),
            _ => ctx.t("counter.handover.not_at_office").to_owned(),
        };
        Self {
            number: h.item.tracking_number.clone(),
            grouped: h.item.grouped(),
            product: ctx.t(product_key(&h.item.product)),
            status: ctx.t(h.status.text_key()),
            place,
            refusal: h.rule.as_ref().err().map(|r| refusal_text(ctx, h, r)),
            // Names only for the office that hands the item over.
            addressee: ready.then(|| ctx.script(&h.item.recipient_name)),
            collector: h.collector.as_ref().map(|c| CollectorShown {
                name: ctx.script(&c.name),
                document: c.document.map(|d| ctx.t(d.text_key())),
                digits: c.digits.clone(),
            }),
            cod: h
                .item
                .cod_minor
                .filter(|m| *m > 0)
                .map(|m| Money::rsd(m).to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "postal/counter_handover.html")]
struct HandoverPage {
    ctx: PageCtx,
    number: String,
    item: Option<ItemView>,
    /// Whether the hand-over form is shown.
    ready: bool,
    collector_chosen: bool,
    error: Option<String>,
    done: bool,
}

impl HandoverPage {
    fn blank(ctx: PageCtx, number: String, error: Option<String>) -> Self {
        Self {
            ctx,
            number,
            item: None,
            ready: false,
            collector_chosen: false,
            error,
            done: false,
        }
    }

    fn of(ctx: PageCtx, number: String, h: &Handover) -> Self {
        let item = ItemView::new(&ctx, h);
        Self {
            number,
            item: Some(item),
            ready: h.rule.is_ok(),
            collector_chosen: false,
            error: None,
            done: false,
            ctx,
        }
    }
}

#[derive(Deserialize)]
pub struct LookQuery {
    #[serde(default)]
    number: String,
    #[serde(default)]
    done: Option<String>,
}

/// The page for a number that could not be looked up (not one, or not booked here); other
/// errors go to the error page.
fn not_looked_up(ctx: PageCtx, number: String, e: Error) -> Result<Response, PageError> {
    let (status, key) = match e {
        Error::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "receive.invalid_number"),
        Error::NotFound => (StatusCode::NOT_FOUND, "counter.handover.not_found"),
        e => return Err(e.into()),
    };
    let error = Some(ctx.t(key).to_owned());
    render_status(status, &HandoverPage::blank(ctx, number, error))
}

/// `GET /counter/handover?number=…`: the item as the counter sees it.
pub async fn look(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Query(q): Query<LookQuery>,
) -> Result<Response, PageError> {
    let number = q.number.trim().to_owned();
    if number.is_empty() {
        return render_status(StatusCode::OK, &HandoverPage::blank(ctx, number, None));
    }
    let found = match service::parse_number(&number) {
        Ok(id) => service::look(&app, &user, &id).await,
        Err(e) => Err(e),
    };
    let h = match found {
        Ok(h) => h,
        Err(e) => return not_looked_up(ctx, number, e),
    };
    let mut page = HandoverPage::of(ctx, number, &h);
    if q.done.is_some() && h.status == Status::Delivered {
        // Just handed over here: say so instead of "already delivered".
        page.done = true;
        if let Some(i) = page.item.as_mut() {
            i.refusal = None;
        }
    }
    render_status(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct HandoverForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    collected_by: String,
    #[serde(default)]
    document_checked: Option<String>,
    #[serde(default)]
    cod_collected: Option<String>,
}

/// `POST /counter/handover`: hands the item over, or says why not on the same screen.
pub async fn hand_over(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(f): Form<HandoverForm>,
) -> Result<Response, PageError> {
    let number = f.number.trim().to_owned();
    let id = match service::parse_number(&number) {
        Ok(id) => id,
        Err(e) => return not_looked_up(ctx, number, e),
    };
    let collected = Collected::parse(&f.collected_by);
    let outcome = match collected {
        Some(collected) => {
            let confirmation = Confirmation {
                collected,
                document_checked: f.document_checked.is_some(),
                cod_collected: f.cod_collected.is_some(),
            };
            service::hand_over(&app, &user, &id, &confirmation).await
        }
        None => Ok(Err(Refusal::NoCollector)),
    };
    let refusal = match outcome {
        Ok(Ok(_)) => {
            let to = format!(
                "/counter/handover?{}",
                serde_urlencoded::to_string([("number", id.as_str()), ("done", "1")])
                    .unwrap_or_default()
            );
            return Ok(Redirect::to(&to).into_response());
        }
        Ok(Err(r)) => r,
        Err(e) => return not_looked_up(ctx, number, e),
    };
    // The screen again, as it is now, with the reason on top.
    let h = match service::look(&app, &user, &id).await {
        Ok(h) => h,
        Err(e) => return not_looked_up(ctx, number, e),
    };
    let status = if refusal.is_conflict() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let error = Some(refusal_text(&ctx, &h, &refusal));
    let mut page = HandoverPage::of(ctx, number, &h);
    page.error = error;
    page.collector_chosen = collected == Some(Collected::Collector) && h.collector.is_some();
    render_status(status, &page)
}
