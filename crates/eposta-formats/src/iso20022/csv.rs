//! The remittance batch as CSV, for people and for banks that take a spreadsheet instead of
//! pain.001: one row per transfer, the same checks as the XML ([`Batch::check`]).
//!
//! Columns (header row first): `message_id, execution_date, debtor_account, end_to_end_id,
//! payee_name, payee_account, amount, currency, payment_code, model, reference, purpose`.
//! Accounts as 18 digits, amounts with a decimal point and two decimals (`1025.50`), every
//! reference in its own two columns (model, number) whatever its model. Comma-separated,
//! quoted where needed (RFC 4180), UTF-8 without a byte-order mark.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
//! as a formula; payee names and purposes that do are written with a leading `'` (OWASP's
//! advice), the only change made to any value.

use std::io::Write;

use super::format_amount;
use super::pain001::{Batch, Pain001Error};

pub const HEADER: [&str; 12] = [
    "message_id",
    "execution_date",
    "debtor_account",
    "end_to_end_id",
    "payee_name",
    "payee_account",
    "amount",
    "currency",
    "payment_code",
    "model",
    "reference",
    "purpose",
];

/// `'` before text that a spreadsheet would take for a formula.
pub fn defuse(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

fn csv_error(e: ::csv::Error) -> Pain001Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => Pain001Error::Io(e),
        other => Pain001Error::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// Checks the batch and writes it as CSV. Nothing is written when it is refused.
pub fn write_batch<W: Write>(batch: &Batch, out: W) -> Result<W, Pain001Error> {
    batch.check()?;
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(csv_error)?;
    let date = batch.execution_date.to_string();
    for t in &batch.transfers {
        let amount = format_amount(t.para);
        let code = t.payment_code.map(|c| c.to_string()).unwrap_or_default();
        let (model, reference) = match &t.reference {
            Some(r) => (format!("{:02}", r.model().number()), r.reference()),
            None => (String::new(), ""),
        };
        w.write_record([
            batch.message_id.as_str(),
            &date,
            batch.debtor_account.as_str(),
            &t.end_to_end_id,
            &defuse(&t.payee_name),
            t.payee_account.as_str(),
            &amount,
            batch.currency.as_str(),
            &code,
            &model,
            reference,
            &defuse(t.purpose.as_deref().unwrap_or_default()),
        ])
        .map_err(csv_error)?;
    }
    w.into_inner()
        .map_err(|e| Pain001Error::Io(std::io::Error::other(e.to_string())))
}
