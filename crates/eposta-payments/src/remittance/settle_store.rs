//! SQL of settlement (migrations/*/0018_remittance_settlement.sql): pain.002 reports read,
//! the current status of batches and transfers with their append-only history, rejected
//! transfers waiting for their retry, and the lookup of a statement's debits.

use chrono::{DateTime, Utc};
use eposta_kernel::db::{Either, Exec};
use eposta_kernel::{Error, db_run};
use serde_json::json;
use uuid::Uuid;

use crate::store::{COLUMNS, PaymentRow};

/// A report read before: its id and the batch it named.
pub async fn report_by_message_id(
    c: &mut impl Exec,
    message_id: &str,
) -> Result<Option<(Uuid, Option<Uuid>)>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, (Uuid, Option<Uuid>)>(
        "SELECT id, batch_id FROM remittance_status_reports WHERE message_id = $1"
    )
    .bind(message_id)
    .fetch_optional(&mut *c)
    .await)?)
}

/// The batch a pain.001 message id names: its id and current status.
pub async fn batch_by_message_id(
    c: &mut impl Exec,
    message_id: &str,
) -> Result<Option<(Uuid, Option<String>)>, Error> {
    Ok(db_run!(c, |c| {
        sqlx::query_as::<_, (Uuid, Option<String>)>(
            "SELECT b.id, s.status FROM remittance_batches b \
         LEFT JOIN remittance_batch_status s ON s.batch_id = b.id WHERE b.message_id = $1",
        )
        .bind(message_id)
        .fetch_optional(&mut *c)
        .await
    })?)
}

/// A transfer of a batch with its own status, if it has one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TransferRow {
    pub payment_id: Uuid,
    pub end_to_end_id: String,
    pub amount_para: i64,
    pub status: Option<String>,
}

/// Every transfer of a batch (its items and its retries).
pub async fn transfers_of(c: &mut impl Exec, batch: Uuid) -> Result<Vec<TransferRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, TransferRow>(
        "SELECT t.payment_id, t.end_to_end_id, t.amount_para, s.status \
         FROM remittance_transfers t LEFT JOIN remittance_transfer_status s \
         ON s.batch_id = t.batch_id AND s.payment_id = t.payment_id \
         WHERE t.batch_id = $1 ORDER BY t.end_to_end_id"
    )
    .bind(batch)
    .fetch_all(&mut *c)
    .await)?)
}

/// A new pain.002 report.
pub struct NewReport<'a> {
    pub id: Uuid,
    pub message_id: &'a str,
    pub original_message_id: &'a str,
    pub batch: Option<Uuid>,
    pub version: &'a str,
    pub file_name: &'a str,
    pub file_sha256: &'a str,
    pub source: &'a str,
    pub imported_by: &'a str,
    pub transactions: i64,
    pub changed: i64,
    pub unknown: i64,
    pub at: DateTime<Utc>,
}

