//! Tracking: UPU event codes, normalised statuses, the event log of every item, the public
//! lookup, scanners' batches, and the staff's view of events that do not fit.

pub mod api;
pub mod codes;
pub mod domain;
pub mod fanout;
pub mod input;
pub mod pages;
pub mod places;
pub mod service;
pub mod store;
pub mod summary;

use eposta_kernel::web::routes::{ADMINS, Access, Routes};

/// The tracking routes with their access rules.
pub fn routes() -> Routes {
    // The code table is part of the program: read it now, so that a broken one stops the
    // process at start-up instead of failing requests.
    codes::table();
    Routes::new()
        .get("/track", Access::Public, pages::track)
        .get(
            "/counter/tracking/flagged",
            Access::Staff(pages::FLAGGED_VIEWERS),
            pages::flagged,
        )
        .get(
            "/admin/tracking/facilities",
            Access::Staff(ADMINS),
            pages::facilities,
        )
        .post(
            "/admin/tracking/facilities",
            Access::Staff(ADMINS),
            pages::save_facility,
        )
        .post(
            "/api/v1/tracking/events",
            Access::Scope(api::WRITE_SCOPE),
            api::post_events,
        )
        .get(
            "/api/v1/tracking/{ids}",
            Access::Scope(api::READ_SCOPE),
            api::track,
        )
        .openapi(api::openapi())
}
