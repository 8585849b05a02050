//! The counter's acceptance screens, made for the keyboard: the hand-in code field has the
//! focus, Enter looks the item up; the weight field has the focus next, Enter accepts.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use eposta_kernel::clock::belgrade;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Path, Query};
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::web::routes::{Access, COUNTER, Routes};
use eposta_kernel::{App, Error};
use serde::Deserialize;
use uuid::Uuid;

use super::service::{self, Acceptance, Accepted, Payment};
use crate::booking::form::BookingForm;
use crate::booking::label::label_data;
use crate::booking::pages::{FormMode, form_page, product_key, submit_form};
use crate::booking::store::ItemRow;
use crate::domain::group_booking_code;
use crate::labels;

pub fn routes() -> Routes {
    Routes::new()
        .get("/counter/accept", Access::Staff(COUNTER), lookup)
        .post("/counter/accept", Access::Staff(COUNTER), accept)
        .get("/counter/receipts/{id}", Access::Staff(COUNTER), receipt)
        .get("/counter/items/new", Access::Staff(COUNTER), new_form)
        .post("/counter/items/new", Access::Staff(COUNTER), submit)
        .get(
            "/counter/items/{id}/label.pdf",
            Access::Staff(COUNTER),
            label,
        )
}

/// The booking form as the counter uses it, for an item nobody booked before.
const ON_THE_SPOT: FormMode = FormMode {
    action: "/counter/items/new",
    back: "/counter/accept",
    back_label: "counter.new.back",
    title: "counter.new.title",
    lead: "counter.new.lead",
    counter: true,
};

async fn new_form(State(app): State<App>, ctx: PageCtx) -> Result<Response, PageError> {
    let form = BookingForm {
        product: "letter".into(),
        ..BookingForm::default()
    };
    render(&form_page(&app, ctx, ON_THE_SPOT, form, &[], None, false)?)
}

/// "Calculate price" shows the price and the payment choice; "confirm" books, takes the
/// payment and accepts the item, unless the price is no longer the one shown.
async fn submit(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(form): Form<BookingForm>,
) -> Result<Response, PageError> {
    submit_form(&app, ctx, ON_THE_SPOT, form, async |input, form| {
        let payment = Payment::parse(&form.payment)?;
        Ok(
            service::take_unbooked(&app, &user, input, &form.submission, payment)
                .await?
                .map(|item| format!("/counter/receipts/{}", item.id)),
        )
    })
    .await
}

/// `GET /counter/items/{id}/label.pdf`: the label of an item accepted at the clerk's office.
async fn label(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let r = service::receipt(&app, &user, id).await?;
    Ok(labels::pdf_response(&[label_data(&ctx.tr, &r)?])?)
}

/// An item as the counter sees it.
struct ItemView {
    grouped: String,
    code: String,
    product: &'static str,
    booked_weight: i32,
    destination: String,
}

