//! PDFs where paper is the product (labels, receipts, later certificates and telegrams): a
//! page writer in millimetres from the top-left corner, text in embedded Noto Sans Regular
//! and Bold with a ToUnicode map (so `pdftotext`, search and screen readers get the text back
//! in its own script), text fitted into boxes, QR codes drawn as rectangles. Pure: bytes in
//! memory.
//!
//! # Why this stack
//!
//! The whole CI builds from scratch, so the writer is built from small crates:
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
//!   QR codes, drawn here as rectangles.
//! - `miniz_oxide` compresses the streams.
//!
//! It began as the postal labels' renderer (`eposta_postal::labels`) and moved here when
//! receipts needed the same.

mod fonts;
mod page;
mod text;

pub use fonts::{Typeface, Weight, clean};
pub use page::{Document, MM, Page};
pub use text::{Flow, LEADING, fit, fit_lines};

/// Why a document could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The embedded font could not be read or subset: a defect, never the caller's input.
    #[error("font: {0}")]
    Font(String),
    #[error("{0} pages in one document")]
    TooManyPages(usize),
    #[error("{0} bytes are too many for a QR code")]
    QrTooLong(usize),
}
