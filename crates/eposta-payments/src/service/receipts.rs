//! Receipts of payments: a paid [`Payment`] becomes the [`ReceiptData`] that
//! [`crate::receipt`] signs and draws. Who may download one is decided by the callers'
//! owner-checked readers (the citizen's own, the organisation's own, the counter's office's
//! own); this module only refuses payments that were never paid.

use axum::response::Response;
use eposta_kernel::money::Currency;
use eposta_kernel::offices::store as office_store;
use eposta_kernel::{App, Error};

use crate::domain::Method;
use crate::model::Payment;
use crate::receipt::{self, CounterOffice, PaidBy, ReceiptData, ReceiptKeys};

/// Whether a payment has a receipt: the money was taken (a payment refunded in part keeps
/// the receipt of what was paid; one refunded in full, or never paid, has none).
pub fn has_receipt(p: &Payment) -> bool {
    p.state.is_paid()
}

/// How the payer paid, as a receipt says it.
pub fn paid_by(m: Method) -> PaidBy {
    match m {
        Method::Card => PaidBy::Card,
        Method::Ips => PaidBy::Ips,
        Method::Cash => PaidBy::Cash,
    }
}

/// The receipt of a paid payment; a payment without one ([`has_receipt`]) is a conflict
/// (409) that says why. A cash payment names the office that took it.
pub async fn data_of(app: &App, p: &Payment) -> Result<ReceiptData, Error> {
    if !has_receipt(p) {
        return Err(Error::conflict(format!(
            "payment {}: a receipt is issued once the payment has succeeded (it is {})",
            p.id, p.state
        )));
    }
    let office = match p.office() {
        Some(id) if p.method == Method::Cash => {
            let mut conn = app.db.conn().await?;
            let o = office_store::by_id(&mut conn, id).await?.ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("payment {}: its office is gone", p.id))
            })?;
            Some(CounterOffice {
                code: o.code,
                name: o.name,
            })
        }
        _ => None,
    };
    Ok(ReceiptData {
        confirmation: p.confirmation_grouped(),
        payer_name: p.payer.name.clone(),
        payer_address: p.payer.address.clone(),
        purpose: p.purpose.clone(),
        payee_name: p.payee.name.clone(),
        payee_address: p.payee.address.clone(),
        payee_account: p.payee_account,
        payment_code: p.payment_code,
        reference: p.reference.clone(),
        amount_para: p.amount_para,
        fee_para: p.fee_para,
        currency: Currency::RSD,
        // Set when the payment succeeded; a paid payment always has it.
        paid_at: p.completed_at.unwrap_or(p.updated_at),
        paid_by: paid_by(p.method),
        office,
    })
}

/// The receipt PDF of a paid payment, signed with the installation's current key.
pub async fn pdf(app: &App, p: &Payment) -> Result<Response, Error> {
    let data = data_of(app, p).await?;
    let keys = ReceiptKeys::for_app(app)?;
    let response = receipt::pdf_response(&data, &keys)?;
    tracing::info!(payment = %p.id, "receipt issued");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::State;

    #[test]
    fn only_paid_payments_have_receipts() {
        let paid: Vec<State> = State::ALL
            .into_iter()
            .filter(|s| matches!(s, State::Succeeded | State::PartiallyRefunded))
            .collect();
        for s in State::ALL {
            assert_eq!(s.is_paid(), paid.contains(&s), "{s}");
        }
        assert_eq!(paid_by(Method::Cash), PaidBy::Cash);
        assert_eq!(paid_by(Method::Card), PaidBy::Card);
        assert_eq!(paid_by(Method::Ips), PaidBy::Ips);
    }
}
