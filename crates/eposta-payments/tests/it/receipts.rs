//! Receipts of payments: a paid payment's PDF for its owner only (the citizen on the pages,
//! the organisation through the API), none before it is paid, and the signed code in it
//! verifies with the installation's keys and on the public check page.

use eposta_kernel::audit::Actor;
use eposta_kernel::testing::{TestApp, TestResponse};
use eposta_payments::domain::{Event, Owner, PaymentInput};
use eposta_payments::receipt::{PaidBy, ReceiptClaims, ReceiptKeys, find_token, verify};
use eposta_payments::service::{self, Cause, Step};
use eposta_payments::{TransferMatch, complete_by_transfer};
use serde_json::json;

use super::{api_key, app, citizen, citizen_with_id, order};

/// The claims of a receipt PDF, verified with the app's keys.
fn claims_of(t: &TestApp, r: &TestResponse) -> ReceiptClaims {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert!(r.body.starts_with(b"%PDF-"));
    let token = find_token(&r.body).expect("the PDF carries its code");
    let keys = ReceiptKeys::for_app(&t.app).expect("keys");
    verify(&token, keys.verifying_keys()).expect("the code verifies")
}

fn input(method: &str) -> PaymentInput {
    serde_json::from_value(order(method)).expect("order")
}

#[tokio::test]
async fn a_citizen_downloads_the_receipt_of_a_paid_payment_and_it_verifies() {
    let t = app().await;
    let (mut c, user) = citizen_with_id(&t, "Петар Петровић").await;
    let created = service::create(&t.app, Owner::Citizen { user }, &input("card"), None)
        .await
        .expect("create")
        .expect("valid");
    let id = created.payment.id;
    let url = format!("/payments/{id}/receipt.pdf");

    // Pending: no receipt yet, and the page offers none.
    assert_eq!(c.get(&url).await.status, 409);
    let page = c.get(&format!("/payments/{id}")).await.text();
    assert!(!page.contains("id=\"receipt-link\""), "{page}");

    service::apply(
        &t.app,
        id,
        Step::Event(Event::Succeed),
        &Cause::provider("test"),
    )
    .await
    .expect("succeed");
    let page = c.get(&format!("/payments/{id}")).await.text();
    assert!(
        page.contains(&format!("href=\"{url}\" id=\"receipt-link\"")),
        "{page}"
    );
    let list = c.get("/payments").await.text();
    assert!(list.contains(&format!("href=\"{url}\"")), "{list}");

    let r = c.get(&url).await;
    let claims = claims_of(&t, &r);
    assert_eq!(claims.confirmation, created.payment.confirmation_grouped());
    assert_eq!(claims.amount_para, 359_613);
    assert_eq!(claims.fee_para, created.payment.fee_para);
    assert_eq!(claims.paid_by, PaidBy::Card);
    assert_eq!(claims.office, None);
    assert_eq!(claims.payee_account, "845-404849-87");
    assert_eq!(claims.reference, "97 163220000111111111000");
    assert!(
        r.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"))
    );

    // The public check page says it is genuine, to anyone.
    let token = find_token(&r.body).expect("token");
    let mut anyone = t.client();
    let check = anyone
        .post_form("/receipts/verify", &[("token", &token)])
        .await;
    assert_eq!(check.status, 200, "{}", check.text());
    assert!(check.text().contains("class=\"ok\""), "{}", check.text());

    // Another citizen's receipt does not exist for this one.
    let mut other = citizen(&t, "Ана Анић").await;
    assert_eq!(other.get(&url).await.status, 404);
    assert_eq!(
        other
            .get(&format!("/payments/{}/receipt.pdf", uuid::Uuid::new_v4()))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_organisation_gets_the_receipt_of_its_own_paid_payment_through_the_api() {
    let t = app().await;
    let key = api_key(&t, "Shop", &["payments:write"]).await;
    let mut api = t.api(&key);
    let r = api
        .post_json(
            "/api/v1/payments",
            &order("ips"),
            &[("Idempotency-Key", "r-1")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    let id = body["id"].as_str().expect("id").to_owned();
    let url = format!("/api/v1/payments/{id}/receipt");
    let pending = api.get(&url).await;
    assert_eq!(pending.status, 409, "{}", pending.text());
    assert_eq!(pending.json()["error"]["code"], json!("conflict"));

    let reference = body["next_action"]["reference"]
        .as_str()
        .expect("the IPS reference")
        .to_owned();
    let total = body["total"]["minor"].as_i64().expect("total");
    let m = complete_by_transfer(&t.app, &Actor::System, &reference, total, "STMT-R1")
        .await
        .expect("match");
    assert!(matches!(m, TransferMatch::Completed { .. }), "{m:?}");

    let claims = claims_of(&t, &api.get(&url).await);
    assert_eq!(claims.paid_by, PaidBy::Ips);
    assert_eq!(claims.amount_para, 359_613);

    // Another organisation's key: not found; a key without the scope: forbidden.
    let other = api_key(&t, "Other", &["payments:write"]).await;
    assert_eq!(t.api(&other).get(&url).await.status, 404);
    let unscoped = api_key(&t, "Reader", &["tracking:write"]).await;
    assert_eq!(t.api(&unscoped).get(&url).await.status, 403);
}
