//! The job queue, in the database. A job is a serde value with a [`Job`] impl; it is
//! enqueued in the same transaction as the write that causes it, claimed by one worker at a
//! time under a lease (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), retried with exponential
//! backoff, and deleted when done. A worker that dies mid-job loses nothing: its lease runs
//! out and another worker takes the job again, so every job must be idempotent.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::db::{Backend, Exec, Tx};
use crate::db_run;
use crate::error::Error;

/// How long a claimed job is reserved for its worker before others may take it.
pub const LEASE: Duration = Duration::minutes(5);

pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name stored in the `kind` column; never change it once jobs of it exist.
    const KIND: &'static str;
    const MAX_ATTEMPTS: i32 = 10;
    const PRIORITY: i32 = 0;
    fn run(self, app: App) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Adds a job to the queue inside the caller's transaction.
pub async fn enqueue<J: Job>(tx: &mut Tx, now: DateTime<Utc>, job: &J) -> Result<i64, Error> {
    enqueue_at(tx, now, now, job).await
}

/// Adds a job that must not run before `run_at`.
pub async fn enqueue_at<J: Job>(
    tx: &mut Tx,
    now: DateTime<Utc>,
    run_at: DateTime<Utc>,
    job: &J,
) -> Result<i64, Error> {
    let payload = serde_json::to_string(job).map_err(|e| Error::Internal(e.into()))?;
    Ok(db_run!(tx, |c| sqlx::query_scalar::<_, i64>(
        "INSERT INTO jobs (kind, payload, priority, max_attempts, run_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
    )
    .bind(J::KIND)
    .bind(&payload)
    .bind(J::PRIORITY)
    .bind(J::MAX_ATTEMPTS)
    .bind(run_at)
    .bind(now)
    .fetch_one(&mut *c)
    .await)?)
}

type Handler = Arc<
    dyn Fn(App, String) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Send + Sync,
>;

/// The job kinds this process can run.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<J: Job>(mut self) -> Self {
        let h: Handler = Arc::new(|app, payload| {
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload)?;
                job.run(app).await
            })
        });
        self.handlers.insert(J::KIND, h);
        self
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Claimed {
    id: i64,
    kind: String,
    payload: String,
    attempts: i32,
    max_attempts: i32,
}

async fn claim(app: &App, worker: &str, kinds: &[&'static str]) -> Result<Option<Claimed>, Error> {
    let now = app.now();
    let kinds = kinds.join(",");
    // The same statement on both databases but for the row lock: PostgreSQL needs
    // SKIP LOCKED so that concurrent workers do not wait on (or take) the same row; SQLite
    // has a single writer, so the subquery and update are already atomic.
    let lock = match app.db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET locked_until = $1, locked_by = $2, attempts = attempts + 1 WHERE id = ( \
           SELECT id FROM jobs WHERE failed_at IS NULL AND run_at <= $3 \
           AND (locked_until IS NULL OR locked_until < $3) \
           AND (',' || $4 || ',') LIKE ('%,' || kind || ',%') \
           ORDER BY priority DESC, id LIMIT 1 {lock}) \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    let mut tx = app.db.begin().await?;
    let claimed = db_run!(&mut tx, |c| sqlx::query_as::<_, Claimed>(&sql)
        .bind(now + LEASE)
        .bind(worker)
        .bind(now)
        .bind(&kinds)
        .fetch_optional(&mut *c)
        .await)?;
    tx.commit().await?;
    Ok(claimed)
}

/// Backoff before attempt `n + 1`: 10 s, 20 s, 40 s … capped at one hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    Duration::seconds((10i64 << exp).min(3600))
}

async fn finish(app: &App, job: &Claimed, outcome: anyhow::Result<()>) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    match outcome {
        Ok(()) => {
            db_run!(&mut tx, |c| sqlx::query("DELETE FROM jobs WHERE id = $1")
                .bind(job.id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Err(e) => {
            let message = format!("{e:#}");
            let give_up = job.attempts >= job.max_attempts;
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, give_up, error = %message, "job failed");
            metrics::counter!("jobs_failed_total", "kind" => job.kind.clone()).increment(1);
            db_run!(&mut tx, |c| {
                sqlx::query(
                "UPDATE jobs SET locked_until = NULL, locked_by = NULL, last_error = $2, run_at = $3, \
                 failed_at = $4 WHERE id = $1"
            )
            .bind(job.id)
            .bind(&message)
            .bind(now + backoff(job.attempts))
            .bind(give_up.then_some(now))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
    }
    tx.commit().await
}

/// Claims and runs one due job; false when none was due.
pub async fn run_one(app: &App, registry: &Registry, worker: &str) -> Result<bool, Error> {
    let kinds = registry.kinds();
    let Some(job) = claim(app, worker, &kinds).await? else {
        return Ok(false);
    };
    let outcome = match registry.handlers.get(job.kind.as_str()) {
        Some(h) => h(app.clone(), job.payload.clone()).await,
        None => Err(anyhow::anyhow!("no handler for job kind {}", job.kind)),
    };
    if outcome.is_ok() {
        metrics::counter!("jobs_done_total", "kind" => job.kind.clone()).increment(1);
    }
    finish(app, &job, outcome).await?;
    Ok(true)
}

/// Runs every job that is due now, one after another; returns how many ran. Tests call this
/// to run background work deterministically.
pub async fn run_pending(app: &App, registry: &Registry) -> Result<usize, Error> {
    let mut n = 0;
    while run_one(app, registry, "inline").await? {
        n += 1;
    }
    Ok(n)
}

/// A worker loop; stops when `shutdown` resolves, after finishing the job in hand.
pub async fn work(
    app: App,
    registry: Registry,
    name: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    tracing::info!(worker = %name, kinds = ?registry.kinds(), "worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let idle = match run_one(&app, &registry, &name).await {
            Ok(true) => false,
            Ok(false) => true,
            Err(e) => {
                tracing::warn!(worker = %name, error = %e, "cannot claim a job");
                true
            }
        };
        if idle {
            tokio::select! {
                _ = tokio::time::sleep(StdDuration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!(worker = %name, "worker stopped");
}

/// Jobs by state, for `/metrics`: ready, scheduled (backing off or later), running, failed.
pub async fn queue_depth(app: &App) -> Result<Vec<(&'static str, i64)>, Error> {
    let now = app.now();
    let mut conn = app.db.conn().await?;
    let (ready, scheduled, running, failed): (i64, i64, i64, i64) = db_run!(&mut conn, |c| {
        sqlx::query_as(
        "SELECT \
           COALESCE(SUM(CASE WHEN failed_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR locked_until < $1) THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN failed_at IS NULL AND run_at > $1 AND (locked_until IS NULL OR locked_until < $1) THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN failed_at IS NULL AND locked_until >= $1 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
         FROM jobs"
    )
    .bind(now)
    .fetch_one(&mut *c)
    .await
    })?;
    Ok(vec![
        ("ready", ready),
        ("scheduled", scheduled),
        ("running", running),
        ("failed", failed),
    ])
}

/// Reads the jobs table for `conn`-level checks in tests and the admin console.
pub async fn count(c: &mut impl Exec) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs"
    )
    .fetch_one(&mut *c)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(5), Duration::seconds(160));
        assert_eq!(backoff(12), Duration::seconds(3600));
        assert_eq!(backoff(1000), Duration::seconds(3600));
    }
}
