//! Pickups: the sender asks for a postman to collect a booked item in a window of days, on
//! the item's page or through the API; the office of the sender's postal code sees the open
//! requests and marks items collected.

use axum::body::Body;
use axum::http::Method;
use chrono::{Days, NaiveDate};
use chrono_tz::Europe::Belgrade;
use eposta_kernel::accounts::Role;
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::testing::{Client, TestApp, TestResponse};
use serde_json::json;

use crate::booking::pages::book;
use crate::booking::{api_key, app, citizen, count, shipment};

async fn put_json(c: &mut Client, path: &str, body: &serde_json::Value) -> TestResponse {
    c.send(
        Method::PUT,
        path,
        &[("content-type", "application/json")],
        Body::from(body.to_string()),
    )
    .await
}

async fn delete(c: &mut Client, path: &str) -> TestResponse {
    c.send(Method::DELETE, path, &[], Body::empty()).await
}

fn today(t: &TestApp) -> NaiveDate {
    t.app.now().with_timezone(&Belgrade).date_naive()
}

fn day(t: &TestApp, ahead: u64) -> String {
    (today(t) + Days::new(ahead)).to_string()
}

#[tokio::test]
async fn a_citizen_asks_for_a_pickup_and_the_senders_office_sees_it() {
    let t = app().await;
    t.office("11000", "Београд 6").await;
    t.office("21000", "Нови Сад 1").await;
    let mut c = citizen(&t, "Петар Петровић").await;
    let item = book(&mut c).await;
    let id = item.trim_start_matches("/items/").to_owned();
    let tr = Tr::new(Lang::SrCyrl);

    let page = c.get(&item).await.text();
    assert!(page.contains(r#"id="window_from""#), "the form is offered");

    // Broken windows are named in the page's language and store nothing.
    for (from, to, key) in [
        (day(&t, 0), day(&t, 1), "pickup.error.too_soon"),
        (day(&t, 31), day(&t, 31), "pickup.error.too_late"),
        (day(&t, 3), day(&t, 2), "pickup.error.reversed"),
        (day(&t, 1), day(&t, 8), "pickup.error.too_long"),
    ] {
        let r = c
            .post_form(
                &format!("{item}/pickup"),
                &[("window_from", &from), ("window_to", &to)],
            )
            .await;
        assert_eq!(r.status, 422, "{from}..{to}");
        assert!(r.text().contains(tr.t(key)), "{key}: {}", r.text());
    }
    let r = c
        .post_form(
            &format!("{item}/pickup"),
            &[("window_from", "сутра"), ("window_to", &day(&t, 2))],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains(tr.t("pickup.from")), "{}", r.text());
    assert_eq!(count(&t, "SELECT COUNT(*) FROM pickup_requests").await, 0);

    let (from, to) = (day(&t, 1), day(&t, 3));
    let r = c
        .post_form(
            &format!("{item}/pickup"),
            &[
                ("window_from", &from),
                ("window_to", &to),
                ("note", "Интерфон 12"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page = c.get(&item).await.text();
    assert!(page.contains(r#"id="pickup-open""#), "{page}");
    assert!(page.contains("Интерфон 12"));
    // One open request at a time.
    let again = c
        .post_form(
            &format!("{item}/pickup"),
            &[("window_from", &from), ("window_to", &to)],
        )
        .await;
    assert_eq!(again.status, 422);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM pickup_requests").await, 1);

    // Another citizen cannot touch it.
    let mut other = citizen(&t, "Мика Микић").await;
    let r = other
        .post_form(
            &format!("{item}/pickup"),
            &[("window_from", &from), ("window_to", &to)],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        other
            .post_form(&format!("{item}/pickup/cancel"), &[])
            .await
            .status,
        404
    );

    // The office of the sender's postal code (11000) sees it; another does not.
    let mut clerk = t.logged_in(Role::Clerk, Some("11000")).await;
    let list = clerk.get("/counter/pickups").await.text();
    assert!(list.contains("Интерфон 12") && list.contains(&id), "{list}");
    let mut elsewhere = t.logged_in(Role::Clerk, Some("21000")).await;
    let list = elsewhere.get("/counter/pickups").await.text();
    assert!(list.contains(r#"id="pickups-empty""#), "{list}");
    let r = elsewhere
        .post_form(&format!("/counter/pickups/{id}/collected"), &[])
        .await;
    assert_eq!(r.status, 404);

    let r = clerk
        .post_form(&format!("/counter/pickups/{id}/collected"), &[])
        .await;
    assert_eq!(r.status, 303);
    let list = clerk.get("/counter/pickups").await.text();
    assert!(list.contains(r#"id="pickups-empty""#), "{list}");
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM pickup_requests WHERE status = 'collected'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM audit_log WHERE action IN ('postal.pickup.requested', 'postal.pickup.collected')").await,
        2
    );
}

#[tokio::test]
async fn a_citizen_cancels_and_chooses_another_window() {
    let t = app().await;
    let mut c = citizen(&t, "Петар Петровић").await;
    let item = book(&mut c).await;
    let (from, to) = (day(&t, 2), day(&t, 2));
    let fields = [("window_from", from.as_str()), ("window_to", to.as_str())];
    assert_eq!(
        c.post_form(&format!("{item}/pickup"), &fields).await.status,
        303
    );
    assert_eq!(
        c.post_form(&format!("{item}/pickup/cancel"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        c.post_form(&format!("{item}/pickup/cancel"), &[])
            .await
            .status,
        404,
        "nothing left to cancel"
    );
    assert!(c.get(&item).await.text().contains(r#"id="window_from""#));
    assert_eq!(
        c.post_form(&format!("{item}/pickup"), &fields).await.status,
        303
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM pickup_requests WHERE status = 'requested'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_business_asks_for_and_cancels_pickups_through_the_api() {
    let t = app().await;
    t.office("11101", "Београд 1").await;
    let key = api_key(&t, "Књижара", &["postal:book"]).await;
    let mut api = t.api(&key);
    let r = api.post_json("/api/v1/shipments", &shipment(0), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let tn = r.json()["tracking_number"].as_str().expect("tn").to_owned();
    let code = r.json()["booking_code"].as_str().expect("code").to_owned();
    let path = format!("/api/v1/shipments/{tn}/pickup");
    let window = json!({"window_from": day(&t, 1), "window_to": day(&t, 2), "note": "Рампа 3"});

    let r = put_json(&mut api, &path, &window).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["status"], "requested");
    assert_eq!(r.json()["window_from"], day(&t, 1));
    assert_eq!(put_json(&mut api, &path, &window).await.status, 409);

    let bad = json!({"window_from": day(&t, 1), "window_to": day(&t, 9)});
    let r = put_json(&mut api, &path, &bad).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("window_to"), "{}", r.text());
    let bad = json!({"window_from": "1.12.2026", "window_to": day(&t, 2)});
    assert_eq!(put_json(&mut api, &path, &bad).await.status, 422);

    // Another organisation's key finds no such shipment.
    let other = api_key(&t, "Пекара", &["postal:book"]).await;
    assert_eq!(
        put_json(&mut t.api(&other), &path, &window).await.status,
        404
    );
    assert_eq!(delete(&mut t.api(&other), &path).await.status, 404);

    assert_eq!(delete(&mut api, &path).await.status, 204);
    assert_eq!(delete(&mut api, &path).await.status, 404);

    // Once handed in at the counter, a pickup is no longer needed.
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    let r = crate::counter::accept_at_counter(&mut clerk, &code, "1200").await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = put_json(&mut api, &path, &window).await;
    assert_eq!(r.status, 409, "{}", r.text());
}
