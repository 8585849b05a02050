//! Cash payments at the counter: scan or type the order, the fee, confirm once, the receipt
//! with the office; each clerk's daily balance, its close, and what a closed day refuses;
//! the manager's view of the office.

use eposta_kernel::accounts::Role;
use eposta_kernel::testing::{Client, TestApp, TestResponse};
use eposta_payments::domain::{Channel, Method, Owner, State};
use eposta_payments::receipt::{PaidBy, ReceiptKeys, find_token, verify};
use eposta_payments::service;
use uuid::Uuid;

use super::{app, citizen, count, staff};

/// A bill's code with a non-cash payment code (289) and a payer.
const BILL: &str = "K:PR|V:01|C:1|R:845000000040484987|N:JP EPS BEOGRAD|I:RSD3596,13|P:Петар Петровић\nБулевар краља Александра 73\n11000 Београд|SF:289|S:Uplata po racunu|RO:97163220000111111111000";

pub async fn counter_app() -> TestApp {
    let t = app().await;
    t.office("11101", "Београд 1").await;
    t.office("21101", "Нови Сад 1").await;
    t
}

pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + needle.len();
    let end = html[at..].find('"').expect("end");
    html[at..at + end].to_owned()
}

/// The order's fields for an amount in dinars.
fn order(amount: &str, submission: &str) -> Vec<(&'static str, String)> {
    vec![
        ("payer_name", "Петар Петровић".into()),
        ("payer_address", "Булевар краља Александра 73".into()),
        ("payee_name", "JP EPS BEOGRAD".into()),
        ("payee_address", String::new()),
        ("payee_account", "845-404849-87".into()),
        ("purpose", "Uplata po racunu".into()),
        ("payment_code", "289".into()),
        ("amount", amount.into()),
        ("reference_model", "97".into()),
        ("reference_number", "163220000111111111000".into()),
        ("submission", submission.into()),
    ]
}

