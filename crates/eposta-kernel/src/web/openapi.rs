//! The OpenAPI 3.1 document of the JSON API. Handlers describe themselves with
//! `#[utoipa::path]`; each module hands its `#[derive(utoipa::OpenApi)]` document to its
//! [`Routes`](super::Routes) (`.openapi(..)`), merging routes merges documents, and
//! [`finish`] completes the result from the role matrix, so that what the document says about
//! security, errors and idempotency is what the router does: the scope of every operation, the
//! one error shape on every 4xx/5xx, and the `Idempotency-Key` header on every write.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::Method;
use serde_json::json;
use utoipa::OpenApi as _;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Components, Content, HeaderBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder,
};

use super::error::{ErrorBody, ErrorDetail};
use super::routes::{Access, RouteSpec};

/// The name of the bearer API-key scheme in `components.securitySchemes`.
pub const SECURITY_SCHEME: &str = "api_key";
/// The request header that makes a write idempotent (see `web::idempotency`).
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// The response header on an answer replayed from an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

/// What every document starts from: the title, the error shape.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "ePošta API",
        description = "The JSON API of ePošta, the digital services of the national post. \
                       Authenticate with an API key (`Authorization: Bearer ep_...`); every \
                       error has the shape `ErrorBody`; writes take an `Idempotency-Key`. \
                       A readable version of this document is at `/api`.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
struct Base;

/// The finished document as served: built once when the router is built.
pub struct ApiDocument {
    pub doc: OpenApi,
    /// The document as JSON text, for `/api/v1/openapi.json`.
    pub json: String,
    /// The same as a JSON value, for the readable page at `/api`.
    pub value: serde_json::Value,
}

impl ApiDocument {
    pub fn new(doc: OpenApi) -> Arc<ApiDocument> {
        let value = serde_json::to_value(&doc).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialise the OpenAPI document");
            serde_json::Value::Null
        });
        Arc::new(ApiDocument {
            json: value.to_string(),
            value,
            doc,
        })
    }
}

/// Completes the merged descriptions of `specs`' routes into the served document.
pub fn finish(described: OpenApi, specs: &[RouteSpec]) -> OpenApi {
    let mut doc = Base::openapi();
    doc.merge(described);
    let components = doc.components.get_or_insert_with(Components::default);
    components
        .security_schemes
        .insert(SECURITY_SCHEME.into(), security_scheme());
    for (name, response) in standard_responses() {
        components
            .responses
            .entry(name.into())
            .or_insert(RefOr::T(response));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations_mut(item) {
            let access = specs
                .iter()
                .find(|s| s.method == method && s.path == path.as_str())
                .map(|s| s.access);
            if path.starts_with("/api/") {
                complete(op, &method, access);
            }
        }
    }
    doc
}

/// Every difference between the API routes (under `/api/v1`) and the operations of `doc`:
/// a route nobody described, or a description of a route that does not exist.
pub fn mismatches(specs: &[RouteSpec], doc: &OpenApi) -> Vec<String> {
    let routes: BTreeSet<(String, String)> = specs
        .iter()
        .filter(|s| s.path.starts_with("/api/v1/"))
        .map(|s| (s.method.to_string(), s.path.to_owned()))
        .collect();
    let described: BTreeSet<(String, String)> = doc
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            operations(item)
                .into_iter()
                .map(move |m| (m.to_string(), path.clone()))
        })
        .collect();
    let mut out: Vec<String> = routes
        .difference(&described)
        .map(|(m, p)| format!("{m} {p} is a route but not in the OpenAPI document"))
        .collect();
    out.extend(
        described
            .difference(&routes)
            .map(|(m, p)| format!("{m} {p} is in the OpenAPI document but not a route")),
    );
    out
}

/// Operations that change something, and so take an `Idempotency-Key`.
pub fn is_write(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

fn security_scheme() -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("ep_<prefix>_<secret>")
            .description(Some(
                "An API key issued by the post's administrators to an agency or business: \
                 `Authorization: Bearer ep_<prefix>_<secret>`. The secret is shown once. \
                 An operation lists the scope it needs; a key without it gets 403.",
            ))
            .build(),
    )
}

fn error_content(code: &str, message: &str) -> Content {
    let mut c = Content::new(Some(Ref::from_schema_name("ErrorBody")));
    c.example = Some(json!({ "error": { "code": code, "message": message } }));
    c
}

fn error_response(description: &str, code: &str, message: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", error_content(code, message))
        .build()
}

