//! What a receipt's signed code says (its claims), and their canonical bytes: a JSON object
//! with short keys in one fixed order and no white space, so that one receipt has exactly one
//! payload and any JSON reader (`jq`, a browser, any language) reads it. `docs/receipts.md`
//! lists the keys.

use chrono::{DateTime, SecondsFormat, Utc};
use eposta_kernel::money::Currency;
use eposta_kernel::signing::KeyId;
use serde::{Deserialize, Serialize};

/// How the payer paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaidBy {
    /// A payment card, online.
    Card,
    /// An NBS IPS instant transfer.
    Ips,
    /// Cash at a post-office counter (the claims name the office).
    Cash,
}

impl PaidBy {
    pub fn as_str(self) -> &'static str {
        match self {
            PaidBy::Card => "card",
            PaidBy::Ips => "ips",
            PaidBy::Cash => "cash",
        }
    }
}

/// The facts a receipt's signature vouches for. Whoever holds a valid code knows that
/// ePošta (the key `key_id`) confirmed this payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptClaims {
    /// The key that signed (`kid`).
    pub key_id: KeyId,
    /// The payment's confirmation number (`no`), as printed on the receipt.
    pub confirmation: String,
    /// For the payee, in para (`amt`).
    pub amount_para: i64,
    /// ePošta's fee on top, in para (`fee`).
    pub fee_para: i64,
    /// `cur`.
    pub currency: Currency,
    /// The payee's account in its dashed form, `160-5100000000-02` (`acct`).
    pub payee_account: String,
    /// The payee's name (`payee`).
    pub payee: String,
    /// Model and reference number as a payment order writes them, `97 14123412`; empty
    /// when the order had none (`ref`).
    pub reference: String,
    /// The three-digit payment code (`code`).
    pub payment_code: String,
    /// When the payment succeeded, UTC, to the second (`at`).
    pub paid_at: DateTime<Utc>,
    /// `by`.
    pub paid_by: PaidBy,
    /// The office's postal code for a cash payment at a counter; `None` otherwise (`office`,
    /// empty when none).
    pub office: Option<String>,
}

/// The wire form: the keys and their order are the format; changing them is a new version.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    kid: KeyId,
    no: String,
    amt: i64,
    fee: i64,
    cur: Currency,
    acct: String,
    payee: String,
    #[serde(rename = "ref")]
    reference: String,
    code: String,
    at: String,
    by: PaidBy,
    office: String,
}

impl ReceiptClaims {
    /// What the payer paid: amount and fee (`None` if that overflows, which the signer
    /// never lets through).
    pub fn total_para(&self) -> Option<i64> {
        self.amount_para.checked_add(self.fee_para)
    }

