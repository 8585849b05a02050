//! Shipping labels: a 100 × 150 mm PDF page per item with the S10 identifier as Code 128
//! and in its human-readable grouping, a QR code of the booking code, the sender and
//! recipient blocks, product, weight and options. Pure: no database, no HTTP (apart from
//! [`pdf_response`], which only wraps the bytes for a handler).
//!
//! Drawn with the kernel's PDF writer ([`eposta_kernel::pdf`]: pdf-writer, embedded Noto
//! Sans subsets, QR codes as rectangles); Code 128 is our own ([`code128`]): `barcoders` makes
//! the caller choose code sets by hand, and the optimal B/C choice with its check symbol fits
//! in a page, tested against zint's published module strings.

pub mod code128;
mod http;
mod layout;

use chrono::NaiveDate;
use eposta_formats::s10::S10;

pub use code128::Code128Error;
pub use http::pdf_response;

/// The most labels one PDF may hold: the API's largest batch.
pub const MAX_LABELS: usize = 1_000;
/// The longest booking code the label's QR code carries, in bytes.
pub const MAX_BOOKING_CODE: usize = 64;

/// Everything printed on one label. Texts are shown as given (in Cyrillic or Latin);
/// control characters become spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    pub tracking_number: S10,
    /// Carried by the QR code and printed under it; empty for an item with no booking
    /// (then the QR code is left out).
    pub booking_code: String,
    /// The product's display name, e.g. "Препоручено писмо".
    pub product: String,
    pub weight_g: u32,
    /// Display names of the options, e.g. "Otkupnina 1.500,00 RSD".
    pub options: Vec<String>,
    pub sender: Address,
    pub recipient: Address,
    pub date: NaiveDate,
}

/// A postal address as printed on a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    pub street: String,
    pub number: String,
    pub postal_code: String,
    pub place: String,
    pub phone: Option<String>,
}

/// Why labels could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no labels to render")]
    NoLabels,
    #[error("{0} labels in one document; at most {MAX_LABELS}")]
    TooManyLabels(usize),
    #[error(
        "the booking code is {0} bytes long; a label's QR code carries at most {MAX_BOOKING_CODE}"
    )]
    BookingCodeTooLong(usize),
    #[error("barcode: {0}")]
    Barcode(#[from] Code128Error),
    /// The embedded font could not be read or subset: a defect, never the caller's input.
    #[error("pdf: {0}")]
    Pdf(#[from] eposta_kernel::pdf::PdfError),
}

/// One label as a one-page PDF.
pub fn label_pdf(label: &LabelData) -> Result<Vec<u8>, Error> {
    labels_pdf(std::slice::from_ref(label))
}

/// One PDF with a page per label, in order; the fonts are embedded once for the batch.
pub fn labels_pdf(labels: &[LabelData]) -> Result<Vec<u8>, Error> {
    match labels.len() {
        0 => return Err(Error::NoLabels),
        n if n > MAX_LABELS => return Err(Error::TooManyLabels(n)),
        _ => {}
    }
    if let Some(l) = labels
        .iter()
        .find(|l| l.booking_code.trim().len() > MAX_BOOKING_CODE)
    {
        return Err(Error::BookingCodeTooLong(l.booking_code.trim().len()));
    }
    let title = match labels {
        [one] => format!("Налепница {}", one.tracking_number.grouped()),
        many => format!("Налепнице ({})", many.len()),
    };
    let mut doc =
        eposta_kernel::pdf::Document::new(layout::PAGE_WIDTH, layout::PAGE_HEIGHT, title)?;
    for label in labels {
        let mut page = doc.page();
        layout::draw(&mut page, label)?;
        page.finish();
    }
    Ok(doc.finish()?)
}
