//! The API's description: `/api/v1/openapi.json` for machines, and `/api`, the same document
//! drawn as a page for people (in the visitor's language, no JavaScript).

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::i18n::Lang;
use crate::web::error::PageError;
use crate::web::openapi::{ApiDocument, SECURITY_SCHEME};
use crate::web::page::{PageCtx, render};

/// The OpenAPI document
///
/// This API described in OpenAPI 3.1: every operation, the scope it needs, its parameters,
/// bodies and answers. A readable version is at `/api`.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "kernel",
    responses((
        status = 200,
        description = "The OpenAPI 3.1 document",
        content_type = "application/json",
        body = Object
    ))
)]
pub async fn openapi_json(Extension(doc): Extension<Arc<ApiDocument>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        doc.json.clone(),
    )
        .into_response()
}

/// Error codes the API answers with, and their HTTP status, for the page's table.
const ERROR_CODES: &[(&str, u16)] = &[
    ("invalid", 422),
    ("unauthenticated", 401),
    ("forbidden", 403),
    ("not_found", 404),
    ("conflict", 409),
    ("idempotency_in_progress", 409),
    ("idempotency_key_reused", 422),
    ("payload_too_large", 413),
    ("unsupported_media_type", 415),
    ("too_many_requests", 429),
    ("unavailable", 503),
    ("internal", 500),
];

#[derive(Template)]
#[template(path = "api/reference.html")]
struct ReferencePage {
    ctx: PageCtx,
    version: String,
    operations: Vec<OperationView>,
    schemas: Vec<SchemaView>,
    codes: Vec<CodeView>,
    error_example: String,
    auth_example: String,
    idempotency_example: String,
}

struct CodeView {
    code: &'static str,
    status: u16,
    meaning: String,
}

struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    access: String,
    idempotent: bool,
    parameters: Vec<ParameterView>,
    request: Option<String>,
    responses: Vec<ResponseView>,
}

struct ParameterView {
    name: String,
    location: String,
    required: bool,
    ty: String,
    description: String,
}

struct ResponseView {
    status: String,
    description: String,
    schema: String,
    /// The schema is one component, described below on the page.
    linked: bool,
}

struct SchemaView {
    name: String,
    description: String,
    ty: String,
    properties: Vec<PropertyView>,
}

struct PropertyView {
    name: String,
    ty: String,
    required: bool,
    description: String,
}

pub async fn page(
    ctx: PageCtx,
    Extension(doc): Extension<Arc<ApiDocument>>,
) -> Result<Response, PageError> {
    let d = &doc.value;
    let base = d["servers"][0]["url"]
        .as_str()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_owned();
    let page = ReferencePage {
        version: text(&d["info"]["version"]),
        operations: operations(&ctx, d),
        schemas: schemas(d),
        codes: ERROR_CODES
            .iter()
            .map(|&(code, status)| CodeView {
                code,
                status,
                meaning: ctx.f(&format!("api.code.{code}"), &[]),
            })
            .collect(),
        error_example: pretty(&json!({
            "error": {
                "code": "invalid",
                "message": "recipient: must be a Serbian mobile number",
                "field": "recipient"
            }
        })),
        auth_example: format!("curl -H 'Authorization: Bearer ep_abcd1234_…' {base}/api/v1/me"),
        idempotency_example: format!(
            "curl -X POST -H 'Authorization: Bearer ep_abcd1234_…' \\\n     \
             -H 'Idempotency-Key: 5f0c7a9e-2d1b-4c57-9a43-8e1f0b6d2c11' \\\n     \
             -H 'Content-Type: application/json' -d '{{…}}' {base}/api/v1/…"
        ),
        ctx,
    };
    render(&page)
}

