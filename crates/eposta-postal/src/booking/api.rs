//! The shipments API for businesses (scope `postal:book`): `POST /api/v1/shipments` books one
//! shipment or up to 1,000 at once (all or nothing), `GET /api/v1/shipments/{tracking_number}`
//! reads one of the organisation's own.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use eposta_kernel::App;
use eposta_kernel::Error;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::ApiError;
use eposta_kernel::web::extract::{Json, Path};
use eposta_kernel::web::principal::KeyHolder;
use eposta_kernel::web::routes::{Access, Routes};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::OpenApi;
use uuid::Uuid;

use super::service::{self, BatchError, MAX_BATCH, SCOPE};
use super::store::ItemRow;
use crate::domain::{FieldError, OptionsInput, RecipientInput, Rule, SenderInput, ShipmentInput};

#[derive(OpenApi)]
#[openapi(
    paths(book, get, super::label::shipment_label, super::label::batch_labels),
    components(schemas(ShipmentInput, SenderInput, RecipientInput, OptionsInput, super::label::LabelBatch)),
    tags((name = "shipments", description = "Booking postal items: letters, registered letters, parcels and express items, one or up to 1,000 per request."))
)]
pub struct ShipmentsApi;

pub fn routes() -> Routes {
    Routes::new()
        .post("/api/v1/shipments", Access::Scope(SCOPE), book)
        .post(
            "/api/v1/shipments/labels",
            Access::Scope(SCOPE),
            super::label::batch_labels,
        )
        .get(
            "/api/v1/shipments/{tracking_number}/label",
            Access::Scope(SCOPE),
            super::label::shipment_label,
        )
        .get(
            "/api/v1/shipments/{tracking_number}",
            Access::Scope(SCOPE),
            get,
        )
        .openapi(ShipmentsApi::openapi())
}

/// The price of an item: net, VAT, and the total to pay.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Price {
    pub net: Money,
    pub vat: Money,
    pub total: Money,
}

/// A sender or recipient as booked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Party {
    pub name: String,
    pub street: String,
    pub number: String,
    pub postal_code: String,
    pub place: String,
    /// E.164: `+381641234567`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A booked shipment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Shipment {
    pub id: Uuid,
    /// The UPU S10 identifier, as in the barcode.
    #[schema(example = "CA123456785RS")]
    pub tracking_number: String,
    /// The same, grouped for people: `CA 123 456 785 RS`.
    #[schema(example = "CA 123 456 785 RS")]
    pub tracking_number_grouped: String,
    /// The hand-in code to show at the counter (8 characters, no 0, 1, I or O).
    #[schema(example = "K7QM3XPA")]
    pub booking_code: String,
    /// `pre_transit` until the item is handed in, then the tracking status.
    #[schema(example = "pre_transit")]
    pub status: String,
    /// `letter`, `registered_letter`, `parcel` or `express` (a letter booked as registered
    /// is a `registered_letter`).
    #[schema(example = "parcel")]
    pub product: String,
    pub weight_g: i32,
    /// `registered`, `cash_on_delivery`, `declared_value`, `delivery_confirmation`,
    /// `sms_notice`.
    pub options: Vec<String>,
    /// The amount the postman collects from the recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cash_on_delivery: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_value: Option<Money>,
    pub price: Price,
    /// Whether the price has been paid (until online payment exists: at the counter, when
    /// the item is handed in).
    pub paid: bool,
    pub sender: Party,
    pub recipient: Party,
    pub created_at: DateTime<Utc>,
}

impl From<ItemRow> for Shipment {
    fn from(r: ItemRow) -> Self {
        Shipment {
            tracking_number_grouped: r.grouped(),
            options: r.option_names(),
            price: Price {
                net: r.net(),
                vat: r.vat(),
                total: r.total(),
            },
            paid: r.paid_at.is_some(),
            cash_on_delivery: r.cod_minor.map(Money::rsd),
            declared_value: r.declared_value_minor.map(Money::rsd),
            id: r.id,
            tracking_number: r.tracking_number,
            booking_code: r.booking_code,
            status: r.status,
            product: r.product,
            weight_g: r.weight_g,
            sender: Party {
                name: r.sender_name,
                street: r.sender_street,
                number: r.sender_number,
                postal_code: r.sender_postal_code,
                place: r.sender_place,
                phone: r.sender_phone,
                email: None,
            },
            recipient: Party {
                name: r.recipient_name,
                street: r.recipient_street,
                number: r.recipient_number,
                postal_code: r.recipient_postal_code,
                place: r.recipient_place,
                phone: r.recipient_phone,
                email: r.recipient_email,
            },
            created_at: r.created_at,
        }
    }
}

/// Up to 1,000 shipments.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ShipmentBatch {
    #[schema(min_items = 1, max_items = 1000)]
    pub shipments: Vec<ShipmentInput>,
}

/// One shipment, or `{"shipments": [...]}` with up to 1,000.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BookRequest {
    Many(ShipmentBatch),
    One(Box<ShipmentInput>),
}

/// The booked shipments, in the order they were sent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShipmentList {
    pub shipments: Vec<Shipment>,
}

/// The booked shipment for one shipment sent; `{"shipments": [...]}` for a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BookResponse {
    Many(ShipmentList),
    One(Box<Shipment>),
}

/// A rule one shipment broke.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShipmentError {
    /// The shipment's position in `shipments`, from 0 (0 for a single shipment).
    pub index: usize,
    /// The field within the shipment: `recipient.postal_code`.
    pub field: String,
    pub message: String,
}

