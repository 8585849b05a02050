//! The webhooks API (scope `webhooks:manage`): an organisation registers, lists, reads,
//! rotates and deletes its endpoints, and reads and resends their deliveries. Every answer is
//! about the calling key's organisation only; another organisation's endpoint is 404.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use uuid::Uuid;

use super::SCOPE;
use super::domain::DeliveryStatus;
use super::service::{self, DeliveryLog, Registration};
use super::store::EndpointRow;
use crate::app::App;
use crate::audit::Actor;
use crate::web::error::ApiError;
use crate::web::extract::{Json, Path, Query};
use crate::web::pagination::{Page, PageParams};
use crate::web::principal::KeyHolder;
use crate::web::routes::{Access, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(create, list, get, delete, rotate_secret, deliveries, resend),
    components(schemas(NewWebhook, Webhook, WebhookWithSecret, RotatedSecret, Delivery, Attempt, DeliveryStatus)),
    tags((name = "webhooks", description = "Signed webhooks: ePošta POSTs each event the organisation subscribed to (for example `tracking.updated` for its shipments) to its HTTPS endpoints, signed with HMAC-SHA256 over `<timestamp>.<body>` and retried with backoff. See docs/webhooks.md for verifying the signature."))
)]
struct WebhooksApi;

pub fn routes() -> Routes {
    const S: Access = Access::Scope(SCOPE);
    Routes::new()
        .post("/api/v1/webhooks", S, create)
        .get("/api/v1/webhooks", S, list)
        .get("/api/v1/webhooks/{id}", S, get)
        .delete("/api/v1/webhooks/{id}", S, delete)
        .post("/api/v1/webhooks/{id}/rotate-secret", S, rotate_secret)
        .get("/api/v1/webhooks/{id}/deliveries", S, deliveries)
        .post(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/resend",
            S,
            resend,
        )
        .openapi(WebhooksApi::openapi())
}

/// An endpoint to register.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to POST: `https://` and a public host (private, loopback and link-local
    /// addresses are refused, also when a name resolves to one at delivery time).
    #[schema(example = "https://shop.example.com/hooks/eposta")]
    pub url: String,
    /// The event types to receive, for example `["tracking.updated"]`.
    pub events: Vec<String>,
    /// A note for people, up to 200 characters.
    #[serde(default)]
    pub description: String,
}

/// A registered endpoint (its secret is shown only when registered or rotated).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    /// Until when the secret before the last rotation still signs, beside the new one.
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    fn new(e: EndpointRow, now: DateTime<Utc>) -> Self {
        Webhook {
            events: e.event_types(),
            previous_secret_valid_until: e.previous_until.filter(|t| *t > now),
            id: e.id,
            url: e.url,
            description: e.description,
            created_at: e.created_at,
        }
    }
}

/// A new endpoint and its signing secret, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: the HMAC-SHA256 key; keep it secret. It is not shown again (rotate it if
    /// lost).
    pub secret: String,
}

/// A rotated secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    /// The new `whsec_…` secret, shown this once.
    pub secret: String,
    /// Until then deliveries carry a second `v1=` signature made with the old secret.
    pub previous_secret_valid_until: DateTime<Utc>,
}

/// One event sent to one endpoint, with every attempt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    /// The event's id, also in the body (`id`) and in the `Eposta-Webhook-Id` header.
    pub event_id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The JSON body as sent.
    pub payload: serde_json::Value,
    /// Oldest first.
    pub attempts: Vec<Attempt>,
}

/// One HTTP attempt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The receiver's status code; null when it could not be reached.
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    /// Why it failed (`HTTP 500`, `timed out`, `could not connect: …`).
    pub error: Option<String>,
    pub succeeded: bool,
}

impl From<DeliveryLog> for Delivery {
    fn from(l: DeliveryLog) -> Self {
        let status = l.status();
        let d = l.delivery;
        Delivery {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            payload: serde_json::from_str(&d.body).unwrap_or(serde_json::Value::Null),
            attempts: l
                .attempts
                .into_iter()
                .map(|a| Attempt {
                    at: a.attempted_at,
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                    succeeded: a.succeeded,
                })
                .collect(),
        }
    }
}

fn actor(key: &KeyHolder) -> Actor {
    Actor::ApiKey(key.key_id)
}

