//! The job queue: transactional enqueue, run-once-and-delete, schedules, retries with
//! backoff, leases after a worker dies, many workers at once, graceful shutdown, and the
//! queue-depth figures.

use std::time::Duration as StdDuration;

use chrono::Duration;
use eposta_kernel::App;
use eposta_kernel::db_run;
use eposta_kernel::jobs::{self, Job, JobRow, Registry};
use eposta_kernel::testing::TestApp;
use serde::{Deserialize, Serialize};

/// Writes `n` to the `job_effects` table: the observable effect of running.
#[derive(Serialize, Deserialize)]
struct Insert {
    n: i64,
}

impl Job for Insert {
    const KIND: &'static str = "test.insert";
    async fn run(self, app: App) -> anyhow::Result<()> {
        effect(&app, self.n).await
    }
}

/// Always fails.
#[derive(Serialize, Deserialize)]
struct Fail;

impl Job for Fail {
    const KIND: &'static str = "test.fail";
    const MAX_ATTEMPTS: i32 = 3;
    async fn run(self, _app: App) -> anyhow::Result<()> {
        anyhow::bail!("boom")
    }
}

/// Panics: a failed attempt, not a dead worker.
#[derive(Serialize, Deserialize)]
struct Panic;

impl Job for Panic {
    const KIND: &'static str = "test.panic";
    const MAX_ATTEMPTS: i32 = 1;
    async fn run(self, _app: App) -> anyhow::Result<()> {
        panic!("kaboom")
    }
}

/// Records its start, then never finishes the first time (its worker "dies"); on a later
/// run it finishes.
#[derive(Serialize, Deserialize)]
struct HangFirst {
    n: i64,
}

