//! Tracking: scanners' batches (good rows kept, bad ones reported, duplicates stored once),
//! flags for impossible sequences and the staff who see them, facilities, scopes (ingest.rs);
//! lookups in event-time order without personal data, in three languages (lookup.rs).

mod ingest;
mod lookup;

use axum::http::StatusCode;
use eposta_kernel::apikeys;
use eposta_kernel::audit::Actor;
use eposta_kernel::db_run;
use eposta_kernel::testing::{Client, TestApp};
use serde_json::{Value, json};

pub const ITEM: &str = "RA123456785RS";
pub const OTHER: &str = "EE876543216CA";

pub async fn app() -> TestApp {
    let t = TestApp::builder()
        .routes(eposta_postal::routes())
        .jobs(eposta_postal::jobs)
        .build()
        .await;
    t.office("11101", "Београд 1").await;
    t.office("21000", "Нови Сад").await;
    t
}

/// An API client whose key has these scopes.
pub async fn api(t: &TestApp, scopes: &[&str]) -> Client {
    let org = apikeys::create_organisation(
        &t.app,
        &Actor::System,
        &format!("Org {}", uuid::Uuid::new_v4().simple()),
        "business",
    )
    .await
    .expect("organisation");
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let key = apikeys::issue(&t.app, &Actor::System, org, "scanner", &scopes)
        .await
        .expect("key");
    t.api(&key.token)
}

pub async fn scanner(t: &TestApp) -> Client {
    api(t, &["tracking:write"]).await
}

pub async fn reader(t: &TestApp) -> Client {
    api(t, &["postal:track"]).await
}

pub fn ev(number: &str, code: &str, location: &str, time: &str) -> Value {
    json!({"tracking_number": number, "code": code, "location": location, "event_time": time})
}

pub async fn post(c: &mut Client, events: &Value) -> Value {
    let r = c.post_json("/api/v1/tracking/events", events, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

pub async fn lookup(c: &mut Client, ids: &str) -> Value {
    let r = c.get(&format!("/api/v1/tracking/{ids}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

pub fn codes_of(item: &Value) -> Vec<String> {
    item["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["code"].as_str().expect("code").to_owned())
        .collect()
}

pub async fn count_events(t: &TestApp) -> i64 {
    let mut conn = t.app.db.conn().await.expect("conn");
    db_run!(&mut conn, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM tracking_events"
    )
    .fetch_one(&mut *c)
    .await)
    .expect("count")
}
