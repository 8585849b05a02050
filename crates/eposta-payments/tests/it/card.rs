//! Card payments end to end through HTTP with the test acquirer: the hosted card page, the
//! signed notification (a kernel job), success, decline, the 3-D Secure challenge, the
//! untrusted return, status queries, refunds and expiry.

use eposta_kernel::testing::{Client, TestApp};
use eposta_payments::provider::test_acquirer::{
    self, CARD_CHALLENGE, CARD_DECLINED, CARD_SUCCEEDS,
};
use eposta_payments::service;
use serde_json::{Value, json};

use super::{api_key, app, count, order, path_of};

const KEY: &str = "Idempotency-Key";

/// A card payment through the API: its id and the acquirer's page (a path here).
async fn start(t: &TestApp, token: &str, key: &str) -> (String, String) {
    let r = t
        .api(token)
        .post_json("/api/v1/payments", &order("card"), &[(KEY, key)])
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let p = r.json();
    assert_eq!(p["state"], "pending");
    assert_eq!(p["next_action"]["type"], "redirect");
    let url = p["next_action"]["redirect_url"].as_str().expect("url");
    assert!(
        url.starts_with("http://127.0.0.1:8080/test-acquirer/pay/"),
        "{url}"
    );
    (p["id"].as_str().expect("id").to_owned(), path_of(url))
}

/// The card holder fills in the acquirer's form.
async fn pay(browser: &mut Client, page: &str, card: &str) -> eposta_kernel::testing::TestResponse {
    let r = browser.get(page).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("3.636,13 RSD"),
        "the page shows the total"
    );
    browser
        .post_form(
            page,
            &[
                ("number", card),
                ("expiry", "12/30"),
                ("cvc", "123"),
                ("action", "pay"),
            ],
        )
        .await
}

async fn state_in_db(t: &TestApp, id: &str) -> String {
    service::get(&t.app, id.parse().expect("uuid"))
        .await
        .expect("payment")
        .state
        .to_string()
}

async fn api_get(t: &TestApp, token: &str, id: &str) -> Value {
    let r = t.api(token).get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(r.status, 200);
    r.json()
}

#[tokio::test]
async fn a_good_card_succeeds_by_the_signed_notification() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "c-1").await;
    let mut browser = t.client();
    let r = pay(&mut browser, &page, CARD_SUCCEEDS).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("https://shop.example.rs/paid"));
    // Coming back proves nothing: until the acquirer says so, the payment is pending.
    assert_eq!(state_in_db(&t, &id).await, "pending");
    assert_eq!(t.run_pending_jobs().await, 1);
    assert_eq!(state_in_db(&t, &id).await, "succeeded");
    let history = service::history(&t.app, id.parse().expect("uuid"))
        .await
        .expect("history");
    let last = history.last().expect("entries");
    assert_eq!(
        (last.event.as_str(), last.actor.as_str()),
        ("succeed", "provider:test")
    );
    let p = api_get(&t, &token, &id).await;
    assert_eq!(p["state"], "succeeded");
    assert!(p.get("next_action").is_none());
    // The acquirer's page is closed now.
    let r = browser.get(&page).await;
    assert!(r.text().contains("https://shop.example.rs/paid"));
    // The acquirer's part is in the audit log, named.
    service::audit::flush(&t.app).await.expect("flush");
    let mut conn = t.app.db.conn().await.expect("conn");
    let rows = eposta_kernel::audit::recent(&mut conn, None, 20)
        .await
        .expect("audit");
    drop(conn);
    let paid = rows
        .iter()
        .find(|r| r.action == "payment.succeeded")
        .expect("an entry for the success");
    assert_eq!(paid.actor, "system");
    assert!(
        paid.details.contains("\"by\":\"provider:test\""),
        "{}",
        paid.details
    );
    // ePošta never saw the card number.
    let dump = count(
        &t,
        "SELECT COUNT(*) FROM payments WHERE payer_name LIKE '%4242%' OR purpose LIKE '%4242%'",
    )
    .await;
    assert_eq!(dump, 0);
}

