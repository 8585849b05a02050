//! Webhooks: the API (an SSRF guard on registration, scopes, other organisations' endpoints
//! unseen), deliveries signed over `<timestamp>.<body>` and checked here with this file's own
//! HMAC and with `openssl`, retries with the job queue's backoff, giving up and resending,
//! secret rotation with overlap, and what an unreachable receiver leaves in the log.

use axum::http::StatusCode;
use chrono::Duration;
use eposta_kernel::audit::Actor;
use eposta_kernel::db_run;
use eposta_kernel::jobs;
use eposta_kernel::jobs::Job;
use eposta_kernel::testing::{Client, Received, Receiver, TestApp};
use eposta_kernel::webhooks::{self, Event, deliver::DeliverWebhook};
use eposta_kernel::{apikeys, testing};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use uuid::Uuid;

/// An app whose webhooks may go to loopback receivers.
pub(crate) async fn app() -> TestApp {
    TestApp::builder()
        .config(|c| c.webhooks_allow_loopback = true)
        .build()
        .await
}

/// A new business and an API key of it with `webhooks:manage`.
pub(crate) async fn business(t: &TestApp, name: &str) -> (Uuid, Client) {
    let org = apikeys::create_organisation(&t.app, &Actor::System, name, "business")
        .await
        .expect("organisation");
    let key = apikeys::issue(
        &t.app,
        &Actor::System,
        org,
        "hooks",
        &["webhooks:manage".to_owned()],
    )
    .await
    .expect("key");
    (org, t.api(&key.token))
}

/// Registers `url` for `tracking.updated`; returns the endpoint's id and secret.
pub(crate) async fn register(api: &mut Client, url: &str) -> (String, String) {
    let r = api
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": url, "events": ["tracking.updated"], "description": "test"}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let b = r.json();
    (
        b["id"].as_str().expect("id").to_owned(),
        b["secret"].as_str().expect("secret").to_owned(),
    )
}

/// Hands `n` events of `tracking.updated` for `org` to the kernel, as a capability would.
pub(crate) async fn emit(t: &TestApp, org: Uuid, n: usize) -> usize {
    let events: Vec<Event> = (0..n)
        .map(|i| Event {
            organisation_id: org,
            data: json!({"n": i}),
        })
        .collect();
    let mut tx = t.app.db.begin().await.expect("tx");
    let queued = webhooks::enqueue(&mut tx, t.app.now(), "tracking.updated", &events)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    queued
}

/// HMAC-SHA256 of `<timestamp>.<body>` under `secret`, hex: this test's own, not the sender's.
pub(crate) fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `v1=` signatures of a received request.
pub(crate) fn signatures(r: &Received) -> Vec<String> {
    r.header("eposta-webhook-signature")
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1="))
        .map(str::to_owned)
        .collect()
}