/// Reusable responses (`components.responses`), by name.
fn standard_responses() -> Vec<(&'static str, Response)> {
    let mut unauthenticated = error_response(
        "No API key, or an unknown or revoked one.",
        "unauthenticated",
        "a valid API key is required",
    );
    unauthenticated.headers.insert(
        "WWW-Authenticate".into(),
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("`Bearer`"))
            .build(),
    );
    vec![
        (
            "BadRequest",
            error_response(
                "The body is not well-formed JSON.",
                "invalid",
                "Failed to parse the request body as JSON",
            ),
        ),
        ("Unauthenticated", unauthenticated),
        (
            "Forbidden",
            error_response(
                "The key lacks the scope this operation needs.",
                "forbidden",
                "forbidden",
            ),
        ),
        (
            "NotFound",
            error_response("No such thing.", "not_found", "not found"),
        ),
        (
            "IdempotencyInProgress",
            error_response(
                "A request with the same `Idempotency-Key` is still being answered; retry later.",
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still in progress",
            ),
        ),
        (
            "PayloadTooLarge",
            error_response(
                "The body exceeds the server's limit.",
                "payload_too_large",
                "request body is too large",
            ),
        ),
        (
            "UnsupportedMediaType",
            error_response(
                "The body is not `application/json`.",
                "unsupported_media_type",
                "Expected request with `Content-Type: application/json`",
            ),
        ),
        (
            "Invalid",
            error_response(
                "The input broke a rule; `field` names the field (or header) at fault. Also \
                 `idempotency_key_reused` when an `Idempotency-Key` comes back with a different \
                 request.",
                "invalid",
                "amount: must be positive",
            ),
        ),
        (
            "Internal",
            error_response(
                "Something failed on the server; it has been logged with the request id \
                 (`X-Request-Id`).",
                "internal",
                "internal error; it has been logged",
            ),
        ),
    ]
}

fn reference(name: &str) -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(name))
}

fn idempotency_parameter() -> Parameter {
    ParameterBuilder::new()
        .name(IDEMPOTENCY_KEY)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: within 24 hours, a request with the same key (for the same \
             API key) gets the first answer again, with `Idempotent-Replayed: true`, and \
             changes nothing. 1 to 255 printable ASCII characters; a UUID is a good choice.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x20-\\x7E]+$")),
        ))
        .build()
}

/// Fills in what the role matrix and the web layer decide for one operation.
fn complete(op: &mut Operation, method: &Method, access: Option<Access>) {
    let mut add = |status: &str, name: &str| {
        op.responses
            .responses
            .entry(status.into())
            .or_insert_with(|| reference(name));
    };
    match access {
        Some(Access::Scope(scope)) => {
            add("401", "Unauthenticated");
            add("403", "Forbidden");
            op.security = Some(vec![SecurityRequirement::new(SECURITY_SCHEME, [scope])]);
        }
        Some(Access::AnyKey) => {
            add("401", "Unauthenticated");
            op.security = Some(vec![SecurityRequirement::new(
                SECURITY_SCHEME,
                Vec::<String>::new(),
            )]);
        }
        // An empty list says "no authentication" explicitly.
        Some(Access::Public) => op.security = Some(Vec::new()),
        // Session routes are not part of the API; `mismatches` reports missing routes.
        Some(Access::User | Access::Citizen | Access::Staff(_) | Access::Member(_)) | None => {}
    }
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let has_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let has_body = op.request_body.is_some();
    let write = is_write(method);
    let mut add = |status: &str, name: &str| {
        op.responses
            .responses
            .entry(status.into())
            .or_insert_with(|| reference(name));
    };
    if has_path {
        add("404", "NotFound");
    }
    if has_query {
        add("422", "Invalid");
    }
    if has_body {
        add("400", "BadRequest");
        add("413", "PayloadTooLarge");
        add("415", "UnsupportedMediaType");
        add("422", "Invalid");
    }
    if write {
        add("409", "IdempotencyInProgress");
        add("413", "PayloadTooLarge");
        add("422", "Invalid");
    }
    add("500", "Internal");
    if write {
        let params = op.parameters.get_or_insert_with(Vec::new);
        if !params.iter().any(|p| p.name == IDEMPOTENCY_KEY) {
            params.push(idempotency_parameter());
        }
    }
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(r) = response else { continue };
        let error = status.starts_with('4') || status.starts_with('5') || status == "default";
        if error && r.content.is_empty() {
            r.content.insert(
                "application/json".into(),
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            );
        }
        if write && status.starts_with('2') {
            r.headers
                .entry(IDEMPOTENT_REPLAYED.into())
                .or_insert_with(|| {
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::String))
                        .description(Some(
                            "`true` when this is the stored answer to an earlier request \
                             with the same `Idempotency-Key`.",
                        ))
                        .build()
                });
        }
    }
}

fn operations(item: &PathItem) -> Vec<Method> {
    // The document is small and read only when routes are checked against it: a copy keeps
    // one list of PathItem's operations, in operations_mut.
    operations_mut(&mut item.clone())
        .into_iter()
        .map(|(m, _)| m)
        .collect()
}

fn operations_mut(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    let PathItem {
        get,
        put,
        post,
        delete,
        options,
        head,
        patch,
        trace,
        ..
    } = item;
    [
        (Method::GET, get),
        (Method::PUT, put),
        (Method::POST, post),
        (Method::DELETE, delete),
        (Method::OPTIONS, options),
        (Method::HEAD, head),
        (Method::PATCH, patch),
        (Method::TRACE, trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
    .collect()
}