/// Descriptions in the document are CommonMark; of it, the page shows `code` spans (the
/// rest is plain text). Returns HTML, escaped.
fn rich(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let ticks = parts.len() - 1;
    let mut out = String::with_capacity(text.len());
    for (i, part) in parts.into_iter().enumerate() {
        let escaped = askama::filters::escape(part, askama::filters::Html)
            .map(|e| e.to_string())
            .unwrap_or_default();
        if i % 2 == 0 {
            out.push_str(&escaped);
        } else if i < ticks {
            out.push_str("<code>");
            out.push_str(&escaped);
            out.push_str("</code>");
        } else {
            // An unpaired backtick stays as it is.
            out.push('`');
            out.push_str(&escaped);
        }
    }
    out
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Follows a local `$ref` (`#/components/...`) to what it names.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

/// A short name for a schema: the component it refers to, `T[]` for arrays, `a | b` for
/// alternatives, else its type (with the format, if any).
fn type_name(s: &Value) -> String {
    if let Some(r) = s["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = s[key].as_array() {
            return alts.iter().map(type_name).collect::<Vec<_>>().join(" | ");
        }
    }
    let one = |t: &str| match t {
        "array" => format!("{}[]", type_name(&s["items"])),
        "null" => "null".to_owned(),
        t => match s["format"].as_str() {
            Some(f) => format!("{t} ({f})"),
            None => t.to_owned(),
        },
    };
    match &s["type"] {
        Value::String(t) => one(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if s.get("properties").is_some() => "object".into(),
        _ => "any".into(),
    }
}

/// The schema of the JSON content of a request body or response, by name.
fn content_schema(content: &Value) -> String {
    let Some(map) = content.as_object() else {
        return String::new();
    };
    map.get("application/json")
        .or_else(|| map.values().next())
        .map(|c| type_name(&c["schema"]))
        .unwrap_or_default()
}

fn operations(ctx: &PageCtx, doc: &Value) -> Vec<OperationView> {
    let mut out = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        for method in ["get", "put", "post", "patch", "delete"] {
            let op = &item[method];
            if !op.is_object() {
                continue;
            }
            let id = text(&op["operationId"]);
            // Summaries may be translated in the catalogues; descriptions are written in
            // English in the code, so they show beside an English summary only.
            let translated = ctx.tr.lookup(&format!("api.op.{id}"));
            let description = match (translated, ctx.lang) {
                (Some(_), Lang::SrCyrl | Lang::SrLatn) => String::new(),
                _ => rich(&text(&op["description"])),
            };
            let summary = translated
                .map(str::to_owned)
                .unwrap_or_else(|| text(&op["summary"]));
            let parameters = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            let p = resolve(doc, p);
                            ParameterView {
                                name: text(&p["name"]),
                                location: text(&p["in"]),
                                required: p["required"].as_bool().unwrap_or(false),
                                ty: type_name(&p["schema"]),
                                description: rich(&text(&p["description"])),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let request = op
                .get("requestBody")
                .map(|b| content_schema(&resolve(doc, b)["content"]));
            let responses = op["responses"]
                .as_object()
                .map(|rs| {
                    rs.iter()
                        .map(|(status, r)| {
                            // The standard answers (components.responses) are translated.
                            let standard = r["$ref"]
                                .as_str()
                                .and_then(|r| r.strip_prefix("#/components/responses/"))
                                .and_then(|name| ctx.tr.lookup(&format!("api.resp.{name}")));
                            let r = resolve(doc, r);
                            let schema = content_schema(&r["content"]);
                            ResponseView {
                                status: status.clone(),
                                description: match standard {
                                    Some(t) => rich(t),
                                    None => rich(&text(&r["description"])),
                                },
                                linked: !schema.is_empty()
                                    && doc["components"]["schemas"].get(&schema).is_some(),
                                schema,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(OperationView {
                anchor: format!(
                    "op-{method}{}",
                    path.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                ),
                method: method.to_uppercase(),
                path: path.clone(),
                summary,
                description,
                access: access(ctx, &op["security"]),
                idempotent: matches!(method, "post" | "put" | "patch"),
                parameters,
                request,
                responses,
            });
        }
    }
    out
}

/// Who may call an operation, from its security requirements.
fn access(ctx: &PageCtx, security: &Value) -> String {
    let Some(reqs) = security.as_array() else {
        return ctx.t("api.op.public").to_owned();
    };
    let scopes: Vec<&str> = reqs
        .iter()
        .filter_map(|r| r[SECURITY_SCHEME].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if reqs.is_empty() {
        ctx.t("api.op.public").to_owned()
    } else if scopes.is_empty() {
        ctx.t("api.op.any_key").to_owned()
    } else {
        ctx.f("api.op.scope_needed", &[("scope", &scopes.join(", "))])
    }
}

fn schemas(doc: &Value) -> Vec<SchemaView> {
    let Some(all) = doc["components"]["schemas"].as_object() else {
        return Vec::new();
    };
    all.iter()
        .map(|(name, s)| {
            let required: Vec<&str> = s["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let properties = s["properties"]
                .as_object()
                .map(|ps| {
                    ps.iter()
                        .map(|(p, ps)| PropertyView {
                            name: p.clone(),
                            ty: type_name(ps),
                            required: required.contains(&p.as_str()),
                            description: rich(&text(&ps["description"])),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let ty = match s["enum"].as_array() {
                Some(values) => values
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(" | "),
                None => type_name(s),
            };
            SchemaView {
                name: name.clone(),
                description: rich(&text(&s["description"])),
                ty,
                properties,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_read_well() {
        assert_eq!(type_name(&json!({"$ref": "#/components/schemas/Me"})), "Me");
        assert_eq!(
            type_name(&json!({"type": "array", "items": {"$ref": "#/components/schemas/Me"}})),
            "Me[]"
        );
        assert_eq!(
            type_name(&json!({"type": ["string", "null"], "format": "date-time"})),
            "string (date-time) | null"
        );
        assert_eq!(
            type_name(&json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/X"}]})),
            "null | X"
        );
        assert_eq!(type_name(&json!({})), "any");
    }

    #[test]
    fn descriptions_keep_code_spans_and_escape_the_rest() {
        assert_eq!(
            rich("Use `ep_<prefix>` & <b>"),
            "Use <code>ep_&#60;prefix&#62;</code> &#38; &#60;b&#62;"
        );
        assert_eq!(rich("one ` alone"), "one ` alone");
        assert_eq!(rich("`a` and `b"), "<code>a</code> and `b");
        assert_eq!(rich(""), "");
    }
}
