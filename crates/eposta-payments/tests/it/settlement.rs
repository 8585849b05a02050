//! Settlement of remittance batches: the bank's pain.002 reports record each batch's and
//! transfer's status beside the immutable batch, a rejected transfer goes out again in the
//! next run exactly once, a report read twice or naming no batch of ours changes nothing, and
//! the batch's debits on a statement settle it.

use axum::body::Body;
use axum::http::Method;
use chrono::Duration;
use eposta_formats::iso20022::CreditDebit;
use eposta_formats::iso20022::camt053::TransactionSpec;
use eposta_formats::iso20022::pain002::Status;
use eposta_kernel::accounts::Role;
use eposta_kernel::audit::Actor;
use eposta_kernel::testing::TestApp;
use eposta_payments::reconcile::{self, ImportError, Imported, Outcome, Source};
use eposta_payments::remittance::settle::{self, StatusImported, StatusReport, TxResult};
use eposta_payments::remittance::status::Settlement;
use eposta_payments::remittance::{self, BatchRow, File};
use eposta_payments::service;
use uuid::Uuid;

use super::reconcile::{import, statement};
use super::remittance::{PAYEE_A, PAYEE_B, day, paid};
use super::{app, count};

/// A pain.002.001.03 answering `original` (a batch's message id): the group status, and
/// transactions as (end-to-end id, status, reason code).
fn pain002(
    msg_id: &str,
    original: &str,
    group: &str,
    txs: &[(&str, &str, Option<&str>)],
) -> Vec<u8> {
    let mut body = String::new();
    if !txs.is_empty() {
        body.push_str(&format!(
            "<OrgnlPmtInfAndSts><OrgnlPmtInfId>{original}</OrgnlPmtInfId><PmtInfSts>{group}</PmtInfSts>\n"
        ));
        for (e2e, status, reason) in txs {
            body.push_str(&format!(
                "<TxInfAndSts><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
            ));
            if let Some(r) = reason {
                body.push_str(&format!(
                    "<StsRsnInf><Rsn><Cd>{r}</Cd></Rsn><AddtlInf>Account closed</AddtlInf></StsRsnInf>"
                ));
            }
            body.push_str("</TxInfAndSts>\n");
        }
        body.push_str("</OrgnlPmtInfAndSts>\n");
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
<CstmrPmtStsRpt>
<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-03-03T09:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId><GrpSts>{group}</GrpSts></OrgnlGrpInfAndSts>
{body}</CstmrPmtStsRpt>
</Document>
"#
    )
    .into_bytes()
}

async fn read_status(t: &TestApp, file: &[u8]) -> Result<StatusImported, ImportError> {
    settle::import(
        &t.app,
        &settle::Request {
            actor: &Actor::System,
            source: Source::Cli,
            file_name: "pain002.xml",
        },
        file,
    )
    .await
}

async fn new_report(t: &TestApp, file: &[u8]) -> StatusReport {
    match read_status(t, file).await.expect("imported") {
        StatusImported::New(r) => r,
        other => panic!("not new: {other:?}"),
    }
}

async fn batch_status(t: &TestApp, batch: Uuid) -> Option<String> {
    remittance::statuses(&t.app, &[batch])
        .await
        .expect("statuses")
        .into_iter()
        .next()
        .map(|(_, s)| s)
}

async fn confirmation(t: &TestApp, payment: Uuid) -> String {
    service::get(&t.app, payment)
        .await
        .expect("payment")
        .confirmation
}

/// Three payments to A, two to B, remitted for 2 March: the batches of A and B.
async fn two_batches(t: &TestApp) -> (Vec<Uuid>, Vec<Uuid>, BatchRow, BatchRow) {
    let a = paid(t, PAYEE_A, &[100_000, 200_000, 300_000]).await;
    let b = paid(t, PAYEE_B, &[5_000, 7_000]).await;
    t.clock.advance(Duration::hours(15));
    let run = remittance::run(&t.app, &Actor::System, day("2026-03-02"))
        .await
        .expect("run");
    let ba = run
        .batches
        .iter()
        .find(|x| x.payee_account == PAYEE_A)
        .expect("A")
        .clone();
    let bb = run
        .batches
        .iter()
        .find(|x| x.payee_account != PAYEE_A)
        .expect("B")
        .clone();
    (a, b, ba, bb)
}

