//! SQL for tracking events. Events are keyed by (item, code, location, event time), so the
//! same event posted twice is stored once.

use chrono::{DateTime, Utc};
use eposta_kernel::Error;
use eposta_kernel::db::Exec;
use eposta_kernel::db_run;

/// One event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The S10 identifier, normalised (`RA123456785RS`).
    pub tracking_number: &'a str,
    /// The UPU event code (`EMA`, `EMH`, …).
    pub code: &'a str,
    /// The normalised status the code maps to.
    pub status: &'a str,
    /// The office or facility code where it happened.
    pub location: &'a str,
    pub event_time: DateTime<Utc>,
    pub reason_code: Option<&'a str>,
    pub action_code: Option<&'a str>,
    /// Why the event looks impossible in its sequence, if it does (kept, shown to staff).
    pub flag: Option<&'a str>,
    /// Who posted it: `counter:<office>`, `key:<id>`, `system`.
    pub source: &'a str,
    pub received_at: DateTime<Utc>,
}

/// Stores an event; false when the same event was stored before (nothing changes).
pub async fn insert_event(c: &mut impl Exec, e: &NewEvent<'_>) -> Result<bool, Error> {
    let n = db_run!(c, |c| {
        sqlx::query(
        "INSERT INTO tracking_events (tracking_number, code, status, location, event_time, reason_code, \
         action_code, flag, source, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (tracking_number, code, location, event_time) DO NOTHING"
    )
    .bind(e.tracking_number)
    .bind(e.code)
    .bind(e.status)
    .bind(e.location)
    .bind(e.event_time)
    .bind(e.reason_code)
    .bind(e.action_code)
    .bind(e.flag)
    .bind(e.source)
    .bind(e.received_at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}
