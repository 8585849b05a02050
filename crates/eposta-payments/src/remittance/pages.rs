//! The admin's remittance page (`/admin/payments/remittance`): the batches of a day or the
//! latest ones (remittance to payees and refund batches to payers), their files to download,
//! and a run for a day that is over.

use askama::Template;
use axum::extract::State;
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

use super::{BatchRow, File, RefundBatchRow, domain};
use crate::reconcile::pages::When;

/// Batches shown at most.
const SHOWN: i64 = 500;

pub fn routes() -> Routes {
    const A: Access = Access::Staff(ADMINS);
    Routes::new()
        .get("/admin/payments/remittance", A, list)
        .post("/admin/payments/remittance", A, run)
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
    let batches = super::list(app, day, SHOWN)
        .await?
        .into_iter()
        .map(|b| BatchView::new(&ctx, b))
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
