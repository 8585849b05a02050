//! The citizen's pages: the payment order form (by hand, from an IPS QR code, from a saved
//! payee), the fee before paying, paying by card through the test acquirer and coming back,
//! paying by IPS, the history, saved payees; in three languages.

use eposta_kernel::audit::Actor;
use eposta_kernel::testing::{Client, TestApp};
use eposta_payments::provider::test_acquirer::CARD_SUCCEEDS;
use eposta_payments::{TransferMatch, complete_by_transfer};

use super::{app, citizen, count, path_of};

const EPS_BILL: &str = "K:PR|V:01|C:1|R:845000000040484987|N:JP EPS BEOGRAD|I:RSD3596,13|SF:189|S:Uplata po racunu|RO:97163220000111111111000";

/// The form's hidden submission key.
fn submission(html: &str) -> String {
    let at = html
        .find("name=\"submission\" value=\"")
        .expect("submission field")
        + 25;
    html[at..at + 32].to_owned()
}

/// Fills the form from the EPS bill's QR code, asks for the fee and pays with `action`.
async fn pay_bill(c: &mut Client, action: &str) -> (String, eposta_kernel::testing::TestResponse) {
    let r = c.get("/payments/new").await;
    assert_eq!(r.status, 200);
    let key = submission(&r.text());
    let r = c
        .post_form(
            "/payments/new",
            &[
                ("action", "fill_qr"),
                ("ips_qr", EPS_BILL),
                ("submission", &key),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("value=\"JP EPS BEOGRAD\""),
        "the payee is filled in"
    );
    assert!(html.contains("value=\"845-404849-87\""));
    assert!(html.contains("value=\"3596,13\""));
    assert!(html.contains("value=\"163220000111111111000\""));
    let form = [
        ("payer_name", "Петар Петровић"),
        (
            "payer_address",
            "Булевар краља Александра 73\n11000 Београд",
        ),
        ("payee_name", "JP EPS BEOGRAD"),
        ("payee_address", ""),
        ("payee_account", "845-404849-87"),
        ("purpose", "Uplata po racunu"),
        ("payment_code", "189"),
        ("amount", "3596,13"),
        ("reference_model", "97"),
        ("reference_number", "163220000111111111000"),
        ("submission", &key),
    ];
    let mut quote = form.to_vec();
    quote.push(("action", "quote"));
    let r = c.post_form("/payments/new", &quote).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    // The fee before paying, for each method (the example schedule).
    assert!(
        html.contains("<td id=\"fee-card\">40,00 RSD</td>"),
        "{html}"
    );
    assert!(html.contains("<td id=\"total-card\">3.636,13 RSD</td>"));
    assert!(html.contains("<td id=\"fee-ips\">20,00 RSD</td>"));
    assert!(html.contains("<td id=\"total-ips\">3.616,13 RSD</td>"));
    let mut pay = form.to_vec();
    pay.push(("action", action));
    let r = c.post_form("/payments/new", &pay).await;
    (key, r)
}

fn state_of(html: &str) -> &str {
    let at = html.find("id=\"state\" data-state=\"").expect("state") + 23;
    let end = html[at..].find('"').expect("end");
    &html[at..at + end]
}

#[tokio::test]
async fn a_citizen_pays_a_bill_by_card_and_the_return_is_checked_with_the_acquirer() {
    let t = app().await;
    let mut c = citizen(&t, "Петар Петровић").await;
    let (_, r) = pay_bill(&mut c, "pay_card").await;
    assert_eq!(r.status, 303, "{}", r.text());
    let acquirer = path_of(r.location().expect("to the acquirer"));
    assert!(acquirer.starts_with("/test-acquirer/pay/"), "{acquirer}");
    let id = {
        let mut conn = t.app.db.conn().await.expect("conn");
        eposta_kernel::db_run!(&mut conn, |c| sqlx::query_scalar::<_, uuid::Uuid>(
            "SELECT id FROM payments"
        )
        .fetch_one(&mut *c)
        .await)
        .expect("one payment")
    };
    // Coming back without paying changes nothing.
    let r = c.get(&format!("/payments/{id}/return")).await;
    assert_eq!(r.location(), Some(format!("/payments/{id}").as_str()));
    let page = c.get(&format!("/payments/{id}")).await.text();
    assert_eq!(state_of(&page), "pending");
    assert!(page.contains("id=\"card-link\""));
    // Pay on the acquirer's page; it sends the browser back to ePošta.
    let r = c
        .post_form(
            &acquirer,
            &[
                ("number", CARD_SUCCEEDS),
                ("expiry", "12/30"),
                ("cvc", "123"),
                ("action", "pay"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let back = path_of(r.location().expect("back"));
    assert_eq!(back, format!("/payments/{id}/return"));
    let r = c.get(&back).await;
    assert_eq!(r.status, 303);
    let page = c.get(&format!("/payments/{id}")).await.text();
    assert_eq!(state_of(&page), "succeeded");
    assert!(page.contains("3.636,13 RSD"));
    // The notification arrives afterwards and changes nothing.
    t.run_pending_jobs().await;
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payment_events").await, 3);
    // The history lists it.
    let list = c.get("/payments").await.text();
    assert!(list.contains("data-state=\"succeeded\""), "{list}");
    assert!(list.contains("JP EPS BEOGRAD"));
}

#[tokio::test]
async fn a_citizen_pays_by_ips_and_the_page_shows_the_transfer_once_it_arrives() {
    let t = app().await;
    let mut c = citizen(&t, "Ана").await;
    let (key, r) = pay_bill(&mut c, "pay_ips").await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page_url = r.location().expect("payment page").to_owned();
    // Paying twice with the same form makes one payment.
    let again = c
        .post_form(
            "/payments/new",
            &[
                ("payer_name", "Петар Петровић"),
                ("payee_name", "JP EPS BEOGRAD"),
                ("payee_account", "845-404849-87"),
                ("purpose", "Uplata po racunu"),
                ("payment_code", "189"),
                ("amount", "3596,13"),
                ("reference_model", "97"),
                ("reference_number", "163220000111111111000"),
                ("submission", &key),
                ("action", "pay_ips"),
            ],
        )
        .await;
    assert_eq!(again.location(), Some(page_url.as_str()));
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 1);
    let html = c.get(&page_url).await.text();
    assert_eq!(state_of(&html), "pending");
    assert!(html.contains("id=\"ips-qr\""));
    assert!(html.contains("200-123456789-02"));
    let at = html.find("id=\"ips-reference\">").expect("reference") + 19;
    let reference = html[at..at + html[at..].find('<').expect("end")].to_owned();
    assert!(reference.starts_with("97 "), "{reference}");
    let svg = c.get(&format!("{page_url}/qr.svg")).await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    let png = c.get(&format!("{page_url}/qr.png")).await;
    assert!(png.body.starts_with(b"\x89PNG"));
    // The transfer shows on the statement; the page says so on the next visit.
    let m = complete_by_transfer(&t.app, &Actor::System, &reference, 361_613, "STMT-1")
        .await
        .expect("match");
    assert!(matches!(m, TransferMatch::Completed { .. }), "{m:?}");
    let html = c.get(&page_url).await.text();
    assert_eq!(state_of(&html), "succeeded");
    assert!(!html.contains("id=\"ips-qr\""));
    assert_eq!(c.get(&format!("{page_url}/qr.svg")).await.status, 404);
}

#[tokio::test]
async fn the_form_names_every_wrong_field_in_the_visitors_language() {
    let t = app().await;
    let mut c = citizen(&t, "").await;
    let key = submission(&c.get("/payments/new").await.text());
    let r = c
        .post_form(
            "/payments/new",
            &[
                ("payee_account", "845-0000000142849-68"),
                ("amount", "1.500"),
                ("payment_code", "389"),
                ("submission", &key),
                ("action", "quote"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    for input in [
        "payer_name",
        "payee_name",
        "payee_account",
        "purpose",
        "payment_code",
        "amount",
    ] {
        assert!(
            html.contains(&format!("href=\"#{input}\"")),
            "{input} in the list of errors"
        );
        assert!(
            html.contains(&format!("id=\"{input}-error\"")),
            "{input} marked"
        );
    }
    assert!(html.contains("Шифра плаћања"));
    let r = c
        .post_form(
            "/payments/new",
            &[
                (
                    "ips_qr",
                    "K:PR|V:01|C:1|R:845000000014284968|N:EPS|I:RSD1000,00|SF:221",
                ),
                ("submission", &key),
                ("action", "fill_qr"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("id=\"ips_qr-error\""));
    c.set_cookie("eposta_lang", "en");
    let html = c.get("/payments/new").await.text();
    assert!(
        html.contains("Fill in from the bill&#39;s IPS QR code"),
        "{html}"
    );
    c.set_cookie("eposta_lang", "sr-Latn");
    let html = c.get("/payments/new").await.text();
    assert!(html.contains("Novo plaćanje"), "{html}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 0);
}

#[tokio::test]
async fn saved_payees_fill_the_form_and_are_the_citizens_own() {
    let t = app().await;
    let mut c = citizen(&t, "Петар").await;
    let (_, r) = pay_bill(&mut c, "pay_ips").await;
    let page_url = r.location().expect("page").to_owned();
    let id = page_url.rsplit('/').next().expect("id").to_owned();
    let r = c
        .post_form("/payments/payees", &[("payment_id", &id)])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location(),
        Some(format!("/payments/{id}?saved=1").as_str())
    );
    // Saving it again keeps one.
    c.post_form("/payments/payees", &[("payment_id", &id)])
        .await;
    assert_eq!(count(&t, "SELECT COUNT(*) FROM saved_payees").await, 1);
    let list = c.get("/payments/payees").await.text();
    assert!(
        list.contains("JP EPS BEOGRAD") && list.contains("845-404849-87"),
        "{list}"
    );
    let at = list.find("/payments/new?payee=").expect("use link") + 20;
    let payee = list[at..at + 36].to_owned();
    let form = c.get(&format!("/payments/new?payee={payee}")).await.text();
    assert!(form.contains("value=\"845-404849-87\""));
    assert!(form.contains("value=\"163220000111111111000\""));
    // Another citizen sees neither the payment nor the payee.
    let mut other = citizen(&t, "Друга").await;
    assert_eq!(other.get(&page_url).await.status, 404);
    assert_eq!(
        other
            .get(&format!("/payments/new?payee={payee}"))
            .await
            .status,
        404
    );
    assert_eq!(
        other
            .post_form(&format!("/payments/payees/{payee}/delete"), &[])
            .await
            .status,
        404
    );
    assert_eq!(
        other
            .post_form("/payments/payees", &[("payment_id", &id)])
            .await
            .status,
        404
    );
    assert!(!other.get("/payments").await.text().contains("JP EPS"));
    let r = c
        .post_form(&format!("/payments/payees/{payee}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM saved_payees").await, 0);
}

#[tokio::test]
async fn forms_need_the_csrf_token() {
    let t: TestApp = app().await;
    let mut c = citizen(&t, "Петар").await;
    let r = c
        .post_form_raw("/payments/new", &[("action", "quote")])
        .await;
    assert_eq!(r.status, 403);
}
