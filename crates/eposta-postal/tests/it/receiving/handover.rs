//! Hand-over at the counter: a clerk finds an item waiting at the office, sees the addressee,
//! the named collector and the amount to collect, and hands it over (EMI at the office);
//! refused for items waiting elsewhere, not yet at an office, redirected or delivered, and
//! for a collector nobody named; a repeated confirmation records one EMI.

use axum::http::StatusCode;
use eposta_kernel::accounts::Role;
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::testing::{Client, TestApp, TestResponse};
use serde_json::json;

use super::{EMAIL, app, book, count, ev, outbox_to, prove, scan};

fn tr() -> Tr {
    Tr::new(Lang::SrCyrl)
}

/// An item booked (2.500 dinars to collect), accepted and waiting at `office` since 08:00.
async fn waiting_at(t: &TestApp, office: &str) -> String {
    let number = book(t, |_| {}).await;
    scan(
        t,
        json!([
            ev(&number, "EMA", "11101", "2026-03-01T08:00:00Z"),
            ev(&number, "EDH", office, "2026-03-02T08:00:00Z"),
        ]),
    )
    .await;
    number
}

async fn hand_over(clerk: &mut Client, number: &str, fields: &[(&str, &str)]) -> TestResponse {
    let mut all = vec![("number", number)];
    all.extend_from_slice(fields);
    clerk.post_form("/counter/handover", &all).await
}

const TO_ADDRESSEE: &[(&str, &str)] = &[
    ("collected_by", "addressee"),
    ("document_checked", "yes"),
    ("cod_collected", "yes"),
];

async fn emi(t: &TestApp, number: &str) -> i64 {
    count(
        t,
        &format!(
            "SELECT COUNT(*) FROM tracking_events WHERE tracking_number = '{number}' \
             AND code = 'EMI'"
        ),
    )
    .await
}

