//! Operational endpoints: `/healthz` (the process is up), `/readyz` (the database is
//! reachable and migrated), `/metrics` (Prometheus text), and the request metrics middleware.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::routes::{Access, Routes};
use crate::app::App;

/// The process-wide Prometheus recorder (installed once; tests share it).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed");
        }
        handle
    })
}

pub fn routes() -> Routes {
    Routes::new()
        .get("/healthz", Access::Public, healthz)
        .get("/readyz", Access::Public, readyz)
        .get("/metrics", Access::Public, metrics_text)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(app): State<App>) -> Response {
    match app.db.is_migrated().await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "database not migrated").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn metrics_text(State(app): State<App>) -> Response {
    let (size, idle) = app.db.pool_stats();
    metrics::gauge!("db_pool_connections").set(f64::from(size));
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    match crate::jobs::queue_depth(&app).await {
        Ok(depth) => {
            for (state, n) in depth {
                metrics::gauge!("job_queue_depth", "state" => state).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read job-queue depth"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus().render(),
    )
        .into_response()
}

/// The method as a metrics label, without an allocation per request.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts requests by route and status and times them.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let res = next.run(req).await;
    // Left on the response by the access guard of the route the router matched. A stored
    // answer replayed by the idempotency layer never reached the router.
    let route = match res.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_owned(),
        None if res.headers().contains_key("idempotent-replayed") => "idempotent_replay".into(),
        None => "unmatched".into(),
    };
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    res
}
