//! Refund batches (docs/payments-reconciliation.md, "Refund batches"): an IPS payment is paid
//! back by a credit transfer from ePošta's collection account to the payer's account. The
//! refunds asked for ([`crate::service::refund::refund`], `pending`, channel `transfer`) go
//! out with the daily remittance run: the refunds of the business day in parts of at most
//! [`super::domain::MAX_TRANSFERS`], each part a pain.001 written by the same writer as a
//! remittance batch (the collection account as debtor, each payer as creditor, the refund's
//! reference as end-to-end id) and the same CSV. A batch is stored immutably
//! (`refund_batches`, `refund_batch_items`: triggers refuse changes, a refund is in at most
//! one batch), and in the transaction that exports it each refund becomes `succeeded` and
//! its payment `partially_refunded` or `refunded`.
//!
//! A table beside `remittance_batches` rather than a kind of it: a remittance batch is one
//! payee's (its account and name, unique per day and part); a refund batch has a creditor
//! per transfer, and one payment may have several refunds in it.

use chrono::{DateTime, NaiveDate, Utc};
use eposta_formats::account::AccountNumber;
use eposta_formats::iso20022::pain001::Transfer;
use eposta_formats::iso20022::{csv, pain001};
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::db::{Either, Exec};
use eposta_kernel::{App, Error, db_run};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{File, domain, internal, store as remit_store};
use crate::model::{Payment, Refund};
use crate::service::{Applied, Cause, Step, apply_in};
use crate::settings::Collection;
use crate::store::{self as payments, refunds};

/// `EPRF-20261125-1`: unique per business day and part (`MsgId`, `PmtInfId`).
pub fn message_id(date: NaiveDate, part: i64) -> String {
    format!("EPRF-{}-{part}", date.format("%Y%m%d"))
}

/// A refund's reference, its transfer's end-to-end id (it comes back on the payer's
/// statement): `RF` and the refund's id in 32 hex digits, 34 characters.
pub fn end_to_end_id(refund: Uuid) -> String {
    format!("RF{}", refund.simple())
}

/// The creditor's name as pain.001 takes it: one line, at most 140 characters; the payer's
/// name from the payment order (its lines joined), or a placeholder when it has none.
fn creditor_name(name: &str) -> String {
    let one: String = name
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
        .chars()
        .filter(|c| !c.is_control())
        .take(140)
        .collect();
    if one.trim().is_empty() {
        "Uplatilac".to_owned()
    } else {
        one
    }
}

/// A refund's transfer back to the payer: the payer's name, the refund's account, its
/// amount; the purpose names the payment's confirmation number. `None` when the refund has
/// no valid account (the code records none such).
pub fn transfer_of(refund: &Refund, payment: &Payment) -> Option<Transfer> {
    let account = AccountNumber::parse(refund.account.as_deref()?).ok()?;
    Some(Transfer {
        end_to_end_id: end_to_end_id(refund.id),
        payee_name: creditor_name(&payment.payer.name),
        payee_account: account,
        para: refund.amount_para,
        payment_code: None,
        reference: None,
        purpose: Some(format!(
            "Povracaj uplate {}",
            payment.confirmation_grouped()
        )),
    })
}

/// A refund batch as stored, without its files.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefundBatchRow {
    pub id: Uuid,
    pub business_date: String,
    pub part: i64,
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

const COLUMNS: &str = "id, business_date, part, message_id, execution_date, transfers, \
     total_para, currency, pain001_sha256, csv_sha256, created_by, created_at";

/// What a day's run needs to know.
pub(super) struct Day<'a> {
    pub date: NaiveDate,
    pub cutoff: DateTime<Utc>,
    pub execution: NaiveDate,
    pub collection: &'a Collection,
    pub now: DateTime<Utc>,
}

