//! The admin's remittance page (`/admin/payments/remittance`): the batches of a day or the
//! latest ones (remittance to payees and refund batches to payers), their files to download,
//! and a run for a day that is over.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use eposta_formats::account::AccountNumber;
use eposta_kernel::audit::Actor;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Path, Query};
use eposta_kernel::web::page::{PageCtx, render_status};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::web::routes::{ADMINS, Access, Routes};
use eposta_kernel::{App, Error};
use serde::Deserialize;
use uuid::Uuid;

use super::settle::{self, StatusImported, TxResult};
use super::{BatchRow, File, RefundBatchRow, domain};
use crate::reconcile::pages::When;
use crate::reconcile::{ImportError, Source};

/// Batches shown at most.
const SHOWN: i64 = 500;

pub fn routes() -> Routes {
    const A: Access = Access::Staff(ADMINS);
    Routes::new()
        .get("/admin/payments/remittance", A, list)
        .post("/admin/payments/remittance", A, run)
        .post(
            "/admin/payments/remittance/status",
            A,
            status.layer(DefaultBodyLimit::max(settle::MAX_BYTES + 64 * 1024)),
        )
        .get("/admin/payments/remittance/{id}/pain001.xml", A, pain001)
        .get("/admin/payments/remittance/{id}/batch.csv", A, csv)
        .get(
            "/admin/payments/remittance/refunds/{id}/pain001.xml",
            A,
            refund_pain001,
        )
        .get(
            "/admin/payments/remittance/refunds/{id}/batch.csv",
            A,
            refund_csv,
        )
}

/// A refund batch as the list shows it.
struct RefundBatchView {
    id: Uuid,
    date: String,
    part: i64,
    message_id: String,
    transfers: i64,
    total: String,
    execution: String,
    sha256: String,
    at: When,
}

impl RefundBatchView {
    fn new(b: RefundBatchRow) -> RefundBatchView {
        RefundBatchView {
            id: b.id,
            date: b.business_date,
            part: b.part,
            message_id: b.message_id,
            transfers: b.transfers,
            total: Money::rsd(b.total_para).to_string(),
            execution: b.execution_date,
            sha256: b.pain001_sha256,
            at: When::new(b.created_at),
        }
    }
}

struct BatchView {
    id: Uuid,
    date: String,
    payee: String,
    account: String,
    part: i64,
    message_id: String,
    transfers: i64,
    total: String,
    execution: String,
    sha256: String,
    at: When,
    /// The bank's or the statement's word on it (pain.002 code or `settled`), if any.
    status: Option<String>,
}

impl BatchView {
    fn new(ctx: &PageCtx, b: BatchRow) -> BatchView {
        BatchView {
            id: b.id,
            account: AccountNumber::parse(&b.payee_account)
                .map_or_else(|_| b.payee_account.clone(), |a| a.dashed()),
            payee: ctx.script(&b.payee_name),
            date: b.business_date,
            part: b.part,
            message_id: b.message_id,
            transfers: b.transfers,
            total: Money::rsd(b.total_para).to_string(),
            execution: b.execution_date,
            sha256: b.pain001_sha256,
            at: When::new(b.created_at),
            status: None,
        }
    }
}

#[derive(Template)]
#[template(path = "payments/admin_remittance.html")]
struct ListPage {
    ctx: PageCtx,
    batches: Vec<BatchView>,
    refund_batches: Vec<RefundBatchView>,
    /// The day shown, if one was asked for.
    day: Option<String>,
    /// The day the run form proposes: yesterday in Belgrade.
    yesterday: String,
    date_error: Option<String>,
    done: Option<String>,
    /// What an uploaded status report did, or why it was refused.
    report: Option<ReportNotice>,
}

