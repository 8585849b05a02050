//! Payment use cases: the only place with transactions and authorisation rules for
//! payments. Pages, the API, the test acquirer's notifications, reconciliation (next: the
//! `eposta reconcile` command) and the counter call these functions.
//!
//! - [`create`]: check, price and record a payment in one transaction, and hand it to its
//!   method (a card session, an IPS QR code, cash).
//! - [`apply`]: every state change, through [`crate::domain::transition`], with its row of
//!   the payment's history in the same transaction; [`audit`] chains those rows into the
//!   audit log.
//! - [`notify`]: the acquirer's signed notifications and status queries.
//! - [`refund`]: full and partial refunds: card payments through the acquirer, IPS payments
//!   by credit transfer in the day's refund batch ([`apply_in`] settles those in a batch's
//!   transaction; cash goes back at the counter).
//! - [`transfer::complete_by_transfer`]: an IPS transfer found on a bank statement.
//! - [`expiry`]: pending payments past their deadline.
//! - [`payees`]: citizens' saved payees.
//! - [`receipts`]: a paid payment's receipt (signed code and PDF).

pub mod audit;
pub mod create;
pub mod expiry;
pub mod late;
pub mod notify;
pub mod payees;
pub mod receipts;
pub mod refund;
pub mod sweeper;
pub mod transfer;

use eposta_kernel::audit::Actor;
use eposta_kernel::web::principal::{KeyHolder, SessionUser};
use eposta_kernel::{App, Error};
use serde_json::json;
use uuid::Uuid;

use crate::domain::{Event, already_happened, refund_event, transition};
use crate::model::{HistoryEntry, Payment};
use crate::store::{self, Change, ListOwner, NewEvent, refunds};

pub use create::{Created, IpsInstructions, NextAction, create, next_action};

/// The API scope that creates, reads and refunds payments.
pub const SCOPE: &str = "payments:write";

/// Who or what caused a change: the audit log's actor, and the acquirer when it was its
/// notification or status answer.
#[derive(Debug, Clone)]
pub struct Cause {
    pub actor: Actor,
    pub provider: Option<&'static str>,
}

impl Cause {
    pub fn actor(actor: Actor) -> Self {
        Self {
            actor,
            provider: None,
        }
    }

    pub fn provider(name: &'static str) -> Self {
        Self {
            actor: Actor::System,
            provider: Some(name),
        }
    }

    /// As the payment's history names it: `user:…`, `key:…`, `system`, `provider:test`.
    pub fn label(&self) -> String {
        match self.provider {
            Some(p) => format!("provider:{p}"),
            None => self.actor.to_string(),
        }
    }
}

/// What to do to a payment.
#[derive(Debug, Clone)]
pub enum Step<'a> {
    /// An event of the state machine (not a refund).
    Event(Event),
    /// IPS: the transfer with this bank reference arrived (the `succeed` event).
    Transfer { bank_ref: &'a str },
    /// A pending refund succeeded at the acquirer: settle it and count it.
    Refund {
        refund_id: Uuid,
        amount_para: i64,
        provider_ref: Option<&'a str>,
    },
}

/// What [`apply`] did.
#[derive(Debug, Clone)]
pub enum Applied {
    /// The state changed; the payment as it is now.
    Changed(Payment),
    /// The event had already happened (a repeated notification): nothing changed.
    Unchanged(Payment),
}

impl Applied {
    pub fn payment(&self) -> &Payment {
        match self {
            Applied::Changed(p) | Applied::Unchanged(p) => p,
        }
    }

    pub fn into_payment(self) -> Payment {
        match self {
            Applied::Changed(p) | Applied::Unchanged(p) => p,
        }
    }
}

