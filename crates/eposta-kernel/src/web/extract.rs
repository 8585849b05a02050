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
    let field = field_of(&text);
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

/// The field a rejection's text names. serde's messages come after axum's own words and a
/// colon, as `path: message` when the error is inside a field, and name a missing field
/// in the message (`missing field `x``): `amount`, `customer.name`.
fn field_of(text: &str) -> Option<String> {
    let (_, rest) = text.split_once(": ")?;
    let (path, message) = match rest.split_once(": ") {
        Some((p, m)) if !p.contains(' ') && p != "." => (Some(p.trim()), m),
        _ => (None, rest),
    };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split_once('`'))
        .map(|(f, _)| f);
    match (path, missing) {
        (Some(p), Some(f)) => Some(format!("{p}.{f}")),
        (None, Some(f)) => Some(f.to_owned()),
        (Some(p), None) => Some(p.to_owned()),
        (None, None) => None,
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
                let mut p = rejection(e.status(), e.body_text());
                // Not JSON at all is a bad request; JSON of the wrong shape is unprocessable.
                if matches!(e, JsonRejection::JsonSyntaxError(_)) {
                    p.status = StatusCode::BAD_REQUEST;
                }
                Err(ApiError(p))
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

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn rejections_name_the_field() {
        let prefix = "Failed to deserialize the JSON body into the target type";
        let cases = [
            ("missing field `amount` at line 1 column 2", Some("amount")),
            (
                "customer: missing field `name` at line 1 column 20",
                Some("customer.name"),
            ),
            (
                "amount: invalid type: string \"x\", expected i64 at line 1 column 14",
                Some("amount"),
            ),
            ("items[2].price: invalid value", Some("items[2].price")),
            ("expected value at line 1 column 1", None),
        ];
        for (message, field) in cases {
            assert_eq!(
                field_of(&format!("{prefix}: {message}")).as_deref(),
                field,
                "{message}"
            );
        }
        assert_eq!(
            field_of("Failed to deserialize form body: missing field `email`").as_deref(),
            Some("email")
        );
        assert_eq!(field_of("no colon at all"), None);
    }
}

/// A form as its posted pairs, for forms a struct cannot take: checkboxes send one name once
/// per ticked box. Read it with `Form<FormPairs>`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct FormPairs(pub Vec<(String, String)>);

impl FormPairs {
    /// The first value sent under `name`, or the empty text.
    pub fn value(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value sent under `name`, in order.
    pub fn values(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}