impl ItemView {
    fn new(ctx: &PageCtx, r: &ItemRow) -> Self {
        Self {
            grouped: r.grouped(),
            code: group_booking_code(&r.booking_code),
            product: ctx.t(product_key(&r.product)),
            booked_weight: r.weight_g,
            destination: format!(
                "{} {}",
                r.recipient_postal_code,
                ctx.script(&r.recipient_place)
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "postal/counter_accept.html")]
struct AcceptPage {
    ctx: PageCtx,
    code: String,
    item: Option<ItemView>,
    weight: String,
    total: String,
    total_minor: i64,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct LookupQuery {
    #[serde(default)]
    code: String,
}

fn message_of(e: &Error) -> Option<String> {
    match e {
        Error::Invalid { field, message } => Some(format!("{field}: {message}")),
        Error::Conflict(m) => Some(m.to_string()),
        _ => None,
    }
}

async fn lookup(
    State(app): State<App>,
    ctx: PageCtx,
    Query(q): Query<LookupQuery>,
) -> Result<Response, PageError> {
    let code = q.code.trim().to_owned();
    if code.is_empty() {
        return render(&AcceptPage {
            ctx,
            code,
            item: None,
            weight: String::new(),
            total: String::new(),
            total_minor: 0,
            error: None,
            notice: None,
        });
    }
    let found = service::find(&app, &code).await;
    let (item, error) = match found {
        Ok(r) if r.status != crate::booking::store::PRE_TRANSIT => {
            (None, Some(ctx.t("counter.accept.already").to_owned()))
        }
        Ok(r) => (Some(r), None),
        Err(Error::NotFound) => (None, Some(ctx.t("counter.accept.not_found").to_owned())),
        Err(e) => match message_of(&e) {
            Some(m) => (None, Some(m)),
            None => return Err(e.into()),
        },
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (weight, quote) = match &item {
        Some(r) => (
            r.weight_g.to_string(),
            Some(service::reprice(
                &app,
                r,
                u32::try_from(r.weight_g).unwrap_or(0),
            )?),
        ),
        None => (String::new(), None),
    };
    render_status(
        status,
        &AcceptPage {
            item: item.as_ref().map(|r| ItemView::new(&ctx, r)),
            code,
            weight,
            total: quote
                .as_ref()
                .map(|q| q.total.to_string())
                .unwrap_or_default(),
            total_minor: quote.map_or(0, |q| q.total.minor),
            error,
            notice: None,
            ctx,
        },
    )
}

#[derive(Deserialize)]
struct AcceptForm {
    code: String,
    weight_g: String,
    payment: String,
    quoted_total: i64,
}

async fn accept(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(f): Form<AcceptForm>,
) -> Result<Response, PageError> {
    let item = service::find(&app, &f.code).await?;
    let redo = |ctx: PageCtx,
                total: Option<Money>,
                error: Option<String>,
                notice: Option<&'static str>| AcceptPage {
        item: Some(ItemView::new(&ctx, &item)),
        code: f.code.clone(),
        weight: f.weight_g.clone(),
        total: total.map(|t| t.to_string()).unwrap_or_default(),
        total_minor: total.map_or(0, |t| t.minor),
        error,
        notice,
        ctx,
    };
    let weight = match f.weight_g.trim().parse::<u32>() {
        Ok(w) if w > 0 => w,
        _ => {
            let error = Some(ctx.t("counter.accept.bad_weight").to_owned());
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &redo(ctx, None, error, None),
            );
        }
    };
    let payment = Payment::parse(&f.payment)?;
    let outcome = service::accept(
        &app,
        &user,
        &Acceptance {
            code: &f.code,
            weight_g: weight,
            payment,
            quoted_total: f.quoted_total,
        },
    )
    .await;
    match outcome {
        Ok(Accepted::Done(id)) => {
            Ok(Redirect::to(&format!("/counter/receipts/{id}")).into_response())
        }
        Ok(Accepted::PriceChanged(q)) => render(&redo(
            ctx,
            Some(q.total),
            None,
            Some("counter.accept.price_changed"),
        )),
        Err(e) => match message_of(&e) {
            Some(m) => render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &redo(ctx, None, Some(m), None),
            ),
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "postal/counter_receipt.html")]
struct ReceiptPage {
    ctx: PageCtx,
    id: Uuid,
    item: ItemView,
    weight: i32,
    net: String,
    vat: String,
    total: String,
    payment: &'static str,
    accepted: String,
}

async fn receipt(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let r = service::receipt(&app, &user, id).await?;
    let payment = match r.payment_method.as_deref() {
        Some("card") => ctx.t("counter.payment.card"),
        _ => ctx.t("counter.payment.cash"),
    };
    render(&ReceiptPage {
        id: r.id,
        item: ItemView::new(&ctx, &r),
        weight: r.weight_g,
        net: r.net().to_string(),
        vat: r.vat().to_string(),
        total: r.total().to_string(),
        payment,
        accepted: r.accepted_at.map(belgrade).unwrap_or_default(),
        ctx,
    })
}
