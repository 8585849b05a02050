//! Remittance: the paid payments of a day that is over go to their payees in one batch per
//! payee account, exported as pain.001 and CSV; batches never change; a payment is remitted
//! once; the daily job remits yesterday once.

use chrono::{Duration, NaiveDate};
use eposta_kernel::accounts::Role;
use eposta_kernel::audit::Actor;
use eposta_kernel::db_run;
use eposta_kernel::testing::TestApp;
use eposta_payments::remittance::{self, File};
use eposta_payments::{TransferMatch, complete_by_transfer, service};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{api_key, app, count, exec, order};

pub const PAYEE_A: &str = "845000000040484987";
pub const PAYEE_B: &str = "160-5100-05";

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Pays `amounts` (para) to `payee` by IPS, each completed by a transfer at the test clock's
/// time; returns the payments' ids.
pub async fn paid(t: &TestApp, payee: &str, amounts: &[i64]) -> Vec<Uuid> {
    let token = api_key(t, &format!("Shop {}", Uuid::now_v7()), &["payments:write"]).await;
    let mut c = t.api(&token);
    let mut ids = Vec::new();
    for amount in amounts {
        let mut body = order("ips");
        body["payee"]["account"] = payee.into();
        body["amount"]["minor"] = (*amount).into();
        let r = c
            .post_json(
                "/api/v1/payments",
                &body,
                &[("Idempotency-Key", &Uuid::now_v7().to_string())],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let p = r.json();
        let id: Uuid = p["id"].as_str().expect("id").parse().expect("uuid");
        let reference = p["next_action"]["reference"].as_str().expect("ref");
        let total = p["total"]["minor"].as_i64().expect("total");
        let m = complete_by_transfer(
            &t.app,
            &Actor::System,
            reference,
            total,
            &format!("B{}", id.simple()),
        )
        .await
        .expect("transfer");
        assert_eq!(m, TransferMatch::Completed { payment: id });
        ids.push(id);
    }
    ids
}

fn uuid_literal(t: &TestApp, id: Uuid) -> String {
    match t.app.db.backend() {
        eposta_kernel::db::Backend::Postgres => format!("'{id}'"),
        eposta_kernel::db::Backend::Sqlite => format!("X'{}'", id.simple()),
    }
}

/// Runs a statement, giving back whether the database accepted it.
pub async fn try_exec(t: &TestApp, sql: &str) -> bool {
    let mut conn = t.app.db.conn().await.expect("connection");
    db_run!(&mut conn, |c| sqlx::query(sql)
        .execute(&mut *c)
        .await
        .map(|_| ()))
    .is_ok()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

#[tokio::test]
async fn paid_payments_go_out_per_payee_account_once_the_day_is_over() {
    let t = app().await;
    let a = paid(&t, PAYEE_A, &[100_000, 200_000, 300_000]).await;
    let b = paid(&t, PAYEE_B, &[5_000, 7_000]).await;
    // A payment still waiting for its transfer is not remitted.
    let token = api_key(&t, "Other", &["payments:write"]).await;
    let r = t
        .api(&token)
        .post_json(
            "/api/v1/payments",
            &order("ips"),
            &[("Idempotency-Key", "pending-1")],
        )
        .await;
    assert_eq!(r.status, 201);

    // 2 March is not over at 10:00 in Belgrade.
    let err = remittance::run(&t.app, &Actor::System, day("2026-03-02"))
        .await
        .expect_err("not over");
    assert!(err.to_string().starts_with("date:"), "{err}");
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_batches").await,
        0
    );

    t.clock.advance(Duration::hours(15));
    let run = remittance::run(&t.app, &Actor::System, day("2026-03-02"))
        .await
        .expect("run");
    assert_eq!(run.batches.len(), 2);
    let ba = run
        .batches
        .iter()
        .find(|x| x.payee_account == PAYEE_A)
        .expect("batch of A");
    let bb = run
        .batches
        .iter()
        .find(|x| x.payee_account != PAYEE_A)
        .expect("batch of B");
    assert_eq!((ba.transfers, ba.total_para), (3, 600_000));
    assert_eq!((bb.transfers, bb.total_para), (2, 12_000));
    assert_eq!(ba.message_id, format!("EPR-20260302-{PAYEE_A}-1"));
    assert_eq!(ba.business_date, "2026-03-02");
    assert_eq!(ba.execution_date, "2026-03-03");
    assert_eq!(ba.part, 1);
    let mut in_a = remittance::payments_of(&t.app, ba.id).await.expect("items");
    let mut want = a.clone();
    in_a.sort();
    want.sort();
    assert_eq!(in_a, want);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM payments WHERE remittance_batch IS NOT NULL"
        )
        .await,
        5
    );

    // The files: pain.001 from the collection account, one transfer per payment (its
    // confirmation number end to end, the amount without ePošta's fee, the payee's
    // reference structured, the payment code as non-cash), and the same batch as CSV.
    let (_, xml) = remittance::file(&t.app, ba.id, File::Pain001)
        .await
        .expect("xml");
    assert_eq!(hex_sha256(&xml), ba.pain001_sha256);
    let xml = text(&xml);
    for needle in [
        "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03",
        &format!("<MsgId>EPR-20260302-{PAYEE_A}-1</MsgId>"),
        "<NbOfTxs>3</NbOfTxs>",
        "<CtrlSum>6000.00</CtrlSum>",
        "<ReqdExctnDt>2026-03-03</ReqdExctnDt>",
        &format!("<IBAN>{}</IBAN>", collection_iban(&t)),
        "<InstdAmt Ccy=\"RSD\">1000.00</InstdAmt>",
        "<Prtry>289</Prtry>",
        "<Ref>163220000111111111000</Ref>",
        "<Nm>JP EPS Beograd</Nm>",
    ] {
        assert!(xml.contains(needle), "{needle} in {xml}");
    }
    for id in &a {
        let p = service::get(&t.app, *id).await.expect("payment");
        assert!(
            xml.contains(&format!("<EndToEndId>{}</EndToEndId>", p.confirmation)),
            "{}",
            p.confirmation
        );
    }
    let (_, csv) = remittance::file(&t.app, bb.id, File::Csv)
        .await
        .expect("csv");
    assert_eq!(hex_sha256(&csv), bb.csv_sha256);
    let csv = text(&csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("message_id,execution_date,debtor_account"));
    assert!(
        lines
            .iter()
            .skip(1)
            .all(|l| l.contains("160000000000510005")),
        "{csv}"
    );
    let _ = b;

    // The same day again, and the next day: nothing is left to remit.
    let again = remittance::run(&t.app, &Actor::System, day("2026-03-02"))
        .await
        .expect("again");
    assert!(again.batches.is_empty());
    t.clock.advance(Duration::hours(2));
    // A payment of 3 March goes out with 3 March's remittance, not before.
    let late = paid(&t, PAYEE_A, &[40_000]).await;
    let before = remittance::run(&t.app, &Actor::System, day("2026-03-02"))
        .await
        .expect("again");
    assert!(before.batches.is_empty());
    t.clock.advance(Duration::days(1));
    let next = remittance::run(&t.app, &Actor::System, day("2026-03-03"))
        .await
        .expect("next day");
    assert_eq!(next.batches.len(), 1);
    assert_eq!(next.batches[0].business_date, "2026-03-03");
    assert_eq!(next.batches[0].total_para, 40_000);
    assert_eq!(
        remittance::payments_of(&t.app, next.batches[0].id)
            .await
            .expect("items"),
        late
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'payments.remittance.batch'"
        )
        .await,
        3
    );
}