#[tokio::test]
async fn a_rejected_transfer_goes_out_again_once_and_reports_change_nothing_twice() {
    let t = app().await;
    let (a, _, ba, _) = two_batches(&t).await;
    let rejected = a[1];
    let e2e = confirmation(&t, rejected).await;

    // The bank accepts the file.
    let accepted = pain002("STS-1", &ba.message_id, "ACCP", &[]);
    let r = new_report(&t, &accepted).await;
    assert_eq!(r.batch, Some(ba.id));
    assert_eq!(r.batch_status, Some(Settlement::Bank(Status::Accp)));
    assert_eq!(batch_status(&t, ba.id).await.as_deref(), Some("ACCP"));
    let history = "SELECT COUNT(*) FROM remittance_status_history";
    assert_eq!(count(&t, history).await, 1);

    // The same report again: recognised, nothing changes.
    match read_status(&t, &accepted).await.expect("again") {
        StatusImported::AlreadyImported(id) => assert_eq!(id, r.id),
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&t, history).await, 1);
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_status_reports").await,
        1
    );

    // Then it settles two transfers and rejects one.
    let others = [confirmation(&t, a[0]).await, confirmation(&t, a[2]).await];
    let partly = pain002(
        "STS-2",
        &ba.message_id,
        "PART",
        &[
            (&others[0], "ACSC", None),
            (&e2e, "RJCT", Some("AC04")),
            (&others[1], "ACSC", None),
            ("NO-SUCH-E2E", "ACSC", None),
        ],
    );
    let r = new_report(&t, &partly).await;
    assert_eq!(r.batch_status, Some(Settlement::Bank(Status::Part)));
    assert_eq!(r.rejected(), 1);
    assert_eq!(r.count(TxResult::Changed), 3);
    assert_eq!(r.count(TxResult::Unknown), 1);
    let unknown = r
        .transactions
        .iter()
        .find(|t| t.result == TxResult::Unknown)
        .expect("unknown");
    assert_eq!(unknown.end_to_end_id, "NO-SUCH-E2E");
    let reject = r
        .transactions
        .iter()
        .find(|x| x.end_to_end_id == e2e)
        .expect("rejected");
    assert_eq!(reject.payment, Some(rejected));
    assert_eq!(reject.reason_code.as_deref(), Some("AC04"));
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM remittance_rejections WHERE retry_batch IS NULL"
        )
        .await,
        1
    );
    assert_eq!(count(&t, history).await, 5);

    // Old news (an acceptance read late) and a contradiction change nothing.
    let late = pain002("STS-3", &ba.message_id, "ACTC", &[(&e2e, "ACSC", None)]);
    let r = new_report(&t, &late).await;
    assert_eq!(r.batch_change, Some(remittance::status::Change::Older));
    assert_eq!(r.transactions[0].result, TxResult::Conflict);
    assert_eq!(batch_status(&t, ba.id).await.as_deref(), Some("PART"));
    assert_eq!(count(&t, history).await, 5);

    // The rejected payment goes out again with the next run, alone, in a new batch.
    t.clock.advance(Duration::days(1));
    let next = remittance::run(&t.app, &Actor::System, day("2026-03-03"))
        .await
        .expect("next run");
    assert_eq!(next.batches.len(), 1, "{next:?}");
    let retry = &next.batches[0];
    assert_eq!(retry.payee_account, PAYEE_A);
    assert_eq!((retry.transfers, retry.total_para), (1, 200_000));
    assert_eq!(
        remittance::payments_of(&t.app, retry.id)
            .await
            .expect("items"),
        vec![rejected]
    );
    let (_, xml) = remittance::file(&t.app, retry.id, File::Pain001)
        .await
        .expect("xml");
    let xml = String::from_utf8(xml).expect("utf-8");
    assert!(
        xml.contains(&format!("<EndToEndId>{e2e}</EndToEndId>")),
        "{xml}"
    );
    // The first batch is unchanged; the payment still names it.
    assert_eq!(
        remittance::payments_of(&t.app, ba.id)
            .await
            .expect("items")
            .len(),
        3
    );
    // Exactly once: later runs find nothing.
    for d in ["2026-03-03", "2026-03-02"] {
        let again = remittance::run(&t.app, &Actor::System, day(d))
            .await
            .expect("again");
        assert!(again.batches.is_empty(), "{d}: {again:?}");
    }
    t.clock.advance(Duration::days(1));
    let later = remittance::run(&t.app, &Actor::System, day("2026-03-04"))
        .await
        .expect("later");
    assert!(later.batches.is_empty());
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM remittance_rejections WHERE retry_batch IS NOT NULL"
        )
        .await,
        1
    );

    // The retry can be rejected too, and goes out once more.
    let again = pain002("STS-4", &retry.message_id, "RJCT", &[]);
    let r = new_report(&t, &again).await;
    assert_eq!(r.rejected(), 1);
    t.clock.advance(Duration::days(1));
    let third = remittance::run(&t.app, &Actor::System, day("2026-03-05"))
        .await
        .expect("third");
    assert_eq!(third.batches.len(), 1);
    assert_eq!(
        remittance::payments_of(&t.app, third.batches[0].id)
            .await
            .expect("items"),
        vec![rejected]
    );

    // History is append-only, like the batches.
    let mut conn = t.app.db.conn().await.expect("conn");
    let refused = eposta_kernel::db_run!(&mut conn, |c| sqlx::query(
        "UPDATE remittance_status_history SET status = 'ACSC'"
    )
    .execute(&mut *c)
    .await
    .map(|_| ()));
    assert!(refused.is_err());
    drop(conn);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'payments.remittance.status'"
        )
        .await,
        4
    );
}

