//! Where everything sits on a 100 × 150 mm label, and how long text is fitted into its box
//! (smaller type first, then more lines, then an ellipsis).
//!
//! ```text
//!  ┌──────────────────────────────┐   4 mm margins
//!  │ Product            ┌──────┐  │   header: product, weight, date; QR code of the
//!  │ Маса / Weight      │  QR  │  │   booking code (22 mm with its quiet zone)
//!  │ Датум / Date       └──────┘  │
//!  ├──────────────────────────────┤
//!  │ ПОШИЉАЛАЦ / FROM  (small)    │
//!  ├──────────────────────────────┤
//!  │ ПРИМАЛАЦ / TO                │   recipient: large, bold name and place
//!  │ NAME                         │
//!  │ Street 12                    │
//!  │ 11000 PLACE                  │
//!  ├──────────────────────────────┤
//!  │ УСЛУГЕ / SERVICES            │   options, one per line, two columns past three
//!  │                              │
//!  │  ║│║║│║║│║║││║║│║║│║║│║║│║║  │   Code 128, X = 0.5 mm, 20 mm high, quiet zones 5 mm
//!  │      RA 123 456 785 RS       │
//!  └──────────────────────────────┘
//! ```

use eposta_kernel::pdf::{Flow, LEADING, MM, Page, Typeface, Weight, clean, fit};

use super::code128;
use super::{Address, Error, LabelData};

pub(crate) const PAGE_WIDTH: f32 = 100.0;
pub(crate) const PAGE_HEIGHT: f32 = 150.0;
const MARGIN: f32 = 4.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;

/// The narrow bar, in mm: 4 dots at 8 dots/mm (203 dpi) and 6 at 12 dots/mm (300 dpi), so
/// thermal printers draw every bar alike; within S10's 0.25–0.51 mm, above the recommended
/// 0.33 mm minimum.
pub(crate) const BAR_MODULE: f32 = 0.5;
/// Bar height in mm: S10 asks for at least 12.5 mm and 15 % of the symbol's width (78 mm).
pub(crate) const BAR_HEIGHT: f32 = 20.0;
/// Quiet zone either side, in modules (ISO/IEC 15417 asks for 10).
const QUIET_MODULES: f32 = 10.0;
const BAR_TOP: f32 = 118.0;

const QR_SIZE: f32 = 22.0;
const QR_LEFT: f32 = PAGE_WIDTH - MARGIN - QR_SIZE;

const HEADER_RULE: f32 = 31.0;
const SENDER_RULE: f32 = 51.0;
/// Everything above the barcode must end here, leaving its quiet zone clear.
const OPTIONS_BOTTOM: f32 = BAR_TOP - 3.0;
const RULE: f32 = 0.3;

/// Draws one label on `page`.
pub(crate) fn draw(page: &mut Page<'_>, label: &LabelData) -> Result<(), Error> {
    header(page, label)?;
    page.rule(MARGIN, HEADER_RULE, CONTENT_WIDTH, RULE);
    sender(page, &label.sender)?;
    page.rule(MARGIN, SENDER_RULE, CONTENT_WIDTH, RULE);
    let end = recipient(page, &label.recipient)?;
    let options_top = end + 2.0;
    if !label.options.is_empty() {
        page.rule(MARGIN, options_top, CONTENT_WIDTH, RULE);
        options(page, &label.options, options_top)?;
    }
    barcode(page, label)
}

fn header(page: &mut Page<'_>, label: &LabelData) -> Result<(), Error> {
    let width = QR_LEFT - MARGIN - 3.0;
    let mut flow = Flow::new(MARGIN, width, MARGIN);
    flow.wrapped(page, Weight::Bold, &label.product, 14.0, 9.0, 2)?;
    flow.gap(1.0);
    let weight = format!("Маса / Weight: {}", weight_text(label.weight_g));
    flow.line(page, Weight::Regular, &weight, 9.0, 7.0)?;
    let date = format!("Датум / Date: {}", label.date.format("%d.%m.%Y."));
    flow.line(page, Weight::Regular, &date, 9.0, 7.0)?;

    let code = label.booking_code.trim();
    if !code.is_empty() {
        page.qr_code(code, QR_LEFT, MARGIN, QR_SIZE)
            .map_err(|_| Error::BookingCodeTooLong(code.len()))?;
        let bold = Typeface::get(Weight::Bold)?;
        let (size, text) = fit(bold, &clean(code), 8.0, 5.0, QR_SIZE + 2.0);
        let x = QR_LEFT + (QR_SIZE - bold.width(&text, size) / MM) / 2.0;
        page.text(Weight::Bold, size, x, MARGIN + QR_SIZE + 2.5, &text);
    }
    Ok(())
}

fn sender(page: &mut Page<'_>, a: &Address) -> Result<(), Error> {
    let mut flow = Flow::new(MARGIN, CONTENT_WIDTH, HEADER_RULE);
    flow.line(page, Weight::Regular, "ПОШИЉАЛАЦ / FROM", 6.5, 6.5)?;
    flow.line(page, Weight::Regular, &a.name, 9.0, 6.5)?;
    flow.line(page, Weight::Regular, &street(a), 9.0, 6.5)?;
    flow.line(page, Weight::Regular, &place(a), 9.0, 6.5)?;
    if let Some(phone) = phone(a) {
        flow.line(page, Weight::Regular, &phone, 8.0, 6.5)?;
    }
    Ok(())
}

