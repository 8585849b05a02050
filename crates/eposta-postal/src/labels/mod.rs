//! Shipping labels: a 100 × 150 mm PDF page per item with the S10 identifier as Code 128
//! and in its human-readable grouping, a QR code of the booking code, the sender and
//! recipient blocks, product, weight and options. Pure: no database, no HTTP (apart from
//! [`pdf_response`], which only wraps the bytes for a handler).
//!
//! # Why this stack
//!
//! The whole CI builds from scratch, so the renderer is built from small crates and one
//! encoder of our own:
//!
//! - [`pdf-writer`](https://docs.rs/pdf-writer) (Typst's low-level writer; 4 small
//!   dependencies) writes the objects. `printpdf` 0.12 brings azul layout and image crates
//!   unless trimmed and changes its API every minor release; `krilla` brings text shaping
//!   (rustybuzz, skrifa) that Serbian does not need.
//! - [`subsetter`](https://docs.rs/subsetter) (Typst's, without its variable-font feature:
//!   one dependency) cuts the embedded font down to the glyphs a document uses, so a label
//!   weighs about 15 KB and a batch shares one subset (1,000 labels: 2.6 MB).
//! - [`ttf-parser`](https://docs.rs/ttf-parser) (no dependencies) maps characters to
//!   glyphs and measures text.
//! - [`qrcode`](https://docs.rs/qrcode) without its default features (no `image`) encodes
//!   the QR code, drawn here as rectangles.
//! - Code 128 is our own ([`code128`]): `barcoders` makes the caller choose code sets by
//!   hand, and the optimal B/C choice with its check symbol fits in a page, tested against
//!   zint's published module strings.
//! - `miniz_oxide` compresses the streams.
//!
//! Text is set in Noto Sans Regular and Bold (SIL OFL 1.1, `fonts/`), which cover Serbian in
//! both scripts; glyphs are placed one by one, with a ToUnicode map so `pdftotext`, search
//! and screen readers get the text back in its own script.

pub mod code128;
mod fonts;
mod http;
mod layout;
mod pdf;

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
    #[error("font: {0}")]
    Font(String),
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
    let mut doc = pdf::Document::new(layout::PAGE_WIDTH, layout::PAGE_HEIGHT, title)?;
    for label in labels {
        let mut page = doc.page();
        layout::draw(&mut page, label)?;
        page.finish();
    }
    doc.finish()
}
