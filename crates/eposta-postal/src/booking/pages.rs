//! The citizen's booking pages: the form with its "calculate price" step (a POST that shows
//! the price, VAT apart, and a confirm button; no JavaScript), the list of their items, and
//! one item with its identifier and hand-in code.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono_tz::Europe::Belgrade;
use eposta_kernel::App;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Path, Query};
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::web::routes::{Access, Routes};
use serde::Deserialize;
use uuid::Uuid;

use super::form::{
    Block, BookingForm, Check, ErrorView, Input, address_inputs, checks, error_views, item_inputs,
    merge,
};
use super::service;
use super::store::ItemRow;
use crate::domain::{Product, group_booking_code};
use crate::tariff::{ChargeKind, Quote, Tariff};

/// Items per page of the list.
const PAGE_SIZE: i64 = 50;

pub fn routes() -> Routes {
    Routes::new()
        .get("/items", Access::Citizen, list)
        .get("/items/new", Access::Citizen, new_form)
        .post("/items/new", Access::Citizen, submit)
        .get("/items/{id}", Access::Citizen, show)
        .get(
            "/items/{id}/label.pdf",
            Access::Citizen,
            super::label::citizen_label,
        )
}

/// The catalogue key of a product's name.
pub fn product_key(p: &str) -> &'static str {
    match p {
        "letter" => "booking.product.letter",
        "registered_letter" => "booking.product.registered_letter",
        "parcel" => "booking.product.parcel",
        _ => "booking.product.express",
    }
}

/// The catalogue key of a status's name.
pub fn status_key(s: &str) -> &'static str {
    match s {
        "accepted" => "booking.status.accepted",
        "in_transit" => "booking.status.in_transit",
        "on_hold" => "booking.status.on_hold",
        "out_for_delivery" => "booking.status.out_for_delivery",
        "available_for_pickup" => "booking.status.available_for_pickup",
        "delivery_failed" => "booking.status.delivery_failed",
        "delivered" => "booking.status.delivered",
        "return_to_sender" => "booking.status.return_to_sender",
        "cancelled" => "booking.status.cancelled",
        _ => "booking.status.pre_transit",
    }
}

pub fn option_key(name: &str) -> &'static str {
    match name {
        "registered" => "booking.option.registered",
        "cash_on_delivery" => "booking.charge.cash_on_delivery",
        "declared_value" => "booking.charge.declared_value",
        "delivery_confirmation" => "booking.charge.delivery_confirmation",
        _ => "booking.charge.sms_notice",
    }
}

/// `02.03.2026. 10:00`, Belgrade time.
fn local_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&Belgrade)
        .format("%d.%m.%Y. %H:%M")
        .to_string()
}

/// A product in the form's list.
struct ProductChoice {
    value: &'static str,
    label: String,
    selected: bool,
}

/// A price as shown: its lines, net, VAT and total.
struct QuoteView {
    lines: Vec<(&'static str, String)>,
    net: String,
    vat_label: String,
    vat: String,
    total: String,
    total_minor: i64,
}

impl QuoteView {
    fn new(ctx: &PageCtx, q: &Quote) -> Self {
        let lines = q
            .charges
            .iter()
            .map(|c| {
                let key = match c.kind {
                    ChargeKind::Postage => "booking.charge.postage",
                    ChargeKind::Extra(e) => option_key(e.as_str()),
                };
                (ctx.t(key), c.amount.to_string())
            })
            .collect();
        Self {
            lines,
            net: q.net.to_string(),
            vat_label: vat_label(ctx, q.vat_bp),
            vat: q.vat.to_string(),
            total: q.total.to_string(),
            total_minor: q.total.minor,
        }
    }
}

/// `ПДВ 20 %`; basis points as a percentage with up to two decimals.
fn vat_label(ctx: &PageCtx, bp: i64) -> String {
    let rate = if bp % 100 == 0 {
        (bp / 100).to_string()
    } else {
        format!("{},{:02}", bp / 100, bp % 100)
            .trim_end_matches('0')
            .to_owned()
    };
    ctx.f("booking.price.vat", &[("rate", &rate)])
}

/// Where the booking form is used: by a citizen at home, or by a clerk who takes an item
/// that was not booked before.
#[derive(Debug, Clone, Copy)]
pub struct FormMode {
    /// Where the form posts.
    pub action: &'static str,
    /// The page the back link leads to, and its text.
    pub back: &'static str,
    pub back_label: &'static str,
    pub title: &'static str,
    pub lead: &'static str,
    /// The counter asks how the customer pays; at home they pay at the counter.
    pub counter: bool,
}

const CITIZEN: FormMode = FormMode {
    action: "/items/new",
    back: "/items",
    back_label: "booking.item.back",
    title: "booking.new.title",
    lead: "booking.new.lead",
    counter: false,
};

#[derive(Template)]
#[template(path = "postal/booking_form.html")]
pub struct FormPage {
    ctx: PageCtx,
    mode: FormMode,
    submission: String,
    blocks: Vec<Block>,
    products: Vec<ProductChoice>,
    weight: Input,
    amounts: Vec<Input>,
    checks: Vec<Check>,
    errors: Vec<ErrorView>,
    quote: Option<QuoteView>,
    price_changed: bool,
    example_tariff: bool,
}

impl FormPage {
    /// The message for an input, if the last try broke a rule there.
    fn err(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.message.as_str())
    }
}

