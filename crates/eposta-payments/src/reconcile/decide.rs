//! What one statement entry does, as pure functions: which entries are credits that may
//! complete a payment ([`classify`]), and what such a credit does to the payment its
//! reference names ([`decide`], the rules of [`crate::complete_by_transfer`], in the same
//! order, for a batch of entries read at once).

use eposta_formats::iso20022::{CreditDebit, Currency};
use uuid::Uuid;

use super::parse::Line;
use crate::domain::{Method, State};
use crate::service::transfer::{NotMatched, TransferMatch};

/// What an entry of a statement did; stored per import with counts and sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// The credit completed the pending IPS payment its reference names.
    Completed,
    /// The same bank transfer completed that payment before (an overlapping statement).
    AlreadyCompleted,
    /// No IPS payment has the credit's reference, or it carries none.
    UnknownReference,
    /// The payment's total (amount and fee) is not the amount credited; it stays pending.
    AmountMismatch,
    /// The payment is not waiting for a transfer: expired, cancelled, or paid by another
    /// transfer. The money must go back, or a person looks at it.
    NotPending,
    /// The bank's reference of the credit completed another payment already.
    BankRefUsed,
    /// A credit in a currency other than the dinar.
    OtherCurrency,
    /// A reversal (`RvslInd`) of an earlier entry: for a person, never applied.
    Reversal,
    /// Money out of the account that is no remittance of ours (bank fees, a debit not
    /// booked yet): counted only.
    Debit,
    /// A booked debit that is a remittance transfer (by end-to-end id) or a whole batch
    /// booked as one entry (by message id and total): it settles them
    /// (`reconcile::debits`).
    RemittanceDebit,
    /// Not booked (`PDNG`, `INFO`): not on the account yet; a later statement books it.
    NotBooked,
    /// Its statement was imported before: skipped.
    StatementSeen,
}

impl Outcome {
    pub const ALL: [Outcome; 12] = [
        Outcome::Completed,
        Outcome::AlreadyCompleted,
        Outcome::UnknownReference,
        Outcome::AmountMismatch,
        Outcome::NotPending,
        Outcome::BankRefUsed,
        Outcome::OtherCurrency,
        Outcome::Reversal,
        Outcome::Debit,
        Outcome::RemittanceDebit,
        Outcome::NotBooked,
        Outcome::StatementSeen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::AlreadyCompleted => "already_completed",
            Outcome::UnknownReference => "unknown_reference",
            Outcome::AmountMismatch => "amount_mismatch",
            Outcome::NotPending => "not_pending",
            Outcome::BankRefUsed => "bank_ref_used",
            Outcome::OtherCurrency => "other_currency",
            Outcome::Reversal => "reversal",
            Outcome::Debit => "debit",
            Outcome::RemittanceDebit => "remittance_debit",
            Outcome::NotBooked => "not_booked",
            Outcome::StatementSeen => "statement_seen",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Credits that a person should look at: each is listed in the report with its line.
    /// Debits, unbooked entries and skipped statements are only counted.
    pub fn is_listed(self) -> bool {
        matches!(
            self,
            Outcome::AlreadyCompleted
                | Outcome::UnknownReference
                | Outcome::AmountMismatch
                | Outcome::NotPending
                | Outcome::BankRefUsed
                | Outcome::OtherCurrency
                | Outcome::Reversal
        )
    }

    /// The outcome of a credit's match.
    pub fn of(m: &TransferMatch) -> Outcome {
        match m {
            TransferMatch::Completed { .. } => Outcome::Completed,
            TransferMatch::AlreadyCompleted { .. } => Outcome::AlreadyCompleted,
            TransferMatch::NotMatched(NotMatched::UnknownReference) => Outcome::UnknownReference,
            TransferMatch::NotMatched(NotMatched::AmountMismatch { .. }) => Outcome::AmountMismatch,
            TransferMatch::NotMatched(NotMatched::NotPending { .. }) => Outcome::NotPending,
            TransferMatch::NotMatched(NotMatched::BankRefUsed { .. }) => Outcome::BankRefUsed,
        }
    }
}

/// Entries that are not credits to match, and why; `None` for a credit to match.
pub fn classify(line: &Line) -> Option<Outcome> {
    if line.reversal {
        return Some(Outcome::Reversal);
    }
    if line.direction == CreditDebit::Debit {
        return Some(Outcome::Debit);
    }
    if !line.booked {
        return Some(Outcome::NotBooked);
    }
    if line.currency != Currency::RSD {
        return Some(Outcome::OtherCurrency);
    }
    None
}

/// A payment as matching reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: Uuid,
    pub method: Method,
    pub state: State,
    pub amount_para: i64,
    pub fee_para: i64,
    pub bank_ref: Option<String>,
}

impl Found {
    pub fn total_para(&self) -> i64 {
        self.amount_para + self.fee_para
    }
}

