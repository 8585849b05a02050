//! Card acquirers behind one interface, [`PaymentProvider`]: start a payment (the acquirer
//! answers with the URL of its hosted card page, where 3-D Secure happens; ePošta never sees
//! a card number), verify the acquirer's signed asynchronous notifications, query a payment's
//! status, cancel it, and refund it in full or in part.
//!
//! The browser's return from the acquirer's page proves nothing (anyone can type the URL):
//! a payment's state changes only on a verified notification or on the acquirer's answer
//! to a status query.
//!
//! One implementation ships: the local [`test_acquirer`], which behaves like a card sandbox
//! and is served by the same process under `/test-acquirer/`. It is on only when
//! `EPOSTA_PAYMENTS_TEST_ACQUIRER` is true (`serve --demo` turns it on). docs/payments.md
//! says how a real acquirer plugs in: implement the trait in a module of its own, and return
//! it from [`card_provider`] and [`by_name`] when its settings are present.

pub mod test_acquirer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::HeaderMap;
use eposta_kernel::{App, Error};
use uuid::Uuid;

/// What the provider's asynchronous calls return.
pub type ProviderFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// What can go wrong talking to an acquirer.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The acquirer said no (a refund of more than is left, a payment not refundable).
    #[error("the acquirer refused: {0}")]
    Refused(String),
    /// The acquirer could not be reached or did not answer in time.
    #[error("the acquirer is not reachable: {0}")]
    Unavailable(String),
    /// The acquirer does not know the payment.
    #[error("the acquirer does not know this payment")]
    NotFound,
    /// A notification whose signature does not verify (or is too old).
    #[error("the notification's signature does not verify")]
    BadSignature,
    /// A notification that is signed but not understood.
    #[error("the notification cannot be read: {0}")]
    Malformed(String),
    /// The acquirer's own storage failed (the test acquirer shares our database).
    #[error(transparent)]
    Store(#[from] Error),
}

impl From<ProviderError> for Error {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::Refused(m) => Error::conflict(m),
            ProviderError::Unavailable(m) => {
                tracing::warn!(error = %m, "card acquirer unavailable");
                Error::Unavailable
            }
            ProviderError::NotFound => Error::NotFound,
            ProviderError::BadSignature => Error::Unauthenticated,
            ProviderError::Malformed(m) => Error::invalid("body", m),
            ProviderError::Store(e) => e,
        }
    }
}

/// What ePošta asks the acquirer to charge.
#[derive(Debug, Clone)]
pub struct StartRequest<'a> {
    /// Our payment's id: the acquirer's "merchant reference".
    pub payment_id: Uuid,
    /// The amount to charge, fee included, in para (RSD).
    pub amount_para: i64,
    /// What the card holder sees on the acquirer's page: the confirmation number.
    pub description: &'a str,
    /// Where the acquirer sends the card holder back when they are done.
    pub return_url: &'a str,
}

/// A started card payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The acquirer's reference of the payment (its session or order id).
    pub provider_ref: String,
    /// The acquirer's hosted card page, where the card holder goes next.
    pub redirect_url: String,
}

/// A card payment's state at the acquirer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderStatus {
    /// Waiting for the card holder (on the card page or in the challenge).
    Open,
    /// Authorised and captured.
    Succeeded,
    /// Declined by the issuer, or the challenge failed; the reason has no card data.
    Declined { reason: String },
    /// Cancelled before the card holder paid.
    Cancelled,
}

/// A refund to ask for.
#[derive(Debug, Clone)]
pub struct RefundRequest<'a> {
    pub provider_ref: &'a str,
    /// Our refund's id, so that a retried request refunds once.
    pub refund_id: Uuid,
    pub amount_para: i64,
}

/// Where a refund stands at the acquirer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    Succeeded,
    /// Accepted; a notification will say how it ended.
    Pending,
    Failed {
        reason: String,
    },
}

/// The acquirer's answer to a refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    /// The acquirer's reference of the refund.
    pub provider_ref: String,
    pub state: RefundState,
}

/// What a verified notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationKind {
    Succeeded,
    Declined { reason: String },
    Cancelled,
    RefundSucceeded { refund_ref: String },
    RefundFailed { refund_ref: String, reason: String },
}

/// A verified notification from the acquirer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The acquirer's id of the notification (for logs; repeats are harmless).
    pub id: String,
    /// The acquirer's reference of the payment.
    pub provider_ref: String,
    /// The amount the acquirer charged, in para, when the notification says.
    pub amount_para: Option<i64>,
    pub kind: NotificationKind,
}

/// A card acquirer. Implementations must be cheap to share across requests.
pub trait PaymentProvider: Send + Sync {
    /// The name stored with each payment (`payments.provider`) and used in the notification
    /// URL (`/api/v1/payments/notifications/{name}`).
    fn name(&self) -> &'static str;

    /// Opens a payment at the acquirer; the card holder goes to `redirect_url`.
    fn start<'a>(&'a self, app: &'a App, request: StartRequest<'a>) -> ProviderFuture<'a, Started>;

    /// Asks the acquirer where a payment stands.
    fn status<'a>(
        &'a self,
        app: &'a App,
        provider_ref: &'a str,
    ) -> ProviderFuture<'a, ProviderStatus>;

    /// Cancels an open payment; answers where it stands afterwards (a payment the card
    /// holder completed meanwhile stays `Succeeded`).
    fn cancel<'a>(
        &'a self,
        app: &'a App,
        provider_ref: &'a str,
    ) -> ProviderFuture<'a, ProviderStatus>;

    /// Pays back part or all of a succeeded payment.
    fn refund<'a>(
        &'a self,
        app: &'a App,
        request: RefundRequest<'a>,
    ) -> ProviderFuture<'a, RefundOutcome>;

    /// Checks a notification's signature and reads it. Anything unsigned, wrongly signed or
    /// too old is [`ProviderError::BadSignature`].
    fn verify_notification(
        &self,
        app: &App,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, ProviderError>;
}

/// The acquirer new card payments go to, if card payments are available.
pub fn card_provider(app: &App) -> Option<Arc<dyn PaymentProvider>> {
    if app.config.payments_test_acquirer {
        return Some(Arc::new(test_acquirer::TestAcquirer));
    }
    None
}

/// The acquirer named `name` (for notifications and for payments started earlier), if it is
/// configured in this process.
pub fn by_name(app: &App, name: &str) -> Option<Arc<dyn PaymentProvider>> {
    match name {
        test_acquirer::NAME if app.config.payments_test_acquirer => {
            Some(Arc::new(test_acquirer::TestAcquirer))
        }
        _ => None,
    }
}
