//! The ePošta kernel: what every capability shares. Configuration, the database on SQLite or
//! PostgreSQL, errors, accounts and roles, post offices, API keys, the job queue, the
//! notifier's outbox, the audit log, and the web shell (role-matrix router, pages, API
//! errors, operational endpoints).

pub mod accounts;
pub mod admin;
pub mod api;
pub mod apikeys;
pub mod app;
pub mod audit;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod error;
pub mod housekeeping;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod money;
pub mod notify;
pub mod offices;
pub mod organisations;
pub mod pdf;
pub mod signing;
#[cfg(feature = "testing")]
pub mod testing;
pub mod web;
pub mod webhooks;

pub use app::App;
pub use error::{Error, Result};

/// The kernel's routes; the binary merges every capability's routes with these.
pub fn routes() -> web::Routes {
    web::Routes::new()
        .merge(web::ops::routes())
        .merge(accounts::pages::routes())
        .merge(admin::pages::routes())
        .merge(offices::pages::routes())
        .merge(offices::api::routes())
        .merge(api::routes())
        .merge(webhooks::api::routes())
        .merge(console::routes())
        .get("/static/app.css", web::Access::Public, stylesheet)
}

/// The kernel's job kinds.
pub fn jobs() -> jobs::Registry {
    jobs::Registry::new()
        .register::<notify::email::DeliverEmail>()
        .register::<webhooks::DeliverWebhook>()
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
}