/// The answer to an uploaded pain.002.
struct ReportNotice {
    ok: bool,
    text: String,
    /// Transactions for a person: unknown end-to-end ids and conflicts (line, id, status,
    /// what).
    listed: Vec<(u64, String, String, &'static str)>,
}

#[derive(Deserialize)]
struct ListQuery {
    date: Option<String>,
    made: Option<u32>,
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    domain::parse_day(s)
}

async fn page(
    app: &App,
    ctx: PageCtx,
    status: StatusCode,
    day: Option<NaiveDate>,
    date_error: Option<String>,
    done: Option<String>,
) -> Result<Response, PageError> {
    page_with(app, ctx, status, day, date_error, done, None).await
}

/// The page again with a refused status report named (422).
async fn refused_page(app: &App, ctx: PageCtx, n: ReportNotice) -> Result<Response, PageError> {
    page_with(
        app,
        ctx,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        None,
        None,
        Some(n),
    )
    .await
}

async fn page_with(
    app: &App,
    ctx: PageCtx,
    status: StatusCode,
    day: Option<NaiveDate>,
    date_error: Option<String>,
    done: Option<String>,
    report: Option<ReportNotice>,
) -> Result<Response, PageError> {
    let rows = super::list(app, day, SHOWN).await?;
    let ids: Vec<Uuid> = rows.iter().map(|b| b.id).collect();
    let statuses: std::collections::HashMap<Uuid, String> =
        super::statuses(app, &ids).await?.into_iter().collect();
    let batches = rows
        .into_iter()
        .map(|b| {
            let s = statuses.get(&b.id).cloned();
            BatchView {
                status: s,
                ..BatchView::new(&ctx, b)
            }
        })
        .collect();
    let refund_batches = super::refunds::list(app, day, SHOWN)
        .await?
        .into_iter()
        .map(RefundBatchView::new)
        .collect();
    let yesterday = domain::belgrade_date(app.now())
        .pred_opt()
        .map(|d| d.to_string())
        .unwrap_or_default();
    render_status(
        status,
        &ListPage {
            ctx,
            batches,
            refund_batches,
            day: day.map(|d| d.to_string()),
            yesterday,
            date_error,
            done,
            report,
        },
    )
}

async fn list(
    State(app): State<App>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let day = q.date.as_deref().and_then(parse_date);
    let done = match (day, q.made) {
        (Some(d), Some(n)) => Some(ctx.f(
            "remit.done",
            &[("date", &d.to_string()), ("n", &n.to_string())],
        )),
        _ => None,
    };
    page(&app, ctx, StatusCode::OK, day, None, done).await
}

#[derive(Deserialize)]
struct RunForm {
    #[serde(default)]
    date: String,
}

/// Runs the remittance of a day that is over (the same as `eposta remittance run --date`).
async fn run(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(form): Form<RunForm>,
) -> Result<Response, PageError> {
    let Some(date) = parse_date(&form.date) else {
        let e = ctx.t("remit.invalid.date").to_owned();
        return page(
            &app,
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(e),
            None,
        )
        .await;
    };
    match super::run(&app, &Actor::User(user.id), date).await {
        Ok(r) => Ok(Redirect::to(&format!(
            "/admin/payments/remittance?date={date}&made={}",
            r.batches.len()
        ))
        .into_response()),
        Err(Error::Invalid { .. }) => {
            let e = ctx.t("remit.invalid.not_over").to_owned();
            page(
                &app,
                ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(date),
                Some(e),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// A batch's file as exported (checked against its recorded SHA-256), as a download named
/// after the batch's message id.
async fn download(app: &App, id: Uuid, which: File) -> Result<Response, PageError> {
    let (batch, bytes) = super::file(app, id, which).await?;
    Ok(attachment(&batch.message_id, which, bytes))
}

/// A refund batch's file, as [`download`].
async fn download_refunds(app: &App, id: Uuid, which: File) -> Result<Response, PageError> {
    let (batch, bytes) = super::refunds::file(app, id, which).await?;
    Ok(attachment(&batch.message_id, which, bytes))
}

async fn refund_pain001(
    State(app): State<App>,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    download_refunds(&app, id, File::Pain001).await
}

async fn refund_csv(State(app): State<App>, Path(id): Path<Uuid>) -> Result<Response, PageError> {
    download_refunds(&app, id, File::Csv).await
}

fn attachment(message_id: &str, which: File, bytes: Vec<u8>) -> Response {
    let (kind, ext) = match which {
        File::Pain001 => ("application/xml; charset=utf-8", "xml"),
        File::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    // Message ids are letters, digits and dashes: safe in the header as they are.
    let disposition = format!("attachment; filename=\"{message_id}.{ext}\"");
    let mut res = (StatusCode::OK, bytes).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn pain001(State(app): State<App>, Path(id): Path<Uuid>) -> Result<Response, PageError> {
    download(&app, id, File::Pain001).await
}

async fn csv(State(app): State<App>, Path(id): Path<Uuid>) -> Result<Response, PageError> {
    download(&app, id, File::Csv).await
}

/// `POST /admin/payments/remittance/status`: the bank's pain.002 as `multipart/form-data`
/// in the field `file` (the CSRF token in the query string), imported as `eposta remittance
/// status FILE` does; the page says what it did.
async fn status(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let refused = |text: String| ReportNotice {
        ok: false,
        text,
        listed: Vec::new(),
    };
    let upload = match multipart {
        Ok(m) => read_file(m).await,
        Err(_) => Err(false),
    };
    let (name, bytes) = match upload {
        Ok(Some(f)) => f,
        Ok(None) | Err(false) => {
            let n = refused(ctx.t("remit.status.no_file").to_owned());
            return refused_page(&app, ctx, n).await;
        }
        Err(true) => {
            let n = refused(ctx.f(
                "remit.status.too_large",
                &[("mb", &(settle::MAX_BYTES / (1024 * 1024)).to_string())],
            ));
            return page_with(
                &app,
                ctx,
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                None,
                None,
                Some(n),
            )
            .await;
        }
    };
    let actor = Actor::User(user.id);
    let req = settle::Request {
        actor: &actor,
        source: Source::Upload,
        file_name: &name,
    };
    let notice = match settle::import(&app, &req, &bytes).await {
        Ok(StatusImported::AlreadyImported(id)) => ReportNotice {
            ok: true,
            text: ctx.f("remit.status.seen", &[("id", &id.to_string())]),
            listed: Vec::new(),
        },
        Ok(StatusImported::New(r)) => {
            let text = if r.batch.is_some() {
                ctx.f(
                    "remit.status.done",
                    &[
                        ("msg", &r.original_message_id),
                        (
                            "status",
                            r.batch_status
                                .map_or("-", super::status::Settlement::as_str),
                        ),
                        ("n", &r.transactions.len().to_string()),
                        ("rejected", &r.rejected().to_string()),
                        ("unknown", &r.count(TxResult::Unknown).to_string()),
                    ],
                )
            } else {
                ctx.f(
                    "remit.status.unknown_batch",
                    &[("msg", &r.original_message_id)],
                )
            };
            let listed = r
                .transactions
                .iter()
                .filter(|t| matches!(t.result, TxResult::Unknown | TxResult::Conflict))
                .take(500)
                .map(|t| {
                    (
                        t.line,
                        t.end_to_end_id.clone(),
                        t.status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                        t.result.as_str(),
                    )
                })
                .collect();
            ReportNotice {
                ok: true,
                text,
                listed,
            }
        }
        Err(ImportError::Refused { line, reason }) => {
            let n = refused(ctx.f(
                "remit.status.refused",
                &[("line", &line.to_string()), ("reason", &reason)],
            ));
            return refused_page(&app, ctx, n).await;
        }
        Err(ImportError::Failed(e)) => return Err(e.into()),
    };
    page_with(&app, ctx, StatusCode::OK, None, None, None, Some(notice)).await
}

/// The field `file` of the upload, with the name the browser gave: `Ok(None)` when there is
/// none or it is empty, `Err(true)` when it is too large, `Err(false)` when the body is not
/// a multipart form.
async fn read_file(mut multipart: Multipart) -> Result<Option<(String, Vec<u8>)>, bool> {
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(_) => return Err(true),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .file_name()
            .map(|n| n.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "pain002.xml".to_owned());
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > settle::MAX_BYTES {
                        return Err(true);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => return Err(true),
            }
        }
        return Ok((!bytes.is_empty()).then_some((name, bytes)));
    }
}