/// Makes the refund batches of a business day: every transfer refund asked for before the
/// day's end and in no batch yet (so a day missed is caught up by the next run).
pub(super) async fn run(
    app: &App,
    actor: &Actor,
    d: &Day<'_>,
) -> Result<Vec<RefundBatchRow>, Error> {
    let day = d.date.to_string();
    let limit = i64::try_from(domain::MAX_TRANSFERS).unwrap_or(i64::MAX);
    let mut made = Vec::new();
    loop {
        let mut tx = app.db.begin().await?;
        remit_store::lock_runs(&mut tx).await?;
        let due = refunds::transfers_due(&mut tx, d.cutoff, limit).await?;
        if due.is_empty() {
            break;
        }
        let full = due.len() == domain::MAX_TRANSFERS;
        let part = last_part(&mut tx, &day).await? + 1;
        if part > domain::MAX_PARTS {
            return Err(internal(format!(
                "more than {} refund batches on {day}",
                domain::MAX_PARTS
            )));
        }
        let mut transfers = Vec::with_capacity(due.len());
        for r in &due {
            payments::lock_payment(&mut tx, r.payment_id).await?;
            let p: Payment = payments::by_id(&mut tx, r.payment_id)
                .await?
                .ok_or_else(|| internal("a refund of no payment"))?
                .try_into()?;
            transfers.push(
                transfer_of(r, &p)
                    .ok_or_else(|| internal(format!("refund {} has no valid account", r.id)))?,
            );
        }
        let message_id = message_id(d.date, part);
        let batch = domain::batch(d.collection, &message_id, d.now, d.execution, transfers)
            .ok_or_else(|| internal("the execution date is out of range"))?;
        let (count, total) = batch.check().map_err(internal)?;
        let xml = pain001::write(&batch, Vec::new()).map_err(internal)?;
        let table = csv::write_batch(&batch, Vec::new()).map_err(internal)?;
        let row = RefundBatchRow {
            id: eposta_kernel::ids::new_id(),
            business_date: day.clone(),
            part,
            message_id,
            execution_date: d.execution.to_string(),
            transfers: i64::try_from(count).unwrap_or(i64::MAX),
            total_para: total,
            currency: "RSD".into(),
            pain001_sha256: hex::encode(Sha256::digest(&xml)),
            csv_sha256: hex::encode(Sha256::digest(&table)),
            created_by: actor.to_string(),
            created_at: d.now,
        };
        insert_batch(&mut tx, &row, &xml, &table).await?;
        add_items(&mut tx, row.id, &due).await?;
        // Exported: each refund is paid, and its payment's state follows.
        let cause = Cause::actor(actor.clone());
        for r in &due {
            if !refunds::set_batch(&mut tx, r.id, row.id).await? {
                return Err(internal(format!("refund {} is in another batch", r.id)));
            }
            let step = Step::Refund {
                refund_id: r.id,
                amount_para: r.amount_para,
                provider_ref: None,
            };
            match apply_in(&mut tx, d.now, r.payment_id, &step, &cause).await? {
                Some(Applied::Changed(_)) => {}
                _ => {
                    return Err(Error::conflict(
                        "a payment changed while its refund was batched; run again",
                    ));
                }
            }
        }
        audit::append(
            &mut tx,
            d.now,
            audit::Entry {
                actor,
                action: "payments.refund.batch",
                subject: &format!("refund_batch:{}", row.id),
                office_id: None,
                details: json!({
                    "business_date": row.business_date,
                    "part": row.part,
                    "transfers": row.transfers,
                    "total_para": row.total_para,
                    "pain001_sha256": row.pain001_sha256,
                    "csv_sha256": row.csv_sha256,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            batch = %row.id,
            business_date = %row.business_date,
            transfers = row.transfers,
            total_para = row.total_para,
            "refund batch exported"
        );
        made.push(row);
        if !full {
            break;
        }
    }
    Ok(made)
}

async fn last_part(c: &mut impl Exec, date: &str) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COALESCE(MAX(part), 0) FROM refund_batches WHERE business_date = $1"
    )
    .bind(date)
    .fetch_one(&mut *c)
    .await)?)
}

