//! SQL for tracking events and facilities. Events are keyed by (item, code, location, event
//! time), so the same event posted twice is stored once.
//!
//! Two statements are written per dialect, next to each other, because ingest must be fast
//! (issue #4: 50,000 events/s): on PostgreSQL a batch goes in as one `INSERT … SELECT FROM
//! UNNEST(arrays)` and the items' histories come from one `UNNEST` of an array, one statement
//! whatever the batch size; SQLite, which has no arrays, takes multi-row `VALUES` lists and
//! `IN` lists in fixed-size chunks.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use eposta_kernel::Error;
use eposta_kernel::db::{Either, Exec};
use eposta_kernel::db_run;

use super::domain::{History, Status};
use super::summary;

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

const INSERT_ONE: &str = "INSERT INTO tracking_events (tracking_number, code, status, location, \
     event_time, reason_code, action_code, flag, source, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (tracking_number, code, location, event_time) DO NOTHING";

/// Stores an event; false when the same event was stored before (nothing changes).
pub async fn insert_event(c: &mut impl Exec, e: &NewEvent<'_>) -> Result<bool, Error> {
    let n = db_run!(c, |c| {
        sqlx::query(INSERT_ONE)
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
    if n == 1 {
        let mut line = String::new();
        summary::push(&mut line, &summary_line(e));
        append_summaries(c, vec![(e.tracking_number, line)]).await?;
    }
    Ok(n == 1)
}

fn summary_line<'a>(e: &NewEvent<'a>) -> summary::Line<'a> {
    summary::Line {
        code: e.code,
        status: e.status,
        location: e.location,
        event_time: e.event_time,
        reason_code: e.reason_code,
        action_code: e.action_code,
    }
}

