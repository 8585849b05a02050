//! Looking items up: event-time order, per-id answers, the 20-id limit, no personal data,
//! three languages.

use axum::http::StatusCode;
use eposta_kernel::db_run;
use eposta_kernel::testing::TestApp;
use serde_json::json;

use super::{ITEM, OTHER, app, codes_of, ev, lookup, post, reader, scanner};

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

/// One event as `tracking_events` holds it and as its item's summary gives it back.
type Stored = (
    String,
    String,
    String,
    chrono::DateTime<chrono::Utc>,
    Option<String>,
    Option<String>,
);

/// Every item's events as the record holds them, in the order they were stored.
async fn recorded(t: &TestApp, number: &str) -> Vec<Stored> {
    let mut c = t.app.db.conn().await.expect("conn");
    db_run!(&mut c, |c| sqlx::query_as::<_, Stored>(
        "SELECT code, status, location, event_time, reason_code, action_code \
         FROM tracking_events WHERE tracking_number = $1 ORDER BY id"
    )
    .bind(number)
    .fetch_all(&mut *c)
    .await)
    .expect("events")
}

/// The item's summary row, parsed, in its order.
async fn summarised(t: &TestApp, number: &str) -> Vec<Stored> {
    let mut c = t.app.db.conn().await.expect("conn");
    let text: String = db_run!(&mut c, |c| sqlx::query_scalar(
        "SELECT events FROM tracking_summaries WHERE tracking_number = $1"
    )
    .bind(number)
    .fetch_one(&mut *c)
    .await)
    .expect("a summary row");
    eposta_postal::tracking::summary::parse(number, &text)
        .expect("parses")
        .into_iter()
        .map(|l| {
            (
                l.code.to_owned(),
                l.status.to_owned(),
                l.location.to_owned(),
                l.event_time,
                l.reason_code.map(str::to_owned),
                l.action_code.map(str::to_owned),
            )
        })
        .collect()
}

/// Lookups read each item's summary row (migration 0014), not its events: whatever way
/// events arrive (batches with duplicates, out of order, a failed delivery's reason and
/// action, the counter's acceptance), the row says exactly what the record says; and the
/// migration's copy of events stored before it existed says the same.
#[tokio::test]
async fn each_items_summary_says_what_its_events_say_and_the_migration_copies_it_alike() {
    let t = app().await;
    let mut s = scanner(&t).await;
    let mut failed = ev(ITEM, "EMH", "21000", "2026-03-01T13:00:00.250Z");
    failed["reason_code"] = json!("01");
    failed["action_code"] = json!("B");
    let first = post(
        &mut s,
        &json!([
            ev(ITEM, "EDG", "21000", "2026-03-01T12:00:00Z"),
            ev(OTHER, "EMA", "11101", "2026-03-01T08:00:00Z"),
            ev(ITEM, "EMA", "11101", "2026-03-01T08:00:00Z"),
            failed,
        ]),
    )
    .await;
    assert_eq!(first["stored"], 4, "{first}");
    let again = post(
        &mut s,
        &json!([
            ev(ITEM, "EMA", "11101", "2026-03-01T08:00:00Z"),
            ev(ITEM, "EMI", "21000", "2026-03-01T15:30:00Z"),
            ev(OTHER, "EMA", "11101", "2026-03-01T08:00:00Z"),
        ]),
    )
    .await;
    assert_eq!(again["stored"], 1, "{again}");
    assert_eq!(again["duplicates"], 2, "{again}");
    // The counter's acceptance goes through the other way of storing an event.
    let third = "CA000000005RS";
    let mut tx = t.app.db.begin().await.expect("tx");
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00+01:00")
        .expect("time")
        .to_utc();
    assert!(
        eposta_postal::tracking::service::record_acceptance(
            &t.app,
            &mut tx,
            third,
            "11101",
            at,
            "counter:11101"
        )
        .await
        .expect("accepted")
    );
    tx.commit().await.expect("commit");

    let items = [ITEM, OTHER, third];
    let mut before = Vec::new();
    for number in items {
        let events = recorded(&t, number).await;
        assert!(!events.is_empty(), "{number}");
        assert_eq!(summarised(&t, number).await, events, "{number}");
        before.push(events);
    }
    assert_eq!(before[0].len(), 4, "the duplicate is in neither");
    assert_eq!(
        codes_of(&lookup(&mut reader(&t).await, ITEM).await["results"][0]),
        ["EMA", "EDG", "EMH", "EMI"]
    );

    // The migration's copy, as it ran over events stored before the table existed.
    let migration: &str = match t.app.db.backend() {
        eposta_kernel::db::Backend::Sqlite => {
            include_str!("../../../../../migrations/sqlite/0014_tracking_summaries.sql")
        }
        eposta_kernel::db::Backend::Postgres => {
            include_str!("../../../../../migrations/postgres/0014_tracking_summaries.sql")
        }
    };
    let copy = &migration[migration
        .find("INSERT INTO tracking_summaries")
        .expect("the migration copies the events")..];
    let mut c = t.app.db.conn().await.expect("conn");
    db_run!(&mut c, |c| sqlx::query("DELETE FROM tracking_summaries")
        .execute(&mut *c)
        .await
        .map(|_| ()))
    .expect("emptied");
    db_run!(&mut c, |c| sqlx::raw_sql(copy)
        .execute(&mut *c)
        .await
        .map(|_| ()))
    .expect("copied");
    drop(c);
    for (number, events) in items.into_iter().zip(before) {
        assert_eq!(summarised(&t, number).await, events, "{number}, copied");
    }
}
