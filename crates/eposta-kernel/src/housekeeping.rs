//! Housekeeping: rows that only matter for a while are deleted when their time is over —
//! stored idempotent answers after their retention, sessions after they expire, failed logins
//! after the throttling window. Every process with workers runs it every
//! [`INTERVAL`]; the deletes are idempotent, so two processes doing it at once is harmless.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};

use crate::accounts::service::THROTTLE_WINDOW;
use crate::app::App;
use crate::db::Exec;
use crate::db_run;
use crate::error::Error;
use crate::web::idempotency;
use crate::web::idempotency::store as idempotency_store;

/// How often a process sweeps.
pub const INTERVAL: StdDuration = StdDuration::from_secs(600);

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub idempotency_keys: u64,
    pub sessions: u64,
    pub login_failures: u64,
}

/// Deletes what has outlived its use as of now.
pub async fn sweep(app: &App) -> Result<Swept, Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let swept = Swept {
        idempotency_keys: idempotency_store::purge(&mut tx, now - idempotency::RETENTION).await?,
        sessions: expired_sessions(&mut tx, now).await?,
        login_failures: old_login_failures(&mut tx, now - THROTTLE_WINDOW).await?,
    };
    tx.commit().await?;
    Ok(swept)
}

async fn expired_sessions(c: &mut impl Exec, now: DateTime<Utc>) -> Result<u64, Error> {
    Ok(db_run!(c, |c| sqlx::query(
        "DELETE FROM sessions WHERE expires_at < $1"
    )
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?)
}

async fn old_login_failures(c: &mut impl Exec, before: DateTime<Utc>) -> Result<u64, Error> {
    Ok(db_run!(c, |c| sqlx::query(
        "DELETE FROM login_failures WHERE at < $1"
    )
    .bind(before)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// Sweeps now and then every [`INTERVAL`] until `shutdown` turns true. A failed sweep is
/// logged and tried again next time.
pub async fn every_interval(app: App, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        match sweep(&app).await {
            Ok(s) if s != Swept::default() => tracing::info!(
                idempotency_keys = s.idempotency_keys,
                sessions = s.sessions,
                login_failures = s.login_failures,
                "housekeeping"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(INTERVAL) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
}
