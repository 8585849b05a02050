//! Card payments paid too late: the acquirer reports a payment paid after ePošta expired or
//! cancelled it (the expiry sweeper's cancel crossed the card holder's payment at the
//! acquirer). The payment stays as it is, since the bill may already have been paid another
//! way, and the money goes back to the card holder at once: [`record`] writes a
//! `late_captures` row and enqueues [`RefundLateCapture`] in one transaction, and the job asks
//! the acquirer to refund it. A refund the acquirer refuses is left `failed` with its reason
//! for a person to settle (logged, audited). docs/payments.md, "Paid too late".

use eposta_kernel::audit::{self, Actor};
use eposta_kernel::db::Exec;
use eposta_kernel::ids::new_id;
use eposta_kernel::jobs::{self, Job};
use eposta_kernel::{App, Error, db_run};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::model::Payment;
use crate::provider::{self, ProviderError, RefundRequest, RefundState};

/// A late capture as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LateCapture {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub provider: String,
    pub provider_ref: String,
    pub amount_para: i64,
    /// `refunding`, `refunded` or `failed`.
    pub state: String,
    pub refund_ref: Option<String>,
    pub reason: Option<String>,
}

const COLUMNS: &str =
    "id, payment_id, provider, provider_ref, amount_para, state, refund_ref, reason";

/// Records that the acquirer `provider` took `amount_para` for `payment`, which is no longer
/// pending, and enqueues its refund; a repeated notification changes nothing. True when this
/// call recorded it.
pub async fn record(
    app: &App,
    payment: &Payment,
    provider: &str,
    provider_ref: &str,
    amount_para: i64,
) -> Result<bool, Error> {
    let now = app.now();
    let id = new_id();
    let mut tx = app.db.begin().await?;
    let inserted = db_run!(&mut tx, |c| {
        sqlx::query(
        "INSERT INTO late_captures (id, payment_id, provider, provider_ref, amount_para, state, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'refunding', $6, $6) \
         ON CONFLICT (payment_id) DO NOTHING"
    )
    .bind(id)
    .bind(payment.id)
    .bind(provider)
    .bind(provider_ref)
    .bind(amount_para)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })? == 1;
    if !inserted {
        return Ok(false);
    }
    jobs::enqueue(&mut tx, now, &RefundLateCapture { id }).await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::System,
            action: "payments.late_capture",
            subject: &format!("payment:{}", payment.id),
            office_id: None,
            details: json!({
                "provider": provider,
                "state": payment.state.as_str(),
                "amount_para": amount_para,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::warn!(payment = %payment.id, provider, state = %payment.state, "the acquirer took money for a payment that is no longer pending; refunding it");
    Ok(true)
}

/// The late capture of a payment, if there is one.
pub async fn of_payment(c: &mut impl Exec, payment: Uuid) -> Result<Option<LateCapture>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM late_captures WHERE payment_id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, LateCapture>(&sql)
        .bind(payment)
        .fetch_optional(&mut *c)
        .await)?)
}

