//! The receipt as an A6 PDF (105 × 148 mm, a quarter of A4, as a counter printer or a home
//! printer takes it), drawn with the kernel's PDF writer: the confirmation number, the
//! payment order, amount, fee and total, the time in Belgrade, how it was paid, and the
//! signed code as a QR code and as text. The code is also in the document's metadata
//! (`/EpostaReceipt`), where `eposta receipt verify receipt.pdf` finds it.
//!
//! ```text
//!  ┌───────────────────────────────┐  6 mm margins
//!  │ ПОТВРДА О УПЛАТИ / RECEIPT    │
//!  │ Број потврде  K7QM-3XPA-9RTW  │
//!  ├───────────────────────────────┤
//!  │ Уплатилац, Сврха, Прималац    │  the payment order, as on the uplatnica
//!  │ Шифра │ Рачун │ Модел и позив │
//!  ├───────────────────────────────┤
//!  │ Износ / Накнада / Укупно      │  amounts right-aligned
//!  ├───────────────────────────────┤
//!  │ Време, начин плаћања          │
//!  │ ┌──────┐ Провера / Verify     │  48 mm QR of the signed code; beside it how to
//!  │ │  QR  │ EPR1.eyJr…           │  verify, and the code itself in small type
//!  │ └──────┘                      │
//!  └───────────────────────────────┘
//! ```

use chrono::{DateTime, Utc};
use eposta_kernel::money::Money;
use eposta_kernel::pdf::{Document, Flow, MM, Page, PdfError, Typeface, Weight, clean, fit};

use super::claims::PaidBy;
use super::data::{ReceiptData, ReceiptError};

pub(crate) const PAGE_WIDTH: f32 = 105.0;
pub(crate) const PAGE_HEIGHT: f32 = 148.0;
const MARGIN: f32 = 6.0;
const CONTENT: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// The QR code with its quiet zone: over 0.55 mm a module for a typical code (version 15,
/// 77 modules), which a phone reads from a printed page.
pub(crate) const QR_SIZE: f32 = 48.0;
pub(crate) const QR_TOP: f32 = PAGE_HEIGHT - MARGIN - QR_SIZE;
const RULE: f32 = 0.25;
/// The name of our entry in the document information dictionary.
pub const INFO_KEY: &str = "EpostaReceipt";

fn drawing(e: PdfError) -> ReceiptError {
    ReceiptError::Drawing(e.to_string())
}

/// The receipt of `data`, carrying `token` (from [`super::token::sign`]).
pub fn receipt_pdf(data: &ReceiptData, token: &str) -> Result<Vec<u8>, ReceiptError> {
    data.check()?;
    let title = format!("Потврда о уплати {}", data.confirmation);
    let mut doc = Document::new(PAGE_WIDTH, PAGE_HEIGHT, title).map_err(drawing)?;
    doc.subject(format!(
        "ePošta: потврда о уплати / payment receipt {}",
        data.confirmation
    ));
    doc.info(INFO_KEY, token.to_owned());
    let mut page = doc.page();
    draw(&mut page, data, token).map_err(drawing)?;
    page.finish();
    doc.finish().map_err(drawing)
}

/// The time as people in Serbia read it, to the second.
pub(crate) fn belgrade_seconds(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Belgrade)
        .format("%d.%m.%Y. %H:%M:%S")
        .to_string()
}

fn money(data: &ReceiptData, para: i64) -> String {
    Money {
        minor: para,
        currency: data.currency,
    }
    .to_string()
}

