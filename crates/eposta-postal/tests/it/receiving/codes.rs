//! Proving one is the recipient: a one-time code to the contacts on the item, shown masked;
//! wrong, expired and exhausted codes; throttled requests; the same answers for numbers that
//! are not booked here.

use axum::http::StatusCode;
use chrono::Duration;
use eposta_kernel::i18n::{Lang, Tr};

use super::{EMAIL, PHONE, app, app_with, ask_code, book, code_in, count, last_code, outbox_to};

fn tr() -> Tr {
    Tr::new(Lang::SrCyrl)
}

/// An S10 number that is valid and booked nowhere (no product has the indicator RZ).
fn unknown() -> String {
    eposta_formats::s10::S10::new("RZ", 4242, "RS")
        .expect("valid")
        .as_str()
        .to_owned()
}

#[tokio::test]
async fn a_code_goes_to_the_masked_contacts_and_opens_that_item_only() {
    let t = app().await;
    let number = book(&t, |_| {}).await;
    let other = book(&t, |_| {}).await;
    let mut c = t.client();

    let page = c.get(&format!("/receive?id={number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&number), "the number is filled in");

    // Typed as people type it: grouped, lower case.
    let grouped = eposta_formats::s10::S10::parse(&number)
        .expect("valid")
        .id
        .grouped()
        .to_lowercase();
    let r = ask_code(&t, &mut c, &grouped).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("k•••@example.rs"), "{html}");
    assert!(html.contains("+381•••••••67"), "{html}");
    assert!(!html.contains(EMAIL) && !html.contains(PHONE), "{html}");

    // The same code by e-mail and by SMS, in the outbox.
    let mail = outbox_to(&t, EMAIL).await;
    let sms = outbox_to(&t, PHONE).await;
    assert_eq!((mail.len(), sms.len()), (1, 1));
    assert_eq!(mail[0].0, "email");
    assert_eq!(sms[0].0, "sms");
    let code = code_in(&mail[0].2);
    assert_eq!(code_in(&sms[0].2), code);
    assert!(
        mail[0].2.contains(&format!("/receive?id={number}")),
        "{}",
        mail[0].2
    );

    // A wrong code first, then the right one.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = c
        .post_form("/receive/code", &[("id", &number), ("code", wrong)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains(tr().t("receive.code.wrong")),
        "{}",
        r.text()
    );
    let r = c
        .post_form("/receive/code", &[("id", &number), ("code", "12 34")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(tr().t("receive.code.malformed")));
    let r = c
        .post_form("/receive/code", &[("id", &number), ("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), Some(format!("/receive/{number}").as_str()));
    assert!(c.cookie("eposta_receive").is_some());
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.receiving.proven'"
        )
        .await,
        1
    );

    let page = c.get(&format!("/receive/{number}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("2.500,00 RSD"), "the COD amount: {html}");
    assert!(
        html.contains(tr().t("tracking.status.pre_transit")),
        "{html}"
    );

    // The code is used up; the session opens this item, not another.
    let again = t
        .client()
        .post_form("/receive/code", &[("id", &number), ("code", &code)])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c.get(&format!("/receive/{other}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some(format!("/receive?id={other}").as_str()));
    // Someone without the session is sent to prove it.
    let r = t.client().get(&format!("/receive/{number}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some(format!("/receive?id={number}").as_str()));

    // The session is short-lived.
    t.clock.advance(Duration::minutes(31));
    let r = c.get(&format!("/receive/{number}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn expired_codes_and_too_many_wrong_tries_are_refused() {
    let t = app().await;
    let number = book(&t, |_| {}).await;
    let mut c = t.client();

    ask_code(&t, &mut c, &number).await;
    let code = last_code(&t, EMAIL).await;
    t.clock.advance(Duration::minutes(16));
    let r = c
        .post_form("/receive/code", &[("id", &number), ("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains(tr().t("receive.code.expired")),
        "{}",
        r.text()
    );

    ask_code(&t, &mut c, &number).await;
    let code = last_code(&t, EMAIL).await;
    let wrong = if code == "999999" { "888888" } else { "999999" };
    for i in 1..=4 {
        let r = c
            .post_form("/receive/code", &[("id", &number), ("code", wrong)])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "try {i}");
    }
    let r = c
        .post_form("/receive/code", &[("id", &number), ("code", wrong)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().contains(tr().t("receive.code.too_many")));
    // Even the right code no longer works.
    let r = c
        .post_form("/receive/code", &[("id", &number), ("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(c.cookie("eposta_receive").is_none());

    // A new code works again.
    ask_code(&t, &mut c, &number).await;
    let code = last_code(&t, EMAIL).await;
    let r = c
        .post_form("/receive/code", &[("id", &number), ("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}

#[tokio::test]
async fn numbers_not_booked_here_answer_like_booked_ones() {
    let t = app().await;
    let number = book(&t, |s| {
        s["recipient"]["email"] = serde_json::Value::Null;
        s["recipient"]["phone"] = serde_json::Value::Null;
        s["product"] = "letter".into();
        s["weight_g"] = 20.into();
        s["options"] = serde_json::json!({});
    })
    .await;
    let before = count(&t, "SELECT COUNT(*) FROM outbox").await;
    let unknown = unknown();
    for n in [unknown.as_str(), number.as_str()] {
        let mut c = t.client();
        let r = ask_code(&t, &mut c, n).await;
        assert_eq!(r.status, StatusCode::OK, "{n}");
        assert!(r.text().contains(tr().t("receive.code.sent_if_any")), "{n}");
        let wrong = c
            .post_form("/receive/code", &[("id", n), ("code", "123456")])
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{n}");
        assert!(wrong.text().contains(tr().t("receive.code.wrong")), "{n}");
        // And the item stays closed.
        assert_eq!(
            c.get(&format!("/receive/{n}")).await.status,
            StatusCode::SEE_OTHER
        );
    }
    // No contact, no message.
    assert_eq!(count(&t, "SELECT COUNT(*) FROM outbox").await, before);

    // A malformed number is named.
    let r = t.client().post_form("/receive", &[("id", "RA123")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(tr().t("receive.invalid_number")));
}

#[tokio::test]
async fn code_requests_are_throttled_per_item_and_per_client_alike_for_every_number() {
    let t = app_with(|c| c.trust_forwarded_for = true).await;
    let number = book(&t, |_| {}).await;
    let unknown = unknown();
    for n in [number.as_str(), unknown.as_str()] {
        // From different addresses: the limit is the number's.
        for i in 0..3 {
            let mut c = t.client();
            let csrf = c.csrf().await;
            let r = c
                .send(
                    axum::http::Method::POST,
                    "/receive",
                    &[
                        ("content-type", "application/x-www-form-urlencoded"),
                        ("x-forwarded-for", &format!("192.0.2.{i}")),
                    ],
                    axum::body::Body::from(format!("csrf={csrf}&id={n}")),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{n} #{i}");
        }
        let r = ask_code(&t, &mut t.client(), n).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{n}");
        assert!(r.text().contains(tr().t("receive.throttled")));
        assert_eq!(
            r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("3600")
        );
    }
    assert_eq!(outbox_to(&t, EMAIL).await.len(), 3);

    // One client may ask for ten codes an hour, whatever the numbers.
    t.clock.advance(Duration::minutes(61));
    let mut c = t.client();
    for serial in 0..10u32 {
        let n = eposta_formats::s10::S10::new("RB", 1000 + serial, "RS").expect("valid");
        let r = ask_code(&t, &mut c, n.as_str()).await;
        assert_eq!(r.status, StatusCode::OK, "{serial}");
    }
    let r = ask_code(&t, &mut c, &number).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    t.clock.advance(Duration::minutes(61));
    let r = ask_code(&t, &mut c, &number).await;
    assert_eq!(r.status, StatusCode::OK);
}
