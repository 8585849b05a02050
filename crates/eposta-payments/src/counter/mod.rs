//! Cash payments at the post-office counter (docs/counter-payments.md): a clerk scans the
//! bill's IPS QR code (a scanner types its text) or types the payment order, tells the
//! customer the fee, takes the cash, confirms once (method cash, channel counter, owned by
//! the clerk at the office, succeeded at once) and prints the receipt with the office on it.
//! Each clerk's cash day (in Belgrade) is balanced at closing: the cash counted against the
//! day's payments, the difference recorded and audited; a closed day takes no more cash
//! payments from that clerk. The office's manager sees every clerk's balance.
//!
//! A clerk of the office pays back part or all of a cash payment in cash ([`refund`]); the
//! cash paid out counts in that clerk's day.
//!
//! - [`day`]: the Belgrade day and the balance's arithmetic (pure).
//! - [`store`]: the cash days' SQL. [`service`]: the use cases.
//! - `pages`: `/counter/payments/new`, the payment's page (with the pay-back form,
//!   `/counter/payments/{id}/refunds`) and receipt; `balance`:
//!   `/counter/payments/balance`.

mod balance;
pub mod day;
mod pages;
pub mod refund;
pub mod service;
pub mod store;

use eposta_kernel::web::routes::{Access, COUNTER, Routes};

pub use service::day_closed;

/// The counter's payment routes, for clerks and managers of an office.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/counter/payments/new",
            Access::Staff(COUNTER),
            pages::new_form,
        )
        .post(
            "/counter/payments/new",
            Access::Staff(COUNTER),
            pages::submit,
        )
        .get(
            "/counter/payments/balance",
            Access::Staff(COUNTER),
            balance::show,
        )
        .post(
            "/counter/payments/balance",
            Access::Staff(COUNTER),
            balance::close,
        )
        .get(
            "/counter/payments/{id}",
            Access::Staff(COUNTER),
            pages::show,
        )
        .post(
            "/counter/payments/{id}/refunds",
            Access::Staff(COUNTER),
            pages::pay_back,
        )
        .get(
            "/counter/payments/{id}/receipt.pdf",
            Access::Staff(COUNTER),
            pages::receipt_pdf,
        )
}