#[tokio::test]
async fn a_declined_card_fails_and_a_status_query_finds_it_first() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "c-2").await;
    let r = pay(&mut t.client(), &page, CARD_DECLINED).await;
    assert_eq!(r.status, 303);
    // The API client asks before the notification arrives: the status query answers.
    assert_eq!(api_get(&t, &token, &id).await["state"], "failed");
    // The notification then changes nothing.
    t.run_pending_jobs().await;
    assert_eq!(state_in_db(&t, &id).await, "failed");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payment_events").await, 3);
}

#[tokio::test]
async fn a_challenge_is_answered_on_the_acquirers_page() {
    for (decision, expected) in [("approve", "succeeded"), ("fail", "failed")] {
        let t = app().await;
        let token = api_key(&t, "Shop", &["payments:write"]).await;
        let (id, page) = start(&t, &token, "c-3").await;
        let mut browser = t.client();
        let r = pay(&mut browser, &page, CARD_CHALLENGE).await;
        assert_eq!(r.status, 303);
        let challenge = r.location().expect("challenge").to_owned();
        assert!(
            challenge.starts_with("/test-acquirer/challenge/"),
            "{challenge}"
        );
        let r = browser.get(&challenge).await;
        assert_eq!(r.status, 200);
        assert!(
            r.text().contains("3220"),
            "the challenge names the card's last digits"
        );
        assert_eq!(
            t.run_pending_jobs().await,
            0,
            "nothing to notify during the challenge"
        );
        assert_eq!(state_in_db(&t, &id).await, "pending");
        let r = browser
            .post_form(&challenge, &[("decision", decision)])
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(r.location(), Some("https://shop.example.rs/paid"));
        assert_eq!(t.run_pending_jobs().await, 1);
        assert_eq!(state_in_db(&t, &id).await, expected, "{decision}");
    }
}