async fn by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<LateCapture>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM late_captures WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, LateCapture>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Moves a late capture out of `refunding` (compare and set) and audits it; false when it
/// had already left it.
async fn settle(
    app: &App,
    capture: &LateCapture,
    state: &str,
    refund_ref: Option<&str>,
    reason: Option<&str>,
) -> Result<bool, Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let changed = db_run!(&mut tx, |c| sqlx::query(
        "UPDATE late_captures SET state = $2, refund_ref = COALESCE($3, refund_ref), \
         reason = $4, updated_at = $5 WHERE id = $1 AND state = 'refunding'"
    )
    .bind(capture.id)
    .bind(state)
    .bind(refund_ref)
    .bind(reason)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?
        == 1;
    if changed {
        audit::append(
            &mut tx,
            now,
            audit::Entry {
                actor: &Actor::System,
                action: if state == "refunded" {
                    "payments.late_capture.refunded"
                } else {
                    "payments.late_capture.failed"
                },
                subject: &format!("payment:{}", capture.payment_id),
                office_id: None,
                details: json!({
                    "provider": capture.provider,
                    "amount_para": capture.amount_para,
                    "reason": reason,
                }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// The acquirer's notification that the refund `refund_ref` of a late capture of `payment`
/// succeeded or failed; `None` when no late capture of the payment has that reference.
pub async fn refund_settled(
    app: &App,
    payment: Uuid,
    refund_ref: &str,
    succeeded: bool,
) -> Result<Option<bool>, Error> {
    let capture = {
        let mut conn = app.db.conn().await?;
        of_payment(&mut conn, payment).await?
    };
    let Some(capture) = capture.filter(|c| c.refund_ref.as_deref() == Some(refund_ref)) else {
        return Ok(None);
    };
    let changed = if succeeded {
        settle(app, &capture, "refunded", None, None).await?
    } else {
        tracing::error!(payment = %payment, "the acquirer failed the refund of a late capture; settle it by hand");
        settle(
            app,
            &capture,
            "failed",
            None,
            Some("the acquirer failed the refund"),
        )
        .await?
    };
    Ok(Some(changed))
}

/// Asks the acquirer to pay a late capture back. Its id is the refund's idempotency key at
/// the acquirer, so a second run refunds nothing twice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundLateCapture {
    pub id: Uuid,
}

impl Job for RefundLateCapture {
    const KIND: &'static str = "payments.late_capture.refund";

    async fn run(self, app: App) -> anyhow::Result<()> {
        let capture = {
            let mut conn = app.db.conn().await?;
            by_id(&mut conn, self.id).await?
        };
        let Some(capture) = capture.filter(|c| c.state == "refunding" && c.refund_ref.is_none())
        else {
            return Ok(());
        };
        let acquirer = provider::by_name(&app, &capture.provider)
            .ok_or_else(|| anyhow::anyhow!("acquirer {:?} is not configured", capture.provider))?;
        let outcome = acquirer
            .refund(
                &app,
                RefundRequest {
                    provider_ref: &capture.provider_ref,
                    refund_id: capture.id,
                    amount_para: capture.amount_para,
                },
            )
            .await;
        match outcome {
            Ok(o) => match o.state {
                RefundState::Succeeded => {
                    settle(&app, &capture, "refunded", Some(&o.provider_ref), None).await?;
                }
                RefundState::Pending => {
                    // The acquirer's notification settles it (`refund_settled`).
                    let mut tx = app.db.begin().await?;
                    db_run!(&mut tx, |c| sqlx::query(
                        "UPDATE late_captures SET refund_ref = $2, updated_at = $3 \
                         WHERE id = $1 AND state = 'refunding'"
                    )
                    .bind(capture.id)
                    .bind(&o.provider_ref)
                    .bind(app.now())
                    .execute(&mut *c)
                    .await
                    .map(|_| ()))?;
                    tx.commit().await?;
                }
                RefundState::Failed { reason } => {
                    refused(&app, &capture, &reason).await?;
                }
            },
            Err(ProviderError::Refused(reason)) => refused(&app, &capture, &reason).await?,
            Err(e) => return Err(anyhow::anyhow!("refund of a late capture: {e}")),
        }
        Ok(())
    }

    async fn give_up(self, app: App, error: String) -> anyhow::Result<()> {
        let capture = {
            let mut conn = app.db.conn().await?;
            by_id(&mut conn, self.id).await?
        };
        if let Some(c) = capture {
            refused(&app, &c, &error).await?;
        }
        Ok(())
    }
}

async fn refused(app: &App, capture: &LateCapture, reason: &str) -> Result<(), Error> {
    tracing::error!(payment = %capture.payment_id, reason, "the refund of a late capture was refused; settle it by hand");
    let reason: String = reason.chars().take(500).collect();
    settle(app, capture, "failed", None, Some(&reason)).await?;
    Ok(())
}
