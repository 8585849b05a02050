//! `/admin/audit`: the newest audit entries, and a button that checks the whole hash chain.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::pages::When;
use super::service;
use crate::app::App;
use crate::audit::Verdict;
use crate::web::error::PageError;
use crate::web::page::{PageCtx, render};

struct EntryRow {
    seq: i64,
    at: When,
    actor: String,
    action: String,
    subject: String,
    office: String,
    details: String,
}

/// The outcome of a check, for the page.
struct Outcome {
    intact: bool,
    text: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    entries: Vec<EntryRow>,
    outcome: Option<Outcome>,
}

async fn page(app: &App, ctx: PageCtx, outcome: Option<Outcome>) -> Result<Response, PageError> {
    let (rows, codes) = service::audit_entries(app).await?;
    let entries = rows
        .into_iter()
        .map(|r| EntryRow {
            seq: r.seq,
            at: When::new(r.at),
            office: r
                .office_id
                .map(|o| codes.get(&o).cloned().unwrap_or_else(|| o.to_string()))
                .unwrap_or_default(),
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            // `{}` says nothing; leave the cell empty instead.
            details: if r.details == "{}" {
                String::new()
            } else {
                r.details
            },
        })
        .collect();
    render(&AuditPage {
        ctx,
        entries,
        outcome,
    })
}

pub(super) async fn list(State(app): State<App>, ctx: PageCtx) -> Result<Response, PageError> {
    page(&app, ctx, None).await
}

pub(super) async fn verify(State(app): State<App>, ctx: PageCtx) -> Result<Response, PageError> {
    let outcome = match service::verify_audit(&app).await? {
        Verdict::Intact(n) => Outcome {
            intact: true,
            text: ctx.f("admin.audit.intact", &[("n", &n.to_string())]),
        },
        Verdict::Broken { seq, reason } => {
            tracing::warn!(seq, reason = %reason, "audit chain broken");
            Outcome {
                intact: false,
                text: ctx.f(
                    "admin.audit.broken",
                    &[("seq", &seq.to_string()), ("reason", &reason)],
                ),
            }
        }
    };
    page(&app, ctx, Some(outcome)).await
}
