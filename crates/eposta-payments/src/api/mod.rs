//! The payments API (scope `payments:write`): `POST /api/v1/payments` creates a payment
//! (`Idempotency-Key` required), `GET /api/v1/payments/{id}` reads one of the
//! organisation's, `POST /api/v1/payments/{id}/refunds` refunds a card or IPS payment, and the IPS
//! QR images, `GET /api/v1/payments/{id}/receipt` the receipt PDF of a paid one;
//! `POST /api/v1/payments/notifications/{provider}` is where acquirers notify.

pub mod views;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eposta_formats::qr::QrImage;
use eposta_kernel::App;
use eposta_kernel::Error;
use eposta_kernel::audit::Actor;
use eposta_kernel::web::error::{ApiError, Problem};
use eposta_kernel::web::extract::{Json, Path};
use eposta_kernel::web::idempotency::{AnswerStored, Claimed};
use eposta_kernel::web::openapi::IDEMPOTENCY_KEY;
use eposta_kernel::web::principal::KeyHolder;
use eposta_kernel::web::routes::{Access, Routes};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::domain::{Owner, PayeeInput, PayerInput, PaymentInput};
use crate::service::{self, SCOPE, notify, refund};
use views::{
    FieldProblem, NextActionView, NotificationReceived, PayeeView, PayerView, PaymentView,
    RefundInput, RefundResult, RefundView, ValidationErrorBody, ValidationErrorDetail,
};

#[derive(OpenApi)]
#[openapi(
    paths(create, get, refund_payment, receipt, qr_png, qr_svg, notification),
    components(schemas(
        PaymentInput, PayerInput, PayeeInput, PaymentView, PayerView, PayeeView, NextActionView,
        RefundInput, RefundView, RefundResult, ValidationErrorBody, ValidationErrorDetail,
        FieldProblem, NotificationReceived
    )),
    tags((name = "payments", description = "Bill payments: payment orders paid by card (through the acquirer's hosted page) or by NBS IPS instant transfer (by QR code), refunds."))
)]
pub struct PaymentsApi;

pub fn routes() -> Routes {
    Routes::new()
        .post("/api/v1/payments", Access::Scope(SCOPE), create)
        .get("/api/v1/payments/{id}", Access::Scope(SCOPE), get)
        .post(
            "/api/v1/payments/{id}/refunds",
            Access::Scope(SCOPE),
            refund_payment,
        )
        .get(
            "/api/v1/payments/{id}/receipt",
            Access::Scope(SCOPE),
            receipt,
        )
        .get(
            "/api/v1/payments/{id}/ips-qr.png",
            Access::Scope(SCOPE),
            qr_png,
        )
        .get(
            "/api/v1/payments/{id}/ips-qr.svg",
            Access::Scope(SCOPE),
            qr_svg,
        )
        .post(
            "/api/v1/payments/notifications/{provider}",
            Access::Public,
            notification,
        )
        .openapi(PaymentsApi::openapi())
}

/// Money-moving writes must be retryable without doing them twice: the key is required.
/// (The kernel's idempotency layer has checked its form when it is there.)
fn require_idempotency_key(headers: &HeaderMap) -> Result<&str, ApiError> {
    if let Some(key) = headers.get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()) {
        return Ok(key);
    }
    Err(ApiError(Problem {
        status: StatusCode::BAD_REQUEST,
        code: "idempotency_key_required",
        message: format!("{IDEMPOTENCY_KEY}: required on this request"),
        field: Some(IDEMPOTENCY_KEY.into()),
    }))
}

fn view(app: &App, p: &crate::model::Payment) -> Result<PaymentView, Error> {
    let next = service::next_action(app, p)?;
    Ok(PaymentView::new(&app.config.public_url, p, next))
}

