//! The JSON shapes of the payments API.

use chrono::{DateTime, Utc};
use eposta_kernel::money::Money;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Channel, FieldError, Method, State};
use crate::model::{Payment, Refund};
use crate::service::NextAction;

/// The payer as recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayerView {
    pub name: String,
    pub address: String,
}

/// The payee as recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayeeView {
    pub name: String,
    pub address: String,
    /// Dashed: `845-0000000404849-87`.
    #[schema(example = "845-404849-87")]
    pub account: String,
}

/// What the payer does next, for a pending payment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextActionView {
    /// Card: send the card holder to the acquirer's hosted page (3-D Secure happens there);
    /// they come back to the `return_url` given. The state changes when the acquirer
    /// confirms, not when they come back: read the payment again.
    Redirect {
        #[schema(example = "https://eposta.example.rs/test-acquirer/pay/Zk3…")]
        redirect_url: String,
    },
    /// IPS: show this NBS IPS QR code (type PT) to be paid from a banking app; the payment
    /// succeeds when the transfer shows on ePošta's bank statement.
    IpsQr {
        /// The QR code's text.
        #[schema(
            example = "K:PT|V:01|C:1|R:200000012345678902|N:ePošta naplata (primer)|I:RSD3616,13|SF:289|S:ePošta K7QM-3XPA-9RTW|M:9402|RO:97120000000001234"
        )]
        ips_qr: String,
        /// The QR code as a PNG image (same API key).
        qr_png_url: String,
        /// The QR code as an SVG image (same API key).
        qr_svg_url: String,
        /// ePošta's collection account, dashed.
        collection_account: String,
        collection_name: String,
        /// Model 97 and the payment's own reference: `97 12 0000000001234`.
        reference: String,
        payment_code: String,
        /// Amount and fee.
        total: Money,
        expires_at: Option<DateTime<Utc>>,
    },
}

/// A payment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    pub id: Uuid,
    /// The public confirmation number, as on receipts.
    #[schema(example = "K7QM-3XPA-9RTW")]
    pub confirmation_number: String,
    pub state: State,
    pub method: Method,
    pub channel: Channel,
    /// For the payee.
    pub amount: Money,
    /// ePošta's fee, on top of the amount.
    pub fee: Money,
    /// What the payer pays.
    pub total: Money,
    /// Paid back so far.
    pub refunded: Money,
    pub payer: PayerView,
    pub payee: PayeeView,
    pub purpose: String,
    #[schema(example = "289")]
    pub payment_code: String,
    /// Model and reference number: `97 163220000111111111000`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a pending payment expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Present while the payment is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_action: Option<NextActionView>,
}

impl PaymentView {
    pub fn new(public_url: &str, p: &Payment, next: NextAction) -> Self {
        let base = public_url.trim_end_matches('/');
        let next_action = match next {
            NextAction::Redirect { url } => Some(NextActionView::Redirect { redirect_url: url }),
            NextAction::IpsQr(i) => Some(NextActionView::IpsQr {
                ips_qr: i.qr,
                qr_png_url: format!("{base}/api/v1/payments/{}/ips-qr.png", p.id),
                qr_svg_url: format!("{base}/api/v1/payments/{}/ips-qr.svg", p.id),
                collection_account: i.account.dashed(),
                collection_name: i.name,
                reference: i.reference.to_string(),
                payment_code: i.payment_code.to_string(),
                total: Money::rsd(i.total_para),
                expires_at: i.expires_at,
            }),
            NextAction::None => None,
        };
        PaymentView {
            id: p.id,
            confirmation_number: p.confirmation_grouped(),
            state: p.state,
            method: p.method,
            channel: p.channel,
            amount: p.amount(),
            fee: p.fee(),
            total: p.total(),
            refunded: p.refunded(),
            payer: PayerView {
                name: p.payer.name.clone(),
                address: p.payer.address.clone(),
            },
            payee: PayeeView {
                name: p.payee.name.clone(),
                address: p.payee.address.clone(),
                account: p.payee_account.dashed(),
            },
            purpose: p.purpose.clone(),
            payment_code: p.payment_code.to_string(),
            reference: p.reference.as_ref().map(ToString::to_string),
            created_at: p.created_at,
            updated_at: p.updated_at,
            expires_at: p.expires_at,
            completed_at: p.completed_at,
            next_action,
        }
    }
}

/// A refund to ask for.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RefundInput {
    /// How much to pay back; all that is left when absent.
    pub amount: Option<Money>,
    /// What you believe is left to refund; if it is not, nothing is refunded (409). Guards
    /// against two people refunding the same payment at once.
    pub refund_amount_available: Option<Money>,
    /// IPS payments: the account to pay back to (18 digits, the dashed form `160-5100-05`,
    /// or an `RS` IBAN). Optional when the bank statement named the account the payment
    /// came from; card payments take none.
    pub account: Option<String>,
}

/// A refund.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundView {
    pub id: Uuid,
    pub amount: Money,
    /// `pending`, `succeeded` or `failed`.
    pub state: String,
    /// How it is paid back: `acquirer` (card), `transfer` (IPS: a credit transfer to the
    /// payer's account in the day's refund batch) or `counter` (cash).
    pub channel: String,
    /// Transfers: the account it is paid back to, dashed.
    pub account: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&Refund> for RefundView {
    fn from(r: &Refund) -> Self {
        RefundView {
            id: r.id,
            amount: Money::rsd(r.amount_para),
            state: r.state.clone(),
            channel: r.channel.clone(),
            account: r
                .account
                .as_deref()
                .and_then(|a| eposta_formats::account::AccountNumber::parse(a).ok())
                .map(|a| a.dashed()),
            created_at: r.created_at,
        }
    }
}

/// The refund and the payment after it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundResult {
    pub refund: RefundView,
    pub payment: PaymentView,
}

/// A rule one field broke.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Dotted: `payee.account`.
    pub field: String,
    pub message: String,
}

/// The error shape with every broken rule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidationErrorDetail {
    /// `invalid`.
    pub code: &'static str,
    pub message: String,
    /// When exactly one rule was broken: its field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidationErrorBody {
    pub error: ValidationErrorDetail,
}

impl ValidationErrorBody {
    pub fn new(errors: Vec<FieldError>) -> Self {
        let field = match errors.as_slice() {
            [one] => Some(one.field.clone()),
            _ => None,
        };
        let message = match errors.as_slice() {
            [one] => format!("{one}; nothing was created"),
            _ => format!(
                "{} fields break a rule ({}); nothing was created",
                errors.len(),
                errors
                    .iter()
                    .map(|e| e.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        ValidationErrorBody {
            error: ValidationErrorDetail {
                code: "invalid",
                message,
                field,
                errors: errors
                    .into_iter()
                    .map(|e| FieldProblem {
                        message: e.rule.message(),
                        field: e.field,
                    })
                    .collect(),
            },
        }
    }
}

/// What ePošta did with a notification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationReceived {
    /// `applied`, `unchanged` or `ignored`.
    pub result: &'static str,
}
