//! Receiving: the recipient's side of postal items. The recipient proves who they are (a
//! one-time code to the phone or e-mail on the item, or a citizen account with that e-mail),
//! then chooses delivery at home or pickup at a post office, redirects the item to another
//! address or office until it is out for delivery, or names another person to collect it.
//! Notices tell recipients when their items are accepted, out for delivery, waiting at an
//! office and delivered (`notices`). docs/receiving.md has the whole story.

pub mod domain;
pub mod notices;
pub mod pages;
pub mod service;
pub mod store;
mod views;

use eposta_kernel::web::routes::{Access, Routes};

/// The receiving pages with their access rules. They are public because a recipient need
/// not have an account; each item is shown only to its proven recipient (`service::recipient`).
pub fn routes() -> Routes {
    Routes::new()
        .get("/receive", Access::Public, pages::start)
        .post("/receive", Access::Public, pages::request)
        .post("/receive/code", Access::Public, pages::verify)
        .get("/receive/mine", Access::Citizen, pages::mine)
        .get("/receive/{number}", Access::Public, pages::item)
        .post(
            "/receive/{number}/delivery",
            Access::Public,
            pages::delivery,
        )
        .post(
            "/receive/{number}/redirect",
            Access::Public,
            pages::redirect,
        )
        .post(
            "/receive/{number}/collector",
            Access::Public,
            pages::collector,
        )
}