#[tokio::test]
async fn the_card_form_names_wrong_fields_and_keeps_the_session_open() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (_, page) = start(&t, &token, "c-4").await;
    let mut browser = t.client();
    browser.get(&page).await;
    let r = browser
        .post_form(
            &page,
            &[
                ("number", "4242 4242 4242 4241"),
                ("expiry", "01/20"),
                ("cvc", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    for id in ["number-error", "expiry-error", "cvc-error"] {
        assert!(html.contains(id), "{id}");
    }
    assert!(
        !html.contains("4241"),
        "the number typed is not shown again"
    );
    let r = pay(&mut browser, &page, CARD_SUCCEEDS).await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn notifications_must_be_signed_and_repeats_change_nothing() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "c-5").await;
    let session = page.rsplit('/').next().expect("session").to_owned();
    let body = json!({
        "id": "ntf_forged", "type": "payment.succeeded", "session": session,
        "merchant_ref": id, "amount_para": 363_613
    })
    .to_string();
    let mut acquirer = t.client();
    let path = "/api/v1/payments/notifications/test";
    // Unsigned, then signed with another key.
    let r = acquirer
        .send(
            axum::http::Method::POST,
            path,
            &[("content-type", "application/json")],
            body.clone().into(),
        )
        .await;
    assert_eq!(r.status, 401);
    let forged_sig = format!(
        "v1={}",
        eposta_kernel::webhooks::domain::sign(
            "not-the-key",
            t.app.now().timestamp(),
            body.as_bytes()
        )
    );
    let ts = t.app.now().timestamp().to_string();
    let r = acquirer
        .send(
            axum::http::Method::POST,
            path,
            &[
                ("content-type", "application/json"),
                (test_acquirer::TIMESTAMP_HEADER, &ts),
                (test_acquirer::SIGNATURE_HEADER, &forged_sig),
            ],
            body.clone().into(),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(state_in_db(&t, &id).await, "pending");
    // The acquirer's own notification, signed; twice.
    pay(&mut t.client(), &page, CARD_SUCCEEDS).await;
    let real = json!({
        "id": "ntf_1", "type": "payment.succeeded", "session": session,
        "merchant_ref": id, "amount_para": 363_613
    })
    .to_string();
    for expected in ["applied", "unchanged"] {
        let headers = test_acquirer::signed_headers(&t.app, real.as_bytes());
        let mut h = vec![("content-type".to_owned(), "application/json".to_owned())];
        for (k, v) in &headers {
            h.push((k.to_string(), v.to_str().expect("ascii").to_owned()));
        }
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = acquirer
            .send(axum::http::Method::POST, path, &h, real.clone().into())
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["result"], expected);
    }
    // A stale signature (older than five minutes) is refused.
    let headers = test_acquirer::signed_headers(&t.app, real.as_bytes());
    t.clock.advance(chrono::Duration::minutes(6));
    let err = service::notify::receive(&t.app, "test", &headers, real.as_bytes())
        .await
        .expect_err("stale");
    assert!(
        matches!(err, eposta_kernel::Error::Unauthenticated),
        "{err:?}"
    );
    assert_eq!(state_in_db(&t, &id).await, "succeeded");
}

#[tokio::test]
async fn refunds_go_through_the_acquirer_in_part_and_in_full() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "c-6").await;
    let refunds = format!("/api/v1/payments/{id}/refunds");
    let mut c = t.api(&token);
    // Not yet paid.
    let r = c.post_json(&refunds, &json!({}), &[(KEY, "r-0")]).await;
    assert_eq!(r.status, 409, "{}", r.text());
    pay(&mut t.client(), &page, CARD_SUCCEEDS).await;
    t.run_pending_jobs().await;
    let r = c.post_json(&refunds, &json!({}), &[]).await;
    assert_eq!(r.status, 400, "the key is required");
    let r = c
        .post_json(
            &refunds,
            &json!({"amount": {"minor": 100_000, "currency": "RSD"}}),
            &[(KEY, "r-1")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let b = r.json();
    assert_eq!(b["refund"]["state"], "succeeded");
    assert_eq!(b["payment"]["state"], "partially_refunded");
    assert_eq!(b["payment"]["refunded"]["minor"], 100_000);
    // What is left is 263,613 para; asking with an out-of-date view is refused.
    let r = c
        .post_json(
            &refunds,
            &json!({"refund_amount_available": {"minor": 363_613, "currency": "RSD"}}),
            &[(KEY, "r-2")],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    let r = c
        .post_json(
            &refunds,
            &json!({"amount": {"minor": 263_614, "currency": "RSD"}}),
            &[(KEY, "r-3")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "amount");
    let r = c
        .post_json(
            &refunds,
            &json!({"refund_amount_available": {"minor": 263_613, "currency": "RSD"}}),
            &[(KEY, "r-4")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["payment"]["state"], "refunded");
    assert_eq!(r.json()["refund"]["amount"]["minor"], 263_613);
    let r = c.post_json(&refunds, &json!({}), &[(KEY, "r-5")]).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM payment_refunds WHERE state = 'succeeded'"
        )
        .await,
        2
    );
    assert_eq!(
        count(&t, "SELECT refunded_para FROM test_acquirer_sessions").await,
        363_613,
        "the acquirer paid back exactly what was charged"
    );
    // IPS payments are not refunded here.
    let r = c
        .post_json("/api/v1/payments", &order("ips"), &[(KEY, "i-1")])
        .await;
    let ips = r.json()["id"].as_str().expect("id").to_owned();
    let r = c
        .post_json(
            &format!("/api/v1/payments/{ips}/refunds"),
            &json!({}),
            &[(KEY, "r-6")],
        )
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn unpaid_payments_expire_and_the_acquirer_session_is_cancelled() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (card, page) = start(&t, &token, "e-1").await;
    let r = t
        .api(&token)
        .post_json("/api/v1/payments", &order("ips"), &[(KEY, "e-2")])
        .await;
    let ips = r.json()["id"].as_str().expect("id").to_owned();
    // Not yet.
    t.clock.advance(chrono::Duration::minutes(89));
    let s = service::expiry::expire_due(&t.app).await.expect("sweep");
    assert_eq!(s, service::expiry::Swept::default());
    t.clock.advance(chrono::Duration::minutes(2));
    let s = service::expiry::expire_due(&t.app).await.expect("sweep");
    assert_eq!(s.expired, 1);
    assert_eq!(state_in_db(&t, &card).await, "expired");
    assert_eq!(state_in_db(&t, &ips).await, "pending");
    // The card page no longer takes cards.
    let r = t.client().get(&page).await;
    assert!(!r.text().contains("name=\"number\""));
    t.clock.advance(chrono::Duration::hours(72));
    let s = service::expiry::expire_due(&t.app).await.expect("sweep");
    assert_eq!(s.expired, 1);
    assert_eq!(state_in_db(&t, &ips).await, "expired");
}

#[tokio::test]
async fn a_card_paid_just_before_its_deadline_succeeds_instead_of_expiring() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "e-3").await;
    pay(&mut t.client(), &page, CARD_SUCCEEDS).await;
    // The notification has not run yet when the deadline passes.
    t.clock.advance(chrono::Duration::minutes(91));
    let s = service::expiry::expire_due(&t.app).await.expect("sweep");
    assert_eq!((s.expired, s.settled), (0, 1));
    assert_eq!(state_in_db(&t, &id).await, "succeeded");
    t.run_pending_jobs().await;
    assert_eq!(state_in_db(&t, &id).await, "succeeded");
}

