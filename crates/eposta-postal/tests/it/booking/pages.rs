//! A citizen books through the pages: the price first (VAT apart), then the confirmation;
//! errors name the field and keep the input; nobody else sees the item.

use eposta_formats::s10::S10;
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::testing::Client;

use super::{api_key, app, citizen, count};

fn tr() -> Tr {
    Tr::new(Lang::SrCyrl)
}

/// A parcel of 500 g with 1.500 dinars to collect: 390,00 + 135,00 net, 105,00 VAT.
fn parcel_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("sender_name", "Петар Петровић"),
        ("sender_street", "Булевар краља Александра"),
        ("sender_number", "73"),
        ("sender_postal_code", "11000"),
        ("sender_place", "Београд"),
        ("recipient_name", "Јелена Јовановић"),
        ("recipient_street", "Змај Јовина"),
        ("recipient_number", "12a"),
        ("recipient_postal_code", "21000"),
        ("recipient_place", "Нови Сад"),
        ("recipient_phone", "064/123-4567"),
        ("product", "parcel"),
        ("weight_g", "500"),
        ("options_cash_on_delivery", "1500"),
    ]
}

fn with<'a>(
    base: &[(&'a str, &'a str)],
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = base
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    out.extend_from_slice(changes);
    out
}

/// The value after `marker` up to the next `<`.
fn text_after<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    let rest = &html[start..];
    &rest[..rest.find('<').unwrap_or(rest.len())]
}

/// A fresh submission key, as the price step puts in the form.
fn submission() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

async fn confirm(c: &mut Client, key: &str) -> eposta_kernel::testing::TestResponse {
    c.post_form(
        "/items/new",
        &with(
            &parcel_form(),
            &[
                ("action", "confirm"),
                ("quoted_total", "63000"),
                ("submission", key),
            ],
        ),
    )
    .await
}

pub async fn book(c: &mut Client) -> String {
    let r = confirm(c, &submission()).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let to = r.location().expect("redirect").to_owned();
    assert!(
        to.starts_with("/items/") && to.ends_with("?booked=1"),
        "{to}"
    );
    to.trim_end_matches("?booked=1").to_owned()
}

