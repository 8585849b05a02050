//! Refunds of cash payments at the counter (the refunding clerk's cash day pays them out)
//! and of IPS payments by credit transfer (pending until the day's refund batch is exported
//! as pain.001, then succeeded); a payment remitted to its payee is not refunded.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate};
use eposta_formats::account::AccountNumber;
use eposta_kernel::accounts::Role;
use eposta_kernel::audit::Actor;
use eposta_kernel::testing::{Client, TestApp, TestResponse};
use eposta_payments::domain::State;
use eposta_payments::reconcile::Imported;
use eposta_payments::remittance::{self, File};
use eposta_payments::{TransferMatch, complete_by_transfer, service, settings};
use serde_json::{Value, json};
use uuid::Uuid;

use super::counter::{close, counter_app, login_again, paid_id, take, text_of};
use super::reconcile::{Ips, credit, import, statement};
use super::{api_key, count, order, staff};

async fn state(t: &TestApp, id: Uuid) -> (State, i64) {
    let p = service::get(&t.app, id).await.expect("payment");
    (p.state, p.refunded_para)
}

async fn pay_back(c: &mut Client, id: Uuid, amount: &str, reason: &str) -> TestResponse {
    c.post_form(
        &format!("/counter/payments/{id}/refunds"),
        &[("amount", amount), ("reason", reason)],
    )
    .await
}

