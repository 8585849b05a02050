//! SQL of remittance: the payments still to remit, batches with their exported files, and
//! the daily schedule.

use chrono::{DateTime, Utc};
use eposta_kernel::db::{Backend, Either, Exec};
use eposta_kernel::{Error, db_run};
use serde_json::json;
use uuid::Uuid;

use crate::store::{COLUMNS, PaymentRow};

/// What may be remitted: paid (succeeded, or refunded in part with something left for the
/// payee), completed before the cut-off, in no batch yet, with no refund under way (it may
/// still change what is left; the payment waits for the next run).
const REMITTABLE: &str = "remittance_batch IS NULL AND state IN ('succeeded', 'partially_refunded') \
     AND completed_at < $1 AND amount_para > refunded_para \
     AND NOT EXISTS (SELECT 1 FROM payment_refunds r WHERE r.payment_id = payments.id \
     AND r.state = 'pending')";

/// Serialises remittance runs on PostgreSQL until the transaction ends (SQLite's single
/// writer does that already): two runs at once (the daily job and an operator) never pick
/// the same payments.
pub async fn lock_runs(c: &mut impl Exec) -> Result<(), Error> {
    if c.backend() == Backend::Postgres {
        db_run!(c, |c| sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext('eposta.payments.remittance'))"
        )
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// The payee accounts with payments to remit before `cutoff`, in order.
pub async fn payees_due(c: &mut impl Exec, cutoff: DateTime<Utc>) -> Result<Vec<String>, Error> {
    let sql = format!(
        "SELECT DISTINCT payee_account FROM payments WHERE {REMITTABLE} ORDER BY payee_account"
    );
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, String>(&sql)
        .bind(cutoff)
        .fetch_all(&mut *c)
        .await)?)
}

/// Up to `limit` payments to `account` to remit before `cutoff`, oldest first; locked on
/// PostgreSQL until the transaction ends, so that a refund waits for the batch.
pub async fn due_for(
    c: &mut impl Exec,
    account: &str,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PaymentRow>, Error> {
    let lock = if c.backend() == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE {REMITTABLE} AND payee_account = $2 \
         ORDER BY completed_at, id LIMIT $3{lock}"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, PaymentRow>(&sql)
        .bind(cutoff)
        .bind(account)
        .bind(limit)
        .fetch_all(&mut *c)
        .await)?)
}

/// The highest part of a payee's batches of a business day (0: none yet).
pub async fn last_part(c: &mut impl Exec, date: &str, account: &str) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COALESCE(MAX(part), 0) FROM remittance_batches \
         WHERE business_date = $1 AND payee_account = $2"
    )
    .bind(date)
    .bind(account)
    .fetch_one(&mut *c)
    .await)?)
}

/// A batch as stored, without its files.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchRow {
    pub id: Uuid,
    pub business_date: String,
    pub payee_account: String,
    pub part: i64,
    pub payee_name: String,
    pub message_id: String,
    pub execution_date: String,
    pub transfers: i64,
    pub total_para: i64,
    pub currency: String,
    pub pain001_sha256: String,
    pub csv_sha256: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

const BATCH_COLUMNS: &str = "id, business_date, payee_account, part, payee_name, message_id, \
     execution_date, transfers, total_para, currency, pain001_sha256, csv_sha256, created_by, \
     created_at";

/// A new batch with its exported files.
pub struct NewBatch<'a> {
    pub row: &'a BatchRow,
    pub pain001: &'a [u8],
    pub csv: &'a [u8],
}