/// Draws the recipient block and returns where it ends (mm from the top).
fn recipient(page: &mut Page<'_>, a: &Address) -> Result<f32, Error> {
    let mut flow = Flow::new(MARGIN, CONTENT_WIDTH, SENDER_RULE);
    flow.line(page, Weight::Regular, "ПРИМАЛАЦ / TO", 7.0, 7.0)?;
    flow.gap(0.5);
    flow.wrapped(page, Weight::Bold, &a.name, 15.0, 10.0, 2)?;
    flow.wrapped(page, Weight::Regular, &street(a), 13.0, 9.0, 2)?;
    flow.line(page, Weight::Bold, &place(a), 16.0, 10.0)?;
    if let Some(phone) = phone(a) {
        flow.line(page, Weight::Regular, &phone, 9.0, 7.0)?;
    }
    Ok(flow.y + 1.0)
}

fn options(page: &mut Page<'_>, options: &[String], top: f32) -> Result<(), Error> {
    let regular = Typeface::get(Weight::Regular)?;
    let mut flow = Flow::new(MARGIN, CONTENT_WIDTH, top);
    flow.line(page, Weight::Regular, "УСЛУГЕ / SERVICES", 6.5, 6.5)?;
    let columns = if options.len() > 3 { 2 } else { 1 };
    let column_width = CONTENT_WIDTH / columns as f32;
    let available = OPTIONS_BOTTOM - flow.y;
    // The largest size at which every row fits, down to 6 pt; past that, the rows that fit.
    let rows_wanted = options.len().div_ceil(columns);
    let size = (available * MM / (LEADING * rows_wanted as f32)).clamp(6.0, 9.0);
    let line = size * LEADING / MM;
    let rows = rows_wanted.min((available / line).floor() as usize);
    let shown = (rows * columns).min(options.len());
    for (k, option) in options.iter().take(shown).enumerate() {
        let (row, column) = (k / columns, k % columns);
        let mut text = format!("• {}", clean(option));
        if k + 1 == shown && shown < options.len() {
            text = format!("{text} (+{})", options.len() - shown);
        }
        let (size, text) = fit(regular, &text, size, 6.0, column_width - 1.0);
        let x = MARGIN + column as f32 * column_width;
        page.text(
            Weight::Regular,
            size,
            x,
            flow.y + (row + 1) as f32 * line,
            &text,
        );
    }
    Ok(())
}

fn barcode(page: &mut Page<'_>, label: &LabelData) -> Result<(), Error> {
    let symbols = code128::encode(label.tracking_number.as_str())?;
    let widths = code128::widths(&symbols);
    let total: f32 = widths.iter().map(|&w| f32::from(w)).sum::<f32>() * BAR_MODULE;
    let left = (PAGE_WIDTH - total) / 2.0;
    debug_assert!(
        left >= QUIET_MODULES * BAR_MODULE,
        "the quiet zones fit the page"
    );
    let mut x = left;
    let mut bars = Vec::with_capacity(widths.len() / 2 + 1);
    for (k, &w) in widths.iter().enumerate() {
        let w = f32::from(w) * BAR_MODULE;
        if k % 2 == 0 {
            bars.push((x, BAR_TOP, w, BAR_HEIGHT));
        }
        x += w;
    }
    page.fill_rects(bars);

    let bold = Typeface::get(Weight::Bold)?;
    let grouped = label.tracking_number.grouped();
    let size = 13.0;
    let x = (PAGE_WIDTH - bold.width(&grouped, size) / MM) / 2.0;
    page.text(Weight::Bold, size, x, BAR_TOP + BAR_HEIGHT + 5.5, &grouped);
    Ok(())
}

fn street(a: &Address) -> String {
    clean(&format!("{} {}", a.street, a.number))
}

fn place(a: &Address) -> String {
    clean(&format!("{} {}", a.postal_code, a.place))
}

fn phone(a: &Address) -> Option<String> {
    let phone = clean(a.phone.as_deref()?);
    (!phone.is_empty()).then(|| format!("Тел. / Tel. {phone}"))
}

/// Grams below a kilogram, kilograms with a decimal comma above: `850 g`, `1,25 kg`.
pub(crate) fn weight_text(grams: u32) -> String {
    if grams < 1000 {
        return format!("{grams} g");
    }
    let kg = format!("{},{:03}", grams / 1000, grams % 1000);
    format!("{} kg", kg.trim_end_matches('0').trim_end_matches(','))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_read_the_serbian_way() {
        assert_eq!(weight_text(0), "0 g");
        assert_eq!(weight_text(999), "999 g");
        assert_eq!(weight_text(1000), "1 kg");
        assert_eq!(weight_text(1250), "1,25 kg");
        assert_eq!(weight_text(1005), "1,005 kg");
        assert_eq!(weight_text(31_500), "31,5 kg");
    }
}
