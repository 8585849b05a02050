//! The job queue, in the database. A job is a serde value with a [`Job`] impl; it is
//! enqueued in the same transaction as the write that causes it, claimed by one worker at a
//! time under a lease (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), retried with exponential
//! backoff, and deleted when done. A worker that dies mid-job loses nothing: its lease runs
//! out and another worker takes the job again, so every job must be idempotent.
//! docs/jobs.md explains how to write one.

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

/// A kind of background work. The value is the payload (stored as JSON), so keep it small:
/// ids, not copies of rows.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name stored in the `kind` column; never change it once jobs of it exist.
    const KIND: &'static str;
    /// Runs after which the queue gives up and marks the job failed.
    const MAX_ATTEMPTS: i32 = 10;
    /// Higher runs first among due jobs.
    const PRIORITY: i32 = 0;

    /// Does the work. An error (or a panic) is recorded and the job runs again after
    /// [`backoff`]; it may also run again after a worker died, so it must be idempotent.
    fn run(self, app: App) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Called once when the last attempt has failed, with its error, before the job is marked
    /// failed; lets the job record the failure where people look (the e-mail job marks its
    /// outbox message `failed`). The default does nothing.
    fn give_up(self, _app: App, _error: String) -> impl Future<Output = anyhow::Result<()>> + Send {
        async { Ok(()) }
    }
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

/// Adds many jobs of one kind to the queue inside the caller's transaction, in one statement
/// on PostgreSQL (`UNNEST`) and in chunks of multi-row `VALUES` on SQLite, so that an event
/// batch that causes a thousand jobs does not pay a thousand round trips.
pub async fn enqueue_many<J: Job>(
    tx: &mut Tx,
    now: DateTime<Utc>,
    jobs: &[J],
) -> Result<(), Error> {
    if jobs.is_empty() {
        return Ok(());
    }
    let payloads = jobs
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Internal(e.into()))?;
    match crate::db::Exec::exec(tx) {
        crate::db::Either::Sqlite(c) => {
            for chunk in payloads.chunks(500) {
                let values = (0..chunk.len())
                    .map(|i| format!("($1, ${}, $2, $3, $4, $4)", i + 5))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO jobs (kind, payload, priority, max_attempts, run_at, created_at) \
                     VALUES {values}"
                );
                let mut q = sqlx::query(&sql)
                    .bind(J::KIND)
                    .bind(J::PRIORITY)
                    .bind(J::MAX_ATTEMPTS)
                    .bind(now);
                for p in chunk {
                    q = q.bind(p);
                }
                q.execute(&mut *c).await?;
            }
        }
        crate::db::Either::Postgres(c) => {
            sqlx::query(
                "INSERT INTO jobs (kind, payload, priority, max_attempts, run_at, created_at) \
                 SELECT $1, p, $2, $3, $4, $4 FROM UNNEST($5::text[]) AS t (p)",
            )
            .bind(J::KIND)
            .bind(J::PRIORITY)
            .bind(J::MAX_ATTEMPTS)
            .bind(now)
            .bind(&payloads)
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

type BoxedRun = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Handler = Arc<dyn Fn(App, String) -> BoxedRun + Send + Sync>;
type GiveUp = Arc<dyn Fn(App, String, String) -> BoxedRun + Send + Sync>;

#[derive(Clone)]
struct Handlers {
    run: Handler,
    give_up: GiveUp,
}

/// The job kinds this process can run.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handlers>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<J: Job>(mut self) -> Self {
        let run: Handler = Arc::new(|app, payload| {
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload)?;
                job.run(app).await
            })
        });
        let give_up: GiveUp = Arc::new(|app, payload, error| {
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload)?;
                job.give_up(app, error).await
            })
        });
        self.handlers.insert(J::KIND, Handlers { run, give_up });
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
    if kinds.is_empty() {
        return Ok(None);
    }
    let now = app.now();
    // The same statement on both databases but for the row lock: PostgreSQL needs
    // SKIP LOCKED so that concurrent workers neither wait on nor take the same row; SQLite
    // has a single writer, so the subquery and the update are already atomic there.
    let lock = match app.db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // Only kinds this process can run: a worker built without a capability leaves its jobs
    // to workers that have it.
    let kind_params = (0..kinds.len())
        .map(|i| format!("${}", i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE jobs SET locked_until = $1, locked_by = $2, attempts = attempts + 1 WHERE id = ( \
           SELECT id FROM jobs WHERE failed_at IS NULL AND run_at <= $3 \
           AND (locked_until IS NULL OR locked_until <= $3) \
           AND kind IN ({kind_params}) \
           ORDER BY priority DESC, id LIMIT 1 {lock}) \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    let mut tx = app.db.begin().await?;
    let claimed = db_run!(&mut tx, |c| {
        let mut q = sqlx::query_as::<_, Claimed>(&sql)
            .bind(now + LEASE)
            .bind(worker)
            .bind(now);
        for kind in kinds {
            q = q.bind(*kind);
        }
        q.fetch_optional(&mut *c).await
    })?;
    tx.commit().await?;
    Ok(claimed)
}

/// Backoff before attempt `n + 1`: 10 s, 20 s, 40 s … capped at one hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    Duration::seconds((10i64 << exp).min(3600))
}