#[tokio::test]
async fn without_an_acquirer_card_payments_are_refused_by_field() {
    let t = TestApp::builder()
        .routes(eposta_payments::routes())
        .jobs(eposta_payments::jobs)
        .build()
        .await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let r = t
        .api(&token)
        .post_json("/api/v1/payments", &order("card"), &[(KEY, "n-1")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "method");
    // And its pages are not there.
    let r = t.client().get("/test-acquirer/pay/anything").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_payment_remitted_to_its_payee_is_not_refunded() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "c-remitted").await;
    pay(&mut t.client(), &page, CARD_SUCCEEDS).await;
    t.run_pending_jobs().await;
    let paid_on = t
        .app
        .now()
        .with_timezone(&chrono_tz::Europe::Belgrade)
        .date_naive();
    t.clock.advance(chrono::Duration::days(1));
    let run =
        eposta_payments::remittance::run(&t.app, &eposta_kernel::audit::Actor::System, paid_on)
            .await
            .expect("remittance");
    assert_eq!(run.batches.len(), 1, "the card payment went out");
    let r = t
        .api(&token)
        .post_json(
            &format!("/api/v1/payments/{id}/refunds"),
            &json!({}),
            &[(KEY, "after-remittance")],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("remitted"), "{}", r.text());
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM payment_refunds").await,
        0,
        "no refund was even started"
    );
}