#[tokio::test]
async fn a_report_for_an_unknown_batch_or_a_broken_one_changes_nothing() {
    let t = app().await;
    let (_, _, ba, _) = two_batches(&t).await;
    let unknown = pain002(
        "STS-U",
        "EPR-20990101-000000000000000000-1",
        "RJCT",
        &[("X-1", "RJCT", Some("AC01"))],
    );
    let r = new_report(&t, &unknown).await;
    assert_eq!(r.batch, None);
    assert_eq!(r.rejected(), 0);
    assert_eq!(r.count(TxResult::Unknown), 1);
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_status_history").await,
        0
    );
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_rejections").await,
        0
    );
    assert!(matches!(
        read_status(&t, &unknown).await,
        Ok(StatusImported::AlreadyImported(_))
    ));

    // Broken: refused with the line and reason; nothing stored.
    let good = pain002("STS-B", &ba.message_id, "RJCT", &[]);
    let text = String::from_utf8(good).expect("utf-8");
    let broken = text.replace("<GrpSts>RJCT</GrpSts>", "<GrpSts>NOPE</GrpSts>");
    match read_status(&t, broken.as_bytes()).await {
        Err(ImportError::Refused { line, reason }) => {
            assert_eq!(line, 5);
            assert!(reason.contains("GrpSts"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_status_reports").await,
        1
    );
    assert_eq!(batch_status(&t, ba.id).await, None);
}

/// A booked debit of the collection account.
fn debit(para: i64, e2e: Option<&str>, bank: &str) -> TransactionSpec {
    TransactionSpec {
        direction: CreditDebit::Debit,
        para,
        reference: None,
        unstructured: None,
        end_to_end_id: e2e.map(str::to_owned),
        account_servicer_reference: Some(bank.to_owned()),
        debtor_name: None,
        debtor_account: None,
        value_date: None,
    }
}

#[tokio::test]
async fn the_batches_debits_on_the_statement_settle_them() {
    let t = app().await;
    let (a, _, ba, bb) = two_batches(&t).await;
    let mut entries = Vec::new();
    // A's transfers booked one by one (by end-to-end id); B's batch booked as one entry
    // whose bank reference is the batch's message id; a bank fee; a debit with A's first
    // end-to-end id but another amount (not ours).
    for (p, amount) in a.iter().zip([100_000, 200_000, 300_000]) {
        let e2e = confirmation(&t, *p).await;
        entries.push(debit(amount, Some(&e2e), &format!("D-{amount}")));
    }
    entries.push(debit(bb.total_para, None, &bb.message_id));
    entries.push(debit(250, None, "FEE-1"));
    let first = confirmation(&t, a[0]).await;
    entries.push(debit(99, Some(&first), "D-odd"));
    let file = statement(&t, "MSG-D", "STMT-D", &entries);
    let id = match import(&t, file.clone()).await.expect("imported") {
        Imported::New(id) => id,
        other => panic!("{other:?}"),
    };
    let report = reconcile::report(&t.app, id).await.expect("report");
    assert_eq!(report.count(Outcome::RemittanceDebit), 4);
    assert_eq!(report.count(Outcome::Debit), 2);
    assert_eq!(batch_status(&t, ba.id).await.as_deref(), Some("settled"));
    assert_eq!(batch_status(&t, bb.id).await.as_deref(), Some("settled"));
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM remittance_transfer_status WHERE status = 'settled'"
        )
        .await,
        3
    );
    let history = count(&t, "SELECT COUNT(*) FROM remittance_status_history").await;
    assert_eq!(history, 5);

    // A later statement repeating a debit changes nothing, and a rejection after the money
    // left is a conflict, not a rejection.
    let again = statement(&t, "MSG-D2", "STMT-D2", &entries[..1]);
    import(&t, again).await.expect("again");
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_status_history").await,
        history
    );
    let late = pain002(
        "STS-L",
        &ba.message_id,
        "PART",
        &[(&first, "RJCT", Some("AC04"))],
    );
    let r = new_report(&t, &late).await;
    assert_eq!(r.transactions[0].result, TxResult::Conflict);
    assert_eq!(r.rejected(), 0);
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_rejections").await,
        0
    );
    assert_eq!(batch_status(&t, ba.id).await.as_deref(), Some("settled"));

    // The report page shows the new outcome.
    let mut admin = t.logged_in(Role::Admin, None).await;
    let html = admin
        .get(&format!("/admin/payments/statements/{id}"))
        .await
        .text();
    assert!(html.contains("data-outcome=\"remittance_debit\""), "{html}");
}