/// "Name, address lines" on as few lines as fit.
fn party(name: &str, address: &str) -> String {
    std::iter::once(name)
        .chain(address.lines())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn draw(page: &mut Page<'_>, data: &ReceiptData, token: &str) -> Result<(), PdfError> {
    let mut flow = Flow::new(MARGIN, CONTENT, MARGIN);
    flow.line(
        page,
        Weight::Bold,
        "ПОТВРДА О УПЛАТИ / PAYMENT RECEIPT",
        11.0,
        8.0,
    )?;
    flow.gap(1.0);
    flow.line(
        page,
        Weight::Regular,
        "Број потврде / Confirmation no.",
        6.5,
        6.0,
    )?;
    flow.line(page, Weight::Bold, &data.confirmation, 14.0, 9.0)?;
    flow.gap(1.5);
    page.rule(MARGIN, flow.y, CONTENT, RULE);

    field(
        page,
        &mut flow,
        "Уплатилац / Payer",
        &party(&data.payer_name, &data.payer_address),
        2,
    )?;
    field(page, &mut flow, "Сврха уплате / Purpose", &data.purpose, 2)?;
    field(
        page,
        &mut flow,
        "Прималац / Payee",
        &party(&data.payee_name, &data.payee_address),
        2,
    )?;

    // Payment code, payee's account, model and reference in three columns.
    flow.gap(1.0);
    let top = flow.y;
    let reference = data
        .reference
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "—".into());
    let columns = [
        (0.0, 18.0, "Шифра / Code", data.payment_code.to_string()),
        (
            18.0,
            35.0,
            "Рачун примаоца / Account",
            data.payee_account.dashed(),
        ),
        (53.0, CONTENT - 53.0, "Модел и позив / Reference", reference),
    ];
    let mut bottom = top;
    for (x, width, label, value) in columns {
        let mut column = Flow::new(MARGIN + x, width - 1.0, top);
        column.line(page, Weight::Regular, label, 6.0, 5.0)?;
        column.line(page, Weight::Bold, &value, 9.0, 6.0)?;
        bottom = bottom.max(column.y);
    }
    flow.y = bottom + 1.5;
    page.rule(MARGIN, flow.y, CONTENT, RULE);

    flow.gap(0.5);
    amount_row(
        page,
        &mut flow,
        "Износ / Amount",
        &money(data, data.amount_para),
        false,
    )?;
    amount_row(
        page,
        &mut flow,
        "Накнада / Fee",
        &money(data, data.fee_para),
        false,
    )?;
    amount_row(
        page,
        &mut flow,
        "Укупно / Total",
        &money(data, data.total_para()),
        true,
    )?;
    flow.gap(1.5);
    page.rule(MARGIN, flow.y, CONTENT, RULE);

    let paid = format!(
        "Време уплате / Paid at: {} (Београд / Belgrade)",
        belgrade_seconds(data.paid_at)
    );
    flow.line(page, Weight::Regular, &paid, 7.5, 6.0)?;
    let how = match (&data.paid_by, &data.office) {
        (PaidBy::Card, _) => "Плаћено картицом / Paid by card".to_owned(),
        (PaidBy::Ips, _) => {
            "Плаћено IPS инстант трансфером / Paid by IPS instant transfer".to_owned()
        }
        (PaidBy::Cash, Some(o)) => format!(
            "Готовином у пошти / Cash at post office {} {}",
            o.code, o.name
        ),
        (PaidBy::Cash, None) => "Готовином / Cash".to_owned(),
    };
    flow.wrapped(page, Weight::Bold, &how, 7.5, 6.0, 2)?;

    page.qr_code(token, MARGIN - 1.5, QR_TOP, QR_SIZE)?;
    let right = MARGIN + QR_SIZE;
    let mut side = Flow::new(right, PAGE_WIDTH - MARGIN - right, QR_TOP + 3.0);
    side.line(page, Weight::Bold, "Провера / Verify", 7.5, 6.0)?;
    side.wrapped(
        page,
        Weight::Regular,
        "Код је потписан: проверите га на /receipts/verify или командом eposta receipt verify. \
         The code is signed: verify it at /receipts/verify or with eposta receipt verify.",
        5.5,
        5.0,
        6,
    )?;
    side.gap(1.0);
    code_lines(page, &mut side, token)?;
    Ok(())
}

/// A label in small type and its value below, on up to `lines` lines.
fn field(
    page: &mut Page<'_>,
    flow: &mut Flow,
    label: &str,
    value: &str,
    lines: usize,
) -> Result<(), PdfError> {
    flow.gap(1.0);
    flow.line(page, Weight::Regular, label, 6.0, 5.0)?;
    let shown = if value.trim().is_empty() {
        "—"
    } else {
        value
    };
    flow.wrapped(page, Weight::Regular, shown, 8.5, 6.5, lines)
}

/// A label on the left and an amount set flush right.
fn amount_row(
    page: &mut Page<'_>,
    flow: &mut Flow,
    label: &str,
    amount: &str,
    bold: bool,
) -> Result<(), PdfError> {
    let weight = if bold { Weight::Bold } else { Weight::Regular };
    let size = if bold { 10.0 } else { 8.5 };
    flow.y += size * eposta_kernel::pdf::LEADING / MM;
    page.text(weight, size, MARGIN, flow.y, label);
    let face = Typeface::get(weight)?;
    let (size, amount) = fit(face, &clean(amount), size, 6.0, CONTENT / 2.0);
    let x = PAGE_WIDTH - MARGIN - face.width(&amount, size) / MM;
    page.text(weight, size, x, flow.y, &amount);
    Ok(())
}

/// The code in small type, cut into lines that fill the column (no spaces to break at).
fn code_lines(page: &mut Page<'_>, flow: &mut Flow, token: &str) -> Result<(), PdfError> {
    let face = Typeface::get(Weight::Regular)?;
    let size = 4.5;
    let limit = flow.width * MM;
    let mut line = String::new();
    for c in token.chars() {
        line.push(c);
        if face.width(&line, size) > limit {
            line.pop();
            flow.y += size * eposta_kernel::pdf::LEADING / MM;
            page.text(Weight::Regular, size, flow.x, flow.y, &line);
            line.clear();
            line.push(c);
        }
    }
    if !line.is_empty() {
        flow.y += size * eposta_kernel::pdf::LEADING / MM;
        page.text(Weight::Regular, size, flow.x, flow.y, &line);
    }
    Ok(())
}
