//! Pickup pages and API: the citizen asks for (or cancels) a pickup on the item's page; a
//! business does the same through `PUT`/`DELETE /api/v1/shipments/{tracking_number}/pickup`;
//! the counter lists the open requests of its postal code and marks items collected.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use eposta_kernel::audit::Actor;
use eposta_kernel::web::error::{ApiError, PageError};
use eposta_kernel::web::extract::{Form, Json, Path};
use eposta_kernel::web::page::{PageCtx, render};
use eposta_kernel::web::principal::{KeyHolder, SessionUser};
use eposta_kernel::web::routes::{Access, COUNTER, Routes};
use eposta_kernel::{App, Error};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use uuid::Uuid;

use super::service::{self, Request};
use super::store::PickupRow;
use crate::booking::pages::item_page;
use crate::booking::service::{self as booking, SCOPE};

#[derive(OpenApi)]
#[openapi(
    paths(put_pickup, delete_pickup),
    components(schemas(PickupInput, Pickup)),
    tags((name = "shipments"))
)]
struct PickupApi;

pub fn routes() -> Routes {
    Routes::new()
        .post("/items/{id}/pickup", Access::Citizen, request)
        .post("/items/{id}/pickup/cancel", Access::Citizen, cancel)
        .get("/counter/pickups", Access::Staff(COUNTER), round)
        .post(
            "/counter/pickups/{id}/collected",
            Access::Staff(COUNTER),
            collected,
        )
        .put(
            "/api/v1/shipments/{tracking_number}/pickup",
            Access::Scope(SCOPE),
            put_pickup,
        )
        .delete(
            "/api/v1/shipments/{tracking_number}/pickup",
            Access::Scope(SCOPE),
            delete_pickup,
        )
        .openapi(PickupApi::openapi())
}

#[derive(Deserialize)]
struct PickupForm {
    window_from: String,
    window_to: String,
    #[serde(default)]
    note: String,
}

fn read(from: &str, to: &str, note: &str) -> Result<Request, Error> {
    Ok(Request {
        window_from: service::parse_day("window_from", from)?,
        window_to: service::parse_day("window_to", to)?,
        note: note.to_owned(),
    })
}

/// The message a rejected request shows on the page, in the page's language where the rule
/// has a catalogue entry.
fn page_message(ctx: &PageCtx, e: &Error) -> Option<String> {
    match e {
        Error::Invalid { field, message } => {
            Some(format!("{}: {message}", ctx.t(field_key(field))))
        }
        Error::Conflict(m) => Some(m.to_string()),
        _ => None,
    }
}

fn field_key(field: &str) -> &'static str {
    match field {
        "window_from" => "pickup.from",
        "window_to" => "pickup.to",
        _ => "pickup.note",
    }
}

