//! SQL for idempotency keys: one row per (scope, key), a placeholder while the first request
//! runs (`status` NULL), then its stored answer.

use chrono::{DateTime, Utc};

use crate::db::Exec;
use crate::db_run;
use crate::error::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredRow {
    pub request_hash: String,
    pub status: Option<i32>,
    pub body: Option<Vec<u8>>,
    pub content_type: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Claims `(scope, key)` for a request: inserts a placeholder, or takes over a row that has
/// expired (created before `expired_before`) or whose request was abandoned (still a
/// placeholder, created before `abandoned_before`). Returns false when a live row holds it.
pub async fn claim(
    c: &mut impl Exec,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
    expired_before: DateTime<Utc>,
    abandoned_before: DateTime<Utc>,
) -> Result<bool, Error> {
    let n = db_run!(c, |c| {
        sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, content_type, created_at) \
         VALUES ($1, $2, $3, NULL, NULL, NULL, $4) \
         ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, status = NULL, \
         body = NULL, content_type = NULL, created_at = excluded.created_at \
         WHERE idempotency_keys.created_at < $5 \
         OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < $6)"
    )
    .bind(scope)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .bind(expired_before)
    .bind(abandoned_before)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn get(c: &mut impl Exec, scope: &str, key: &str) -> Result<Option<StoredRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, StoredRow>(
        "SELECT request_hash, status, body, content_type, created_at FROM idempotency_keys \
         WHERE scope = $1 AND key = $2"
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(&mut *c)
    .await)?)
}

/// Stores the answer to the request that claimed the row at `claimed_at`.
pub async fn complete(
    c: &mut impl Exec,
    scope: &str,
    key: &str,
    claimed_at: DateTime<Utc>,
    status: i32,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE idempotency_keys SET status = $4, body = $5, content_type = $6 \
         WHERE scope = $1 AND key = $2 AND created_at = $3 AND status IS NULL"
    )
    .bind(scope)
    .bind(key)
    .bind(claimed_at)
    .bind(status)
    .bind(body)
    .bind(content_type)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Removes the placeholder claimed at `claimed_at`, so that the client may retry.
pub async fn release(
    c: &mut impl Exec,
    scope: &str,
    key: &str,
    claimed_at: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "DELETE FROM idempotency_keys \
         WHERE scope = $1 AND key = $2 AND created_at = $3 AND status IS NULL"
    )
    .bind(scope)
    .bind(key)
    .bind(claimed_at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes every row created before `before` (expired keys); returns how many.
pub async fn purge(c: &mut impl Exec, before: DateTime<Utc>) -> Result<u64, Error> {
    Ok(db_run!(c, |c| sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < $1"
    )
    .bind(before)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?)
}