fn collection_iban(t: &TestApp) -> String {
    eposta_payments::settings::collection(&t.app.config)
        .expect("collection")
        .account
        .iban()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn refunds_reduce_or_hold_back_what_is_remitted() {
    let t = app().await;
    let p = paid(&t, PAYEE_A, &[100_000, 100_000, 100_000, 100_000, 100_000]).await;
    let lit = |i: usize| uuid_literal(&t, p[i]);
    // [0]: 250.00 paid back: 750.00 goes out. [1]: all paid back. [2]: a refund under way.
    // [3]: the whole amount and part of the fee paid back: nothing left for the payee.
    exec(
        &t,
        &format!(
            "UPDATE payments SET state = 'partially_refunded', refunded_para = 25000 WHERE id = {}",
            lit(0)
        ),
    )
    .await;
    exec(
        &t,
        &format!(
            "UPDATE payments SET state = 'refunded', refunded_para = amount_para + fee_para WHERE id = {}",
            lit(1)
        ),
    )
    .await;
    exec(
        &t,
        &format!(
            "INSERT INTO payment_refunds (id, payment_id, amount_para, state, requested_by, \
             created_at, updated_at) VALUES ({}, {}, 1000, 'pending', 'system', \
             '2026-03-02T09:00:00+00:00', '2026-03-02T09:00:00+00:00')",
            uuid_literal(&t, Uuid::now_v7()),
            lit(2)
        ),
    )
    .await;
    exec(
        &t,
        &format!(
            "UPDATE payments SET state = 'partially_refunded', refunded_para = amount_para + 1 WHERE id = {}",
            lit(3)
        ),
    )
    .await;
    t.clock.advance(Duration::days(1));
    let run = remittance::run(&t.app, &Actor::System, day("2026-03-02"))
        .await
        .expect("run");
    assert_eq!(run.batches.len(), 1);
    let batch = &run.batches[0];
    assert_eq!(batch.transfers, 2);
    assert_eq!(batch.total_para, 75_000 + 100_000);
    let mut got = remittance::payments_of(&t.app, batch.id)
        .await
        .expect("items");
    got.sort();
    let mut want = vec![p[0], p[4]];
    want.sort();
    assert_eq!(got, want);
    let (_, xml) = remittance::file(&t.app, batch.id, File::Pain001)
        .await
        .expect("xml");
    assert!(text(&xml).contains("<InstdAmt Ccy=\"RSD\">750.00</InstdAmt>"));

    // Once the refund under way fails, the payment goes out with the next run.
    exec(&t, "UPDATE payment_refunds SET state = 'failed'").await;
    let run = remittance::run(&t.app, &Actor::System, day("2026-03-02"))
        .await
        .expect("run");
    assert_eq!(run.batches.len(), 1);
    assert_eq!(run.batches[0].part, 2);
    assert_eq!(
        remittance::payments_of(&t.app, run.batches[0].id)
            .await
            .expect("items"),
        vec![p[2]]
    );
}

#[tokio::test]
async fn batches_never_change_and_payments_go_out_once() {
    let t = app().await;
    let first = paid(&t, PAYEE_A, &[10_000, 20_000]).await;
    paid(&t, PAYEE_B, &[30_000]).await;
    t.clock.advance(Duration::days(1));
    // Several runs at once (the daily job and an operator): each payment goes out once.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let app = t.app.clone();
        tasks.push(tokio::spawn(async move {
            remittance::run(&app, &Actor::System, day("2026-03-02")).await
        }));
    }
    let mut made = 0;
    for task in tasks {
        made += task.await.expect("task").expect("run").batches.len();
    }
    assert_eq!(made, 2);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM remittance_items").await, 3);
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_batches").await,
        2
    );

    // The database refuses to change or delete a batch or its items.
    for sql in [
        "UPDATE remittance_batches SET total_para = 1",
        "UPDATE remittance_batches SET pain001 = csv",
        "DELETE FROM remittance_batches",
        "UPDATE remittance_items SET amount_para = 1",
        "DELETE FROM remittance_items",
    ] {
        assert!(!try_exec(&t, sql).await, "{sql} was allowed");
    }
    if t.app.db.backend() == eposta_kernel::db::Backend::Postgres {
        assert!(!try_exec(&t, "TRUNCATE remittance_items").await);
    }
    assert_eq!(count(&t, "SELECT COUNT(*) FROM remittance_items").await, 3);
    // A payment in a batch cannot go into another.
    let batch = remittance::list(&t.app, None, 10).await.expect("list")[0].clone();
    let mut tx = t.app.db.begin().await.expect("tx");
    let copy = remittance::BatchRow {
        id: Uuid::now_v7(),
        part: 9,
        message_id: "EPR-COPY".into(),
        ..batch.clone()
    };
    remittance::store::insert_batch(
        &mut tx,
        &remittance::store::NewBatch {
            row: &copy,
            pain001: b"x",
            csv: b"x",
        },
    )
    .await
    .expect("a new batch row");
    let again = remittance::store::add_items(
        &mut tx,
        copy.id,
        &[remittance::store::Item {
            payment: first[0],
            amount_para: 10_000,
            end_to_end_id: "X".into(),
        }],
    )
    .await;
    assert!(again.is_err(), "{again:?}");
    drop(tx);

    // Bytes changed behind the triggers' back are never handed out.
    let disable = match t.app.db.backend() {
        eposta_kernel::db::Backend::Postgres => {
            "ALTER TABLE remittance_batches DISABLE TRIGGER remittance_batches_immutable"
        }
        eposta_kernel::db::Backend::Sqlite => "DROP TRIGGER remittance_batches_no_update",
    };
    exec(&t, disable).await;
    exec(
        &t,
        &format!(
            "UPDATE remittance_batches SET pain001 = csv WHERE id = {}",
            uuid_literal(&t, batch.id)
        ),
    )
    .await;
    assert!(
        remittance::file(&t.app, batch.id, File::Pain001)
            .await
            .is_err()
    );
    assert!(remittance::file(&t.app, batch.id, File::Csv).await.is_ok());
}

