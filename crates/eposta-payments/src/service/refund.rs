//! Refunds, full or partial, through the card acquirer. The refund is written `pending`
//! first, in a transaction that checks what is left, so two refunds at once can never pay
//! back more than was charged; then the acquirer is asked; then the refund is settled and
//! the payment moves to `partially_refunded` or `refunded`.

use eposta_kernel::audit::Actor;
use eposta_kernel::ids::new_id;
use eposta_kernel::{App, Error};

use super::{Cause, Step, apply};
use crate::domain::Method;
use crate::model::{Payment, Refund};
use crate::provider::{self, RefundRequest, RefundState};
use crate::store::{self, refunds};

/// What [`refund`] did.
#[derive(Debug, Clone)]
pub struct Refunded {
    pub refund: Refund,
    pub payment: Payment,
}

/// Pays back `amount_para` of a payment (all that is left when `None`). When
/// `expected_available` is given and differs from what is left, nothing happens (409): the
/// caller's view was out of date, as GOV.UK Pay's `refund_amount_available` guards.
///
/// Only card payments are refunded here; IPS and cash payments are paid back by transfer or
/// at a counter (409 says so). A payment already remitted to its payee is not refunded
/// (409): the money has left the collection account.
pub async fn refund(
    app: &App,
    actor: &Actor,
    payment: &Payment,
    amount_para: Option<i64>,
    expected_available: Option<i64>,
) -> Result<Refunded, Error> {
    if payment.method != Method::Card {
        return Err(Error::conflict(
            "only card payments are refunded here; IPS and cash payments are paid back by transfer or at a counter",
        ));
    }
    if !payment.state.is_paid() {
        return Err(Error::conflict(format!(
            "a {} payment cannot be refunded",
            payment.state
        )));
    }
    let (Some(name), Some(provider_ref)) =
        (payment.provider.as_deref(), payment.provider_ref.as_deref())
    else {
        return Err(Error::conflict("the payment has no acquirer to refund it"));
    };
    let acquirer = provider::by_name(app, name).ok_or(Error::Unavailable)?;
    let now = app.now();
    let refund = {
        let mut tx = app.db.begin().await?;
        // Serialises refunds of one payment on PostgreSQL; SQLite has one writer anyway.
        store::lock_payment(&mut tx, payment.id).await?;
        // Once remitted, the money is the payee's: paying it back from the collection account
        // would pay it twice. The payee settles such a refund with the payer.
        if store::remitted_in(&mut tx, payment.id).await?.is_some() {
            return Err(Error::conflict(
                "the payment has been remitted to the payee; a refund now is settled between the payee and the payer",
            ));
        }
        let committed = refunds::committed_para(&mut tx, payment.id).await?;
        let available = payment.total_para() - committed;
        if let Some(expected) = expected_available
            && expected != available
        {
            return Err(Error::conflict(format!(
                "refund_amount_available is {available} para, not {expected}"
            )));
        }
        let amount = amount_para.unwrap_or(available);
        if amount <= 0 {
            return Err(if available <= 0 {
                Error::conflict("nothing is left to refund")
            } else {
                Error::invalid("amount", "must be more than zero")
            });
        }
        if amount > available {
            return Err(Error::invalid(
                "amount",
                format!("must be at most {available} para, what is left to refund"),
            ));
        }
        let refund = Refund {
            id: new_id(),
            payment_id: payment.id,
            amount_para: amount,
            state: "pending".into(),
            provider_ref: None,
            requested_by: actor.to_string(),
            created_at: now,
            updated_at: now,
        };
        refunds::insert(&mut tx, &refund).await?;
        tx.commit().await?;
        refund
    };
    let outcome = acquirer
        .refund(
            app,
            RefundRequest {
                provider_ref,
                refund_id: refund.id,
                amount_para: refund.amount_para,
            },
        )
        .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            fail(app, &refund).await?;
            return Err(e.into());
        }
    };
    match outcome.state {
        RefundState::Succeeded => {
            let step = Step::Refund {
                refund_id: refund.id,
                amount_para: refund.amount_para,
                provider_ref: Some(&outcome.provider_ref),
            };
            let payment = apply(app, payment.id, step, &Cause::actor(actor.clone()))
                .await?
                .into_payment();
            let refund = Refund {
                state: "succeeded".into(),
                provider_ref: Some(outcome.provider_ref),
                updated_at: app.now(),
                ..refund
            };
            Ok(Refunded { refund, payment })
        }
        RefundState::Pending => {
            let mut tx = app.db.begin().await?;
            refunds::set_provider_ref(&mut tx, refund.id, &outcome.provider_ref).await?;
            tx.commit().await?;
            Ok(Refunded {
                refund: Refund {
                    provider_ref: Some(outcome.provider_ref),
                    ..refund
                },
                payment: payment.clone(),
            })
        }
        RefundState::Failed { reason } => {
            fail(app, &refund).await?;
            Err(Error::conflict(format!(
                "the acquirer refused the refund: {reason}"
            )))
        }
    }
}

async fn fail(app: &App, refund: &Refund) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    refunds::settle(&mut tx, refund.id, "failed", None, app.now()).await?;
    tx.commit().await
}
