//! Notices to recipients: queued once per status change (accepted, out for delivery, waiting
//! at an office, delivered), with the office, its hours, the pickup deadline and the COD
//! amount; nothing for late old events, repeated statuses, or items not booked here.

use eposta_kernel::accounts::Role;
use eposta_kernel::db_run;
use eposta_kernel::jobs::Job;
use eposta_postal::receiving::notices::SendNotices;
use serde_json::json;

use super::{EMAIL, HOURS, PHONE, app, book, count, ev, outbox_to, scan};

/// The e-mails and SMS sent to the recipient so far, after running the jobs.
async fn sent(t: &eposta_kernel::testing::TestApp) -> (Vec<String>, Vec<String>) {
    t.run_pending_jobs().await;
    let mail = outbox_to(t, EMAIL).await;
    let sms = outbox_to(t, PHONE).await;
    (
        mail.into_iter()
            .map(|(_, s, b)| format!("{s}\n{b}"))
            .collect(),
        sms.into_iter().map(|(_, _, b)| b).collect(),
    )
}

#[tokio::test]
async fn each_status_change_sends_one_notice_with_office_hours_deadline_and_cod() {
    let t = app().await;
    let number = book(&t, |_| {}).await;

    // Accepted: one e-mail; no SMS, as the booking did not buy the SMS notice.
    scan(
        &t,
        json!([ev(&number, "EMA", "11101", "2026-03-01T08:00:00Z")]),
    )
    .await;
    let (mail, sms) = sent(&t).await;
    assert_eq!((mail.len(), sms.len()), (1, 0), "{mail:?}");
    let grouped = eposta_formats::s10::S10::parse(&number)
        .expect("valid")
        .id
        .grouped();
    assert!(mail[0].contains(&grouped), "{}", mail[0]);
    assert!(mail[0].contains("2.500,00 RSD"), "{}", mail[0]);
    assert!(
        mail[0].contains(&format!("/receive?id={number}")),
        "{}",
        mail[0]
    );

    // The same event again, and an event of another status: nothing.
    scan(
        &t,
        json!([
            ev(&number, "EMA", "11101", "2026-03-01T08:00:00Z"),
            ev(&number, "EMC", "11101", "2026-03-01T12:00:00Z"),
        ]),
    )
    .await;
    assert_eq!(sent(&t).await.0.len(), 1);

    // Waiting at the office: by e-mail and by SMS (the electronic notice slip), with the
    // office, its hours, the deadline (15 days by default) and the COD amount.
    scan(
        &t,
        json!([ev(&number, "EDH", "11101", "2026-03-02T08:00:00Z")]),
    )
    .await;
    let (mail, sms) = sent(&t).await;
    assert_eq!((mail.len(), sms.len()), (2, 1), "{mail:?} {sms:?}");
    for text in [&mail[1], &sms[0]] {
        for part in [
            "Београд 1, Змај Јовина 17",
            HOURS,
            "17.03.2026.",
            "2.500,00 RSD",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    // The same status again (a second scan at the office): no second notice.
    scan(
        &t,
        json!([ev(&number, "EDH", "11101", "2026-03-02T08:30:00Z")]),
    )
    .await;
    assert_eq!(sent(&t).await.0.len(), 2);

    // Delivered: one more; then an older delivery and an older "out for delivery" arrive
    // late: nothing, and nothing twice.
    scan(
        &t,
        json!([ev(&number, "EMI", "11101", "2026-03-02T08:45:00Z")]),
    )
    .await;
    let (mail, _) = sent(&t).await;
    assert_eq!(mail.len(), 3);
    assert!(!mail[2].contains("2.500,00"), "paid by now: {}", mail[2]);
    scan(
        &t,
        json!([
            ev(&number, "EMI", "11101", "2026-03-02T08:40:00Z"),
            ev(&number, "EDG", "11101", "2026-03-02T07:00:00Z"),
        ]),
    )
    .await;
    assert_eq!(sent(&t).await.0.len(), 3);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM receiving_notices").await, 3);
}

#[tokio::test]
async fn sms_with_the_option_the_newest_of_a_batch_and_nothing_for_items_booked_elsewhere() {
    let t = app_with_days(7).await;
    let number = book(&t, |s| {
        s["options"] = json!({"sms_notice": true});
    })
    .await;
    // Inbound mail booked elsewhere: no one to tell.
    let foreign = "EE876543216CA";
    scan(
        &t,
        json!([
            ev(foreign, "EMA", "11101", "2026-03-01T08:00:00Z"),
            ev(foreign, "EDG", "11101", "2026-03-01T09:00:00Z"),
        ]),
    )
    .await;
    assert_eq!(count(&t, "SELECT COUNT(*) FROM receiving_notices").await, 0);

    // One batch from acceptance to "out for delivery": only the newest is news, by e-mail
    // and (the option) by SMS, with no pickup lines.
    scan(
        &t,
        json!([
            ev(&number, "EDG", "21101", "2026-03-02T07:00:00Z"),
            ev(&number, "EMA", "11101", "2026-03-01T08:00:00Z"),
            ev(&number, "EMG", "21101", "2026-03-01T20:00:00Z"),
        ]),
    )
    .await;
    let (mail, sms) = sent(&t).await;
    assert_eq!((mail.len(), sms.len()), (1, 1), "{mail:?}");
    assert!(!sms[0].contains(HOURS), "{}", sms[0]);

    // A batch whose newest event is not news: nothing.
    scan(
        &t,
        json!([
            ev(&number, "EDH", "21101", "2026-03-02T08:00:00Z"),
            ev(&number, "EMH", "21101", "2026-03-02T08:10:00Z")
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("reason_code".into(), json!("01"));
                    o.insert("action_code".into(), json!("B"));
                    json!(o)
                })
                .unwrap_or_default(),
        ]),
    )
    .await;
    let (mail, _) = sent(&t).await;
    assert_eq!(mail.len(), 1, "{mail:?}");

    // Waiting at an office without recorded hours: the deadline follows the setting.
    let other = book(&t, |_| {}).await;
    scan(
        &t,
        json!([ev(&other, "EDH", "21101", "2026-03-02T08:00:00Z")]),
    )
    .await;
    let (mail, _) = sent(&t).await;
    let last = mail.last().expect("notice");
    assert!(last.contains("Нови Сад 1"), "{last}");
    assert!(last.contains("09.03.2026."), "{last}");
}

