//! Errors on the wire. Two renderers: JSON `{"error": {"code", "message"}}` for the API and a
//! page in the visitor's language for the web shell (drawn by `pages::render_error_pages`
//! from the marker this module leaves on the response). Details of 5xx errors go to the log
//! with the request id, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

/// The one error shape of the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid`, `not_found`, `conflict`, `unauthenticated`,
    /// `forbidden`, `too_many_requests`, `payload_too_large`, `unsupported_media_type`,
    /// `idempotency_key_reused`, `idempotency_in_progress`, `unavailable`, `internal`, …
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// The input field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Status, code, message and field of an error, shared by both renderers.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn from_error(e: &Error) -> Self {
        match e {
            Error::Invalid { field, message } => Problem {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                message: format!("{field}: {message}"),
                field: Some(field.to_string()),
            },
            Error::NotFound => Problem::new(StatusCode::NOT_FOUND, "not_found", "not found"),
            Error::Conflict(m) => Problem::new(StatusCode::CONFLICT, "conflict", m.to_string()),
            Error::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "authentication required",
            ),
            Error::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden", "forbidden"),
            Error::TooManyRequests => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "too many attempts, try again later",
            ),
            Error::Unavailable => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "service temporarily unavailable",
            ),
            Error::Config(_) | Error::Internal(_) => {
                tracing::error!(error = ?e, "internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; it has been logged",
                )
            }
        }
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                field: self.field.clone(),
            },
        }
    }
}

/// An error answered as JSON (API routes).
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(Problem::from_error(&e.into()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0.status, Json(self.0.body())).into_response()
    }
}

/// An error answered as a page (web shell routes). The response carries the [`Problem`] as
/// an extension; the page layer draws it in the visitor's language.
#[derive(Debug)]
pub struct PageError(pub Problem);

impl<E: Into<Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(Problem::from_error(&e.into()))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut r = self.0.status.into_response();
        r.extensions_mut().insert(self.0);
        r
    }
}

/// Answers a problem the way the path expects: JSON under `/api/`, a page elsewhere.
pub fn problem_response(path: &str, p: Problem) -> Response {
    if is_api_path(path) {
        ApiError(p).into_response()
    } else {
        PageError(p).into_response()
    }
}

pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/")
}
