//! Businesses' webhooks for their items (issue #4's "done when"): a business books 1,000
//! shipments in one call, the scanners' events for them become signed `tracking.updated`
//! deliveries that a real HTTP receiver checks with its own HMAC; a receiver that fails is
//! retried after the backoff; other organisations' items and mail not booked here send
//! nothing.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use eposta_kernel::apikeys;
use eposta_kernel::audit::Actor;
use eposta_kernel::testing::{Client, Received, Receiver, TestApp};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use crate::booking::{count, shipment};

const EVENT_TIME: &str = "2026-03-02T08:15:00Z";

async fn app() -> TestApp {
    let t = TestApp::builder()
        .routes(eposta_postal::routes())
        .jobs(eposta_postal::jobs)
        .config(|c| c.webhooks_allow_loopback = true)
        .build()
        .await;
    t.office("11101", "Београд 1").await;
    t
}

async fn key(t: &TestApp, organisation: &str, scopes: &[&str]) -> Client {
    let org = apikeys::create_organisation(&t.app, &Actor::System, organisation, "business")
        .await
        .expect("organisation");
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let key = apikeys::issue(&t.app, &Actor::System, org, "key", &scopes)
        .await
        .expect("key");
    t.api(&key.token)
}

/// A business's key that books and manages webhooks, and its endpoint's id and secret.
async fn business(t: &TestApp, name: &str, rx: &Receiver) -> (Client, String, String) {
    let mut api = key(t, name, &["postal:book", "webhooks:manage"]).await;
    let r = api
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": rx.url(&format!("/{}", name.len())), "events": ["tracking.updated"]}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let b = r.json();
    (
        api,
        b["id"].as_str().expect("id").to_owned(),
        b["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn book(api: &mut Client, n: usize) -> Vec<String> {
    let shipments: Vec<Value> = (0..n).map(shipment).collect();
    let r = api
        .post_json("/api/v1/shipments", &json!({ "shipments": shipments }), &[])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["shipments"]
        .as_array()
        .expect("shipments")
        .iter()
        .map(|s| s["tracking_number"].as_str().expect("number").to_owned())
        .collect()
}

async fn scan(t: &TestApp, numbers: &[String]) {
    let mut scanner = key(
        t,
        &format!("Скенер {}", uuid::Uuid::new_v4()),
        &["tracking:write"],
    )
    .await;
    let events: Vec<Value> = numbers
        .iter()
        .map(|n| json!({"tracking_number": n, "code": "EMA", "location": "11101", "event_time": EVENT_TIME}))
        .collect();
    let r = scanner
        .post_json("/api/v1/tracking/events", &json!(events), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// Checks a delivery the way a receiver would, with this test's own HMAC: the signature is
/// HMAC-SHA256 under the secret over `<timestamp>.<body>`.
fn assert_signed(r: &Received, secret: &str) {
    let ts = r.header("eposta-webhook-timestamp");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{ts}.").as_bytes());
    mac.update(&r.body);
    let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(r.header("eposta-webhook-signature"), expected);
}

#[tokio::test]
async fn a_business_books_1000_shipments_in_one_call_and_receives_signed_webhooks() {
    let t = app().await;
    let rx = Receiver::start().await;
    let (mut api, endpoint, secret) = business(&t, "Књижара", &rx).await;
    let booked = book(&mut api, 1000).await;
    assert_eq!(booked.len(), 1000);
    scan(&t, &booked).await;
    // Mail booked nowhere here (inbound international) has no one to tell.
    scan(&t, &["EE876543216CA".to_owned()]).await;
    assert!(rx.received().is_empty());
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'"
        )
        .await,
        1000
    );
    t.run_pending_jobs().await;

    let got = rx.received();
    assert_eq!(got.len(), 1000);
    let mut seen = HashSet::new();
    for r in &got {
        assert_signed(r, &secret);
        let body = r.json();
        assert_eq!(body["type"], "tracking.updated");
        assert_eq!(body["id"], r.header("eposta-webhook-id"));
        let data = &body["data"];
        assert_eq!(data["code"], "EMA");
        assert_eq!(data["status"], "accepted");
        assert_eq!(data["location"], "11101");
        assert_eq!(data["event_time"], EVENT_TIME);
        assert!(data["reason_code"].is_null() && data["action_code"].is_null());
        assert!(seen.insert(data["tracking_number"].as_str().expect("number").to_owned()));
    }
    let booked: HashSet<String> = booked.into_iter().collect();
    assert_eq!(
        seen, booked,
        "one delivery per booked item, and none for other mail"
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'"
        )
        .await,
        1000
    );
    let page = api
        .get(&format!("/api/v1/webhooks/{endpoint}/deliveries?limit=5"))
        .await
        .json();
    assert_eq!(page["items"][0]["attempts"][0]["status_code"], 200);
    assert!(page["next_cursor"].is_string());
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_again_after_the_backoff() {
    let t = app().await;
    let rx = Receiver::start().await;
    rx.answer(&[500]);
    let (mut api, endpoint, secret) = business(&t, "Апотека", &rx).await;
    let booked = book(&mut api, 1).await;
    scan(&t, &booked).await;
    t.run_pending_jobs().await;
    assert_eq!(rx.received().len(), 1);
    t.clock.advance(chrono::Duration::seconds(9));
    t.run_pending_jobs().await;
    assert_eq!(rx.received().len(), 1, "not before the backoff is over");
    t.clock.advance(chrono::Duration::seconds(1));
    t.run_pending_jobs().await;
    let got = rx.received();
    assert_eq!(got.len(), 2);
    for r in &got {
        assert_signed(r, &secret);
        assert_eq!(r.json()["data"]["tracking_number"], booked[0].as_str());
    }
    assert_eq!(got[0].body, got[1].body);
    let log = api
        .get(&format!("/api/v1/webhooks/{endpoint}/deliveries"))
        .await
        .json();
    let d = &log["items"][0];
    assert_eq!(d["status"], "delivered");
    let codes: Vec<&Value> = d["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(200)]);
}

#[tokio::test]
async fn only_the_organisation_that_booked_an_item_hears_of_it() {
    let t = app().await;
    let rx = Receiver::start().await;
    let (mut a, _, a_secret) = business(&t, "Прва фирма", &rx).await;
    let (mut b, _, b_secret) = business(&t, "Друга фирма доо", &rx).await;
    // C books but has no endpoint.
    let mut c = key(&t, "Трећа", &["postal:book"]).await;
    let a_items = book(&mut a, 3).await;
    let b_items = book(&mut b, 2).await;
    let c_items = book(&mut c, 4).await;
    let all: Vec<String> = a_items
        .iter()
        .chain(&b_items)
        .chain(&c_items)
        .cloned()
        .collect();
    scan(&t, &all).await;
    t.run_pending_jobs().await;
    let mut by_path: HashMap<String, Vec<String>> = HashMap::new();
    for r in rx.received() {
        let secret = if r.path == format!("/{}", "Прва фирма".len()) {
            &a_secret
        } else {
            &b_secret
        };
        assert_signed(&r, secret);
        by_path.entry(r.path.clone()).or_default().push(
            r.json()["data"]["tracking_number"]
                .as_str()
                .expect("n")
                .to_owned(),
        );
    }
    let mut got_a = by_path
        .remove(&format!("/{}", "Прва фирма".len()))
        .expect("A's");
    let mut got_b = by_path
        .remove(&format!("/{}", "Друга фирма доо".len()))
        .expect("B's");
    assert!(by_path.is_empty(), "{by_path:?}");
    got_a.sort();
    got_b.sort();
    let (mut a_items, mut b_items) = (a_items, b_items);
    a_items.sort();
    b_items.sort();
    assert_eq!(got_a, a_items);
    assert_eq!(got_b, b_items);
}

#[tokio::test]
async fn acceptance_at_the_counter_is_a_signed_webhook_too() {
    let t = app().await;
    let rx = Receiver::start().await;
    let (mut api, _, secret) = business(&t, "Књижара на шалтеру", &rx).await;
    let r = api.post_json("/api/v1/shipments", &shipment(0), &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let tn = r.json()["tracking_number"].as_str().expect("tn").to_owned();
    let code = r.json()["booking_code"].as_str().expect("code").to_owned();

    let mut clerk = t
        .logged_in(eposta_kernel::accounts::Role::Clerk, Some("11101"))
        .await;
    let r = crate::counter::accept_at_counter(&mut clerk, &code, "1200").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        rx.received().is_empty(),
        "sent by a job, not by the clerk's request"
    );
    t.run_pending_jobs().await;
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_signed(&got[0], &secret);
    let data = &got[0].json()["data"];
    assert_eq!(data["tracking_number"], tn.as_str());
    assert_eq!(data["code"], "EMA");
    assert_eq!(data["location"], "11101");
}
