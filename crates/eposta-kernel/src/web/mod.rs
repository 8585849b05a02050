//! The HTTP layer shared by every capability: the role-matrix router, principals, CSRF,
//! errors, extractors, pages, the API's OpenAPI document and idempotency, and the operational
//! endpoints.

pub mod csrf;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod ops;
pub mod page;
pub mod pagination;
pub mod principal;
pub mod routes;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
pub use routes::{Access, RouteSpec, Routes};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the whole application from the routes of the kernel and every capability.
pub fn build(app: App, routes: Routes) -> Router {
    let limit = app.config.body_limit;
    ops::prometheus();
    let mut doc = routes.api_document();
    doc.servers = Some(vec![utoipa::openapi::Server::new(
        app.config.public_url.trim_end_matches('/'),
    )]);
    for m in openapi::mismatches(routes.specs(), &doc) {
        tracing::warn!(mismatch = %m, "the OpenAPI document and the router disagree");
    }
    let api_doc = openapi::ApiDocument::new(doc);
    let (_, router) = routes.into_parts();
    let router = router.fallback(not_found).with_state(app.clone());
    // The middleware wraps the router once, outside it, as one concrete service: a layer
    // added with `Router::layer` would be applied to every route and boxed again at each
    // of them, and every request would clone and allocate that whole boxed stack (about
    // 15 µs a request: docs/benchmarks.md, "Tracking lookups"). What needs the route the
    // router matched (the metrics) reads it from the response, where the access guard
    // leaves it. The first layer listed is the outermost.
    let stack = ServiceBuilder::new()
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            error::ApiError(error::Problem::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; it has been logged",
            ))
            .into_response_boxed()
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), SequentialRequestId::new()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The path only: query strings can carry tokens.
                tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::Extension(api_doc))
        .layer(axum::Extension(csrf::BodyLimit(limit)))
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(axum::middleware::from_fn_with_state(app.clone(), principal::resolve))
        .layer(axum::middleware::from_fn_with_state(app.clone(), csrf::ensure_token))
        .layer(axum::middleware::from_fn(page::render_errors))
        // Inside error rendering, so that a stored answer is replayed through it unchanged.
        .layer(axum::middleware::from_fn_with_state(app, idempotency::layer))
        .service(router);
    Router::new().fallback_service(stack)
}

/// Request ids (`x-request-id`, in every log line of the request): a random 64-bit prefix
/// drawn once per process and a counter, so that ids are unique across the processes of an
/// installation without a system call for randomness on every request (a random UUID per
/// request cost one `getrandom`). They identify; they are not secrets.
#[derive(Clone)]
struct SequentialRequestId {
    prefix: u64,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SequentialRequestId {
    fn new() -> Self {
        Self {
            prefix: rand::random(),
            next: std::sync::Arc::default(),
        }
    }
}

impl MakeRequestId for SequentialRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{:016x}-{n:x}", self.prefix);
        HeaderValue::try_from(id).ok().map(RequestId::new)
    }
}

impl error::ApiError {
    fn into_response_boxed(self) -> axum::response::Response {
        axum::response::IntoResponse::into_response(self)
    }
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    error::problem_response(
        uri.path(),
        error::Problem::new(axum::http::StatusCode::NOT_FOUND, "not_found", "not found"),
    )
}