#[tokio::test]
async fn a_clerk_pays_cash_back_at_the_counter_and_it_counts_in_the_clerks_day() {
    let t = counter_app().await;
    let (mut ana, _) = staff(&t, Role::Clerk, "11101", "Ана").await;
    let (mut bora, _) = staff(&t, Role::Clerk, "11101", "Бора").await;
    let (mut stranger, _) = staff(&t, Role::Clerk, "21101", "Нови Сад").await;
    let (mut manager, _) = staff(&t, Role::Manager, "11101", "Менаџер").await;
    let day = "2026-03-02";
    let first = paid_id(&take(&mut ana, "1000,00").await); // fee 45,00: 1.045,00
    let second = paid_id(&take(&mut ana, "2500,50").await); // fee 65,00: 2.565,50

    // The payment's page offers the form; another office sees neither page nor form.
    let html = ana.get(&format!("/counter/payments/{first}")).await.text();
    assert!(html.contains("id=\"pay-back\""), "{html}");
    assert_eq!(text_of(&html, "left"), "1.045,00 RSD");
    assert_eq!(
        stranger
            .get(&format!("/counter/payments/{first}"))
            .await
            .status,
        404
    );
    let r = pay_back(&mut stranger, first, "100,00", "Грешка").await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(state(&t, first).await, (State::Succeeded, 0));

    // Part of it: the payment is refunded in part, and its page lists the refund.
    let r = pay_back(&mut ana, first, "300,00", "Pogrešna uplata").await;
    assert_eq!(r.status, 303, "{}", r.text());
    let html = ana.get(r.location().expect("back")).await.text();
    assert!(html.contains("id=\"notice\""), "{html}");
    assert!(html.contains("data-state=\"partially_refunded\""));
    assert!(html.contains("<td class=\"refund-amount\">300,00 RSD</td>"));
    assert!(html.contains("Pogrešna uplata"));
    assert_eq!(text_of(&html, "left"), "745,00 RSD");
    assert_eq!(state(&t, first).await, (State::PartiallyRefunded, 30_000));

    // More than is left, nothing, no reason, not an amount: named, nothing paid.
    for (amount, reason, field) in [
        ("745,01", "x", "back-error"),
        ("0", "x", "back-error"),
        ("10,00", "  ", "back-error"),
        ("десет", "x", "back-error"),
    ] {
        let r = pay_back(&mut ana, first, amount, reason).await;
        assert_eq!(r.status, 422, "{amount} {reason}: {}", r.text());
        assert!(r.text().contains(&format!("id=\"{field}\"")), "{amount}");
    }
    assert_eq!(state(&t, first).await, (State::PartiallyRefunded, 30_000));

    // Bora has taken no cash today: his drawer cannot pay it (409); once he has, he can, and
    // the rest paid back makes the payment refunded, with no form left.
    let r = pay_back(&mut bora, first, "745,00", "Pogrešna uplata").await;
    assert_eq!(r.status, 409, "{}", r.text());
    paid_id(&take(&mut bora, "1000,00").await); // 1.045,00
    let r = pay_back(&mut bora, first, "745,00", "Pogrešna uplata").await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(state(&t, first).await, (State::Refunded, 104_500));
    let html = ana.get(&format!("/counter/payments/{first}")).await.text();
    assert!(!html.contains("id=\"pay-back\""));
    assert!(html.contains("data-state=\"refunded\""));
    let r = pay_back(&mut ana, first, "1,00", "x").await;
    assert_eq!(r.status, 409, "nothing left: {}", r.text());

    // Each clerk's balance counts the cash that clerk paid back.
    let html = ana.get("/counter/payments/balance").await.text();
    assert_eq!(text_of(&html, "taken"), "3.610,50 RSD");
    assert_eq!(text_of(&html, "refunds-count"), "1");
    assert_eq!(text_of(&html, "refunded"), "300,00 RSD");
    assert_eq!(text_of(&html, "expected"), "3.310,50 RSD");
    assert!(html.contains("id=\"refunds\""));
    let bora_html = bora.get("/counter/payments/balance").await.text();
    assert_eq!(text_of(&bora_html, "refunded"), "745,00 RSD");
    assert_eq!(text_of(&bora_html, "expected"), "300,00 RSD");
    let office = manager.get("/counter/payments/balance").await.text();
    let office = &office[office.find("id=\"office-balances\"").expect("office")..];
    assert!(
        office.contains("<td>745,00 RSD</td><td>300,00 RSD</td>"),
        "{office}"
    );

    // Cash paid back after Ana looked makes her count again.
    let stale = html;
    let r = pay_back(&mut ana, second, "10,00", "Грешка").await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = close(&mut ana, day, "3310,50", &stale).await;
    assert_eq!(r.status, 409, "{}", r.text());
    let html = ana.get("/counter/payments/balance").await.text();
    assert_eq!(text_of(&html, "expected"), "3.300,50 RSD");
    let r = close(&mut ana, day, "3300,50", &html).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM counter_cash_days WHERE payments = 2 AND refunds = 2 \
             AND refunded_para = 31000 AND expected_para = 330050 AND difference_para = 0"
        )
        .await,
        1
    );

    // Her day is closed: she pays no more cash back today (409), and her page says so.
    let r = pay_back(&mut ana, second, "10,00", "Грешка").await;
    assert_eq!(r.status, 409, "{}", r.text());
    let html = ana.get(&format!("/counter/payments/{second}")).await.text();
    assert!(html.contains("id=\"no-pay-back\""));
    assert_eq!(state(&t, second).await, (State::PartiallyRefunded, 1_000));

    // Audited, without names or the reason.
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'counter.cash_refunded'"
        )
        .await,
        3
    );
    let details: Vec<String> = {
        let mut conn = t.app.db.conn().await.expect("conn");
        eposta_kernel::db_run!(&mut conn, |c| sqlx::query_scalar::<_, String>(
            "SELECT CAST(details AS TEXT) FROM audit_log WHERE action = 'counter.cash_refunded'"
        )
        .fetch_all(&mut *c)
        .await)
        .expect("details")
    };
    for d in details {
        assert!(d.contains("\"amount_para\""), "{d}");
        assert!(
            !d.contains("Ана") && !d.contains("Pogrešna") && !d.contains("Петар"),
            "{d}"
        );
    }

    // Once remitted to its payee, the payment is not paid back at the counter.
    t.clock.advance(Duration::days(1));
    let run = remittance::run(&t.app, &Actor::System, day_of(day))
        .await
        .expect("remittance");
    assert_eq!(run.batches.len(), 1);
    let mut bora = login_again(&t, "Бора").await;
    paid_id(&take(&mut bora, "100,00").await);
    let html = bora
        .get(&format!("/counter/payments/{second}"))
        .await
        .text();
    assert!(html.contains("id=\"no-pay-back\""), "{html}");
    let r = pay_back(&mut bora, second, "10,00", "Грешка").await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("remitted"), "{}", r.text());
    assert_eq!(state(&t, second).await, (State::PartiallyRefunded, 1_000));
}

fn day_of(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Creates `n` IPS payments through the API with the client's key.
async fn ips_payments(c: &mut Client, n: usize) -> Vec<Ips> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = c
            .post_json(
                "/api/v1/payments",
                &order("ips"),
                &[("Idempotency-Key", &Uuid::now_v7().to_string())],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let p = r.json();
        let reference = p["next_action"]["reference"].as_str().expect("reference");
        out.push(Ips {
            id: p["id"].as_str().expect("id").parse().expect("uuid"),
            ro: eposta_formats::reference::Reference::parse(reference)
                .expect("valid")
                .ro(),
            total: p["total"]["minor"].as_i64().expect("total"),
        });
    }
    out
}

