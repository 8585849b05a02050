//! The counter's cash use cases: price and take a cash payment for the clerk's office, read
//! the office's own payments, and the clerk's daily balance (count, close, the office's view
//! for its manager). The only place with the counter's rules and transactions.

use chrono::NaiveDate;
use eposta_kernel::accounts::Role;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::offices::store::{self as office_store, OfficeRow};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde_json::json;
use uuid::Uuid;

use super::day::{self, Totals};
use super::store::{self, CashDayRow};
use crate::domain::{Channel, FieldError, Owner, PaymentInput, PaymentOrder};
use crate::fees::FeeQuote;
use crate::model::{Payment, Refund};
use crate::service::{self, Created};
use crate::store::refunds;

/// The office of a clerk or manager at the counter; others may not take cash.
pub async fn office_of(app: &App, user: &SessionUser) -> Result<OfficeRow, Error> {
    if !matches!(user.role, Role::Clerk | Role::Manager) {
        return Err(Error::Forbidden);
    }
    let office = user.office_id.ok_or(Error::Forbidden)?;
    let mut conn = app.db.conn().await?;
    office_store::by_id(&mut conn, office)
        .await?
        .ok_or(Error::Forbidden)
}

fn owner(user: &SessionUser, office: &OfficeRow) -> Owner {
    Owner::Counter {
        clerk: user.id,
        office: office.id,
    }
}

/// The order as cash at the counter: the method is cash whatever was posted.
fn as_cash(input: &PaymentInput) -> PaymentInput {
    PaymentInput {
        method: crate::domain::Method::Cash.as_str().to_owned(),
        return_url: None,
        ..input.clone()
    }
}

/// Checks and prices a cash payment order (the form's fee step).
pub async fn quote(
    app: &App,
    user: &SessionUser,
    input: &PaymentInput,
) -> Result<Result<(PaymentOrder, FeeQuote), Vec<FieldError>>, Error> {
    let office = office_of(app, user).await?;
    service::create::quote(app, owner(user, &office), &as_cash(input))
}

/// Takes a cash payment: recorded as succeeded at once (method cash, channel counter, owned
/// by the clerk at the office), in the clerk's open cash day. The same submission key makes
/// one payment however often it is sent. A closed day refuses it (409).
pub async fn take_cash(
    app: &App,
    user: &SessionUser,
    input: &PaymentInput,
    submission: &str,
) -> Result<Result<Created, Vec<FieldError>>, Error> {
    let office = office_of(app, user).await?;
    service::create(app, owner(user, &office), &as_cash(input), Some(submission)).await
}

/// The error of a cash payment on a closed day.
pub fn day_closed() -> Error {
    Error::conflict(
        "you have closed your cash for today: it takes no more cash payments until tomorrow",
    )
}

/// A payment taken at the counter of the user's office; any other is "not found".
pub async fn for_office(app: &App, user: &SessionUser, id: Uuid) -> Result<Payment, Error> {
    let office = office_of(app, user).await?;
    let p = service::get(app, id).await?;
    if p.channel != Channel::Counter || p.office() != Some(office.id) {
        return Err(Error::NotFound);
    }
    Ok(p)
}

/// The Belgrade date now.
pub fn today(app: &App) -> NaiveDate {
    day::belgrade_day(app.now())
}

/// Whether the user has closed today's cash.
pub async fn closed_today(app: &App, user: &SessionUser) -> Result<bool, Error> {
    let mut conn = app.db.conn().await?;
    Ok(store::day_of(&mut conn, user.id, today(app))
        .await?
        .is_some_and(|d| d.closed_at.is_some()))
}

/// A clerk's cash day: its payments, the cash paid back (each refund with its payment's
/// confirmation number), their totals, and the close if there was one.
#[derive(Debug, Clone)]
pub struct Balance {
    pub day: NaiveDate,
    pub payments: Vec<Payment>,
    pub refunds: Vec<(Refund, String)>,
    pub totals: Totals,
    pub row: Option<CashDayRow>,
}

impl Balance {
    pub fn is_closed(&self) -> bool {
        self.row.as_ref().is_some_and(|r| r.closed_at.is_some())
    }
}

/// The user's own cash day `day`.
pub async fn balance(app: &App, user: &SessionUser, day: NaiveDate) -> Result<Balance, Error> {
    office_of(app, user).await?;
    let (from, to) = day::bounds(day);
    let mut conn = app.db.conn().await?;
    let payments = store::cash_payments(&mut conn, user.id, from, to)
        .await?
        .into_iter()
        .map(Payment::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let refunds = refunds::counter_refunds(&mut conn, user.id, from, to).await?;
    let totals = store::totals(&mut conn, user.id, from, to).await?;
    let row = store::day_of(&mut conn, user.id, day).await?;
    Ok(Balance {
        day,
        payments,
        refunds,
        totals,
        row,
    })
}

/// What the clerk counted the cash against: the day's payments, refunds and total as the
/// page showed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub payments: i64,
    pub refunds: i64,
    pub expected_para: i64,
}

