//! Bill payments (issue #5): payment orders (uplatnica) paid from home by card through an
//! acquirer's hosted page or by NBS IPS instant transfer (QR code), at the counter in cash;
//! refunds; citizens' saved payees. docs/payments.md describes the model, the states, the
//! flows and how a real acquirer plugs in.
//!
//! - [`domain`]: pure rules: the state machine ([`domain::transition`]), payment orders and
//!   their validation, confirmation numbers and collection references.
//! - [`fees`]: the fee schedule (TOML) and the fee of a payment.
//! - [`model`]: [`model::Payment`], what other capabilities read.
//! - [`store`]: SQL. [`service`]: use cases, transactions, authorisation.
//! - [`provider`]: the [`provider::PaymentProvider`] interface and the local test acquirer.
//! - [`api`]: `/api/v1/payments`. [`pages`]: the citizen's pages under `/payments`.
//! - [`receipt`]: signed receipts (PDF, `/receipts/verify`); [`service::receipts`] issues a
//!   paid payment's.
//! - [`counter`]: cash payments at the counter and each clerk's daily cash balance.
//! - [`reconcile`]: camt.053 bank statements complete IPS payments; [`remittance`]: daily
//!   pain.001 batches to the payees (docs/payments-reconciliation.md).

pub mod api;
pub mod counter;
pub mod domain;
pub mod fees;
pub mod model;
pub mod pages;
pub mod provider;
pub mod receipt;
pub mod reconcile;
pub mod remittance;
pub mod service;
pub mod settings;
pub mod store;

use eposta_kernel::Error;
use eposta_kernel::config::Config;
use eposta_kernel::jobs::Registry;
use eposta_kernel::web::Routes;

pub use model::Payment;
pub use service::transfer::{NotMatched, TransferMatch, complete_by_transfer};

/// Checks the capability's settings (fee file, collection account, deadlines). `eposta
/// serve` calls it before anything else, so a bad setting stops start-up naming it.
pub fn check_config(config: &Config) -> Result<(), Error> {
    receipt::check_config(config)?;
    settings::check_config(config)
}

/// Every route of the capability, with its access rules.
pub fn routes() -> Routes {
    Routes::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(provider::test_acquirer::pages::routes())
        .merge(receipt::routes())
        .merge(counter::routes())
        .merge(reconcile::pages::routes())
        .merge(remittance::pages::routes())
}

/// The capability's job kinds, added to the process's registry.
pub fn jobs(registry: Registry) -> Registry {
    registry
        .register::<provider::test_acquirer::pages::NotifyMerchant>()
        .register::<remittance::RemitDay>()
        .register::<service::late::RefundLateCapture>()
}
