//! Refunds, full or partial, of card payments through the acquirer and of IPS payments by
//! credit transfer. The refund is written `pending` first, in a transaction that checks what
//! is left, so two refunds at once can never pay back more than was charged; then the
//! acquirer is asked (a transfer waits for the day's refund batch); then the refund is
//! settled and the payment moves to `partially_refunded` or `refunded`. Cash payments are
//! paid back at the counter (`crate::counter::refund`), with the same checks
//! ([`amount_to_refund`]).

use eposta_formats::account::AccountNumber;
use eposta_kernel::audit::Actor;
use eposta_kernel::{App, Error};

use super::{Cause, Step, apply};
use crate::domain::Method;
use crate::model::{Payment, Refund, RefundChannel};
use crate::provider::{self, RefundRequest, RefundState};
use crate::store::{self, refunds};

/// What [`refund`] did.
#[derive(Debug, Clone)]
pub struct Refunded {
    pub refund: Refund,
    pub payment: Payment,
}

/// What may still be refunded of `payment` when `committed_para` is pending or paid back
/// already, and the amount to refund: `amount_para`, or all that is left when `None`. When
/// `expected_available` is given and differs from what is left, nothing happens (409): the
/// caller's view was out of date, as GOV.UK Pay's `refund_amount_available` guards. Field
/// errors name `amount`.
pub fn amount_to_refund(
    payment: &Payment,
    committed_para: i64,
    amount_para: Option<i64>,
    expected_available: Option<i64>,
) -> Result<i64, Error> {
    let available = payment.total_para() - committed_para;
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
    Ok(amount)
}

/// The refusal of a payment that went out to its payee.
pub fn remitted() -> Error {
    // Once remitted, the money is the payee's: paying it back from the collection account
    // would pay it twice. The payee settles such a refund with the payer.
    Error::conflict(
        "the payment has been remitted to the payee; a refund now is settled between the payee and the payer",
    )
}

/// Pays back `amount_para` of a payment (all that is left when `None`); `expected_available`
/// as in [`amount_to_refund`].
///
/// - Card payments: through the acquirer, at once (or `pending` while the acquirer works).
/// - IPS payments: by a credit transfer from the collection account to the payer's account:
///   `account` when given (18 digits, the dashed form or an `RS` IBAN, checked mod 97), else the
///   account the bank statement named when the transfer came in; without either, 422 names
///   `account`. The refund is `pending` until the day's refund batch is exported
///   (`crate::remittance::refunds`).
/// - Cash payments are paid back at the counter of the office that took them (409 here:
///   `crate::counter::refund`).
///
/// A payment already remitted to its payee is not refunded (409): the money has left the
/// collection account.
pub async fn refund(
    app: &App,
    actor: &Actor,
    payment: &Payment,
    amount_para: Option<i64>,
    expected_available: Option<i64>,
    account: Option<&str>,
) -> Result<Refunded, Error> {
    match payment.method {
        Method::Card => {}
        Method::Ips => {
            return by_transfer(
                app,
                actor,
                payment,
                amount_para,
                expected_available,
                account,
            )
            .await;
        }
        Method::Cash => {
            return Err(Error::conflict(
                "a cash payment is paid back in cash at the counter of the office that took it",
            ));
        }
    }
    if account.is_some() {
        return Err(Error::invalid(
            "account",
            "a card payment is paid back to its card; leave the account out",
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
        if store::remitted_in(&mut tx, payment.id).await?.is_some() {
            return Err(remitted());
        }
        let committed = refunds::committed_para(&mut tx, payment.id).await?;
        let amount = amount_to_refund(payment, committed, amount_para, expected_available)?;
        let refund = Refund::pending(
            payment.id,
            amount,
            RefundChannel::Acquirer,
            actor.to_string(),
            now,
        );
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

/// An IPS payment's refund by credit transfer: recorded `pending` with the account it goes
/// to; the day's refund batch pays it (see [`refund`]).
async fn by_transfer(
    app: &App,
    actor: &Actor,
    payment: &Payment,
    amount_para: Option<i64>,
    expected_available: Option<i64>,
    account: Option<&str>,
) -> Result<Refunded, Error> {
    let given = match account.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => {
            let parsed = if a.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("RS")) {
                AccountNumber::from_iban(a)
            } else {
                AccountNumber::parse(a)
            };
            Some(parsed.map_err(|e| {
                Error::invalid("account", format!("is not a valid account number: {e}"))
            })?)
        }
        None => None,
    };
    if !payment.state.is_paid() {
        return Err(Error::conflict(format!(
            "a {} payment cannot be refunded",
            payment.state
        )));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::lock_payment(&mut tx, payment.id).await?;
    if store::remitted_in(&mut tx, payment.id).await?.is_some() {
        return Err(remitted());
    }
    let to = match given {
        Some(a) => a,
        None => {
            let known = refunds::payer_account(&mut tx, payment.id).await?;
            known
                .as_deref()
                .and_then(|a| AccountNumber::parse(a).ok())
                .ok_or_else(|| {
                    Error::invalid(
                        "account",
                        "the bank statement did not name the account this payment came from; give the account to pay it back to",
                    )
                })?
        }
    };
    let committed = refunds::committed_para(&mut tx, payment.id).await?;
    let amount = amount_to_refund(payment, committed, amount_para, expected_available)?;
    let mut refund = Refund::pending(
        payment.id,
        amount,
        RefundChannel::Transfer,
        actor.to_string(),
        now,
    );
    refund.account = Some(to.as_str().to_owned());
    refunds::insert(&mut tx, &refund).await?;
    tx.commit().await?;
    tracing::info!(payment = %payment.id, refund = %refund.id, amount_para = amount, "refund by transfer requested");
    Ok(Refunded {
        refund,
        payment: payment.clone(),
    })
}
