//! Tracking: scanners' batches (good rows kept, bad ones reported, duplicates stored once),
//! lookups in event-time order without personal data, flags for impossible sequences and the
//! staff who see them, facilities, scopes.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use eposta_kernel::accounts::Role;
use eposta_kernel::apikeys;
use eposta_kernel::audit::Actor;
use eposta_kernel::db_run;
use eposta_kernel::testing::{Client, TestApp};
use eposta_postal::tracking::codes::{self, REQUIRED_EVENTS};
use eposta_postal::tracking::service;
use serde_json::{Value, json};

const ITEM: &str = "RA123456785RS";
const OTHER: &str = "EE876543216CA";

async fn app() -> TestApp {
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
async fn api(t: &TestApp, scopes: &[&str]) -> Client {
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

async fn scanner(t: &TestApp) -> Client {
    api(t, &["tracking:write"]).await
}

async fn reader(t: &TestApp) -> Client {
    api(t, &["postal:track"]).await
}

fn ev(number: &str, code: &str, location: &str, time: &str) -> Value {
    json!({"tracking_number": number, "code": code, "location": location, "event_time": time})
}

async fn post(c: &mut Client, events: &Value) -> Value {
    let r = c.post_json("/api/v1/tracking/events", events, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn lookup(c: &mut Client, ids: &str) -> Value {
    let r = c.get(&format!("/api/v1/tracking/{ids}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

fn codes_of(item: &Value) -> Vec<String> {
    item["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["code"].as_str().expect("code").to_owned())
        .collect()
}

async fn count_events(t: &TestApp) -> i64 {
    let mut conn = t.app.db.conn().await.expect("conn");
    db_run!(&mut conn, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM tracking_events"
    )
    .fetch_one(&mut *c)
    .await)
    .expect("count")
}

#[tokio::test]
async fn every_code_of_the_table_is_accepted_and_mapped_to_its_status() {
    let t = app().await;
    let mut s = scanner(&t).await;
    let table = codes::table();
    let batch: Vec<Value> = REQUIRED_EVENTS
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let mut e = ev(ITEM, code, "11101", &format!("2026-03-01T{i:02}:00:00Z"));
            if table.event(code).expect("listed").needs_reason_and_action {
                e["reason_code"] = json!("01");
                e["action_code"] = json!("B");
            }
            e
        })
        .collect();
    let answer = post(&mut s, &json!(batch)).await;
    assert_eq!(answer["stored"], REQUIRED_EVENTS.len(), "{answer}");
    for (i, code) in REQUIRED_EVENTS.iter().enumerate() {
        assert_eq!(
            answer["results"][i]["status"],
            table.event(code).expect("listed").status.as_str(),
            "{code}"
        );
    }
}

#[tokio::test]
async fn a_batch_keeps_good_rows_reports_bad_ones_and_stores_duplicates_once() {
    let t = app().await;
    let mut s = scanner(&t).await;
    let mut emh = ev(ITEM, "EMH", "11101", "2026-03-01T12:00:00Z");
    emh["action_code"] = json!("A");
    let batch = json!([
        ev(ITEM, "EMA", "11101", "2026-03-01T08:00:00+01:00"),
        ev(ITEM, "EMB", "11101", "2026-03-01T09:00:00Z"),
        // The first event again, written with another offset: the same instant.
        ev(ITEM, "ema", "11101", "2026-03-01T07:00:00Z"),
        ev("RA123456784RS", "EMC", "11101", "2026-03-01T10:00:00Z"),
        ev(ITEM, "XYZ", "11101", "2026-03-01T10:00:00Z"),
        ev(ITEM, "EMD", "99999", "2026-03-01T10:00:00Z"),
        emh,
        ev(ITEM, "EMD", "21000", "2026-03-02T09:30:00Z"),
        "not an event",
        ev(OTHER, "EMA", "21000", "2026-03-01T10:00:00Z"),
    ]);
    let answer = post(&mut s, &batch).await;
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), 10);
    let summary: Vec<(u64, &str, Option<&str>)> = results
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().expect("index"),
                r["result"].as_str().expect("result"),
                r["field"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, "stored", None),
            (1, "stored", None),
            (2, "duplicate", None),
            (3, "error", Some("tracking_number")),
            (4, "error", Some("code")),
            (5, "error", Some("location")),
            (6, "error", Some("reason_code")),
            (7, "error", Some("event_time")),
            (8, "error", Some("event")),
            (9, "stored", None),
        ]
    );
    assert!(
        results[3]["message"]
            .as_str()
            .is_some_and(|m| m.contains("check digit")),
        "{answer}"
    );
    assert_eq!(
        (
            &answer["stored"],
            &answer["duplicates"],
            &answer["errors"],
            &answer["flagged"]
        ),
        (&json!(3), &json!(1), &json!(6), &json!(0))
    );
    assert_eq!(count_events(&t).await, 3);

    // The whole batch again: nothing new, every good row is a duplicate.
    let again = post(&mut s, &batch).await;
    assert_eq!(
        (&again["stored"], &again["duplicates"], &again["errors"]),
        (&json!(0), &json!(4), &json!(6))
    );
    assert_eq!(count_events(&t).await, 3);

    // The good rows are there for everyone to see.
    let mut r = reader(&t).await;
    let found = lookup(&mut r, &format!("{ITEM},{OTHER}")).await;
    assert_eq!(codes_of(&found["results"][0]), ["EMA", "EMB"]);
    assert_eq!(found["results"][1]["status"], "accepted");
}

#[tokio::test]
async fn batches_must_be_arrays_of_at_most_a_thousand() {
    let t = app().await;
    let mut s = scanner(&t).await;
    let too_many: Vec<Value> = (0..1001)
        .map(|i| {
            ev(
                ITEM,
                "EMA",
                "11101",
                &format!("2026-03-01T00:{:02}:{:02}Z", i / 60, i % 60),
            )
        })
        .collect();
    let r = s
        .post_json("/api/v1/tracking/events", &json!(too_many), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["field"], "events");
    let r = s
        .post_json("/api/v1/tracking/events", &json!({"events": []}), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(count_events(&t).await, 0);
    // A thousand is fine.
    let answer = post(&mut s, &json!(too_many[..1000])).await;
    assert_eq!(answer["stored"], 1000);
}

#[tokio::test]
async fn events_arriving_out_of_order_are_shown_in_event_time_order() {
    let t = app().await;
    let mut s = scanner(&t).await;
    for e in [
        ev(ITEM, "EMI", "21000", "2026-03-01T15:00:00Z"),
        ev(ITEM, "EMA", "11101", "2026-03-01T08:00:00Z"),
        ev(ITEM, "EDG", "21000", "2026-03-01T12:00:00Z"),
        ev(ITEM, "EMB", "11101", "2026-03-01T09:00:00Z"),
    ] {
        let answer = post(&mut s, &json!([e])).await;
        assert_eq!(answer["stored"], 1, "{answer}");
        assert_eq!(answer["flagged"], 0, "{answer}");
    }
    let mut r = reader(&t).await;
    let found = lookup(&mut r, ITEM).await;
    let item = &found["results"][0];
    assert_eq!(codes_of(item), ["EMA", "EMB", "EDG", "EMI"]);
    // The latest event by event time decides, not the last one to arrive.
    assert_eq!(item["status"], "delivered");
    let first = &item["events"][0];
    assert_eq!(first["event_time"], "2026-03-01T08:00:00Z");
    assert_eq!(first["local_time"], "2026-03-01T09:00:00+01:00");
    assert_eq!(first["place"], "Београд 1");
    assert_eq!(first["description"], "Posted (accepted)");

    // The page lists them in the same order, in Belgrade time.
    let mut c = t.client();
    let page = c.get(&format!("/track?id={ITEM}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} not on the page"))
    };
    assert!(at("01.03.2026. 09:00") < at("01.03.2026. 10:00"));
    assert!(at("01.03.2026. 10:00") < at("01.03.2026. 13:00"));
    assert!(at("01.03.2026. 13:00") < at("01.03.2026. 16:00"));
    assert!(html.contains("RA 123 456 785 RS"));
    assert!(html.contains("Уручена"), "the status in Serbian");
}

#[tokio::test]
async fn impossible_sequences_are_stored_flagged_and_shown_to_staff_of_their_office() {
    let t = app().await;
    let mut s = scanner(&t).await;
    let first = post(
        &mut s,
        &json!([
            ev(ITEM, "EMA", "11101", "2026-03-01T11:00:00Z"),
            // Delivered before it was accepted.
            ev(ITEM, "EMI", "11101", "2026-03-01T10:00:00Z"),
        ]),
    )
    .await;
    assert_eq!(first["results"][0]["result"], "stored");
    assert!(first["results"][0].get("flag").is_none(), "{first}");
    assert_eq!(first["results"][1]["result"], "stored");
    assert_eq!(first["results"][1]["flag"], "before_acceptance");
    // After the delivery, at another office.
    let second = post(
        &mut s,
        &json!([ev(ITEM, "EMD", "21000", "2026-03-01T12:00:00Z")]),
    )
    .await;
    assert_eq!(second["results"][0]["flag"], "after_delivery");
    assert_eq!(second["flagged"], 1);
    assert_eq!(count_events(&t).await, 3);

    let mut belgrade = t.logged_in(Role::Clerk, Some("11101")).await;
    let page = belgrade.get("/counter/tracking/flagged").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(ITEM));
    assert!(html.contains("Пре пријема"), "before acceptance");
    assert!(
        !html.contains("После уручења"),
        "not the other office's event"
    );

    let mut novi_sad = t.logged_in(Role::Manager, Some("21000")).await;
    let html = novi_sad.get("/counter/tracking/flagged").await.text();
    assert!(html.contains("После уручења"), "after delivery");
    assert!(!html.contains("Пре пријема"));

    let mut admin = t.logged_in(Role::Admin, None).await;
    admin.set_cookie("eposta_lang", "en");
    let html = admin.get("/counter/tracking/flagged").await.text();
    assert!(html.contains("Before the acceptance") && html.contains("After the delivery"));

    let mut citizen = t.logged_in(Role::Citizen, None).await;
    assert_eq!(
        citizen.get("/counter/tracking/flagged").await.status,
        StatusCode::FORBIDDEN
    );
    // The public sees the events, not the flags.
    let html = t.client().get(&format!("/track?id={ITEM}")).await.text();
    assert!(html.contains("01.03.2026. 11:00") && html.contains("01.03.2026. 13:00"));
    assert!(!html.contains("Пре пријема") && !html.contains("before_acceptance"));
}

