//! Paying back a cash payment at the counter (docs/counter-payments.md, "Paying back at the
//! counter"): the customer brings the receipt of a mistaken payment, and a clerk of the
//! office that took it pays back part or all of it in cash, out of the clerk's own drawer.
//! One transaction holds the clerk's open cash day (as a cash payment does, so a close
//! cannot slip between), checks what is left and that the payment has not gone out to its
//! payee, records the refund, moves the payment to `partially_refunded` or `refunded`, and
//! appends the audit entry. The cash paid out counts in the refunding clerk's day.

use eposta_kernel::audit::{self, Actor};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde_json::json;
use uuid::Uuid;

use super::day;
use super::service::{for_office, office_of};
use super::store;
use crate::domain::Method;
use crate::model::{Refund, RefundChannel};
use crate::service::refund::{Refunded, amount_to_refund, remitted};
use crate::service::{Applied, Cause, Step, apply_in};
use crate::store::{self as payments, refunds};

/// The longest reason kept.
pub const MAX_REASON: usize = 200;

/// The error of a refund on a closed day.
pub fn day_closed() -> Error {
    Error::conflict("you have closed your cash for today: it pays no more cash back until tomorrow")
}

/// Pays back `amount_para` of the cash payment `id` of the user's office, in cash from the
/// user's drawer, for `reason`. Another office's payment is "not found" (404). Refused:
/// an empty or overlong reason, an amount not above zero or more than is left (422, naming
/// `reason` or `amount`); a payment not paid, or remitted to its payee, a closed cash day,
/// or more than the cash the clerk took today less what was paid back (409).
pub async fn pay_back(
    app: &App,
    user: &SessionUser,
    id: Uuid,
    amount_para: i64,
    reason: &str,
) -> Result<Refunded, Error> {
    let office = office_of(app, user).await?;
    let payment = for_office(app, user, id).await?;
    if payment.method != Method::Cash {
        return Err(Error::conflict(
            "only cash payments are paid back at the counter",
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "say why the payment is paid back (a mistaken payment, a wrong bill)",
        ));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(Error::invalid(
            "reason",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    if !payment.state.is_paid() {
        return Err(Error::conflict(format!(
            "a {} payment cannot be paid back",
            payment.state
        )));
    }
    let now = app.now();
    let today = day::belgrade_day(now);
    let (from, to) = day::bounds(today);
    let actor = Actor::User(user.id);
    let mut tx = app.db.begin().await?;
    payments::lock_payment(&mut tx, payment.id).await?;
    if !store::hold_open(&mut tx, user.id, office.id, today, now).await? {
        return Err(day_closed());
    }
    if payments::remitted_in(&mut tx, payment.id).await?.is_some() {
        return Err(remitted());
    }
    let committed = refunds::committed_para(&mut tx, payment.id).await?;
    let amount = amount_to_refund(&payment, committed, Some(amount_para), None)?;
    // There is no float in the drawer in this model: what is paid back comes out of today's
    // cash, and the day's expected cash never goes below zero.
    let drawer = store::totals(&mut tx, user.id, from, to)
        .await?
        .expected_para();
    if amount > drawer {
        return Err(Error::conflict(format!(
            "your drawer holds {} of today's cash; a colleague with enough cash pays this back",
            eposta_kernel::money::Money::rsd(drawer)
        )));
    }
    let mut refund = Refund::pending(
        payment.id,
        amount,
        RefundChannel::Counter,
        actor.to_string(),
        now,
    );
    refund.reason = Some(reason.to_owned());
    refund.clerk_id = Some(user.id);
    refund.office_id = Some(office.id);
    refunds::insert(&mut tx, &refund).await?;
    let step = Step::Refund {
        refund_id: refund.id,
        amount_para: amount,
        provider_ref: None,
    };
    let after = match apply_in(
        &mut tx,
        now,
        payment.id,
        &step,
        &Cause::actor(actor.clone()),
    )
    .await?
    {
        Some(Applied::Changed(p)) => p,
        _ => return Err(Error::conflict("the payment is changing; try again")),
    };
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &actor,
            action: "counter.cash_refunded",
            subject: &format!("payment_refund:{}", refund.id),
            office_id: Some(office.id),
            details: json!({
                "payment": payment.id,
                "day": today.to_string(),
                "amount_para": amount,
                "refunded_para": after.refunded_para,
                "state": after.state.as_str(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        payment = %payment.id,
        refund = %refund.id,
        office = %office.code,
        amount_para = amount,
        "cash paid back at the counter"
    );
    Ok(Refunded {
        refund: Refund {
            state: "succeeded".into(),
            ..refund
        },
        payment: after,
    })
}
