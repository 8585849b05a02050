//! The audit log's hash chain: `audit::verify` names the first entry that was changed,
//! deleted or rewritten behind the application's back (as someone with database access could).

use eposta_kernel::accounts::Role;
use eposta_kernel::audit::{self, Verdict};
use eposta_kernel::db_run;
use eposta_kernel::testing::TestApp;

async fn verify(t: &TestApp) -> Verdict {
    let mut conn = t.app.db.conn().await.expect("connection");
    audit::verify(&mut conn).await.expect("verify")
}

/// Runs one statement that changes rows, straight on the database.
async fn sql(t: &TestApp, statement: &str) -> u64 {
    let mut tx = t.app.db.begin().await.expect("tx");
    let n = db_run!(&mut tx, |c| sqlx::query(statement)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
    .expect("statement");
    tx.commit().await.expect("commit");
    n
}

/// Four entries, one per account created.
async fn four_entries() -> TestApp {
    let t = TestApp::new().await;
    for _ in 0..4 {
        t.user(Role::Admin, None).await;
    }
    assert_eq!(verify(&t).await, Verdict::Intact(4));
    t
}

#[tokio::test]
async fn verify_names_an_entry_whose_content_was_changed() {
    let t = four_entries().await;
    let n = sql(
        &t,
        "UPDATE audit_log SET details = '{\"role\":\"citizen\"}' WHERE seq = 2",
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(
        verify(&t).await,
        Verdict::Broken {
            seq: 2,
            reason: "content does not match its hash".into()
        }
    );
}

#[tokio::test]
async fn verify_names_an_entry_deleted_from_the_middle() {
    let t = four_entries().await;
    assert_eq!(sql(&t, "DELETE FROM audit_log WHERE seq = 2").await, 1);
    assert_eq!(
        verify(&t).await,
        Verdict::Broken {
            seq: 2,
            reason: "entry missing (next is 3)".into()
        }
    );
}

#[tokio::test]
async fn verify_names_an_entry_rewritten_with_a_fresh_hash() {
    // Recomputing the changed entry's own hash is not enough: the next entry still names
    // the old one.
    let t = four_entries().await;
    let mut conn = t.app.db.conn().await.expect("connection");
    let rows = audit::recent(&mut conn, None, 10).await.expect("audit");
    drop(conn);
    let second = rows.iter().find(|r| r.seq == 2).expect("entry 2");
    let details = r#"{"role":"citizen"}"#;
    let forged = audit::entry_hash(
        &second.prev_hash,
        2,
        second.at,
        &second.actor,
        &second.action,
        &second.subject,
        second.office_id,
        details,
    );
    let n = sql(
        &t,
        &format!("UPDATE audit_log SET details = '{details}', hash = '{forged}' WHERE seq = 2"),
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(
        verify(&t).await,
        Verdict::Broken {
            seq: 3,
            reason: "does not link to the entry before it".into()
        }
    );
}

/// Entries appended in a batch chain exactly as entries appended one by one, before and
/// after them.
#[tokio::test]
async fn a_batch_of_entries_chains_like_single_ones() {
    let t = four_entries().await;
    let actor = audit::Actor::System;
    let subjects: Vec<String> = (0..45).map(|i| format!("thing:{i}")).collect();
    let entries: Vec<_> = subjects
        .iter()
        .enumerate()
        .map(|(i, subject)| {
            (
                t.app.now() + chrono::Duration::seconds(i as i64),
                audit::Entry {
                    actor: &actor,
                    action: "test.batched",
                    subject,
                    office_id: None,
                    details: serde_json::json!({ "n": i }),
                },
            )
        })
        .collect();
    let mut tx = t.app.db.begin().await.expect("tx");
    audit::append_many(&mut tx, &entries).await.expect("batch");
    audit::append_many(&mut tx, &[]).await.expect("nothing");
    tx.commit().await.expect("commit");
    assert_eq!(verify(&t).await, Verdict::Intact(49));
    t.user(Role::Admin, None).await;
    assert_eq!(verify(&t).await, Verdict::Intact(50));
    assert_eq!(
        sql(&t, "UPDATE audit_log SET details = '{}' WHERE seq = 30").await,
        1
    );
    assert_eq!(
        verify(&t).await,
        Verdict::Broken {
            seq: 30,
            reason: "content does not match its hash".into()
        }
    );
}