impl Job for HangFirst {
    const KIND: &'static str = "test.hang_first";
    async fn run(self, app: App) -> anyhow::Result<()> {
        effect(&app, self.n).await?;
        if effects_of(&app, self.n).await == 1 {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

/// Takes about 200 ms, then records `n`.
#[derive(Serialize, Deserialize)]
struct Slow {
    n: i64,
}

impl Job for Slow {
    const KIND: &'static str = "test.slow";
    async fn run(self, app: App) -> anyhow::Result<()> {
        tokio::time::sleep(StdDuration::from_millis(200)).await;
        effect(&app, self.n).await
    }
}

fn test_jobs(r: Registry) -> Registry {
    r.register::<Insert>()
        .register::<Fail>()
        .register::<Panic>()
        .register::<HangFirst>()
        .register::<Slow>()
}

async fn test_app() -> TestApp {
    let t = TestApp::builder().jobs(test_jobs).build().await;
    let mut tx = t.app.db.begin().await.expect("tx");
    db_run!(&mut tx, |c| sqlx::query(
        "CREATE TABLE job_effects (n BIGINT NOT NULL)"
    )
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .expect("create job_effects");
    tx.commit().await.expect("commit");
    t
}

async fn effect(app: &App, n: i64) -> anyhow::Result<()> {
    let mut tx = app.db.begin().await?;
    db_run!(&mut tx, |c| sqlx::query(
        "INSERT INTO job_effects (n) VALUES ($1)"
    )
    .bind(n)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    tx.commit().await?;
    Ok(())
}

async fn effects_of(app: &App, n: i64) -> i64 {
    let mut c = app.db.conn().await.expect("conn");
    db_run!(&mut c, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM job_effects WHERE n = $1"
    )
    .bind(n)
    .fetch_one(&mut *c)
    .await)
    .expect("count effects")
}

/// (rows, distinct values) in `job_effects`.
async fn effects(app: &App) -> (i64, i64) {
    let mut c = app.db.conn().await.expect("conn");
    db_run!(&mut c, |c| sqlx::query_as::<_, (i64, i64)>(
        "SELECT COUNT(*), COUNT(DISTINCT n) FROM job_effects"
    )
    .fetch_one(&mut *c)
    .await)
    .expect("count effects")
}

async fn enqueue<J: Job>(t: &TestApp, job: &J) -> i64 {
    let mut tx = t.app.db.begin().await.expect("tx");
    let id = jobs::enqueue(&mut tx, t.app.now(), job)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    id
}

async fn all_jobs(app: &App) -> Vec<JobRow> {
    let mut c = app.db.conn().await.expect("conn");
    jobs::list(&mut c, 1000).await.expect("list jobs")
}

async fn job(app: &App, id: i64) -> JobRow {
    all_jobs(app)
        .await
        .into_iter()
        .find(|j| j.id == id)
        .unwrap_or_else(|| panic!("job {id} is gone"))
}

async fn count(app: &App) -> i64 {
    let mut c = app.db.conn().await.expect("conn");
    jobs::count(&mut c).await.expect("count")
}

async fn depth(app: &App) -> [i64; 4] {
    let d = jobs::queue_depth(app).await.expect("depth");
    let get = |name: &str| {
        d.iter()
            .find(|(s, _)| *s == name)
            .map(|(_, n)| *n)
            .unwrap_or_else(|| panic!("no {name} in {d:?}"))
    };
    [
        get("ready"),
        get("scheduled"),
        get("running"),
        get("failed"),
    ]
}

/// Waits (in real time) until `check` holds; the workers under test run on their own.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(60);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_job_exists_only_if_its_transaction_commits() {
    let t = test_app().await;
    let mut tx = t.app.db.begin().await.expect("tx");
    jobs::enqueue(&mut tx, t.app.now(), &Insert { n: 1 })
        .await
        .expect("enqueue");
    assert_eq!(jobs::count(&mut tx).await.expect("count"), 1);
    drop(tx);
    assert_eq!(count(&t.app).await, 0, "rolled back with its transaction");
    assert_eq!(t.run_pending_jobs().await, 0);

    enqueue(&t, &Insert { n: 2 }).await;
    assert_eq!(count(&t.app).await, 1);
}

#[tokio::test]
async fn a_job_runs_once_and_is_deleted() {
    let t = test_app().await;
    let id = enqueue(&t, &Insert { n: 7 }).await;
    let row = job(&t.app, id).await;
    assert_eq!(
        (row.kind.as_str(), row.attempts, row.run_at),
        ("test.insert", 0, t.app.now())
    );
    assert_eq!(t.run_pending_jobs().await, 1);
    assert_eq!(effects_of(&t.app, 7).await, 1);
    assert_eq!(count(&t.app).await, 0);
    assert_eq!(t.run_pending_jobs().await, 0);
    assert_eq!(effects_of(&t.app, 7).await, 1, "not run again");
}

#[tokio::test]
async fn only_due_jobs_run() {
    let t = test_app().await;
    let mut tx = t.app.db.begin().await.expect("tx");
    let now = t.app.now();
    jobs::enqueue_at(&mut tx, now, now + Duration::hours(1), &Insert { n: 2 })
        .await
        .expect("enqueue later");
    tx.commit().await.expect("commit");
    enqueue(&t, &Insert { n: 1 }).await;

    assert_eq!(t.run_pending_jobs().await, 1, "only the due one");
    assert_eq!(effects_of(&t.app, 1).await, 1);
    assert_eq!(effects_of(&t.app, 2).await, 0);
    assert_eq!(depth(&t.app).await, [0, 1, 0, 0]);

    t.clock.advance(Duration::minutes(59));
    assert_eq!(t.run_pending_jobs().await, 0);
    t.clock.advance(Duration::minutes(1));
    assert_eq!(t.run_pending_jobs().await, 1);
    assert_eq!(effects_of(&t.app, 2).await, 1);
    assert_eq!(count(&t.app).await, 0);
}

#[tokio::test]
async fn a_failing_job_backs_off_then_is_marked_failed() {
    let t = test_app().await;
    let id = enqueue(&t, &Fail).await;

    for attempt in 1..Fail::MAX_ATTEMPTS {
        assert_eq!(t.run_pending_jobs().await, 1, "attempt {attempt} runs");
        let row = job(&t.app, id).await;
        assert_eq!(row.attempts, attempt);
        assert_eq!(row.last_error.as_deref(), Some("boom"));
        assert_eq!(row.run_at, t.app.now() + jobs::backoff(attempt));
        assert_eq!(row.failed_at, None);
        assert_eq!((row.locked_until, row.locked_by), (None, None));
        assert_eq!(depth(&t.app).await, [0, 1, 0, 0]);

        t.clock
            .advance(jobs::backoff(attempt) - Duration::seconds(1));
        assert_eq!(t.run_pending_jobs().await, 0, "not before the backoff");
        t.clock.advance(Duration::seconds(1));
    }
    assert_eq!(jobs::backoff(1), Duration::seconds(10));
    assert_eq!(jobs::backoff(2), Duration::seconds(20));

    assert_eq!(t.run_pending_jobs().await, 1, "the last attempt");
    let row = job(&t.app, id).await;
    assert_eq!(row.attempts, Fail::MAX_ATTEMPTS);
    assert_eq!(row.failed_at, Some(t.app.now()));
    assert_eq!(row.last_error.as_deref(), Some("boom"));
    assert_eq!(depth(&t.app).await, [0, 0, 0, 1]);

    t.clock.advance(Duration::days(2));
    assert_eq!(t.run_pending_jobs().await, 0, "a failed job is not claimed");
    assert_eq!(job(&t.app, id).await.attempts, Fail::MAX_ATTEMPTS);
}

#[tokio::test]
async fn a_panicking_job_is_a_failed_attempt_not_a_dead_worker() {
    let t = test_app().await;
    let id = enqueue(&t, &Panic).await;
    enqueue(&t, &Insert { n: 1 }).await;
    assert_eq!(t.run_pending_jobs().await, 2, "the worker goes on");
    let row = job(&t.app, id).await;
    assert!(row.failed_at.is_some());
    assert_eq!(row.last_error.as_deref(), Some("job panicked: kaboom"));
    assert_eq!(effects_of(&t.app, 1).await, 1);
}

#[tokio::test]
async fn a_dead_workers_job_is_taken_again_when_its_lease_expires() {
    let t = test_app().await;
    let id = enqueue(&t, &HangFirst { n: 5 }).await;
    let registry = test_jobs(eposta_kernel::jobs());

    // A worker claims the job and hangs in it; then it dies (its task is dropped).
    let worker = {
        let app = t.app.clone();
        let registry = registry.clone();
        tokio::spawn(async move { jobs::run_one(&app, &registry, "doomed").await })
    };
    eventually("the job has started", || async {
        effects_of(&t.app, 5).await == 1
    })
    .await;
    worker.abort();
    assert!(
        worker.await.expect_err("aborted").is_cancelled(),
        "the worker died mid-job"
    );

    let row = job(&t.app, id).await;
    assert_eq!(row.attempts, 1);
    assert_eq!(row.locked_by.as_deref(), Some("doomed"));
    assert_eq!(row.locked_until, Some(t.app.now() + jobs::LEASE));
    assert_eq!(depth(&t.app).await, [0, 0, 1, 0]);
    assert_eq!(t.run_pending_jobs().await, 0, "the lease holds");

    t.clock.advance(jobs::LEASE - Duration::seconds(1));
    assert_eq!(t.run_pending_jobs().await, 0, "the lease still holds");
    t.clock.advance(Duration::seconds(1));
    assert_eq!(depth(&t.app).await, [1, 0, 0, 0], "the lease has run out");
    assert_eq!(t.run_pending_jobs().await, 1, "taken again");
    assert_eq!(
        effects_of(&t.app, 5).await,
        2,
        "started twice, finished once"
    );
    assert_eq!(count(&t.app).await, 0);
}

#[tokio::test]
async fn many_workers_run_every_job_exactly_once() {
    const JOBS: i64 = 200;
    let t = test_app().await;
    let mut tx = t.app.db.begin().await.expect("tx");
    for n in 0..JOBS {
        jobs::enqueue(&mut tx, t.app.now(), &Insert { n })
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");

    let registry = test_jobs(eposta_kernel::jobs());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = (0..4)
        .map(|i| {
            tokio::spawn(jobs::work(
                t.app.clone(),
                registry.clone(),
                format!("worker-{i}"),
                stopped.clone(),
            ))
        })
        .collect();
    eventually("the queue is empty", || async { count(&t.app).await == 0 }).await;
    stop.send(true).expect("workers listen");
    for w in workers {
        tokio::time::timeout(StdDuration::from_secs(10), w)
            .await
            .expect("the worker stops")
            .expect("the worker did not panic");
    }
    assert_eq!(
        effects(&t.app).await,
        (JOBS, JOBS),
        "each job ran exactly once"
    );
}

#[tokio::test]
async fn a_stopping_worker_finishes_the_job_in_hand_and_takes_no_other() {
    let t = test_app().await;
    let first = enqueue(&t, &Slow { n: 1 }).await;
    let second = enqueue(&t, &Slow { n: 2 }).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(jobs::work(
        t.app.clone(),
        test_jobs(eposta_kernel::jobs()),
        "w".into(),
        stopped,
    ));
    eventually("the worker has a job", || async {
        depth(&t.app).await[2] == 1
    })
    .await;
    // The first job (claimed first: same priority, lower id) is about 200 ms in.
    assert_eq!(job(&t.app, first).await.locked_by.as_deref(), Some("w"));
    stop.send(true).expect("the worker listens");
    tokio::time::timeout(StdDuration::from_secs(5), worker)
        .await
        .expect("the worker stops soon")
        .expect("the worker did not panic");

    assert_eq!(effects_of(&t.app, 1).await, 1, "the job in hand finished");
    let left = all_jobs(&t.app).await;
    assert_eq!(left.len(), 1, "one job finished, one untouched: {left:?}");
    assert_eq!(left[0].id, second);
    assert_eq!(left[0].attempts, 0, "the second job was never claimed");
    assert_eq!(effects_of(&t.app, 2).await, 0);
}

#[tokio::test]
async fn a_worker_whose_shutdown_sender_is_gone_stops() {
    let t = test_app().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(jobs::work(
        t.app.clone(),
        test_jobs(eposta_kernel::jobs()),
        "orphan".into(),
        stopped,
    ));
    drop(stop);
    tokio::time::timeout(StdDuration::from_secs(5), worker)
        .await
        .expect("the worker stops")
        .expect("the worker did not panic");
}

#[tokio::test]
async fn queue_depth_counts_each_state() {
    let t = test_app().await;
    assert_eq!(depth(&t.app).await, [0, 0, 0, 0]);

    // failed: a job that has used up its attempts.
    enqueue(&t, &Panic).await;
    assert_eq!(t.run_pending_jobs().await, 1);
    // ready: two due jobs; scheduled: one for tomorrow; running: one under a live lease.
    enqueue(&t, &Insert { n: 1 }).await;
    let held = enqueue(&t, &Insert { n: 2 }).await;
    let mut tx = t.app.db.begin().await.expect("tx");
    let now = t.app.now();
    jobs::enqueue_at(&mut tx, now, now + Duration::days(1), &Insert { n: 3 })
        .await
        .expect("enqueue later");
    db_run!(&mut tx, |c| sqlx::query(
        "UPDATE jobs SET locked_until = $1, locked_by = 'elsewhere', attempts = 1 WHERE id = $2"
    )
    .bind(now + jobs::LEASE)
    .bind(held)
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .expect("lock a job");
    tx.commit().await.expect("commit");
    assert_eq!(depth(&t.app).await, [1, 1, 1, 1]);

    t.clock.advance(jobs::LEASE);
    assert_eq!(
        depth(&t.app).await,
        [2, 1, 0, 1],
        "an expired lease is ready"
    );
    assert_eq!(t.run_pending_jobs().await, 2);
    assert_eq!(depth(&t.app).await, [0, 1, 0, 1]);
    t.clock.advance(Duration::days(1));
    assert_eq!(depth(&t.app).await, [1, 0, 0, 1]);
}
