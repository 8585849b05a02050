//! The statement's debits that pay out remittance batches: a booked dinar debit of the
//! collection account is a transfer of a batch when its end-to-end id is the transfer's
//! (the payment's confirmation number, which the bank reports back) and its amount the
//! transfer's; or a whole batch booked as one entry when its entry reference or bank
//! reference is the batch's message id and its amount the batch's total (less the transfers
//! the bank rejected). Either settles them (status `settled`, beside the immutable batch);
//! they count as [`Outcome::RemittanceDebit`], other debits as [`Outcome::Debit`].
//!
//! Called from `apply_batch` for the debits of each batch of lines only: one lookup query per
//! batch (none when its debits carry no reference), and writes only for what matched.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use eposta_formats::iso20022::Currency;
use eposta_kernel::Error;
use eposta_kernel::db::Tx;
use uuid::Uuid;

use super::parse::Line;
use super::{Outcome, Tally};
use crate::remittance::settle_store::{self as db, DebitMatch, StatusChange};
use crate::remittance::status::{Change, Settlement, next};

const SETTLED: Settlement = Settlement::Settled;

/// Settles what `debits` (booked debits of one batch of lines) pay out, and counts them.
pub(super) async fn settle(
    tx: &mut Tx,
    import: Uuid,
    now: DateTime<Utc>,
    debits: &[&Line],
    tally: &mut Tally,
) -> Result<(), Error> {
    let candidates: Vec<&Line> = debits
        .iter()
        .copied()
        .filter(|l| l.currency == Currency::RSD && l.debit.is_some())
        .collect();
    let mut keys: Vec<&str> = candidates
        .iter()
        .filter_map(|l| l.debit.as_deref())
        .flat_map(|d| {
            d.end_to_end_id
                .as_deref()
                .into_iter()
                .chain(d.references.iter().map(String::as_str))
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let found = if keys.is_empty() {
        Vec::new()
    } else {
        db::debit_matches(tx, &keys).await?
    };
    if found.is_empty() {
        for l in debits {
            tally.add(Outcome::Debit, l.para);
        }
        return Ok(());
    }
    let mut transfers: HashMap<&str, Vec<&DebitMatch>> = HashMap::new();
    let mut batches: HashMap<&str, &DebitMatch> = HashMap::new();
    for m in &found {
        if m.kind == "b" {
            batches.insert(m.key.as_str(), m);
        } else {
            transfers.entry(m.key.as_str()).or_default().push(m);
        }
    }
    let status = |m: &DebitMatch| m.status.as_deref().and_then(Settlement::parse);
    let mut changes: Vec<StatusChange> = Vec::new();
    let mut settled: HashSet<(Uuid, Option<Uuid>)> = HashSet::new();
    let mut touched: Vec<Uuid> = Vec::new();
    let mut whole: Vec<Uuid> = Vec::new();
    let change = |batch: Uuid, payment: Option<Uuid>| StatusChange {
        batch,
        payment,
        status: SETTLED.as_str(),
        reason_code: None,
        reason_info: None,
        report: None,
        statement_import: Some(import),
    };
    for l in debits {
        let refs = l.debit.as_deref().filter(|_| l.currency == Currency::RSD);
        // A transfer: the one with this end-to-end id and amount that was not rejected (a
        // rejected transfer and its retry share the id; only the retry is paid out).
        let transfer = refs
            .and_then(|d| d.end_to_end_id.as_deref())
            .and_then(|e| transfers.get(e))
            .and_then(|ms| {
                ms.iter().find(|m| {
                    m.amount_para == l.para && !status(m).is_some_and(|s| s.is_rejected())
                })
            });
        if let (Some(m), Some(p)) = (transfer, transfer.and_then(|m| m.payment_id)) {
            if next(status(m), SETTLED) == Change::Set && settled.insert((m.batch_id, Some(p))) {
                changes.push(change(m.batch_id, Some(p)));
                touched.push(m.batch_id);
            }
            tally.add(Outcome::RemittanceDebit, l.para);
            continue;
        }
        // A batch booked as one entry.
        let batch = refs.and_then(|d| {
            d.references
                .iter()
                .filter_map(|r| batches.get(r.as_str()))
                .find(|m| m.amount_para == l.para)
        });
        if let Some(m) = batch {
            if next(status(m), SETTLED) == Change::Set && settled.insert((m.batch_id, None)) {
                changes.push(change(m.batch_id, None));
                whole.push(m.batch_id);
            }
            tally.add(Outcome::RemittanceDebit, l.para);
            continue;
        }
        tally.add(Outcome::Debit, l.para);
    }
    // A batch settled whole: its transfers that have a status of their own follow it
    // (the others have the batch's); rejected ones stay rejected.
    for b in &whole {
        for t in db::transfers_of(tx, *b).await? {
            let own = t.status.as_deref().and_then(Settlement::parse);
            if own.is_some()
                && next(own, SETTLED) == Change::Set
                && settled.insert((*b, Some(t.payment_id)))
            {
                changes.push(change(*b, Some(t.payment_id)));
            }
        }
    }
    db::record(tx, &changes, now).await?;
    // A batch all of whose transfers are now settled (or rejected) is settled.
    touched.sort_unstable();
    touched.dedup();
    touched.retain(|b| !settled.contains(&(*b, None)));
    if !touched.is_empty() {
        let done = db::fully_settled(tx, &touched).await?;
        let current: HashMap<Uuid, String> =
            db::batch_statuses(tx, &done).await?.into_iter().collect();
        let batch_changes: Vec<StatusChange> = done
            .into_iter()
            .filter(|b| {
                let s = current.get(b).and_then(|s| Settlement::parse(s));
                next(s, SETTLED) == Change::Set
            })
            .map(|b| change(b, None))
            .collect();
        db::record(tx, &batch_changes, now).await?;
    }
    Ok(())
}
