//! The JSON API's foundation: the OpenAPI document and its readable page, `/api/v1/me`, and
//! the error shape of bad input. The helpers here (a test-only counting route, keys) serve
//! `idempotency.rs` too.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Method, StatusCode};
use eposta_kernel::apikeys;
use eposta_kernel::audit::Actor;
use eposta_kernel::testing::{TestApp, TestResponse};
use eposta_kernel::web::error::{ApiError, Problem};
use eposta_kernel::web::extract::Json;
use eposta_kernel::web::{Access, Routes};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::OpenApi;

pub(crate) const COUNTER: &str = "/api/v1/test/counter";
pub(crate) const FAIL: &str = "/api/v1/test/fail";

/// Issues a key with `scopes` to a new organisation named `org`.
pub(crate) async fn key(t: &TestApp, org: &str, scopes: &[&str]) -> apikeys::IssuedKey {
    let org = apikeys::create_organisation(&t.app, &Actor::System, org, "agency")
        .await
        .expect("organisation");
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    apikeys::issue(&t.app, &Actor::System, org, "test key", &scopes)
        .await
        .expect("key")
}

#[derive(Deserialize, utoipa::ToSchema)]
struct CounterIn {
    amount: i64,
    note: Option<String>,
}

/// Counts
///
/// Counts its calls (a test-only route, to watch idempotency at work).
#[utoipa::path(
    post,
    path = "/api/v1/test/counter",
    request_body = CounterIn,
    responses((status = 201, description = "Counted"))
)]
#[expect(dead_code, reason = "only its OpenAPI description is used")]
fn counter_doc() {}

#[derive(utoipa::OpenApi)]
#[openapi(paths(counter_doc))]
struct CounterApi;

/// Test-only writes: one that counts its calls and echoes the amount, one that always fails.
fn test_routes(count: Arc<AtomicUsize>, failures: Arc<AtomicUsize>) -> Routes {
    Routes::new()
        .post(
            COUNTER,
            Access::Scope("sms:send"),
            move |Json(body): Json<CounterIn>| {
                let count = count.clone();
                async move {
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    (
                        StatusCode::CREATED,
                        axum::Json(json!({ "count": n, "amount": body.amount, "note": body.note })),
                    )
                }
            },
        )
        .post(FAIL, Access::Scope("sms:send"), move || {
            let failures = failures.clone();
            async move {
                failures.fetch_add(1, Ordering::SeqCst);
                ApiError(Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; it has been logged",
                ))
            }
        })
        .openapi(CounterApi::openapi())
}

pub(crate) struct Counting {
    pub(crate) t: TestApp,
    pub(crate) count: Arc<AtomicUsize>,
    pub(crate) failures: Arc<AtomicUsize>,
}

pub(crate) async fn counting(body_limit: Option<usize>) -> Counting {
    let count = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let mut b = TestApp::builder().routes(test_routes(count.clone(), failures.clone()));
    if let Some(limit) = body_limit {
        b = b.config(|c| c.body_limit = limit);
    }
    Counting {
        t: b.build().await,
        count,
        failures,
    }
}

pub(crate) fn assert_error_shape(r: &TestResponse, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(
        r.headers["content-type"]
            .to_str()
            .expect("text header")
            .starts_with("application/json"),
        "{:?}",
        r.headers
    );
    let body = r.json();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    body
}

