//! Extractors whose rejections use the one error shape and name the field at fault.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{ApiError, PageError, Problem};

fn rejection(status: StatusCode, text: String) -> Problem {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::new(status, "payload_too_large", "request body is too large");
    }
    // serde's messages name the path of the field ("email: missing field …").
    let field = text
        .split_once(": ")
        .and_then(|(_, rest)| rest.split_once(": "))
        .map(|(f, _)| f.trim().to_owned())
        .filter(|f| !f.contains(' '));
    let status = if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        status
    } else if status.is_client_error() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::BAD_REQUEST
    };
    Problem {
        status,
        code: if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            "unsupported_media_type"
        } else {
            "invalid"
        },
        message: text,
        field,
    }
}

/// JSON body for the API.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => {
                let e: JsonRejection = e;
                let status = match &e {
                    JsonRejection::JsonSyntaxError(_) => StatusCode::BAD_REQUEST,
                    _ => e.status(),
                };
                Err(ApiError(rejection(status, e.body_text())))
            }
        }
    }
}

/// Form body for pages.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(e) => {
                let e: FormRejection = e;
                Err(PageError(rejection(e.status(), e.body_text())))
            }
        }
    }
}

/// Query string; errors as JSON on API paths, as pages elsewhere.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = axum::response::Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => {
                let e: QueryRejection = e;
                Err(super::error::problem_response(
                    parts.uri.path(),
                    rejection(e.status(), e.body_text()),
                ))
            }
        }
    }
}

/// Path parameters; a malformed one (say, not a UUID) is a 404, as a missing thing would be.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = axum::response::Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => {
                let e: PathRejection = e;
                tracing::debug!(error = %e.body_text(), "bad path parameter");
                Err(super::error::problem_response(
                    parts.uri.path(),
                    Problem::new(StatusCode::NOT_FOUND, "not_found", "not found"),
                ))
            }
        }
    }
}