async fn name_collector(t: &TestApp, number: &str) {
    let mut c = t.client();
    prove(t, &mut c, number).await;
    let r = c
        .post_form(
            &format!("/receive/{number}/collector"),
            &[
                ("action", "save"),
                ("collector_name", "Марко Марковић"),
                ("collector_document", "passport"),
                ("collector_digits", "4321"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}

#[tokio::test]
async fn the_addressee_collects_the_item_and_it_is_delivered() {
    let t = app().await;
    let number = waiting_at(&t, "11101").await;
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;

    // Typed in lower case and grouped, as a clerk might.
    let grouped = format!(
        "{} {} {} {}",
        &number[..2].to_lowercase(),
        &number[2..5],
        &number[5..8],
        &number[8..].to_lowercase()
    );
    let page = clerk
        .get(&format!(
            "/counter/handover?{}",
            serde_urlencoded::to_string([("number", grouped.as_str())]).expect("query")
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("Купац 0"), "the addressee: {html}");
    assert!(html.contains("2.500,00"), "the COD amount: {html}");
    assert!(html.contains("name=\"cod_collected\""), "{html}");
    assert!(
        html.contains(tr().t("tracking.status.available_for_pickup")),
        "{html}"
    );
    assert!(
        !html.contains("collected-collector"),
        "nobody named: {html}"
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.handover.viewed'"
        )
        .await,
        1,
        "showing the names is audited"
    );

    // Without ticking the COD box: refused, nothing recorded.
    let r = hand_over(
        &mut clerk,
        &number,
        &[("collected_by", "addressee"), ("document_checked", "yes")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains(tr().t("counter.handover.refused.cod")),
        "{}",
        r.text()
    );
    // Without the document checked: refused too.
    let r = hand_over(
        &mut clerk,
        &number,
        &[("collected_by", "addressee"), ("cod_collected", "yes")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(emi(&t, &number).await, 0);

    let r = hand_over(&mut clerk, &grouped, TO_ADDRESSEE).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let done = r.location().expect("back to the screen").to_owned();
    let html = clerk.get(&done).await.text();
    assert!(html.contains(tr().t("counter.handover.done")), "{html}");
    assert_eq!(emi(&t, &number).await, 1);
    assert_eq!(
        count(
            &t,
            &format!(
                "SELECT COUNT(*) FROM tracking_events WHERE tracking_number = '{number}' \
                 AND code = 'EMI' AND location = '11101' AND source = 'counter:11101' \
                 AND flag IS NULL"
            )
        )
        .await,
        1
    );
    let tracked = t.client().get(&format!("/track?id={number}")).await.text();
    assert!(
        tracked.contains(tr().t("tracking.status.delivered")),
        "{tracked}"
    );

    // Audited by the clerk, with who collected it and the cash taken, no names.
    assert_eq!(
        count(
            &t,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.handed_over' \
                 AND actor LIKE 'user:%' AND details LIKE '%\"collected_by\":\"addressee\"%' \
                 AND details LIKE '%\"cod_collected_minor\":250000%' \
                 AND details LIKE '%{number}%'"
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%Купац%'"
        )
        .await,
        0
    );

    // The recipient hears of the delivery, as for any EMI.
    t.run_pending_jobs().await;
    let mail = outbox_to(&t, EMAIL).await;
    let (_, _, last) = mail.last().expect("a notice");
    assert!(last.contains(&number[..2]), "{last}");
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM receiving_notices WHERE status = 'delivered'"
        )
        .await,
        1
    );

    // The same confirmation again (a second click, a resent form): one EMI, a clear refusal.
    let r = hand_over(&mut clerk, &number, TO_ADDRESSEE).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(
        r.text()
            .contains(tr().t("counter.handover.refused.delivered")),
        "{}",
        r.text()
    );
    assert_eq!(emi(&t, &number).await, 1);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.handed_over'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_named_collector_collects_the_item() {
    let t = app().await;
    let number = book(&t, |s| s["options"] = json!({})).await;
    name_collector(&t, &number).await;
    scan(
        &t,
        json!([ev(&number, "EDH", "11101", "2026-03-02T08:00:00Z")]),
    )
    .await;
    let mut clerk = t.logged_in(Role::Manager, Some("11101")).await;
    let html = clerk
        .get(&format!("/counter/handover?number={number}"))
        .await
        .text();
    assert!(html.contains("Марко Марковић"), "{html}");
    assert!(html.contains("4321"), "{html}");
    assert!(html.contains(tr().t("receive.document.passport")), "{html}");
    assert!(html.contains("collected-collector"), "{html}");
    assert!(!html.contains("name=\"cod_collected\""), "no COD: {html}");

    let r = hand_over(
        &mut clerk,
        &number,
        &[("collected_by", "collector"), ("document_checked", "yes")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(emi(&t, &number).await, 1);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.handed_over' \
             AND details LIKE '%\"collected_by\":\"collector\"%' \
             AND details NOT LIKE '%cod_collected_minor%'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%Марко%' OR details LIKE '%4321%'"
        )
        .await,
        0,
        "names and digits stay out of the audit log"
    );
}

#[tokio::test]
async fn a_collector_nobody_named_is_refused() {
    let t = app().await;
    let number = waiting_at(&t, "11101").await;
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    let r = hand_over(
        &mut clerk,
        &number,
        &[
            ("collected_by", "collector"),
            ("document_checked", "yes"),
            ("cod_collected", "yes"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text()
            .contains(tr().t("counter.handover.refused.no_collector")),
        "{}",
        r.text()
    );
    // Neither anything else than the two choices.
    let r = hand_over(
        &mut clerk,
        &number,
        &[("collected_by", "neighbour"), ("document_checked", "yes")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(emi(&t, &number).await, 0);
}

#[tokio::test]
async fn items_not_waiting_here_are_not_handed_over() {
    let t = app().await;
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    let refused = async |clerk: &mut Client, number: &str, key: &'static str| {
        let page = clerk
            .get(&format!("/counter/handover?number={number}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let html = page.text();
        assert!(
            html.contains(tr().t(key).split('{').next().unwrap_or_default()),
            "{key}: {html}"
        );
        assert!(
            !html.contains("name=\"collected_by\""),
            "no hand-over offered: {html}"
        );
        assert!(
            !html.contains("Купац"),
            "no names for another office: {html}"
        );
        let r = hand_over(clerk, number, TO_ADDRESSEE).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{key}: {}", r.text());
    };

    // Waiting at another office: the page names it.
    let elsewhere = waiting_at(&t, "21101").await;
    refused(&mut clerk, &elsewhere, "counter.handover.refused.elsewhere").await;
    let html = clerk
        .get(&format!("/counter/handover?number={elsewhere}"))
        .await
        .text();
    assert!(html.contains("Нови Сад 1 (21101)"), "{html}");

    // Accepted, on its way: not at an office yet.
    let travelling = book(&t, |_| {}).await;
    scan(
        &t,
        json!([ev(&travelling, "EMA", "11101", "2026-03-01T08:00:00Z")]),
    )
    .await;
    refused(
        &mut clerk,
        &travelling,
        "counter.handover.refused.not_waiting",
    )
    .await;

    // Booked only, no events at all.
    let booked = book(&t, |_| {}).await;
    refused(&mut clerk, &booked, "counter.handover.refused.not_waiting").await;

    // Delivered by the postman already.
    let delivered = book(&t, |_| {}).await;
    scan(
        &t,
        json!([
            ev(&delivered, "EMA", "11101", "2026-03-01T08:00:00Z"),
            ev(&delivered, "EMI", "11101", "2026-03-02T08:00:00Z"),
        ]),
    )
    .await;
    refused(&mut clerk, &delivered, "counter.handover.refused.delivered").await;

    // Redirected by the recipient to another address, then scanned here all the same.
    let redirected = book(&t, |_| {}).await;
    let mut c = t.client();
    prove(&t, &mut c, &redirected).await;
    let r = c
        .post_form(
            &format!("/receive/{redirected}/redirect"),
            &[
                ("address_name", "Јелена Јовановић"),
                ("address_street", "Булевар ослобођења"),
                ("address_number", "30"),
                ("address_postal_code", "21000"),
                ("address_place", "Нови Сад"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    scan(
        &t,
        json!([ev(&redirected, "EDH", "11101", "2026-03-02T08:00:00Z")]),
    )
    .await;
    refused(
        &mut clerk,
        &redirected,
        "counter.handover.refused.redirected_address",
    )
    .await;

    // Unknown numbers and text that is no number: a clear page, not an error.
    let r = clerk.get("/counter/handover?number=RA123456785RS").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert!(
        r.text().contains(tr().t("counter.handover.not_found")),
        "{}",
        r.text()
    );
    let r = hand_over(&mut clerk, "RA123456785RS", TO_ADDRESSEE).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = clerk.get("/counter/handover?number=nonsense").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = hand_over(&mut clerk, "nonsense", TO_ADDRESSEE).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM tracking_events WHERE code = 'EMI'"
        )
        .await,
        1,
        "only the postman's"
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'postal.hand%'"
        )
        .await,
        0,
        "no names were shown, nothing was handed over"
    );
}

#[tokio::test]
async fn only_counter_staff_reach_the_hand_over() {
    let t = app().await;
    let number = waiting_at(&t, "11101").await;
    let path = format!("/counter/handover?number={number}");

    let r = t.client().get(&path).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/login?")));
    let mut citizen = t.logged_in(Role::Citizen, None).await;
    assert_eq!(citizen.get(&path).await.status, StatusCode::FORBIDDEN);
    let r = hand_over(&mut citizen, &number, TO_ADDRESSEE).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = hand_over(&mut t.client(), &number, TO_ADDRESSEE).await;
    assert!(
        !r.status.is_success() && r.location().is_none_or(|l| !l.starts_with("/counter/")),
        "{:?} {:?}",
        r.status,
        r.location()
    );
    assert_eq!(emi(&t, &number).await, 0);

    // The counter's home screen links to it.
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    let home = clerk.get("/counter").await.text();
    assert!(home.contains("href=\"/counter/handover\""), "{home}");
}
