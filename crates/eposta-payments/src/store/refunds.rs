//! SQL for refunds. A refund is written `pending` before the acquirer is asked, so that what
//! is being refunded already counts against what is left.

use chrono::{DateTime, Utc};
use eposta_kernel::db::Exec;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use crate::model::Refund;

const COLUMNS: &str =
    "id, payment_id, amount_para, state, provider_ref, requested_by, created_at, updated_at";

pub async fn insert(c: &mut impl Exec, r: &Refund) -> Result<(), Error> {
    let sql =
        format!("INSERT INTO payment_refunds ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    db_run!(c, |c| sqlx::query(&sql)
        .bind(r.id)
        .bind(r.payment_id)
        .bind(r.amount_para)
        .bind(&r.state)
        .bind(&r.provider_ref)
        .bind(&r.requested_by)
        .bind(r.created_at)
        .bind(r.updated_at)
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
