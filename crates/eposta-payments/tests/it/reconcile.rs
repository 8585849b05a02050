//! Reconciliation: camt.053 statements complete pending IPS payments by reference and total,
//! report what did not match, change nothing the second time, and change nothing at all when
//! the file is broken anywhere.

use std::io::Cursor;

use eposta_formats::account::AccountNumber;
use eposta_formats::iso20022::camt053::{StatementSpec, TransactionSpec, Version, write_statement};
use eposta_formats::iso20022::{CreditDebit, Currency, Date};
use eposta_formats::reference::Reference;
use eposta_kernel::audit::Actor;
use eposta_kernel::testing::TestApp;
use eposta_payments::domain::State;
use eposta_payments::reconcile::{self, ImportError, Imported, Outcome, Request, Source};
use eposta_payments::{TransferMatch, complete_by_transfer, service, settings};
use uuid::Uuid;

use super::{api_key, app, count, order};

/// An IPS payment: its id, its collection reference (IPS form, `97…`) and its total.
#[derive(Debug, Clone)]
pub struct Ips {
    pub id: Uuid,
    pub ro: String,
    pub total: i64,
}

/// Creates `n` IPS payments through the API.
pub async fn ips_payments(t: &TestApp, n: usize) -> Vec<Ips> {
    let token = api_key(t, "Shop", &["payments:write"]).await;
    let mut c = t.api(&token);
    let mut out = Vec::new();
    for i in 0..n {
        let r = c
            .post_json(
                "/api/v1/payments",
                &order("ips"),
                &[("Idempotency-Key", &format!("recon-{}-{i}", Uuid::now_v7()))],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let p = r.json();
        let reference = p["next_action"]["reference"].as_str().expect("reference");
        out.push(Ips {
            id: p["id"].as_str().expect("id").parse().expect("uuid"),
            ro: Reference::parse(reference).expect("valid").ro(),
            total: p["total"]["minor"].as_i64().expect("total"),
        });
    }
    out
}

/// A credit of `para` carrying `reference` (structured) and the bank reference `bank`.
pub fn credit(reference: Option<&str>, para: i64, bank: &str) -> TransactionSpec {
    TransactionSpec {
        direction: CreditDebit::Credit,
        para,
        reference: reference.map(|r| Reference::parse_ro(r).expect("a reference")),
        unstructured: None,
        end_to_end_id: None,
        account_servicer_reference: Some(bank.to_owned()),
        debtor_name: Some("Петар Петровић".into()),
        debtor_account: AccountNumber::parse("160-5100-05").ok(),
        value_date: None,
    }
}

/// A statement of ePošta's collection account with these entries.
pub fn statement(
    t: &TestApp,
    message_id: &str,
    statement_id: &str,
    entries: &[TransactionSpec],
) -> Vec<u8> {
    let collection = settings::collection(&t.app.config).expect("collection");
    statement_of(collection.account, message_id, statement_id, entries)
}

pub fn statement_of(
    account: AccountNumber,
    message_id: &str,
    statement_id: &str,
    entries: &[TransactionSpec],
) -> Vec<u8> {
    let spec = StatementSpec {
        version: Version::V02,
        message_id: message_id.into(),
        statement_id: statement_id.into(),
        created: "2026-03-02T18:00:00".into(),
        account,
        iban: true,
        currency: Currency::RSD,
        opening_para: 0,
        date: Date::new(2026, 3, 2).expect("date"),
    };
    write_statement(
        &spec,
        entries.len() as u64,
        |i| entries[i as usize].clone(),
        Vec::new(),
    )
    .expect("statement")
}

pub async fn import(t: &TestApp, file: Vec<u8>) -> Result<Imported, ImportError> {
    reconcile::import(
        &t.app,
        &Request {
            actor: &Actor::System,
            source: Source::Cli,
            file_name: "statement.xml",
        },
        Cursor::new(file),
        |_| {},
    )
    .await
}

async fn state(t: &TestApp, id: Uuid) -> State {
    service::get(&t.app, id).await.expect("payment").state
}

#[tokio::test]
async fn credits_complete_their_payments_and_the_rest_is_reported() {
    let t = app().await;
    let p = ips_payments(&t, 4).await;
    let unknown = Reference::model97("2026000000001").expect("ref").ro();
    let mut free_text = credit(None, p[3].total, "BANK-4");
    free_text.unstructured = Some(format!("Uplata po racunu 97 {}", &p[3].ro[2..]));
    let file = statement(
        &t,
        "MSG-1",
        "STMT-1",
        &[
            credit(Some(&p[0].ro), p[0].total, "BANK-1"),
            // The amount without the fee is not what the QR code asked for.
            credit(Some(&p[1].ro), p[1].total - 2000, "BANK-2"),
            credit(Some(&unknown), 5000, "BANK-3"),
            free_text,
            credit(None, 7000, "BANK-5"),
            TransactionSpec {
                direction: CreditDebit::Debit,
                ..credit(None, 1500, "FEE-1")
            },
        ],
    );
    let Imported::New(id) = import(&t, file).await.expect("import") else {
        panic!("a new statement");
    };
    assert_eq!(state(&t, p[0].id).await, State::Succeeded);
    assert_eq!(state(&t, p[1].id).await, State::Pending);
    assert_eq!(state(&t, p[2].id).await, State::Pending);
    assert_eq!(state(&t, p[3].id).await, State::Succeeded);
    let paid = service::get(&t.app, p[0].id).await.expect("p");
    assert_eq!(paid.bank_ref.as_deref(), Some("BANK-1"));
    assert!(paid.completed_at.is_some());

    let r = reconcile::report(&t.app, id).await.expect("report");
    assert_eq!(r.import.entries, 6);
    assert_eq!(r.import.message_id, "MSG-1");
    assert_eq!(r.import.file_sha256.len(), 64);
    assert_ne!(r.import.file_sha256, "0".repeat(64));
    assert_eq!(r.statements.len(), 1);
    assert_eq!(r.statements[0].statement_id, "STMT-1");
    assert_eq!(r.statements[0].entries, 6);
    assert_eq!(r.count(Outcome::Completed), 2);
    assert_eq!(r.count(Outcome::AmountMismatch), 1);
    assert_eq!(r.count(Outcome::UnknownReference), 2);
    assert_eq!(r.count(Outcome::Debit), 1);
    assert_eq!(r.listed(), 3);
    let completed_para = r
        .outcomes
        .iter()
        .find(|(o, _, _)| *o == Outcome::Completed)
        .map(|(_, _, para)| *para);
    assert_eq!(completed_para, Some(p[0].total + p[3].total));

    let items = reconcile::items(&t.app, id, 0, 100).await.expect("items");
    type Row<'a> = (&'a str, Option<&'a str>, Option<Uuid>, Option<i64>);
    let summary: Vec<Row<'_>> = items
        .iter()
        .map(|i| {
            (
                i.outcome.as_str(),
                i.reference.as_deref(),
                i.payment_id,
                i.expected_para,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "amount_mismatch",
                Some(p[1].ro.as_str()),
                Some(p[1].id),
                Some(p[1].total)
            ),
            ("unknown_reference", Some(unknown.as_str()), None, None),
            ("unknown_reference", None, None, None),
        ]
    );
    assert!(items.windows(2).all(|w| w[0].line < w[1].line));
    assert_eq!(items[0].bank_ref, "BANK-2");

    // Each completion is a history row, chained into the audit log like any change.
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM payment_events WHERE event = 'succeed'"
        )
        .await,
        2
    );
    service::audit::flush(&t.app).await.expect("flush");
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'payment.succeeded'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'payments.statement.imported'"
        )
        .await,
        1
    );
    let history = service::history(&t.app, p[0].id).await.expect("history");
    let last = history.last().expect("rows");
    assert_eq!(last.event, "succeed");
    assert!(last.detail.contains(&id.to_string()), "{}", last.detail);
    // On PostgreSQL no foreign key checks this (migration 0019): every history row written
    // by the bulk completion names the payment it completed.
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM payment_events e \
             WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = e.payment_id)"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM payment_events e JOIN payments p ON p.id = e.payment_id \
             WHERE e.event = 'succeed' AND p.state <> 'succeeded'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn the_same_statement_twice_changes_nothing() {
    let t = app().await;
    let p = ips_payments(&t, 2).await;
    let entries = [
        credit(Some(&p[0].ro), p[0].total, "BANK-1"),
        credit(Some(&p[1].ro), p[1].total + 1, "BANK-2"),
    ];
    let file = statement(&t, "MSG-1", "STMT-1", &entries);
    let Imported::New(first) = import(&t, file.clone()).await.expect("import") else {
        panic!("new");
    };
    let tables = [
        "SELECT COUNT(*) FROM statement_imports",
        "SELECT COUNT(*) FROM statement_items",
        "SELECT COUNT(*) FROM payment_events",
        "SELECT COUNT(*) FROM audit_log",
        "SELECT COUNT(*) FROM payments WHERE state = 'succeeded'",
    ];
    let mut before = Vec::new();
    for sql in tables {
        before.push(count(&t, sql).await);
    }
    // The same file, and the same statement downloaded again (new message id and time).
    let again = statement(&t, "MSG-2", "STMT-1", &entries);
    for file in [file, again] {
        match import(&t, file).await.expect("import") {
            Imported::AlreadyImported(seen) => {
                assert_eq!(seen.len(), 1);
                assert_eq!(seen[0].statement_id, "STMT-1");
                assert_eq!(seen[0].import, first);
            }
            other => panic!("{other:?}"),
        }
        for (sql, n) in tables.iter().zip(&before) {
            assert_eq!(count(&t, sql).await, *n, "{sql}");
        }
    }
    assert_eq!(state(&t, p[1].id).await, State::Pending);

    // A later statement that repeats a transfer and brings a new one: the repeat is reported
    // as already completed, the new one completes.
    let next = statement(
        &t,
        "MSG-3",
        "STMT-2",
        &[
            credit(Some(&p[0].ro), p[0].total, "BANK-1"),
            credit(Some(&p[1].ro), p[1].total, "BANK-9"),
        ],
    );
    let Imported::New(second) = import(&t, next).await.expect("import") else {
        panic!("new");
    };
    let r = reconcile::report(&t.app, second).await.expect("report");
    assert_eq!(r.count(Outcome::AlreadyCompleted), 1);
    assert_eq!(r.count(Outcome::Completed), 1);
    assert_eq!(state(&t, p[1].id).await, State::Succeeded);
}

