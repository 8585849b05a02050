//! Payment receipts that anyone can verify offline: a PDF with the confirmation number, the
//! payment order, amounts, time and method, and a QR code of a code signed by ePošta
//! (`EPR1.<payload>.<signature>`, Ed25519 over compact canonical JSON). `docs/receipts.md`
//! describes the format, the keys, their rotation, and verification by CLI, page and hand.
//!
//! - [`data`]: [`ReceiptData`], what a receipt is made from (the payments capability fills it
//!   from a succeeded payment).
//! - [`claims`]: what the signed code says, and its canonical bytes.
//! - [`token`]: [`sign`] and [`verify`], with precise [`VerifyError`]s.
//! - [`keys`]: the installation's keys (derived from `EPOSTA_SECRET_KEY`) and
//!   `/receipts/keys.json`.
//! - [`pdf`]: the A6 receipt.
//! - `pages`: the public check at `/receipts/verify`.

pub mod claims;
pub mod data;
pub mod keys;
mod pages;
pub mod pdf;
pub mod token;

#[cfg(test)]
mod tests;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use eposta_kernel::web::{Access, Routes};

pub use claims::{PaidBy, ReceiptClaims};
pub use data::{CounterOffice, ReceiptData, ReceiptError};
pub use keys::{ReceiptKeys, check_config};
pub use pdf::receipt_pdf;
pub use token::{VerifyError, find_token, find_token_in_text, sign, verify};

/// A receipt: its signed code and its PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub token: String,
    pub pdf: Vec<u8>,
}

/// Signs and draws the receipt of `data` with the installation's current key.
pub fn issue(data: &ReceiptData, keys: &ReceiptKeys) -> Result<Receipt, ReceiptError> {
    let token = sign(data, keys.signing_key())?;
    let pdf = receipt_pdf(data, &token)?;
    Ok(Receipt { token, pdf })
}

/// The receipt PDF as an HTTP response: shown in the browser to print, saved as
/// `receipt-<confirmation>.pdf`, never cached (it names the payer).
pub fn pdf_response(
    data: &ReceiptData,
    keys: &ReceiptKeys,
) -> Result<Response, eposta_kernel::Error> {
    let receipt = issue(data, keys)?;
    let name: String = data
        .confirmation
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"receipt-{name}.pdf\""))
        .unwrap_or(HeaderValue::from_static("inline"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        receipt.pdf,
    )
        .into_response())
}

/// The public routes of receipts: the check page and the published keys. The payments
/// capability merges them into its own.
pub fn routes() -> Routes {
    Routes::new()
        .get("/receipts/verify", Access::Public, pages::form)
        .post("/receipts/verify", Access::Public, pages::check_token)
        .post(
            "/receipts/verify/file",
            Access::Public,
            pages::check_file.layer(DefaultBodyLimit::max(pages::MAX_UPLOAD)),
        )
        .get("/receipts/keys.json", Access::Public, keys::keys_json)
}
