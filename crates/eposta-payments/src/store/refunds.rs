//! SQL for refunds. A refund is written `pending` before the acquirer is asked (or, for a
//! transfer, until its refund batch is exported), so that what is being refunded already
//! counts against what is left.

use chrono::{DateTime, Utc};
use eposta_kernel::db::Exec;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use crate::model::Refund;

const COLUMNS: &str = "id, payment_id, amount_para, state, provider_ref, requested_by, \
     created_at, updated_at, channel, reason, clerk_id, office_id, account, batch_id";

pub async fn insert(c: &mut impl Exec, r: &Refund) -> Result<(), Error> {
    let sql = format!(
        "INSERT INTO payment_refunds ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    db_run!(c, |c| sqlx::query(&sql)
        .bind(r.id)
        .bind(r.payment_id)
        .bind(r.amount_para)
        .bind(&r.state)
        .bind(&r.provider_ref)
        .bind(&r.requested_by)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(&r.channel)
        .bind(&r.reason)
        .bind(r.clerk_id)
        .bind(r.office_id)
        .bind(&r.account)
        .bind(r.batch_id)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A payment's refunds, oldest first.
pub async fn of_payment(c: &mut impl Exec, payment: Uuid) -> Result<Vec<Refund>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payment_refunds WHERE payment_id = $1 ORDER BY created_at, id"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, Refund>(&sql)
        .bind(payment)
        .fetch_all(&mut *c)
        .await)?)
}

pub async fn by_provider_ref(
    c: &mut impl Exec,
    payment: Uuid,
    provider_ref: &str,
) -> Result<Option<Refund>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payment_refunds WHERE payment_id = $1 AND provider_ref = $2"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, Refund>(&sql)
        .bind(payment)
        .bind(provider_ref)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Para of a payment's refunds that are pending or succeeded.
pub async fn committed_para(c: &mut impl Exec, payment: Uuid) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(amount_para), 0) AS BIGINT) FROM payment_refunds \
         WHERE payment_id = $1 AND state <> 'failed'"
    )
    .bind(payment)
    .fetch_one(&mut *c)
    .await)?)
}

/// Moves a pending refund to `state` (`succeeded` or `failed`); false if it was not pending.
pub async fn settle(
    c: &mut impl Exec,
    id: Uuid,
    state: &str,
    provider_ref: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE payment_refunds SET state = $2, provider_ref = COALESCE($3, provider_ref), \
         updated_at = $4 WHERE id = $1 AND state = 'pending'"
    )
    .bind(id)
    .bind(state)
    .bind(provider_ref)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records the acquirer's reference of a refund it has accepted but not finished.
pub async fn set_provider_ref(
    c: &mut impl Exec,
    id: Uuid,
    provider_ref: &str,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE payment_refunds SET provider_ref = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(provider_ref)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The account an IPS payment was paid from, as the statement that completed it named it.
pub async fn payer_account(c: &mut impl Exec, payment: Uuid) -> Result<Option<String>, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, String>(
        "SELECT account FROM payment_payer_accounts WHERE payment_id = $1"
    )
    .bind(payment)
    .fetch_optional(&mut *c)
    .await)?)
}

/// Up to `limit` transfer refunds asked for before `cutoff` and in no batch yet, oldest
/// first; locked on PostgreSQL until the transaction ends.
pub async fn transfers_due(
    c: &mut impl Exec,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Refund>, Error> {
    let lock = if c.backend() == eposta_kernel::db::Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM payment_refunds WHERE channel = 'transfer' AND state = 'pending' \
         AND batch_id IS NULL AND created_at < $1 ORDER BY created_at, id LIMIT $2{lock}"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, Refund>(&sql)
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&mut *c)
        .await)?)
}

/// Puts a pending transfer refund in a batch; false if it was in one already.
pub async fn set_batch(c: &mut impl Exec, id: Uuid, batch: Uuid) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE payment_refunds SET batch_id = $2 WHERE id = $1 AND batch_id IS NULL"
    )
    .bind(id)
    .bind(batch)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The cash a clerk paid back at the counter in `[from, to)`: how many refunds and their sum.
pub async fn counter_totals(
    c: &mut impl Exec,
    clerk: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(i64, i64), Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, (i64, i64)>(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_para), 0) AS BIGINT) FROM payment_refunds \
         WHERE clerk_id = $1 AND channel = 'counter' AND state = 'succeeded' \
         AND created_at >= $2 AND created_at < $3"
    )
    .bind(clerk)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *c)
    .await)?)
}

/// The cash paid back at an office's counter in `[from, to)`, per clerk: (clerk, refunds,
/// sum).
pub async fn office_counter_totals(
    c: &mut impl Exec,
    office: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64, i64)>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, (Uuid, i64, i64)>(
        "SELECT clerk_id, COUNT(*), CAST(COALESCE(SUM(amount_para), 0) AS BIGINT) \
         FROM payment_refunds WHERE office_id = $1 AND channel = 'counter' \
         AND state = 'succeeded' AND created_at >= $2 AND created_at < $3 GROUP BY clerk_id"
    )
    .bind(office)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await)?)
}

/// A clerk's cash refunds in `[from, to)` in the order paid, each with its payment's
/// confirmation number.
pub async fn counter_refunds(
    c: &mut impl Exec,
    clerk: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Refund, String)>, Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        refund: Refund,
        confirmation: String,
    }
    let cols = COLUMNS
        .split(", ")
        .map(|c| format!("r.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}, p.confirmation FROM payment_refunds r \
         JOIN payments p ON p.id = r.payment_id WHERE r.clerk_id = $1 \
         AND r.channel = 'counter' AND r.state = 'succeeded' AND r.created_at >= $2 \
         AND r.created_at < $3 ORDER BY r.created_at, r.id"
    );
    let rows = db_run!(c, |c| sqlx::query_as::<_, Row>(&sql)
        .bind(clerk)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.refund, r.confirmation))
        .collect())
}