/// The error shape, with every rule every shipment broke.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchErrorDetail {
    /// `invalid`.
    pub code: &'static str,
    pub message: String,
    /// When exactly one rule was broken: its full path, `shipments[17].weight_g`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub errors: Vec<ShipmentError>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchErrorBody {
    pub error: BatchErrorDetail,
}

/// Reads one shipment, naming the field of a value of the wrong type or a missing one.
fn read_shipment(v: Value) -> Result<ShipmentInput, Vec<FieldError>> {
    serde_path_to_error::deserialize::<_, ShipmentInput>(v).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split_once('`'))
            .map(|(f, _)| f.to_owned());
        let error = match (path.as_str(), missing) {
            (".", Some(f)) => FieldError::new(f, Rule::Required),
            (p, Some(f)) => FieldError::new(format!("{p}.{f}"), Rule::Required),
            (".", None) => FieldError::new("shipment", Rule::Shape(message)),
            (p, None) => FieldError::new(p, Rule::Shape(message)),
        };
        vec![error]
    })
}

fn batch_error(errors: Vec<BatchError>, batch: bool, total: usize) -> Response {
    let bad: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.index).collect();
    let path = |e: &BatchError| {
        if batch {
            format!("shipments[{}].{}", e.index, e.error.field)
        } else {
            e.error.field.clone()
        }
    };
    let field = match errors.as_slice() {
        [one] => Some(path(one)),
        _ => None,
    };
    let message = match errors.as_slice() {
        [one] => format!(
            "{}: {}; nothing was booked",
            path(one),
            one.error.rule.message()
        ),
        _ => format!(
            "{} of {total} shipments break a rule; nothing was booked",
            bad.len()
        ),
    };
    let body = BatchErrorBody {
        error: BatchErrorDetail {
            code: "invalid",
            message,
            field,
            errors: errors
                .into_iter()
                .map(|e| ShipmentError {
                    index: e.index,
                    message: e.error.rule.message(),
                    field: e.error.field,
                })
                .collect(),
        },
    };
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

/// Book shipments
///
/// Books one shipment, or up to 1,000 sent as `{"shipments": [...]}`. Every shipment is
/// checked first: if any breaks a rule, the answer is 422 listing the position (`index`)
/// and field of every broken rule, and nothing is booked. Otherwise all are booked in one
/// transaction, each with its UPU S10 tracking number, a booking code to show at the
/// counter, and its price (VAT shown apart); they wait in `pre_transit` until handed in and
/// paid at a post office. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/shipments",
    operation_id = "book_shipments",
    tag = "shipments",
    request_body = BookRequest,
    responses(
        (status = 201, description = "Booked: the shipment, or `{\"shipments\": [...]}` for a batch", body = BookResponse),
        (status = 422, description = "A shipment breaks a rule (`errors` lists each, by position and field), or the batch is empty or larger than 1,000; nothing was booked", body = BatchErrorBody),
    )
)]
pub async fn book(
    State(app): State<App>,
    key: KeyHolder,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let (batch, values) = match body {
        Value::Object(mut m) if m.contains_key("shipments") => {
            if m.len() > 1 {
                return Err(Error::invalid(
                    "shipments",
                    "a batch is {\"shipments\": [...]} and nothing else",
                )
                .into());
            }
            match m.remove("shipments") {
                Some(Value::Array(list)) => (true, list),
                _ => return Err(Error::invalid("shipments", "must be an array").into()),
            }
        }
        one @ Value::Object(_) => (false, vec![one]),
        _ => {
            return Err(Error::invalid(
                "shipments",
                "send a shipment object or {\"shipments\": [...]}",
            )
            .into());
        }
    };
    if values.len() > MAX_BATCH {
        return Err(
            Error::invalid("shipments", "must hold at most 1000 shipments per request").into(),
        );
    }
    let total = values.len();
    let inputs = values.into_iter().map(read_shipment).collect();
    match service::book_for_organisation(&app, &key, inputs).await? {
        Ok(rows) => {
            let mut shipments: Vec<Shipment> = rows.into_iter().map(Shipment::from).collect();
            let body = match (batch, shipments.pop()) {
                (false, Some(one)) => BookResponse::One(Box::new(one)),
                (_, last) => {
                    shipments.extend(last);
                    BookResponse::Many(ShipmentList { shipments })
                }
            };
            Ok((StatusCode::CREATED, axum::Json(body)).into_response())
        }
        Err(errors) => Ok(batch_error(errors, batch, total)),
    }
}

/// Get a shipment
///
/// One of the calling organisation's shipments, by its tracking number (spaces and case do
/// not matter). Another organisation's shipment is 404, as if it did not exist.
#[utoipa::path(
    get,
    path = "/api/v1/shipments/{tracking_number}",
    operation_id = "get_shipment",
    tag = "shipments",
    params(("tracking_number" = String, Path, description = "The S10 identifier, `CA123456785RS`", example = "CA123456785RS")),
    responses((status = 200, description = "The shipment", body = Shipment))
)]
pub async fn get(
    State(app): State<App>,
    key: KeyHolder,
    Path(tracking_number): Path<String>,
) -> Result<axum::Json<Shipment>, ApiError> {
    let row = service::organisation_item(&app, &key, &tracking_number).await?;
    Ok(axum::Json(Shipment::from(row)))
}