/// Register a webhook
///
/// Registers an HTTPS endpoint for the event types listed (known types: see `events`' enum in
/// docs/webhooks.md; today `tracking.updated`). The answer carries the signing secret, shown
/// this once. An organisation may have up to 10 endpoints.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    operation_id = "create_webhook",
    tag = "webhooks",
    request_body = NewWebhook,
    responses((status = 201, description = "Registered, with its secret", body = WebhookWithSecret))
)]
pub async fn create(
    State(app): State<App>,
    key: KeyHolder,
    Json(body): Json<NewWebhook>,
) -> Result<Response, ApiError> {
    let created = service::register(
        &app,
        &actor(&key),
        key.organisation_id,
        &Registration {
            url: body.url,
            events: body.events,
            description: body.description,
        },
    )
    .await?;
    let body = WebhookWithSecret {
        webhook: Webhook::new(created.endpoint, app.now()),
        secret: created.secret,
    };
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response())
}

/// List webhooks
///
/// The organisation's endpoints, oldest first (at most 10, so one page).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    operation_id = "list_webhooks",
    tag = "webhooks",
    responses((status = 200, description = "The endpoints", body = Page<Webhook>))
)]
pub async fn list(
    State(app): State<App>,
    key: KeyHolder,
) -> Result<axum::Json<Page<Webhook>>, ApiError> {
    let items = service::endpoints(&app, key.organisation_id)
        .await?
        .into_iter()
        .map(|e| Webhook::new(e, app.now()))
        .collect();
    Ok(axum::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Get a webhook
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    responses((status = 200, description = "The endpoint", body = Webhook))
)]
pub async fn get(
    State(app): State<App>,
    key: KeyHolder,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Webhook>, ApiError> {
    let e = service::endpoint(&app, key.organisation_id, id).await?;
    Ok(axum::Json(Webhook::new(e, app.now())))
}

/// Delete a webhook
///
/// Deletes the endpoint with its delivery log; deliveries still waiting are not sent.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete(
    State(app): State<App>,
    key: KeyHolder,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    service::delete(&app, &actor(&key), key.organisation_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate a webhook's secret
///
/// Gives the endpoint a new secret, shown this once. For 24 hours deliveries carry two
/// signatures, one per secret, so the receiver can switch without losing any.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/rotate-secret",
    operation_id = "rotate_webhook_secret",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    responses((status = 200, description = "The new secret", body = RotatedSecret))
)]
pub async fn rotate_secret(
    State(app): State<App>,
    key: KeyHolder,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let secret = service::rotate(&app, &actor(&key), key.organisation_id, id).await?;
    let body = RotatedSecret {
        secret,
        previous_secret_valid_until: app.now() + service::ROTATION_OVERLAP,
    };
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response())
}

/// List a webhook's deliveries
///
/// The endpoint's deliveries, newest first, each with its attempts (time, status code,
/// latency, error).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id"), PageParams),
    responses((status = 200, description = "The deliveries", body = Page<Delivery>))
)]
pub async fn deliveries(
    State(app): State<App>,
    key: KeyHolder,
    Path(id): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Delivery>>, ApiError> {
    let limit = page.limit()?;
    let before = match page.after()? {
        Some(k) => Some(
            Uuid::parse_str(&k)
                .map_err(|_| crate::Error::invalid("cursor", "not a cursor this list gave out"))?,
        ),
        None => None,
    };
    let rows = service::deliveries(&app, key.organisation_id, id, before, limit + 1).await?;
    let items: Vec<Delivery> = rows.into_iter().map(Delivery::from).collect();
    Ok(axum::Json(Page::by_key(items, limit, |d| d.id.to_string())))
}

/// Resend a delivery
///
/// Sends a delivered or failed delivery again: the same event id and body, a fresh
/// signature, and retries as for a new one. A delivery still pending is 409.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/resend",
    operation_id = "resend_webhook_delivery",
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "The endpoint's id"),
        ("delivery_id" = Uuid, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Queued for sending"),
        (status = 409, description = "The delivery is still pending", body = crate::web::error::ErrorBody),
    )
)]
pub async fn resend(
    State(app): State<App>,
    key: KeyHolder,
    Path((id, delivery_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    service::resend(
        &app,
        &actor(&key),
        key.organisation_id,
        delivery_id,
        Some(id),
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}
