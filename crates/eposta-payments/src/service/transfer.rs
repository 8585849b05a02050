//! IPS payments completed by the transfer that a bank statement shows: reconciliation calls
//! [`complete_by_transfer`] for each credit to the collection account.

use eposta_formats::reference::Reference;
use eposta_kernel::audit::Actor;
use eposta_kernel::{App, Error, db_run};
use uuid::Uuid;

use super::{Applied, Cause, Step, apply};
use crate::domain::{Method, State};
use crate::model::Payment;
use crate::store;

/// Longest bank reference kept (ISO 20022 references are at most 35 characters).
pub const MAX_BANK_REF: usize = 35;

/// Why a credit did not complete a payment; reconciliation reports these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotMatched {
    /// No IPS payment has this reference (or it is not a reference at all).
    UnknownReference,
    /// The payment's total is not the amount credited; it stays pending.
    AmountMismatch { payment: Uuid, expected_para: i64 },
    /// The payment is not waiting for a transfer (expired, cancelled, or completed by
    /// another transfer): the money must go back or be looked at by a person.
    NotPending { payment: Uuid, state: State },
    /// This bank reference completed another payment already.
    BankRefUsed { payment: Uuid },
}

/// What a credit on a statement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferMatch {
    /// The payment is now `succeeded`.
    Completed {
        payment: Uuid,
    },
    /// The same transfer (bank reference) completed it before: a statement imported twice.
    AlreadyCompleted {
        payment: Uuid,
    },
    NotMatched(NotMatched),
}

/// Completes the pending IPS payment whose collection reference is `reference`, if
/// `amount_para` is its total: idempotent (the same `bank_ref` again answers
/// [`TransferMatch::AlreadyCompleted`] and changes nothing), and never completes a payment
/// for a different amount. `reference` may be written as on a payment order (`97 12…`) or
/// as in tag RO (`9712…`); `bank_ref` is the statement's reference of the credit (stored,
/// unique). `actor` is who imported the statement (a user, or the system for the CLI).
pub async fn complete_by_transfer(
    app: &App,
    actor: &Actor,
    reference: &str,
    amount_para: i64,
    bank_ref: &str,
) -> Result<TransferMatch, Error> {
    let bank_ref = bank_ref.trim();
    if bank_ref.is_empty() || bank_ref.chars().count() > MAX_BANK_REF {
        return Err(Error::invalid(
            "bank_ref",
            "must be 1 to 35 characters (the statement's reference of the credit)",
        ));
    }
    let r = reference.trim();
    let Ok(parsed) = Reference::parse_ro(r).or_else(|_| Reference::parse(r)) else {
        return Ok(TransferMatch::NotMatched(NotMatched::UnknownReference));
    };
    let (row, used_by) = {
        let mut conn = app.db.conn().await?;
        let row = store::by_collection_reference(&mut conn, &parsed.ro()).await?;
        let used_by: Option<Uuid> = db_run!(&mut conn, |c| sqlx::query_scalar(
            "SELECT id FROM payments WHERE bank_ref = $1"
        )
        .bind(bank_ref)
        .fetch_optional(&mut *c)
        .await)?;
        (row, used_by)
    };
    let Some(row) = row else {
        return Ok(TransferMatch::NotMatched(NotMatched::UnknownReference));
    };
    let p = Payment::try_from(row)?;
    if p.method != Method::Ips {
        return Ok(TransferMatch::NotMatched(NotMatched::UnknownReference));
    }
    match used_by {
        Some(id) if id == p.id => return Ok(TransferMatch::AlreadyCompleted { payment: p.id }),
        Some(id) => {
            return Ok(TransferMatch::NotMatched(NotMatched::BankRefUsed {
                payment: id,
            }));
        }
        None => {}
    }
    if p.state != State::Pending {
        return Ok(TransferMatch::NotMatched(NotMatched::NotPending {
            payment: p.id,
            state: p.state,
        }));
    }
    if amount_para != p.total_para() {
        return Ok(TransferMatch::NotMatched(NotMatched::AmountMismatch {
            payment: p.id,
            expected_para: p.total_para(),
        }));
    }
    let applied = apply(
        app,
        p.id,
        Step::Transfer { bank_ref },
        &Cause::actor(actor.clone()),
    )
    .await;
    match applied {
        Ok(Applied::Changed(_)) => Ok(TransferMatch::Completed { payment: p.id }),
        // Completed meanwhile by a concurrent import of the same statement, or moved on.
        Ok(Applied::Unchanged(_)) | Err(Error::Conflict(_)) => {
            let now = super::get(app, p.id).await?;
            Ok(if now.bank_ref.as_deref() == Some(bank_ref) {
                TransferMatch::AlreadyCompleted { payment: p.id }
            } else {
                TransferMatch::NotMatched(NotMatched::NotPending {
                    payment: p.id,
                    state: now.state,
                })
            })
        }
        Err(e) => Err(e),
    }
}