/// Records the outcome of a claimed run. Every statement is guarded by `attempts`, which
/// names this claim: if the lease ran out and another worker took the job meanwhile, this
/// (late) worker's outcome changes nothing and the newer claim decides.
async fn finish(app: &App, job: &Claimed, outcome: &anyhow::Result<()>) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    match outcome {
        Ok(()) => {
            db_run!(&mut tx, |c| sqlx::query(
                "DELETE FROM jobs WHERE id = $1 AND attempts = $2"
            )
            .bind(job.id)
            .bind(job.attempts)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Err(e) => {
            let message = format!("{e:#}");
            let give_up = job.gives_up();
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, give_up, error = %message, "job failed");
            metrics::counter!("jobs_failed_total", "kind" => job.kind.clone()).increment(1);
            db_run!(&mut tx, |c| {
                sqlx::query(
                "UPDATE jobs SET locked_until = NULL, locked_by = NULL, last_error = $3, run_at = $4, \
                 failed_at = $5 WHERE id = $1 AND attempts = $2"
            )
            .bind(job.id)
            .bind(job.attempts)
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

impl Claimed {
    fn gives_up(&self) -> bool {
        self.attempts >= self.max_attempts
    }
}

/// Aborts a spawned job when the worker's future is dropped (cancelled), so that a cancelled
/// worker does not leave its job running unobserved.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a job's future in a task of its own, so that a panic becomes a failed attempt
/// instead of killing the worker.
async fn guarded(fut: BoxedRun) -> anyhow::Result<()> {
    let task = tokio::spawn(fut);
    let _abort = AbortOnDrop(task.abort_handle());
    match task.await {
        Ok(outcome) => outcome,
        Err(e) if e.is_panic() => {
            let panic = e.into_panic();
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            Err(anyhow::anyhow!("job panicked: {text}"))
        }
        Err(e) => Err(anyhow::anyhow!("job was cancelled: {e}")),
    }
}

/// Claims and runs one due job; false when none was due.
pub async fn run_one(app: &App, registry: &Registry, worker: &str) -> Result<bool, Error> {
    let kinds = registry.kinds();
    let Some(job) = claim(app, worker, &kinds).await? else {
        return Ok(false);
    };
    let Some(handlers) = registry.handlers.get(job.kind.as_str()) else {
        // Cannot happen: claim only takes registered kinds.
        return Err(Error::Internal(anyhow::anyhow!(
            "no handler for job kind {}",
            job.kind
        )));
    };
    let outcome = guarded((handlers.run)(app.clone(), job.payload.clone())).await;
    match &outcome {
        Ok(()) => {
            metrics::counter!("jobs_done_total", "kind" => job.kind.clone()).increment(1);
        }
        Err(e) if job.gives_up() => {
            let hook = (handlers.give_up)(app.clone(), job.payload.clone(), format!("{e:#}"));
            if let Err(e) = guarded(hook).await {
                tracing::warn!(job = job.id, kind = %job.kind, error = %format!("{e:#}"), "job's give-up hook failed");
            }
        }
        Err(_) => {}
    }
    finish(app, &job, &outcome).await?;
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

/// How long an idle worker waits before looking for due jobs again.
pub const POLL_INTERVAL: StdDuration = StdDuration::from_millis(500);

/// A worker loop. When `shutdown` turns true (or its sender is dropped) the worker finishes
/// the job in hand, takes no other, and returns; a job is never cut off half-way by a
/// shutdown, only by the process dying (and then its lease runs out).
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
                tracing::warn!(worker = %name, error = %e, "cannot claim or finish a job");
                true
            }
        };
        if idle {
            tokio::select! {
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                changed = shutdown.changed() => {
                    // A dropped sender can never say "go on": stop rather than spin.
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
    }
    tracing::info!(worker = %name, "worker stopped");
}

/// Jobs by state, for `/metrics`: ready (due, unclaimed or with an expired lease), scheduled
/// (backing off or not due yet), running (under a live lease), failed (given up).
pub async fn queue_depth(app: &App) -> Result<Vec<(&'static str, i64)>, Error> {
    let now = app.now();
    let mut conn = app.db.conn().await?;
    let (ready, scheduled, running, failed): (i64, i64, i64, i64) = db_run!(&mut conn, |c| {
        sqlx::query_as(
        "SELECT \
           COALESCE(SUM(CASE WHEN failed_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN failed_at IS NULL AND run_at > $1 AND (locked_until IS NULL OR locked_until <= $1) THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN failed_at IS NULL AND locked_until > $1 THEN 1 ELSE 0 END), 0), \
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

/// How many jobs are in the table, in any state.
pub async fn count(c: &mut impl Exec) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs"
    )
    .fetch_one(&mut *c)
    .await)?)
}

/// A row of the jobs table, for the admin console and tests.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub priority: i32,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// The oldest `limit` jobs, failed ones included.
pub async fn list(c: &mut impl Exec, limit: i64) -> Result<Vec<JobRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, JobRow>(
        "SELECT id, kind, payload, priority, attempts, max_attempts, run_at, locked_until, \
         locked_by, last_error, created_at, failed_at FROM jobs ORDER BY id LIMIT $1"
    )
    .bind(limit)
    .fetch_all(&mut *c)
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
