//! Businesses book through the API: 1,000 shipments in one call, all or nothing, each bad
//! one listed by position and field; one shipment alone; idempotent retries.

use std::collections::HashSet;
use std::time::Instant;

use eposta_formats::s10::S10;
use eposta_postal::allocation::service_indicator;
use eposta_postal::domain::Product;
use serde_json::{Value, json};

use super::{api_key, app, count, shipment};

fn batch(n: usize) -> Vec<Value> {
    (0..n).map(shipment).collect()
}

#[tokio::test]
async fn a_business_books_1000_shipments_in_one_call() {
    let t = app().await;
    let key = api_key(&t, "Књижара", &["postal:book"]).await;
    let mut api = t.api(&key);
    let started = Instant::now();
    let r = api
        .post_json(
            "/api/v1/shipments",
            &json!({ "shipments": batch(1000) }),
            &[],
        )
        .await;
    let took = started.elapsed();
    assert_eq!(r.status, 201, "{}", r.text());
    eprintln!(
        "booked 1000 shipments in one call in {took:?} (not a benchmark: debug build, in-process)"
    );
    let body = r.json();
    let shipments = body["shipments"].as_array().expect("a list");
    assert_eq!(shipments.len(), 1000);

    let mut tracking = HashSet::new();
    let mut codes = HashSet::new();
    for (i, s) in shipments.iter().enumerate() {
        let tn = s["tracking_number"].as_str().expect("tracking number");
        let checked = S10::parse(tn).expect("every tracking number is valid");
        assert_eq!(checked.warning, None);
        assert_eq!(checked.id.country(), "RS");
        assert_eq!(s["tracking_number_grouped"], checked.id.grouped());
        // The shipments come back in the order sent, each under its product's indicator.
        let (product, insured) = match i % 4 {
            0 => (Product::Parcel, false),
            1 => (Product::Express, false),
            2 => (Product::RegisteredLetter, true),
            _ => (Product::Letter, false),
        };
        assert_eq!(s["product"], product.as_str());
        assert_eq!(
            checked.id.service_indicator(),
            service_indicator(product, insured)
        );
        assert_eq!(s["recipient"]["name"], format!("Купац {i}"));
        assert!(tracking.insert(tn.to_owned()), "{tn} twice");
        let code = s["booking_code"].as_str().expect("code");
        assert_eq!(code.len(), 8);
        assert!(codes.insert(code.to_owned()), "{code} twice");
        assert_eq!(s["status"], "pre_transit");
        let price = &s["price"];
        let (net, vat, total) = (
            price["net"]["minor"].as_i64().expect("net"),
            price["vat"]["minor"].as_i64().expect("vat"),
            price["total"]["minor"].as_i64().expect("total"),
        );
        assert!(net > 0 && net + vat == total, "{price}");
        assert_eq!(price["total"]["currency"], "RSD");
    }
    // A parcel of 1,2 kg with 2.500 dinars to collect: 490 + 120 + 25 = 635 net, 127 VAT.
    assert_eq!(shipments[0]["price"]["total"]["minor"], 76_200);
    assert_eq!(shipments[0]["cash_on_delivery"]["minor"], 250_000);
    assert_eq!(shipments[0]["recipient"]["phone"], "+381641234567");
    assert_eq!(shipments[3]["options"], json!([]));
    assert_eq!(
        shipments[2]["options"],
        json!(["registered", "declared_value", "delivery_confirmation"])
    );
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 1000);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.shipments.booked'"
        )
        .await,
        1
    );

    // Read back one by its tracking number, written the way people do.
    let first = shipments[0]["tracking_number_grouped"]
        .as_str()
        .expect("grouped");
    let path = format!(
        "/api/v1/shipments/{}",
        first.to_lowercase().replace(' ', "%20")
    );
    let r = api.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], shipments[0]["id"]);
    assert_eq!(r.json()["price"], shipments[0]["price"]);

    // Another organisation sees none of them.
    let other = api_key(&t, "Друга фирма", &["postal:book"]).await;
    let r = t.api(&other).get(&path).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn one_bad_shipment_among_1000_books_nothing() {
    let t = app().await;
    let key = api_key(&t, "Књижара", &["postal:book"]).await;
    let mut api = t.api(&key);
    let mut shipments = batch(1000);
    shipments[417]["recipient"]["postal_code"] = json!("1100");
    let r = api
        .post_json("/api/v1/shipments", &json!({ "shipments": shipments }), &[])
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let e = &r.json()["error"];
    assert_eq!(e["code"], "invalid");
    assert_eq!(e["field"], "shipments[417].recipient.postal_code");
    assert_eq!(
        e["errors"],
        json!([{"index": 417, "field": "recipient.postal_code", "message": "must be exactly 5 digits"}])
    );
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 0);
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM s10_serials").await,
        0,
        "no serial was taken"
    );

    // Several bad ones: every one is listed with its position and field.
    let mut shipments = batch(1000);
    shipments[3]["weight_g"] = json!(0);
    shipments[10]["weight_g"] = json!("heavy");
    shipments[11]["options"] = json!({"cash_on_delivery": {"minor": 1000, "currency": "RSD"}});
    shipments[11]["product"] = json!("letter");
    shipments[12]
        .as_object_mut()
        .expect("object")
        .remove("recipient");
    shipments[999]["product"] = json!("parcel");
    shipments[999]["weight_g"] = json!(40_000);
    let r = api
        .post_json("/api/v1/shipments", &json!({ "shipments": shipments }), &[])
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let e = &r.json()["error"];
    assert!(e.get("field").is_none(), "several rules: no single field");
    let listed: Vec<(i64, String)> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|x| {
            (
                x["index"].as_i64().expect("index"),
                x["field"].as_str().expect("field").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (3, "weight_g"),
            (10, "weight_g"),
            (11, "options.cash_on_delivery"),
            (12, "recipient"),
            (999, "weight_g"),
        ]
        .map(|(i, f)| (i, f.to_owned()))
    );
    assert!(
        e["message"]
            .as_str()
            .expect("message")
            .contains("5 of 1000"),
        "{e}"
    );
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 0);
}