/// What a credit of `amount_para` does to `found`, the payment its reference names (none:
/// no such payment), when its bank reference already completed `used_by`: the checks of
/// [`crate::complete_by_transfer`], in its order.
pub fn decide(found: Option<&Found>, used_by: Option<Uuid>, amount_para: i64) -> TransferMatch {
    let Some(p) = found.filter(|p| p.method == Method::Ips) else {
        return TransferMatch::NotMatched(NotMatched::UnknownReference);
    };
    match used_by {
        Some(id) if id == p.id => return TransferMatch::AlreadyCompleted { payment: p.id },
        Some(id) => return TransferMatch::NotMatched(NotMatched::BankRefUsed { payment: id }),
        None => {}
    }
    if p.state != State::Pending {
        return TransferMatch::NotMatched(NotMatched::NotPending {
            payment: p.id,
            state: p.state,
        });
    }
    if amount_para != p.total_para() {
        return TransferMatch::NotMatched(NotMatched::AmountMismatch {
            payment: p.id,
            expected_para: p.total_para(),
        });
    }
    TransferMatch::Completed { payment: p.id }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(direction: CreditDebit, reversal: bool, booked: bool, currency: Currency) -> Line {
        Line {
            line: 1,
            direction,
            reversal,
            booked,
            para: 100,
            currency,
            reference: None,
            bank_ref: "B1".into(),
            booking_date: None,
            debit: None,
            debtor_account: None,
        }
    }

    #[test]
    fn only_booked_dinar_credits_are_matched() {
        use CreditDebit::{Credit, Debit};
        let eur = Currency::EUR;
        let rsd = Currency::RSD;
        let table = [
            (line(Credit, false, true, rsd), None),
            (line(Debit, false, true, rsd), Some(Outcome::Debit)),
            (line(Credit, true, true, rsd), Some(Outcome::Reversal)),
            (line(Debit, true, true, rsd), Some(Outcome::Reversal)),
            (line(Credit, false, false, rsd), Some(Outcome::NotBooked)),
            (line(Debit, false, false, rsd), Some(Outcome::Debit)),
            (line(Credit, false, true, eur), Some(Outcome::OtherCurrency)),
            (line(Credit, false, false, eur), Some(Outcome::NotBooked)),
        ];
        for (l, want) in table {
            assert_eq!(classify(&l), want, "{l:?}");
        }
    }

    #[test]
    fn a_credit_completes_only_its_pending_ips_payment_for_its_total() {
        let id = Uuid::now_v7();
        let other = Uuid::now_v7();
        let p = |method, state| Found {
            id,
            method,
            state,
            amount_para: 10_000,
            fee_para: 500,
            bank_ref: None,
        };
        let pending = p(Method::Ips, State::Pending);
        let unknown = TransferMatch::NotMatched(NotMatched::UnknownReference);
        let table: Vec<(Option<Found>, Option<Uuid>, i64, TransferMatch)> = vec![
            (
                Some(pending.clone()),
                None,
                10_500,
                TransferMatch::Completed { payment: id },
            ),
            (None, None, 10_500, unknown.clone()),
            (
                Some(p(Method::Card, State::Pending)),
                None,
                10_500,
                unknown.clone(),
            ),
            (
                Some(p(Method::Cash, State::Succeeded)),
                None,
                10_500,
                unknown,
            ),
            // The amount without the fee is not the total the QR code asked for.
            (
                Some(pending.clone()),
                None,
                10_000,
                TransferMatch::NotMatched(NotMatched::AmountMismatch {
                    payment: id,
                    expected_para: 10_500,
                }),
            ),
            (
                Some(pending.clone()),
                None,
                10_499,
                TransferMatch::NotMatched(NotMatched::AmountMismatch {
                    payment: id,
                    expected_para: 10_500,
                }),
            ),
            (
                Some(pending.clone()),
                None,
                10_501,
                TransferMatch::NotMatched(NotMatched::AmountMismatch {
                    payment: id,
                    expected_para: 10_500,
                }),
            ),
            (
                Some(p(Method::Ips, State::Expired)),
                None,
                10_500,
                TransferMatch::NotMatched(NotMatched::NotPending {
                    payment: id,
                    state: State::Expired,
                }),
            ),
            (
                Some(p(Method::Ips, State::Succeeded)),
                None,
                10_500,
                TransferMatch::NotMatched(NotMatched::NotPending {
                    payment: id,
                    state: State::Succeeded,
                }),
            ),
            // The same transfer again, whatever the amount: already done.
            (
                Some(p(Method::Ips, State::Succeeded)),
                Some(id),
                1,
                TransferMatch::AlreadyCompleted { payment: id },
            ),
            (
                Some(pending),
                Some(other),
                10_500,
                TransferMatch::NotMatched(NotMatched::BankRefUsed { payment: other }),
            ),
        ];
        for (found, used_by, amount, want) in table {
            let got = decide(found.as_ref(), used_by, amount);
            assert_eq!(got, want, "{found:?} {used_by:?} {amount}");
        }
    }

    #[test]
    fn outcomes_round_trip_and_only_credits_needing_a_person_are_listed() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        let listed: Vec<Outcome> = Outcome::ALL.into_iter().filter(|o| o.is_listed()).collect();
        assert_eq!(listed.len(), 7);
        assert!(!Outcome::Completed.is_listed());
        assert!(!Outcome::Debit.is_listed());
        assert!(!Outcome::NotBooked.is_listed());
        assert!(!Outcome::StatementSeen.is_listed());
    }
}
