//! CSRF protection for the web shell: a double-submit token. Every visitor gets a random
//! token in a `SameSite=Strict` cookie; every form carries it in the hidden field `csrf`
//! (htmx sends it as the `X-CSRF-Token` header), and every unsafe request must present the
//! same value. A cross-site page can neither read the cookie nor make the browser send it.
//! The API is not affected: it takes bearer keys only, never cookies.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::error::{PageError, Problem, is_api_path};
use super::principal::cookie;
use crate::app::App;

pub const COOKIE: &str = "eposta_csrf";
pub const FIELD: &str = "csrf";
pub const HEADER: &str = "x-csrf-token";

/// The visitor's token, for templates.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Global middleware for pages: makes sure every visitor has a token, setting the cookie when
/// it is new.
pub async fn ensure_token(
    axum::extract::State(app): axum::extract::State<App>,
    mut req: Request,
    next: Next,
) -> Response {
    if is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    let existing = cookie(req.headers(), COOKIE)
        .filter(|t| {
            t.len() >= 32
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned);
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (crate::ids::random_token(), true),
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.run(req).await;
    if fresh {
        let secure = if app.config.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        let value = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn forbidden() -> Response {
    use axum::response::IntoResponse;
    PageError(Problem::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "the form has expired; reload the page and try again",
    ))
    .into_response()
}

/// Checks an unsafe request's token; gives the request back (body intact) when it matches.
pub async fn check(req: Request) -> Result<Request, Response> {
    let Some(expected) = cookie(req.headers(), COOKIE).map(str::to_owned) else {
        return Err(forbidden());
    };
    let matches = |given: &str| bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if let Some(given) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return if matches(given) {
            Ok(req)
        } else {
            Err(forbidden())
        };
    }
    let in_query = req.uri().query().and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v)
    });
    if let Some(given) = in_query {
        return if matches(&given) {
            Ok(req)
        } else {
            Err(forbidden())
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(forbidden());
    }
    let limit = req
        .extensions()
        .get::<BodyLimit>()
        .map_or(2 * 1024 * 1024, |l| l.0);
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            use axum::response::IntoResponse;
            return Err(PageError(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "request body is too large",
            ))
            .into_response());
        }
    };
    let given = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| fields.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
    match given {
        Some(g) if matches(&g) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(forbidden()),
    }
}

/// The configured body limit, put into request extensions so that the CSRF check reads no
/// more than a handler would.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);
