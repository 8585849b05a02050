//! Remittance (issue #5): every day the paid payments are passed on to their payees, grouped
//! per payee account into batches, each exported as a pain.001.001.03 credit-transfer file
//! for the bank (debiting ePošta's collection account) and the same batch as CSV.
//! docs/payments-reconciliation.md describes it.
//!
//! - A run covers a business day in Europe/Belgrade that is over: every payment completed
//!   before its end that is in no batch yet (so a day missed is caught up by the next run),
//!   succeeded or refunded in part with something left for the payee, and without a refund
//!   under way. What a payment sends is its amount less its refunds ([`domain::remit_para`]).
//! - One batch per payee account, in parts of at most [`domain::MAX_TRANSFERS`] transfers;
//!   one transfer per payment, its confirmation number as end-to-end id.
//! - A batch is exported when it is made, in the transaction that puts its payments in it:
//!   the files' bytes and SHA-256 are stored, database triggers refuse any change or deletion
//!   of a batch or its items, a payment is in at most one batch (primary key), and a
//!   download is checked against the stored hash.
//! - The same run first makes the day's refund batches ([`refunds`]): IPS refunds paid back
//!   by credit transfer to the payers, each refund `succeeded` once its batch is exported.
//! - The daily job ([`RemitDay`], enqueued once per day by [`schedule`]) and `eposta
//!   remittance run [--date D]` both call [`run`]; runs are serialised, and a second run of a
//!   day finds nothing left to do.

pub mod domain;
pub mod pages;
pub mod refunds;
pub mod settle;
pub mod settle_store;
pub mod status;
pub mod store;

use std::time::Duration as StdDuration;

use chrono::{Days, NaiveDate};
use eposta_formats::iso20022::{csv, pain001};
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::jobs::{self, Job};
use eposta_kernel::{App, Error};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use refunds::RefundBatchRow;
pub use store::{BatchRow, File};

use crate::model::Payment;
use crate::settings;

/// What a run made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub date: NaiveDate,
    /// The batches made, by payee account and part.
    pub batches: Vec<BatchRow>,
    /// The refund batches made (IPS refunds paid back by transfer), by part.
    pub refund_batches: Vec<RefundBatchRow>,
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("remittance: {e}"))
}