/// Reads a payment, whoever it belongs to (for other capabilities: reconciliation,
/// remittance, receipts). Pages and the API use the owner-checked readers below.
pub async fn get(app: &App, id: Uuid) -> Result<Payment, Error> {
    let mut conn = app.db.conn().await?;
    store::by_id(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?
        .try_into()
}

/// One of the citizen's own payments; another's is "not found", as if it did not exist.
pub async fn for_citizen(app: &App, user: &SessionUser, id: Uuid) -> Result<Payment, Error> {
    let p = get(app, id).await?;
    if p.owner != (crate::domain::Owner::Citizen { user: user.id }) {
        return Err(Error::NotFound);
    }
    Ok(p)
}

/// One of the organisation's own payments; another's is "not found".
pub async fn for_organisation(app: &App, key: &KeyHolder, id: Uuid) -> Result<Payment, Error> {
    let p = get(app, id).await?;
    if p.organisation() != Some(key.organisation_id) {
        return Err(Error::NotFound);
    }
    Ok(p)
}

/// A page of the citizen's payments, newest first, and whether more follow.
pub async fn list_for_citizen(
    app: &App,
    user: &SessionUser,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Payment>, bool), Error> {
    let mut conn = app.db.conn().await?;
    let mut rows = store::list(&mut conn, ListOwner::User(user.id), limit + 1, offset).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let rows = rows
        .into_iter()
        .filter(|r| r.owner_kind == "citizen")
        .map(Payment::try_from)
        .collect::<Result<_, _>>()?;
    Ok((rows, more))
}

/// A payment's history, oldest first.
pub async fn history(app: &App, id: Uuid) -> Result<Vec<HistoryEntry>, Error> {
    let mut conn = app.db.conn().await?;
    store::history(&mut conn, id).await
}

/// The refunds of a payment, oldest first.
pub async fn refunds_of(app: &App, id: Uuid) -> Result<Vec<crate::model::Refund>, Error> {
    let mut conn = app.db.conn().await?;
    refunds::of_payment(&mut conn, id).await
}

/// How many times a change is tried when a concurrent change got there first.
const ATTEMPTS: usize = 5;

/// Applies one step to a payment: the transition function decides the new state; the
/// change and its history row are written in one transaction (the row reaches the audit
/// log through [`audit::flush`]); a concurrent
/// change makes it read the payment again and decide again. An event that has already
/// happened changes nothing ([`Applied::Unchanged`]); one the state does not allow is a
/// conflict (409) naming both.
pub async fn apply(app: &App, id: Uuid, step: Step<'_>, cause: &Cause) -> Result<Applied, Error> {
    for _ in 0..ATTEMPTS {
        let mut tx = app.db.begin().await?;
        let Some(applied) = apply_in(&mut tx, app.now(), id, &step, cause).await? else {
            continue;
        };
        tx.commit().await?;
        if let Applied::Changed(after) = &applied {
            tracing::info!(payment = %id, to = %after.state, by = %cause.label(), "payment state changed");
        }
        return Ok(applied);
    }
    Err(Error::conflict("the payment is changing; try again"))
}

/// [`apply`] inside the caller's transaction, once: `None` when a concurrent change got
/// there first (nothing was written; the caller may try again in a new transaction). For
/// changes that must commit with other writes (a refund paid out at the counter, a refund
/// batch); the caller commits, and holds the payment's row ([`store::lock_payment`]) so
/// that `None` does not happen.
pub async fn apply_in(
    tx: &mut eposta_kernel::db::Tx,
    now: chrono::DateTime<chrono::Utc>,
    id: Uuid,
    step: &Step<'_>,
    cause: &Cause,
) -> Result<Option<Applied>, Error> {
    let current: Payment = store::by_id(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?
        .try_into()?;
    let (event, change) = match step {
        Step::Event(e) => (
            *e,
            Change {
                completes: matches!(
                    e,
                    Event::Succeed | Event::Fail | Event::Cancel | Event::Expire
                ),
                ..Change::default()
            },
        ),
        Step::Transfer { bank_ref } => (
            Event::Succeed,
            Change {
                completes: true,
                bank_ref: Some(bank_ref),
                ..Change::default()
            },
        ),
        Step::Refund { amount_para, .. } => {
            let event = refund_event(current.total_para(), current.refunded_para, *amount_para)
                .ok_or_else(|| Error::conflict("the refund is more than what is left"))?;
            (
                event,
                Change {
                    refunded_para: *amount_para,
                    ..Change::default()
                },
            )
        }
    };
    if already_happened(current.state, event) {
        return Ok(Some(Applied::Unchanged(current)));
    }
    let next = transition(current.state, event)
        .map_err(|e| Error::conflict(format!("payment {id}: {e}")))?;
    if let Step::Refund {
        refund_id,
        provider_ref,
        ..
    } = step
        && !refunds::settle(&mut *tx, *refund_id, "succeeded", *provider_ref, now).await?
    {
        // Settled by a concurrent notification: counted there.
        return Ok(Some(Applied::Unchanged(current)));
    }
    if !store::set_state(&mut *tx, id, current.state, next, now, &change).await? {
        return Ok(None);
    }
    let label = cause.label();
    let detail = json!({
        "method": current.method.as_str(),
        "amount_para": current.amount_para,
        "refunded_para": change.refunded_para,
    });
    store::append_events(
        &mut *tx,
        &[NewEvent {
            payment_id: id,
            event: event.as_str(),
            from_state: Some(current.state),
            to_state: next,
            actor: &label,
            detail: detail.to_string(),
            at: now,
        }],
    )
    .await?;
    let mut after = current;
    after.state = next;
    after.updated_at = now;
    if change.completes {
        after.completed_at = Some(now);
    }
    if let Some(b) = change.bank_ref {
        after.bank_ref = Some(b.to_owned());
    }
    after.refunded_para += change.refunded_para;
    Ok(Some(Applied::Changed(after)))
}