/// Appends the lines of newly stored events to their items' summaries (creating those not
/// there yet), one statement per batch on PostgreSQL. Items go in tracking-number order, so
/// two batches that touch the same items lock their rows in the same order and never wait
/// for each other in a circle.
async fn append_summaries(c: &mut impl Exec, mut lines: Vec<(&str, String)>) -> Result<(), Error> {
    lines.sort_unstable_by(|a, b| a.0.cmp(b.0));
    match c.exec() {
        Either::Sqlite(c) => {
            for chunk in lines.chunks(SQLITE_CHUNK) {
                let values = (0..chunk.len())
                    .map(|i| format!("({})", placeholders(i * 2 + 1, 2)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO tracking_summaries (tracking_number, events) VALUES {values} \
                     ON CONFLICT (tracking_number) DO UPDATE \
                     SET events = tracking_summaries.events || char(10) || excluded.events"
                );
                let mut q = sqlx::query(&sql);
                for (number, text) in chunk {
                    q = q.bind(*number).bind(text.as_str());
                }
                q.execute(&mut *c).await?;
            }
        }
        Either::Postgres(c) => {
            let (numbers, texts): (Vec<&str>, Vec<&str>) =
                lines.iter().map(|(n, t)| (*n, t.as_str())).unzip();
            sqlx::query(
                "INSERT INTO tracking_summaries (tracking_number, events) \
                 SELECT * FROM UNNEST($1::text[], $2::text[]) \
                 ON CONFLICT (tracking_number) DO UPDATE \
                 SET events = tracking_summaries.events || E'\\n' || excluded.events",
            )
            .bind(numbers)
            .bind(texts)
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

/// The summaries of these items (those that have events), as stored.
async fn summaries(c: &mut impl Exec, numbers: &[&str]) -> Result<Vec<(String, String)>, Error> {
    let mut rows = Vec::new();
    if let [number] = numbers {
        // The lookup of one item, the usual case: one primary-key probe, as a prepared
        // statement.
        rows.extend(db_run!(c, |c| {
            sqlx::query_as::<_, (String, String)>(
                "SELECT tracking_number, events FROM tracking_summaries \
                 WHERE tracking_number = $1",
            )
            .bind(*number)
            .fetch_optional(&mut *c)
            .await
        })?);
        return Ok(rows);
    }
    match c.exec() {
        Either::Sqlite(c) => {
            for chunk in numbers.chunks(SQLITE_CHUNK) {
                let sql = format!(
                    "SELECT tracking_number, events FROM tracking_summaries \
                     WHERE tracking_number IN ({})",
                    placeholders(1, chunk.len())
                );
                let mut q = sqlx::query_as::<_, (String, String)>(&sql);
                for n in chunk {
                    q = q.bind(*n);
                }
                rows.extend(q.fetch_all(&mut *c).await?);
            }
        }
        Either::Postgres(c) => {
            // One primary-key probe per item, whatever the planner believes about the
            // table: a long `= ANY($1)` is estimated, before the first ANALYZE, to match most
            // of it and gets a sequential scan that slows every batch as the table grows
            // (seen in the ingest benchmark).
            rows = sqlx::query_as::<_, (String, String)>(
                "SELECT s.tracking_number, s.events FROM UNNEST($1::text[]) AS n (tn) \
                 CROSS JOIN LATERAL (SELECT tracking_number, events FROM tracking_summaries \
                 WHERE tracking_number = n.tn) s",
            )
            .bind(numbers)
            .fetch_all(&mut *c)
            .await?;
        }
    }
    Ok(rows)
}

/// Stores a batch of events, whose keys must be distinct and which all share the first one's
/// `source` and `received_at`; for each, whether it was new (false: the same event was stored
/// before).
pub async fn insert_events(c: &mut impl Exec, events: &[NewEvent<'_>]) -> Result<Vec<bool>, Error> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    type Key = (String, String, String, DateTime<Utc>);
    let mut new: HashSet<Key> = HashSet::with_capacity(events.len());
    match c.exec() {
        Either::Sqlite(c) => {
            // Each statement is a round trip to SQLite's worker thread, so rows go in
            // SQLITE_ROWS at a time (the same text, and so the same prepared statement, for
            // every full chunk).
            for chunk in events.chunks(SQLITE_ROWS) {
                let values = (0..chunk.len())
                    .map(|i| format!("({})", placeholders(i * 10 + 1, 10)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO tracking_events (tracking_number, code, status, location, \
                     event_time, reason_code, action_code, flag, source, received_at) \
                     VALUES {values} \
                     ON CONFLICT (tracking_number, code, location, event_time) DO NOTHING \
                     RETURNING tracking_number, code, location, event_time"
                );
                let mut q = sqlx::query_as::<_, Key>(&sql);
                for e in chunk {
                    q = q
                        .bind(e.tracking_number)
                        .bind(e.code)
                        .bind(e.status)
                        .bind(e.location)
                        .bind(e.event_time)
                        .bind(e.reason_code)
                        .bind(e.action_code)
                        .bind(e.flag)
                        .bind(e.source)
                        .bind(e.received_at);
                }
                new.extend(q.fetch_all(&mut *c).await?);
            }
        }
        Either::Postgres(c) => {
            new.extend(
                sqlx::query_as::<_, Key>(
                    "INSERT INTO tracking_events (tracking_number, code, status, location, \
                     event_time, reason_code, action_code, flag, source, received_at) \
                     SELECT t.*, $9::text, $10::timestamptz FROM UNNEST($1::text[], $2::text[], \
                     $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], \
                     $8::text[]) AS t \
                     ON CONFLICT (tracking_number, code, location, event_time) DO NOTHING \
                     RETURNING tracking_number, code, location, event_time",
                )
                .bind(events.iter().map(|e| e.tracking_number).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.code).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.status).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.location).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.event_time).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.reason_code).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.action_code).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.flag).collect::<Vec<_>>())
                .bind(events[0].source)
                .bind(events[0].received_at)
                .fetch_all(&mut *c)
                .await?,
            );
        }
    }
    // Rows come back only when inserted; their keys tell which ones were.
    let stored: Vec<bool> = events
        .iter()
        .map(|e| {
            new.contains(&(
                e.tracking_number.to_owned(),
                e.code.to_owned(),
                e.location.to_owned(),
                e.event_time,
            ))
        })
        .collect();
    let mut lines: HashMap<&str, String> = HashMap::new();
    for (e, _) in events.iter().zip(&stored).filter(|(_, stored)| **stored) {
        summary::push(
            lines.entry(e.tracking_number).or_default(),
            &summary_line(e),
        );
    }
    if !lines.is_empty() {
        append_summaries(c, lines.into_iter().collect()).await?;
    }
    Ok(stored)
}

