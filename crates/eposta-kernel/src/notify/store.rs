//! SQL for the outbox table.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Message, Status};
use crate::db::Exec;
use crate::db_run;
use crate::error::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: Uuid,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, channel, recipient, subject, body, status, attempts, last_error, created_at, sent_at";

pub async fn insert(
    c: &mut impl Exec,
    id: Uuid,
    msg: &Message,
    status: Status,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, body, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(id)
    .bind(msg.channel.as_str())
    .bind(&msg.recipient)
    .bind(&msg.subject)
    .bind(&msg.body)
    .bind(status.as_str())
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<OutboxRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, OutboxRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// The newest outbox messages, for the admin console.
pub async fn recent(c: &mut impl Exec, limit: i64) -> Result<Vec<OutboxRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, OutboxRow>(&sql)
        .bind(limit)
        .fetch_all(&mut *c)
        .await)?)
}

/// Counts a delivery attempt and records how it ended: `Sent` (with `sent_at`), `Queued`
/// again with the error (a retry follows), or `Failed`. Only a `queued` message changes, so
/// a late or repeated delivery never turns `sent` back. Returns false if nothing changed.
pub async fn record_attempt(
    c: &mut impl Exec,
    id: Uuid,
    status: Status,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let sent_at = (status == Status::Sent).then_some(now);
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE outbox SET status = $2, attempts = attempts + 1, last_error = $3, sent_at = $4 \
         WHERE id = $1 AND status = 'queued'"
    )
    .bind(id)
    .bind(status.as_str())
    .bind(error)
    .bind(sent_at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Marks a queued message failed without counting an attempt (the queue gave up).
pub async fn mark_failed(c: &mut impl Exec, id: Uuid, error: &str) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE outbox SET status = 'failed', last_error = COALESCE(last_error, $2) \
         WHERE id = $1 AND status = 'queued'"
    )
    .bind(id)
    .bind(error)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
