//! Posting events: what is kept, what is refused and why, flags and who sees them, scopes,
//! the counter's acceptance, facilities.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use eposta_kernel::accounts::Role;
use eposta_kernel::db_run;
use eposta_postal::tracking::codes::{self, REQUIRED_EVENTS};
use eposta_postal::tracking::service;
use serde_json::{Value, json};

use super::{ITEM, OTHER, app, codes_of, count_events, ev, lookup, post, reader, scanner};

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
        service::record_acceptance(
            &t.app,
            &mut tx,
            "ra 123 456 785 rs",
            "11101",
            at,
            "counter:11101"
        )
        .await
        .expect("stored")
    );
    assert!(
        !service::record_acceptance(&t.app, &mut tx, ITEM, "11101", at, "counter:11101")
            .await
            .expect("duplicate")
    );
    assert!(matches!(
        service::record_acceptance(&t.app, &mut tx, ITEM, "99999", at, "counter:99999").await,
        Err(eposta_kernel::Error::Invalid { field, .. }) if field == "office"
    ));
    assert!(matches!(
        service::record_acceptance(&t.app, &mut tx, "RA123456784RS", "11101", at, "counter:11101").await,
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
    // Lookups remember place names; a rename shows at once all the same.
    let r = admin
        .post_form(
            "/admin/tracking/facilities",
            &[("code", "RSBEGA"), ("name", "Измена Београд")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let found = lookup(&mut reader(&t).await, ITEM).await;
    assert_eq!(found["results"][0]["events"][0]["place"], "Измена Београд");

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
