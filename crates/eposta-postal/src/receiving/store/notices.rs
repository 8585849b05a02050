//! SQL for the ledger of notices owed to recipients (`receiving_notices`).
//!
//! [`owe_notices`] runs in every batch of tracking events, so it costs one cheap statement
//! per batch (which of the batch's items are booked here: most inbound mail is not, and then
//! that is all) and one more when any is; never one per event. Both are written per dialect,
//! next to their twins: PostgreSQL takes the batch as arrays and probes the indexes once per
//! item through `LATERAL … LIMIT 1` subqueries, which fix the plan whatever the planner
//! believes about the tables' sizes (see `tracking::store::histories` for what a wrong belief
//! costs), so the prepared plan can be kept; SQLite, which has neither arrays nor `LATERAL`,
//! takes `IN` and `VALUES` lists and a window function.

use std::fmt;

use chrono::{DateTime, Utc};
use eposta_kernel::db::{Either, Exec};
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use super::placeholders;
use crate::tracking::fanout::StoredEvent;

/// Values per `IN (…)` list on SQLite (its limit is 32,766 parameters).
const SQLITE_CHUNK: usize = 500;

/// Which of these tracking numbers are booked here, with their items' ids.
async fn booked(c: &mut impl Exec, numbers: &[&str]) -> Result<Vec<(String, Uuid)>, Error> {
    let mut out = Vec::new();
    match c.exec() {
        Either::Postgres(c) => {
            out = sqlx::query_as::<_, (String, Uuid)>(
                "SELECT n.tn, p.id FROM UNNEST($1::text[]) AS n (tn) \
                 CROSS JOIN LATERAL (SELECT i.id FROM postal_items i \
                   WHERE i.tracking_number = n.tn LIMIT 1) p",
            )
            .bind(numbers)
            .fetch_all(&mut *c)
            .await?;
        }
        Either::Sqlite(c) => {
            for chunk in numbers.chunks(SQLITE_CHUNK) {
                let sql = format!(
                    "SELECT tracking_number, id FROM postal_items WHERE tracking_number IN ({})",
                    placeholders(1, chunk.len())
                );
                let mut q = sqlx::query_as::<_, (String, Uuid)>(&sql);
                for n in chunk {
                    q = q.bind(*n);
                }
                out.extend(q.fetch_all(&mut *c).await?);
            }
        }
    }
    Ok(out)
}

