//! SQL for webhook endpoints, deliveries and attempts. Enqueuing many deliveries at once (a
//! batch of tracking events) is one statement on PostgreSQL (`UNNEST` of arrays) and
//! multi-row `VALUES` lists in chunks on SQLite, which has no arrays.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{Either, Exec};
use crate::db_run;
use crate::error::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: String,
    /// Event types, separated by spaces.
    pub events: String,
    pub description: String,
    pub secret_salt: String,
    pub previous_salt: Option<String>,
    pub previous_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EndpointRow {
    pub fn event_types(&self) -> Vec<String> {
        self.events.split_whitespace().map(str::to_owned).collect()
    }
}

const ENDPOINT_COLUMNS: &str = "id, organisation_id, url, events, description, secret_salt, \
     previous_salt, previous_until, created_at, updated_at";

pub struct NewEndpoint<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: &'a str,
    pub events: &'a str,
    pub description: &'a str,
    pub secret_salt: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn insert_endpoint(c: &mut impl Exec, e: &NewEndpoint<'_>) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO webhook_endpoints (id, organisation_id, url, events, description, \
         secret_salt, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
    )
    .bind(e.id)
    .bind(e.organisation_id)
    .bind(e.url)
    .bind(e.events)
    .bind(e.description)
    .bind(e.secret_salt)
    .bind(e.now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn endpoints(c: &mut impl Exec, organisation: Uuid) -> Result<Vec<EndpointRow>, Error> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE organisation_id = $1 \
         ORDER BY created_at, id"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, EndpointRow>(&sql)
        .bind(organisation)
        .fetch_all(&mut *c)
        .await)?)
}

pub async fn count_endpoints(c: &mut impl Exec, organisation: Uuid) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM webhook_endpoints WHERE organisation_id = $1"
    )
    .bind(organisation)
    .fetch_one(&mut *c)
    .await)?)
}

/// One endpoint of one organisation: another organisation's is not found.
pub async fn endpoint(
    c: &mut impl Exec,
    organisation: Uuid,
    id: Uuid,
) -> Result<Option<EndpointRow>, Error> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND organisation_id = $2"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, EndpointRow>(&sql)
        .bind(id)
        .bind(organisation)
        .fetch_optional(&mut *c)
        .await)?)
}

pub async fn endpoint_by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<EndpointRow>, Error> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, EndpointRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// False when there is no such endpoint of this organisation.
pub async fn delete_endpoint(
    c: &mut impl Exec,
    organisation: Uuid,
    id: Uuid,
) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "DELETE FROM webhook_endpoints WHERE id = $1 AND organisation_id = $2"
    )
    .bind(id)
    .bind(organisation)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Installs a new secret; the one before keeps signing until `previous_until`.
pub async fn rotate_secret(
    c: &mut impl Exec,
    organisation: Uuid,
    id: Uuid,
    salt: &str,
    previous_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE webhook_endpoints SET previous_salt = secret_salt, previous_until = $3, \
         secret_salt = $4, updated_at = $5 WHERE id = $1 AND organisation_id = $2"
    )
    .bind(id)
    .bind(organisation)
    .bind(previous_until)
    .bind(salt)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The endpoints of these organisations that take `event_type`.
pub async fn subscribed(
    c: &mut impl Exec,
    organisations: &[Uuid],
    event_type: &str,
) -> Result<Vec<(Uuid, Uuid)>, Error> {
    if organisations.is_empty() {
        return Ok(Vec::new());
    }
    // Types are stored space-separated; padding both sides matches whole words only.
    let pattern = format!("% {event_type} %");
    let mut out = Vec::new();
    match c.exec() {
        Either::Sqlite(c) => {
            for chunk in organisations.chunks(500) {
                let list = (0..chunk.len())
                    .map(|i| format!("${}", i + 2))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT id, organisation_id FROM webhook_endpoints \
                     WHERE (' ' || events || ' ') LIKE $1 AND organisation_id IN ({list})"
                );
                let mut q = sqlx::query_as::<_, (Uuid, Uuid)>(&sql).bind(&pattern);
                for o in chunk {
                    q = q.bind(*o);
                }
                out.extend(q.fetch_all(&mut *c).await?);
            }
        }
        Either::Postgres(c) => {
            out = sqlx::query_as::<_, (Uuid, Uuid)>(
                "SELECT id, organisation_id FROM webhook_endpoints \
                 WHERE (' ' || events || ' ') LIKE $1 AND organisation_id = ANY($2::uuid[])",
            )
            .bind(&pattern)
            .bind(organisations)
            .fetch_all(&mut *c)
            .await?;
        }
    }
    Ok(out)
}

/// One delivery to record.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub organisation_id: Uuid,
    pub event_id: Uuid,
    pub body: String,
}

