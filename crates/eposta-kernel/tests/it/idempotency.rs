//! Idempotent API writes (`Idempotency-Key`), watched through a test-only route that counts
//! how often its handler runs.

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use eposta_kernel::web::idempotency::{self, store as idem_store};
use serde_json::json;

use crate::api::{COUNTER, FAIL, assert_error_shape, counting, key, replayed};

#[tokio::test]
async fn a_retry_with_the_same_key_gets_the_first_answer() {
    let c = counting(None).await;
    let k = key(&c.t, "Agency", &["sms:send"]).await;
    let mut api = c.t.api(&k.token);
    let body = json!({ "amount": 5 });
    let first = api
        .post_json(COUNTER, &body, &[("idempotency-key", "order-1")])
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert!(!replayed(&first));
    let second = api
        .post_json(COUNTER, &body, &[("idempotency-key", "order-1")])
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert!(replayed(&second));
    assert_eq!(second.body, first.body);
    assert_eq!(second.json()["count"], 1);
    assert!(
        second.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(c.count.load(Ordering::SeqCst), 1, "the handler ran once");
    // The metrics count the replay apart from the route, which it never reached.
    let m = c.t.client().get("/metrics").await.text();
    assert!(
        m.contains("route=\"idempotent_replay\",status=\"201\""),
        "{m}"
    );

    // Another key runs again; no key at all runs every time.
    let third = api
        .post_json(COUNTER, &body, &[("idempotency-key", "order-2")])
        .await;
    assert_eq!(third.json()["count"], 2);
    api.post_json(COUNTER, &body, &[]).await;
    api.post_json(COUNTER, &body, &[]).await;
    assert_eq!(c.count.load(Ordering::SeqCst), 4);

    // Stored 4xx answers are replayed too: the handler's 422 is the answer to that key.
    let bad = json!({ "note": "no amount" });
    let r = api
        .post_json(COUNTER, &bad, &[("idempotency-key", "bad-1")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let again = api
        .post_json(COUNTER, &bad, &[("idempotency-key", "bad-1")])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(replayed(&again));
    assert_eq!(again.json(), r.json());
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let c = counting(None).await;
    let k = key(&c.t, "Agency", &["sms:send"]).await;
    let mut api = c.t.api(&k.token);
    let r = api
        .post_json(
            COUNTER,
            &json!({ "amount": 5 }),
            &[("idempotency-key", "k1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = api
        .post_json(
            COUNTER,
            &json!({ "amount": 6 }),
            &[("idempotency-key", "k1")],
        )
        .await;
    let body = assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    );
    assert_eq!(body["error"]["field"], "Idempotency-Key");
    assert!(!replayed(&r));
    // The same body on another path is another request too.
    let r = api
        .post_json(
            &format!("{COUNTER}?dry_run=1"),
            &json!({ "amount": 5 }),
            &[("idempotency-key", "k1")],
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    );
    assert_eq!(c.count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn keys_of_different_clients_do_not_collide() {
    let c = counting(None).await;
    let a = key(&c.t, "Agency A", &["sms:send"]).await;
    let b = key(&c.t, "Agency B", &["sms:send"]).await;
    let h = [("idempotency-key", "same-key")];
    let ra =
        c.t.api(&a.token)
            .post_json(COUNTER, &json!({ "amount": 1 }), &h)
            .await;
    let rb =
        c.t.api(&b.token)
            .post_json(COUNTER, &json!({ "amount": 2 }), &h)
            .await;
    assert_eq!(ra.status, StatusCode::CREATED);
    assert_eq!(rb.status, StatusCode::CREATED, "{}", rb.text());
    assert!(!replayed(&rb));
    assert_eq!(rb.json()["amount"], 2);
    assert_eq!(c.count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn invalid_idempotency_keys_are_refused_by_name() {
    let c = counting(None).await;
    let k = key(&c.t, "Agency", &["sms:send"]).await;
    let mut api = c.t.api(&k.token);
    let long = "k".repeat(256);
    for bad in ["", long.as_str(), "tab\tinside"] {
        let r = api
            .post_json(
                COUNTER,
                &json!({ "amount": 1 }),
                &[("idempotency-key", bad)],
            )
            .await;
        let body = assert_error_shape(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(body["error"]["field"], "Idempotency-Key");
    }
    let r = api
        .send(
            Method::POST,
            COUNTER,
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "a"),
                ("idempotency-key", "b"),
            ],
            Body::from("{\"amount\": 1}"),
        )
        .await;
    assert_error_shape(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(c.count.load(Ordering::SeqCst), 0);
    let max = "k".repeat(255);
    let r = api
        .post_json(
            COUNTER,
            &json!({ "amount": 1 }),
            &[("idempotency-key", &max)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn server_errors_and_refusals_are_not_remembered() {
    let c = counting(None).await;
    let k = key(&c.t, "Agency", &["sms:send"]).await;
    let mut api = c.t.api(&k.token);
    let scope = idempotency::key_scope(k.id);
    for _ in 0..2 {
        let r = api
            .post_json(FAIL, &json!({}), &[("idempotency-key", "fails")])
            .await;
        assert_error_shape(&r, StatusCode::INTERNAL_SERVER_ERROR, "internal");
        assert!(!replayed(&r));
    }
    assert_eq!(c.failures.load(Ordering::SeqCst), 2, "a 5xx may be retried");
    let mut conn = c.t.app.db.conn().await.unwrap();
    assert!(
        idem_store::get(&mut conn, &scope, "fails")
            .await
            .unwrap()
            .is_none()
    );
    drop(conn);

    // A key without the scope is refused before the handler; that refusal is not the answer.
    let narrow = key(&c.t, "Narrow", &["postal:track"]).await;
    let r =
        c.t.api(&narrow.token)
            .post_json(
                COUNTER,
                &json!({ "amount": 1 }),
                &[("idempotency-key", "n1")],
            )
            .await;
    assert_error_shape(&r, StatusCode::FORBIDDEN, "forbidden");
    let mut conn = c.t.app.db.conn().await.unwrap();
    assert!(
        idem_store::get(&mut conn, &idempotency::key_scope(narrow.id), "n1")
            .await
            .unwrap()
            .is_none()
    );
    drop(conn);
    // Without a key at all: 401, nothing stored, nothing run.
    let r =
        c.t.client()
            .post_json(
                COUNTER,
                &json!({ "amount": 1 }),
                &[("idempotency-key", "n1")],
            )
            .await;
    assert_error_shape(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(c.count.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_request_in_flight_holds_its_key_and_keys_expire() {
    let c = counting(None).await;
    let k = key(&c.t, "Agency", &["sms:send"]).await;
    let mut api = c.t.api(&k.token);
    let scope = idempotency::key_scope(k.id);
    let body = json!({ "amount": 7 });
    // Another process is answering a request with this key right now (a placeholder row).
    let now = c.t.app.now();
    let mut tx = c.t.app.db.begin().await.unwrap();
    assert!(
        idem_store::claim(&mut tx, &scope, "busy", &"0".repeat(64), now, now, now)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let first = api
        .post_json(COUNTER, &body, &[("idempotency-key", "busy")])
        .await;
    // The stored hash is not this request's: reuse is reported before "in progress".
    assert_error_shape(
        &first,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    );

    // A genuine in-flight twin: the same request hash.
    let ok = api
        .post_json(COUNTER, &body, &[("idempotency-key", "twin")])
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let row = {
        let mut conn = c.t.app.db.conn().await.unwrap();
        idem_store::get(&mut conn, &scope, "twin")
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(row.status, Some(201));
    let mut tx = c.t.app.db.begin().await.unwrap();
    assert!(
        idem_store::claim(&mut tx, &scope, "twin2", &row.request_hash, now, now, now)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let r = api
        .post_json(COUNTER, &body, &[("idempotency-key", "twin2")])
        .await;
    assert_error_shape(&r, StatusCode::CONFLICT, "idempotency_in_progress");
    assert_eq!(c.count.load(Ordering::SeqCst), 1);

    // A placeholder left by a request that died is taken over after a while.
    c.t.clock.advance(chrono::Duration::minutes(6));
    let r = api
        .post_json(COUNTER, &body, &[("idempotency-key", "twin2")])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(!replayed(&r));
    assert_eq!(c.count.load(Ordering::SeqCst), 2);

    // Within 24 hours the answer is replayed; after them the key may be used afresh.
    c.t.clock.advance(chrono::Duration::hours(23));
    let r = api
        .post_json(COUNTER, &body, &[("idempotency-key", "twin")])
        .await;
    assert!(replayed(&r));
    c.t.clock.advance(chrono::Duration::hours(2));
    let r = api
        .post_json(
            COUNTER,
            &json!({ "amount": 8 }),
            &[("idempotency-key", "twin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(!replayed(&r));
    assert_eq!(r.json()["amount"], 8);
    assert_eq!(c.count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn housekeeping_forgets_answers_after_their_retention_and_expired_sessions() {
    let c = counting(None).await;
    let k = key(&c.t, "Agency", &["sms:send"]).await;
    let mut api = c.t.api(&k.token);
    let body = json!({ "amount": 5 });
    api.post_json(COUNTER, &body, &[("idempotency-key", "old")])
        .await;
    let mut user =
        c.t.logged_in(eposta_kernel::accounts::Role::Citizen, None)
            .await;
    assert_eq!(user.get("/me").await.status, StatusCode::OK);

    // Within the retention nothing is swept.
    let swept = eposta_kernel::housekeeping::sweep(&c.t.app)
        .await
        .expect("sweep");
    assert_eq!(swept.idempotency_keys, 0);
    assert_eq!(swept.sessions, 0);

    c.t.clock
        .advance(idempotency::RETENTION + chrono::Duration::days(40));
    api.post_json(COUNTER, &body, &[("idempotency-key", "new")])
        .await;
    let swept = eposta_kernel::housekeeping::sweep(&c.t.app)
        .await
        .expect("sweep");
    assert_eq!(swept.idempotency_keys, 1, "only the old answer goes");
    assert!(swept.sessions >= 1, "the 40-day-old session has expired");
    // The old key is free again: the handler runs for it once more.
    let before = c.count.load(Ordering::SeqCst);
    let r = api
        .post_json(COUNTER, &body, &[("idempotency-key", "old")])
        .await;
    assert!(!replayed(&r));
    assert_eq!(c.count.load(Ordering::SeqCst), before + 1);
}

/// A handler may store its answer itself, in its own transaction, and mark its response; the
/// layer then stores nothing, and a retry gets the handler's stored answer.
#[tokio::test]
async fn a_handler_can_store_its_answer_with_its_write() {
    use axum::extract::{Extension, State};
    use axum::response::IntoResponse;
    use eposta_kernel::App;
    use eposta_kernel::web::idempotency::{AnswerStored, Claimed};
    use eposta_kernel::web::{Access, Routes};

    const SELF_STORED: &str = "/api/v1/test/self-stored";
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    let routes = Routes::new().post(
        SELF_STORED,
        Access::Scope("sms:send"),
        move |State(app): State<App>, Extension(claim): Extension<Claimed>| {
            let counted = counted.clone();
            async move {
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                let body = format!("{{\"run\":{n}}}").into_bytes();
                let mut tx = app.db.begin().await.expect("tx");
                let stored = idem_store::complete(
                    &mut tx,
                    &claim.scope,
                    &claim.key,
                    claim.claimed_at,
                    201,
                    &body,
                    Some("application/json"),
                )
                .await
                .expect("store");
                assert!(stored, "the claim waits for its answer");
                tx.commit().await.expect("commit");
                let mut res = (
                    StatusCode::CREATED,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response();
                res.extensions_mut().insert(AnswerStored);
                res
            }
        },
    );
    let t = eposta_kernel::testing::TestApp::builder()
        .routes(routes)
        .build()
        .await;
    let k = key(&t, "Agency", &["sms:send"]).await;
    let mut api = t.api(&k.token);
    let first = api
        .post_json(SELF_STORED, &json!({}), &[("idempotency-key", "s-1")])
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.text(), "{\"run\":1}");
    let again = api
        .post_json(SELF_STORED, &json!({}), &[("idempotency-key", "s-1")])
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(replayed(&again));
    assert_eq!(again.body, first.body);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
}
