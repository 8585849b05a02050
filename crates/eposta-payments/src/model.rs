//! A payment as the rest of ePošta sees it: typed, read from its row ([`crate::store`]).
//! Reconciliation, remittance, receipts and the counter build on [`Payment`].

use std::fmt;

use chrono::{DateTime, Utc};
use eposta_formats::account::AccountNumber;
use eposta_formats::payment_code::PaymentCode;
use eposta_formats::reference::Reference;
use eposta_kernel::Error;
use eposta_kernel::money::Money;
use uuid::Uuid;

use crate::domain::codes::group_confirmation;
use crate::domain::{Channel, Method, Owner, Party, State};
use crate::store::PaymentRow;

/// One payment order and what became of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Payment {
    /// UUIDv7: time-ordered.
    pub id: Uuid,
    /// The public confirmation number: 12 characters of [`crate::domain::codes::ALPHABET`],
    /// shown grouped ([`Payment::confirmation_grouped`]) on pages and receipts.
    pub confirmation: String,
    pub state: State,
    pub method: Method,
    pub channel: Channel,
    pub owner: Owner,
    /// The API key that made it (organisations' payments).
    pub api_key: Option<Uuid>,
    pub payer: Party,
    pub payee: Party,
    pub payee_account: AccountNumber,
    pub purpose: String,
    pub payment_code: PaymentCode,
    /// The payee's model and reference number, if the order had one.
    pub reference: Option<Reference>,
    /// For the payee, in para.
    pub amount_para: i64,
    /// ePošta's fee, in para, on top of the amount.
    pub fee_para: i64,
    /// Paid back so far, in para.
    pub refunded_para: i64,
    /// The card acquirer (`test` for the test acquirer) and its reference of the payment.
    pub provider: Option<String>,
    pub provider_ref: Option<String>,
    /// Where the card holder returns from the acquirer's page (API clients' URL).
    pub return_url: Option<String>,
    /// The acquirer's hosted card page for this payment.
    pub redirect_url: Option<String>,
    /// IPS payments: the model-97 reference of the transfer to the collection account.
    pub collection_reference: Option<Reference>,
    /// IPS payments: the bank's reference of the transfer that completed it.
    pub bank_ref: Option<String>,
    /// When a pending payment expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it reached `succeeded`, `failed`, `cancelled` or `expired`.
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Names, addresses and accounts stay out of `Debug`, so they cannot reach a log line.
impl fmt::Debug for Payment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payment")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("method", &self.method)
            .field("amount_para", &self.amount_para)
            .finish_non_exhaustive()
    }
}

impl Payment {
    /// What the payer pays: amount and fee.
    pub fn total_para(&self) -> i64 {
        self.amount_para + self.fee_para
    }

    pub fn amount(&self) -> Money {
        Money::rsd(self.amount_para)
    }

    pub fn fee(&self) -> Money {
        Money::rsd(self.fee_para)
    }

    pub fn total(&self) -> Money {
        Money::rsd(self.total_para())
    }

    pub fn refunded(&self) -> Money {
        Money::rsd(self.refunded_para)
    }

    /// `K7QM-3XPA-9RTW`.
    pub fn confirmation_grouped(&self) -> String {
        group_confirmation(&self.confirmation)
    }

    /// The citizen who made it, or the clerk who took it.
    pub fn user(&self) -> Option<Uuid> {
        match self.owner {
            Owner::Citizen { user } => Some(user),
            Owner::Counter { clerk, .. } => Some(clerk),
            Owner::Organisation { .. } => None,
        }
    }

    pub fn organisation(&self) -> Option<Uuid> {
        match self.owner {
            Owner::Organisation { organisation, .. } => Some(organisation),
            _ => None,
        }
    }

    pub fn office(&self) -> Option<Uuid> {
        match self.owner {
            Owner::Counter { office, .. } => Some(office),
            _ => None,
        }
    }
}

fn corrupt(what: &str, id: Uuid) -> Error {
    Error::Internal(anyhow::anyhow!("payment {id}: stored {what} is not valid"))
}

impl TryFrom<PaymentRow> for Payment {
    type Error = Error;

