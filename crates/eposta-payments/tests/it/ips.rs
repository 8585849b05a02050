//! IPS payments: unique collection references, and completion by the transfer a bank
//! statement shows (`complete_by_transfer`), idempotent and strict about amounts.

use std::collections::BTreeSet;

use eposta_formats::reference::Reference;
use eposta_kernel::audit::Actor;
use eposta_kernel::testing::TestApp;
use eposta_payments::service;
use eposta_payments::{NotMatched, TransferMatch, complete_by_transfer};
use uuid::Uuid;

use super::{api_key, app, count, order};

const KEY: &str = "Idempotency-Key";

/// Creates `n` IPS payments through the API: (id, reference as on a payment order, total).
async fn ips_payments(t: &TestApp, n: usize) -> Vec<(Uuid, String, i64)> {
    let token = api_key(t, "Shop", &["payments:write"]).await;
    let mut c = t.api(&token);
    let mut out = Vec::new();
    for i in 0..n {
        let r = c
            .post_json(
                "/api/v1/payments",
                &order("ips"),
                &[(KEY, &format!("ips-{i}"))],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let p = r.json();
        out.push((
            p["id"].as_str().expect("id").parse().expect("uuid"),
            p["next_action"]["reference"]
                .as_str()
                .expect("reference")
                .to_owned(),
            p["total"]["minor"].as_i64().expect("total"),
        ));
    }
    out
}

#[tokio::test]
async fn every_ips_payment_gets_its_own_checked_reference() {
    let t = app().await;
    let payments = ips_payments(&t, 60).await;
    let refs: BTreeSet<&str> = payments.iter().map(|(_, r, _)| r.as_str()).collect();
    assert_eq!(refs.len(), 60);
    for r in &refs {
        let parsed = Reference::parse(r).expect("a valid model-97 reference");
        assert!(parsed.is_checked());
        assert!(parsed.ro().len() <= 25, "fits tag RO as generated");
    }
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(DISTINCT collection_reference) FROM payments"
        )
        .await,
        60
    );
    // The database refuses a second payment with a taken reference: the insert writes
    // nothing, so a new reference is drawn.
    let mut conn = t.app.db.conn().await.expect("conn");
    let row = eposta_payments::store::by_id(&mut conn, payments[0].0)
        .await
        .expect("read")
        .expect("row");
    let copy = eposta_payments::store::PaymentRow {
        id: Uuid::now_v7(),
        confirmation: "ZZZZZZZZZZZZ".into(),
        ..row
    };
    drop(conn);
    let mut tx = t.app.db.begin().await.expect("tx");
    assert!(
        !eposta_payments::store::insert(&mut tx, &copy)
            .await
            .expect("insert")
    );
    tx.commit().await.expect("commit");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 60);
}

#[tokio::test]
async fn a_transfer_completes_its_payment_once() {
    let t = app().await;
    let p = ips_payments(&t, 3).await;
    let (id, reference, total) = p[0].clone();
    let system = Actor::System;
    // Wrong amount: not matched, still pending.
    let m = complete_by_transfer(&t.app, &system, &reference, total - 1, "BANK-1")
        .await
        .expect("match");
    assert_eq!(
        m,
        TransferMatch::NotMatched(NotMatched::AmountMismatch {
            payment: id,
            expected_para: total
        })
    );
    assert_eq!(
        service::get(&t.app, id).await.expect("p").state.to_string(),
        "pending"
    );
    // Right amount, reference in the RO form a statement carries.
    let ro = Reference::parse(&reference).expect("ref").ro();
    let m = complete_by_transfer(&t.app, &system, &ro, total, "BANK-1")
        .await
        .expect("match");
    assert_eq!(m, TransferMatch::Completed { payment: id });
    let paid = service::get(&t.app, id).await.expect("p");
    assert_eq!(paid.state.to_string(), "succeeded");
    assert_eq!(paid.bank_ref.as_deref(), Some("BANK-1"));
    // The same statement again: nothing changes.
    for _ in 0..2 {
        let m = complete_by_transfer(&t.app, &system, &reference, total, "BANK-1")
            .await
            .expect("match");
        assert_eq!(m, TransferMatch::AlreadyCompleted { payment: id });
    }
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM payment_events WHERE event = 'succeed'"
        )
        .await,
        1
    );
    // A second transfer for the same payment: reported, not applied.
    let m = complete_by_transfer(&t.app, &system, &reference, total, "BANK-2")
        .await
        .expect("match");
    assert!(
        matches!(m, TransferMatch::NotMatched(NotMatched::NotPending { .. })),
        "{m:?}"
    );
    // A bank reference that completed another payment already.
    let (other, other_ref, other_total) = p[1].clone();
    let m = complete_by_transfer(&t.app, &system, &other_ref, other_total, "BANK-1")
        .await
        .expect("match");
    assert_eq!(
        m,
        TransferMatch::NotMatched(NotMatched::BankRefUsed { payment: id })
    );
    assert_eq!(
        service::get(&t.app, other)
            .await
            .expect("p")
            .state
            .to_string(),
        "pending"
    );
    // Unknown and malformed references.
    for r in ["97 12 0000000000000", "not a reference", "", "00 123"] {
        let m = complete_by_transfer(&t.app, &system, r, total, "BANK-3")
            .await
            .expect("match");
        assert_eq!(
            m,
            TransferMatch::NotMatched(NotMatched::UnknownReference),
            "{r}"
        );
    }
    // No bank reference at all is a caller's mistake.
    assert!(
        complete_by_transfer(&t.app, &system, &other_ref, other_total, " ")
            .await
            .is_err()
    );
    // An expired payment is not completed.
    let (late, late_ref, late_total) = p[2].clone();
    t.clock.advance(chrono::Duration::hours(73));
    service::expiry::expire_due(&t.app).await.expect("sweep");
    let m = complete_by_transfer(&t.app, &system, &late_ref, late_total, "BANK-4")
        .await
        .expect("match");
    assert_eq!(
        m,
        TransferMatch::NotMatched(NotMatched::NotPending {
            payment: late,
            state: eposta_payments::domain::State::Expired
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_transfer_twice_at_once_completes_once() {
    let t = app().await;
    let (id, reference, total) = ips_payments(&t, 1).await.remove(0);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = t.app.clone();
        let reference = reference.clone();
        tasks.push(tokio::spawn(async move {
            complete_by_transfer(&app, &Actor::System, &reference, total, "BANK-X").await
        }));
    }
    let mut completed = 0;
    for task in tasks {
        match task.await.expect("task").expect("match") {
            TransferMatch::Completed { payment } => {
                assert_eq!(payment, id);
                completed += 1;
            }
            TransferMatch::AlreadyCompleted { payment } => assert_eq!(payment, id),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(completed, 1);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM payment_events WHERE event = 'succeed'"
        )
        .await,
        1
    );
}
