//! The web shell's cross-cutting behaviour: CSRF, errors, limits, headers, operations.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use eposta_kernel::accounts::Role;
use eposta_kernel::testing::{PASSWORD, TestApp};

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let t = TestApp::new().await;
    let email = t.user(Role::Citizen, None).await;
    let mut c = t.client();
    c.csrf().await;
    let r = c
        .post_form_raw("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .post_form_raw(
            "/login",
            &[
                ("csrf", "forged"),
                ("email", &email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The header form (htmx) works too.
    let token = c.csrf().await;
    let body =
        serde_urlencoded::to_string([("email", email.as_str()), ("password", PASSWORD)]).unwrap();
    let r = c
        .send(
            Method::POST,
            "/login",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("x-csrf-token", &token),
            ],
            Body::from(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn errors_have_one_shape_per_surface() {
    let t = TestApp::new().await;
    let mut c = t.client();
    let r = c.get("/api/v1/no-such-thing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = c.get("/no-such-page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("Страница није пронађена"));
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let r = c.send(Method::DELETE, "/login", &[], Body::empty()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.text().contains("<html"));
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let t = TestApp::builder()
        .config(|c| c.body_limit = 4096)
        .build()
        .await;
    let mut c = t.client();
    let token = c.csrf().await;
    let big = format!("csrf={token}&email={}&password=x", "a".repeat(10_000));
    let r = c
        .send(
            Method::POST,
            "/login",
            &[("content-type", "application/x-www-form-urlencoded")],
            Body::from(big),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn security_headers_and_cookie_flags() {
    let t = TestApp::new().await;
    let mut c = t.client();
    let r = c.get("/login").await;
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert!(r.headers.contains_key("content-security-policy"));
    // Request ids: unique per request, the same prefix within a process.
    let first = r.headers["x-request-id"].to_str().unwrap().to_owned();
    let second = c.get("/login").await.headers["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(first.split('-').next(), second.split('-').next());
    assert_eq!(first.split('-').next().map(str::len), Some(16), "{first}");
    let csrf = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"),
        "{csrf}"
    );
    assert!(!csrf.contains("Secure"), "no Secure over plain HTTP");

    let t = TestApp::builder()
        .config(|c| c.public_url = "https://eposta.example".into())
        .build()
        .await;
    let email = t.user(Role::Citizen, None).await;
    let mut c = t.client();
    let token = c.csrf().await;
    let r = c
        .post_form_raw(
            "/login",
            &[("csrf", &token), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    let session = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("eposta_session="))
        .expect("session cookie");
    assert!(
        session.contains("Secure")
            && session.contains("HttpOnly")
            && session.contains("SameSite=Lax"),
        "{session}"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let t = TestApp::new().await;
    let mut c = t.client();
    assert_eq!(c.get("/healthz").await.text(), "ok");
    let r = c.get("/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    c.get("/login").await;
    // An anonymous request to a guarded API route is refused before its handler; a path no
    // route matches is not found. The metrics name the route's pattern, never the path.
    let refused = c
        .get("/api/v1/webhooks/0b6f7f0e-6d2b-4c55-9a43-41bd3a0bbf11")
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(c.get("/no/such/page").await.status, StatusCode::NOT_FOUND);
    let m = c.get("/metrics").await.text();
    assert!(m.contains("http_requests_total"), "{m}");
    assert!(m.contains("route=\"/login\""), "{m}");
    assert!(
        m.contains("route=\"/api/v1/webhooks/{id}\",status=\"401\""),
        "{m}"
    );
    assert!(m.contains("route=\"unmatched\",status=\"404\""), "{m}");
    assert!(!m.contains("0b6f7f0e"), "{m}");
    assert!(m.contains("http_request_duration_seconds_bucket"), "{m}");
    assert!(m.contains("db_pool_connections"), "{m}");
    assert!(m.contains("job_queue_depth"), "{m}");
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    let t = TestApp::new().await;
    t.app.db.close().await;
    let r = t.client().get("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn pages_render_in_all_three_scripts() {
    let t = TestApp::new().await;
    let mut c = t.client();
    let cyr = c.get("/").await.text();
    assert!(cyr.contains("<html lang=\"sr-Cyrl\">") && cyr.contains("Дигиталне услуге Поште"));
    c.get("/lang/sr-Latn?next=/").await;
    let lat = c.get("/").await.text();
    assert!(
        lat.contains("<html lang=\"sr-Latn\">") && lat.contains("Digitalne usluge Pošte"),
        "{lat}"
    );
    c.get("/lang/en?next=/").await;
    let en = c.get("/").await.text();
    assert!(
        en.contains("<html lang=\"en\">") && en.contains("digital services"),
        "{en}"
    );
}
