//! The web shell's page context and rendering: language, the logged-in user, the CSRF token
//! and the current path, which every template's layout needs.

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::csrf::CsrfToken;
use super::error::{PageError, Problem, is_api_path};
use super::principal::{Principal, SessionUser};
use crate::accounts::Role;
use crate::i18n::{Lang, Tr};

/// What every page knows about its request.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub lang: Lang,
    pub tr: Tr,
    pub user: Option<SessionUser>,
    pub csrf: String,
    /// Path and query of this page, for the language switcher's way back.
    pub here: String,
}

impl PageCtx {
    pub fn from_parts(parts: &Parts) -> PageCtx {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let user = match parts.extensions.get::<Principal>() {
            Some(Principal::User(u)) => Some(u.clone()),
            _ => None,
        };
        PageCtx {
            lang,
            tr: Tr::new(lang),
            user,
            csrf: parts
                .extensions
                .get::<CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into()),
        }
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.tr.f(key, args)
    }

    pub fn langs(&self) -> [Lang; 3] {
        Lang::ALL
    }

    /// The link that switches to `lang` and comes back here.
    pub fn switch_url(&self, lang: &Lang) -> String {
        format!(
            "/lang/{}?{}",
            lang.code(),
            serde_urlencoded::to_string([("next", self.here.as_str())]).unwrap_or_default()
        )
    }

    pub fn is_lang(&self, lang: &Lang) -> bool {
        *lang == self.lang
    }

    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    pub fn is_role(&self, role: &str) -> bool {
        self.role().is_some_and(|r| r.as_str() == role)
    }

    /// A member of an organisation, who has the console.
    pub fn is_member(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.organisation.is_some())
    }

    pub fn is_counter(&self) -> bool {
        self.role().is_some_and(|r| r.needs_office())
    }

    /// Text from data written in Cyrillic, in the page's script.
    pub fn script(&self, text: &str) -> String {
        self.tr.script(text)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PageCtx::from_parts(parts))
    }
}

/// Renders a template into an HTML response.
pub fn render<T: Template>(t: &T) -> Result<Response, PageError> {
    render_status(StatusCode::OK, t)
}

pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Result<Response, PageError> {
    let html = t
        .render()
        .map_err(|e| crate::error::Error::Internal(anyhow::anyhow!("template: {e}")))?;
    Ok((status, Html(html)).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: PageCtx,
    status: u16,
    title: &'static str,
    message: &'a str,
}

/// Global middleware: turns error markers and bare error statuses into a page (web shell)
/// or the JSON error shape (API), so that every error looks the same wherever it came from.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let api = is_api_path(req.uri().path());
    let (parts, body) = req.into_parts();
    // What an error page needs of the request; the API's errors need none of it, and API
    // calls come by the thousand per second (docs/benchmarks.md, "Tracking lookups").
    let ctx_parts = (!api).then(|| clone_parts(&parts));
    let res = next.run(Request::from_parts(parts, body)).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let marker = res.extensions().get::<Problem>().cloned();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if api {
        if is_json {
            return res;
        }
        let p = marker.unwrap_or_else(|| generic(status));
        return super::error::ApiError(p).into_response();
    }
    let Some(ctx_parts) = ctx_parts else {
        return res;
    };
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && marker.is_none() {
        return res;
    }
    let p = marker.unwrap_or_else(|| generic(status));
    let ctx = PageCtx::from_parts(&ctx_parts);
    let title = match p.status {
        StatusCode::NOT_FOUND => ctx.t("error.not_found"),
        StatusCode::FORBIDDEN => ctx.t("error.forbidden"),
        StatusCode::TOO_MANY_REQUESTS => ctx.t("error.too_many"),
        StatusCode::PAYLOAD_TOO_LARGE => ctx.t("error.too_large"),
        s if s.is_server_error() => ctx.t("error.server"),
        _ => ctx.t("error.invalid"),
    };
    let page = ErrorPage {
        ctx,
        status: p.status.as_u16(),
        title,
        message: &p.message,
    };
    let mut out = match render_status(p.status, &page) {
        Ok(r) => r,
        Err(_) => (p.status, p.message.clone()).into_response(),
    };
    // Keep cookies and headers such as Retry-After or WWW-Authenticate.
    for (k, v) in res.headers() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().append(k.clone(), v.clone());
        }
    }
    out
}

fn generic(status: StatusCode) -> Problem {
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        s if s.is_server_error() => "internal",
        _ => "invalid",
    };
    Problem::new(
        status,
        code,
        status.canonical_reason().unwrap_or("error").to_lowercase(),
    )
}

fn clone_parts(parts: &Parts) -> Parts {
    let mut builder = Request::builder()
        .uri(parts.uri.clone())
        .method(parts.method.clone());
    if let Some(l) = parts.extensions.get::<Lang>() {
        builder = builder.extension(*l);
    }
    if let Some(p) = parts.extensions.get::<Principal>() {
        builder = builder.extension(p.clone());
    }
    if let Some(c) = parts.extensions.get::<CsrfToken>() {
        builder = builder.extension(c.clone());
    }
    let (p, _) = builder.body(()).unwrap_or_default().into_parts();
    p
}
