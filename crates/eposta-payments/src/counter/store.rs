//! SQL of the counter's cash days (migrations/*/0016_counter_cash.sql, and the refunds of
//! 0017), once for both databases with `db_run!`.

use chrono::{DateTime, NaiveDate, Utc};
use eposta_kernel::db::Exec;
use eposta_kernel::ids::new_id;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use super::day::Totals;
use crate::store::{COLUMNS, PaymentRow, refunds};

/// A clerk's cash day as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CashDayRow {
    pub id: Uuid,
    pub clerk_id: Uuid,
    pub office_id: Uuid,
    pub day: NaiveDate,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub payments: Option<i64>,
    pub amount_para: Option<i64>,
    pub fee_para: Option<i64>,
    pub expected_para: Option<i64>,
    pub counted_para: Option<i64>,
    pub difference_para: Option<i64>,
    /// Refunds paid out that day and their sum (migration 0017).
    pub refunds: Option<i64>,
    pub refunded_para: Option<i64>,
}

const DAY_COLUMNS: &str = "id, clerk_id, office_id, day, opened_at, closed_at, payments, \
     amount_para, fee_para, expected_para, counted_para, difference_para, refunds, refunded_para";

/// Takes the clerk's open cash day for a payment: makes it if it is the day's first, and
/// holds its row until the transaction ends (PostgreSQL locks the row an upsert updates;
/// SQLite has one writer), so that a close waits for the payment or the payment sees the
/// close. False when the day is closed: no cash payment may be added to it.
pub async fn hold_open(
    c: &mut impl Exec,
    clerk: Uuid,
    office: Uuid,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let open: Option<Uuid> = db_run!(c, |c| sqlx::query_scalar::<_, Uuid>(
        "INSERT INTO counter_cash_days (id, clerk_id, office_id, day, opened_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (clerk_id, day) DO UPDATE SET office_id = counter_cash_days.office_id \
         WHERE counter_cash_days.closed_at IS NULL RETURNING id"
    )
    .bind(new_id())
    .bind(clerk)
    .bind(office)
    .bind(day)
    .bind(now)
    .fetch_optional(&mut *c)
    .await)?;
    Ok(open.is_some())
}

/// Closes the clerk's day with the cash counted (making the day's row if the clerk took no
/// cash payment that day). False when it was closed already. The totals are set after by
/// [`set_totals`], in the same transaction: this statement is what holds off payments.
pub async fn close(
    c: &mut impl Exec,
    clerk: Uuid,
    office: Uuid,
    day: NaiveDate,
    now: DateTime<Utc>,
    counted_para: i64,
) -> Result<bool, Error> {
    let closed: Option<Uuid> = db_run!(c, |c| {
        sqlx::query_scalar::<_, Uuid>(
        "INSERT INTO counter_cash_days (id, clerk_id, office_id, day, opened_at, closed_at, counted_para) \
         VALUES ($1, $2, $3, $4, $5, $5, $6) \
         ON CONFLICT (clerk_id, day) DO UPDATE SET closed_at = $5, counted_para = $6 \
         WHERE counter_cash_days.closed_at IS NULL RETURNING id"
    )
    .bind(new_id())
    .bind(clerk)
    .bind(office)
    .bind(day)
    .bind(now)
    .bind(counted_para)
    .fetch_optional(&mut *c)
    .await
    })?;
    Ok(closed.is_some())
}

/// Records a closed day's totals and difference.
pub async fn set_totals(
    c: &mut impl Exec,
    clerk: Uuid,
    day: NaiveDate,
    t: &Totals,
    difference_para: i64,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE counter_cash_days SET payments = $3, amount_para = $4, fee_para = $5, \
         expected_para = $6, difference_para = $7, refunds = $8, refunded_para = $9 \
         WHERE clerk_id = $1 AND day = $2"
    )
    .bind(clerk)
    .bind(day)
    .bind(t.payments)
    .bind(t.amount_para)
    .bind(t.fee_para)
    .bind(t.expected_para())
    .bind(difference_para)
    .bind(t.refunds)
    .bind(t.refunded_para)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The clerk's day, if it has a row (a cash payment or a close).
