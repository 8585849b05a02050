//! What follows from stored tracking events: the recipient's notices and the business's
//! webhooks. Both are written in the transaction that stores the events (as outbox rows and
//! jobs), so a notice or a webhook delivery exists exactly when its event does, and the HTTP
//! request or SMTP conversation happens later in a job, never while a scanner waits.

use chrono::{DateTime, Utc};
use eposta_kernel::db::Tx;
use eposta_kernel::{App, Error};

use super::domain::{Flag, Status};

/// One event that was stored just now (a repeated event is not one).
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub tracking_number: String,
    pub code: &'static str,
    pub status: Status,
    pub location: String,
    pub event_time: DateTime<Utc>,
    pub reason_code: Option<&'static str>,
    pub action_code: Option<&'static str>,
    pub flag: Option<Flag>,
}

/// Called once per batch, inside its transaction, with the events it stored, in the order
/// posted. Items not booked here (inbound international mail) have no one to tell.
pub async fn events_stored(app: &App, tx: &mut Tx, events: &[StoredEvent]) -> Result<(), Error> {
    if events.is_empty() {
        return Ok(());
    }
    crate::webhooks::tracking_updated(app, tx, events).await?;
    crate::receiving::notices::events_stored(app, tx, events).await?;
    Ok(())
}
