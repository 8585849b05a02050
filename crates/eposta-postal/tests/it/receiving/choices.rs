//! The recipient's choices: delivery at home or pickup at an office, a redirect to another
//! address, another person to collect; saved and audited; bad input named; refused with 409
//! once the item is out for delivery, and after delivery.

use axum::http::StatusCode;
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::testing::Client;

use super::{app, book, count, ev, prove, scan};

fn tr() -> Tr {
    Tr::new(Lang::SrCyrl)
}

fn address(postal_code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("address_name", "Јелена Јовановић".into()),
        ("address_street", "Булевар ослобођења".into()),
        ("address_number", "30".into()),
        ("address_postal_code", postal_code.into()),
        ("address_place", "Нови Сад".into()),
    ]
}

async fn post(
    c: &mut Client,
    path: &str,
    fields: &[(&str, String)],
) -> eposta_kernel::testing::TestResponse {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.post_form(path, &fields).await
}

async fn choice(t: &eposta_kernel::testing::TestApp, column: &str) -> Option<String> {
    let mut conn = t.app.db.conn().await.expect("conn");
    let sql = format!("SELECT {column} FROM receiving_choices");
    eposta_kernel::db_run!(&mut conn, |c| sqlx::query_scalar::<_, Option<String>>(&sql)
        .fetch_optional(&mut *c)
        .await)
    .expect("choice")
    .flatten()
}