    /// The canonical payload bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = Wire {
            kid: self.key_id.clone(),
            no: self.confirmation.clone(),
            amt: self.amount_para,
            fee: self.fee_para,
            cur: self.currency,
            acct: self.payee_account.clone(),
            payee: self.payee.clone(),
            reference: self.reference.clone(),
            code: self.payment_code.clone(),
            at: self.paid_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            by: self.paid_by,
            office: self.office.clone().unwrap_or_default(),
        };
        // Serialising a struct of strings and integers into memory cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Reads a payload. Only the canonical bytes of some claims are accepted: every key once,
    /// in order, no white space, the time in UTC to the second, so that a payload cannot be
    /// rewritten into another that means the same.
    pub fn from_bytes(bytes: &[u8]) -> Result<ReceiptClaims, String> {
        let wire: Wire = serde_json::from_slice(bytes).map_err(|e| format!("payload: {e}"))?;
        let paid_at = DateTime::parse_from_rfc3339(&wire.at)
            .map_err(|_| "payload: `at` is not a time".to_owned())?
            .with_timezone(&Utc);
        if wire.amt <= 0 || wire.fee < 0 || wire.amt.checked_add(wire.fee).is_none() {
            return Err("payload: impossible amounts".into());
        }
        if (wire.by == PaidBy::Cash) == wire.office.is_empty() {
            return Err("payload: an office goes with cash, and only with cash".into());
        }
        let claims = ReceiptClaims {
            key_id: wire.kid,
            confirmation: wire.no,
            amount_para: wire.amt,
            fee_para: wire.fee,
            currency: wire.cur,
            payee_account: wire.acct,
            payee: wire.payee,
            reference: wire.reference,
            payment_code: wire.code,
            paid_at,
            paid_by: wire.by,
            office: (!wire.office.is_empty()).then_some(wire.office),
        };
        if claims.to_bytes() != bytes {
            return Err("payload: not in canonical form".into());
        }
        Ok(claims)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample(key_id: KeyId) -> ReceiptClaims {
        ReceiptClaims {
            key_id,
            confirmation: "K7QM-3XPA-9RTW".into(),
            amount_para: 1_234_567,
            fee_para: 4_500,
            currency: Currency::RSD,
            payee_account: "160-5100000000-02".into(),
            payee: "ЈКП Инфостан технологије".into(),
            reference: "97 14123412".into(),
            payment_code: "289".into(),
            paid_at: DateTime::parse_from_rfc3339("2026-03-02T09:15:07Z")
                .expect("time")
                .with_timezone(&Utc),
            paid_by: PaidBy::Cash,
            office: Some("11101".into()),
        }
    }

    fn kid() -> KeyId {
        KeyId::parse("0123456789abcdef").expect("a key id")
    }

    #[test]
    fn the_payload_is_compact_json_in_a_fixed_order() {
        let bytes = sample(kid()).to_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).expect("UTF-8"),
            "{\"kid\":\"0123456789abcdef\",\"no\":\"K7QM-3XPA-9RTW\",\"amt\":1234567,\"fee\":4500,\
             \"cur\":\"RSD\",\"acct\":\"160-5100000000-02\",\"payee\":\"ЈКП Инфостан технологије\",\
             \"ref\":\"97 14123412\",\"code\":\"289\",\"at\":\"2026-03-02T09:15:07Z\",\"by\":\"cash\",\
             \"office\":\"11101\"}"
        );
        assert_eq!(ReceiptClaims::from_bytes(&bytes), Ok(sample(kid())));
        let mut card = sample(kid());
        card.paid_by = PaidBy::Card;
        card.office = None;
        card.reference = String::new();
        assert_eq!(ReceiptClaims::from_bytes(&card.to_bytes()), Ok(card));
    }

    #[test]
    fn only_canonical_sensible_payloads_are_read() {
        let good = String::from_utf8(sample(kid()).to_bytes()).expect("UTF-8");
        let cases = [
            ("white space", good.replacen(",\"no\"", ", \"no\"", 1)),
            (
                "keys reordered",
                good.replacen(
                    "{\"kid\":\"0123456789abcdef\",\"no\":\"K7QM-3XPA-9RTW\"",
                    "{\"no\":\"K7QM-3XPA-9RTW\",\"kid\":\"0123456789abcdef\"",
                    1,
                ),
            ),
            ("an unknown key", good.replacen("}", ",\"x\":1}", 1)),
            ("a key missing", good.replacen(",\"code\":\"289\"", "", 1)),
            (
                "a local time",
                good.replacen("09:15:07Z", "10:15:07+01:00", 1),
            ),
            (
                "fractions of a second",
                good.replacen("09:15:07Z", "09:15:07.000Z", 1),
            ),
            (
                "not a time",
                good.replacen("2026-03-02T09:15:07Z", "yesterday", 1),
            ),
            (
                "a zero amount",
                good.replacen("\"amt\":1234567", "\"amt\":0", 1),
            ),
            (
                "a negative fee",
                good.replacen("\"fee\":4500", "\"fee\":-1", 1),
            ),
            ("an unknown currency", good.replacen("RSD", "XYZ", 1)),
            (
                "cash without an office",
                good.replacen("\"office\":\"11101\"", "\"office\":\"\"", 1),
            ),
            (
                "a card with an office",
                good.replacen("\"by\":\"cash\"", "\"by\":\"card\"", 1),
            ),
            (
                "an escaped letter",
                good.replacen("Инфостан", "\\u0418нфостан", 1),
            ),
            ("not JSON", "kid=1".to_owned()),
        ];
        for (what, payload) in cases {
            assert!(payload != good, "{what}: the case changes nothing");
            assert!(
                ReceiptClaims::from_bytes(payload.as_bytes()).is_err(),
                "{what} was accepted"
            );
        }
    }
}
