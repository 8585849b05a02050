//! Hand-over at the counter (docs/receiving.md, "At the counter"): a clerk scans or types the
//! tracking number of an item waiting at the office, sees whether it waits here, the
//! addressee and the person the recipient named to collect it, and the cash-on-delivery
//! amount; confirms who collected it and that the identity document was checked; the item
//! is then delivered (UPU event EMI at the office).

pub mod domain;
mod pages;
pub mod service;

use eposta_kernel::web::routes::{Access, COUNTER, Routes};

/// The hand-over routes, for the clerks and managers of an office.
pub fn routes() -> Routes {
    Routes::new()
        .get("/counter/handover", Access::Staff(COUNTER), pages::look)
        .post(
            "/counter/handover",
            Access::Staff(COUNTER),
            pages::hand_over,
        )
}