/// Records pending deliveries of one event type, all created `now`.
pub async fn insert_deliveries(
    c: &mut impl Exec,
    event_type: &str,
    deliveries: &[NewDelivery],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if deliveries.is_empty() {
        return Ok(());
    }
    match c.exec() {
        Either::Sqlite(c) => {
            // Five parameters per row, far below SQLite's limit of 32,766.
            for chunk in deliveries.chunks(200) {
                let values = (0..chunk.len())
                    .map(|i| {
                        let p = i * 5 + 3;
                        format!(
                            "(${}, ${}, ${}, ${}, $1, ${}, 'pending', $2)",
                            p,
                            p + 1,
                            p + 2,
                            p + 3,
                            p + 4
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO webhook_deliveries (id, endpoint_id, organisation_id, event_id, \
                     event_type, body, status, created_at) VALUES {values}"
                );
                let mut q = sqlx::query(&sql).bind(event_type).bind(now);
                for d in chunk {
                    q = q
                        .bind(d.id)
                        .bind(d.endpoint_id)
                        .bind(d.organisation_id)
                        .bind(d.event_id)
                        .bind(&d.body);
                }
                q.execute(&mut *c).await?;
            }
        }
        Either::Postgres(c) => {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, endpoint_id, organisation_id, event_id, \
                 event_type, body, status, created_at) \
                 SELECT t.id, t.endpoint_id, t.organisation_id, t.event_id, $1, t.body, 'pending', $2 \
                 FROM UNNEST($3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[]) \
                 AS t (id, endpoint_id, organisation_id, event_id, body)",
            )
            .bind(event_type)
            .bind(now)
            .bind(deliveries.iter().map(|d| d.id).collect::<Vec<_>>())
            .bind(deliveries.iter().map(|d| d.endpoint_id).collect::<Vec<_>>())
            .bind(deliveries.iter().map(|d| d.organisation_id).collect::<Vec<_>>())
            .bind(deliveries.iter().map(|d| d.event_id).collect::<Vec<_>>())
            .bind(deliveries.iter().map(|d| d.body.as_str()).collect::<Vec<_>>())
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub organisation_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

const DELIVERY_COLUMNS: &str = "id, endpoint_id, organisation_id, event_id, event_type, body, \
     status, attempts, created_at, last_attempt_at, delivered_at";

pub async fn delivery_by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<DeliveryRow>, Error> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, DeliveryRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// One delivery of one organisation: another organisation's is not found.
pub async fn delivery(
    c: &mut impl Exec,
    organisation: Uuid,
    id: Uuid,
) -> Result<Option<DeliveryRow>, Error> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1 AND organisation_id = $2"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, DeliveryRow>(&sql)
        .bind(id)
        .bind(organisation)
        .fetch_optional(&mut *c)
        .await)?)
}

/// An endpoint's deliveries, newest first, `limit` of them older than `before` (a delivery
/// id, for paging) when given.
pub async fn deliveries(
    c: &mut impl Exec,
    endpoint: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, Error> {
    // Ids are UUIDv7, so their order is their creation order.
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 \
         AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, DeliveryRow>(&sql)
        .bind(endpoint)
        .bind(before)
        .bind(limit)
        .fetch_all(&mut *c)
        .await)?)
}

/// The organisation's newest deliveries over all its endpoints.
pub async fn recent_deliveries(
    c: &mut impl Exec,
    organisation: Uuid,
    limit: i64,
) -> Result<Vec<DeliveryRow>, Error> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE organisation_id = $1 \
         ORDER BY id DESC LIMIT $2"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, DeliveryRow>(&sql)
        .bind(organisation)
        .bind(limit)
        .fetch_all(&mut *c)
        .await)?)
}

/// Records an attempt and the delivery's new state in one go.
pub async fn record_attempt(
    c: &mut impl Exec,
    delivery: Uuid,
    at: DateTime<Utc>,
    status_code: Option<i32>,
    latency_ms: i64,
    error: Option<&str>,
    succeeded: bool,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, latency_ms, error, \
         succeeded) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(delivery)
    .bind(at)
    .bind(status_code)
    .bind(latency_ms)
    .bind(error)
    .bind(succeeded)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    db_run!(c, |c| sqlx::query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2, \
         status = CASE WHEN $3 THEN 'delivered' ELSE status END, \
         delivered_at = CASE WHEN $3 THEN $2 ELSE delivered_at END WHERE id = $1"
    )
    .bind(delivery)
    .bind(at)
    .bind(succeeded)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sets a delivery's status; false when it was not in one of `from`.
pub async fn set_status(
    c: &mut impl Exec,
    delivery: Uuid,
    from: &[&str],
    to: &str,
) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE webhook_deliveries SET status = $2 WHERE id = $1 AND status IN ($3, $4)"
    )
    .bind(delivery)
    .bind(to)
    .bind(from.first().copied().unwrap_or(""))
    .bind(from.get(1).copied().unwrap_or(""))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub succeeded: bool,
}

/// The attempts of these deliveries, oldest first.
pub async fn attempts(c: &mut impl Exec, deliveries: &[Uuid]) -> Result<Vec<AttemptRow>, Error> {
    let mut out = Vec::new();
    // Lists are a page of deliveries (at most a few hundred): one query per delivery would be
    // a round trip each, so they go in one `IN` list per chunk on both databases.
    for chunk in deliveries.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let list = (0..chunk.len())
            .map(|i| format!("${}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT id, delivery_id, attempted_at, status_code, latency_ms, error, succeeded \
             FROM webhook_attempts WHERE delivery_id IN ({list}) ORDER BY id"
        );
        out.extend(db_run!(c, |c| {
            let mut q = sqlx::query_as::<_, AttemptRow>(&sql);
            for d in chunk {
                q = q.bind(*d);
            }
            q.fetch_all(&mut *c).await
        })?);
    }
    Ok(out)
}
