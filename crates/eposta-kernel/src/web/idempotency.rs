//! Idempotent API writes. A POST, PUT or PATCH under `/api/` that carries an
//! `Idempotency-Key` header is answered once: the first request claims the key (for the
//! calling API key) with a placeholder row, its answer is stored, and a retry with the same
//! key and the same request gets that answer again with `Idempotent-Replayed: true`, without
//! running the handler. A retry with a different request is refused (422), one that arrives
//! while the first is still running waits its turn (409). Server errors are not stored, so a
//! client may retry them. Keys live 24 hours. A handler may store its answer itself, with
//! its write ([`Claimed`], [`AnswerStored`]).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use super::error::{ApiError, Problem, is_api_path};
use super::openapi::{IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, is_write};
use super::principal::Principal;
use super::routes::Admitted;
use crate::app::App;

pub mod store;

/// How long a key is remembered; an older row is replaced by a new request.
pub const RETENTION: Duration = Duration::hours(24);
/// A placeholder this old belongs to a request that died (the request timeout is a minute);
/// a new request may take the key over.
pub const ABANDONED_AFTER: Duration = Duration::minutes(5);

/// The claim of the request being handled, in its extensions: for a handler that stores its
/// answer itself, in the same transaction (or statement) as its write, so that the write
/// and the answer a retry gets are committed together. Such a handler writes the answer
/// with [`store::complete`] (or the same `UPDATE` in its own SQL: `status`, `body` and
/// `content_type` of the row `(scope, key, created_at = claimed_at)` whose `status` is still
/// NULL) and marks its response with [`AnswerStored`]; the layer then stores nothing. The
/// response must carry exactly the stored status, body and content type.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub scope: String,
    pub key: String,
    pub claimed_at: DateTime<Utc>,
}

/// Left on a response by a handler that stored its answer itself (see [`Claimed`]).
#[derive(Debug, Clone, Copy)]
pub struct AnswerStored;

/// Global middleware (inside principal resolution, outside the router).
pub async fn layer(State(app): State<App>, req: Request, next: Next) -> Response {
    if !is_write(req.method()) || !is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    let key = match idempotency_key(req.headers()) {
        Ok(Some(k)) => k,
        Ok(None) => return next.run(req).await,
        Err(p) => return ApiError(p).into_response(),
    };
    // Without a key the guard answers 401; nothing to remember.
    let scope = match req.extensions().get::<Principal>() {
        Some(Principal::Key(k)) => key_scope(k.key_id),
        _ => return next.run(req).await,
    };
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, app.config.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "request body is too large",
            ))
            .into_response();
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |p| p.as_str());
    let hash = request_hash(&parts.method, path, &bytes);
    let now = app.now();
    match claim(&app, &scope, &key, &hash, now).await {
        Ok(Claim::Ours) => {}
        Ok(Claim::Taken(answer)) => return answer,
        Err(e) => return ApiError::from(e).into_response(),
    }
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(Claimed {
        scope: scope.clone(),
        key: key.clone(),
        claimed_at: now,
    });
    let mut pending = Pending {
        app: app.clone(),
        scope,
        key,
        claimed_at: now,
        armed: true,
    };
    let res = next.run(req).await;
    pending.settle(res).await
}

/// The scope idempotency keys live in for one API key: clients never collide.
pub fn key_scope(key_id: uuid::Uuid) -> String {
    format!("apikey:{key_id}")
}

enum Claim {
    Ours,
    /// Someone else holds the key: the answer to give (a replay or a refusal).
    Taken(Response),
}

async fn claim(
    app: &App,
    scope: &str,
    key: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Claim, crate::Error> {
    // Two attempts: the row we conflict with may be released between our insert and read.
    // Each statement stands alone, so it runs in autocommit mode: no BEGIN and COMMIT round
    // trips on an API write's hot path (docs/benchmarks.md, "Payments").
    for _ in 0..2 {
        let mut c = app.db.autocommit().await?;
        let ours = store::claim(
            &mut c,
            scope,
            key,
            hash,
            now,
            now - RETENTION,
            now - ABANDONED_AFTER,
        )
        .await?;
        drop(c);
        if ours {
            return Ok(Claim::Ours);
        }
        let mut conn = app.db.conn().await?;
        let Some(row) = store::get(&mut conn, scope, key).await? else {
            continue;
        };
        if row.request_hash != hash {
            return Ok(Claim::Taken(
                ApiError(Problem {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "idempotency_key_reused",
                    message: "this Idempotency-Key was used for a different request".into(),
                    field: Some(IDEMPOTENCY_KEY.into()),
                })
                .into_response(),
            ));
        }
        let Some(status) = row.status else {
            return Ok(Claim::Taken(
                ApiError(Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency_in_progress",
                    "a request with this Idempotency-Key is still in progress; retry later",
                ))
                .into_response(),
            ));
        };
        return Ok(Claim::Taken(replay(
            status,
            row.body.unwrap_or_default(),
            row.content_type,
        )));
    }
    Err(crate::Error::conflict(
        "the Idempotency-Key is contended; retry",
    ))
}