#[tokio::test]
async fn a_broken_statement_changes_nothing_and_names_its_line() {
    let t = app().await;
    let p = ips_payments(&t, 2).await;
    let good = statement(
        &t,
        "MSG-1",
        "STMT-1",
        &[
            credit(Some(&p[0].ro), p[0].total, "BANK-1"),
            credit(Some(&p[1].ro), p[1].total, "BANK-2"),
        ],
    );
    let text = String::from_utf8(good).expect("utf-8");
    // A closing balance that does not add up is only found at the end, after both credits
    // were read; and a file cut off in the middle of the second entry.
    let closing = text.rfind("<Cd>CLBD</Cd>").expect("closing balance");
    let amount_at = closing + text[closing..].find("<Amt").expect("amount");
    let amount_end = amount_at + text[amount_at..].find("</Amt>").expect("end");
    let mut wrong_total = text.clone();
    wrong_total.replace_range(amount_at..amount_end, "<Amt Ccy=\"RSD\">1.00");
    let second = text.find("BANK-2").expect("second entry");
    let cut = text[..second].to_owned();
    let mut bad_amount = text.clone();
    let first_amount = bad_amount.find("<Amt Ccy=\"RSD\">").expect("amount") + 15;
    let amount_line = bad_amount[..first_amount].lines().count() as u64;
    bad_amount.insert_str(first_amount, "1,");
    let cases = [
        (wrong_total, None, "closing"),
        (cut, None, "XML"),
        (bad_amount, Some(amount_line), "Amt"),
    ];
    for (file, line, reason) in cases {
        let lines = file.lines().count() as u64;
        match import(&t, file.into_bytes()).await {
            Err(ImportError::Refused {
                line: at,
                reason: why,
            }) => {
                assert!(at >= 1 && at <= lines + 1, "line {at} of {lines}");
                if let Some(l) = line {
                    assert_eq!(at, l, "{why}");
                }
                assert!(why.contains(reason), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(state(&t, p[0].id).await, State::Pending);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM statement_imports").await, 0);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM bank_statements").await, 0);
        assert_eq!(
            count(
                &t,
                "SELECT COUNT(*) FROM payment_events WHERE event = 'succeed'"
            )
            .await,
            0
        );
    }
    // Not XML at all, and a statement of another account.
    let other = statement_of(
        AccountNumber::parse("160-5100-05").expect("account"),
        "MSG-9",
        "STMT-9",
        &[credit(Some(&p[0].ro), p[0].total, "BANK-1")],
    );
    for (file, reason) in [
        (b"not a statement".to_vec(), "XML"),
        (other, "collection account"),
    ] {
        match import(&t, file).await {
            Err(ImportError::Refused { reason: why, .. }) => {
                assert!(why.contains(reason), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(state(&t, p[0].id).await, State::Pending);
    // The good file still imports afterwards.
    let good = statement(
        &t,
        "MSG-1",
        "STMT-1",
        &[credit(Some(&p[0].ro), p[0].total, "BANK-1")],
    );
    assert!(matches!(import(&t, good).await, Ok(Imported::New(_))));
    assert_eq!(state(&t, p[0].id).await, State::Succeeded);
}

/// Reconciliation judges a credit exactly as `complete_by_transfer` does: for each case, one
/// payment goes through the function and its twin through a statement.
#[tokio::test]
async fn statements_and_complete_by_transfer_agree() {
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Case {
        Exact,
        Short,
        Expired,
        SameTransferAgain,
        PaidByAnother,
        BankRefOfAnother,
        Unknown,
    }
    let cases = [
        Case::Exact,
        Case::Short,
        Case::Expired,
        Case::SameTransferAgain,
        Case::PaidByAnother,
        Case::BankRefOfAnother,
        Case::Unknown,
    ];
    let t = app().await;
    // Two payments per case, [2i] for the function and [2i + 1] for the statement, and a
    // spare one whose transfer's bank reference both paths reuse.
    let p = ips_payments(&t, 2 * cases.len() + 1).await;
    let spare = &p[2 * cases.len()];
    let system = Actor::System;
    let paid = complete_by_transfer(&t.app, &system, &spare.ro, spare.total, "USED")
        .await
        .expect("spare");
    assert!(matches!(paid, TransferMatch::Completed { .. }));
    let unknown = Reference::model97("9999999999999").expect("ref").ro();
    let mut want = Vec::new();
    let mut entries = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut credit_of = Vec::new();
        for (k, path) in ["fn", "stmt"].into_iter().enumerate() {
            let x = &p[2 * i + k];
            let mut bank = format!("NEW-{path}-{i}");
            let mut amount = x.total;
            let mut reference = x.ro.clone();
            match case {
                Case::Exact => {}
                Case::Short => amount -= 1,
                Case::Expired => {
                    super::exec(
                        &t,
                        &format!(
                            "UPDATE payments SET state = 'expired' WHERE id = {}",
                            uuid_literal(&t, x.id)
                        ),
                    )
                    .await;
                }
                Case::SameTransferAgain | Case::PaidByAnother => {
                    let before = format!("OLD-{path}-{i}");
                    complete_by_transfer(&t.app, &system, &x.ro, x.total, &before)
                        .await
                        .expect("paid before");
                    if *case == Case::SameTransferAgain {
                        bank = before;
                    }
                }
                Case::BankRefOfAnother => bank = "USED".into(),
                Case::Unknown => reference = unknown.clone(),
            }
            credit_of.push((reference, amount, bank));
        }
        let (r, a, b) = &credit_of[0];
        let m = complete_by_transfer(&t.app, &system, r, *a, b)
            .await
            .expect("match");
        want.push(Outcome::of(&m));
        let (r, a, b) = &credit_of[1];
        entries.push(credit(Some(r), *a, b));
    }
    assert_eq!(
        want,
        vec![
            Outcome::Completed,
            Outcome::AmountMismatch,
            Outcome::NotPending,
            Outcome::AlreadyCompleted,
            Outcome::NotPending,
            Outcome::BankRefUsed,
            Outcome::UnknownReference,
        ]
    );
    let Imported::New(id) = import(&t, statement(&t, "MSG-A", "STMT-A", &entries))
        .await
        .expect("import")
    else {
        panic!("new");
    };
    let items = reconcile::items(&t.app, id, 0, 100).await.expect("items");
    let got: Vec<Outcome> = entries
        .iter()
        .map(|e| {
            let bank = e.account_servicer_reference.as_deref();
            items
                .iter()
                .find(|i| Some(i.bank_ref.as_str()) == bank)
                .map_or(Outcome::Completed, |i| {
                    Outcome::parse(&i.outcome).expect("outcome")
                })
        })
        .collect();
    assert_eq!(got, want);
    // The states the two paths leave agree too.
    for i in 0..cases.len() {
        assert_eq!(
            state(&t, p[2 * i].id).await,
            state(&t, p[2 * i + 1].id).await,
            "{:?}",
            cases[i]
        );
    }
}

/// A UUID as a literal of the test database's dialect.
fn uuid_literal(t: &TestApp, id: Uuid) -> String {
    match t.app.db.backend() {
        eposta_kernel::db::Backend::Postgres => format!("'{id}'"),
        eposta_kernel::db::Backend::Sqlite => format!("X'{}'", id.simple()),
    }
}

/// A `multipart/form-data` body with the field `file`.
fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----recon-test-boundary-7d0a";
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
async fn the_admin_uploads_a_statement_and_reads_its_report() {
    use axum::body::Body;
    use axum::http::Method;
    use eposta_kernel::accounts::Role;

    let t = app().await;
    let p = ips_payments(&t, 2).await;
    let mut admin = t.logged_in(Role::Admin, None).await;
    let csrf = admin.csrf().await;
    let path = format!("/admin/payments/statements?csrf={csrf}");
    let upload = async |admin: &mut eposta_kernel::testing::Client, file: &[u8]| {
        let (kind, body) = multipart("izvod-2026-03-02.xml", file);
        admin
            .send(
                Method::POST,
                &path,
                &[("content-type", kind.as_str())],
                Body::from(body),
            )
            .await
    };
    let file = statement(
        &t,
        "MSG-1",
        "STMT-1",
        &[
            credit(Some(&p[0].ro), p[0].total, "BANK-1"),
            credit(Some(&p[1].ro), p[1].total - 100, "BANK-2"),
        ],
    );
    // Broken: refused with its line, nothing applied.
    let cut = &file[..file.len() - 40];
    let r = upload(&mut admin, cut).await;
    assert_eq!(r.status, 422);
    // The page is in Serbian by default: "ред N: …", the reason naming the XML fault.
    assert!(r.text().contains("id=\"refused\""), "{}", r.text());
    assert!(r.text().contains("ред "), "{}", r.text());
    assert_eq!(count(&t, "SELECT COUNT(*) FROM statement_imports").await, 0);

    let r = upload(&mut admin, &file).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let report = r.location().expect("location").to_owned();
    assert!(report.starts_with("/admin/payments/statements/"));
    assert_eq!(state(&t, p[0].id).await, State::Succeeded);
    let html = admin.get(&report).await.text();
    assert!(html.contains("data-outcome=\"completed\""), "{html}");
    assert!(html.contains("data-outcome=\"amount_mismatch\""), "{html}");
    assert!(html.contains("BANK-2"), "{html}");
    assert!(html.contains("izvod-2026-03-02.xml"), "{html}");
    let list = admin.get("/admin/payments/statements").await.text();
    assert!(list.contains(&report), "{list}");

    // The same statement again: nothing changes, the page says it was imported before.
    let r = upload(&mut admin, &file).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains(&report), "{}", r.text());
    assert_eq!(count(&t, "SELECT COUNT(*) FROM statement_imports").await, 1);

    // No file, and a form without the CSRF token.
    let r = admin
        .send(
            Method::POST,
            &path,
            &[("content-type", "multipart/form-data; boundary=x")],
            Body::from("--x--\r\n"),
        )
        .await;
    assert_eq!(r.status, 422);
    let (kind, body) = multipart("a.xml", &file);
    let r = admin
        .send(
            Method::POST,
            "/admin/payments/statements",
            &[("content-type", kind.as_str())],
            Body::from(body),
        )
        .await;
    assert_eq!(r.status, 403);
}