#[tokio::test]
async fn a_failed_delivery_needs_its_reason_and_action_which_decide_the_status() {
    let t = app().await;
    let mut s = scanner(&t).await;
    let mut no_reason = ev(ITEM, "EMH", "21000", "2026-03-01T12:00:00Z");
    no_reason["action_code"] = json!("A");
    let mut no_action = ev(ITEM, "EMH", "21000", "2026-03-01T12:00:00Z");
    no_action["reason_code"] = json!("01");
    let mut held = no_action.clone();
    held["action_code"] = json!("A");
    let mut returned = ev(OTHER, "EMH", "21000", "2026-03-01T12:00:00Z");
    returned["reason_code"] = json!("02");
    returned["action_code"] = json!("C");
    let answer = post(&mut s, &json!([no_reason, no_action, held, returned])).await;
    let fields: Vec<&Value> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| &r["field"])
        .collect();
    assert_eq!(
        fields,
        [
            &json!("reason_code"),
            &json!("action_code"),
            &Value::Null,
            &Value::Null
        ]
    );
    assert_eq!(answer["results"][2]["status"], "available_for_pickup");
    assert_eq!(answer["results"][3]["status"], "return_to_sender");

    let mut r = reader(&t).await;
    let found = lookup(&mut r, ITEM).await;
    let event = &found["results"][0]["events"][0];
    assert_eq!(found["results"][0]["status"], "available_for_pickup");
    assert_eq!(event["reason"]["code"], "01");
    assert_eq!(event["reason"]["description"], "Addressee not at home");
    assert_eq!(event["action"]["code"], "A");

    let mut c = t.client();
    c.set_cookie("eposta_lang", "en");
    let html = c.get(&format!("/track?id={ITEM}")).await.text();
    assert!(html.contains("Waiting to be collected"), "{html}");
    assert!(html.contains("Reason: Addressee not at home"));
}