pub async fn insert_report(c: &mut impl Exec, r: &NewReport<'_>) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO remittance_status_reports (id, message_id, original_message_id, batch_id, \
         version, file_name, file_sha256, source, imported_by, transactions, changed, unknown, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )
    .bind(r.id)
    .bind(r.message_id)
    .bind(r.original_message_id)
    .bind(r.batch)
    .bind(r.version)
    .bind(r.file_name)
    .bind(r.file_sha256)
    .bind(r.source)
    .bind(r.imported_by)
    .bind(r.transactions)
    .bind(r.changed)
    .bind(r.unknown)
    .bind(r.at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A change of status: of the batch (`payment` none) or of one of its transfers, and what
/// made it (a report or a statement import).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub batch: Uuid,
    pub payment: Option<Uuid>,
    pub status: &'static str,
    pub reason_code: Option<String>,
    pub reason_info: Option<String>,
    pub report: Option<Uuid>,
    pub statement_import: Option<Uuid>,
}

/// Records changes: a history row each, and the current status of each batch and transfer
/// (set-based: a few statements whatever the number of changes).
pub async fn record(
    c: &mut impl Exec,
    changes: &[StatusChange],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if changes.is_empty() {
        return Ok(());
    }
    const HISTORY: &str = "INSERT INTO remittance_status_history (batch_id, payment_id, status, \
         reason_code, reason_info, report_id, statement_import, recorded_at) ";
    const BATCHES: &str = "INSERT INTO remittance_batch_status (batch_id, status, reason_code, \
         report_id, statement_import, updated_at) ";
    const BATCHES_UPSERT: &str = " ON CONFLICT (batch_id) DO UPDATE SET status = excluded.status, \
         reason_code = excluded.reason_code, report_id = excluded.report_id, \
         statement_import = excluded.statement_import, updated_at = excluded.updated_at";
    const TRANSFERS: &str = "INSERT INTO remittance_transfer_status (batch_id, payment_id, \
         status, reason_code, reason_info, report_id, statement_import, updated_at) ";
    const TRANSFERS_UPSERT: &str = " ON CONFLICT (batch_id, payment_id) DO UPDATE SET \
         status = excluded.status, reason_code = excluded.reason_code, \
         reason_info = excluded.reason_info, report_id = excluded.report_id, \
         statement_import = excluded.statement_import, updated_at = excluded.updated_at";
    match c.exec() {
        Either::Postgres(c) => {
            let batch: Vec<Uuid> = changes.iter().map(|x| x.batch).collect();
            let payment: Vec<Option<Uuid>> = changes.iter().map(|x| x.payment).collect();
            let status: Vec<&str> = changes.iter().map(|x| x.status).collect();
            let code: Vec<Option<&str>> =
                changes.iter().map(|x| x.reason_code.as_deref()).collect();
            let info: Vec<Option<&str>> =
                changes.iter().map(|x| x.reason_info.as_deref()).collect();
            let report: Vec<Option<Uuid>> = changes.iter().map(|x| x.report).collect();
            let import: Vec<Option<Uuid>> = changes.iter().map(|x| x.statement_import).collect();
            let from = "FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
                 $6::uuid[], $7::uuid[]) AS v (batch, payment, status, code, info, report, import)";
            for sql in [
                format!(
                    "{HISTORY} SELECT batch, payment, status, code, info, report, import, $8 {from}"
                ),
                format!(
                    "{BATCHES} SELECT batch, status, code, report, import, $8 {from} \
                     WHERE payment IS NULL{BATCHES_UPSERT}"
                ),
                format!(
                    "{TRANSFERS} SELECT batch, payment, status, code, info, report, import, $8 \
                     {from} WHERE payment IS NOT NULL{TRANSFERS_UPSERT}"
                ),
            ] {
                sqlx::query(&sql)
                    .bind(&batch)
                    .bind(&payment)
                    .bind(&status)
                    .bind(&code)
                    .bind(&info)
                    .bind(&report)
                    .bind(&import)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
            }
        }
        Either::Sqlite(c) => {
            let hex = |u: Option<Uuid>| u.map(|u| hex::encode(u.as_bytes()));
            let rows = json!(
                changes
                    .iter()
                    .map(|x| json!([
                        hex(Some(x.batch)),
                        hex(x.payment),
                        x.status,
                        x.reason_code,
                        x.reason_info,
                        hex(x.report),
                        hex(x.statement_import)
                    ]))
                    .collect::<Vec<_>>()
            )
            .to_string();
            let cols = "unhex(j.value ->> 0) AS batch, unhex(j.value ->> 1) AS payment, \
                 j.value ->> 2 AS status, j.value ->> 3 AS code, j.value ->> 4 AS info, \
                 unhex(j.value ->> 5) AS report, unhex(j.value ->> 6) AS import";
            let from = format!("FROM (SELECT {cols} FROM json_each($1) AS j)");
            for sql in [
                format!(
                    "{HISTORY} SELECT batch, payment, status, code, info, report, import, $2 {from}"
                ),
                format!(
                    "{BATCHES} SELECT batch, status, code, report, import, $2 {from} \
                     WHERE payment IS NULL{BATCHES_UPSERT}"
                ),
                format!(
                    "{TRANSFERS} SELECT batch, payment, status, code, info, report, import, $2 \
                     {from} WHERE payment IS NOT NULL{TRANSFERS_UPSERT}"
                ),
            ] {
                sqlx::query(&sql)
                    .bind(&rows)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
            }
        }
    }
    Ok(())
}