async fn post(
    c: &mut Client,
    fields: &[(&'static str, String)],
    extra: &[(&str, &str)],
) -> TestResponse {
    let mut all: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    c.post_form("/counter/payments/new", &all).await
}

/// Shows the fee of `amount`, then confirms with the total shown: the answer to the confirm.
pub async fn take(c: &mut Client, amount: &str) -> TestResponse {
    let key = hidden(&c.get("/counter/payments/new").await.text(), "submission");
    let fields = order(amount, &key);
    let r = post(c, &fields, &[("action", "quote")]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let total = hidden(&r.text(), "quoted_total");
    post(
        c,
        &fields,
        &[("action", "confirm"), ("quoted_total", &total)],
    )
    .await
}

pub fn paid_id(r: &TestResponse) -> Uuid {
    assert_eq!(r.status, 303, "{}", r.text());
    r.location()
        .and_then(|l| l.strip_prefix("/counter/payments/"))
        .and_then(|id| id.parse().ok())
        .expect("to the payment's page")
}

#[tokio::test]
async fn a_clerk_takes_a_scanned_bill_in_cash_once_and_prints_a_receipt_with_the_office() {
    let t = counter_app().await;
    let (mut clerk, clerk_id) = staff(&t, Role::Clerk, "11101", "Јована Јовић").await;
    let r = clerk.get("/counter/payments/new").await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(html.contains("id=\"ips_qr\""));
    assert!(html.contains("autofocus>"), "the scan field has the focus");
    let key = hidden(&html, "submission");

    // The scanner types the code; filling takes the cash twin of the payment code.
    let r = clerk
        .post_form(
            "/counter/payments/new",
            &[
                ("action", "fill_qr"),
                ("ips_qr", BILL),
                ("submission", &key),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    for filled in [
        "value=\"JP EPS BEOGRAD\"",
        "value=\"Петар Петровић\"",
        "value=\"845-404849-87\"",
        "value=\"3596,13\"",
        "name=\"payment_code\" value=\"189\"",
    ] {
        assert!(html.contains(filled), "{filled}");
    }
    assert_eq!(hidden(&html, "submission"), key);

    // The fee (the example schedule's cash band up to 5,000.00: 65.00) and the total.
    let fields = order("3596,13", &key);
    let r = post(&mut clerk, &fields, &[("action", "quote")]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("<dd id=\"fee\">65,00 RSD</dd>"), "{html}");
    assert!(html.contains("<strong id=\"total\">3.661,13 RSD</strong>"));
    assert_eq!(hidden(&html, "quoted_total"), "366113");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 0);

    // The order changed after the customer heard the total: shown again, nothing taken.
    let r = post(
        &mut clerk,
        &order("4000,00", &key),
        &[("action", "confirm"), ("quoted_total", "366113")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("id=\"notice\""));
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 0);

    // Confirmed twice (a double click): one payment.
    let confirm = [("action", "confirm"), ("quoted_total", "366113")];
    let first = paid_id(&post(&mut clerk, &fields, &confirm).await);
    let second = paid_id(&post(&mut clerk, &fields, &confirm).await);
    assert_eq!(first, second);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 1);

    let p = service::get(&t.app, first).await.expect("payment");
    assert_eq!(
        (p.state, p.method, p.channel),
        (State::Succeeded, Method::Cash, Channel::Counter)
    );
    let office = p.office().expect("office");
    assert_eq!(
        p.owner,
        Owner::Counter {
            clerk: clerk_id,
            office
        }
    );
    assert_eq!(p.payment_code.to_string(), "189");
    assert_eq!((p.amount_para, p.fee_para), (359_613, 6_500));
    assert!(p.completed_at.is_some());
    let events: Vec<String> = service::history(&t.app, first)
        .await
        .expect("history")
        .into_iter()
        .map(|h| h.event)
        .collect();
    assert_eq!(events, ["create", "start", "succeed"]);

    // Its page and its receipt, with the office.
    let page = clerk.get(&format!("/counter/payments/{first}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&p.confirmation_grouped()));
    let pdf = clerk
        .get(&format!("/counter/payments/{first}/receipt.pdf"))
        .await;
    assert_eq!(pdf.status, 200, "{}", pdf.text());
    let token = find_token(&pdf.body).expect("code");
    let keys = ReceiptKeys::for_app(&t.app).expect("keys");
    let claims = verify(&token, keys.verifying_keys()).expect("verifies");
    assert_eq!(claims.paid_by, PaidBy::Cash);
    assert_eq!(claims.office.as_deref(), Some("11101"));
    assert_eq!(claims.total_para(), Some(366_113));

    // A manager of the same office may print it; a clerk of another office may not see it.
    let (mut manager, _) = staff(&t, Role::Manager, "11101", "Менаџер").await;
    assert_eq!(
        manager
            .get(&format!("/counter/payments/{first}/receipt.pdf"))
            .await
            .status,
        200
    );
    let (mut elsewhere, _) = staff(&t, Role::Clerk, "21101", "Други").await;
    for path in [
        format!("/counter/payments/{first}"),
        format!("/counter/payments/{first}/receipt.pdf"),
    ] {
        assert_eq!(elsewhere.get(&path).await.status, 404, "{path}");
    }
    // A citizen's payment is not the counter's.
    let mut c = citizen(&t, "Грађанин").await;
    assert_eq!(c.get("/counter/payments/new").await.status, 403);
}

#[tokio::test]
async fn a_wrong_order_is_named_by_field_and_takes_nothing() {
    let t = counter_app().await;
    let (mut clerk, _) = staff(&t, Role::Clerk, "11101", "Јована").await;
    let key = hidden(
        &clerk.get("/counter/payments/new").await.text(),
        "submission",
    );
    let mut fields = order("0", &key);
    fields[4].1 = "845-404849-88".into();
    let r = post(&mut clerk, &fields, &[("action", "quote")]).await;
    assert_eq!(r.status, 422);
    let html = r.text();
    assert!(html.contains("id=\"payee_account-error\""), "{html}");
    assert!(html.contains("id=\"amount-error\""));
    // A code that is not an IPS code is named on the scan field.
    let r = clerk
        .post_form(
            "/counter/payments/new",
            &[
                ("action", "fill_qr"),
                ("ips_qr", "K:PR|V:01"),
                ("submission", &key),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("id=\"ips_qr-error\""));
    // Enter in a field with nothing scanned shows the fee.
    let fields = order("100", &key);
    let r = post(
        &mut clerk,
        &fields,
        &[("action", "fill_qr"), ("ips_qr", "")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("id=\"confirm\""));
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 0);
}

/// A new session of the staff member called `name`.
pub async fn login_again(t: &TestApp, name: &str) -> Client {
    let email: String = {
        let mut conn = t.app.db.conn().await.expect("conn");
        eposta_kernel::db_run!(&mut conn, |c| sqlx::query_scalar::<_, String>(
            "SELECT email FROM users WHERE display_name = $1"
        )
        .bind(name)
        .fetch_one(&mut *c)
        .await)
        .expect("email")
    };
    let mut c = t.client();
    c.login(&email, eposta_kernel::testing::PASSWORD).await;
    c
}

pub fn text_of(html: &str, id: &str) -> String {
    let needle = format!("id=\"{id}\"");
    let at = html.find(&needle).unwrap_or_else(|| panic!("no #{id}"));
    let start = at + html[at..].find('>').expect(">") + 1;
    let end = start + html[start..].find('<').expect("<");
    html[start..end].to_owned()
}

pub async fn close(c: &mut Client, day: &str, counted: &str, html: &str) -> TestResponse {
    let payments = hidden(html, "seen_payments");
    let expected = hidden(html, "seen_expected");
    let refunds = hidden(html, "seen_refunds");
    c.post_form(
        "/counter/payments/balance",
        &[
            ("day", day),
            ("counted", counted),
            ("seen_payments", &payments),
            ("seen_expected", &expected),
            ("seen_refunds", &refunds),
        ],
    )
    .await
}

#[tokio::test]
async fn the_days_cash_is_balanced_closed_once_and_then_takes_no_more_cash() {
    let t = counter_app().await;
    let (mut ana, _) = staff(&t, Role::Clerk, "11101", "Ана").await;
    let (mut bora, _) = staff(&t, Role::Clerk, "11101", "Бора").await;
    let (mut manager, _) = staff(&t, Role::Manager, "11101", "Менаџер").await;
    let (mut other_manager, _) = staff(&t, Role::Manager, "21101", "Нови Сад").await;
    // 09:00 UTC on 2 March 2026 is 10:00 in Belgrade.
    let day = "2026-03-02";
    paid_id(&take(&mut ana, "1000,00").await); // fee 45,00
    paid_id(&take(&mut ana, "2500,50").await); // fee 65,00
    paid_id(&take(&mut bora, "100,00").await); // fee 45,00

    let page = ana.get("/counter/payments/balance").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert_eq!(text_of(&html, "count"), "2");
    assert_eq!(text_of(&html, "amounts"), "3.500,50 RSD");
    assert_eq!(text_of(&html, "fees"), "110,00 RSD");
    assert_eq!(text_of(&html, "expected"), "3.610,50 RSD");
    assert!(html.contains("data-state=\"open\""));
    assert!(
        !html.contains("id=\"office-balances\""),
        "clerks see their own only"
    );
    assert!(html.matches("href=\"/counter/payments/").count() >= 2);

    // A payment of her own after she looked makes her count again (Bora's do not count).
    let stale = html.clone();
    paid_id(&take(&mut ana, "10,00").await);
    let r = close(&mut ana, day, "3610,50", &stale).await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("id=\"notice\""));
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM counter_cash_days WHERE closed_at IS NOT NULL"
        )
        .await,
        0
    );

    // Counted against the page as it is now: 10 dinars short.
    let open = ana.get("/counter/payments/balance").await.text();
    assert_eq!(text_of(&open, "expected"), "3.665,50 RSD");
    let r = close(&mut ana, day, "3655,50", &open).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let html = ana.get(r.location().expect("back")).await.text();
    assert!(html.contains("data-state=\"closed\""), "{html}");
    assert_eq!(text_of(&html, "counted"), "3.655,50 RSD");
    assert_eq!(text_of(&html, "difference"), "-10,00 RSD");
    assert!(html.contains("data-sign=\"-\""));
    assert!(!html.contains("id=\"close-day\""));
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM counter_cash_days WHERE payments = 3 AND expected_para = 366550 \
             AND counted_para = 365550 AND difference_para = -1000"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'counter.cash_closed'"
        )
        .await,
        1
    );
    let details: String = {
        let mut conn = t.app.db.conn().await.expect("conn");
        eposta_kernel::db_run!(&mut conn, |c| sqlx::query_scalar::<_, String>(
            "SELECT CAST(details AS TEXT) FROM audit_log WHERE action = 'counter.cash_closed'"
        )
        .fetch_one(&mut *c)
        .await)
        .expect("details")
    };
    assert!(details.contains("\"difference_para\":-1000"), "{details}");
    assert!(
        !details.contains("Ана") && !details.contains("EPS"),
        "{details}"
    );

    // Closed once: again is refused; and Ana takes no more cash today.
    let r = close(&mut ana, day, "3655,50", &open).await;
    assert_eq!(r.status, 409);
    let payments = count(&t, "SELECT COUNT(*) FROM payments").await;
    let r = take(&mut ana, "50,00").await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("id=\"pay-error\""));
    assert!(
        ana.get("/counter/payments/new")
            .await
            .text()
            .contains("id=\"day-closed\"")
    );
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, payments);
    // Bora still takes cash.
    paid_id(&take(&mut bora, "20,00").await);

    // The manager sees both clerks of the office; another office's manager sees neither.
    let html = manager.get("/counter/payments/balance").await.text();
    let office = &html[html.find("id=\"office-balances\"").expect("office table")..];
    assert!(
        office.contains("Ана") && office.contains("Бора"),
        "{office}"
    );
    assert!(office.contains("-10,00 RSD"));
    let html = other_manager.get("/counter/payments/balance").await.text();
    assert!(!html.contains("Ана") && !html.contains("Бора"));

    // Tomorrow is a new day for Ana (who logs in again).
    t.clock.advance(chrono::Duration::hours(24));
    let mut ana = login_again(&t, "Ана").await;
    paid_id(&take(&mut ana, "50,00").await);
    let html = ana.get("/counter/payments/balance").await.text();
    assert_eq!(text_of(&html, "count"), "1");
    assert!(html.contains("data-state=\"open\""));
    // Yesterday stays as it was closed.
    let html = ana
        .get(&format!("/counter/payments/balance?day={day}"))
        .await
        .text();
    assert_eq!(text_of(&html, "count"), "3");
    assert!(html.contains("data-state=\"closed\""));
}

