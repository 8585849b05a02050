//! The admin's pages of reconciliation: upload a camt.053 statement, see the imports and
//! each one's report (`/admin/payments/statements`).

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::SecondsFormat;
use eposta_formats::reference::Reference;
use eposta_kernel::App;
use eposta_kernel::audit::Actor;
use eposta_kernel::clock::belgrade;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Path, Query};
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::web::routes::{ADMINS, Access, Routes};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::{ImportError, Imported, Outcome, Request, Source, amount_text};

/// Largest statement accepted by upload (256 MiB, about 180,000 entries); larger ones go
/// through `eposta reconcile`, which has no request time limit.
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;
/// Listed credits per page of a report.
const ITEMS_PER_PAGE: i64 = 200;

pub fn routes() -> Routes {
    const A: Access = Access::Staff(ADMINS);
    Routes::new()
        .get("/admin/payments/statements", A, list)
        .post(
            "/admin/payments/statements",
            A,
            upload.layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .get("/admin/payments/statements/{id}", A, show)
}

/// A time for `<time datetime>` and as shown.
pub(crate) struct When {
    pub shown: String,
    pub iso: String,
}

impl When {
    pub fn new(t: chrono::DateTime<chrono::Utc>) -> When {
        When {
            shown: belgrade(t),
            iso: t.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

struct ImportView {
    id: Uuid,
    file_name: String,
    message_id: String,
    source: &'static str,
    entries: i64,
    at: When,
}

fn source_key(s: &str) -> &'static str {
    if s == "upload" {
        "recon.source.upload"
    } else {
        "recon.source.cli"
    }
}

/// Where an upload ended, when it did not end in a new report.
enum Notice {
    Refused(String),
    Seen(Vec<(String, Uuid)>),
}

#[derive(Template)]
#[template(path = "payments/admin_statements.html")]
struct ListPage {
    ctx: PageCtx,
    imports: Vec<ImportView>,
    refused: Option<String>,
    seen: Vec<(String, Uuid)>,
    upload_help: String,
}

async fn list_page(
    app: &App,
    ctx: PageCtx,
    status: StatusCode,
    notice: Option<Notice>,
) -> Result<Response, PageError> {
    let imports = super::recent(app, 50)
        .await?
        .into_iter()
        .map(|i| ImportView {
            id: i.id,
            file_name: i.file_name,
            message_id: i.message_id,
            source: ctx.t(source_key(&i.source)),
            entries: i.entries,
            at: When::new(i.created_at),
        })
        .collect();
    let (refused, seen) = match notice {
        Some(Notice::Refused(r)) => (Some(r), Vec::new()),
        Some(Notice::Seen(s)) => (None, s),
        None => (None, Vec::new()),
    };
    render_status(
        status,
        &ListPage {
            imports,
            refused,
            seen,
            upload_help: ctx.f(
                "recon.upload.help",
                &[("mb", &(MAX_UPLOAD / (1024 * 1024)).to_string())],
            ),
            ctx,
        },
    )
}

async fn list(State(app): State<App>, ctx: PageCtx) -> Result<Response, PageError> {
    list_page(&app, ctx, StatusCode::OK, None).await
}

/// `POST /admin/payments/statements`: the statement as `multipart/form-data` in the field
/// `file` (the CSRF token travels in the query string, since the body is not a plain form).
/// The upload is streamed to a temporary file, never held in memory, then imported.
async fn upload(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let refuse = |ctx: PageCtx, status, key: &'static str| {
        let text = ctx.t(key).to_owned();
        (ctx, status, Some(Notice::Refused(text)))
    };
    let Ok(multipart) = multipart else {
        let (ctx, s, n) = refuse(
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            "recon.upload.no_file",
        );
        return list_page(&app, ctx, s, n).await;
    };
    let (file, name) = match save_upload(multipart).await {
        Ok(Some(saved)) => saved,
        Ok(None) => {
            let (ctx, s, n) = refuse(
                ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                "recon.upload.no_file",
            );
            return list_page(&app, ctx, s, n).await;
        }
        Err(Saved::TooLarge) => {
            let text = ctx.f(
                "recon.upload.too_large",
                &[("mb", &(MAX_UPLOAD / (1024 * 1024)).to_string())],
            );
            return list_page(
                &app,
                ctx,
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(Notice::Refused(text)),
            )
            .await;
        }
        Err(Saved::Io(e)) => {
            return Err(eposta_kernel::Error::Internal(anyhow::anyhow!(
                "saving an uploaded statement: {e}"
            ))
            .into());
        }
    };
    let actor = Actor::User(user.id);
    let req = Request {
        actor: &actor,
        source: Source::Upload,
        file_name: &name,
    };
    match super::import(&app, &req, file, |_| {}).await {
        Ok(Imported::New(id)) => {
            Ok(Redirect::to(&format!("/admin/payments/statements/{id}")).into_response())
        }
        Ok(Imported::AlreadyImported(seen)) => {
            let seen = seen
                .into_iter()
                .map(|s| (s.statement_id, s.import))
                .collect();
            list_page(&app, ctx, StatusCode::OK, Some(Notice::Seen(seen))).await
        }
        Err(ImportError::Refused { line, reason }) => {
            let text = ctx.f(
                "recon.upload.refused",
                &[("line", &line.to_string()), ("reason", &reason)],
            );
            list_page(
                &app,
                ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Notice::Refused(text)),
            )
            .await
        }
        Err(ImportError::Failed(e)) => Err(e.into()),
    }
}

enum Saved {
    TooLarge,
    Io(std::io::Error),
}

/// Streams the field `file` into an anonymous temporary file (deleted when closed) and
/// gives it back at its start, with the name the browser gave.
async fn save_upload(mut multipart: Multipart) -> Result<Option<(std::fs::File, String)>, Saved> {
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(_) => return Err(Saved::TooLarge),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .file_name()
            .map(|n| n.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "statement.xml".to_owned());
        let temp = tempfile::tempfile().map_err(Saved::Io)?;
        let mut out = tokio::fs::File::from_std(temp.try_clone().map_err(Saved::Io)?);
        let mut size = 0u64;
        loop {
            match field.chunk().await {
                Ok(Some(bytes)) => {
                    size += bytes.len() as u64;
                    out.write_all(&bytes).await.map_err(Saved::Io)?;
                }
                Ok(None) => break,
                Err(_) => return Err(Saved::TooLarge),
            }
        }
        out.flush().await.map_err(Saved::Io)?;
        drop(out);
        if size == 0 {
            return Ok(None);
        }
        let mut file = temp;
        std::io::Seek::rewind(&mut file).map_err(Saved::Io)?;
        return Ok(Some((file, name)));
    }
}

