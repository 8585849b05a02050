//! Acceptance at the counter: a clerk finds a booked item by its hand-in code, weighs it,
//! confirms the price, takes payment and prints a receipt; the item is then tracked as
//! accepted at that office.

use eposta_kernel::accounts::Role;

use crate::booking::{api_key, app, count, shipment};

/// Books a parcel through the API and returns (tracking number, hand-in code).
async fn booked(t: &eposta_kernel::testing::TestApp) -> (String, String) {
    let key = api_key(t, "Књижара", &["postal:book"]).await;
    let r = t
        .api(&key)
        .post_json("/api/v1/shipments", &shipment(0), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    (
        body["tracking_number"].as_str().expect("tn").to_owned(),
        body["booking_code"].as_str().expect("code").to_owned(),
    )
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_clerk_accepts_weighs_takes_payment_and_the_item_is_tracked_as_accepted() {
    let t = app().await;
    t.office("11101", "Београд 1").await;
    let (tn, code) = booked(&t).await;
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;

    let page = clerk
        .get(&format!("/counter/accept?code={}", code.to_lowercase()))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    let quoted = hidden(&html, "quoted_total");
    assert!(quoted.parse::<i64>().expect("para") > 0);

    // A heavier parcel costs more: the clerk is shown the new price, nothing is accepted.
    let r = clerk
        .post_form(
            "/counter/accept",
            &[
                ("code", &code),
                ("weight_g", "9500"),
                ("payment", "cash"),
                ("quoted_total", &quoted),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let new_total = hidden(&r.text(), "quoted_total");
    assert_ne!(new_total, quoted);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM postal_items WHERE status = 'accepted'"
        )
        .await,
        0
    );

    let r = clerk
        .post_form(
            "/counter/accept",
            &[
                ("code", &code),
                ("weight_g", "9500"),
                ("payment", "card"),
                ("quoted_total", &new_total),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let receipt = r.location().expect("receipt").to_owned();
    let html = clerk.get(&receipt).await.text();
    assert!(html.contains("9500 g"), "{html}");
    assert!(html.contains("Картица"), "{html}");

    // Accepted once only; tracked as accepted at the clerk's office, with the EMA event.
    let again = clerk
        .post_form(
            "/counter/accept",
            &[
                ("code", &code),
                ("weight_g", "9500"),
                ("payment", "cash"),
                ("quoted_total", &new_total),
            ],
        )
        .await;
    assert_eq!(again.status, 422);
    assert_eq!(
        count(&t, &format!("SELECT COUNT(*) FROM tracking_events WHERE tracking_number = '{tn}' AND code = 'EMA' AND location = '11101'")).await,
        1
    );
    let tracked = t.client().get(&format!("/track?id={tn}")).await.text();
    assert!(tracked.contains("Београд 1"), "{tracked}");
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM postal_items WHERE status = 'accepted' AND payment_method = 'card' AND weight_g = 9500").await,
        1
    );

    // The receipt belongs to the office that accepted the item.
    t.office("21101", "Нови Сад 1").await;
    let mut elsewhere = t.logged_in(Role::Clerk, Some("21101")).await;
    assert_eq!(elsewhere.get(&receipt).await.status, 404);
}

#[tokio::test]
async fn unknown_codes_and_bad_weights_are_named_and_change_nothing() {
    let t = app().await;
    t.office("11101", "Београд 1").await;
    let (_, code) = booked(&t).await;
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    let r = clerk.get("/counter/accept?code=ZZZZ-ZZZZ").await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("Нема пошиљке са тим кодом"),
        "{}",
        r.text()
    );
    for weight in ["", "0", "-5", "тешко"] {
        let r = clerk
            .post_form(
                "/counter/accept",
                &[
                    ("code", &code),
                    ("weight_g", weight),
                    ("payment", "cash"),
                    ("quoted_total", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{weight}: {}", r.text());
    }
    let r = clerk
        .post_form(
            "/counter/accept",
            &[
                ("code", &code),
                ("weight_g", "100"),
                ("payment", "cheque"),
                ("quoted_total", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM postal_items WHERE status = 'accepted'"
        )
        .await,
        0
    );
}