#[tokio::test]
async fn one_shipment_alone_and_a_safe_retry() {
    let t = app().await;
    let key = api_key(&t, "Књижара", &["postal:book"]).await;
    let mut api = t.api(&key);
    let one = shipment(1);
    let headers = [("Idempotency-Key", "order-2026-0001")];
    let r = api.post_json("/api/v1/shipments", &one, &headers).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let booked = r.json();
    assert_eq!(booked["product"], "express");
    assert!(S10::parse(booked["tracking_number"].as_str().expect("tn")).is_ok());
    assert!(booked.get("shipments").is_none(), "one in, one out");

    let again = api.post_json("/api/v1/shipments", &one, &headers).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.json()["tracking_number"], booked["tracking_number"]);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 1);

    // A single bad shipment: its field, no position prefix.
    let mut bad = shipment(0);
    bad["recipient"]["postal_code"] = json!("1100");
    let r = api.post_json("/api/v1/shipments", &bad, &[]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "recipient.postal_code");
    assert_eq!(r.json()["error"]["errors"][0]["index"], 0);
}

#[tokio::test]
async fn batches_are_bounded_and_need_the_scope() {
    let t = app().await;
    let key = api_key(&t, "Књижара", &["postal:book"]).await;
    let mut api = t.api(&key);
    for body in [
        json!({"shipments": []}),
        json!({ "shipments": batch(1001) }),
        json!({"shipments": {}}),
        json!([1, 2]),
    ] {
        let r = api.post_json("/api/v1/shipments", &body, &[]).await;
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(r.json()["error"]["field"], "shipments");
    }
    let r = api
        .post_json(
            "/api/v1/shipments",
            &json!({"shipments": batch(1), "extra": 1}),
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    let tracking_only = api_key(&t, "Праћење", &["postal:track"]).await;
    let r = t
        .api(&tracking_only)
        .post_json("/api/v1/shipments", &shipment(0), &[])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 0);
}