/// Records the notices that `candidates` call for, and returns their ids. Each candidate is
/// the newest event a batch stored for its item, of a status recipients hear about (see
/// `notices::candidates`); it calls for a notice when its item is booked here, it is still
/// the item's newest event among all stored (a late, older event is not news), and the event
/// before it had another status (a repeated status is not news either).
pub async fn owe_notices(
    c: &mut impl Exec,
    candidates: &[&StoredEvent],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, Error> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<&str> = candidates
        .iter()
        .map(|e| e.tracking_number.as_str())
        .collect();
    let items: std::collections::HashMap<String, Uuid> =
        booked(c, &numbers).await?.into_iter().collect();
    let owed: Vec<(Uuid, &StoredEvent)> = candidates
        .iter()
        .filter_map(|e| items.get(&e.tracking_number).map(|id| (*id, *e)))
        .collect();
    if owed.is_empty() {
        return Ok(Vec::new());
    }
    match c.exec() {
        Either::Postgres(c) => Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO receiving_notices (item_id, status, location, event_time, created_at) \
             SELECT s.id, e.status, e.location, e.event_time, $6 \
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) \
               AS s (id, tn, code, location, event_time) \
             CROSS JOIN LATERAL (SELECT t.id, t.code, t.status, t.location, t.event_time \
               FROM tracking_events t WHERE t.tracking_number = s.tn \
               ORDER BY t.event_time DESC, t.id DESC LIMIT 1) e \
             LEFT JOIN LATERAL (SELECT t.status FROM tracking_events t \
               WHERE t.tracking_number = s.tn AND (t.event_time, t.id) < (e.event_time, e.id) \
               ORDER BY t.event_time DESC, t.id DESC LIMIT 1) prev ON true \
             WHERE e.code = s.code AND e.location = s.location AND e.event_time = s.event_time \
               AND prev.status IS DISTINCT FROM e.status \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(owed.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(
            owed.iter()
                .map(|(_, e)| e.tracking_number.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(owed.iter().map(|(_, e)| e.code).collect::<Vec<_>>())
        .bind(
            owed.iter()
                .map(|(_, e)| e.location.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(owed.iter().map(|(_, e)| e.event_time).collect::<Vec<_>>())
        .bind(now)
        .fetch_all(&mut *c)
        .await?),
        Either::Sqlite(c) => {
            let mut ids = Vec::new();
            for chunk in owed.chunks(SQLITE_CHUNK) {
                ids.extend(owe_notices_sqlite(c, chunk, now).await?);
            }
            Ok(ids)
        }
    }
}

async fn owe_notices_sqlite(
    c: &mut sqlx::SqliteConnection,
    owed: &[(Uuid, &StoredEvent)],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, Error> {
    let values = (0..owed.len())
        .map(|i| format!("({})", placeholders(2 + i * 5, 5)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH s (id, tn, code, location, event_time) AS (VALUES {values}), \
         ranked AS ( \
           SELECT t.tracking_number, t.code, t.status, t.location, t.event_time, \
             ROW_NUMBER() OVER w AS rn, LEAD(t.status) OVER w AS prev_status \
           FROM tracking_events t WHERE t.tracking_number IN (SELECT tn FROM s) \
           WINDOW w AS (PARTITION BY t.tracking_number \
             ORDER BY t.event_time DESC, t.id DESC)) \
         INSERT INTO receiving_notices (item_id, status, location, event_time, created_at) \
         SELECT s.id, r.status, r.location, r.event_time, $1 \
         FROM s JOIN ranked r ON r.tracking_number = s.tn \
         WHERE r.rn = 1 AND r.code = s.code AND r.location = s.location \
           AND r.event_time = s.event_time \
           AND (r.prev_status IS NULL OR r.prev_status <> r.status) \
         ON CONFLICT DO NOTHING RETURNING id"
    );
    let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(now);
    for (id, e) in owed {
        q = q
            .bind(*id)
            .bind(e.tracking_number.as_str())
            .bind(e.code)
            .bind(e.location.as_str())
            .bind(e.event_time);
    }
    Ok(q.fetch_all(&mut *c).await?)
}

/// Marks these notices queued, unless they were already, and returns those it marked: the
/// job that sends them takes each exactly once even if it runs twice.
pub async fn claim_notices(
    c: &mut impl Exec,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, Error> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "UPDATE receiving_notices SET queued_at = $1 \
             WHERE queued_at IS NULL AND id IN ({}) RETURNING id",
            placeholders(2, chunk.len())
        );
        let claimed: Vec<i64> = db_run!(c, |c| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(now);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await
        })?;
        out.extend(claimed);
    }
    Ok(out)
}

/// What a notice says: the item, its recipient's contacts, the event, and the office where
/// the event happened (and the one the recipient chose, for items waiting elsewhere).
#[derive(Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: i64,
    pub status: String,
    pub location: String,
    pub event_time: DateTime<Utc>,
    pub tracking_number: String,
    pub recipient_phone: Option<String>,
    pub recipient_email: Option<String>,
    pub cod_minor: Option<i64>,
    pub options: String,
    pub office_name: Option<String>,
    pub office_address: Option<String>,
    pub office_hours: Option<String>,
    pub chosen_name: Option<String>,
    pub chosen_address: Option<String>,
    pub chosen_hours: Option<String>,
}

/// Contacts stay out of `Debug`.
impl fmt::Debug for NoticeRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoticeRow")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("tracking_number", &self.tracking_number)
            .finish_non_exhaustive()
    }
}

pub async fn notices(c: &mut impl Exec, ids: &[i64]) -> Result<Vec<NoticeRow>, Error> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT n.id, n.status, n.location, n.event_time, p.tracking_number, \
             p.recipient_phone, p.recipient_email, p.cod_minor, p.options, \
             o.name AS office_name, o.address AS office_address, \
             o.opening_hours AS office_hours, co.name AS chosen_name, \
             co.address AS chosen_address, co.opening_hours AS chosen_hours \
             FROM receiving_notices n \
             JOIN postal_items p ON p.id = n.item_id \
             LEFT JOIN offices o ON o.code = n.location \
             LEFT JOIN receiving_choices ch ON ch.item_id = n.item_id \
             LEFT JOIN offices co ON co.id = ch.office_id \
             WHERE n.id IN ({}) ORDER BY n.id",
            placeholders(1, chunk.len())
        );
        let rows: Vec<NoticeRow> = db_run!(c, |c| {
            let mut q = sqlx::query_as::<_, NoticeRow>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}