async fn refund(c: &mut Client, id: Uuid, body: &Value) -> TestResponse {
    c.post_json(
        &format!("/api/v1/payments/{id}/refunds"),
        body,
        &[("Idempotency-Key", &Uuid::now_v7().to_string())],
    )
    .await
}

/// A transfer of a pain.001 as the test reads it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Tx {
    end_to_end_id: String,
    amount: String,
    creditor_iban: String,
    creditor_name: String,
}

/// The debtor's IBAN and the transfers of a pain.001 document, read with quick-xml.
fn read_pain001(xml: &[u8]) -> (String, Vec<Tx>) {
    use quick_xml::events::Event;
    let xml = std::str::from_utf8(xml).expect("UTF-8");
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut debtor = String::new();
    let mut txs: Vec<Tx> = Vec::new();
    let mut text = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                if name == "CdtTrfTxInf" {
                    txs.push(Tx::default());
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t),
            Event::End(_) => {
                let p = path.join("/");
                let value = std::mem::take(&mut text);
                if p.ends_with("PmtInf/DbtrAcct/Id/IBAN") {
                    debtor = value;
                } else if let Some(tx) = txs.last_mut() {
                    if p.ends_with("CdtTrfTxInf/PmtId/EndToEndId") {
                        tx.end_to_end_id = value;
                    } else if p.ends_with("CdtTrfTxInf/Amt/InstdAmt") {
                        tx.amount = value;
                    } else if p.ends_with("CdtTrfTxInf/CdtrAcct/Id/IBAN") {
                        tx.creditor_iban = value;
                    } else if p.ends_with("CdtTrfTxInf/Cdtr/Nm") {
                        tx.creditor_name = value;
                    }
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (debtor, txs)
}

#[tokio::test]
async fn an_ips_payment_is_paid_back_by_transfer_in_the_days_refund_batch() {
    let t = super::app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let mut api = t.api(&token);
    let paid = ips_payments(&mut api, 3).await;
    let (a, b, c) = (&paid[0], &paid[1], &paid[2]);
    // a and c come in on a statement that names the payer's account; b by a transfer
    // matched without one.
    let payer = AccountNumber::parse("160-5100-05").expect("account");
    let file = statement(
        &t,
        "M1",
        "S1",
        &[
            credit(Some(&a.ro), a.total, "B-A"),
            credit(Some(&c.ro), c.total, "B-C"),
        ],
    );
    assert!(matches!(import(&t, file).await, Ok(Imported::New(_))));
    let m = complete_by_transfer(&t.app, &Actor::System, &b.ro, b.total, "B-B")
        .await
        .expect("transfer");
    assert_eq!(m, TransferMatch::Completed { payment: b.id });
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM payment_payer_accounts").await,
        2
    );

    // a: part of it, to the account on the statement; pending until the batch.
    let r = refund(
        &mut api,
        a.id,
        &json!({"amount": {"minor": 100_000, "currency": "RSD"}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["refund"]["state"], "pending");
    assert_eq!(body["refund"]["channel"], "transfer");
    assert_eq!(body["refund"]["account"], payer.dashed());
    assert_eq!(body["payment"]["state"], "succeeded");
    let a_refund: Uuid = body["refund"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    // What is pending counts: no more than what is left.
    let r = refund(
        &mut api,
        a.id,
        &json!({"amount": {"minor": a.total - 100_000 + 1, "currency": "RSD"}}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("amount"));

    // b: no account known: the request must name one, and a valid one.
    let r = refund(&mut api, b.id, &json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("\"account\""), "{}", r.text());
    let r = refund(&mut api, b.id, &json!({"account": "160-5100-06"})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("\"account\""), "{}", r.text());
    let other = AccountNumber::new(205, 123_456).expect("account");
    let r = refund(&mut api, b.id, &json!({"account": other.iban()})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let b_refund: Uuid = r.json()["refund"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    assert_eq!(state(&t, b.id).await, (State::Succeeded, 0));

    // The day is over: the run pays the refunds back in one batch, then remits what is left.
    t.clock.advance(Duration::days(1));
    let date = remittance_day(&t);
    let run = remittance::run(&t.app, &Actor::System, date)
        .await
        .expect("run");
    assert_eq!(run.refund_batches.len(), 1);
    let batch = &run.refund_batches[0];
    assert_eq!(batch.transfers, 2);
    assert_eq!(batch.total_para, 100_000 + b.total);
    let (_, xml) = remittance::refunds::file(&t.app, batch.id, File::Pain001)
        .await
        .expect("file");
    let (debtor, txs) = read_pain001(&xml);
    let collection = settings::collection(&t.app.config).expect("collection");
    assert_eq!(debtor, collection.account.iban());
    let want: HashSet<(String, String, String)> = [
        (
            format!("RF{}", a_refund.simple()),
            "1000.00".to_owned(),
            payer.iban(),
        ),
        (
            format!("RF{}", b_refund.simple()),
            format!("{}.{:02}", b.total / 100, b.total % 100),
            other.iban(),
        ),
    ]
    .into_iter()
    .collect();
    let got: HashSet<(String, String, String)> = txs
        .iter()
        .map(|t| {
            (
                t.end_to_end_id.clone(),
                t.amount.clone(),
                t.creditor_iban.clone(),
            )
        })
        .collect();
    assert_eq!(got, want, "{}", String::from_utf8_lossy(&xml));
    assert!(txs.iter().all(|t| t.creditor_name == "Петар Петровић"));

    // Exported: the refunds are paid and the payments' states follow.
    assert_eq!(state(&t, a.id).await, (State::PartiallyRefunded, 100_000));
    assert_eq!(state(&t, b.id).await, (State::Refunded, b.total));
    let refunds = service::refunds_of(&t.app, a.id).await.expect("refunds");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].state, "succeeded");
    assert_eq!(refunds[0].batch_id, Some(batch.id));
    // What is left of a and all of c went to the payee in the same run; b did not.
    assert_eq!(run.batches.len(), 1);
    let mut remitted = remittance::payments_of(&t.app, run.batches[0].id)
        .await
        .expect("items");
    remitted.sort();
    let mut want = vec![a.id, c.id];
    want.sort();
    assert_eq!(remitted, want);

    // Once remitted, a payment is not refunded.
    let r = refund(&mut api, a.id, &json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("remitted"));
    let r = refund(&mut api, c.id, &json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text());

    // A second run makes nothing new; a batch never changes.
    let again = remittance::run(&t.app, &Actor::System, date)
        .await
        .expect("run");
    assert!(again.refund_batches.is_empty() && again.batches.is_empty());
    assert_eq!(count(&t, "SELECT COUNT(*) FROM refund_batches").await, 1);
    for sql in [
        "UPDATE refund_batches SET total_para = 1",
        "DELETE FROM refund_batch_items",
    ] {
        assert!(!super::remittance::try_exec(&t, sql).await, "{sql}");
    }
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM refund_batch_items").await,
        2
    );

    // The admin page lists the batch and hands out its file as exported.
    let mut admin = t.logged_in(Role::Admin, None).await;
    let html = admin.get("/admin/payments/remittance").await.text();
    assert!(html.contains("id=\"refund-batches\""), "{html}");
    let r = admin
        .get(&format!(
            "/admin/payments/remittance/refunds/{}/pain001.xml",
            batch.id
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, xml);
}

/// The business day the test clock is in, less one: the day that is over.
fn remittance_day(t: &TestApp) -> NaiveDate {
    remittance::domain::belgrade_date(t.app.now())
        .pred_opt()
        .expect("yesterday")
}

#[tokio::test]
async fn a_refund_asked_after_the_day_waits_for_the_next_run_and_holds_back_the_payment() {
    let t = super::app().await;
    let token = api_key(&t, "Shop", &["payments:write"]).await;
    let mut api = t.api(&token);
    let paid = ips_payments(&mut api, 1).await;
    let d = &paid[0];
    let file = statement(&t, "M1", "S1", &[credit(Some(&d.ro), d.total, "B-D")]);
    assert!(matches!(import(&t, file).await, Ok(Imported::New(_))));
    let day1 = remittance::domain::belgrade_date(t.app.now());
    t.clock.advance(Duration::days(1));
    // Asked on the next day: the payment waits, and the refund is not in day 1's batch.
    let r = refund(
        &mut api,
        d.id,
        &json!({"amount": {"minor": 500, "currency": "RSD"}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let run = remittance::run(&t.app, &Actor::System, day1)
        .await
        .expect("run");
    assert!(run.refund_batches.is_empty());
    assert!(
        run.batches.is_empty(),
        "a refund under way holds the payment"
    );
    t.clock.advance(Duration::days(1));
    let run = remittance::run(&t.app, &Actor::System, remittance_day(&t))
        .await
        .expect("run");
    assert_eq!(run.refund_batches.len(), 1);
    assert_eq!(run.refund_batches[0].total_para, 500);
    assert_eq!(run.batches.len(), 1);
    assert_eq!(run.batches[0].total_para, 359_613 - 500);
    assert_eq!(state(&t, d.id).await, (State::PartiallyRefunded, 500));
}
