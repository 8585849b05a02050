//! The admin console's routes, and what its pages share: times in Europe/Belgrade, yes/no,
//! and form errors shown next to the field they concern.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};

use super::{audit_log, keys, members, outbox, users};
use crate::error::Error;
use crate::web::page::PageCtx;
use crate::web::routes::{ADMINS, Access, Routes};

pub fn routes() -> Routes {
    const A: Access = Access::Staff(ADMINS);
    Routes::new()
        .get("/admin/users", A, users::list)
        .post("/admin/users", A, users::create)
        .post("/admin/users/{id}/disable", A, users::disable)
        .post("/admin/users/{id}/enable", A, users::enable)
        .get("/admin/keys", A, keys::list)
        .post("/admin/keys", A, keys::issue)
        .post("/admin/keys/{id}/revoke", A, keys::revoke)
        .post("/admin/organisations", A, keys::create_organisation)
        .get("/admin/organisations/{id}", A, members::page)
        .post("/admin/organisations/{id}/members", A, members::add)
        .post(
            "/admin/organisations/{id}/members/{user}/remove",
            A,
            members::remove,
        )
        .get("/admin/outbox", A, outbox::list)
        .get("/admin/outbox/{id}", A, outbox::show)
        .get("/admin/audit", A, audit_log::list)
        .post("/admin/audit/verify", A, audit_log::verify)
}

/// A time as people in Serbia read it, and as `<time datetime>` wants it.
#[derive(Debug, Clone)]
pub(crate) struct When {
    pub shown: String,
    pub iso: String,
}

impl When {
    pub fn new(t: DateTime<Utc>) -> When {
        When {
            shown: crate::clock::belgrade(t),
            iso: t.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

pub(crate) fn yes_no(ctx: &PageCtx, b: bool) -> &'static str {
    if b {
        ctx.t("admin.yes")
    } else {
        ctx.t("admin.no")
    }
}

/// A catalogue entry under `prefix` for a value from the database, or the value itself
/// when the catalogue does not know it (a capability added a new one).
pub(crate) fn label(ctx: &PageCtx, prefix: &str, value: &str) -> String {
    ctx.tr
        .lookup(&format!("{prefix}.{value}"))
        .map_or_else(|| value.to_owned(), str::to_owned)
}

/// The rule a form broke: which field, and the message in the page's language.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(Option<(String, String)>);

impl FieldErrors {
    /// `Some` for a broken rule (shown as a 422 page), `None` for any other error. The
    /// message is the form's own (`<prefix>.<field>`), else the shared `invalid.<field>`,
    /// else the service's words.
    pub fn from_error(ctx: &PageCtx, prefix: &str, e: &Error) -> Option<FieldErrors> {
        let Error::Invalid { field, message } = e else {
            return None;
        };
        let text = ctx
            .tr
            .lookup(&format!("{prefix}.{field}"))
            .or_else(|| ctx.tr.lookup(&format!("invalid.{field}")))
            .map_or_else(|| format!("{field}: {message}"), str::to_owned);
        Some(FieldErrors(Some((field.to_string(), text))))
    }

    /// The message for `field`, if that is the one at fault.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The message when it concerns none of `fields` (shown above the form).
    pub fn other(&self, fields: &[&str]) -> Option<&str> {
        self.0
            .as_ref()
            .filter(|(f, _)| !fields.contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
    }
}

/// Pages that show secrets or personal data must not stay in a browser's or proxy's cache.
pub(crate) fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