#[tokio::test]
async fn the_daily_job_remits_yesterday_once() {
    let t = app().await;
    paid(&t, PAYEE_A, &[10_000]).await;
    // 10:00 on 2 March in Belgrade: yesterday is 1 March, which had no payments.
    assert_eq!(
        remittance::schedule(&t.app).await.expect("schedule"),
        Some(day("2026-03-01"))
    );
    assert_eq!(remittance::schedule(&t.app).await.expect("again"), None);
    t.run_pending_jobs().await;
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_batches").await,
        0
    );
    // 00:30 on 3 March in Belgrade.
    t.clock.advance(Duration::minutes(14 * 60 + 30));
    assert_eq!(
        remittance::schedule(&t.app).await.expect("schedule"),
        Some(day("2026-03-02"))
    );
    assert_eq!(remittance::schedule(&t.app).await.expect("again"), None);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'payments.remittance.day'"
        )
        .await,
        1
    );
    t.run_pending_jobs().await;
    let batches = remittance::list(&t.app, Some(day("2026-03-02")), 10)
        .await
        .expect("list");
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].created_by, "system");
}

#[tokio::test]
async fn the_admin_runs_a_day_and_downloads_its_files() {
    let t = app().await;
    paid(&t, PAYEE_A, &[10_000, 20_000]).await;
    let mut admin = t.logged_in(Role::Admin, None).await;
    let r = admin
        .post_form("/admin/payments/remittance", &[("date", "2026-03-02")])
        .await;
    assert_eq!(r.status, 422, "the day is not over");
    assert!(r.text().contains("id=\"date-error\""), "{}", r.text());
    assert!(r.text().contains("још није завршен"), "{}", r.text());
    let r = admin
        .post_form("/admin/payments/remittance", &[("date", "2. 3. 2026")])
        .await;
    assert_eq!(r.status, 422);
    t.clock.advance(Duration::days(1));
    // A day later the session has expired: log in again.
    let mut admin = t.logged_in(Role::Admin, None).await;
    let r = admin
        .post_form("/admin/payments/remittance", &[("date", "2026-03-02")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let to = r.location().expect("location").to_owned();
    assert_eq!(to, "/admin/payments/remittance?date=2026-03-02&made=1");
    let page = admin.get(&to).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains(&format!("EPR-20260302-{PAYEE_A}-1")),
        "{html}"
    );
    assert!(html.contains("845-404849-87"), "{html}");
    let batch = remittance::list(&t.app, None, 1).await.expect("list")[0].clone();
    let r = admin
        .get(&format!(
            "/admin/payments/remittance/{}/pain001.xml",
            batch.id
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(hex_sha256(&r.body), batch.pain001_sha256);
    let disposition = r
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{}.xml\"", batch.message_id)
    );
    let r = admin
        .get(&format!(
            "/admin/payments/remittance/{}/batch.csv",
            batch.id
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(hex_sha256(&r.body), batch.csv_sha256);
    // Only admins.
    t.office("11101", "Београд 1").await;
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    let r = clerk
        .get(&format!(
            "/admin/payments/remittance/{}/pain001.xml",
            batch.id
        ))
        .await;
    assert_eq!(r.status, 403);
}