impl From<Totals> for Seen {
    fn from(t: Totals) -> Self {
        Seen {
            payments: t.payments,
            refunds: t.refunds,
            expected_para: t.expected_para(),
        }
    }
}

/// What closing did.
#[derive(Debug, Clone)]
pub enum Closing {
    /// Closed with these totals and this difference.
    Closed(CashDayRow),
    /// Payments were taken (or cash paid back) since the clerk looked: nothing was closed; these are the totals
    /// to count against now.
    Changed(Totals),
}

/// Closes the user's cash day `day` with the cash counted: the totals of the day's cash
/// payments, the count and the difference are recorded and audited in one transaction; from
/// then on the day takes no cash payment of this clerk. `seen` is what the clerk counted
/// against; if payments came in since (another window), nothing is closed. A day to come
/// cannot be closed (422); one closed already is a conflict (409).
pub async fn close_day(
    app: &App,
    user: &SessionUser,
    day: NaiveDate,
    counted_para: i64,
    seen: Seen,
) -> Result<Closing, Error> {
    let office = office_of(app, user).await?;
    if day > today(app) {
        return Err(Error::invalid("day", "a day to come cannot be closed"));
    }
    if !(0..=crate::domain::MAX_AMOUNT_PARA.saturating_mul(100)).contains(&counted_para) {
        return Err(Error::invalid("counted", "is not an amount of cash"));
    }
    let now = app.now();
    let (from, to) = day::bounds(day);
    let mut tx = app.db.begin().await?;
    if !store::close(&mut tx, user.id, office.id, day, now, counted_para).await? {
        return Err(Error::conflict("this day's cash is closed already"));
    }
    let totals = store::totals(&mut tx, user.id, from, to).await?;
    if Seen::from(totals) != seen {
        // Dropping the transaction undoes the close.
        return Ok(Closing::Changed(totals));
    }
    let difference = totals.difference_para(counted_para);
    store::set_totals(&mut tx, user.id, day, &totals, difference).await?;
    let row = store::day_of(&mut tx, user.id, day)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("closed cash day vanished")))?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(user.id),
            action: "counter.cash_closed",
            subject: &format!("cash_day:{}", row.id),
            office_id: Some(office.id),
            details: json!({
                "day": day.to_string(),
                "payments": totals.payments,
                "amount_para": totals.amount_para,
                "fee_para": totals.fee_para,
                "refunds": totals.refunds,
                "refunded_para": totals.refunded_para,
                "expected_para": totals.expected_para(),
                "counted_para": counted_para,
                "difference_para": difference,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        cash_day = %row.id,
        office = %office.code,
        payments = totals.payments,
        difference_para = difference,
        "cash day closed"
    );
    Ok(Closing::Closed(row))
}

/// One clerk's day as the office's manager sees it.
#[derive(Debug, Clone)]
pub struct ClerkDay {
    pub clerk: Uuid,
    /// The clerk's name, or e-mail when the account has no name.
    pub name: String,
    pub totals: Totals,
    pub row: Option<CashDayRow>,
}

/// Every clerk's cash day `day` at the manager's office: those who took cash or closed,
/// by name.
pub async fn office_balances(
    app: &App,
    manager: &SessionUser,
    day: NaiveDate,
) -> Result<Vec<ClerkDay>, Error> {
    if manager.role != Role::Manager {
        return Err(Error::Forbidden);
    }
    let office = office_of(app, manager).await?;
    let (from, to) = day::bounds(day);
    let mut conn = app.db.conn().await?;
    let rows = store::office_days(&mut conn, office.id, day).await?;
    let totals = store::office_totals(&mut conn, office.id, from, to).await?;
    let staff = office_store::staff_of(&mut conn, office.id).await?;
    let name = |id: Uuid| {
        staff.iter().find(|s| s.id == id).map_or_else(
            || id.to_string(),
            |s| {
                if s.display_name.trim().is_empty() {
                    s.email.clone()
                } else {
                    s.display_name.clone()
                }
            },
        )
    };
    let mut out: Vec<ClerkDay> = rows
        .into_iter()
        .map(|r| ClerkDay {
            clerk: r.clerk_id,
            name: name(r.clerk_id),
            totals: totals
                .iter()
                .find(|(c, _)| *c == r.clerk_id)
                .map(|(_, t)| *t)
                .unwrap_or_default(),
            row: Some(r),
        })
        .collect();
    // Payments of a clerk who moved here from another office that day have no row here.
    for (clerk, t) in totals {
        if !out.iter().any(|d| d.clerk == clerk) {
            out.push(ClerkDay {
                clerk,
                name: name(clerk),
                totals: t,
                row: None,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