/// A rejected transfer, made due again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub batch: Uuid,
    pub payment: Uuid,
    pub end_to_end_id: String,
    pub amount_para: i64,
    pub reason_code: Option<String>,
    pub report: Uuid,
}

/// Records rejected transfers (once each: a rejection recorded before is left as it is).
pub async fn insert_rejections(
    c: &mut impl Exec,
    rejections: &[Rejection],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for r in rejections {
        // At most one batch's transfers (10,000), once per report: a statement each is
        // simple and, in the report's one transaction, quick enough.
        db_run!(c, |c| sqlx::query(
            "INSERT INTO remittance_rejections (batch_id, payment_id, end_to_end_id, \
             amount_para, reason_code, report_id, rejected_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (batch_id, payment_id) DO NOTHING"
        )
        .bind(r.batch)
        .bind(r.payment)
        .bind(&r.end_to_end_id)
        .bind(r.amount_para)
        .bind(r.reason_code.as_deref())
        .bind(r.report)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// The payments whose rejected transfer waits for a retry (the same conditions as a payment
/// to remit, but in a batch already), for `account`, completed before `cutoff`; locked on
/// PostgreSQL like [`super::store::due_for`].
pub async fn retries_due_for(
    c: &mut impl Exec,
    account: &str,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PaymentRow>, Error> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let lock = if c.backend() == eposta_kernel::db::Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE {RETRYABLE} AND payee_account = $2 \
         ORDER BY completed_at, id LIMIT $3{lock}"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, PaymentRow>(&sql)
        .bind(cutoff)
        .bind(account)
        .bind(limit)
        .fetch_all(&mut *c)
        .await)?)
}

/// A payment with an open rejection that may go out again.
pub const RETRYABLE: &str = "id IN (SELECT payment_id FROM remittance_rejections \
     WHERE retry_batch IS NULL) AND state IN ('succeeded', 'partially_refunded') \
     AND completed_at < $1 AND amount_para > refunded_para \
     AND NOT EXISTS (SELECT 1 FROM payment_refunds r WHERE r.payment_id = payments.id \
     AND r.state = 'pending')";

/// The payee accounts with rejected transfers to send again.
pub async fn retry_payees(c: &mut impl Exec, cutoff: DateTime<Utc>) -> Result<Vec<String>, Error> {
    let sql = format!("SELECT DISTINCT payee_account FROM payments WHERE {RETRYABLE}");
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, String>(&sql)
        .bind(cutoff)
        .fetch_all(&mut *c)
        .await)?)
}

