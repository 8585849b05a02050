//! Labels of booked items: the item as the label renderer wants it, and the routes that hand
//! out the PDF (a citizen's own item; an organisation's shipment, one or a batch).

use axum::extract::State;
use axum::response::Response;
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::money::Money;
use eposta_kernel::web::error::{ApiError, PageError};
use eposta_kernel::web::extract::{Json, Path};
use eposta_kernel::web::page::PageCtx;
use eposta_kernel::web::principal::{KeyHolder, SessionUser};
use eposta_kernel::{App, Error};
use serde::Deserialize;
use uuid::Uuid;

use super::service;
use super::store::ItemRow;
use crate::labels::{self, Address, LabelData, MAX_LABELS};

/// The options of an item as people read them, with the amount where there is one:
/// "Откупнина: 1.500,00 RSD". The item page and the label say the same.
pub fn option_lines(tr: &Tr, r: &ItemRow) -> Vec<String> {
    r.option_names()
        .iter()
        .map(|o| {
            let amount = match o.as_str() {
                "cash_on_delivery" => r.cod_minor,
                "declared_value" => r.declared_value_minor,
                _ => None,
            };
            let label = tr.t(super::pages::option_key(o));
            match amount {
                Some(a) => format!("{label}: {}", Money::rsd(a)),
                None => label.to_owned(),
            }
        })
        .collect()
}

/// What the label of a stored item shows, in the language of `tr`.
pub fn label_data(tr: &Tr, r: &ItemRow) -> Result<LabelData, Error> {
    let tracking_number = r.tracking().ok_or_else(|| {
        Error::Internal(anyhow::anyhow!("item {} has no valid S10 identifier", r.id))
    })?;
    Ok(LabelData {
        tracking_number,
        booking_code: r.booking_code.clone(),
        product: tr.t(super::pages::product_key(&r.product)).to_owned(),
        weight_g: u32::try_from(r.weight_g).unwrap_or(0),
        options: option_lines(tr, r),
        sender: Address {
            name: r.sender_name.clone(),
            street: r.sender_street.clone(),
            number: r.sender_number.clone(),
            postal_code: r.sender_postal_code.clone(),
            place: r.sender_place.clone(),
            phone: r.sender_phone.clone(),
        },
        recipient: Address {
            name: r.recipient_name.clone(),
            street: r.recipient_street.clone(),
            number: r.recipient_number.clone(),
            postal_code: r.recipient_postal_code.clone(),
            place: r.recipient_place.clone(),
            phone: r.recipient_phone.clone(),
        },
        date: r
            .created_at
            .with_timezone(&chrono_tz::Europe::Belgrade)
            .date_naive(),
    })
}

/// `GET /items/{id}/label.pdf`: the citizen's own item (another's is 404).
pub async fn citizen_label(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let r = service::citizen_item(&app, &user, id).await?;
    Ok(labels::pdf_response(&[label_data(&ctx.tr, &r)?])?)
}

/// Labels through the API are printed in Serbian Cyrillic, the post's own script.
fn api_tr() -> Tr {
    Tr::new(Lang::SrCyrl)
}

/// Get a shipment's label
///
/// The 100×150 mm label of one of the organisation's shipments, as a PDF: Code 128 of the
/// tracking number, QR code of the booking code, sender and recipient.
#[utoipa::path(
    get,
    path = "/api/v1/shipments/{tracking_number}/label",
    operation_id = "get_shipment_label",
    tag = "shipments",
    params(("tracking_number" = String, Path, description = "The S10 identifier", example = "CA123456785RS")),
    responses((status = 200, description = "The label", content_type = "application/pdf", body = Vec<u8>))
)]
pub async fn shipment_label(
    State(app): State<App>,
    key: KeyHolder,
    Path(tracking_number): Path<String>,
) -> Result<Response, ApiError> {
    let r = service::organisation_item(&app, &key, &tracking_number).await?;
    Ok(labels::pdf_response(&[label_data(&api_tr(), &r)?])?)
}

/// The shipments whose labels to print in one PDF.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LabelBatch {
    /// 1 to 1,000 tracking numbers of the organisation's shipments; one page each, in order.
    pub tracking_numbers: Vec<String>,
}

/// Print labels in one PDF
///
/// One PDF with a page per shipment, in the order given: the batch of a bulk booking printed
/// at once. Every tracking number must be one of the organisation's shipments; otherwise the
/// answer is 422 naming the first one that is not.
#[utoipa::path(
    post,
    path = "/api/v1/shipments/labels",
    operation_id = "print_shipment_labels",
    tag = "shipments",
    request_body = LabelBatch,
    responses((status = 200, description = "The labels", content_type = "application/pdf", body = Vec<u8>))
)]
pub async fn batch_labels(
    State(app): State<App>,
    key: KeyHolder,
    Json(batch): Json<LabelBatch>,
) -> Result<Response, ApiError> {
    if batch.tracking_numbers.is_empty() || batch.tracking_numbers.len() > MAX_LABELS {
        return Err(Error::invalid("tracking_numbers", "give 1 to 1,000 tracking numbers").into());
    }
    let tr = api_tr();
    let mut pages = Vec::with_capacity(batch.tracking_numbers.len());
    for (i, t) in batch.tracking_numbers.iter().enumerate() {
        let r = match service::organisation_item(&app, &key, t).await {
            Ok(r) => r,
            Err(Error::NotFound) => {
                return Err(Error::invalid(
                    format!("tracking_numbers[{i}]"),
                    "not a shipment of this organisation",
                )
                .into());
            }
            Err(e) => return Err(e.into()),
        };
        pages.push(label_data(&tr, &r)?);
    }
    Ok(labels::pdf_response(&pages)?)
}