async fn insert_batch(
    c: &mut impl Exec,
    r: &RefundBatchRow,
    xml: &[u8],
    table: &[u8],
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO refund_batches (id, business_date, part, message_id, execution_date, \
         transfers, total_para, currency, pain001, pain001_sha256, csv, csv_sha256, \
         created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )
    .bind(r.id)
    .bind(&r.business_date)
    .bind(r.part)
    .bind(&r.message_id)
    .bind(&r.execution_date)
    .bind(r.transfers)
    .bind(r.total_para)
    .bind(&r.currency)
    .bind(xml)
    .bind(&r.pain001_sha256)
    .bind(table)
    .bind(&r.csv_sha256)
    .bind(&r.created_by)
    .bind(r.created_at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

async fn add_items(c: &mut impl Exec, batch: Uuid, due: &[Refund]) -> Result<(), Error> {
    match c.exec() {
        Either::Postgres(c) => {
            let ids: Vec<Uuid> = due.iter().map(|r| r.id).collect();
            let payments: Vec<Uuid> = due.iter().map(|r| r.payment_id).collect();
            let amounts: Vec<i64> = due.iter().map(|r| r.amount_para).collect();
            let e2e: Vec<String> = due.iter().map(|r| end_to_end_id(r.id)).collect();
            sqlx::query(
                "INSERT INTO refund_batch_items (refund_id, batch_id, payment_id, amount_para, \
                 end_to_end_id) SELECT v.id, $1, v.payment, v.amount, v.e2e \
                 FROM UNNEST($2::uuid[], $3::uuid[], $4::bigint[], $5::text[]) \
                 AS v (id, payment, amount, e2e)",
            )
            .bind(batch)
            .bind(&ids)
            .bind(&payments)
            .bind(&amounts)
            .bind(&e2e)
            .execute(&mut *c)
            .await?;
        }
        Either::Sqlite(c) => {
            let rows = json!(
                due.iter()
                    .map(|r| json!([
                        hex::encode(r.id.as_bytes()),
                        hex::encode(r.payment_id.as_bytes()),
                        r.amount_para,
                        end_to_end_id(r.id)
                    ]))
                    .collect::<Vec<_>>()
            )
            .to_string();
            sqlx::query(
                "INSERT INTO refund_batch_items (refund_id, batch_id, payment_id, amount_para, \
                 end_to_end_id) SELECT unhex(j.value ->> 0), $1, unhex(j.value ->> 1), \
                 j.value ->> 2, j.value ->> 3 FROM json_each($2) AS j",
            )
            .bind(batch)
            .bind(&rows)
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

/// Refund batches, newest first (of one business day, by part, when `date` is given).
pub async fn list(
    app: &App,
    date: Option<NaiveDate>,
    limit: i64,
) -> Result<Vec<RefundBatchRow>, Error> {
    let mut conn = app.db.conn().await?;
    let c = &mut conn;
    Ok(match date {
        Some(d) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM refund_batches WHERE business_date = $1 \
                 ORDER BY part LIMIT $2"
            );
            let d = d.to_string();
            db_run!(c, |c| sqlx::query_as::<_, RefundBatchRow>(&sql)
                .bind(&d)
                .bind(limit)
                .fetch_all(&mut *c)
                .await)?
        }
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM refund_batches ORDER BY created_at DESC, message_id LIMIT $1"
            );
            db_run!(c, |c| sqlx::query_as::<_, RefundBatchRow>(&sql)
                .bind(limit)
                .fetch_all(&mut *c)
                .await)?
        }
    })
}

/// A refund batch's exported file, exactly as exported: checked against the SHA-256
/// recorded when it was made (404 for an unknown batch).
pub async fn file(app: &App, id: Uuid, which: File) -> Result<(RefundBatchRow, Vec<u8>), Error> {
    let mut conn = app.db.conn().await?;
    let c = &mut conn;
    let sql = format!("SELECT {COLUMNS} FROM refund_batches WHERE id = $1");
    let row = db_run!(c, |c| sqlx::query_as::<_, RefundBatchRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?
    .ok_or(Error::NotFound)?;
    let sql = match which {
        File::Pain001 => "SELECT pain001, pain001_sha256 FROM refund_batches WHERE id = $1",
        File::Csv => "SELECT csv, csv_sha256 FROM refund_batches WHERE id = $1",
    };
    let (bytes, recorded) = db_run!(c, |c| sqlx::query_as::<_, (Vec<u8>, String)>(sql)
        .bind(id)
        .fetch_one(&mut *c)
        .await)?;
    if hex::encode(Sha256::digest(&bytes)) != recorded {
        tracing::error!(batch = %id, file = ?which, "a stored refund batch file does not match its SHA-256");
        return Err(internal(format!(
            "the stored file of refund batch {id} does not match its SHA-256"
        )));
    }
    Ok((row, bytes))
}

/// The refunds of a batch (ids), in the order of their end-to-end ids.
pub async fn refunds_of(app: &App, batch: Uuid) -> Result<Vec<Uuid>, Error> {
    let mut conn = app.db.conn().await?;
    let c = &mut conn;
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, Uuid>(
        "SELECT refund_id FROM refund_batch_items WHERE batch_id = $1 ORDER BY end_to_end_id"
    )
    .bind(batch)
    .fetch_all(&mut *c)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_message_ids_fit_35_characters() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        assert_eq!(message_id(d, 1), "EPRF-20261125-1");
        assert!(message_id(d, domain::MAX_PARTS).chars().count() <= 35);
        let id = Uuid::parse_str("0190b5e4-7d1c-7abc-8def-0123456789ab").expect("uuid");
        assert_eq!(end_to_end_id(id), "RF0190b5e47d1c7abc8def0123456789ab");
        assert_eq!(end_to_end_id(id).len(), 34);
    }

    #[test]
    fn creditor_names_are_one_line_of_at_most_140_characters() {
        let table = [
            ("Петар Петровић", "Петар Петровић"),
            ("Петар Петровић\nБулевар 73", "Петар Петровић, Булевар 73"),
            ("  \n ", "Uplatilac"),
            ("", "Uplatilac"),
        ];
        for (given, want) in table {
            assert_eq!(creditor_name(given), want, "{given:?}");
        }
        assert_eq!(creditor_name(&"a".repeat(300)).chars().count(), 140);
    }
}