    fn try_from(r: PaymentRow) -> Result<Self, Error> {
        let id = r.id;
        let owner = match (
            r.owner_kind.as_str(),
            r.owner_user,
            r.owner_organisation,
            r.owner_office,
        ) {
            ("citizen", Some(user), _, _) => Owner::Citizen { user },
            ("organisation", _, Some(organisation), _) => Owner::Organisation {
                organisation,
                key: r.api_key_id.unwrap_or_default(),
            },
            ("counter", Some(clerk), _, Some(office)) => Owner::Counter { clerk, office },
            _ => return Err(corrupt("owner", id)),
        };
        let reference = |ro: Option<String>| {
            ro.map(|ro| Reference::parse_ro(&ro).map_err(|_| corrupt("reference", id)))
                .transpose()
        };
        Ok(Payment {
            id,
            state: State::parse(&r.state).ok_or_else(|| corrupt("state", id))?,
            method: Method::parse(&r.method).ok_or_else(|| corrupt("method", id))?,
            channel: Channel::parse(&r.channel).ok_or_else(|| corrupt("channel", id))?,
            owner,
            api_key: r.api_key_id,
            payer: Party {
                name: r.payer_name,
                address: r.payer_address,
            },
            payee: Party {
                name: r.payee_name,
                address: r.payee_address,
            },
            payee_account: AccountNumber::parse(&r.payee_account)
                .map_err(|_| corrupt("payee account", id))?,
            purpose: r.purpose,
            payment_code: PaymentCode::parse(&r.payment_code)
                .map_err(|_| corrupt("payment code", id))?,
            reference: reference(r.reference)?,
            amount_para: r.amount_para,
            fee_para: r.fee_para,
            refunded_para: r.refunded_para,
            provider: r.provider,
            provider_ref: r.provider_ref,
            return_url: r.return_url,
            redirect_url: r.redirect_url,
            collection_reference: reference(r.collection_reference)?,
            bank_ref: r.bank_ref,
            expires_at: r.expires_at,
            completed_at: r.completed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            confirmation: r.confirmation,
        })
    }
}

/// One state change of a payment, as its history shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryEntry {
    /// `create` for the first entry, then the [`crate::domain::Event`]'s name.
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: String,
    /// `user:…`, `key:…`, `provider:…` or `system`.
    pub actor: String,
    /// JSON, without personal data.
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// A refund: through the card acquirer, in cash at a counter, or by a credit transfer to the
/// payer's account (IPS payments).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Refund {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub amount_para: i64,
    /// `pending`, `succeeded` or `failed`.
    pub state: String,
    pub provider_ref: Option<String>,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How it is paid back: `acquirer`, `counter` or `transfer` ([`RefundChannel`]).
    pub channel: String,
    /// Counter: why the clerk paid it back, as noted at the counter.
    pub reason: Option<String>,
    /// Counter: the clerk who paid the cash out, and the office.
    pub clerk_id: Option<Uuid>,
    pub office_id: Option<Uuid>,
    /// Transfer: the payer's account (18 digits) the money goes back to.
    pub account: Option<String>,
    /// Transfer: the refund batch it went out in, once exported.
    pub batch_id: Option<Uuid>,
}

/// The account and the reason stay out of `Debug`, so they cannot reach a log line.
impl fmt::Debug for Refund {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refund")
            .field("id", &self.id)
            .field("payment_id", &self.payment_id)
            .field("amount_para", &self.amount_para)
            .field("state", &self.state)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// How a refund is paid back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundChannel {
    /// A card payment, through the acquirer.
    Acquirer,
    /// Cash out of a clerk's drawer at the counter.
    Counter,
    /// A credit transfer from the collection account, in a refund batch.
    Transfer,
}

impl RefundChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundChannel::Acquirer => "acquirer",
            RefundChannel::Counter => "counter",
            RefundChannel::Transfer => "transfer",
        }
    }
}

impl Refund {
    /// A new pending refund of `payment_id` paid back through `channel`; the caller fills in
    /// what the channel needs.
    pub fn pending(
        payment_id: Uuid,
        amount_para: i64,
        channel: RefundChannel,
        requested_by: String,
        now: DateTime<Utc>,
    ) -> Refund {
        Refund {
            id: eposta_kernel::ids::new_id(),
            payment_id,
            amount_para,
            state: "pending".into(),
            provider_ref: None,
            requested_by,
            created_at: now,
            updated_at: now,
            channel: channel.as_str().to_owned(),
            reason: None,
            clerk_id: None,
            office_id: None,
            account: None,
            batch_id: None,
        }
    }
}

/// A citizen's saved payee.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SavedPayee {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub address: String,
    /// 18 digits.
    pub account: String,
    pub payment_code: String,
    /// IPS QR form (`9714123412`).
    pub reference: Option<String>,
    pub purpose: String,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for SavedPayee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedPayee")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