/// Create a payment
///
/// Records a payment order (uplatnica) for the calling organisation, prices it (the fee
/// comes on top of the amount) and hands it to its method. `card`: the answer's
/// `next_action` is a `redirect` to the acquirer's hosted card page; the card holder comes
/// back to `return_url`. `ips`: `next_action` is an `ips_qr` code (type PT) for the total,
/// to ePošta's collection account with a reference of its own; the payment succeeds when the
/// transfer shows on the bank statement. Every field is checked first; the 422 answer lists
/// every broken rule by field. `Idempotency-Key` is required: a retry with the same key and
/// body gets the first answer (with `Idempotent-Replayed: true`) and creates nothing; the
/// same key with another body is refused (422); one still in progress is 409.
#[utoipa::path(
    post,
    path = "/api/v1/payments",
    operation_id = "create_payment",
    tag = "payments",
    request_body = PaymentInput,
    responses(
        (status = 201, description = "Created; `next_action` says what the payer does next", body = PaymentView),
        (status = 400, description = "No `Idempotency-Key` header"),
        (status = 422, description = "Fields break rules (`errors` lists each)", body = ValidationErrorBody),
        (status = 503, description = "The card acquirer cannot be reached; nothing was created"),
    )
)]
pub async fn create(
    State(app): State<App>,
    key: KeyHolder,
    headers: HeaderMap,
    claim: Option<Extension<Claimed>>,
    Json(input): Json<PaymentInput>,
) -> Result<Response, ApiError> {
    let idempotency_key = require_idempotency_key(&headers)?;
    let owner = Owner::Organisation {
        organisation: key.organisation_id,
        key: key.key_id,
    };
    let submission = service::create::api_submission(key.key_id, idempotency_key);
    // The answer is stored with the payment, in the same statement (see the kernel's
    // `web::idempotency::Claimed`).
    let public_url = app.config.public_url.clone();
    let render = move |p: &crate::model::Payment, next: &service::NextAction| {
        serde_json::to_vec(&PaymentView::new(&public_url, p, next.clone()))
            .map_err(|e| Error::Internal(e.into()))
    };
    let answer = claim.as_ref().map(|Extension(c)| service::create::Answer {
        claim: c,
        status: StatusCode::CREATED.as_u16(),
        render: &render,
    });
    match service::create::create_answered(&app, owner, &input, Some(&submission), answer).await? {
        Ok(created) => match created.answer {
            Some(body) => {
                let mut res = (
                    StatusCode::CREATED,
                    [(header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response();
                res.extensions_mut().insert(AnswerStored);
                Ok(res)
            }
            None => {
                let body = PaymentView::new(&app.config.public_url, &created.payment, created.next);
                Ok((StatusCode::CREATED, axum::Json(body)).into_response())
            }
        },
        Err(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(ValidationErrorBody::new(errors)),
        )
            .into_response()),
    }
}

/// Get a payment
///
/// One of the calling organisation's payments; another's is 404, as if it did not exist. A
/// pending card payment is first checked with the acquirer, so the state is current.
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}",
    operation_id = "get_payment",
    tag = "payments",
    params(("id" = Uuid, Path, description = "The payment's id")),
    responses((status = 200, description = "The payment", body = PaymentView))
)]
pub async fn get(
    State(app): State<App>,
    key: KeyHolder,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PaymentView>, ApiError> {
    let p = service::for_organisation(&app, &key, id).await?;
    let p = notify::refresh(&app, p).await?;
    Ok(axum::Json(view(&app, &p)?))
}

/// Refund a payment
///
/// Pays back all that is left of a paid payment, or `amount` of it; the payment becomes
/// `partially_refunded` or `refunded`. Amounts count what the payer paid (amount and fee).
/// `Idempotency-Key` is required.
///
/// A card payment is refunded through the acquirer at once (or `pending` while the acquirer
/// works). An IPS payment is paid back by a credit transfer from ePošta's collection account
/// to the payer's account: `account` if given, else the account the bank statement named
/// when the transfer came in (422 naming `account` when neither is known); the refund stays
/// `pending` until the day's refund batch is exported to the bank, then it is `succeeded`
/// and the payment's state follows. Cash payments are paid back at the counter (409), and a
/// payment already remitted to its payee is not refunded (409).
#[utoipa::path(
    post,
    path = "/api/v1/payments/{id}/refunds",
    operation_id = "refund_payment",
    tag = "payments",
    params(("id" = Uuid, Path, description = "The payment's id")),
    request_body = RefundInput,
    responses(
        (status = 201, description = "Refunded, or accepted (`pending`: by the acquirer, or waiting for the day's refund batch)", body = RefundResult),
        (status = 400, description = "No `Idempotency-Key` header"),
        (status = 409, description = "Not refundable: not paid, a cash payment, remitted to the payee, nothing left, or `refund_amount_available` is out of date"),
        (status = 422, description = "A field is wrong: `amount` (not above zero, or more than is left) or `account` (not a valid account, or needed and missing)"),
    )
)]
pub async fn refund_payment(
    State(app): State<App>,
    key: KeyHolder,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(input): Json<RefundInput>,
) -> Result<Response, ApiError> {
    require_idempotency_key(&headers)?;
    let p = service::for_organisation(&app, &key, id).await?;
    let rsd = |field: &'static str, m: Option<eposta_kernel::money::Money>| match m {
        Some(m) if m.currency != eposta_kernel::money::Currency::RSD => Err(Error::invalid(
            format!("{field}.currency"),
            "must be in RSD",
        )),
        other => Ok(other.map(|m| m.minor)),
    };
    let amount = rsd("amount", input.amount)?;
    let available = rsd("refund_amount_available", input.refund_amount_available)?;
    let done = refund::refund(
        &app,
        &Actor::ApiKey(key.key_id),
        &p,
        amount,
        available,
        input.account.as_deref(),
    )
    .await?;
    let body = RefundResult {
        refund: RefundView::from(&done.refund),
        payment: view(&app, &done.payment)?,
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// Payment receipt (PDF)
///
/// The receipt of one of the organisation's paid payments (`succeeded` or
/// `partially_refunded`): an A6 PDF with the confirmation number, the payment order, the
/// amounts and a QR code of a code signed by ePošta, which anyone can check at
/// `/receipts/verify`, with `eposta receipt verify` or with OpenSSL (`docs/receipts.md`).
/// The code is also in the PDF's metadata (`/EpostaReceipt`).
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}/receipt",
    operation_id = "payment_receipt",
    tag = "payments",
    params(("id" = Uuid, Path, description = "The payment's id")),
    responses(
        (status = 200, description = "The receipt", content_type = "application/pdf"),
        (status = 404, description = "No payment of the organisation has this id"),
        (status = 409, description = "The payment has not been paid (or was refunded in full): no receipt"),
    )
)]
pub async fn receipt(
    State(app): State<App>,
    key: KeyHolder,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let p = service::for_organisation(&app, &key, id).await?;
    let p = notify::refresh(&app, p).await?;
    Ok(service::receipts::pdf(&app, &p).await?)
}