/// Rows per INSERT on SQLite: 10 parameters each, far below its limit of 32,766.
const SQLITE_ROWS: usize = 100;

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Values per `IN (…)` list on SQLite (its limit is 32,766 parameters).
const SQLITE_CHUNK: usize = 500;

/// What the flag rules need of each item's stored events (an item without events is absent or
/// has an empty history), from the items' summaries: one primary-key probe per item.
pub async fn histories(
    c: &mut impl Exec,
    numbers: &[&str],
) -> Result<HashMap<String, History>, Error> {
    let mut out = HashMap::with_capacity(numbers.len());
    for (number, text) in summaries(c, numbers).await? {
        let mut history = History::default();
        for line in summary::parse(&number, &text)? {
            history.record(status_of(line.status), line.event_time);
        }
        out.insert(number, history);
    }
    Ok(out)
}

/// Which of `codes` name an office or a registered facility.
pub async fn known_locations(c: &mut impl Exec, codes: &[&str]) -> Result<HashSet<String>, Error> {
    let mut out = HashSet::new();
    // A batch names few distinct places, so a plain `IN` list serves both databases.
    for chunk in codes.chunks(SQLITE_CHUNK) {
        let list = placeholders(1, chunk.len());
        let sql = format!(
            "SELECT code FROM offices WHERE code IN ({list}) \
             UNION SELECT code FROM postal_facilities WHERE code IN ({list})"
        );
        let found: Vec<String> = db_run!(c, |c| {
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for code in chunk {
                q = q.bind(*code);
            }
            q.fetch_all(&mut *c).await
        })?;
        out.extend(found);
    }
    Ok(out)
}

/// An event as a lookup shows it (the name of its place comes from `places`).
#[derive(Debug, Clone)]
pub struct EventRow {
    pub tracking_number: String,
    pub code: String,
    pub status: String,
    pub location: String,
    pub event_time: DateTime<Utc>,
    pub reason_code: Option<String>,
    pub action_code: Option<String>,
}

/// Every event of these items (at most a few dozen items), in event-time order, events at
/// the same time in the order they were stored. Read from the items' summaries: one row per
/// item by primary key, however many events it has.
pub async fn events_of(c: &mut impl Exec, numbers: &[&str]) -> Result<Vec<EventRow>, Error> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for (number, text) in summaries(c, numbers).await? {
        for line in summary::parse(&number, &text)? {
            rows.push(EventRow {
                tracking_number: number.clone(),
                code: line.code.to_owned(),
                status: line.status.to_owned(),
                location: line.location.to_owned(),
                event_time: line.event_time,
                reason_code: line.reason_code.map(str::to_owned),
                action_code: line.action_code.map(str::to_owned),
            });
        }
    }
    // Stable: equal times keep the order of storing.
    rows.sort_by_key(|r| r.event_time);
    Ok(rows)
}

/// The names of the offices and facilities among `codes` (a code is one or the other).
pub async fn place_names(
    c: &mut impl Exec,
    codes: &[&str],
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for chunk in codes.chunks(SQLITE_CHUNK) {
        let list = placeholders(1, chunk.len());
        let sql = format!(
            "SELECT code, name FROM offices WHERE code IN ({list}) \
             UNION ALL SELECT code, name FROM postal_facilities WHERE code IN ({list})"
        );
        let found: Vec<(String, String)> = db_run!(c, |c| {
            let mut q = sqlx::query_as::<_, (String, String)>(&sql);
            for code in chunk {
                q = q.bind(*code);
            }
            q.fetch_all(&mut *c).await
        })?;
        out.extend(found);
    }
    Ok(out)
}

