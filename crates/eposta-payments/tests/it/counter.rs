//! Cash at the counter, as the counter's pages will create it: succeeded at once, with its
//! whole history, owned by the clerk and the office.

use eposta_kernel::accounts::Role;
use eposta_kernel::db_run;
use eposta_payments::domain::{Channel, Method, Owner, PaymentInput, State};
use eposta_payments::service;

use super::{app, count, order};

#[tokio::test]
async fn a_clerk_takes_a_cash_payment() {
    let t = app().await;
    let office = t.office("11101", "Београд 1").await;
    let email = t.user(Role::Clerk, Some("11101")).await;
    let clerk = {
        let mut conn = t.app.db.conn().await.expect("conn");
        db_run!(&mut conn, |c| sqlx::query_scalar::<_, uuid::Uuid>(
            "SELECT id FROM users WHERE email = $1"
        )
        .bind(&email)
        .fetch_one(&mut *c)
        .await)
        .expect("clerk")
    };
    let mut body = order("cash");
    body["return_url"] = serde_json::Value::Null;
    let input: PaymentInput = serde_json::from_value(body).expect("input");
    let owner = Owner::Counter { clerk, office };
    let created = service::create(
        &t.app,
        owner,
        &input,
        Some("0123456789abcdef0123456789abcdef"),
    )
    .await
    .expect("no error")
    .expect("valid");
    let p = created.payment;
    assert_eq!(
        (p.state, p.method, p.channel),
        (State::Succeeded, Method::Cash, Channel::Counter)
    );
    assert_eq!(p.office(), Some(office));
    assert_eq!(p.user(), Some(clerk));
    // The example schedule: cash up to 5,000.00 RSD costs 65.00.
    assert_eq!(p.fee_para, 6_500);
    assert!(p.completed_at.is_some());
    assert_eq!(created.next, service::NextAction::None);
    let events: Vec<String> = service::history(&t.app, p.id)
        .await
        .expect("history")
        .into_iter()
        .map(|h| h.event)
        .collect();
    assert_eq!(events, ["create", "start", "succeed"]);
    // The same form again: the same payment.
    let again = service::create(
        &t.app,
        owner,
        &input,
        Some("0123456789abcdef0123456789abcdef"),
    )
    .await
    .expect("no error")
    .expect("valid");
    assert_eq!(again.payment.id, p.id);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 1);
    // Chained into the audit log with the office.
    assert_eq!(service::audit::flush(&t.app).await.expect("flush"), 3);
    let mut conn = t.app.db.conn().await.expect("conn");
    let rows = eposta_kernel::audit::recent(&mut conn, Some(office), 10)
        .await
        .expect("audit");
    assert_eq!(
        rows.iter()
            .filter(|r| r.action.starts_with("payment."))
            .count(),
        3
    );
    // A card is not taken at the counter this way.
    let mut card: PaymentInput = serde_json::from_value(order("card")).expect("input");
    card.return_url = None;
    let refused = service::create(&t.app, owner, &card, None)
        .await
        .expect("no error");
    assert_eq!(
        refused
            .err()
            .map(|e| e.into_iter().map(|x| x.field).collect::<Vec<_>>()),
        Some(vec!["method".to_owned()])
    );
}
