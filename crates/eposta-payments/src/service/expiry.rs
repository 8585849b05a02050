//! Pending payments past their deadline (`EPOSTA_PAYMENTS_CARD_MINUTES`,
//! `EPOSTA_PAYMENTS_IPS_HOURS`) expire. A card payment is cancelled at the acquirer first:
//! if the card holder paid meanwhile, the acquirer says so and the payment succeeds instead.
//! Every process that runs workers sweeps once a minute ([`super::sweeper`]); sweeping twice
//! at once is harmless, since every change is a compare-and-set.

use std::time::Duration as StdDuration;

use eposta_kernel::{App, Error};

use super::{Applied, Cause, Step, apply, get};
use crate::domain::{Event, Method, State};
use crate::provider::{self, ProviderStatus};
use crate::store;

/// How often a process sweeps.
pub const INTERVAL: StdDuration = StdDuration::from_secs(60);
/// Most payments one sweep looks at; the rest wait for the next.
pub const BATCH: i64 = 500;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub expired: usize,
    /// Card payments the acquirer reported paid or declined when asked to cancel them.
    pub settled: usize,
    /// Card payments left for the next sweep because the acquirer could not be reached.
    pub skipped: usize,
}

/// Expires (or settles) the pending payments whose deadline has passed.
pub async fn expire_due(app: &App) -> Result<Swept, Error> {
    let ids = {
        let mut conn = app.db.conn().await?;
        store::due_to_expire(&mut conn, app.now(), BATCH).await?
    };
    let mut swept = Swept::default();
    for id in ids {
        let p = get(app, id).await?;
        if p.state != State::Pending {
            continue;
        }
        let (event, cause) = match (p.method, p.provider.as_deref(), p.provider_ref.as_deref()) {
            (Method::Card, Some(name), Some(reference)) => {
                let Some(acquirer) = provider::by_name(app, name) else {
                    swept.skipped += 1;
                    continue;
                };
                match acquirer.cancel(app, reference).await {
                    Ok(ProviderStatus::Succeeded) => {
                        (Event::Succeed, Cause::provider(acquirer.name()))
                    }
                    Ok(ProviderStatus::Declined { .. }) => {
                        (Event::Fail, Cause::provider(acquirer.name()))
                    }
                    Ok(ProviderStatus::Cancelled | ProviderStatus::Open) => (
                        Event::Expire,
                        Cause::actor(eposta_kernel::audit::Actor::System),
                    ),
                    Err(e) => {
                        tracing::warn!(payment = %id, error = %e, "cannot cancel an expiring card payment at the acquirer");
                        swept.skipped += 1;
                        continue;
                    }
                }
            }
            _ => (
                Event::Expire,
                Cause::actor(eposta_kernel::audit::Actor::System),
            ),
        };
        match apply(app, id, Step::Event(event), &cause).await {
            Ok(Applied::Changed(_)) if event == Event::Expire => swept.expired += 1,
            Ok(Applied::Changed(_)) => swept.settled += 1,
            Ok(Applied::Unchanged(_)) | Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(swept)
}