pub fn form_page(
    app: &App,
    ctx: PageCtx,
    mode: FormMode,
    form: BookingForm,
    errors: &[crate::domain::FieldError],
    quote: Option<&Quote>,
    price_changed: bool,
) -> Result<FormPage, PageError> {
    let tariff = Tariff::configured(&app.config)?;
    let errors = error_views(&ctx, errors);
    let products = Product::ALL
        .iter()
        .map(|p| ProductChoice {
            value: p.as_str(),
            label: ctx.f(
                "booking.product.choice",
                &[
                    ("name", ctx.t(product_key(p.as_str()))),
                    (
                        "max",
                        &tariff
                            .product(*p)
                            .map_or(0, |t| t.max_weight_g())
                            .to_string(),
                    ),
                ],
            ),
            selected: form.product == p.as_str(),
        })
        .collect();
    let (weight, amounts) = item_inputs(&ctx, &form, &errors);
    let submission = match form.submission.trim() {
        s if s.len() == 32 => s.to_owned(),
        _ => service::submission_key(),
    };
    Ok(FormPage {
        mode,
        submission,
        blocks: vec![
            Block {
                legend: ctx.t("booking.sender"),
                inputs: address_inputs(&ctx, &form, "sender", &errors),
            },
            Block {
                legend: ctx.t("booking.recipient"),
                inputs: address_inputs(&ctx, &form, "recipient", &errors),
            },
        ],
        checks: checks(&ctx, &form, &errors),
        weight,
        amounts,
        quote: quote.map(|q| QuoteView::new(&ctx, q)),
        products,
        errors,
        price_changed,
        example_tariff: tariff.example,
        ctx,
    })
}

async fn new_form(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
) -> Result<Response, PageError> {
    let form = BookingForm {
        sender_name: user.display_name.clone(),
        product: "letter".into(),
        ..BookingForm::default()
    };
    render(&form_page(&app, ctx, CITIZEN, form, &[], None, false)?)
}

/// "Calculate price" shows the price and a confirm button; "confirm" books, unless the
/// price is no longer the one shown (then it is shown again).
async fn submit(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(form): Form<BookingForm>,
) -> Result<Response, PageError> {
    submit_form(&app, ctx, CITIZEN, form, async |input, form| {
        Ok(
            service::book_for_citizen(&app, &user, input, &form.submission)
                .await?
                .map(|item| format!("/items/{}?booked=1", item.id)),
        )
    })
    .await
}

