//! Receipts read back by third-party tools (poppler's `pdftotext`, `pdfinfo` and `pdftoppm`,
//! `zbarimg`), and the public check page driven in-process on SQLite or PostgreSQL.

use std::path::Path;
use std::process::Command;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use eposta_kernel::signing::SigningKey;
use eposta_kernel::testing::{TestApp, peer_available, walk_role_matrix};

use super::data::tests::{card, cash};
use super::*;

const INSTALL: &str = "apt-get install poppler-utils zbar-tools";

fn tools(test: &str, tools: &[&str]) -> bool {
    tools.iter().all(|tool| {
        let found = Command::new(tool).arg("-v").output().is_ok();
        peer_available(test, found, tool, INSTALL)
    })
}

/// Runs a tool that must succeed without a word on standard error (poppler reports damaged
/// files there).
fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd} {args:?} failed: {stderr}");
    assert!(stderr.is_empty(), "{cmd} {args:?} complained: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn keys() -> ReceiptKeys {
    ReceiptKeys::new(b"test-secret-key-of-sufficient-length", 1, vec![])
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_string_lossy().into_owned()
}

#[test]
fn the_pdf_shows_the_receipt_and_carries_its_code() {
    const TEST: &str = "the_pdf_shows_the_receipt_and_carries_its_code";
    let keys = keys();
    let receipt = issue(&cash(), &keys).expect("issues");
    assert!(receipt.pdf.starts_with(b"%PDF-"));
    // The code is in the file as it is, so `eposta receipt verify receipt.pdf` finds it.
    assert_eq!(find_token(&receipt.pdf), Some(receipt.token.clone()));
    assert!(verify(&receipt.token, keys.verifying_keys()).is_ok());
    // Deterministic: the same payment, the same bytes.
    assert_eq!(issue(&cash(), &keys), Ok(receipt.clone()));
    if !tools(TEST, &["pdftotext", "pdfinfo"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "receipt.pdf", &receipt.pdf);
    let text = run("pdftotext", &["-enc", "UTF-8", &file, "-"]);
    for expected in [
        "ПОТВРДА О УПЛАТИ / PAYMENT RECEIPT",
        "K7QM-3XPA-9RTW",
        "Петар Петровић, Кнеза Милоша 10, 11000 Београд",
        "Рачун за јануар 2026",
        "ЈКП Инфостан технологије, Жоржа Клемансоа 19, Београд",
        "289",
        "160-5100000000-02",
        "97 14123412",
        "12.345,67 RSD",
        "45,00 RSD",
        "12.390,67 RSD",
        // 09:15:07 UTC is 10:15:07 in Belgrade in March (CET).
        "02.03.2026. 10:15:07",
        "Готовином у пошти / Cash at post office 11101 Београд 1",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // The code printed beside the QR, in lines: joined, it is the code.
    let printed: String = text
        .split_whitespace()
        .skip_while(|w| !w.starts_with("EPR1."))
        .collect();
    assert!(printed.starts_with(&receipt.token), "{printed}");
    let info = run("pdfinfo", &["-custom", &file]);
    assert!(info.contains(&receipt.token), "{info}");
    let info = run("pdfinfo", &[&file]);
    assert!(info.contains("297.638 x 419.528 pts"), "A6: {info}");

    let text = run(
        "pdftotext",
        &[
            "-enc",
            "UTF-8",
            &write(
                dir.path(),
                "card.pdf",
                &issue(&card(), &keys).expect("issues").pdf,
            ),
            "-",
        ],
    );
    assert!(text.contains("Плаћено картицом / Paid by card"), "{text}");
}

#[test]
fn the_qr_code_on_the_pdf_decodes_to_the_code() {
    const TEST: &str = "the_qr_code_on_the_pdf_decodes_to_the_code";
    let receipt = issue(&cash(), &keys()).expect("issues");
    if !tools(TEST, &["pdftoppm", "zbarimg"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "receipt.pdf", &receipt.pdf);
    let png = dir.path().join("page");
    let png = png.to_string_lossy();
    // 200 dpi: a home printer's scan, about 4 pixels a module.
    run(
        "pdftoppm",
        &["-r", "200", "-png", "-singlefile", &file, &png],
    );
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(format!("{png}.png"))
        .output()
        .expect("zbarimg runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        receipt.token
    );
    // Our own reader (the page's upload) reads the same picture.
    let picture = std::fs::read(format!("{png}.png")).expect("png");
    assert_eq!(
        eposta_formats::qr_decode::decode_image(&picture),
        Ok(vec![receipt.token])
    );
}

async fn app() -> TestApp {
    TestApp::builder().routes(routes()).build().await
}

/// Posts `bytes` as the file of the upload form, CSRF token in the query string.
async fn upload(
    client: &mut eposta_kernel::testing::Client,
    bytes: &[u8],
) -> eposta_kernel::testing::TestResponse {
    let csrf = client.csrf().await;
    let boundary = "xXxReceiptBoundaryxXx";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    client
        .send(
            Method::POST,
            &format!("/receipts/verify/file?csrf={csrf}"),
            &[(
                "content-type",
                &format!("multipart/form-data; boundary={boundary}"),
            )],
            Body::from(body),
        )
        .await
}

#[tokio::test]
async fn the_page_tells_genuine_receipts_from_changed_ones() {
    let t = app().await;
    let keys = ReceiptKeys::for_app(&t.app).expect("keys");
    let receipt = issue(&cash(), &keys).expect("issues");
    let mut c = t.client();

    let r = c.get("/receipts/verify").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("action=\"/receipts/verify/file?csrf="));

    let r = c
        .post_form("/receipts/verify", &[("token", &receipt.token)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    for expected in [
        "Потврда је права",
        "K7QM-3XPA-9RTW",
        "12.390,67 RSD",
        "160-5100000000-02",
        "02.03.2026. 10:15:07",
        "готовином у пошти 11101",
        keys.signing_key().id().as_str(),
    ] {
        assert!(html.contains(expected), "{expected} missing");
    }

    // One character of the amount changed: the page says the receipt was changed.
    let claims = verify(&receipt.token, keys.verifying_keys()).expect("valid");
    let mut more = claims.clone();
    more.amount_para *= 10;
    let signature = receipt.token.rsplit('.').next().expect("signature");
    let changed = format!(
        "EPR1.{}.{signature}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            more.to_bytes()
        )
    );
    let r = c
        .post_form("/receipts/verify", &[("token", &changed)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Потврда није права"));
    assert!(r.text().contains("садржај се не слаже са потписом"));

    // Another installation's receipt: its key is named, and not trusted.
    let other = SigningKey::derive(b"another installation's secret key", &keys::label(1));
    let foreign = sign(&cash(), &other).expect("signs");
    let r = c
        .post_form("/receipts/verify", &[("token", &foreign)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(other.id().as_str()));

    let r = c.post_form("/receipts/verify", &[("token", "hello")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("нема кода потврде"));

    // In English, a link that carries the code works too.
    c.get("/lang/en").await;
    let r = c
        .post_form(
            "/receipts/verify",
            &[(
                "token",
                &format!("https://x.example/receipts/verify?t={}", receipt.token),
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("Genuine receipt"));
    assert!(r.text().contains("in cash at post office 11101"));
}

#[tokio::test]
async fn the_page_reads_the_pdf_and_a_photo_of_the_qr_code() {
    let t = app().await;
    let keys = ReceiptKeys::for_app(&t.app).expect("keys");
    let receipt = issue(&card(), &keys).expect("issues");
    let mut c = t.client();

    let r = upload(&mut c, &receipt.pdf).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Потврда је права"));
    assert!(r.text().contains("картицом"));

    // A photo of the QR code: drawn by the formats crate, as a phone would send a PNG.
    let photo = eposta_formats::qr::QrImage::new(&receipt.token)
        .expect("fits")
        .to_png(4)
        .expect("png");
    let r = upload(&mut c, &photo).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Потврда је права"));

    for (bytes, says) in [
        (b"%PDF-1.7 no code".to_vec(), "нема код потврде"),
        (b"plain text".to_vec(), "није ни PDF ни слика"),
        (
            eposta_formats::qr::QrImage::new("K:PR|V:01|C:1")
                .expect("fits")
                .to_png(4)
                .expect("png"),
            "QR код на слици није код потврде",
        ),
        (Vec::new(), "Изаберите датотеку"),
    ] {
        let r = upload(&mut c, &bytes).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
        assert!(r.text().contains(says), "{says}: {}", r.text());
    }

    // A 3 MB upload (a phone photo's size) passes the 2 MB limit of ordinary forms; one
    // above 12 MB is refused with a message.
    let mut padded = receipt.pdf.clone();
    padded.resize(3 * 1024 * 1024, b' ');
    let r = upload(&mut c, &padded).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = upload(&mut c, &vec![b'x'; pages::MAX_UPLOAD + 1]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("већа од 12 MB"), "{}", r.text());

    // Without the CSRF token the upload is refused before it is read.
    let r = c
        .send(
            Method::POST,
            "/receipts/verify/file",
            &[("content-type", "multipart/form-data; boundary=x")],
            Body::from("--x--\r\n"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn keys_json_publishes_the_key_that_verifies() {
    let t = app().await;
    let mut c = t.client();
    let r = c.get("/receipts/keys.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("public, max-age=3600")
    );
    let set: eposta_kernel::signing::JwkSet = serde_json::from_slice(&r.body).expect("a JWK set");
    let published = set.public_keys().expect("consistent");
    let keys = ReceiptKeys::for_app(&t.app).expect("keys");
    let receipt = issue(&cash(), &keys).expect("issues");
    // What anyone downloads verifies what ePošta signs.
    assert!(verify(&receipt.token, &published).is_ok());
    assert_eq!(published.len(), 1);
}

#[tokio::test]
async fn every_route_is_public_and_walks_the_role_matrix() {
    let t = app().await;
    let n = walk_role_matrix(&t, routes().specs()).await;
    assert!(n >= 4, "{n}");
}