/// Puts retried payments into `batch` (compare-and-set on an open rejection); fails unless
/// every one had an open rejection.
pub async fn mark_retried(
    c: &mut impl Exec,
    batch: Uuid,
    items: &[super::store::Item],
) -> Result<(), Error> {
    let mut marked = 0u64;
    for i in items {
        marked += db_run!(c, |c| sqlx::query(
            "UPDATE remittance_rejections SET retry_batch = $1, retry_amount_para = $2 \
             WHERE payment_id = $3 AND retry_batch IS NULL"
        )
        .bind(batch)
        .bind(i.amount_para)
        .bind(i.payment)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    if marked != items.len() as u64 {
        return Err(Error::conflict(
            "a rejected payment of the batch was sent again already",
        ));
    }
    Ok(())
}

/// What a statement debit may be: a transfer by its end-to-end id, or a whole batch (booked
/// as one entry) by its message id, with the sum of its transfers that were not rejected.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DebitMatch {
    /// `t` for a transfer, `b` for a batch.
    pub kind: String,
    pub batch_id: Uuid,
    pub payment_id: Option<Uuid>,
    /// The end-to-end id or the message id.
    pub key: String,
    pub amount_para: i64,
    /// The transfer's own status, else its batch's.
    pub status: Option<String>,
}

/// One query for a batch of debits: the transfers whose end-to-end id and the batches whose
/// message id is among `keys`.
pub async fn debit_matches(c: &mut impl Exec, keys: &[&str]) -> Result<Vec<DebitMatch>, Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = |any: &str, null_uuid: &str| {
        format!(
            "SELECT 't' AS kind, t.batch_id, t.payment_id, t.end_to_end_id AS key, \
             t.amount_para, COALESCE(s.status, bs.status) AS status \
             FROM remittance_transfers t \
             LEFT JOIN remittance_transfer_status s \
             ON s.batch_id = t.batch_id AND s.payment_id = t.payment_id \
             LEFT JOIN remittance_batch_status bs ON bs.batch_id = t.batch_id \
             WHERE t.end_to_end_id {any} \
             UNION ALL \
             SELECT 'b', b.id, {null_uuid}, b.message_id, \
             CAST(COALESCE((SELECT SUM(t.amount_para) FROM remittance_transfers t \
             LEFT JOIN remittance_transfer_status s \
             ON s.batch_id = t.batch_id AND s.payment_id = t.payment_id \
             WHERE t.batch_id = b.id AND COALESCE(s.status, '') <> 'RJCT'), 0) AS BIGINT), \
             bs.status \
             FROM remittance_batches b \
             LEFT JOIN remittance_batch_status bs ON bs.batch_id = b.id \
             WHERE b.message_id {any}"
        )
    };
    Ok(match c.exec() {
        Either::Postgres(c) => {
            sqlx::query_as::<_, DebitMatch>(&sql("= ANY($1)", "NULL::uuid"))
                .bind(keys)
                .fetch_all(&mut *c)
                .await?
        }
        Either::Sqlite(c) => {
            sqlx::query_as::<_, DebitMatch>(&sql("IN (SELECT value FROM json_each($1))", "NULL"))
                .bind(json!(keys).to_string())
                .fetch_all(&mut *c)
                .await?
        }
    })
}

/// Of `batches`, those each of whose transfers is settled or rejected, with at least one
/// settled: the batch is settled.
pub async fn fully_settled(c: &mut impl Exec, batches: &[Uuid]) -> Result<Vec<Uuid>, Error> {
    let mut out = Vec::new();
    for b in batches {
        // Only batches that a statement's debits touched: a few per statement.
        let done = db_run!(c, |c| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM remittance_transfers t \
             LEFT JOIN remittance_transfer_status s \
             ON s.batch_id = t.batch_id AND s.payment_id = t.payment_id \
             WHERE t.batch_id = $1 AND COALESCE(s.status, '') NOT IN ('settled', 'RJCT')"
        )
        .bind(*b)
        .fetch_one(&mut *c)
        .await)?;
        if done == 0 {
            out.push(*b);
        }
    }
    Ok(out)
}

/// A batch's status history, oldest first: (payment or none, status, reason, when).
pub type HistoryRow = (Option<Uuid>, String, Option<String>, DateTime<Utc>);

pub async fn history_of(c: &mut impl Exec, batch: Uuid) -> Result<Vec<HistoryRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, HistoryRow>(
        "SELECT payment_id, status, reason_code, recorded_at FROM remittance_status_history \
         WHERE batch_id = $1 ORDER BY id"
    )
    .bind(batch)
    .fetch_all(&mut *c)
    .await)?)
}

/// The current status of batches (those that have one), in one query.
pub async fn batch_statuses(
    c: &mut impl Exec,
    batches: &[Uuid],
) -> Result<Vec<(Uuid, String)>, Error> {
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match c.exec() {
        Either::Postgres(c) => {
            sqlx::query_as::<_, (Uuid, String)>(
                "SELECT batch_id, status FROM remittance_batch_status WHERE batch_id = ANY($1)",
            )
            .bind(batches)
            .fetch_all(&mut *c)
            .await?
        }
        Either::Sqlite(c) => {
            let ids = json!(
                batches
                    .iter()
                    .map(|b| hex::encode(b.as_bytes()))
                    .collect::<Vec<_>>()
            )
            .to_string();
            sqlx::query_as::<_, (Uuid, String)>(
                "SELECT batch_id, status FROM remittance_batch_status \
                 WHERE batch_id IN (SELECT unhex(value) FROM json_each($1))",
            )
            .bind(ids)
            .fetch_all(&mut *c)
            .await?
        }
    })
}
