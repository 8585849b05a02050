//! The payments API: creating (IPS and card), validation naming every field, the required
//! Idempotency-Key with 100 concurrent identical requests, reading, scopes and ownership.

use std::collections::BTreeSet;

use eposta_formats::ips::{IpsQr, Kind};
use eposta_formats::reference::Model;
use eposta_kernel::testing::TestApp;
use eposta_payments::service;
use serde_json::{Value, json};

use super::{api_key, app, count, exec, order, path_of};

const KEY: &str = "Idempotency-Key";

async fn created_ips(t: &TestApp, token: &str) -> Value {
    let mut c = t.api(token);
    let r = c
        .post_json("/api/v1/payments", &order("ips"), &[(KEY, "ips-1")])
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn an_ips_payment_answers_with_its_qr_code_for_the_total() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let p = created_ips(&t, &token).await;
    assert_eq!(p["state"], "pending");
    assert_eq!(p["method"], "ips");
    assert_eq!(p["channel"], "api");
    assert_eq!(p["amount"]["minor"], 359_613);
    // The example schedule: IPS up to 20,000.00 RSD costs 20.00.
    assert_eq!(p["fee"]["minor"], 2_000);
    assert_eq!(p["total"]["minor"], 361_613);
    assert_eq!(p["payee"]["account"], "845-404849-87");
    assert_eq!(p["reference"], "97 163220000111111111000");
    assert_eq!(p["confirmation_number"].as_str().map(str::len), Some(14));
    let next = &p["next_action"];
    assert_eq!(next["type"], "ips_qr");
    let qr = IpsQr::parse(next["ips_qr"].as_str().expect("qr")).expect("a valid IPS QR code");
    assert_eq!(qr.kind(), Kind::Pt);
    assert_eq!(qr.amount_para(), 361_613);
    assert_eq!(qr.payee_account().dashed(), "200-123456789-02");
    assert_eq!(qr.mcc(), Some("9402"));
    // The bill's code 189 (cash) becomes its non-cash twin.
    assert_eq!(qr.payment_code().map(|c| c.number()), Some(289));
    let reference = qr.reference().expect("RO");
    assert_eq!(reference.model(), Model::M97);
    assert_eq!(next["reference"], reference.to_string());
    assert!(
        !next["ips_qr"].as_str().unwrap_or("").contains("Петар"),
        "no personal data in the code"
    );
    // The images, with the same key.
    let mut c = t.api(&token);
    let png = c
        .get(&path_of(next["qr_png_url"].as_str().expect("png")))
        .await;
    assert_eq!(png.status, 200);
    assert_eq!(png.headers["content-type"], "image/png");
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    let svg = c
        .get(&path_of(next["qr_svg_url"].as_str().expect("svg")))
        .await;
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    assert!(svg.text().contains("<svg"));
    // Read back.
    let id = p["id"].as_str().expect("id");
    let r = c.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["confirmation_number"], p["confirmation_number"]);
    // History: created, then pending, by the key.
    let events = count(&t, "SELECT COUNT(*) FROM payment_events").await;
    assert_eq!(events, 2);
}

#[tokio::test]
async fn every_invalid_field_is_named_and_nothing_is_created() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let mut c = t.api(&token);
    let body = json!({
        "payer": {"name": ""},
        "payee": {"name": "EPS", "account": "845-0000000142849-68"},
        "purpose": "x".repeat(36),
        "payment_code": "389",
        "amount": {"minor": -5, "currency": "RSD"},
        "reference": "97 20-123456",
        "method": "card",
    });
    let r = c
        .post_json("/api/v1/payments", &body, &[(KEY, "bad-1")])
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let e = r.json();
    assert_eq!(e["error"]["code"], "invalid");
    let fields: Vec<&str> = e["error"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|x| x["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "payer.name",
            "payee.account",
            "purpose",
            "payment_code",
            "amount",
            "reference",
            "return_url"
        ]
    );
    // Over the card's most (the example's 500,000.00 RSD), named as the amount.
    let mut over = order("card");
    over["amount"]["minor"] = json!(50_000_001);
    let r = c
        .post_json("/api/v1/payments", &over, &[(KEY, "bad-2")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "amount");
    // Not JSON of the right shape: the field is named.
    let mut shape = order("ips");
    shape["amount"] = json!("3596,13");
    let r = c
        .post_json("/api/v1/payments", &shape, &[(KEY, "bad-3")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "amount");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 0);
}

#[tokio::test]
async fn the_idempotency_key_is_required_and_binds_the_body() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let mut c = t.api(&token);
    let r = c.post_json("/api/v1/payments", &order("ips"), &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["field"], KEY);
    let first = c
        .post_json("/api/v1/payments", &order("ips"), &[(KEY, "k-1")])
        .await;
    assert_eq!(first.status, 201);
    let again = c
        .post_json("/api/v1/payments", &order("ips"), &[(KEY, "k-1")])
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    // The answer was stored with the payment, in the same statement: the retry gets it
    // byte for byte.
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["content-type"], "application/json");
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM idempotency_keys WHERE status = 201"
        )
        .await,
        1
    );
    let mut other = order("ips");
    other["amount"]["minor"] = json!(100);
    let r = c
        .post_json("/api/v1/payments", &other, &[(KEY, "k-1")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["code"], "idempotency_key_reused");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 1);
    // The stored answer is lost (the process died after the payment was committed, or a day
    // went by): the retry finds the payment instead of making a second one...
    exec(&t, "DELETE FROM idempotency_keys").await;
    let retry = c
        .post_json("/api/v1/payments", &order("ips"), &[(KEY, "k-1")])
        .await;
    assert_eq!(retry.status, 201, "{}", retry.text());
    assert_eq!(retry.json()["id"], first.json()["id"]);
    // ...and the key still cannot buy something else.
    exec(&t, "DELETE FROM idempotency_keys").await;
    let r = c
        .post_json("/api/v1/payments", &other, &[(KEY, "k-1")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], KEY);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 1);
    // Keys are the caller's own: another organisation may use the same one.
    let other_org = api_key(&t, "Other", &["payments:write"]).await;
    let r = t
        .api(&other_org)
        .post_json("/api/v1/payments", &order("ips"), &[(KEY, "k-1")])
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 2);
}