pub(crate) fn replayed(r: &TestResponse) -> bool {
    r.headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

// ---------------------------------------------------------------- the document

#[tokio::test]
async fn the_openapi_document_describes_security_errors_and_idempotency() {
    let c = counting(None).await;
    let r = c.t.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "ePošta API");
    let scheme = &doc["components"]["securitySchemes"]["api_key"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(
        error["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorDetail"
    );
    assert!(doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"].is_object());
    assert!(doc["components"]["schemas"]["Me"].is_object());

    let me = &doc["paths"]["/api/v1/me"]["get"];
    assert_eq!(me["security"], json!([{ "api_key": [] }]));
    assert_eq!(
        me["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Me"
    );
    assert_eq!(
        me["responses"]["401"]["$ref"],
        "#/components/responses/Unauthenticated"
    );
    assert_eq!(
        doc["paths"]["/api/v1/openapi.json"]["get"]["security"],
        json!([])
    );

    let counter = &doc["paths"][COUNTER]["post"];
    assert_eq!(counter["security"], json!([{ "api_key": ["sms:send"] }]));
    let params = counter["parameters"].as_array().expect("parameters");
    let idem = params
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("the write takes an Idempotency-Key");
    assert_eq!(idem["in"], "header");
    assert_eq!(idem["schema"]["maxLength"], 255);
    for status in ["400", "401", "403", "409", "413", "422", "500"] {
        assert!(
            counter["responses"][status].is_object(),
            "{status} on the write"
        );
    }
    assert!(counter["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());
    // A read has no Idempotency-Key.
    assert!(
        me["parameters"]
            .as_array()
            .is_none_or(|p| p.iter().all(|p| p["name"] != "Idempotency-Key"))
    );

    // Every error answer of every operation has the one error shape.
    let mut errors = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                let response = match response["$ref"].as_str() {
                    Some(r) => doc.pointer(r.trim_start_matches('#')).expect("resolves"),
                    None => response,
                };
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
                errors += 1;
            }
        }
    }
    assert!(errors >= 10, "{errors}");
}

/// An independent judge: the `openapi-spec-validator` Python package (PyPI); required under CI
/// (see `testing::peer_available`).
#[tokio::test]
async fn the_document_passes_an_independent_openapi_validator() {
    const TEST: &str = "the_document_passes_an_independent_openapi_validator";
    let c = counting(None).await;
    let doc = c.t.client().get("/api/v1/openapi.json").await.body;
    eposta_kernel::testing::assert_valid_openapi(TEST, &doc);
}

/// The document and the router list the same API operations, in both directions.
#[tokio::test]
async fn the_document_and_the_router_agree() {
    let routes = eposta_kernel::routes();
    let doc = serde_json::to_value(routes.api_document()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let api: Vec<_> = routes
        .specs()
        .iter()
        .filter(|s| s.path.starts_with("/api/v1"))
        .collect();
    assert!(api.len() >= 2);
    for spec in &api {
        let method = spec.method.as_str().to_lowercase();
        assert!(
            paths
                .get(spec.path)
                .is_some_and(|item| item[&method].is_object()),
            "{} {} is a route but not in the OpenAPI document",
            spec.method,
            spec.path
        );
    }
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(
                api.iter()
                    .any(|s| s.path == path && s.method.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not a route"
            );
        }
    }
    assert_eq!(routes.api_mismatches(), Vec::<String>::new());
    // And the check notices a route nobody described.
    let extra = eposta_kernel::routes().merge(Routes::new().get(
        "/api/v1/undescribed",
        Access::AnyKey,
        || async { "" },
    ));
    assert_eq!(
        extra.api_mismatches(),
        vec!["GET /api/v1/undescribed is a route but not in the OpenAPI document".to_owned()]
    );
}

#[tokio::test]
async fn the_api_page_reads_the_document_in_every_language() {
    let t = TestApp::new().await;
    let mut c = t.client();
    let r = c.get("/api").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text();
    for needle in [
        "АПИ еПоште",
        "<code>GET /api/v1/me</code>",
        "Ко сам ја",
        "Било који важећи АПИ кључ",
        "Authorization: Bearer ep_",
        "href=\"/api/v1/openapi.json\"",
        "idempotency_key_reused",
        "Idempotent-Replayed: true",
        "&#34;field&#34;: &#34;recipient&#34;",
        "id=\"schema-Me\"",
        "<th scope=\"col\">",
    ] {
        assert!(page.contains(needle), "Cyrillic page lacks {needle}");
    }
    assert!(!page.contains("<script"), "no JavaScript");
    assert!(!page.contains("api.op."), "no catalogue key shows itself");

    c.set_cookie("eposta_lang", "en");
    let page = c.get("/api").await.text();
    for needle in [
        "ePošta API",
        "Who am I",
        "Any valid API key",
        "Safe retries (idempotency)",
        "<code>GET /api/v1/openapi.json</code>",
        "Anyone, no key needed",
    ] {
        assert!(page.contains(needle), "English page lacks {needle}");
    }
    c.set_cookie("eposta_lang", "sr-Latn");
    assert!(c.get("/api").await.text().contains("API ePošte"));
}

// ---------------------------------------------------------------- who am I

#[tokio::test]
async fn me_tells_a_key_who_it_is() {
    let t = TestApp::new().await;
    let k = key(
        &t,
        "Институт за јавно здравље",
        &["sms:send", "postal:track"],
    )
    .await;
    let r = t.api(&k.token).get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let me = r.json();
    assert_eq!(me["organisation"]["name"], "Институт за јавно здравље");
    assert_eq!(me["key"]["id"], k.id.to_string());
    assert_eq!(me["key"]["name"], "test key");
    assert_eq!(me["key"]["scopes"], json!(["sms:send", "postal:track"]));
    let prefix = me["key"]["prefix"].as_str().unwrap();
    assert!(k.token.starts_with(&format!("{prefix}_")), "{prefix}");
    assert!(
        !r.text().contains(&k.token),
        "the secret is never shown again"
    );

    // Without a key, with a malformed one, with a revoked one: 401, the error shape, Bearer.
    let mut anonymous = t.client();
    let r = anonymous.get("/api/v1/me").await;
    assert_error_shape(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    let r = t.api("ep_nonsense").get("/api/v1/me").await;
    assert_error_shape(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    apikeys::revoke(&t.app, &Actor::System, k.id).await.unwrap();
    let r = t.api(&k.token).get("/api/v1/me").await;
    assert_error_shape(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(r.headers["www-authenticate"], "Bearer");
}

// ---------------------------------------------------------------- bad input

#[tokio::test]
async fn bad_json_gets_the_error_shape_and_names_the_field() {
    let c = counting(Some(4096)).await;
    let k = key(&c.t, "Agency", &["sms:send"]).await;
    let mut api = c.t.api(&k.token);
    let json_header = [("content-type", "application/json")];

    let r = api
        .send(
            Method::POST,
            COUNTER,
            &json_header,
            Body::from("{\"amount\": "),
        )
        .await;
    assert_error_shape(&r, StatusCode::BAD_REQUEST, "invalid");

    // A missing field: the extractor names it.
    let r = api.post_json(COUNTER, &json!({ "note": "x" }), &[]).await;
    let body = assert_error_shape(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(body["error"]["field"], "amount");

    let r = api
        .send(
            Method::POST,
            COUNTER,
            &[("content-type", "text/plain")],
            Body::from("{}"),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    let big = json!({ "amount": 1, "note": "x".repeat(10_000) });
    let r = api.post_json(COUNTER, &big, &[]).await;
    assert_error_shape(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let r = api
        .post_json(COUNTER, &big, &[("idempotency-key", "big-1")])
        .await;
    assert_error_shape(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(
        c.count.load(Ordering::SeqCst),
        0,
        "nothing reached the handler"
    );
}