#[tokio::test]
async fn a_citizen_sees_the_price_first_then_books() {
    let t = app().await;
    let mut c = citizen(&t, "Петар Петровић").await;

    let form = c.get("/items/new").await;
    assert_eq!(form.status, 200);
    let html = form.text();
    assert!(
        html.contains(r#"name="sender_name" type="text" value="Петар Петровић""#),
        "{html}"
    );
    assert!(
        !html.contains(r#"value="confirm""#),
        "no confirm button before a price"
    );

    let quoted = c
        .post_form("/items/new", &with(&parcel_form(), &[("action", "quote")]))
        .await;
    assert_eq!(quoted.status, 200, "{}", quoted.text());
    let html = quoted.text();
    for shown in [
        "390,00 RSD",
        "135,00 RSD",
        "525,00 RSD",
        "ПДВ 20 %",
        "105,00 RSD",
        "630,00 RSD",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    assert!(html.contains(tr().t("booking.example_tariff")));
    assert!(
        html.contains(r#"name="quoted_total" value="63000""#),
        "{html}"
    );
    assert!(html.contains(r#"value="confirm""#));
    assert!(
        html.contains(r#"value="Јелена Јовановић""#),
        "the input stays"
    );
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM postal_items").await,
        0,
        "nothing booked yet"
    );

    // A confirmation of another price shows the price again and books nothing.
    let stale = c
        .post_form(
            "/items/new",
            &with(
                &parcel_form(),
                &[("action", "confirm"), ("quoted_total", "52500")],
            ),
        )
        .await;
    assert_eq!(stale.status, 200);
    assert!(stale.text().contains(tr().t("booking.price.changed")));
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 0);

    let path = book(&mut c).await;
    let item = c.get(&format!("{path}?booked=1")).await;
    assert_eq!(item.status, 200);
    let html = item.text();
    assert!(html.contains(tr().t("booking.item.booked")));
    let grouped = text_after(&html, r#"id="tracking-number">"#);
    assert!(
        grouped.starts_with("CA ") && grouped.ends_with(" RS"),
        "{grouped}"
    );
    assert_eq!(grouped.len(), "CA 123 456 785 RS".len());
    let id = S10::parse(grouped).expect("a valid S10 identifier").id;
    let code = text_after(&html, r#"id="booking-code">"#);
    assert_eq!(code.len(), 9, "ABCD-EFGH: {code}");
    assert!(html.contains("630,00 RSD") && html.contains(tr().t("booking.item.pay_at_counter")));
    assert!(
        html.contains("+381641234567"),
        "the phone is stored in E.164"
    );

    let list = c.get("/items").await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains(&id.grouped()));
    assert!(list.text().contains(tr().t("booking.status.pre_transit")));

    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM postal_items WHERE status = 'pre_transit' AND price_minor = 63000 AND vat_minor = 10500 AND cod_minor = 150000").await,
        1
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.item.booked'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn errors_name_the_field_and_keep_the_input() {
    let t = app().await;
    let mut c = citizen(&t, "Ана Анић").await;
    type Fields<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Fields<'_>, &str, String)> = vec![
        (
            vec![("recipient_postal_code", "1100")],
            "recipient_postal_code",
            tr().t("booking.rule.postal_code").to_owned(),
        ),
        (
            vec![
                ("product", "letter"),
                ("weight_g", "2001"),
                ("options_cash_on_delivery", ""),
                ("recipient_phone", ""),
            ],
            "weight_g",
            tr().f("booking.rule.weight_over_max", &[("max", "2000")]),
        ),
        (
            vec![("product", "letter"), ("weight_g", "20")],
            "options_cash_on_delivery",
            tr().t("booking.rule.not_allowed").to_owned(),
        ),
        (
            vec![("options_cash_on_delivery", "1.500,00")],
            "options_cash_on_delivery",
            tr().t("booking.rule.amount").to_owned(),
        ),
        (
            vec![("recipient_phone", "0800 100 100")],
            "recipient_phone",
            tr().t("booking.rule.phone").to_owned(),
        ),
    ];
    for (changes, field, message) in cases {
        for action in ["quote", "confirm"] {
            let mut fields = with(&parcel_form(), &changes);
            fields.extend([("action", action), ("quoted_total", "63000")]);
            let r = c.post_form("/items/new", &fields).await;
            assert_eq!(r.status, 422, "{field} {action}");
            let html = r.text();
            let error = text_after(&html, &format!(r#"id="{field}-error" class="error">"#));
            assert_eq!(error, message, "{field}");
            assert!(
                html.contains(&format!(r##"<a href="#{field}">"##)),
                "the summary links to {field}"
            );
            assert!(html.contains(r#"aria-invalid="true""#));
            assert!(
                html.contains(r#"value="Јелена Јовановић""#),
                "the input stays"
            );
            assert!(
                !html.contains(r#"value="confirm""#),
                "no price for a wrong shipment"
            );
        }
    }
    // Every wrong field at once, each named.
    let r = c
        .post_form(
            "/items/new",
            &with(
                &parcel_form(),
                &[
                    ("action", "quote"),
                    ("product", "letter"),
                    ("weight_g", "2500"),
                    ("recipient_postal_code", "1100"),
                ],
            ),
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    for field in [
        "recipient_postal_code",
        "weight_g",
        "options_cash_on_delivery",
    ] {
        assert!(html.contains(&format!(r#"id="{field}-error""#)), "{field}");
    }
    assert!(
        html.contains(r#"value="1100""#),
        "the wrong value stays for correcting"
    );
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 0);
}

#[tokio::test]
async fn another_citizen_and_other_callers_cannot_see_the_item() {
    let t = app().await;
    let mut owner = citizen(&t, "Петар Петровић").await;
    let path = book(&mut owner).await;
    assert_eq!(owner.get(&path).await.status, 200);
    let html = owner.get(&path).await.text();
    let tracking = S10::parse(text_after(&html, r#"id="tracking-number">"#))
        .expect("valid")
        .id;

    let mut other = citizen(&t, "Други Грађанин").await;
    let r = other.get(&path).await;
    assert_eq!(r.status, 404);
    assert!(!r.text().contains(&tracking.grouped()));
    let list = other.get("/items").await;
    assert!(!list.text().contains(&tracking.grouped()));
    assert!(list.text().contains(tr().t("booking.list.empty")));

    // A business's key reads only its own shipments.
    let key = api_key(&t, "Продавница", &["postal:book"]).await;
    let r = t
        .api(&key)
        .get(&format!("/api/v1/shipments/{tracking}"))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    // Unknown ids and malformed ones are "not found" alike.
    assert_eq!(
        owner
            .get("/items/00000000-0000-0000-0000-000000000000")
            .await
            .status,
        404
    );
    assert_eq!(owner.get("/items/not-a-uuid").await.status, 404);
}

#[tokio::test]
async fn a_citizen_prints_the_label_of_their_own_item_only() {
    let t = app().await;
    let mut c = citizen(&t, "Петар Петровић").await;
    let item = book(&mut c).await;
    let page = c.get(&item).await.text();
    assert!(
        page.contains(&format!("href=\"{item}/label.pdf\"")),
        "{page}"
    );
    let grouped = text_after(&page, "id=\"tracking-number\">").to_owned();

    let r = c.get(&format!("{item}/label.pdf")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.headers["content-type"], "application/pdf");
    assert!(r.body.starts_with(b"%PDF-"));
    // The label carries what the item page shows (read back by poppler where installed).
    if let Some(text) = pdf_text(&r.body) {
        assert!(text.contains(&grouped), "{grouped} in {text}");
        assert!(text.contains("Петар Петровић"), "{text}");
    }

    let mut other = citizen(&t, "Друга Особа").await;
    assert_eq!(other.get(&format!("{item}/label.pdf")).await.status, 404);
}

/// The text of a PDF by poppler's `pdftotext`, or None where poppler is not installed
/// outside CI (see `peer_available`).
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    use std::io::Write;
    let found = std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok();
    if !eposta_kernel::testing::peer_available(
        "pdf_text",
        found,
        "pdftotext",
        "apt-get install poppler-utils",
    ) {
        return None;
    }
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args([f.path().to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn confirming_the_same_form_twice_books_once() {
    let t = app().await;
    let mut c = citizen(&t, "Петар Петровић").await;
    let quoted = c
        .post_form("/items/new", &with(&parcel_form(), &[("action", "quote")]))
        .await
        .text();
    let marker = r#"name="submission" value=""#;
    let start = quoted.find(marker).expect("a submission key in the form") + marker.len();
    let key = &quoted[start..start + 32];
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");

    let first = confirm(&mut c, key).await;
    let second = confirm(&mut c, key).await;
    assert_eq!(first.status, 303, "{}", first.text());
    assert_eq!(second.status, 303, "{}", second.text());
    assert_eq!(
        first.location(),
        second.location(),
        "the second click shows the first booking"
    );
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 1);

    // Another form (a new price step) books another item; a forged key is refused.
    assert_eq!(confirm(&mut c, &submission()).await.status, 303);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 2);
    assert_eq!(confirm(&mut c, "not-a-key").await.status, 422);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM postal_items").await, 2);
}