pub async fn insert_batch(c: &mut impl Exec, b: &NewBatch<'_>) -> Result<(), Error> {
    let r = b.row;
    db_run!(c, |c| sqlx::query(
        "INSERT INTO remittance_batches (id, business_date, payee_account, part, payee_name, \
         message_id, execution_date, transfers, total_para, currency, pain001, pain001_sha256, \
         csv, csv_sha256, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    )
    .bind(r.id)
    .bind(&r.business_date)
    .bind(&r.payee_account)
    .bind(r.part)
    .bind(&r.payee_name)
    .bind(&r.message_id)
    .bind(&r.execution_date)
    .bind(r.transfers)
    .bind(r.total_para)
    .bind(&r.currency)
    .bind(b.pain001)
    .bind(&r.pain001_sha256)
    .bind(b.csv)
    .bind(&r.csv_sha256)
    .bind(&r.created_by)
    .bind(r.created_at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A payment of a batch: what it was paid and its transfer's end-to-end id.
pub struct Item {
    pub payment: Uuid,
    pub amount_para: i64,
    pub end_to_end_id: String,
}

/// Puts payments into a batch: their items, and the batch on each payment. Fails (and the
/// caller rolls back) unless every payment was in no batch yet.
pub async fn add_items(c: &mut impl Exec, batch: Uuid, items: &[Item]) -> Result<(), Error> {
    let marked = match c.exec() {
        Either::Postgres(c) => {
            let ids: Vec<Uuid> = items.iter().map(|i| i.payment).collect();
            let amounts: Vec<i64> = items.iter().map(|i| i.amount_para).collect();
            let e2e: Vec<&str> = items.iter().map(|i| i.end_to_end_id.as_str()).collect();
            sqlx::query(
                "INSERT INTO remittance_items (payment_id, batch_id, amount_para, end_to_end_id) \
                 SELECT v.id, $1, v.amount, v.e2e \
                 FROM UNNEST($2::uuid[], $3::bigint[], $4::text[]) AS v (id, amount, e2e)",
            )
            .bind(batch)
            .bind(&ids)
            .bind(&amounts)
            .bind(&e2e)
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "UPDATE payments SET remittance_batch = $1 \
                 WHERE id = ANY($2) AND remittance_batch IS NULL",
            )
            .bind(batch)
            .bind(&ids)
            .execute(&mut *c)
            .await?
            .rows_affected()
        }
        Either::Sqlite(c) => {
            let rows = json!(
                items
                    .iter()
                    .map(|i| json!([
                        hex::encode(i.payment.as_bytes()),
                        i.amount_para,
                        i.end_to_end_id
                    ]))
                    .collect::<Vec<_>>()
            )
            .to_string();
            sqlx::query(
                "INSERT INTO remittance_items (payment_id, batch_id, amount_para, end_to_end_id) \
                 SELECT unhex(j.value ->> 0), $1, j.value ->> 1, j.value ->> 2 \
                 FROM json_each($2) AS j",
            )
            .bind(batch)
            .bind(&rows)
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "UPDATE payments SET remittance_batch = $1 WHERE remittance_batch IS NULL \
                 AND id IN (SELECT unhex(j.value ->> 0) FROM json_each($2) AS j)",
            )
            .bind(batch)
            .bind(&rows)
            .execute(&mut *c)
            .await?
            .rows_affected()
        }
    };
    if marked != items.len() as u64 {
        return Err(Error::conflict(
            "a payment of the batch is in another batch already",
        ));
    }
    Ok(())
}

/// Batches, newest first; of one business day (by payee and part) when `date` is given.
pub async fn list(
    c: &mut impl Exec,
    date: Option<&str>,
    limit: i64,
) -> Result<Vec<BatchRow>, Error> {
    Ok(match date {
        Some(d) => {
            let sql = format!(
                "SELECT {BATCH_COLUMNS} FROM remittance_batches WHERE business_date = $1 \
                 ORDER BY payee_account, part LIMIT $2"
            );
            db_run!(c, |c| sqlx::query_as::<_, BatchRow>(&sql)
                .bind(d)
                .bind(limit)
                .fetch_all(&mut *c)
                .await)?
        }
        None => {
            let sql = format!(
                "SELECT {BATCH_COLUMNS} FROM remittance_batches \
                 ORDER BY created_at DESC, message_id LIMIT $1"
            );
            db_run!(c, |c| sqlx::query_as::<_, BatchRow>(&sql)
                .bind(limit)
                .fetch_all(&mut *c)
                .await)?
        }
    })
}

pub async fn by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<BatchRow>, Error> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM remittance_batches WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, BatchRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// A batch's exported file (`pain001` or `csv`) and its recorded SHA-256.
pub async fn file(
    c: &mut impl Exec,
    id: Uuid,
    which: File,
) -> Result<Option<(Vec<u8>, String)>, Error> {
    let sql = match which {
        File::Pain001 => "SELECT pain001, pain001_sha256 FROM remittance_batches WHERE id = $1",
        File::Csv => "SELECT csv, csv_sha256 FROM remittance_batches WHERE id = $1",
    };
    Ok(db_run!(c, |c| sqlx::query_as::<_, (Vec<u8>, String)>(sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// The two files of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum File {
    Pain001,
    Csv,
}

/// The payments of a batch (ids), in the order of its transfers: its items and the retries
/// of rejected transfers it carries (the view `remittance_transfers`).
pub async fn payments_of(c: &mut impl Exec, batch: Uuid) -> Result<Vec<Uuid>, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, Uuid>(
        "SELECT payment_id FROM remittance_transfers WHERE batch_id = $1 ORDER BY end_to_end_id"
    )
    .bind(batch)
    .fetch_all(&mut *c)
    .await)?)
}

/// Marks a business day as scheduled; false when another process did it first.
pub async fn claim_day(c: &mut impl Exec, date: &str, now: DateTime<Utc>) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "INSERT INTO remittance_days (business_date, enqueued_at) VALUES ($1, $2) \
         ON CONFLICT (business_date) DO NOTHING"
    )
    .bind(date)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