/// Sends 100 identical requests at once and retries those told "in progress" (409), as a
/// client would; exactly one payment exists, and every answer names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_identical_requests_make_exactly_one_payment() {
    for method in ["ips", "card"] {
        let t = app().await;
        let token = api_key(&t, "Shop", &["payments:write"]).await;
        let body = order(method);
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let mut c = t.api(&token);
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                let mut conflicts = 0;
                loop {
                    let r = c
                        .post_json("/api/v1/payments", &body, &[(KEY, "same-key")])
                        .await;
                    if r.status == 409 {
                        conflicts += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                    assert_eq!(r.status, 201, "{}", r.text());
                    return (r.json()["id"].as_str().map(str::to_owned), conflicts);
                }
            }));
        }
        let mut ids = BTreeSet::new();
        let mut in_progress = 0;
        for task in tasks {
            let (id, conflicts) = task.await.expect("task");
            ids.insert(id.expect("id"));
            in_progress += conflicts;
        }
        assert_eq!(ids.len(), 1, "{method}: every answer names the one payment");
        assert_eq!(
            count(&t, "SELECT COUNT(*) FROM payments").await,
            1,
            "{method}"
        );
        assert_eq!(
            count(&t, "SELECT COUNT(*) FROM payment_events").await,
            2,
            "{method}"
        );
        eprintln!("{method}: 100 requests, {in_progress} answers of 409 in progress, 1 payment");
    }
}

#[tokio::test]
async fn payments_are_the_organisations_own_and_need_the_scope() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let p = created_ips(&t, &token).await;
    let id = p["id"].as_str().expect("id");
    let other = api_key(&t, "Other", &["payments:write"]).await;
    let r = t.api(&other).get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(r.status, 404);
    let r = t
        .api(&other)
        .get(&format!("/api/v1/payments/{id}/ips-qr.png"))
        .await;
    assert_eq!(r.status, 404);
    let unscoped = api_key(&t, "Tracker", &["postal:track"]).await;
    let r = t
        .api(&unscoped)
        .post_json("/api/v1/payments", &order("ips"), &[(KEY, "x")])
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn every_state_change_reaches_the_audit_log_once_without_personal_data() {
    let t = app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let p = created_ips(&t, &token).await;
    let payment_rows = |rows: &[eposta_kernel::audit::Row]| {
        rows.iter()
            .filter(|r| r.action.starts_with("payment."))
            .cloned()
            .collect::<Vec<_>>()
    };
    let recent = |t: &TestApp| {
        let app = t.app.clone();
        async move {
            let mut conn = app.db.conn().await.expect("conn");
            eposta_kernel::audit::recent(&mut conn, None, 100)
                .await
                .expect("audit")
        }
    };
    // The history rows are written with the payment; the sweeper chains them.
    assert!(payment_rows(&recent(&t).await).is_empty());
    assert_eq!(service::audit::flush(&t.app).await.expect("flush"), 2);
    assert_eq!(
        service::audit::flush(&t.app).await.expect("flush"),
        0,
        "once only"
    );
    let rows = payment_rows(&recent(&t).await);
    let actions: Vec<&str> = rows.iter().rev().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["payment.created", "payment.pending"]);
    let id = p["id"].as_str().expect("id");
    for r in &rows {
        assert_eq!(r.subject, format!("payment:{id}"));
        assert!(r.actor.starts_with("key:"), "{}", r.actor);
        for personal in [
            "Петар",
            "Булевар",
            "845000000040484987",
            "845-404849-87",
            "EPS",
            "16322000011111",
        ] {
            assert!(!r.details.contains(personal), "{personal} in {}", r.details);
        }
    }
    let mut conn = t.app.db.conn().await.expect("conn");
    assert!(matches!(
        eposta_kernel::audit::verify(&mut conn)
            .await
            .expect("verify"),
        eposta_kernel::audit::Verdict::Intact(_)
    ));
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM payment_events WHERE NOT audited").await,
        0
    );
}

#[test]
fn the_api_is_described() {
    let routes = eposta_kernel::routes().merge(eposta_payments::routes());
    assert_eq!(routes.api_mismatches(), Vec::<String>::new());
    let doc = serde_json::to_value(routes.api_document()).expect("json");
    for path in [
        "/api/v1/payments",
        "/api/v1/payments/{id}",
        "/api/v1/payments/{id}/refunds",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    let create = &doc["paths"]["/api/v1/payments"]["post"];
    assert!(create["parameters"].to_string().contains(KEY), "{create}");
}

/// The document with the payments operations passes an independent validator, the
/// `openapi-spec-validator` Python package (required under CI, as in the kernel's test).
#[tokio::test]
async fn the_document_passes_an_independent_openapi_validator() {
    const TEST: &str = "payments: the_document_passes_an_independent_openapi_validator";
    let t = app().await;
    let doc = t.client().get("/api/v1/openapi.json").await.body;
    assert!(String::from_utf8_lossy(&doc).contains("/api/v1/payments/{id}/refunds"));
    eposta_kernel::testing::assert_valid_openapi(TEST, &doc);
}