/// A booked item with the sender's and recipient's details, as booking stores it.
async fn book(t: &TestApp, number: &str) {
    let now = t.app.now();
    let mut tx = t.app.db.begin().await.expect("tx");
    db_run!(&mut tx, |c| sqlx::query(
        "INSERT INTO postal_items (id, tracking_number, booking_code, product, weight_g, \
         options, price_minor, vat_minor, currency, sender_name, sender_street, sender_number, \
         sender_postal_code, sender_place, sender_phone, recipient_name, recipient_street, \
         recipient_number, recipient_postal_code, recipient_place, recipient_phone, \
         recipient_email, status, created_at, updated_at) VALUES ($1, $2, $3, 'parcel', 500, \
         '{}', 30000, 5000, 'RSD', 'Petar Petrović', 'Knez Mihailova', '12', '11000', \
         'Beograd', '+381641234567', 'Jelena Jovanović', 'Bulevar oslobođenja', '7', '21000', \
         'Novi Sad', '+381601112223', 'jelena@example.rs', 'booked', $4, $4)"
    )
    .bind(uuid::Uuid::now_v7())
    .bind(number)
    .bind(format!("B{}", &number[2..10]))
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .expect("book");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn lookups_show_no_personal_data_and_a_booked_item_is_pre_transit() {
    let t = app().await;
    book(&t, ITEM).await;
    book(&t, OTHER).await;
    let mut s = scanner(&t).await;
    post(
        &mut s,
        &json!([ev(ITEM, "EMA", "11101", "2026-03-01T11:00:00Z")]),
    )
    .await;
    let personal = [
        "Petar",
        "Petrović",
        "Knez Mihailova",
        "+381641234567",
        "Jelena",
        "Bulevar",
        "+381601112223",
        "jelena@example.rs",
    ];
    let mut r = reader(&t).await;
    let found = lookup(&mut r, &format!("{ITEM},{OTHER}")).await;
    assert_eq!(found["results"][0]["status"], "accepted");
    assert_eq!(found["results"][1]["result"], "found");
    assert_eq!(found["results"][1]["status"], "pre_transit");
    assert_eq!(codes_of(&found["results"][1]), Vec::<String>::new());
    let text = found.to_string();
    for p in personal {
        assert!(!text.contains(p), "{p} in {text}");
    }
    let mut c = t.client();
    let page = c.get(&format!("/track?id={ITEM}+{OTHER}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("још није предата"), "pre-transit note");
    for p in personal {
        assert!(!html.contains(p), "{p} on the page");
    }
}

#[tokio::test]
async fn each_id_is_answered_on_its_own_and_more_than_twenty_is_refused() {
    let t = app().await;
    let mut s = scanner(&t).await;
    post(
        &mut s,
        &json!([ev(ITEM, "EMA", "11101", "2026-03-01T11:00:00Z")]),
    )
    .await;
    let mut r = reader(&t).await;
    let found = lookup(
        &mut r,
        &format!("RA123456784RS,{OTHER},ra%20123%20456%20785%20rs"),
    )
    .await;
    let results = found["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["result"], "invalid");
    assert_eq!(results[0]["query"], "RA123456784RS");
    assert!(
        results[0]["message"]
            .as_str()
            .expect("message")
            .contains("check digit")
    );
    assert_eq!(results[1]["result"], "not_found");
    assert_eq!(results[2]["result"], "found");
    assert_eq!(results[2]["tracking_number"], ITEM);

    let many = vec![ITEM; 21].join(",");
    let r21 = r.get(&format!("/api/v1/tracking/{many}")).await;
    assert_eq!(r21.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r21.json()["error"]["field"], "ids");
    let twenty = vec![ITEM; 20].join(",");
    assert_eq!(
        lookup(&mut r, &twenty).await["results"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let mut c = t.client();
    let page = c
        .get(&format!("/track?id={}", vec![ITEM; 21].join("+")))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("највише 20"));
    let html = c.get("/track?id=RA123456784RS,XX").await.text();
    assert!(html.contains("контролна цифра је 4"), "{html}");
    assert!(html.contains("два слова, девет цифара"));
}

#[tokio::test]
async fn scopes_are_enforced() {
    let t = app().await;
    let batch = json!([ev(ITEM, "EMA", "11101", "2026-03-01T11:00:00Z")]);
    let mut r = reader(&t).await;
    let denied = r.post_json("/api/v1/tracking/events", &batch, &[]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let mut s = scanner(&t).await;
    assert_eq!(
        s.get(&format!("/api/v1/tracking/{ITEM}")).await.status,
        StatusCode::FORBIDDEN
    );
    let mut anonymous = t.client();
    let r = anonymous
        .post_json("/api/v1/tracking/events", &batch, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count_events(&t).await, 0);
    // The scanner's key can, and the source names it.
    post(&mut s, &batch).await;
    let mut conn = t.app.db.conn().await.expect("conn");
    let source: String = db_run!(&mut conn, |c| sqlx::query_scalar(
        "SELECT source FROM tracking_events"
    )
    .fetch_one(&mut *c)
    .await)
    .expect("source");
    assert!(source.starts_with("key:"), "{source}");
}

#[tokio::test]
async fn the_counter_records_acceptance_in_its_transaction() {
    let t = app().await;
    let at: DateTime<Utc> = t.app.now();
    let mut tx = t.app.db.begin().await.expect("tx");
    assert!(
        service::record_acceptance(&mut tx, "ra 123 456 785 rs", "11101", at, "counter:11101")
            .await
            .expect("stored")
    );
    assert!(
        !service::record_acceptance(&mut tx, ITEM, "11101", at, "counter:11101")
            .await
            .expect("duplicate")
    );
    assert!(matches!(
        service::record_acceptance(&mut tx, ITEM, "99999", at, "counter:99999").await,
        Err(eposta_kernel::Error::Invalid { field, .. }) if field == "office"
    ));
    assert!(matches!(
        service::record_acceptance(&mut tx, "RA123456784RS", "11101", at, "counter:11101").await,
        Err(eposta_kernel::Error::Invalid { field, .. }) if field == "tracking_number"
    ));
    tx.commit().await.expect("commit");
    let mut r = reader(&t).await;
    let found = lookup(&mut r, ITEM).await;
    assert_eq!(found["results"][0]["status"], "accepted");
    assert_eq!(codes_of(&found["results"][0]), ["EMA"]);
}

#[tokio::test]
async fn facilities_are_registered_by_admins_and_then_accepted_as_locations() {
    let t = app().await;
    let mut s = scanner(&t).await;
    let batch = json!([ev(ITEM, "EDD", "rsbega", "2026-03-01T11:00:00Z")]);
    let refused = post(&mut s, &batch).await;
    assert_eq!(refused["results"][0]["field"], "location");

    let mut admin = t.logged_in(Role::Admin, None).await;
    let r = admin
        .post_form(
            "/admin/tracking/facilities",
            &[("code", "RSBEGA"), ("name", "Сортирни центар Београд")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = admin
        .post_form(
            "/admin/tracking/facilities",
            &[("code", "11101"), ("name", "Не")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Ову шифру има пошта"));
    let r = admin
        .post_form(
            "/admin/tracking/facilities",
            &[("code", "A B"), ("name", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    admin.set_cookie("eposta_lang", "sr-Latn");
    let list = admin.get("/admin/tracking/facilities").await.text();
    assert!(list.contains("RSBEGA") && list.contains("Sortirni centar Beograd"));

    let stored = post(&mut s, &batch).await;
    assert_eq!(stored["stored"], 1, "{stored}");
    let mut r = reader(&t).await;
    let found = lookup(&mut r, ITEM).await;
    assert_eq!(found["results"][0]["events"][0]["location"], "RSBEGA");
    assert_eq!(
        found["results"][0]["events"][0]["place"],
        "Сортирни центар Београд"
    );

    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    assert_eq!(
        clerk
            .post_form(
                "/admin/tracking/facilities",
                &[("code", "X1"), ("name", "x")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_page_speaks_three_languages_and_shows_office_names_in_the_pages_script() {
    let t = app().await;
    let mut s = scanner(&t).await;
    post(
        &mut s,
        &json!([ev(ITEM, "EMA", "11101", "2026-03-01T11:00:00Z")]),
    )
    .await;
    let path = format!("/track?id={ITEM}");
    let mut c = t.client();
    let cyrillic = c.get(&path).await.text();
    assert!(cyrillic.contains("Праћење пошиљке") && cyrillic.contains("Београд 1 (11101)"));
    assert!(cyrillic.contains("Пошиљка примљена"));
    c.set_cookie("eposta_lang", "sr-Latn");
    let latin = c.get(&path).await.text();
    assert!(latin.contains("Praćenje pošiljke") && latin.contains("Beograd 1 (11101)"));
    assert!(latin.contains("Pošiljka primljena") && !latin.contains("Београд"));
    c.set_cookie("eposta_lang", "en");
    let english = c.get(&path).await.text();
    assert!(english.contains("Track an item") && english.contains("Posted (accepted)"));
    // An empty lookup is just the form.
    let empty = c.get("/track").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.text().contains("<form"));
}
