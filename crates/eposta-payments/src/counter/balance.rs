//! `/counter/payments/balance`: the clerk's cash day (its payments, count, amounts, fees, the
//! cash paid back and the total that should be in the drawer), the close with the cash counted, and for a
//! manager every clerk's balance of the office.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use eposta_kernel::accounts::Role;
use eposta_kernel::clock::belgrade;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Query};
use eposta_kernel::web::page::{PageCtx, render_status};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde::Deserialize;
use uuid::Uuid;

use super::day::{Totals, parse_day};
use super::service::{self, Balance, Closing, Seen};
use crate::domain::order::parse_dinars;

fn rsd(para: i64) -> String {
    Money::rsd(para).to_string()
}

/// A payment of the day, as the list shows it.
struct Line {
    id: Uuid,
    at: String,
    confirmation: String,
    payee: String,
    amount: String,
    fee: String,
    total: String,
}

/// Cash paid back on the day, as the list shows it.
struct RefundLine {
    payment: Uuid,
    at: String,
    confirmation: String,
    amount: String,
}

/// Totals as the page shows them.
struct TotalsView {
    payments: i64,
    amount: String,
    fee: String,
    taken: String,
    refunds: i64,
    refunded: String,
    expected: String,
}

impl TotalsView {
    fn new(t: &Totals) -> Self {
        Self {
            payments: t.payments,
            amount: rsd(t.amount_para),
            fee: rsd(t.fee_para),
            taken: rsd(t.taken_para()),
            refunds: t.refunds,
            refunded: rsd(t.refunded_para),
            expected: rsd(t.expected_para()),
        }
    }
}

/// A closed day's count.
struct ClosedView {
    at: String,
    counted: String,
    difference: String,
    /// `-`, `0` or `+`: short, over or even.
    sign: &'static str,
}

/// A clerk's row in the manager's table.
struct ClerkView {
    name: String,
    totals: TotalsView,
    closed: Option<ClosedView>,
}

#[derive(Template)]
#[template(path = "counter/balance.html")]
struct BalancePage {
    ctx: PageCtx,
    day: String,
    day_shown: String,
    lines: Vec<Line>,
    refunds: Vec<RefundLine>,
    totals: TotalsView,
    seen_payments: i64,
    seen_refunds: i64,
    seen_expected: i64,
    closed: Option<ClosedView>,
    can_close: bool,
    counted: String,
    error: Option<String>,
    /// The notice's class (`ok`, `warning`) and key.
    notice: Option<(&'static str, &'static str)>,
    /// Managers: every clerk's day at the office.
    office: Option<Vec<ClerkView>>,
}

fn closed_view(row: &super::store::CashDayRow) -> Option<ClosedView> {
    let at = row.closed_at?;
    let difference = row.difference_para.unwrap_or_default();
    Some(ClosedView {
        at: belgrade(at),
        counted: rsd(row.counted_para.unwrap_or_default()),
        difference: rsd(difference),
        sign: match difference.signum() {
            -1 => "-",
            1 => "+",
            _ => "0",
        },
    })
}

#[derive(Deserialize)]
pub(super) struct DayQuery {
    #[serde(default)]
    day: String,
    #[serde(default)]
    closed: Option<String>,
}

/// The day asked for, or today; a day that is not a date is a field error.
fn day_of(app: &App, s: &str) -> Result<NaiveDate, Error> {
    if s.trim().is_empty() {
        return Ok(service::today(app));
    }
    parse_day(s).ok_or_else(|| Error::invalid("day", "is not a date (YYYY-MM-DD)"))
}