/// The booking form's two steps, for every form that uses it: a form with errors comes back
/// with them (422); "calculate price", or a confirmation of a price that is no longer the one
/// shown, shows the price with the confirm button; a confirmation at the price shown calls
/// `book`, which answers where to go next, or the rules the booking broke.
pub async fn submit_form(
    app: &App,
    ctx: PageCtx,
    mode: FormMode,
    form: BookingForm,
    book: impl AsyncFnOnce(
        &crate::domain::ShipmentInput,
        &BookingForm,
    ) -> Result<
        Result<String, Vec<crate::domain::FieldError>>,
        eposta_kernel::Error,
    >,
) -> Result<Response, PageError> {
    let (input, read_errors) = form.to_input();
    let priced = match service::quote(app, &input)? {
        Ok(p) if read_errors.is_empty() => p,
        checked => {
            let errors = merge(read_errors, checked.err().unwrap_or_default());
            let page = form_page(app, ctx, mode, form, &errors, None, false)?;
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let confirmed = form.action == "confirm";
    let seen = form.quoted_total.trim().parse::<i64>().ok();
    if !confirmed || seen != Some(priced.quote.total.minor) {
        let page = form_page(app, ctx, mode, form, &[], Some(&priced.quote), confirmed)?;
        return render(&page);
    }
    match book(&input, &form).await? {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(errors) => {
            let page = form_page(app, ctx, mode, form, &errors, None, false)?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// An item in a list or on its page, in the page's language.
struct ItemView {
    id: Uuid,
    grouped: String,
    product: &'static str,
    recipient: String,
    status: &'static str,
    total: String,
    created: String,
}

impl ItemView {
    fn new(ctx: &PageCtx, r: &ItemRow) -> Self {
        Self {
            id: r.id,
            grouped: r.grouped(),
            product: ctx.t(product_key(&r.product)),
            recipient: format!(
                "{}, {}",
                ctx.script(&r.recipient_name),
                ctx.script(&r.recipient_place)
            ),
            status: ctx.t(status_key(&r.status)),
            total: r.total().to_string(),
            created: local_time(r.created_at),
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "postal/booking_list.html")]
struct ListPage {
    ctx: PageCtx,
    items: Vec<ItemView>,
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
    let (rows, more) = service::citizen_items(&app, &user, PAGE_SIZE, offset).await?;
    render(&ListPage {
        items: rows.iter().map(|r| ItemView::new(&ctx, r)).collect(),
        prev: (page > 1).then(|| format!("/items?page={}", page - 1)),
        next: more.then(|| format!("/items?page={}", page + 1)),
        ctx,
    })
}

#[derive(Deserialize)]
struct ShowQuery {
    booked: Option<String>,
}

/// A party's address block, in the page's script.
struct PartyView {
    title: &'static str,
    name: String,
    lines: Vec<String>,
}

impl PartyView {
    #[expect(clippy::too_many_arguments, reason = "the lines of an address block")]
    fn new(
        ctx: &PageCtx,
        title: &'static str,
        name: &str,
        street: &str,
        number: &str,
        code: &str,
        place: &str,
        contact: Vec<String>,
    ) -> Self {
        let mut lines = vec![
            format!("{} {}", ctx.script(street), ctx.script(number)),
            format!("{code} {}", ctx.script(place)),
        ];
        lines.extend(contact);
        Self {
            title: ctx.t(title),
            name: ctx.script(name),
            lines,
        }
    }
}

#[derive(Template)]
#[template(path = "postal/booking_item.html")]
struct ItemPage {
    ctx: PageCtx,
    item: ItemView,
    pickup: PickupView,
    booked: bool,
    code: String,
    weight: String,
    options: Vec<String>,
    parties: Vec<PartyView>,
    net: String,
    vat: String,
    paid: bool,
}

async fn show(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(id): Path<Uuid>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    item_page(&app, ctx, &user, id, q.booked.is_some(), None).await
}

/// The pickup part of the item page: the open request, or the form to ask for one.
struct PickupView {
    /// The open request's window and note.
    open: Option<(String, String, String)>,
    /// The form may be shown: the item is not handed in yet and has no open request.
    can_request: bool,
    /// The days the form starts with (tomorrow) and its limits.
    min: String,
    max: String,
    error: Option<String>,
}

/// `15.12.2026.`
fn local_day(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y.").to_string()
}

/// The citizen's item page; `pickup_error` is a rejected pickup request's message (the page
/// is then a 422).
pub async fn item_page(
    app: &App,
    ctx: PageCtx,
    user: &SessionUser,
    id: Uuid,
    booked: bool,
    pickup_error: Option<String>,
) -> Result<Response, PageError> {
    let r = service::citizen_item(app, user, id).await?;
    let open = crate::pickup::service::open(app, r.id).await?;
    let today = crate::pickup::service::today(app);
    let pickup = PickupView {
        can_request: open.is_none() && r.status == super::store::PRE_TRANSIT,
        open: open.map(|p| (local_day(p.window_from), local_day(p.window_to), p.note)),
        min: (today + chrono::Days::new(crate::pickup::EARLIEST_DAYS)).to_string(),
        max: (today + chrono::Days::new(crate::pickup::LATEST_DAYS)).to_string(),
        error: pickup_error,
    };
    let options = super::label::option_lines(&ctx.tr, &r);
    let sender = PartyView::new(
        &ctx,
        "booking.sender",
        &r.sender_name,
        &r.sender_street,
        &r.sender_number,
        &r.sender_postal_code,
        &r.sender_place,
        r.sender_phone.iter().cloned().collect(),
    );
    let recipient = PartyView::new(
        &ctx,
        "booking.recipient",
        &r.recipient_name,
        &r.recipient_street,
        &r.recipient_number,
        &r.recipient_postal_code,
        &r.recipient_place,
        r.recipient_phone
            .iter()
            .chain(r.recipient_email.iter())
            .cloned()
            .collect(),
    );
    let status = if pickup.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &ItemPage {
            item: ItemView::new(&ctx, &r),
            pickup,
            booked,
            code: group_booking_code(&r.booking_code),
            weight: format!("{} g", r.weight_g),
            options,
            parties: vec![sender, recipient],
            net: r.net().to_string(),
            vat: r.vat().to_string(),
            paid: r.paid_at.is_some(),
            ctx,
        },
    )
}