async fn app_with_days(days: u32) -> eposta_kernel::testing::TestApp {
    super::app_with(|c| c.postal_pickup_days = days).await
}

#[tokio::test]
async fn acceptance_at_the_counter_sends_the_notice_and_a_repeated_job_sends_nothing_more() {
    let t = app().await;
    let key = crate::booking::api_key(&t, "Књижара", &["postal:book"]).await;
    let r = t
        .api(&key)
        .post_json("/api/v1/shipments", &crate::booking::shipment(0), &[])
        .await;
    let code = r.json()["booking_code"].as_str().expect("code").to_owned();
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    let page = clerk
        .get(&format!("/counter/accept?code={code}"))
        .await
        .text();
    let marker = "name=\"quoted_total\" value=\"";
    let quoted: String = page[page.find(marker).expect("quoted total") + marker.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = clerk
        .post_form(
            "/counter/accept",
            &[
                ("code", &code),
                ("weight_g", "1200"),
                ("payment", "cash"),
                ("quoted_total", &quoted),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(sent(&t).await.0.len(), 1);

    // The job may run again (a worker died after sending): it claims nothing the second time.
    let ids: Vec<i64> = {
        let mut conn = t.app.db.conn().await.expect("conn");
        db_run!(&mut conn, |c| sqlx::query_scalar(
            "SELECT id FROM receiving_notices"
        )
        .fetch_all(&mut *c)
        .await)
        .expect("ids")
    };
    assert_eq!(ids.len(), 1);
    SendNotices { ids }.run(t.app.clone()).await.expect("run");
    assert_eq!(outbox_to(&t, EMAIL).await.len(), 1);
}
