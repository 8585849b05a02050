//! The local test acquirer: a card sandbox in the same process, so that the whole card flow
//! runs on a fresh machine. It stands for the acquirer's side of the wire: its own card
//! sessions (table `test_acquirer_sessions`), its own hosted card page and 3-D Secure
//! challenge page under `/test-acquirer/` ([`pages`]), and its own signed notifications to
//! ePošta, sent by a kernel job ([`pages::NotifyMerchant`]).
//!
//! Test cards (any future expiry, any three-digit CVC):
//!
//! | number | outcome |
//! | --- | --- |
//! | 4242 4242 4242 4242 | succeeds |
//! | 4000 0000 0000 0002 | declined ("card declined") |
//! | 4000 0000 0000 9995 | declined ("insufficient funds") |
//! | 4000 0000 0000 3220 | asks for a 3-D Secure challenge: approve → succeeds, fail → declined |
//!
//! Any other number that passes the Luhn check is declined as an unknown test card.
//!
//! Notifications are JSON, signed with HMAC-SHA256 over `<timestamp>.<body>` under a key
//! derived from the installation's secret; headers `Test-Acquirer-Timestamp` and
//! `Test-Acquirer-Signature: v1=<hex>`, accepted for five minutes.
//!
//! Never switch it on in production: anyone could "pay" with a test card.

pub mod pages;
mod store;

use axum::http::HeaderMap;
use chrono::{DateTime, Datelike, Utc};
use eposta_kernel::App;
use eposta_kernel::ids::random_token;
use eposta_kernel::webhooks::domain::{sign, verify};
use serde::{Deserialize, Serialize};

use super::{
    Notification, NotificationKind, PaymentProvider, ProviderError, ProviderFuture, ProviderStatus,
    RefundOutcome, RefundRequest, RefundState, StartRequest, Started,
};
pub use store::Session;

/// The provider's name in `payments.provider` and in the notification URL.
pub const NAME: &str = "test";
pub const TIMESTAMP_HEADER: &str = "Test-Acquirer-Timestamp";
pub const SIGNATURE_HEADER: &str = "Test-Acquirer-Signature";
/// How old a notification's timestamp may be.
pub const TOLERANCE_SECS: i64 = 300;

/// The test cards and what they do.
pub const CARD_SUCCEEDS: &str = "4242424242424242";
pub const CARD_DECLINED: &str = "4000000000000002";
pub const CARD_NO_FUNDS: &str = "4000000000009995";
pub const CARD_CHALLENGE: &str = "4000000000003220";

/// The local card sandbox.
#[derive(Debug, Clone, Copy, Default)]
pub struct TestAcquirer;

/// What a card typed into the hosted page leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardOutcome {
    Approve,
    Decline(&'static str),
    Challenge,
}

/// A field of the card form and what is wrong with it (English; the page translates the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardError {
    pub field: &'static str,
    pub key: &'static str,
}