#[tokio::test]
async fn a_balance_refuses_days_to_come_bad_counts_and_bad_dates() {
    let t = counter_app().await;
    let (mut clerk, _) = staff(&t, Role::Clerk, "11101", "Ана").await;
    let html = clerk.get("/counter/payments/balance").await.text();
    assert!(html.contains("id=\"close-day\""));
    let r = close(&mut clerk, "2026-03-03", "0", &html).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("id=\"balance-error\""));
    for bad in ["", "-5", "12.345,00", "abc"] {
        let r = close(&mut clerk, "2026-03-02", bad, &html).await;
        assert_eq!(r.status, 422, "{bad}");
    }
    assert_eq!(
        clerk
            .get("/counter/payments/balance?day=2026-02-30")
            .await
            .status,
        422
    );
    // A day without cash closes at zero.
    let r = close(&mut clerk, "2026-03-02", "0", &html).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM counter_cash_days WHERE payments = 0 AND difference_para = 0"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn payments_and_a_close_at_the_same_time_never_leave_a_payment_out_of_the_balance() {
    use eposta_payments::counter::{day, store};
    let t = counter_app().await;
    let (_, clerk) = staff(&t, Role::Clerk, "11101", "Ана").await;
    let office: Uuid = {
        let mut conn = t.app.db.conn().await.expect("conn");
        eposta_kernel::offices::store::by_code(&mut conn, "11101")
            .await
            .expect("read")
            .expect("office")
            .id
    };
    let owner = Owner::Counter { clerk, office };
    let input: eposta_payments::domain::PaymentInput =
        serde_json::from_value(super::order("cash")).expect("order");
    // Six windows take payments until the day refuses them; the close runs among them.
    let mut paying = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (app, input) = (t.app.clone(), input.clone());
        paying.spawn(async move {
            let mut taken = 0_i64;
            for _ in 0..200 {
                match service::create(&app, owner, &input, None).await {
                    Ok(Ok(_)) => taken += 1,
                    Err(eposta_kernel::Error::Conflict(_)) => return (taken, true),
                    other => panic!("{other:?}"),
                }
            }
            (taken, false)
        });
    }
    let app = t.app.clone();
    let closing = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let now = app.now();
        let today = day::belgrade_day(now);
        let (from, to) = day::bounds(today);
        let mut tx = app.db.begin().await.expect("tx");
        assert!(
            store::close(&mut tx, clerk, office, today, now, 0)
                .await
                .expect("close")
        );
        let totals = store::totals(&mut tx, clerk, from, to)
            .await
            .expect("totals");
        store::set_totals(&mut tx, clerk, today, &totals, totals.difference_para(0))
            .await
            .expect("set");
        tx.commit().await.expect("commit");
        totals.payments
    });
    let windows = paying.join_all().await;
    let closed_with = closing.await.expect("closed");
    let taken: i64 = windows.iter().map(|(n, _)| n).sum();
    assert!(
        windows.iter().all(|(_, refused)| *refused),
        "every window is refused once the day is closed: {windows:?}"
    );
    assert!(closed_with > 0, "the close ran among the payments");
    // Every payment taken is in the closed day; none came after it.
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, taken);
    assert_eq!(closed_with, taken);
}
