//! The payments sweeper: what every process with workers does now and then for payments
//! (started by `eposta serve` and `eposta worker` beside the job workers and the kernel's
//! housekeeping): chain new history rows into the audit log every couple of seconds
//! ([`super::audit::flush`]) and expire pending payments past their deadline every minute
//! ([`super::expiry::expire_due`]). Both are safe to run in several processes at once.

use eposta_kernel::App;

use super::audit::{INTERVAL, flush};

/// Chains new history rows every [`INTERVAL`] and expires pending payments every
/// [`super::expiry::INTERVAL`], until `shutdown` turns true. Failures are logged and tried
/// again at the next turn.
pub async fn every_interval(app: App, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut last_expiry: Option<std::time::Instant> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Err(e) = flush(&app).await {
            tracing::warn!(error = %e, "chaining payments into the audit log failed");
        }
        if last_expiry.is_none_or(|t| t.elapsed() >= super::expiry::INTERVAL) {
            last_expiry = Some(std::time::Instant::now());
            match super::expiry::expire_due(&app).await {
                Ok(s) if s != super::expiry::Swept::default() => tracing::info!(
                    expired = s.expired,
                    settled = s.settled,
                    skipped = s.skipped,
                    "pending payments swept"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweeping pending payments failed"),
            }
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