/// Remits the payments of business day `date` (and of the days before it that are left):
/// see the module's notes. `actor` is who asked (the system for the daily job).
pub async fn run(app: &App, actor: &Actor, date: NaiveDate) -> Result<Run, Error> {
    let now = app.now();
    if !domain::day_is_over(date, now) {
        return Err(Error::invalid(
            "date",
            "the day is not over yet in Belgrade; remittance takes the payments of days that have ended",
        ));
    }
    let cutoff = domain::end_of_day(date).ok_or_else(|| Error::invalid("date", "out of range"))?;
    let collection = settings::collection(&app.config)?;
    let day = date.to_string();
    let next_day = date
        .checked_add_days(Days::new(1))
        .ok_or_else(|| Error::invalid("date", "out of range"))?;
    let execution = domain::belgrade_date(now).max(next_day);
    // Refunds first: a payment waits for its refund under way, and once the refund is
    // exported the rest of the payment goes to its payee in this same run.
    let refund_batches = refunds::run(
        app,
        actor,
        &refunds::Day {
            date,
            cutoff,
            execution,
            collection: &collection,
            now,
        },
    )
    .await?;
    let payees = {
        let mut conn = app.db.conn().await?;
        let mut p = store::payees_due(&mut conn, cutoff).await?;
        // Payees of rejected transfers, which go out again (settle.rs).
        p.extend(settle_store::retry_payees(&mut conn, cutoff).await?);
        p.sort();
        p.dedup();
        p
    };
    let mut batches = Vec::new();
    for account in payees {
        loop {
            let mut tx = app.db.begin().await?;
            store::lock_runs(&mut tx).await?;
            let limit = i64::try_from(domain::MAX_TRANSFERS).unwrap_or(i64::MAX);
            let mut rows = store::due_for(&mut tx, &account, cutoff, limit).await?;
            let room = limit - i64::try_from(rows.len()).unwrap_or(i64::MAX);
            let retried = settle_store::retries_due_for(&mut tx, &account, cutoff, room).await?;
            let retries: std::collections::HashSet<Uuid> = retried.iter().map(|r| r.id).collect();
            rows.extend(retried);
            let full = rows.len() == domain::MAX_TRANSFERS;
            if rows.is_empty() {
                break;
            }
            let part = store::last_part(&mut tx, &day, &account).await? + 1;
            if part > domain::MAX_PARTS {
                return Err(internal(format!(
                    "more than {} batches for one payee on {day}",
                    domain::MAX_PARTS
                )));
            }
            let payments = rows
                .into_iter()
                .map(Payment::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            let payee_name = payments
                .first()
                .map(|p| p.payee.name.clone())
                .unwrap_or_default();
            let mut items = Vec::with_capacity(payments.len());
            let mut transfers = Vec::with_capacity(payments.len());
            for p in &payments {
                if let Some(t) = domain::transfer_of(p) {
                    items.push(store::Item {
                        payment: p.id,
                        amount_para: t.para,
                        end_to_end_id: t.end_to_end_id.clone(),
                    });
                    transfers.push(t);
                }
            }
            if transfers.is_empty() {
                break;
            }
            let payee = payments
                .first()
                .map(|p| p.payee_account)
                .ok_or_else(|| internal("a batch without payments"))?;
            let message_id = domain::message_id(date, &payee, part);
            let batch = domain::batch(&collection, &message_id, now, execution, transfers)
                .ok_or_else(|| internal("the execution date is out of range"))?;
            let (count, total) = batch.check().map_err(internal)?;
            let xml = pain001::write(&batch, Vec::new()).map_err(internal)?;
            let table = csv::write_batch(&batch, Vec::new()).map_err(internal)?;
            let row = BatchRow {
                id: eposta_kernel::ids::new_id(),
                business_date: day.clone(),
                payee_account: account.clone(),
                part,
                payee_name,
                message_id,
                execution_date: execution.to_string(),
                transfers: i64::try_from(count).unwrap_or(i64::MAX),
                total_para: total,
                currency: "RSD".into(),
                pain001_sha256: hex::encode(Sha256::digest(&xml)),
                csv_sha256: hex::encode(Sha256::digest(&table)),
                created_by: actor.to_string(),
                created_at: now,
            };
            store::insert_batch(
                &mut tx,
                &store::NewBatch {
                    row: &row,
                    pain001: &xml,
                    csv: &table,
                },
            )
            .await?;
            let (again, first): (Vec<_>, Vec<_>) = items
                .into_iter()
                .partition(|i| retries.contains(&i.payment));
            store::add_items(&mut tx, row.id, &first).await?;
            settle_store::mark_retried(&mut tx, row.id, &again).await?;
            audit::append(
                &mut tx,
                now,
                audit::Entry {
                    actor,
                    action: "payments.remittance.batch",
                    subject: &format!("remittance_batch:{}", row.id),
                    office_id: None,
                    details: json!({
                        "business_date": row.business_date,
                        "part": row.part,
                        "transfers": row.transfers,
                        "total_para": row.total_para,
                        "pain001_sha256": row.pain001_sha256,
                        "csv_sha256": row.csv_sha256,
                        "retried": again.len(),
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
                "remittance batch exported"
            );
            batches.push(row);
            if !full {
                break;
            }
        }
    }
    Ok(Run {
        date,
        batches,
        refund_batches,
    })
}

/// Batches, newest first (of one business day, by payee, when `date` is given).
pub async fn list(app: &App, date: Option<NaiveDate>, limit: i64) -> Result<Vec<BatchRow>, Error> {
    let mut conn = app.db.conn().await?;
    let day = date.map(|d| d.to_string());
    store::list(&mut conn, day.as_deref(), limit).await
}

/// A batch (404 when unknown).
pub async fn get(app: &App, id: Uuid) -> Result<BatchRow, Error> {
    let mut conn = app.db.conn().await?;
    store::by_id(&mut conn, id).await?.ok_or(Error::NotFound)
}

/// A batch's exported file, exactly as exported: checked against the SHA-256 recorded when
/// it was made, so that bytes changed behind the triggers' back are never handed out.
pub async fn file(app: &App, id: Uuid, which: File) -> Result<(BatchRow, Vec<u8>), Error> {
    let mut conn = app.db.conn().await?;
    let row = store::by_id(&mut conn, id).await?.ok_or(Error::NotFound)?;
    let (bytes, recorded) = store::file(&mut conn, id, which)
        .await?
        .ok_or(Error::NotFound)?;
    if hex::encode(Sha256::digest(&bytes)) != recorded {
        tracing::error!(batch = %id, file = ?which, "a stored remittance file does not match its SHA-256");
        return Err(internal(format!(
            "the stored file of batch {id} does not match its SHA-256"
        )));
    }
    Ok((row, bytes))
}

/// The current settlement status of batches (pain.002 code or `settled`), of those that
/// have one.
pub async fn statuses(app: &App, batches: &[Uuid]) -> Result<Vec<(Uuid, String)>, Error> {
    let mut conn = app.db.conn().await?;
    settle_store::batch_statuses(&mut conn, batches).await
}

/// A batch's status history, oldest first.
pub async fn history(app: &App, batch: Uuid) -> Result<Vec<settle_store::HistoryRow>, Error> {
    let mut conn = app.db.conn().await?;
    settle_store::history_of(&mut conn, batch).await
}

/// The payments of a batch, in the order of its transfers' end-to-end ids.
pub async fn payments_of(app: &App, id: Uuid) -> Result<Vec<Uuid>, Error> {
    let mut conn = app.db.conn().await?;
    store::payments_of(&mut conn, id).await
}

/// The daily job: remits a business day.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemitDay {
    pub date: NaiveDate,
}

impl Job for RemitDay {
    const KIND: &'static str = "payments.remittance.day";

    async fn run(self, app: App) -> anyhow::Result<()> {
        let r = run(&app, &Actor::System, self.date).await?;
        tracing::info!(
            business_date = %r.date,
            batches = r.batches.len(),
            refund_batches = r.refund_batches.len(),
            "remittance run"
        );
        Ok(())
    }
}

/// How often a process looks whether yesterday's remittance is enqueued.
pub const INTERVAL: StdDuration = StdDuration::from_secs(600);

/// Enqueues the remittance of yesterday (Europe/Belgrade) unless a process did already;
/// the day enqueued, if this call did it. Schedules only enqueue: the job does the work.
pub async fn schedule(app: &App) -> Result<Option<NaiveDate>, Error> {
    let now = app.now();
    let Some(day) = domain::belgrade_date(now).pred_opt() else {
        return Ok(None);
    };
    let mut tx = app.db.begin().await?;
    if !store::claim_day(&mut tx, &day.to_string(), now).await? {
        return Ok(None);
    }
    jobs::enqueue(&mut tx, now, &RemitDay { date: day }).await?;
    tx.commit().await?;
    Ok(Some(day))
}

/// Calls [`schedule`] now and every [`INTERVAL`] until `shutdown` turns true (started by
/// every process that runs workers, beside the kernel's housekeeping).
pub async fn every_interval(app: App, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        match schedule(&app).await {
            Ok(Some(day)) => tracing::info!(business_date = %day, "remittance enqueued"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "scheduling remittance failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(INTERVAL) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
}