/// Every `$ref` in `v` names something the document has.
fn unresolved(doc: &Value, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && doc.pointer(r.trim_start_matches('#')).is_none()
            {
                out.push(r.clone());
            }
            m.values().for_each(|x| unresolved(doc, x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| unresolved(doc, x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_api_document_describes_booking() {
    let t = app().await;
    let key = api_key(&t, "Књижара", &["postal:book"]).await;
    let r = t.api(&key).get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    let post = &doc["paths"]["/api/v1/shipments"]["post"];
    assert_eq!(post["security"], json!([{"api_key": ["postal:book"]}]));
    assert!(post["requestBody"].is_object());
    assert!(post["responses"]["201"].is_object());
    let invalid = &post["responses"]["422"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(invalid, "#/components/schemas/BatchErrorBody");
    let params: Vec<&str> = post["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(params.contains(&"Idempotency-Key"), "{params:?}");
    let get = &doc["paths"]["/api/v1/shipments/{tracking_number}"]["get"];
    assert!(get["responses"]["404"].is_object());
    let mut missing = Vec::new();
    unresolved(&doc, &doc, &mut missing);
    assert_eq!(missing, Vec::<String>::new());
    let input = &doc["components"]["schemas"]["ShipmentInput"]["properties"];
    for field in ["product", "weight_g", "sender", "recipient", "options"] {
        assert!(input[field].is_object(), "ShipmentInput.{field}");
    }
    // The readable reference shows the operations, in Serbian by default.
    let page = t.client().get("/api").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("Заказивање пошиљака"), "{html}");
    assert!(html.contains("/api/v1/shipments/{tracking_number}"));
}

#[tokio::test]
async fn labels_one_at_a_time_or_a_batch_in_one_pdf() {
    let t = app().await;
    let key = api_key(&t, "Штампарија", &["postal:book"]).await;
    let mut api = t.api(&key);
    let r = api
        .post_json("/api/v1/shipments", &json!({ "shipments": batch(3) }), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let tns: Vec<String> = r.json()["shipments"]
        .as_array()
        .expect("shipments")
        .iter()
        .map(|s| s["tracking_number"].as_str().expect("tn").to_owned())
        .collect();

    let one = api
        .get(&format!("/api/v1/shipments/{}/label", tns[0]))
        .await;
    assert_eq!(one.status, 200, "{}", one.text());
    assert_eq!(one.headers["content-type"], "application/pdf");
    if let Some(text) = super::pages::pdf_text(&one.body) {
        let grouped = S10::parse(&tns[0]).expect("tn").id.grouped();
        assert!(text.contains(&grouped), "{grouped} in {text}");
    }

    let all = api
        .post_json(
            "/api/v1/shipments/labels",
            &json!({ "tracking_numbers": tns }),
            &[],
        )
        .await;
    assert_eq!(all.status, 200, "{}", all.text());
    if let Some(text) = super::pages::pdf_text(&all.body) {
        // One page per label, in the order asked: pdftotext separates pages with a form feed.
        assert_eq!(text.matches('\u{c}').count(), 3, "{text}");
        let positions: Vec<usize> = tns
            .iter()
            .map(|tn| {
                text.find(&S10::parse(tn).expect("tn").id.grouped())
                    .expect("on a page")
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }

    // Another organisation's shipment: 404 alone, 422 naming its position in a batch.
    let other = api_key(&t, "Друга фирма", &["postal:book"]).await;
    let mut stranger = t.api(&other);
    assert_eq!(
        stranger
            .get(&format!("/api/v1/shipments/{}/label", tns[0]))
            .await
            .status,
        404
    );
    let r = stranger
        .post_json(
            "/api/v1/shipments/labels",
            &json!({ "tracking_numbers": [tns[1]] }),
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "tracking_numbers[0]");
    let r = api
        .post_json(
            "/api/v1/shipments/labels",
            &json!({ "tracking_numbers": [] }),
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "tracking_numbers");
}
