//! Postal items' webhooks: each stored tracking event of an item that an organisation booked
//! through the API becomes a `tracking.updated` event for that organisation, which the kernel
//! delivers, signed, to each of its endpoints that takes the type (see docs/webhooks.md).
//! Called from `tracking::fanout` inside the transaction that stores the events.

use std::collections::HashMap;

use chrono::SecondsFormat;
use eposta_kernel::db::{Either, Exec, Tx};
use eposta_kernel::webhooks::{self, Event};
use eposta_kernel::{App, Error};
use serde_json::json;
use uuid::Uuid;

use crate::tracking::fanout::StoredEvent;

/// The event type of a new tracking event.
pub const TRACKING_UPDATED: &str = "tracking.updated";

/// Enqueues a `tracking.updated` delivery for every event of `events` whose item an
/// organisation booked. One query finds the booking organisations of the whole batch; the
/// kernel then needs a few statements for all the deliveries together, and none when no
/// organisation booked any of the items (scanners' batches are mostly other mail).
pub async fn tracking_updated(app: &App, tx: &mut Tx, events: &[StoredEvent]) -> Result<(), Error> {
    let mut numbers: Vec<&str> = events.iter().map(|e| e.tracking_number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let owners = booking_organisations(tx, &numbers).await?;
    if owners.is_empty() {
        return Ok(());
    }
    let hooks: Vec<Event> = events
        .iter()
        .filter_map(|e| {
            owners.get(&e.tracking_number).map(|org| Event {
                organisation_id: *org,
                data: json!({
                    "tracking_number": e.tracking_number,
                    "code": e.code,
                    "status": e.status.as_str(),
                    "location": e.location,
                    "event_time": e.event_time.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "reason_code": e.reason_code,
                    "action_code": e.action_code,
                }),
            })
        })
        .collect();
    let n = webhooks::enqueue(tx, app.now(), TRACKING_UPDATED, &hooks).await?;
    if n > 0 {
        tracing::debug!(deliveries = n, "tracking webhooks enqueued");
    }
    Ok(())
}

/// The organisation that booked each of these items, for those an organisation booked.
///
/// PostgreSQL takes the numbers as one array and probes the unique index once per item (as
/// the tracking store's history query does, for the same reason); SQLite, without arrays,
/// takes `IN` lists of at most 500.
async fn booking_organisations(
    c: &mut impl Exec,
    numbers: &[&str],
) -> Result<HashMap<String, Uuid>, Error> {
    let mut out = HashMap::new();
    if numbers.is_empty() {
        return Ok(out);
    }
    match c.exec() {
        Either::Sqlite(c) => {
            for chunk in numbers.chunks(500) {
                let list = (1..=chunk.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT tracking_number, booked_by_organisation FROM postal_items \
                     WHERE tracking_number IN ({list}) AND booked_by_organisation IS NOT NULL"
                );
                let mut q = sqlx::query_as::<_, (String, Uuid)>(&sql);
                for n in chunk {
                    q = q.bind(*n);
                }
                out.extend(q.fetch_all(&mut *c).await?);
            }
        }
        Either::Postgres(c) => {
            out.extend(
                sqlx::query_as::<_, (String, Uuid)>(
                    "SELECT i.tracking_number, i.booked_by_organisation \
                     FROM UNNEST($1::text[]) AS n (tracking_number) \
                     JOIN postal_items i ON i.tracking_number = n.tracking_number \
                     WHERE i.booked_by_organisation IS NOT NULL",
                )
                .bind(numbers)
                .fetch_all(&mut *c)
                .await?,
            );
        }
    }
    Ok(out)
}
