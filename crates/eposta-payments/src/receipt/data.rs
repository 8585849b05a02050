//! What a receipt is made from: [`ReceiptData`], a plain struct the payments capability fills
//! from a succeeded payment, checked once before anything is signed or drawn.

use chrono::{DateTime, Timelike, Utc};
use eposta_formats::account::AccountNumber;
use eposta_formats::payment_code::PaymentCode;
use eposta_formats::reference::Reference;
use eposta_kernel::money::Currency;
use eposta_kernel::signing::KeyId;

use super::claims::{PaidBy, ReceiptClaims};

/// Longest confirmation number, in characters.
pub const MAX_CONFIRMATION: usize = 40;
/// Longest name, address (all lines) or purpose, in characters: what a payment order's
/// boxes and an IPS QR code hold (70), with room to spare.
pub const MAX_TEXT: usize = 140;

/// The office where cash was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterOffice {
    /// Its postal code, `11101`.
    pub code: String,
    /// Its name, `Београд 1`.
    pub name: String,
}

/// Everything a receipt shows. The payer and the purpose are printed but not signed: the
/// signed code carries no personal data of the payer, since anyone may read it.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceiptData {
    /// The confirmation number as it is printed (`K7QM-3XPA-9RTW`).
    pub confirmation: String,
    pub payer_name: String,
    /// Lines separated by `\n`; may be empty.
    pub payer_address: String,
    pub purpose: String,
    pub payee_name: String,
    /// Lines separated by `\n`; may be empty.
    pub payee_address: String,
    pub payee_account: AccountNumber,
    pub payment_code: PaymentCode,
    pub reference: Option<Reference>,
    /// For the payee, in para.
    pub amount_para: i64,
    /// ePošta's fee on top, in para.
    pub fee_para: i64,
    pub currency: Currency,
    /// When the payment succeeded.
    pub paid_at: DateTime<Utc>,
    pub paid_by: PaidBy,
    /// For cash: the office that took it; `None` for card and IPS payments.
    pub office: Option<CounterOffice>,
}

/// Names and addresses stay out of `Debug`, so they cannot reach a log line.
impl std::fmt::Debug for ReceiptData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptData")
            .field("confirmation", &self.confirmation)
            .field("amount_para", &self.amount_para)
            .field("fee_para", &self.fee_para)
            .field("paid_by", &self.paid_by)
            .finish_non_exhaustive()
    }
}

/// Why no receipt could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// A field the payments capability should never have let through.
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    /// The embedded font or the QR code could not be drawn: a defect, never the caller's
    /// input.
    #[error("drawing the receipt: {0}")]
    Drawing(String),
}

impl From<ReceiptError> for eposta_kernel::Error {
    fn from(e: ReceiptError) -> Self {
        match e {
            ReceiptError::Invalid { field, reason } => eposta_kernel::Error::invalid(field, reason),
            ReceiptError::Drawing(_) => {
                eposta_kernel::Error::Internal(anyhow::Error::new(e).context("receipt"))
            }
        }
    }
}

fn invalid(field: &'static str, reason: &'static str) -> ReceiptError {
    ReceiptError::Invalid { field, reason }
}

fn text(field: &'static str, value: &str, required: bool) -> Result<(), ReceiptError> {
    if required && value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(invalid(field, "is too long for a receipt"));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(field, "has control characters"));
    }
    Ok(())
}