#[tokio::test]
async fn choices_are_saved_shown_and_audited() {
    let t = app().await;
    let number = book(&t, |_| {}).await;
    let mut c = t.client();
    prove(&t, &mut c, &number).await;
    let item = format!("/receive/{number}");

    // Pickup at a post office.
    let r = post(
        &mut c,
        &format!("{item}/delivery"),
        &[("delivery", "pickup".into()), ("office", " 11101 ".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.location(),
        Some(format!("{item}?saved=delivery").as_str())
    );
    let html = c.get(&format!("{item}?saved=delivery")).await.text();
    assert!(html.contains(tr().t("receive.saved.delivery")), "{html}");
    assert!(html.contains("Београд 1 (11101)"), "{html}");
    assert_eq!(choice(&t, "destination").await.as_deref(), Some("pickup"));

    // A redirect to another address replaces it.
    let r = post(&mut c, &format!("{item}/redirect"), &address("21000")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = c.get(&item).await.text();
    assert!(
        html.contains("Булевар ослобођења 30, 21000 Нови Сад"),
        "{html}"
    );
    assert_eq!(choice(&t, "destination").await.as_deref(), Some("address"));
    assert_eq!(
        choice(&t, "address_postal_code").await.as_deref(),
        Some("21000")
    );

    // Back home: the redirect address is forgotten.
    let r = post(
        &mut c,
        &format!("{item}/delivery"),
        &[("delivery", "home".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(choice(&t, "destination").await.as_deref(), Some("home"));
    assert_eq!(choice(&t, "address_postal_code").await, None);

    // Another person collects it, with the last digits of their passport.
    let r = post(
        &mut c,
        &format!("{item}/collector"),
        &[
            ("action", "save".into()),
            ("collector_name", "Марко Марковић".into()),
            ("collector_document", "passport".into()),
            ("collector_digits", "4321".into()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = c.get(&item).await.text();
    assert!(html.contains("Марко Марковић"), "{html}");
    assert!(html.contains("4321"), "{html}");
    assert_eq!(
        choice(&t, "collector_document").await.as_deref(),
        Some("passport")
    );
    assert_eq!(
        choice(&t, "destination").await.as_deref(),
        Some("home"),
        "kept"
    );

    let r = post(
        &mut c,
        &format!("{item}/collector"),
        &[("action", "remove".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(choice(&t, "collector_name").await, None);

    // Every change is audited, without the names and addresses.
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.receiving.destination'"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'postal.receiving.collector%'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%Марко%' OR details LIKE '%4321%' \
             OR details LIKE '%Булевар%' OR details LIKE '%Јелена%'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn bad_postal_codes_unknown_offices_and_bad_collectors_are_named() {
    let t = app().await;
    let number = book(&t, |_| {}).await;
    let mut c = t.client();
    prove(&t, &mut c, &number).await;
    let item = format!("/receive/{number}");

    for bad in ["2100", "210000", "21 00", "абвгд"] {
        let r = post(&mut c, &format!("{item}/redirect"), &address(bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let html = r.text();
        assert!(html.contains(tr().t("booking.rule.postal_code")), "{html}");
        assert!(html.contains("href=\"#address_postal_code\""), "{html}");
        assert!(
            html.contains("Булевар ослобођења"),
            "the input is kept: {html}"
        );
    }
    let r = post(
        &mut c,
        &format!("{item}/delivery"),
        &[("delivery", "pickup".into()), ("office", "99999".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains(tr().t("booking.rule.office")),
        "{}",
        r.text()
    );
    let r = post(
        &mut c,
        &format!("{item}/delivery"),
        &[("delivery", "pickup".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post(&mut c, &format!("{item}/delivery"), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post(
        &mut c,
        &format!("{item}/collector"),
        &[
            ("collector_name", "Марко".into()),
            ("collector_document", "passport".into()),
            ("collector_digits", "123456789".into()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(tr().t("booking.rule.document_digits")));
    assert_eq!(count(&t, "SELECT COUNT(*) FROM receiving_choices").await, 0);
}

#[tokio::test]
async fn redirects_stop_once_the_item_is_out_for_delivery_and_everything_after_delivery() {
    let t = app().await;
    let number = book(&t, |_| {}).await;
    let mut c = t.client();
    prove(&t, &mut c, &number).await;
    let item = format!("/receive/{number}");

    // Accepted and on its way: still allowed.
    scan(
        &t,
        serde_json::json!([
            ev(&number, "EMA", "11101", "2026-03-01T09:00:00Z"),
            ev(&number, "EMG", "21101", "2026-03-01T15:00:00Z"),
        ]),
    )
    .await;
    let r = post(&mut c, &format!("{item}/redirect"), &address("21000")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // Out for delivery: a redirect and a change of office are conflicts that say why.
    scan(
        &t,
        serde_json::json!([ev(&number, "EDG", "21101", "2026-03-02T07:00:00Z")]),
    )
    .await;
    let r = post(&mut c, &format!("{item}/redirect"), &address("11000")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text()
            .contains(tr().t("receive.refused.out_for_delivery")),
        "{}",
        r.text()
    );
    let r = post(
        &mut c,
        &format!("{item}/delivery"),
        &[("delivery", "pickup".into()), ("office", "11101".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        choice(&t, "address_postal_code").await.as_deref(),
        Some("21000")
    );
    // The page says so instead of offering the forms; a collector may still be named.
    let html = c.get(&item).await.text();
    assert!(html.contains("id=\"delivery-closed\""), "{html}");
    assert!(!html.contains("/redirect\""), "{html}");
    let r = post(
        &mut c,
        &format!("{item}/collector"),
        &[("collector_name", "Марко Марковић".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // Delivered: nothing changes any more.
    scan(
        &t,
        serde_json::json!([ev(&number, "EMI", "21101", "2026-03-02T08:30:00Z")]),
    )
    .await;
    let r = post(&mut c, &format!("{item}/redirect"), &address("11000")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text().contains(tr().t("receive.refused.delivered")),
        "{}",
        r.text()
    );
    let r = post(
        &mut c,
        &format!("{item}/collector"),
        &[("action", "remove".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        choice(&t, "collector_name").await.as_deref(),
        Some("Марко Марковић")
    );
}

#[tokio::test]
async fn an_item_waiting_at_an_office_shows_the_office_its_hours_and_the_deadline() {
    let t = app().await;
    // Late in the evening of 2 March, Belgrade time.
    t.clock.advance(chrono::Duration::hours(15));
    let number = book(&t, |_| {}).await;
    let mut c = t.client();
    prove(&t, &mut c, &number).await;
    let item = format!("/receive/{number}");
    assert!(!c.get(&item).await.text().contains("id=\"pickup-deadline\""));
    scan(
        &t,
        serde_json::json!([
            ev(&number, "EMA", "21101", "2026-03-01T09:00:00Z"),
            // 23:30 UTC is already the next day in Belgrade: 15 days from 3 March.
            ev(&number, "EDH", "11101", "2026-03-02T23:30:00Z")
        ]),
    )
    .await;
    let html = c.get(&item).await.text();
    for part in [
        "id=\"pickup-office\">Београд 1, Змај Јовина 17 (11101)",
        super::HOURS,
        "id=\"pickup-deadline\">18.03.2026.",
        "2.500,00 RSD",
        "id=\"delivery-closed\"",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
}
