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

/// A clerk looks the item up by its hand-in code and accepts it at the weight given, at the
/// price the page shows; returns the acceptance's answer.
pub async fn accept_at_counter(
    clerk: &mut eposta_kernel::testing::Client,
    code: &str,
    weight_g: &str,
) -> eposta_kernel::testing::TestResponse {
    let page = clerk.get(&format!("/counter/accept?code={code}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let quoted = hidden(&page.text(), "quoted_total");
    // The price follows the weight: a first try at another weight shows the new price.
    let fields = |total: &str| {
        vec![
            ("code", code.to_owned()),
            ("weight_g", weight_g.to_owned()),
            ("payment", "cash".to_owned()),
            ("quoted_total", total.to_owned()),
        ]
    };
    let post = async |clerk: &mut eposta_kernel::testing::Client, total: &str| {
        let f = fields(total);
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        clerk.post_form("/counter/accept", &pairs).await
    };
    let r = post(clerk, &quoted).await;
    if r.status == 200 {
        let total = hidden(&r.text(), "quoted_total");
        return post(clerk, &total).await;
    }
    r
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

/// A letter nobody booked, as the clerk types it in: 20 g, registered.
fn unbooked_letter() -> Vec<(&'static str, &'static str)> {
    vec![
        ("sender_name", "Марија Марић"),
        ("sender_street", "Кнеза Милоша"),
        ("sender_number", "5"),
        ("sender_postal_code", "11000"),
        ("sender_place", "Београд"),
        ("recipient_name", "Зоран Зорић"),
        ("recipient_street", "Обилићев венац"),
        ("recipient_number", "2"),
        ("recipient_postal_code", "18000"),
        ("recipient_place", "Ниш"),
        ("recipient_phone", "063 555 0101"),
        ("product", "registered_letter"),
        ("weight_g", "20"),
    ]
}

#[tokio::test]
async fn a_clerk_takes_an_item_nobody_booked_and_it_is_accepted_and_paid_at_once() {
    let t = app().await;
    t.office("11101", "Београд 1").await;
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    let form = clerk.get("/counter/items/new").await;
    assert_eq!(form.status, 200, "{}", form.text());

    // A bad postal code is named and nothing is booked.
    let mut bad = unbooked_letter();
    bad.retain(|(k, _)| *k != "recipient_postal_code");
    bad.extend([("recipient_postal_code", "1800"), ("action", "quote")]);
    let r = clerk.post_form("/counter/items/new", &bad).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("recipient_postal_code"), "{}", r.text());

    let mut fields = unbooked_letter();
    fields.push(("action", "quote"));
    let quoted = clerk.post_form("/counter/items/new", &fields).await;
    assert_eq!(quoted.status, 200, "{}", quoted.text());
    let html = quoted.text();
    assert!(
        html.contains(r#"name="payment""#),
        "the counter asks how they pay"
    );
    let total = hidden(&html, "quoted_total");
    let key = hidden(&html, "submission");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 0);

    let mut fields = unbooked_letter();
    fields.extend([
        ("action", "confirm"),
        ("quoted_total", &total),
        ("submission", &key),
        ("payment", "card"),
    ]);
    let r = clerk.post_form("/counter/items/new", &fields).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let receipt = r.location().expect("receipt").to_owned();
    // A second click on confirm takes nothing more.
    let again = clerk.post_form("/counter/items/new", &fields).await;
    assert_eq!(again.location(), Some(receipt.as_str()));
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 1);

    let html = clerk.get(&receipt).await.text();
    assert!(html.contains("Картица") && html.contains("20 g"), "{html}");
    let id = receipt.trim_start_matches("/counter/receipts/");
    let label = clerk.get(&format!("/counter/items/{id}/label.pdf")).await;
    assert_eq!(label.status, 200);
    assert!(label.body.starts_with(b"%PDF"));

    assert_eq!(
        count(&t, &format!("SELECT COUNT(*) FROM postal_items WHERE status = 'accepted' AND payment_method = 'card' AND paid_at IS NOT NULL AND accepted_at IS NOT NULL AND booked_by_user IS NULL AND price_minor = {total}")).await,
        1
    );
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM tracking_events e JOIN postal_items i ON i.tracking_number = e.tracking_number WHERE e.code = 'EMA' AND e.location = '11101'").await,
        1
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.accepted'"
        )
        .await,
        1
    );

    // Another office's clerk gets neither the receipt nor the label.
    t.office("21101", "Нови Сад 1").await;
    let mut elsewhere = t.logged_in(Role::Clerk, Some("21101")).await;
    assert_eq!(elsewhere.get(&receipt).await.status, 404);
    assert_eq!(
        elsewhere
            .get(&format!("/counter/items/{id}/label.pdf"))
            .await
            .status,
        404
    );
}