struct Extra {
    counted: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn page(
    app: &App,
    ctx: PageCtx,
    user: &SessionUser,
    b: Balance,
    x: Extra,
) -> Result<BalancePage, PageError> {
    let today = service::today(app);
    let office = if user.role == Role::Manager {
        Some(
            service::office_balances(app, user, b.day)
                .await?
                .into_iter()
                .map(|d| ClerkView {
                    name: ctx.script(&d.name),
                    totals: TotalsView::new(&d.totals),
                    closed: d.row.as_ref().and_then(closed_view),
                })
                .collect(),
        )
    } else {
        None
    };
    let lines = b
        .payments
        .iter()
        .map(|p| Line {
            id: p.id,
            at: belgrade(p.created_at),
            confirmation: p.confirmation_grouped(),
            payee: ctx.script(&p.payee.name),
            amount: p.amount().to_string(),
            fee: p.fee().to_string(),
            total: p.total().to_string(),
        })
        .collect();
    let refunds = b
        .refunds
        .iter()
        .map(|(r, confirmation)| RefundLine {
            payment: r.payment_id,
            at: belgrade(r.created_at),
            confirmation: crate::domain::codes::group_confirmation(confirmation),
            amount: rsd(r.amount_para),
        })
        .collect();
    Ok(BalancePage {
        day: b.day.to_string(),
        day_shown: b.day.format("%d.%m.%Y.").to_string(),
        lines,
        refunds,
        totals: TotalsView::new(&b.totals),
        seen_payments: b.totals.payments,
        seen_refunds: b.totals.refunds,
        seen_expected: b.totals.expected_para(),
        closed: b.row.as_ref().and_then(closed_view),
        can_close: !b.is_closed() && b.day <= today,
        counted: x.counted,
        error: x.error,
        notice: x
            .notice
            .map(|n| (if n == "cbal.changed" { "warning" } else { "ok" }, n)),
        office,
        ctx,
    })
}

/// `GET /counter/payments/balance[?day=YYYY-MM-DD]`.
pub(super) async fn show(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Query(q): Query<DayQuery>,
) -> Result<Response, PageError> {
    let day = day_of(&app, &q.day)?;
    let b = service::balance(&app, &user, day).await?;
    let notice = q.closed.is_some().then_some("cbal.closed_now");
    let counted = String::new();
    let extra = Extra {
        counted,
        error: None,
        notice,
    };
    render_status(StatusCode::OK, &page(&app, ctx, &user, b, extra).await?)
}

#[derive(Deserialize)]
pub(super) struct CloseForm {
    #[serde(default)]
    day: String,
    #[serde(default)]
    counted: String,
    #[serde(default)]
    seen_payments: String,
    #[serde(default)]
    seen_expected: String,
    #[serde(default)]
    seen_refunds: String,
}

/// `POST /counter/payments/balance`: closes the day with the cash counted.
pub(super) async fn close(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(f): Form<CloseForm>,
) -> Result<Response, PageError> {
    let day = day_of(&app, &f.day)?;
    let redo = async |ctx: PageCtx, status: StatusCode, error: Option<String>, notice| {
        let b = service::balance(&app, &user, day).await?;
        let extra = Extra {
            counted: f.counted.clone(),
            error,
            notice,
        };
        render_status(status, &page(&app, ctx, &user, b, extra).await?)
    };
    let counted = match parse_dinars(&f.counted) {
        Ok(Some(c)) => c,
        _ => {
            let e = ctx.t("cbal.bad_counted").to_owned();
            return redo(ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(e), None).await;
        }
    };
    let seen = Seen {
        payments: f.seen_payments.trim().parse().unwrap_or(-1),
        // A form from before refunds were counted has none.
        refunds: match f.seen_refunds.trim() {
            "" => 0,
            n => n.parse().unwrap_or(-1),
        },
        expected_para: f.seen_expected.trim().parse().unwrap_or(-1),
    };
    match service::close_day(&app, &user, day, counted, seen).await {
        Ok(Closing::Closed(_)) => Ok(Redirect::to(&format!(
            "/counter/payments/balance?day={day}&closed=1"
        ))
        .into_response()),
        Ok(Closing::Changed(_)) => {
            redo(ctx, StatusCode::CONFLICT, None, Some("cbal.changed")).await
        }
        Err(Error::Conflict(_)) => {
            let e = ctx.t("cbal.already_closed").to_owned();
            redo(ctx, StatusCode::CONFLICT, Some(e), None).await
        }
        Err(Error::Invalid { field, .. }) => {
            let key = if field == "day" {
                "cbal.future"
            } else {
                "cbal.bad_counted"
            };
            let e = ctx.t(key).to_owned();
            redo(ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}