#[tokio::test]
async fn money_taken_after_the_payment_expired_goes_back_to_the_card() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "c-late").await;
    let session = page.rsplit('/').next().expect("session").to_owned();
    t.clock.advance(chrono::Duration::minutes(91));
    let s = service::expiry::expire_due(&t.app).await.expect("sweep");
    assert_eq!(s.expired, 1);
    assert_eq!(state_in_db(&t, &id).await, "expired");
    // A real acquirer's race: the card holder's payment crossed ePošta's cancel, and the
    // acquirer took the money after all.
    super::exec(
        &t,
        &format!("UPDATE test_acquirer_sessions SET state = 'succeeded' WHERE id = '{session}'"),
    )
    .await;
    let body = json!({
        "id": "ntf_late", "type": "payment.succeeded", "session": session,
        "merchant_ref": id, "amount_para": 363_613
    })
    .to_string();
    for _ in 0..2 {
        let headers = test_acquirer::signed_headers(&t.app, body.as_bytes());
        let r = service::notify::receive(&t.app, "test", &headers, body.as_bytes())
            .await
            .expect("received");
        assert_eq!(
            r,
            service::notify::Received::Ignored("no longer pending: the money is refunded")
        );
    }
    assert_eq!(
        state_in_db(&t, &id).await,
        "expired",
        "the payment stays expired"
    );
    let uuid: uuid::Uuid = id.parse().expect("uuid");
    let late = || async {
        let mut conn = t.app.db.conn().await.expect("conn");
        service::late::of_payment(&mut conn, uuid)
            .await
            .expect("late capture")
            .expect("recorded")
    };
    let recorded = late().await;
    assert_eq!(
        (recorded.state.as_str(), recorded.amount_para),
        ("refunding", 363_613)
    );
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM late_captures").await,
        1,
        "a repeated notification records it once"
    );
    t.run_pending_jobs().await;
    let refunded = late().await;
    assert_eq!(refunded.state, "refunded");
    assert!(refunded.refund_ref.is_some());
    let at_acquirer =
        format!("SELECT refunded_para FROM test_acquirer_sessions WHERE id = '{session}'");
    assert_eq!(count(&t, &at_acquirer).await, 363_613, "paid back in full");
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action IN \
             ('payments.late_capture', 'payments.late_capture.refunded')"
        )
        .await,
        2
    );
    // Nothing is refunded twice: the job finds the capture settled.
    t.run_pending_jobs().await;
    assert_eq!(count(&t, &at_acquirer).await, 363_613);
}

#[tokio::test]
async fn a_late_capture_the_acquirer_will_not_refund_is_left_for_a_person() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "c-late-2").await;
    let session = page.rsplit('/').next().expect("session").to_owned();
    t.clock.advance(chrono::Duration::minutes(91));
    service::expiry::expire_due(&t.app).await.expect("sweep");
    // The acquirer says paid, but its session stays cancelled: it refuses the refund.
    let body = json!({
        "id": "ntf_late_2", "type": "payment.succeeded", "session": session,
        "merchant_ref": id, "amount_para": 363_613
    })
    .to_string();
    let headers = test_acquirer::signed_headers(&t.app, body.as_bytes());
    service::notify::receive(&t.app, "test", &headers, body.as_bytes())
        .await
        .expect("received");
    t.run_pending_jobs().await;
    let mut conn = t.app.db.conn().await.expect("conn");
    let c = service::late::of_payment(&mut conn, id.parse().expect("uuid"))
        .await
        .expect("read")
        .expect("recorded");
    assert_eq!(c.state, "failed");
    assert!(
        c.reason
            .as_deref()
            .is_some_and(|r| r.contains("only a succeeded payment")),
        "{c:?}"
    );
}

#[tokio::test]
async fn the_paying_notification_repeated_after_a_full_refund_pays_nothing_back_again() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let (id, page) = start(&t, &token, "c-repeat").await;
    let session = page.rsplit('/').next().expect("session").to_owned();
    pay(&mut t.client(), &page, CARD_SUCCEEDS).await;
    t.run_pending_jobs().await;
    let r = t
        .api(&token)
        .post_json(
            &format!("/api/v1/payments/{id}/refunds"),
            &json!({}),
            &[(KEY, "c-repeat-refund")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(state_in_db(&t, &id).await, "refunded");
    // The acquirer delivers its "paid" notification once more.
    let body = json!({
        "id": "ntf_repeat", "type": "payment.succeeded", "session": session,
        "merchant_ref": id, "amount_para": 363_613
    })
    .to_string();
    let headers = test_acquirer::signed_headers(&t.app, body.as_bytes());
    let r = service::notify::receive(&t.app, "test", &headers, body.as_bytes())
        .await
        .expect("received");
    assert_eq!(r, service::notify::Received::Unchanged);
    t.run_pending_jobs().await;
    assert_eq!(count(&t, "SELECT COUNT(*) FROM late_captures").await, 0);
    let at_acquirer =
        format!("SELECT refunded_para FROM test_acquirer_sessions WHERE id = '{session}'");
    assert_eq!(count(&t, &at_acquirer).await, 363_613, "refunded once");
    assert_eq!(state_in_db(&t, &id).await, "refunded");
}
