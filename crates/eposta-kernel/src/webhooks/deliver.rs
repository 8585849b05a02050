//! The delivery job: signs a delivery's body with the current time, POSTs it to the endpoint,
//! records the attempt, and fails (so that the job queue retries it with its backoff) unless
//! the receiver answered 2xx. After [`DeliverWebhook::MAX_ATTEMPTS`] the delivery is marked
//! failed; it can be resent by hand.
//!
//! The client follows no redirects, uses no proxy, and resolves host names through a resolver
//! that drops every address the URL policy refuses, so a name that points (or is re-pointed)
//! at a private address is never connected to. Nothing of the body, the secret or the URL is
//! logged or recorded in the job's error.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::domain::{
    EVENT_HEADER, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, UrlPolicy, signature_header,
};
use super::service::{policy, signing_secrets};
use super::store;
use crate::app::App;
use crate::jobs::Job;

/// How long a receiver may take to answer, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const USER_AGENT: &str = "ePosta-Webhooks/1";

/// Delivers one delivery (a row of `webhook_deliveries`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverWebhook {
    pub delivery: Uuid,
}

impl Job for DeliverWebhook {
    const KIND: &'static str = "webhooks.deliver";
    /// With the queue's backoff (10 s doubling, at most an hour apart) the last attempt comes
    /// about 3.4 hours after the first.
    const MAX_ATTEMPTS: i32 = 12;

    async fn run(self, app: App) -> anyhow::Result<()> {
        let mut conn = app.db.conn().await?;
        // Gone with its endpoint, or already delivered (a worker died after recording it):
        // nothing to do.
        let Some(d) = store::delivery_by_id(&mut conn, self.delivery).await? else {
            return Ok(());
        };
        if d.status != "pending" {
            return Ok(());
        }
        let Some(endpoint) = store::endpoint_by_id(&mut conn, d.endpoint_id).await? else {
            return Ok(());
        };
        drop(conn);
        let now = app.now();
        let timestamp = now.timestamp();
        let policy = policy(&app);
        let outcome = match policy.check_url(&endpoint.url) {
            Ok(url) => {
                let signature = signature_header(
                    &signing_secrets(&app, &endpoint, now),
                    timestamp,
                    d.body.as_bytes(),
                );
                let started = Instant::now();
                let sent = match client(policy) {
                    Ok(c) => c.post(url),
                    Err(e) => return Err(anyhow::anyhow!("webhook client: {e}")),
                }
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(ID_HEADER, d.event_id.to_string())
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, signature)
                .header(EVENT_HEADER, &d.event_type)
                .body(d.body.clone())
                .send()
                .await;
                let latency = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
                match sent {
                    Ok(res) => Attempt {
                        status: Some(i32::from(res.status().as_u16())),
                        ok: res.status().is_success(),
                        latency,
                        error: (!res.status().is_success())
                            .then(|| format!("HTTP {}", res.status().as_u16())),
                    },
                    Err(e) => Attempt {
                        status: None,
                        ok: false,
                        latency,
                        error: Some(describe(e)),
                    },
                }
            }
            // The policy changed since the endpoint was registered.
            Err(e) => Attempt {
                status: None,
                ok: false,
                latency: 0,
                error: Some(e.to_string()),
            },
        };
        let mut tx = app.db.begin().await?;
        store::record_attempt(
            &mut tx,
            d.id,
            now,
            outcome.status,
            outcome.latency,
            outcome.error.as_deref(),
            outcome.ok,
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("webhook_attempts_total", "outcome" => if outcome.ok { "delivered" } else { "failed" })
            .increment(1);
        if outcome.ok {
            tracing::info!(delivery = %d.id, webhook = %endpoint.id, status = outcome.status, latency_ms = outcome.latency, "webhook delivered");
            Ok(())
        } else {
            Err(anyhow::anyhow!(
                "webhook delivery {}: {}",
                d.id,
                outcome.error.unwrap_or_default()
            ))
        }
    }

    async fn give_up(self, app: App, _error: String) -> anyhow::Result<()> {
        let mut tx = app.db.begin().await?;
        store::set_status(&mut tx, self.delivery, &["pending"], "failed").await?;
        tx.commit().await?;
        tracing::warn!(delivery = %self.delivery, "webhook delivery failed after every attempt");
        Ok(())
    }
}

struct Attempt {
    status: Option<i32>,
    ok: bool,
    latency: i64,
    error: Option<String>,
}

/// Why a request failed, without its URL (which may carry a receiver's token).
fn describe(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = what.to_owned();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(500).collect()
}

/// One client per policy, built once: it keeps connections to receivers alive between
/// deliveries.
fn client(policy: UrlPolicy) -> Result<&'static reqwest::Client, &'static str> {
    static STRICT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    static LOOPBACK: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let cell = if policy.allow_loopback {
        &LOOPBACK
    } else {
        &STRICT
    };
    cell.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { policy }))
            .build()
            .map_err(|e| {
                // Only a broken TLS set-up gets here; deliveries then fail and are retried.
                tracing::error!(error = %e, "cannot build the webhook HTTP client");
                e.to_string()
            })
    })
    .as_ref()
    .map_err(String::as_str)
}

/// Resolves names with the system resolver and keeps only the addresses the policy allows.
struct GuardedResolver {
    policy: UrlPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| policy.address_allowed(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err("the host name resolves to no public address".into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
