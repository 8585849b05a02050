//! Receiving: proving one is the recipient (codes.rs), the recipient's choices and when they
//! are refused (choices.rs), who may see which item (access.rs), and the notices that stored
//! events owe recipients (notices.rs).

mod access;
mod choices;
mod codes;
mod handover;
mod notices;

use axum::http::StatusCode;
use eposta_kernel::db_run;
use eposta_kernel::offices::store::{self as office_store, OfficeFields};
use eposta_kernel::testing::{Client, TestApp};
use serde_json::{Value, json};

use crate::booking::{api_key, shipment};

pub const HOURS: &str = "пон–пет 08–19; суб 08–14";
pub const EMAIL: &str = "kupac@example.rs";
pub const PHONE: &str = "+381641234567";

/// The postal routes and jobs, with two offices that have opening hours.
pub async fn app() -> TestApp {
    app_with(|_| {}).await
}

pub async fn app_with(config: impl FnOnce(&mut eposta_kernel::config::Config)) -> TestApp {
    let t = TestApp::builder()
        .routes(eposta_postal::routes())
        .jobs(eposta_postal::jobs)
        .config(config)
        .build()
        .await;
    office(&t, "11101", "Београд 1", "Змај Јовина 17", Some(HOURS)).await;
    office(&t, "21101", "Нови Сад 1", "Народних хероја 2", None).await;
    t
}

pub async fn office(t: &TestApp, code: &str, name: &str, address: &str, hours: Option<&str>) {
    let mut tx = t.app.db.begin().await.expect("tx");
    office_store::upsert(
        &mut tx,
        &OfficeFields {
            code: code.into(),
            postal_code: code.into(),
            name: name.into(),
            municipality: name.into(),
            address: address.into(),
            latitude: None,
            longitude: None,
            opening_hours: hours.map(str::to_owned),
        },
        t.app.now(),
    )
    .await
    .expect("office");
    tx.commit().await.expect("commit");
}

/// Books a parcel with 2.500 dinars to collect, for a recipient with `EMAIL` and `PHONE`,
/// changed by `edit`; returns its tracking number.
pub async fn book(t: &TestApp, edit: impl FnOnce(&mut Value)) -> String {
    let key = api_key(
        t,
        &format!("Shop {}", uuid::Uuid::new_v4().simple()),
        &["postal:book"],
    )
    .await;
    let mut s = shipment(0);
    edit(&mut s);
    let r = t.api(&key).post_json("/api/v1/shipments", &s, &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["tracking_number"]
        .as_str()
        .expect("tracking number")
        .to_owned()
}

/// Posts tracking events as a scanner would.
pub async fn scan(t: &TestApp, events: Value) {
    let mut s = crate::tracking::scanner(t).await;
    let r = s.post_json("/api/v1/tracking/events", &events, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["errors"], 0, "{}", r.text());
}

pub fn ev(number: &str, code: &str, location: &str, time: &str) -> Value {
    json!({"tracking_number": number, "code": code, "location": location, "event_time": time})
}

/// A count from SQL.
pub async fn count(t: &TestApp, sql: &str) -> i64 {
    crate::booking::count(t, sql).await
}

/// Outbox messages to `recipient`, oldest first: (channel, subject, body).
pub async fn outbox_to(t: &TestApp, recipient: &str) -> Vec<(String, String, String)> {
    let mut conn = t.app.db.conn().await.expect("conn");
    db_run!(&mut conn, |c| {
        sqlx::query_as::<_, (String, String, String)>(
        "SELECT channel, subject, body FROM outbox WHERE recipient = $1 ORDER BY created_at, id"
    )
    .bind(recipient)
    .fetch_all(&mut *c)
    .await
    })
    .expect("outbox")
}

/// The six-digit code in a message: the only run of exactly six digits (the tracking number
/// is grouped by threes, or nine digits in a link).
pub fn code_in(body: &str) -> String {
    let runs: Vec<&str> = body
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() == 6)
        .collect();
    assert_eq!(runs.len(), 1, "one code in {body}");
    runs[0].to_owned()
}

/// Asks for a code for `number` (a second later than anything before, so that the newest
/// message is this one's) and returns the page.
pub async fn ask_code(
    t: &TestApp,
    c: &mut Client,
    number: &str,
) -> eposta_kernel::testing::TestResponse {
    t.clock.advance(chrono::Duration::seconds(1));
    c.post_form("/receive", &[("id", number)]).await
}

/// The newest code e-mailed to `email`.
pub async fn last_code(t: &TestApp, email: &str) -> String {
    let mail = outbox_to(t, email).await;
    let (_, _, body) = mail.last().expect("a code was e-mailed");
    code_in(body)
}

/// Proves `c` to be the recipient of `number` with the code e-mailed to `EMAIL`.
pub async fn prove(t: &TestApp, c: &mut Client, number: &str) {
    let r = ask_code(t, c, number).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let code = last_code(t, EMAIL).await;
    let r = c
        .post_form("/receive/code", &[("id", number), ("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), Some(format!("/receive/{number}").as_str()));
}