/// The IPS QR string of one of the organisation's pending IPS payments.
async fn qr_text(app: &App, key: &KeyHolder, id: Uuid) -> Result<String, Error> {
    let p = service::for_organisation(app, key, id).await?;
    match service::next_action(app, &p)? {
        service::NextAction::IpsQr(i) => Ok(i.qr),
        _ => Err(Error::NotFound),
    }
}

/// Draws an IPS QR string as PNG (8 pixels a module) or SVG (40 mm).
pub fn qr_image(qr: &str, png: bool) -> Result<Response, Error> {
    let image = QrImage::new(qr).map_err(|e| Error::Internal(anyhow::anyhow!("QR: {e}")))?;
    let (content_type, bytes) = if png {
        let bytes = image
            .to_png(8)
            .map_err(|e| Error::Internal(anyhow::anyhow!("QR: {e}")))?;
        ("image/png", bytes)
    } else {
        ("image/svg+xml", image.to_svg(40).into_bytes())
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        bytes,
    )
        .into_response())
}

/// IPS QR code as PNG
///
/// The QR code of a pending IPS payment (the `ips_qr` of its `next_action`), 8 pixels a
/// module with the quiet zone. 404 once the payment is no longer pending.
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}/ips-qr.png",
    operation_id = "payment_ips_qr_png",
    tag = "payments",
    params(("id" = Uuid, Path, description = "The payment's id")),
    responses((status = 200, description = "PNG image", content_type = "image/png"))
)]
pub async fn qr_png(
    State(app): State<App>,
    key: KeyHolder,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    Ok(qr_image(&qr_text(&app, &key, id).await?, true)?)
}

/// IPS QR code as SVG
///
/// The same code as an SVG document, 40 mm square.
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}/ips-qr.svg",
    operation_id = "payment_ips_qr_svg",
    tag = "payments",
    params(("id" = Uuid, Path, description = "The payment's id")),
    responses((status = 200, description = "SVG image", content_type = "image/svg+xml"))
)]
pub async fn qr_svg(
    State(app): State<App>,
    key: KeyHolder,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    Ok(qr_image(&qr_text(&app, &key, id).await?, false)?)
}

/// Acquirer notification
///
/// Where a card acquirer tells ePošta that a payment succeeded, was declined or cancelled,
/// or that a refund finished. Not for API clients: no API key, but the body must carry the
/// acquirer's signature (401 otherwise). Repeats are answered 200 and change nothing.
#[utoipa::path(
    post,
    path = "/api/v1/payments/notifications/{provider}",
    operation_id = "payment_notification",
    tag = "payments",
    security(()),
    params(("provider" = String, Path, description = "The acquirer's name (`test` for the test acquirer)")),
    request_body(content = String, description = "The acquirer's signed notification", content_type = "application/json"),
    responses(
        (status = 200, description = "Taken", body = NotificationReceived),
        (status = 401, description = "The signature does not verify"),
    )
)]
pub async fn notification(
    State(app): State<App>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<NotificationReceived>, ApiError> {
    let result = match notify::receive(&app, &provider, &headers, &body).await? {
        notify::Received::Applied => "applied",
        notify::Received::Unchanged => "unchanged",
        notify::Received::Ignored(_) => "ignored",
    };
    Ok(axum::Json(NotificationReceived { result }))
}
