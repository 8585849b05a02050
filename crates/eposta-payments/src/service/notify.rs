//! What the acquirer says about card payments: its signed asynchronous notifications
//! ([`receive`]) and its answers to status queries ([`refresh`]). These, and nothing the
//! browser brings back from the acquirer's page, change a card payment's state.

use axum::http::HeaderMap;
use eposta_kernel::{App, Error};

use super::{Applied, Cause, Step, apply, late};
use crate::domain::{Event, Method, State};
use crate::model::Payment;
use crate::provider::{self, NotificationKind, ProviderStatus};
use crate::store::{self, refunds};

/// What a notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// The payment's state changed.
    Applied,
    /// It had already happened (a repeat, or the status query came first).
    Unchanged,
    /// Nothing to do: an unknown payment, or a state that no longer allows it (logged).
    Ignored(&'static str),
}

/// The event a status or notification stands for.
fn event_of(status: &ProviderStatus) -> Option<Event> {
    match status {
        ProviderStatus::Open => None,
        ProviderStatus::Succeeded => Some(Event::Succeed),
        ProviderStatus::Declined { .. } => Some(Event::Fail),
        ProviderStatus::Cancelled => Some(Event::Cancel),
    }
}

/// Takes a notification from the acquirer named `provider`: verifies its signature (an
/// unsigned or forged one is `Unauthenticated`, 401), finds the payment and applies what it
/// says. Repeats and notifications about payments that have moved on are answered without
/// error, so the acquirer stops resending them; only failures worth a retry are errors.
pub async fn receive(
    app: &App,
    provider: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received, Error> {
    let acquirer = provider::by_name(app, provider).ok_or(Error::NotFound)?;
    let n = acquirer.verify_notification(app, headers, body)?;
    let name = acquirer.name();
    let row = {
        let mut conn = app.db.conn().await?;
        store::by_provider_ref(&mut conn, name, &n.provider_ref).await?
    };
    let Some(row) = row else {
        tracing::warn!(provider = name, notification = %n.id, "notification about a payment ePošta does not know");
        return Ok(Received::Ignored("unknown payment"));
    };
    let payment = Payment::try_from(row)?;
    let cause = Cause::provider(name);
    let step = match &n.kind {
        NotificationKind::Succeeded => Step::Event(Event::Succeed),
        NotificationKind::Declined { .. } => Step::Event(Event::Fail),
        NotificationKind::Cancelled => Step::Event(Event::Cancel),
        NotificationKind::RefundSucceeded { refund_ref } => {
            return refund_settled(app, &payment, refund_ref, true, &cause).await;
        }
        NotificationKind::RefundFailed { refund_ref, .. } => {
            return refund_settled(app, &payment, refund_ref, false, &cause).await;
        }
    };
    if let Some(amount) = n.amount_para
        && amount != payment.total_para()
    {
        tracing::error!(payment = %payment.id, notification = %n.id, "the acquirer's amount differs from the payment's total; not applied");
        return Ok(Received::Ignored("amount differs"));
    }
    match apply(app, payment.id, step, &cause).await {
        Ok(Applied::Changed(_)) => Ok(Received::Applied),
        Ok(Applied::Unchanged(_)) => Ok(Received::Unchanged),
        Err(Error::Conflict(why)) => {
            if matches!(n.kind, NotificationKind::Succeeded) {
                let now = super::get(app, payment.id).await?;
                if !matches!(
                    now.state,
                    State::Created | State::Expired | State::Cancelled | State::Failed
                ) {
                    // Paid, and refunded since in part or in full: a repeat of the
                    // notification that paid it, not money taken a second time.
                    return Ok(Received::Unchanged);
                }
                // Money was taken for a payment that never became paid here (expired or
                // cancelled while the card holder paid): it goes back at once.
                let amount = n.amount_para.unwrap_or_else(|| now.total_para());
                late::record(app, &now, name, &n.provider_ref, amount).await?;
                return Ok(Received::Ignored(
                    "no longer pending: the money is refunded",
                ));
            } else {
                tracing::warn!(payment = %payment.id, notification = %n.id, reason = %why, "notification not applied");
            }
            Ok(Received::Ignored("state does not allow it"))
        }
        Err(e) => Err(e),
    }
}

async fn refund_settled(
    app: &App,
    payment: &Payment,
    refund_ref: &str,
    succeeded: bool,
    cause: &Cause,
) -> Result<Received, Error> {
    let refund = {
        let mut conn = app.db.conn().await?;
        refunds::by_provider_ref(&mut conn, payment.id, refund_ref).await?
    };
    let Some(refund) = refund else {
        return Ok(
            match late::refund_settled(app, payment.id, refund_ref, succeeded).await? {
                Some(true) => Received::Applied,
                Some(false) => Received::Unchanged,
                None => Received::Ignored("unknown refund"),
            },
        );
    };
    if !succeeded {
        let mut tx = app.db.begin().await?;
        let changed = refunds::settle(&mut tx, refund.id, "failed", None, app.now()).await?;
        tx.commit().await?;
        return Ok(if changed {
            Received::Applied
        } else {
            Received::Unchanged
        });
    }
    let step = Step::Refund {
        refund_id: refund.id,
        amount_para: refund.amount_para,
        provider_ref: None,
    };
    Ok(match apply(app, payment.id, step, cause).await? {
        Applied::Changed(_) => Received::Applied,
        Applied::Unchanged(_) => Received::Unchanged,
    })
}

/// Asks the acquirer where a pending card payment stands and applies its answer; what the
/// return page and `GET /api/v1/payments/{id}` do, since the browser's return proves
/// nothing. Any other payment, or an acquirer that cannot be reached, leaves the payment as
/// it is (logged).
pub async fn refresh(app: &App, p: Payment) -> Result<Payment, Error> {
    if p.method != Method::Card || p.state != State::Pending {
        return Ok(p);
    }
    let (Some(name), Some(reference)) = (p.provider.as_deref(), p.provider_ref.as_deref()) else {
        return Ok(p);
    };
    let Some(acquirer) = provider::by_name(app, name) else {
        return Ok(p);
    };
    let status = match acquirer.status(app, reference).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(payment = %p.id, error = %e, "cannot ask the acquirer about a payment");
            return Ok(p);
        }
    };
    let Some(event) = event_of(&status) else {
        return Ok(p);
    };
    match apply(
        app,
        p.id,
        Step::Event(event),
        &Cause::provider(acquirer.name()),
    )
    .await
    {
        Ok(applied) => Ok(applied.into_payment()),
        Err(Error::Conflict(_)) => super::get(app, p.id).await,
        Err(e) => Err(e),
    }
}
