//! SQL for the ledger of notices owed to recipients (`receiving_notices`).
//!
//! [`owe_notices`] runs in every batch of tracking events and must stay one statement
//! whatever the batch size, so it is written per dialect, next to its twin: PostgreSQL takes
//! the batch as arrays and finds each item's newest events with an index probe per item;
//! SQLite, which has neither arrays nor `LATERAL`, takes a `VALUES` list and a window function.

use std::fmt;

use chrono::{DateTime, Utc};
use eposta_kernel::db::{Either, Exec};
use eposta_kernel::{Error, db_run};

use super::placeholders;
use crate::tracking::fanout::StoredEvent;

/// The statuses of `notices::NOTICE_STATUSES`, as SQL.
const NEWS: &str = "('accepted', 'out_for_delivery', 'available_for_pickup', 'delivered')";

/// Records the notices that stored events call for, and returns their ids. An event calls
/// for one when its status is one that recipients hear about, its item is booked here, it is
/// now the item's newest event (a late, older event is not news), and the event before it
/// had another status (a repeated status is not news either). One statement per batch.
pub async fn owe_notices(
    c: &mut impl Exec,
    events: &[&StoredEvent],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, Error> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    match c.exec() {
        Either::Postgres(c) => {
            let sql = format!(
                "WITH s (tn, code, location, event_time) AS ( \
                   SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[])), \
                 newest AS ( \
                   SELECT p.id AS item_id, e.tracking_number, e.code, e.status, e.location, \
                     e.event_time, prev.status AS prev_status \
                   FROM (SELECT DISTINCT tn FROM s) n \
                   JOIN postal_items p ON p.tracking_number = n.tn \
                   CROSS JOIN LATERAL (SELECT t.id, t.tracking_number, t.code, t.status, \
                       t.location, t.event_time FROM tracking_events t \
                     WHERE t.tracking_number = n.tn \
                     ORDER BY t.event_time DESC, t.id DESC LIMIT 1) e \
                   LEFT JOIN LATERAL (SELECT t.status FROM tracking_events t \
                     WHERE t.tracking_number = n.tn \
                       AND (t.event_time, t.id) < (e.event_time, e.id) \
                     ORDER BY t.event_time DESC, t.id DESC LIMIT 1) prev ON true) \
                 INSERT INTO receiving_notices (item_id, status, location, event_time, \
                   created_at) \
                 SELECT w.item_id, w.status, w.location, w.event_time, $5 FROM newest w \
                 WHERE w.status IN {NEWS} AND w.prev_status IS DISTINCT FROM w.status \
                   AND EXISTS (SELECT 1 FROM s WHERE s.tn = w.tracking_number \
                     AND s.code = w.code AND s.location = w.location \
                     AND s.event_time = w.event_time) \
                 ON CONFLICT DO NOTHING RETURNING id"
            );
            // Planned each time, as `tracking::store::histories` is, for the same reason.
            Ok(sqlx::query_scalar::<_, i64>(&sql)
                .persistent(false)
                .bind(
                    events
                        .iter()
                        .map(|e| e.tracking_number.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(events.iter().map(|e| e.code).collect::<Vec<_>>())
                .bind(
                    events
                        .iter()
                        .map(|e| e.location.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(events.iter().map(|e| e.event_time).collect::<Vec<_>>())
                .bind(now)
                .fetch_all(&mut *c)
                .await?)
        }
        Either::Sqlite(c) => {
            let mut ids = Vec::new();
            // 4 parameters per event: a batch of 1,000 stays far below SQLite's 32,766.
            for chunk in events.chunks(SQLITE_EVENTS) {
                ids.extend(owe_notices_sqlite(c, chunk, now).await?);
            }
            Ok(ids)
        }
    }
}

/// Events per statement of [`owe_notices`] on SQLite.
const SQLITE_EVENTS: usize = 1_000;

async fn owe_notices_sqlite(
    c: &mut sqlx::SqliteConnection,
    events: &[&StoredEvent],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, Error> {
    let values = (0..events.len())
        .map(|i| format!("({})", placeholders(2 + i * 4, 4)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH s (tn, code, location, event_time) AS (VALUES {values}), \
         ranked AS ( \
           SELECT t.tracking_number, t.code, t.status, t.location, t.event_time, \
             ROW_NUMBER() OVER w AS rn, LEAD(t.status) OVER w AS prev_status \
           FROM tracking_events t \
           WHERE t.tracking_number IN (SELECT s.tn FROM s \
             JOIN postal_items p ON p.tracking_number = s.tn) \
           WINDOW w AS (PARTITION BY t.tracking_number \
             ORDER BY t.event_time DESC, t.id DESC)) \
         INSERT INTO receiving_notices (item_id, status, location, event_time, \
           created_at) \
         SELECT p.id, r.status, r.location, r.event_time, $1 \
         FROM ranked r JOIN postal_items p ON p.tracking_number = r.tracking_number \
         WHERE r.rn = 1 AND r.status IN {NEWS} \
           AND (r.prev_status IS NULL OR r.prev_status <> r.status) \
           AND EXISTS (SELECT 1 FROM s WHERE s.tn = r.tracking_number \
             AND s.code = r.code AND s.location = r.location \
             AND s.event_time = r.event_time) \
         ON CONFLICT DO NOTHING RETURNING id"
    );
    let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(now);
    for e in events {
        q = q
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