async fn request(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(id): Path<Uuid>,
    Form(f): Form<PickupForm>,
) -> Result<Response, PageError> {
    let item = booking::citizen_item(&app, &user, id).await?;
    let outcome = match read(&f.window_from, &f.window_to, &f.note) {
        Ok(r) => {
            // The window's rules in the page's language; the service checks them again.
            let today = service::today(&app);
            if let Err(e) = super::check_window(today, r.window_from, r.window_to) {
                let m = ctx.t(e.key()).to_owned();
                return item_page(&app, ctx, &user, id, false, Some(m)).await;
            }
            service::request(&app, &item, &r, &Actor::User(user.id))
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/items/{id}#pickup")).into_response()),
        Err(e) => match page_message(&ctx, &e) {
            Some(m) => item_page(&app, ctx, &user, id, false, Some(m)).await,
            None => Err(e.into()),
        },
    }
}

async fn cancel(
    State(app): State<App>,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let item = booking::citizen_item(&app, &user, id).await?;
    service::cancel(&app, &item, &Actor::User(user.id)).await?;
    Ok(Redirect::to(&format!("/items/{id}#pickup")).into_response())
}

/// A request on the counter's list.
struct RoundView {
    item_id: Uuid,
    grouped: String,
    window: String,
    sender: String,
    address: String,
    phone: String,
    note: String,
}

#[derive(Template)]
#[template(path = "postal/pickup_round.html")]
struct RoundPage {
    ctx: PageCtx,
    rows: Vec<RoundView>,
}

async fn round(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
) -> Result<Response, PageError> {
    let rows = service::round(&app, &user).await?;
    let day = |d: NaiveDate| d.format("%d.%m.%Y.").to_string();
    render(&RoundPage {
        rows: rows
            .into_iter()
            .map(|r| RoundView {
                item_id: r.item_id,
                grouped: eposta_formats::s10::S10::parse(&r.tracking_number)
                    .map_or_else(|_| r.tracking_number.clone(), |c| c.id.grouped()),
                window: format!("{} – {}", day(r.window_from), day(r.window_to)),
                sender: ctx.script(&r.sender_name),
                address: format!(
                    "{} {}, {}",
                    ctx.script(&r.sender_street),
                    ctx.script(&r.sender_number),
                    ctx.script(&r.sender_place)
                ),
                phone: r.sender_phone.unwrap_or_default(),
                note: r.note,
            })
            .collect(),
        ctx,
    })
}

async fn collected(
    State(app): State<App>,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    service::collected(&app, &user, id).await?;
    Ok(Redirect::to("/counter/pickups").into_response())
}

/// When the postman should come for a shipment: a window of days in Europe/Belgrade, both
/// included, starting tomorrow at the earliest and within 30 days, at most 7 days long.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PickupInput {
    /// First day, `YYYY-MM-DD`.
    #[schema(example = "2026-12-01")]
    pub window_from: String,
    /// Last day, `YYYY-MM-DD`.
    #[schema(example = "2026-12-03")]
    pub window_to: String,
    /// A note to the postman (entrance, floor), at most 200 characters.
    #[serde(default)]
    pub note: String,
}

/// An open pickup request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pickup {
    pub id: Uuid,
    pub tracking_number: String,
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub note: String,
    pub status: String,
}

impl Pickup {
    fn new(tracking_number: &str, p: PickupRow) -> Self {
        Self {
            id: p.id,
            tracking_number: tracking_number.to_owned(),
            window_from: p.window_from,
            window_to: p.window_to,
            note: p.note,
            status: p.status,
        }
    }
}

/// Ask for a pickup
///
/// Asks a postman to collect a shipment not yet handed in at the sender's address in a window
/// of days. One open request per shipment: a second answers 409 (cancel the first to choose
/// another window); a shipment handed in already answers 409.
#[utoipa::path(
    put,
    path = "/api/v1/shipments/{tracking_number}/pickup",
    operation_id = "request_pickup",
    tag = "shipments",
    params(("tracking_number" = String, Path, description = "The S10 identifier", example = "CA123456785RS")),
    request_body = PickupInput,
    responses((status = 201, description = "Requested", body = Pickup))
)]
pub async fn put_pickup(
    State(app): State<App>,
    key: KeyHolder,
    Path(tracking_number): Path<String>,
    Json(input): Json<PickupInput>,
) -> Result<Response, ApiError> {
    let item = booking::organisation_item(&app, &key, &tracking_number).await?;
    let r = read(&input.window_from, &input.window_to, &input.note)?;
    let p = service::request(&app, &item, &r, &Actor::ApiKey(key.key_id)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Pickup::new(&item.tracking_number, p)),
    )
        .into_response())
}

/// Cancel a pickup
///
/// Cancels the shipment's open pickup request; 404 when it has none.
#[utoipa::path(
    delete,
    path = "/api/v1/shipments/{tracking_number}/pickup",
    operation_id = "cancel_pickup",
    tag = "shipments",
    params(("tracking_number" = String, Path, description = "The S10 identifier", example = "CA123456785RS")),
    responses((status = 204, description = "Cancelled"))
)]
pub async fn delete_pickup(
    State(app): State<App>,
    key: KeyHolder,
    Path(tracking_number): Path<String>,
) -> Result<Response, ApiError> {
    let item = booking::organisation_item(&app, &key, &tracking_number).await?;
    service::cancel(&app, &item, &Actor::ApiKey(key.key_id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