impl ReceiptData {
    /// Checks what the type cannot: sizes, amounts, and that an office goes with cash.
    pub fn check(&self) -> Result<(), ReceiptError> {
        let c = &self.confirmation;
        if c.is_empty()
            || c.chars().count() > MAX_CONFIRMATION
            || !c.chars().all(|ch| ch.is_ascii_graphic())
        {
            return Err(invalid(
                "confirmation",
                "must be 1 to 40 printable ASCII characters without spaces",
            ));
        }
        text("payer_name", &self.payer_name, false)?;
        text("payer_address", &self.payer_address, false)?;
        text("purpose", &self.purpose, false)?;
        text("payee_name", &self.payee_name, true)?;
        text("payee_address", &self.payee_address, false)?;
        if self.amount_para <= 0 {
            return Err(invalid("amount", "must be more than zero"));
        }
        if self.fee_para < 0 {
            return Err(invalid("fee", "must not be negative"));
        }
        if self.amount_para.checked_add(self.fee_para).is_none() {
            return Err(invalid("amount", "is out of range"));
        }
        match (self.paid_by, &self.office) {
            (PaidBy::Cash, None) => {
                return Err(invalid("office", "a cash payment names its office"));
            }
            (PaidBy::Cash, Some(o)) => {
                if o.code.is_empty()
                    || o.code.len() > 10
                    || !o.code.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(invalid(
                        "office",
                        "the office code is 1 to 10 letters or digits",
                    ));
                }
                text("office", &o.name, true)?;
            }
            (PaidBy::Card | PaidBy::Ips, Some(_)) => {
                return Err(invalid("office", "only a cash payment names an office"));
            }
            (PaidBy::Card | PaidBy::Ips, None) => {}
        }
        Ok(())
    }

    /// The claims a receipt of this payment carries, signed by `key_id`.
    pub fn claims(&self, key_id: KeyId) -> ReceiptClaims {
        ReceiptClaims {
            key_id,
            confirmation: self.confirmation.clone(),
            amount_para: self.amount_para,
            fee_para: self.fee_para,
            currency: self.currency,
            payee_account: self.payee_account.dashed(),
            payee: self.payee_name.trim().to_owned(),
            reference: self
                .reference
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            payment_code: self.payment_code.to_string(),
            // Receipts state the time to the second.
            paid_at: self.paid_at.with_nanosecond(0).unwrap_or(self.paid_at),
            paid_by: self.paid_by,
            office: self.office.as_ref().map(|o| o.code.clone()),
        }
    }

    /// What the payer paid: amount and fee (checked by [`ReceiptData::check`]).
    pub fn total_para(&self) -> i64 {
        self.amount_para.saturating_add(self.fee_para)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A cash payment at Београд 1 with every field filled, Cyrillic included.
    pub(crate) fn cash() -> ReceiptData {
        ReceiptData {
            confirmation: "K7QM-3XPA-9RTW".into(),
            payer_name: "Петар Петровић".into(),
            payer_address: "Кнеза Милоша 10\n11000 Београд".into(),
            purpose: "Рачун за јануар 2026".into(),
            payee_name: "ЈКП Инфостан технологије".into(),
            payee_address: "Жоржа Клемансоа 19\nБеоград".into(),
            payee_account: AccountNumber::parse("160-5100000000-02").expect("account"),
            payment_code: PaymentCode::parse("289").expect("code"),
            reference: Some(Reference::parse("97 14123412").expect("reference")),
            amount_para: 1_234_567,
            fee_para: 4_500,
            currency: Currency::RSD,
            paid_at: DateTime::parse_from_rfc3339("2026-03-02T09:15:07.250Z")
                .expect("time")
                .with_timezone(&Utc),
            paid_by: PaidBy::Cash,
            office: Some(CounterOffice {
                code: "11101".into(),
                name: "Београд 1".into(),
            }),
        }
    }

    pub(crate) fn card() -> ReceiptData {
        ReceiptData {
            paid_by: PaidBy::Card,
            office: None,
            reference: None,
            ..cash()
        }
    }

    #[test]
    fn claims_take_what_the_receipt_vouches_for() {
        let kid = KeyId::parse("0123456789abcdef").expect("kid");
        let c = cash().claims(kid.clone());
        assert_eq!(c, super::super::claims::tests::sample(kid.clone()));
        let c = card().claims(kid);
        assert_eq!(
            (c.paid_by, c.office, c.reference),
            (PaidBy::Card, None, String::new())
        );
    }

    #[test]
    fn checks_every_field() {
        assert_eq!(cash().check(), Ok(()));
        assert_eq!(card().check(), Ok(()));
        let cases: Vec<(&str, ReceiptData)> = vec![
            (
                "confirmation",
                ReceiptData {
                    confirmation: String::new(),
                    ..cash()
                },
            ),
            (
                "confirmation",
                ReceiptData {
                    confirmation: "K7QM 3XPA".into(),
                    ..cash()
                },
            ),
            (
                "confirmation",
                ReceiptData {
                    confirmation: "X".repeat(41),
                    ..cash()
                },
            ),
            (
                "payee_name",
                ReceiptData {
                    payee_name: " ".into(),
                    ..cash()
                },
            ),
            (
                "payee_name",
                ReceiptData {
                    payee_name: "Ж".repeat(141),
                    ..cash()
                },
            ),
            (
                "payer_name",
                ReceiptData {
                    payer_name: "a\u{7}b".into(),
                    ..cash()
                },
            ),
            (
                "purpose",
                ReceiptData {
                    purpose: "x".repeat(141),
                    ..cash()
                },
            ),
            (
                "amount",
                ReceiptData {
                    amount_para: 0,
                    ..cash()
                },
            ),
            (
                "fee",
                ReceiptData {
                    fee_para: -1,
                    ..cash()
                },
            ),
            (
                "amount",
                ReceiptData {
                    amount_para: i64::MAX,
                    ..cash()
                },
            ),
            (
                "office",
                ReceiptData {
                    office: None,
                    ..cash()
                },
            ),
            (
                "office",
                ReceiptData {
                    paid_by: PaidBy::Ips,
                    ..cash()
                },
            ),
            (
                "office",
                ReceiptData {
                    office: Some(CounterOffice {
                        code: "11 101".into(),
                        name: "Београд 1".into(),
                    }),
                    ..cash()
                },
            ),
        ];
        for (field, data) in cases {
            match data.check() {
                Err(ReceiptError::Invalid { field: f, .. }) => assert_eq!(f, field, "{data:?}"),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