fn replay(status: i32, body: Vec<u8>, content_type: Option<String>) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    match content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        Some(ct) => {
            headers.insert(header::CONTENT_TYPE, ct);
        }
        None => {
            headers.remove(header::CONTENT_TYPE);
        }
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    res
}

/// A claimed key whose answer is not stored yet. If the request is dropped on the way (a
/// timeout, a panic), the placeholder is released so that the client may retry.
struct Pending {
    app: App,
    scope: String,
    key: String,
    claimed_at: DateTime<Utc>,
    armed: bool,
}

impl Pending {
    /// Stores the handler's answer, or releases the key when there is nothing to remember: a
    /// server error, or a refusal before the handler ran (no key, no such route).
    async fn settle(&mut self, res: Response) -> Response {
        let status = res.status();
        let admitted = res.extensions().get::<Admitted>().is_some();
        if admitted && res.extensions().get::<AnswerStored>().is_some() {
            // Committed with the handler's write.
            self.armed = false;
            return res;
        }
        if status.is_server_error() || !admitted {
            self.release().await;
            return res;
        }
        let (parts, body) = res.into_parts();
        let bytes: Bytes = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the answer to an idempotent request");
                self.release().await;
                return ApiError(Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; it has been logged",
                ))
                .into_response();
            }
        };
        if bytes.len() > self.app.config.body_limit {
            // Too big to keep; a retry will run the request again.
            tracing::warn!(
                size = bytes.len(),
                "answer to an idempotent request too large to store"
            );
            self.release().await;
            return Response::from_parts(parts, Body::from(bytes));
        }
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let stored = async {
            let mut c = self.app.db.autocommit().await?;
            store::complete(
                &mut c,
                &self.scope,
                &self.key,
                self.claimed_at,
                i32::from(status.as_u16()),
                &bytes,
                content_type,
            )
            .await
            .map(|_| ())
        }
        .await;
        match stored {
            Ok(()) => self.armed = false,
            Err(e) => {
                tracing::error!(error = %e, "cannot store the answer to an idempotent request");
                self.release().await;
            }
        }
        Response::from_parts(parts, Body::from(bytes))
    }

    async fn release(&mut self) {
        self.armed = false;
        if let Err(e) = release(&self.app, &self.scope, &self.key, self.claimed_at).await {
            tracing::error!(error = %e, "cannot release an idempotency key");
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (app, scope, key, at) = (
            self.app.clone(),
            std::mem::take(&mut self.scope),
            std::mem::take(&mut self.key),
            self.claimed_at,
        );
        handle.spawn(async move {
            if let Err(e) = release(&app, &scope, &key, at).await {
                tracing::error!(error = %e, "cannot release an idempotency key");
            }
        });
    }
}

async fn release(
    app: &App,
    scope: &str,
    key: &str,
    claimed_at: DateTime<Utc>,
) -> Result<(), crate::Error> {
    let mut c = app.db.autocommit().await?;
    store::release(&mut c, scope, key, claimed_at).await
}

/// The `Idempotency-Key` header: absent, or 1 to 255 printable ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |message: &str| Problem {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid",
        message: format!("{IDEMPOTENCY_KEY}: {message}"),
        field: Some(IDEMPOTENCY_KEY.into()),
    };
    if values.next().is_some() {
        return Err(invalid("give the header once"));
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(invalid("must be 1 to 255 printable ASCII characters"));
    }
    // Checked to be ASCII above.
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// SHA-256 of the method, path (with query) and body: what makes two requests "the same".
fn request_hash(method: &Method, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                IDEMPOTENCY_KEY,
                HeaderValue::from_bytes(v).expect("header value"),
            );
        }
        h
    }

    #[test]
    fn keys_are_printable_ascii_up_to_255() {
        assert_eq!(idempotency_key(&headers(&[])).expect("absent"), None);
        assert_eq!(
            idempotency_key(&headers(&[b"order 42/a"])).expect("valid"),
            Some("order 42/a".into())
        );
        let long = "k".repeat(255);
        assert!(idempotency_key(&headers(&[long.as_bytes()])).is_ok());
        let too_long = "k".repeat(256);
        for bad in [
            headers(&[b""]),
            headers(&[too_long.as_bytes()]),
            headers(&[b"tab\there"]),
            headers(&["ćao".as_bytes()]),
            headers(&[b"a", b"b"]),
        ] {
            let p = idempotency_key(&bad).expect_err("invalid");
            assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(p.field.as_deref(), Some(IDEMPOTENCY_KEY));
        }
    }

    #[test]
    fn the_hash_covers_method_path_and_body() {
        let base = request_hash(&Method::POST, "/api/v1/x", b"{}");
        assert_eq!(base.len(), 64);
        assert_eq!(base, request_hash(&Method::POST, "/api/v1/x", b"{}"));
        assert_ne!(base, request_hash(&Method::PUT, "/api/v1/x", b"{}"));
        assert_ne!(base, request_hash(&Method::POST, "/api/v1/y", b"{}"));
        assert_ne!(base, request_hash(&Method::POST, "/api/v1/x", b"{ }"));
    }
}