struct OutcomeView {
    code: &'static str,
    label: &'static str,
    entries: i64,
    amount: String,
}

struct ItemView {
    line: i64,
    statement: String,
    outcome: &'static str,
    amount: String,
    reference: String,
    bank_ref: String,
    booking_date: String,
    payment: Option<Uuid>,
    detail: String,
}

#[derive(Template)]
#[template(path = "payments/admin_statement.html")]
struct ShowPage {
    ctx: PageCtx,
    file_name: String,
    file_sha256: String,
    message_id: String,
    source: &'static str,
    imported_by: String,
    at: When,
    entries: i64,
    statements: Vec<String>,
    outcomes: Vec<OutcomeView>,
    listed: i64,
    items_caption: String,
    items: Vec<ItemView>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct ShowQuery {
    after: Option<i64>,
}

pub(crate) fn outcome_key(o: Outcome) -> &'static str {
    match o {
        Outcome::Completed => "recon.outcome.completed",
        Outcome::AlreadyCompleted => "recon.outcome.already_completed",
        Outcome::UnknownReference => "recon.outcome.unknown_reference",
        Outcome::AmountMismatch => "recon.outcome.amount_mismatch",
        Outcome::NotPending => "recon.outcome.not_pending",
        Outcome::BankRefUsed => "recon.outcome.bank_ref_used",
        Outcome::OtherCurrency => "recon.outcome.other_currency",
        Outcome::Reversal => "recon.outcome.reversal",
        Outcome::Debit => "recon.outcome.debit",
        Outcome::RemittanceDebit => "recon.outcome.remittance_debit",
        Outcome::NotBooked => "recon.outcome.not_booked",
        Outcome::StatementSeen => "recon.outcome.statement_seen",
    }
}

fn reference_shown(ro: &str) -> String {
    Reference::parse_ro(ro).map_or_else(|_| ro.to_owned(), |r| r.to_string())
}

async fn show(
    State(app): State<App>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let report = super::report(&app, id).await?;
    let after = q.after.unwrap_or(0).max(0);
    let rows = super::items(&app, id, after, ITEMS_PER_PAGE + 1).await?;
    let more = rows.len() as i64 > ITEMS_PER_PAGE;
    let rows = &rows[..rows.len().min(ITEMS_PER_PAGE as usize)];
    let next = more
        .then(|| {
            rows.last()
                .map(|r| format!("/admin/payments/statements/{id}?after={}", r.id))
        })
        .flatten();
    let items = rows
        .iter()
        .map(|i| {
            let outcome = Outcome::parse(&i.outcome).unwrap_or(Outcome::UnknownReference);
            let detail = match (i.expected_para, i.payment_state.as_deref()) {
                (Some(e), _) => ctx.f("recon.item.expected", &[("amount", &amount_text(e, "RSD"))]),
                (None, Some(s)) => ctx.f(
                    "recon.item.state",
                    &[(
                        "state",
                        ctx.t(crate::pages::state_key(
                            crate::domain::State::parse(s).unwrap_or(crate::domain::State::Pending),
                        )),
                    )],
                ),
                _ => String::new(),
            };
            ItemView {
                line: i.line,
                statement: i.statement_id.clone(),
                outcome: ctx.t(outcome_key(outcome)),
                amount: amount_text(i.amount_para, &i.currency),
                reference: i
                    .reference
                    .as_deref()
                    .map(reference_shown)
                    .unwrap_or_default(),
                bank_ref: i.bank_ref.clone(),
                booking_date: i.booking_date.clone().unwrap_or_default(),
                payment: i.payment_id,
                detail,
            }
        })
        .collect();
    let outcomes = report
        .outcomes
        .iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(o, n, para)| OutcomeView {
            code: o.as_str(),
            label: ctx.t(outcome_key(*o)),
            entries: *n,
            amount: amount_text(*para, "RSD"),
        })
        .collect();
    let i = &report.import;
    render(&ShowPage {
        file_name: i.file_name.clone(),
        file_sha256: i.file_sha256.clone(),
        message_id: i.message_id.clone(),
        source: ctx.t(source_key(&i.source)),
        imported_by: i.imported_by.clone(),
        at: When::new(i.created_at),
        entries: i.entries,
        statements: report
            .statements
            .iter()
            .map(|s| {
                let account = eposta_formats::account::AccountNumber::parse(&s.account)
                    .map_or_else(|_| s.account.clone(), |a| a.dashed());
                ctx.f(
                    "recon.statement",
                    &[
                        ("account", &account),
                        ("id", &s.statement_id),
                        ("entries", &s.entries.to_string()),
                    ],
                )
            })
            .collect(),
        listed: report.listed(),
        items_caption: ctx.f(
            "recon.items.caption",
            &[("n", &report.listed().to_string())],
        ),
        outcomes,
        items,
        next,
        ctx,
    })
}