/// A `multipart/form-data` body with the field `file`.
fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----settle-test-boundary-3f1c";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/xml\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_admin_uploads_a_status_report() {
    let t = app().await;
    let (_, b, _, bb) = two_batches(&t).await;
    let mut admin = t.logged_in(Role::Admin, None).await;
    let csrf = admin.csrf().await;
    let path = format!("/admin/payments/remittance/status?csrf={csrf}");
    let e2e = confirmation(&t, b[0]).await;
    let file = pain002(
        "STS-W",
        &bb.message_id,
        "PART",
        &[(&e2e, "RJCT", Some("AM04")), ("X-9", "ACSC", None)],
    );
    let (kind, body) = multipart("pain002.xml", &file);
    let r = admin
        .send(
            Method::POST,
            &path,
            &[("content-type", kind.as_str())],
            Body::from(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"report\""), "{html}");
    assert!(html.contains(&bb.message_id), "{html}");
    assert!(html.contains("X-9"), "{html}");
    assert!(html.contains("<span class=\"code\">PART</span>"), "{html}");
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM remittance_rejections WHERE retry_batch IS NULL"
        )
        .await,
        1
    );
    // Refused: 422 with the line; without the CSRF token: refused before anything.
    let (kind, body) = multipart("bad.xml", b"<Document>");
    let r = admin
        .send(
            Method::POST,
            &path,
            &[("content-type", kind.as_str())],
            Body::from(body),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let (kind, body) = multipart(
        "pain002.xml",
        &pain002("STS-X", &bb.message_id, "ACSC", &[]),
    );
    let r = admin
        .send(
            Method::POST,
            "/admin/payments/remittance/status",
            &[("content-type", kind.as_str())],
            Body::from(body),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM remittance_status_reports").await,
        1
    );
}
