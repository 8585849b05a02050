//! The database handle's pools: a read cancelled half-way leaves its connection usable, and on
//! PostgreSQL a read connection that broke is replaced within `READ_CHECK_EVERY`.

use std::time::Duration;

use eposta_kernel::db::{Db, DbOptions, READ_CHECK_EVERY};
use eposta_kernel::db_run;
use eposta_kernel::testing::pg_url;
use secrecy::SecretString;

/// A database with one read connection, so that every read below uses the same one.
async fn one_connection(dir: &std::path::Path) -> Db {
    let url = pg_url().unwrap_or_else(|| format!("sqlite://{}", dir.join("t.db").display()));
    Db::connect(
        &SecretString::from(url),
        &DbOptions {
            max_connections: 1,
            ..DbOptions::default()
        },
    )
    .await
    .expect("connect")
}

async fn answer(db: &Db) -> Result<i64, eposta_kernel::Error> {
    let mut c = db.conn().await?;
    Ok(db_run!(&mut c, |c| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(41 + 1 AS BIGINT)"
    )
    .fetch_one(&mut *c)
    .await)?)
}

#[tokio::test]
async fn a_read_cancelled_half_way_leaves_its_connection_usable() {
    let dir = tempfile::tempdir().expect("dir");
    let db = one_connection(dir.path()).await;
    let slow = match db.backend() {
        eposta_kernel::db::Backend::Postgres => "SELECT CAST(1 AS BIGINT) FROM pg_sleep(2)",
        eposta_kernel::db::Backend::Sqlite => {
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000000) \
             SELECT COUNT(*) FROM n"
        }
    };
    let cancelled = tokio::time::timeout(Duration::from_millis(100), async {
        let mut c = db.conn().await.expect("conn");
        db_run!(&mut c, |c| sqlx::query_scalar::<_, i64>(slow)
            .fetch_one(&mut *c)
            .await
            .map(|_| ()))
    })
    .await;
    assert!(cancelled.is_err(), "the slow read was cut off");
    // The same (only) connection answers the next read, and with its own answer, not the
    // rest of the cancelled one (SQLite finishes the cut-off statement first: it cannot stop
    // one half-way, so the next read waits for it).
    for _ in 0..3 {
        assert_eq!(
            answer(&db).await.expect("a read after the cancelled one"),
            42
        );
    }
}

/// PostgreSQL only (the CI run on PostgreSQL runs it; SQLite has no server to lose): the
/// server ends the read connection, as a restart would; reads may fail until the connection
/// is next checked, at most `READ_CHECK_EVERY` later, and then a new one answers.
#[tokio::test]
async fn a_broken_read_connection_is_replaced_within_a_second() {
    if pg_url().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let db = one_connection(dir.path()).await;
    let pid = {
        let mut c = db.conn().await.expect("conn");
        db_run!(&mut c, |c| sqlx::query_scalar::<_, i32>(
            "SELECT pg_backend_pid()"
        )
        .fetch_one(&mut *c)
        .await)
        .expect("pid")
    };
    let mut tx = db.begin().await.expect("a transaction's connection");
    let ended: bool = db_run!(&mut tx, |c| sqlx::query_scalar(
        "SELECT pg_terminate_backend($1)"
    )
    .bind(pid)
    .fetch_one(&mut *c)
    .await)
    .expect("terminate");
    tx.commit().await.expect("commit");
    assert!(ended, "the read connection's backend was ended");
    tokio::time::sleep(READ_CHECK_EVERY + Duration::from_millis(200)).await;
    assert_eq!(answer(&db).await.expect("a new connection answers"), 42);
    let mut c = db.conn().await.expect("conn");
    let new_pid = db_run!(&mut c, |c| sqlx::query_scalar::<_, i32>(
        "SELECT pg_backend_pid()"
    )
    .fetch_one(&mut *c)
    .await)
    .expect("pid");
    assert_ne!(new_pid, pid);
}