async fn deliveries(api: &mut Client, endpoint: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/v1/webhooks/{endpoint}/deliveries?limit=200"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn registration_refuses_private_and_plain_http_addresses() {
    let strict = TestApp::new().await;
    let (_, mut api) = business(&strict, "Строга").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "https://localhost/hook",
        "http://hooks.example.com/",
        "https://10.1.2.3/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://user:pw@hooks.example.com/",
        "ftp://hooks.example.com/",
    ] {
        let r = api
            .post_json(
                "/api/v1/webhooks",
                &json!({"url": url, "events": ["tracking.updated"]}),
                &[],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            r.text()
        );
        assert_eq!(r.json()["error"]["field"], "url", "{url}");
    }
    let r = api
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": "https://hooks.example.com/x", "events": ["sms.sent"]}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "events");
    let r = api
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": "https://hooks.example.com/x", "events": []}),
            &[],
        )
        .await;
    assert_eq!(r.json()["error"]["field"], "events");
    // A public HTTPS address is fine (nothing is sent until an event happens).
    let (id, secret) = register(&mut api, "https://hooks.example.com/eposta").await;
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );
    let listed = api.get("/api/v1/webhooks").await.json();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert!(listed["items"][0].get("secret").is_none(), "{listed}");
    assert!(!listed.to_string().contains(&secret));

    // With loopback allowed, loopback passes and other private addresses still do not.
    let t = app().await;
    let (_, mut api) = business(&t, "Локална").await;
    register(&mut api, "http://127.0.0.1:9/hook").await;
    register(&mut api, "http://localhost:9/hook").await;
    let r = api
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": "http://192.168.1.10/hook", "events": ["tracking.updated"]}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn endpoints_are_the_organisations_own_and_need_the_scope() {
    let t = app().await;
    let (_, mut a) = business(&t, "Прва").await;
    let (_, mut b) = business(&t, "Друга").await;
    let (id, _) = register(&mut a, "http://127.0.0.1:9/a").await;
    for path in [
        format!("/api/v1/webhooks/{id}"),
        format!("/api/v1/webhooks/{id}/deliveries"),
    ] {
        assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = b
        .send(
            axum::http::Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b
        .post_json(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/api/v1/webhooks").await.json()["items"], json!([]));
    assert_eq!(
        a.get(&format!("/api/v1/webhooks/{id}")).await.status,
        StatusCode::OK
    );

    let org = apikeys::create_organisation(&t.app, &Actor::System, "Без овлашћења", "business")
        .await
        .expect("org");
    let key = apikeys::issue(
        &t.app,
        &Actor::System,
        org,
        "k",
        &["postal:book".to_owned()],
    )
    .await
    .expect("key");
    let r = t.api(&key.token).get("/api/v1/webhooks").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn deliveries_are_signed_over_the_timestamp_and_the_body() {
    let t = app().await;
    let rx = Receiver::start().await;
    let (org, mut api) = business(&t, "Потписи").await;
    let (endpoint, secret) = register(&mut api, &rx.url("/hooks?token=abc")).await;
    assert_eq!(emit(&t, org, 3).await, 3);
    assert!(
        rx.received().is_empty(),
        "nothing is sent inside the transaction"
    );
    assert_eq!(t.run_pending_jobs().await, 3);
    let got = rx.received();
    assert_eq!(got.len(), 3);
    let now = t.app.now().timestamp().to_string();
    let mut ns = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for r in &got {
        assert_eq!(r.path, "/hooks");
        assert_eq!(r.header("content-type"), "application/json");
        assert_eq!(r.header("eposta-webhook-event"), "tracking.updated");
        let ts = r.header("eposta-webhook-timestamp");
        assert_eq!(ts, now);
        assert_eq!(
            signatures(r),
            vec![expected_signature(&secret, ts, &r.body)],
            "the signature covers the body as sent"
        );
        // A signature does not verify another body or another time.
        assert_ne!(signatures(r)[0], expected_signature(&secret, ts, b"{}"));
        assert_ne!(
            signatures(r)[0],
            expected_signature(&secret, &(t.app.now().timestamp() + 1).to_string(), &r.body)
        );
        let body = r.json();
        assert_eq!(body["type"], "tracking.updated");
        assert_eq!(body["id"], r.header("eposta-webhook-id"));
        assert_eq!(body["created_at"], "2026-03-02T09:00:00Z");
        assert!(ids.insert(body["id"].as_str().expect("id").to_owned()));
        ns.push(body["data"]["n"].as_i64().expect("n"));
    }
    ns.sort_unstable();
    assert_eq!(ns, [0, 1, 2]);

    // An independent implementation agrees: openssl's HMAC over the same bytes.
    let r = &got[0];
    if testing::peer_available(
        "deliveries_are_signed_over_the_timestamp_and_the_body",
        std::process::Command::new("openssl")
            .arg("version")
            .output()
            .is_ok(),
        "openssl",
        "apt-get install openssl",
    ) {
        use std::io::Write;
        let mut child = std::process::Command::new("openssl")
            .args(["dgst", "-sha256", "-hmac", &secret, "-r"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("openssl");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(format!("{}.", r.header("eposta-webhook-timestamp")).as_bytes())
            .expect("write");
        stdin.write_all(&r.body).expect("write");
        drop(stdin);
        let out = child.wait_with_output().expect("openssl runs");
        let hex = String::from_utf8_lossy(&out.stdout);
        let hex = hex.split_whitespace().next().unwrap_or("");
        assert_eq!(signatures(r), vec![hex.to_owned()]);
    }

    let log = deliveries(&mut api, &endpoint).await;
    assert_eq!(log.len(), 3);
    for d in &log {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"].as_array().expect("attempts").len(), 1);
        assert_eq!(d["attempts"][0]["status_code"], 200);
        assert_eq!(d["attempts"][0]["succeeded"], true);
        assert_eq!(d["payload"]["type"], "tracking.updated");
    }
    // Paging walks all three, two at a time.
    let first = api
        .get(&format!("/api/v1/webhooks/{endpoint}/deliveries?limit=2"))
        .await
        .json();
    assert_eq!(first["items"].as_array().expect("items").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = api
        .get(&format!(
            "/api/v1/webhooks/{endpoint}/deliveries?limit=2&cursor={cursor}"
        ))
        .await
        .json();
    assert_eq!(second["items"].as_array().expect("items").len(), 1);
    assert!(second["next_cursor"].is_null());
}

async fn job_rows(t: &TestApp) -> Vec<jobs::JobRow> {
    let mut conn = t.app.db.conn().await.expect("conn");
    jobs::list(&mut conn, 1000).await.expect("jobs")
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_then_given_up_and_can_be_resent() {
    let t = app().await;
    let rx = Receiver::start().await;
    let max = DeliverWebhook::MAX_ATTEMPTS as usize;
    rx.answer(&vec![500; max]);
    let (org, mut api) = business(&t, "Упорна").await;
    let (endpoint, secret) = register(&mut api, &rx.url("/h")).await;
    emit(&t, org, 1).await;
    assert_eq!(t.run_pending_jobs().await, 1);
    assert_eq!(rx.received().len(), 1);
    for attempt in 1..max {
        // Not before its backoff is over.
        let wait = jobs::backoff(attempt as i32);
        t.clock.advance(wait - Duration::seconds(1));
        assert_eq!(
            t.run_pending_jobs().await,
            0,
            "attempt {attempt}: too early"
        );
        t.clock.advance(Duration::seconds(1));
        assert_eq!(t.run_pending_jobs().await, 1, "attempt {}", attempt + 1);
    }
    let got = rx.received();
    assert_eq!(got.len(), max);
    // Every attempt is signed anew, with its own time, over the same body and event id.
    assert_ne!(
        got[0].header("eposta-webhook-timestamp"),
        got[1].header("eposta-webhook-timestamp")
    );
    for r in &got {
        assert_eq!(r.body, got[0].body);
        assert_eq!(
            r.header("eposta-webhook-id"),
            got[0].header("eposta-webhook-id")
        );
        assert_eq!(
            signatures(r),
            vec![expected_signature(
                &secret,
                r.header("eposta-webhook-timestamp"),
                &r.body
            )]
        );
    }
    let log = deliveries(&mut api, &endpoint).await;
    assert_eq!(log[0]["status"], "failed");
    let attempts = log[0]["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), max);
    assert!(
        attempts
            .iter()
            .all(|a| a["status_code"] == 500 && a["error"] == "HTTP 500")
    );
    let failed: Vec<_> = job_rows(&t)
        .await
        .into_iter()
        .filter(|j| j.kind == "webhooks.deliver")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].failed_at.is_some());
    // No more attempts after giving up.
    t.clock.advance(Duration::days(1));
    assert_eq!(t.run_pending_jobs().await, 0);

    // Resent by hand: the receiver answers 200 now.
    let delivery = log[0]["id"].as_str().expect("id");
    let resend = format!("/api/v1/webhooks/{endpoint}/deliveries/{delivery}/resend");
    let r = api.post_json(&resend, &json!({}), &[]).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    // While it waits, another resend is a conflict.
    let r = api.post_json(&resend, &json!({}), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(t.run_pending_jobs().await, 1);
    let log = deliveries(&mut api, &endpoint).await;
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"].as_array().expect("a").len(), max + 1);
    assert_eq!(rx.received().len(), max + 1);
    // Resending from another endpoint's path is not found.
    let (other, _) = register(&mut api, &rx.url("/other")).await;
    let r = api
        .post_json(
            &format!("/api/v1/webhooks/{other}/deliveries/{delivery}/resend"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unreachable_receiver_is_recorded_without_its_address() {
    let t = app().await;
    // A port nobody listens on: bound, then closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let (org, mut api) = business(&t, "Недоступна").await;
    let (endpoint, _) = register(
        &mut api,
        &format!("http://127.0.0.1:{port}/secret-path?token=s3cr3t"),
    )
    .await;
    emit(&t, org, 1).await;
    assert_eq!(t.run_pending_jobs().await, 1);
    let log = deliveries(&mut api, &endpoint).await;
    let a = &log[0]["attempts"][0];
    assert!(a["status_code"].is_null(), "{a}");
    let error = a["error"].as_str().expect("an error");
    assert!(error.starts_with("could not connect"), "{error}");
    assert_eq!(log[0]["status"], "pending");
    for text in [error.to_owned(), format!("{:?}", job_rows(&t).await)] {
        assert!(
            !text.contains("s3cr3t") && !text.contains("secret-path"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn the_policy_is_checked_again_at_delivery() {
    // Registered while loopback was allowed; the installation no longer allows it.
    let t = TestApp::new().await;
    let rx = Receiver::start().await;
    let (org, mut api) = business(&t, "Промењена").await;
    let id = Uuid::now_v7();
    let mut tx = t.app.db.begin().await.expect("tx");
    webhooks::store::insert_endpoint(
        &mut tx,
        &webhooks::store::NewEndpoint {
            id,
            organisation_id: org,
            url: &rx.url("/h"),
            events: "tracking.updated",
            description: "",
            secret_salt: "salt",
            now: t.app.now(),
        },
    )
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    emit(&t, org, 1).await;
    t.run_pending_jobs().await;
    assert!(
        rx.received().is_empty(),
        "nothing reaches a loopback address"
    );
    let log = deliveries(&mut api, &id.to_string()).await;
    let error = log[0]["attempts"][0]["error"].as_str().expect("error");
    assert!(error.contains("url"), "{error}");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day() {
    let t = app().await;
    let rx = Receiver::start().await;
    let (org, mut api) = business(&t, "Ротација").await;
    let (endpoint, old) = register(&mut api, &rx.url("/h")).await;
    let r = api
        .post_json(
            &format!("/api/v1/webhooks/{endpoint}/rotate-secret"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let new = r.json()["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    emit(&t, org, 1).await;
    t.run_pending_jobs().await;
    let r = &rx.received()[0];
    let ts = r.header("eposta-webhook-timestamp");
    assert_eq!(
        signatures(r),
        vec![
            expected_signature(&new, ts, &r.body),
            expected_signature(&old, ts, &r.body)
        ]
    );
    t.clock.advance(Duration::hours(25));
    emit(&t, org, 1).await;
    t.run_pending_jobs().await;
    let r = &rx.received()[1];
    let ts = r.header("eposta-webhook-timestamp");
    assert_eq!(signatures(r), vec![expected_signature(&new, ts, &r.body)]);
}

#[tokio::test]
async fn only_subscribed_endpoints_of_the_events_organisation_get_it_and_deleting_drops_the_queue()
{
    let t = app().await;
    let rx = Receiver::start().await;
    let (a, mut api_a) = business(&t, "Претплаћена").await;
    let (b, mut api_b) = business(&t, "Друга врста").await;
    let (c, _) = business(&t, "Без адресе").await;
    register(&mut api_a, &rx.url("/a")).await;
    let (b_endpoint, _) = register(&mut api_b, &rx.url("/b")).await;
    // B's endpoint takes another type only (as when a capability adds one).
    let mut tx = t.app.db.begin().await.expect("tx");
    db_run!(&mut tx, |cn| sqlx::query(
        "UPDATE webhook_endpoints SET events = 'sms.delivered' WHERE id = $1"
    )
    .bind(Uuid::parse_str(&b_endpoint).expect("uuid"))
    .execute(&mut *cn)
    .await
    .map(|r| r.rows_affected()))
    .expect("update");
    tx.commit().await.expect("commit");
    assert_eq!(emit(&t, a, 2).await, 2);
    assert_eq!(emit(&t, b, 2).await, 0);
    assert_eq!(emit(&t, c, 2).await, 0);
    t.run_pending_jobs().await;
    let got = rx.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|r| r.path == "/a"));

    // Deleting an endpoint drops what it had queued.
    let (d, mut api_d) = business(&t, "Брише").await;
    let (endpoint, _) = register(&mut api_d, &rx.url("/d")).await;
    emit(&t, d, 2).await;
    let r = api_d
        .send(
            axum::http::Method::DELETE,
            &format!("/api/v1/webhooks/{endpoint}"),
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    t.run_pending_jobs().await;
    assert_eq!(rx.received().len(), 2, "nothing more was sent");
    assert_eq!(
        api_d
            .get(&format!("/api/v1/webhooks/{endpoint}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
