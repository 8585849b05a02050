//! The citizen's payment form filled from a photo of the bill: the IPS QR code is read from
//! the picture, the fields typed before are kept, and every way a photo can fail is named on
//! the photo's field.

use axum::body::Body;
use axum::http::Method;
use eposta_formats::qr::QrImage;
use eposta_kernel::testing::{Client, TestResponse};

use super::{app, citizen, count};

const EPS_BILL: &str = "K:PR|V:01|C:1|R:845000000040484987|N:JP EPS BEOGRAD|I:RSD3596,13|SF:189|S:Uplata po racunu|RO:97163220000111111111000";

fn png_of(text: &str) -> Vec<u8> {
    QrImage::new(text).expect("qr").to_png(6).expect("png")
}

/// Posts the form as the "read the photo" button does: multipart, the CSRF token in the
/// query string, text fields and then the photo (when given).
async fn post_photo(
    c: &mut Client,
    fields: &[(&str, &str)],
    photo: Option<&[u8]>,
    csrf: bool,
) -> TestResponse {
    let token = c.csrf().await;
    let boundary = "xXxBillPhotoxXx";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some(bytes) = photo {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"bill.png\"\r\n\
                 Content-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let path = if csrf {
        format!("/payments/new/photo?csrf={token}")
    } else {
        "/payments/new/photo".to_owned()
    };
    c.send(
        Method::POST,
        &path,
        &[(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )],
        Body::from(body),
    )
    .await
}

fn photo_error(html: &str) -> Option<String> {
    let at = html.find("id=\"photo-error\" class=\"error\">")? + 31;
    let end = html[at..].find("</p>")?;
    Some(html[at..at + end].to_owned())
}

#[tokio::test]
async fn a_photo_of_the_bills_qr_code_fills_the_form_and_keeps_what_was_typed() {
    let t = app().await;
    let mut c = citizen(&t, "Ана Анић").await;
    let form = c.get("/payments/new").await.text();
    assert!(
        form.contains("formaction=\"/payments/new/photo?csrf="),
        "{form}"
    );
    assert!(form.contains("formenctype=\"multipart/form-data\""));
    let key = "0123456789abcdef0123456789abcdef";
    let r = post_photo(
        &mut c,
        &[
            ("payer_name", "Ана Анић"),
            ("payer_address", "Кнеза Милоша 1\n11000 Београд"),
            ("submission", key),
            ("action", "fill_photo"),
        ],
        Some(&png_of(EPS_BILL)),
        true,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    for filled in [
        "value=\"JP EPS BEOGRAD\"",
        "value=\"845-404849-87\"",
        "value=\"3596,13\"",
        "value=\"189\"",
        "value=\"163220000111111111000\"",
        // Typed before reading the photo (the bill names no payer): kept.
        "value=\"Ана Анић\"",
        ">Кнеза Милоша 1\n11000 Београд</textarea>",
        // The same submission key, so that paying after this still pays once.
        "name=\"submission\" value=\"0123456789abcdef0123456789abcdef\"",
    ] {
        assert!(html.contains(filled), "{filled} in {html}");
    }
    assert!(html.contains("id=\"notice\""), "{html}");
    assert!(photo_error(&html).is_none());
    // Nothing is stored by reading a photo.
    assert_eq!(count(&t, "SELECT COUNT(*) FROM payments").await, 0);
}

#[tokio::test]
async fn photos_that_give_no_bill_say_why_on_the_photo_field() {
    let t = app().await;
    let mut c = citizen(&t, "Ана Анић").await;
    c.set_cookie("eposta_lang", "en");
    let fields = [("payee_name", "kept"), ("action", "fill_photo")];
    let not_ips = png_of("https://eposta.example.rs/");
    let broken_ips = png_of("K:PR|V:01|C:1|R:845000000014284968|N:EPS|I:RSD1000,00|SF:221");
    // Over the ordinary 2 MB form limit, under the photo limit: read, and not an image.
    let big_junk = vec![b'x'; 3 * 1024 * 1024];
    let too_big = vec![b'x'; 13 * 1024 * 1024];
    let cases: [(Option<&[u8]>, &str); 6] = [
        (Some(&not_ips), "is not an IPS QR code of a bill"),
        (Some(&broken_ips), "R:"),
        (Some(b"GIF89a not a photo"), "is not a JPEG or PNG image"),
        (Some(&big_junk), "is not a JPEG or PNG image"),
        (Some(&too_big), "larger than 12 MB"),
        (None, "choose a photo of the bill"),
    ];
    for (photo, says) in cases {
        let r = post_photo(&mut c, &fields, photo, true).await;
        assert_eq!(r.status, 422, "{says}: {}", r.text());
        let html = r.text();
        let message = photo_error(&html).unwrap_or_else(|| panic!("{says}: {html}"));
        assert!(message.contains(says), "{says}: {message}");
        if says != "larger than 12 MB" {
            assert!(html.contains("value=\"kept\""), "{says}: the form is kept");
        }
        assert!(html.contains("aria-invalid=\"true\""));
    }
    // The token is still required, in the query string.
    let r = post_photo(&mut c, &fields, Some(&png_of(EPS_BILL)), false).await;
    assert_eq!(r.status, 403);
}