pub async fn day_of(
    c: &mut impl Exec,
    clerk: Uuid,
    day: NaiveDate,
) -> Result<Option<CashDayRow>, Error> {
    let sql =
        format!("SELECT {DAY_COLUMNS} FROM counter_cash_days WHERE clerk_id = $1 AND day = $2");
    Ok(db_run!(c, |c| sqlx::query_as::<_, CashDayRow>(&sql)
        .bind(clerk)
        .bind(day)
        .fetch_optional(&mut *c)
        .await)?)
}

/// The days of an office's clerks on `day`.
pub async fn office_days(
    c: &mut impl Exec,
    office: Uuid,
    day: NaiveDate,
) -> Result<Vec<CashDayRow>, Error> {
    let sql = format!(
        "SELECT {DAY_COLUMNS} FROM counter_cash_days WHERE office_id = $1 AND day = $2 ORDER BY opened_at, id"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, CashDayRow>(&sql)
        .bind(office)
        .bind(day)
        .fetch_all(&mut *c)
        .await)?)
}

/// The sums of a clerk's cash payments taken in `[from, to)`, and of the cash the clerk paid
/// back at the counter in that time.
pub async fn totals(
    c: &mut impl Exec,
    clerk: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Totals, Error> {
    let (payments, amount_para, fee_para): (i64, i64, i64) = db_run!(c, |c| sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_para), 0) AS BIGINT), \
         CAST(COALESCE(SUM(fee_para), 0) AS BIGINT) FROM payments \
         WHERE owner_user = $1 AND owner_kind = 'counter' AND method = 'cash' \
         AND created_at >= $2 AND created_at < $3"
    )
    .bind(clerk)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *c)
    .await)?;
    let (refunds, refunded_para) = refunds::counter_totals(&mut *c, clerk, from, to).await?;
    Ok(Totals {
        payments,
        amount_para,
        fee_para,
        refunds,
        refunded_para,
    })
}

/// The sums per clerk of an office's cash payments taken in `[from, to)` and of the cash
/// each paid back at its counter.
pub async fn office_totals(
    c: &mut impl Exec,
    office: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Uuid, Totals)>, Error> {
    let rows: Vec<(Uuid, i64, i64, i64)> = db_run!(c, |c| sqlx::query_as(
        "SELECT owner_user, COUNT(*), CAST(COALESCE(SUM(amount_para), 0) AS BIGINT), \
         CAST(COALESCE(SUM(fee_para), 0) AS BIGINT) FROM payments \
         WHERE owner_office = $1 AND owner_kind = 'counter' AND method = 'cash' \
         AND created_at >= $2 AND created_at < $3 GROUP BY owner_user"
    )
    .bind(office)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await)?;
    let mut out: Vec<(Uuid, Totals)> = rows
        .into_iter()
        .map(|(clerk, payments, amount_para, fee_para)| {
            (
                clerk,
                Totals {
                    payments,
                    amount_para,
                    fee_para,
                    ..Totals::default()
                },
            )
        })
        .collect();
    for (clerk, n, para) in refunds::office_counter_totals(&mut *c, office, from, to).await? {
        match out.iter_mut().find(|(c, _)| *c == clerk) {
            Some((_, t)) => {
                t.refunds = n;
                t.refunded_para = para;
            }
            None => out.push((
                clerk,
                Totals {
                    refunds: n,
                    refunded_para: para,
                    ..Totals::default()
                },
            )),
        }
    }
    Ok(out)
}

/// A clerk's cash payments taken in `[from, to)`, in the order they were taken.
pub async fn cash_payments(
    c: &mut impl Exec,
    clerk: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<PaymentRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE owner_user = $1 AND owner_kind = 'counter' \
         AND method = 'cash' AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, PaymentRow>(&sql)
        .bind(clerk)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *c)
        .await)?)
}