/// The Luhn check of a string of digits.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Judges the card form: the number (spaces and dashes ignored, 12 to 19 digits, Luhn), the
/// expiry (`MM/YY`, this month or later) and the CVC (3 or 4 digits). Every wrong field is
/// named; a good card's outcome follows the table of test cards.
pub fn judge(
    number: &str,
    expiry: &str,
    cvc: &str,
    now: DateTime<Utc>,
) -> Result<(CardOutcome, String), Vec<CardError>> {
    let mut errors = Vec::new();
    let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.is_empty() {
        errors.push(CardError {
            field: "number",
            key: "required",
        });
    } else if !(12..=19).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !luhn(&digits)
    {
        errors.push(CardError {
            field: "number",
            key: "number",
        });
    }
    let expiry_ok = expiry
        .trim()
        .split_once('/')
        .and_then(|(m, y)| Some((m.trim().parse::<u32>().ok()?, y.trim().parse::<i32>().ok()?)))
        .filter(|(m, y)| (1..=12).contains(m) && (0..100).contains(y))
        .is_some_and(|(m, y)| (2000 + y, m) >= (now.year(), now.month()));
    if expiry.trim().is_empty() {
        errors.push(CardError {
            field: "expiry",
            key: "required",
        });
    } else if !expiry_ok {
        errors.push(CardError {
            field: "expiry",
            key: "expiry",
        });
    }
    let cvc = cvc.trim();
    if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(CardError {
            field: "cvc",
            key: "cvc",
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let outcome = match digits.as_str() {
        CARD_SUCCEEDS => CardOutcome::Approve,
        CARD_DECLINED => CardOutcome::Decline("card declined"),
        CARD_NO_FUNDS => CardOutcome::Decline("insufficient funds"),
        CARD_CHALLENGE => CardOutcome::Challenge,
        _ => CardOutcome::Decline("unknown test card"),
    };
    let last4 = digits[digits.len() - 4..].to_owned();
    Ok((outcome, last4))
}

/// The notification as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Body {
    pub id: String,
    /// `payment.succeeded`, `payment.declined`, `payment.cancelled`.
    #[serde(rename = "type")]
    pub kind: String,
    pub session: String,
    pub merchant_ref: String,
    pub amount_para: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The notifications' signing key, derived from the installation's secret (both sides of
/// this wire live in one process, so nothing needs configuring).
fn signing_key(app: &App) -> String {
    app.keyed_hash("payments.test_acquirer.signing", "v1")
}

/// Signs a notification body: the two headers to send with it.
pub fn signed_headers(app: &App, body: &[u8]) -> HeaderMap {
    let ts = app.now().timestamp();
    let mut h = HeaderMap::new();
    if let (Ok(t), Ok(s)) = (
        ts.to_string().parse(),
        format!("v1={}", sign(&signing_key(app), ts, body)).parse(),
    ) {
        h.insert(TIMESTAMP_HEADER, t);
        h.insert(SIGNATURE_HEADER, s);
    }
    h
}

fn status_of(s: &Session) -> ProviderStatus {
    match s.state.as_str() {
        "succeeded" => ProviderStatus::Succeeded,
        "declined" => ProviderStatus::Declined {
            reason: s
                .decline_reason
                .clone()
                .unwrap_or_else(|| "declined".into()),
        },
        "cancelled" => ProviderStatus::Cancelled,
        _ => ProviderStatus::Open,
    }
}

impl PaymentProvider for TestAcquirer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start<'a>(&'a self, app: &'a App, r: StartRequest<'a>) -> ProviderFuture<'a, Started> {
        Box::pin(async move {
            let now = app.now();
            let session = Session {
                id: random_token(),
                merchant_ref: r.payment_id.to_string(),
                amount_para: r.amount_para,
                description: r.description.to_owned(),
                return_url: r.return_url.to_owned(),
                state: "open".into(),
                decline_reason: None,
                card_last4: None,
                refunded_para: 0,
                created_at: now,
                updated_at: now,
            };
            // A retried start for the same payment gets the session opened the first time.
            let session = store::insert_or_get(app, &session).await?;
            Ok(Started {
                redirect_url: format!(
                    "{}/test-acquirer/pay/{}",
                    app.config.public_url.trim_end_matches('/'),
                    session.id
                ),
                provider_ref: session.id,
            })
        })
    }

    fn status<'a>(
        &'a self,
        app: &'a App,
        provider_ref: &'a str,
    ) -> ProviderFuture<'a, ProviderStatus> {
        Box::pin(async move {
            let s = store::get(app, provider_ref)
                .await?
                .ok_or(ProviderError::NotFound)?;
            Ok(status_of(&s))
        })
    }

    fn cancel<'a>(
        &'a self,
        app: &'a App,
        provider_ref: &'a str,
    ) -> ProviderFuture<'a, ProviderStatus> {
        Box::pin(async move {
            store::finish(
                app,
                provider_ref,
                &["open", "challenge"],
                "cancelled",
                None,
                None,
                false,
            )
            .await?;
            let s = store::get(app, provider_ref)
                .await?
                .ok_or(ProviderError::NotFound)?;
            Ok(status_of(&s))
        })
    }

    fn refund<'a>(
        &'a self,
        app: &'a App,
        r: RefundRequest<'a>,
    ) -> ProviderFuture<'a, RefundOutcome> {
        Box::pin(async move {
            let s = store::get(app, r.provider_ref)
                .await?
                .ok_or(ProviderError::NotFound)?;
            if s.state != "succeeded" {
                return Err(ProviderError::Refused(
                    "only a succeeded payment can be refunded".into(),
                ));
            }
            if !store::refund(app, r.provider_ref, r.amount_para).await? {
                return Err(ProviderError::Refused(
                    "the refund is more than what is left of the payment".into(),
                ));
            }
            Ok(RefundOutcome {
                provider_ref: format!("rf_{}", r.refund_id.simple()),
                state: RefundState::Succeeded,
            })
        })
    }

    fn verify_notification(
        &self,
        app: &App,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, ProviderError> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(ts), Some(sig)) = (header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER)) else {
            return Err(ProviderError::BadSignature);
        };
        if !verify(
            &signing_key(app),
            sig,
            ts,
            body,
            app.now().timestamp(),
            TOLERANCE_SECS,
        ) {
            return Err(ProviderError::BadSignature);
        }
        let b: Body =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let kind = match b.kind.as_str() {
            "payment.succeeded" => NotificationKind::Succeeded,
            "payment.declined" => NotificationKind::Declined {
                reason: b.reason.unwrap_or_else(|| "declined".into()),
            },
            "payment.cancelled" => NotificationKind::Cancelled,
            other => return Err(ProviderError::Malformed(format!("unknown type {other:?}"))),
        };
        Ok(Notification {
            id: b.id,
            provider_ref: b.session,
            amount_para: Some(b.amount_para),
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(y, m, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map(|t| t.and_utc())
            .expect("date")
    }

    #[test]
    fn luhn_checks_the_test_cards_and_catches_typos() {
        for card in [
            CARD_SUCCEEDS,
            CARD_DECLINED,
            CARD_NO_FUNDS,
            CARD_CHALLENGE,
            "79927398713",
        ] {
            assert!(luhn(card), "{card}");
        }
        for bad in ["4242424242424241", "79927398710", "4000000000000001"] {
            assert!(!luhn(bad), "{bad}");
        }
    }

    #[test]
    fn the_card_table() {
        let now = at(2026, 3);
        let cases = [
            ("4242 4242 4242 4242", CardOutcome::Approve),
            ("4000-0000-0000-0002", CardOutcome::Decline("card declined")),
            (CARD_NO_FUNDS, CardOutcome::Decline("insufficient funds")),
            (CARD_CHALLENGE, CardOutcome::Challenge),
            (
                "5555555555554444",
                CardOutcome::Decline("unknown test card"),
            ),
        ];
        for (number, outcome) in cases {
            let (got, last4) = judge(number, "03/26", "123", now).expect(number);
            assert_eq!(got, outcome, "{number}");
            assert_eq!(last4.len(), 4);
        }
    }

    #[test]
    fn every_wrong_field_is_named() {
        let now = at(2026, 3);
        let fields = |n: &str, e: &str, c: &str| -> Vec<(&'static str, &'static str)> {
            judge(n, e, c, now)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| (e.field, e.key))
                .collect()
        };
        assert_eq!(
            fields("", "", ""),
            [
                ("number", "required"),
                ("expiry", "required"),
                ("cvc", "cvc")
            ]
        );
        assert_eq!(
            fields("4242424242424241", "02/26", "12"),
            [("number", "number"), ("expiry", "expiry"), ("cvc", "cvc")]
        );
        assert_eq!(
            fields(CARD_SUCCEEDS, "13/30", "1234"),
            [("expiry", "expiry")]
        );
        assert_eq!(fields(CARD_SUCCEEDS, "12/99", "12a"), [("cvc", "cvc")]);
        assert!(fields(CARD_SUCCEEDS, "3/26", "999").is_empty());
    }
}