/// Which of these items were booked (in `postal_items`), so that a lookup can tell "booked,
/// not yet handed in" from "unknown". Only the tracking number is read: no personal data.
pub async fn booked(c: &mut impl Exec, numbers: &[&str]) -> Result<HashSet<String>, Error> {
    if numbers.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "SELECT tracking_number FROM postal_items WHERE tracking_number IN ({})",
        placeholders(1, numbers.len())
    );
    let found: Vec<String> = db_run!(c, |c| {
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for n in numbers {
            q = q.bind(*n);
        }
        q.fetch_all(&mut *c).await
    })?;
    Ok(found.into_iter().collect())
}

/// A flagged event, for staff.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlaggedRow {
    pub id: i64,
    pub tracking_number: String,
    pub code: String,
    pub status: String,
    pub location: String,
    pub place: Option<String>,
    pub event_time: DateTime<Utc>,
    pub flag: String,
    pub source: String,
    pub received_at: DateTime<Utc>,
}

/// Flagged events, newest first: at one location, or everywhere.
pub async fn flagged(
    c: &mut impl Exec,
    location: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<FlaggedRow>, Error> {
    let filter = if location.is_some() {
        "AND e.location = $3"
    } else {
        ""
    };
    let sql = format!(
        "SELECT e.id, e.tracking_number, e.code, e.status, e.location, \
         COALESCE(o.name, f.name) AS place, e.event_time, e.flag, e.source, e.received_at \
         FROM tracking_events e \
         LEFT JOIN offices o ON o.code = e.location \
         LEFT JOIN postal_facilities f ON f.code = e.location \
         WHERE e.flag IS NOT NULL {filter} ORDER BY e.id DESC LIMIT $1 OFFSET $2"
    );
    Ok(db_run!(c, |c| {
        let mut q = sqlx::query_as::<_, FlaggedRow>(&sql)
            .bind(limit)
            .bind(offset);
        if let Some(l) = location {
            q = q.bind(l);
        }
        q.fetch_all(&mut *c).await
    })?)
}

/// A registered facility.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FacilityRow {
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn facilities(c: &mut impl Exec) -> Result<Vec<FacilityRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, FacilityRow>(
        "SELECT code, name, created_at, updated_at FROM postal_facilities ORDER BY code"
    )
    .fetch_all(&mut *c)
    .await)?)
}

/// Adds a facility or renames the one with this code; true when added.
pub async fn upsert_facility(
    c: &mut impl Exec,
    code: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let created: DateTime<Utc> = db_run!(c, |c| sqlx::query_scalar(
        "INSERT INTO postal_facilities (code, name, created_at, updated_at) \
         VALUES ($1, $2, $3, $3) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at \
         RETURNING created_at"
    )
    .bind(code)
    .bind(name)
    .bind(now)
    .fetch_one(&mut *c)
    .await)?;
    Ok(created == now)
}

/// Whether an office has this code (a facility may not take it).
/// Locks an item's record of events (its summary row) until the transaction ends, so that a
/// decision taken on the item's newest event (a hand-over at the counter) is not taken twice
/// at once: on PostgreSQL this no-op update holds the row lock that storing an event takes
/// too; on SQLite the one writer serialises write transactions anyway. One text for both.
/// False when the item has no events.
pub async fn lock_events(c: &mut impl Exec, tracking_number: &str) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE tracking_summaries SET events = events WHERE tracking_number = $1"
    )
    .bind(tracking_number)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn office_exists(c: &mut impl Exec, code: &str) -> Result<bool, Error> {
    let n: i64 = db_run!(c, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM offices WHERE code = $1"
    )
    .bind(code)
    .fetch_one(&mut *c)
    .await)?;
    Ok(n > 0)
}

/// The status a stored status text stands for (an unknown text, which only a hand-edited
/// row could hold, reads as in transit rather than failing the page).
pub fn status_of(text: &str) -> Status {
    Status::parse(text).unwrap_or(Status::InTransit)
}
