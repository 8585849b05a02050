//! `eposta receipt verify` as a person runs it: the compiled binary, this installation's key
//! read from its configuration (a data directory's secret key), a receipt code, its PDF on
//! the command line and its code on standard input; exit 0 for a genuine receipt, 1 for a
//! changed one, 2 for bad usage.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Utc};
use eposta_formats::account::AccountNumber;
use eposta_formats::payment_code::PaymentCode;
use eposta_kernel::config::Config;
use eposta_kernel::money::Currency;
use eposta_payments::receipt::{CounterOffice, PaidBy, ReceiptData, ReceiptKeys, issue};
use secrecy::SecretString;

const SECRET: &str = "the secret key of this test installation";

fn eposta(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eposta"));
    cmd.args(args).current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EPOSTA_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("EPOSTA_DATA_DIR", dir.join("data"))
        .env("EPOSTA_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the eposta binary runs");
    let _ = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("eposta finishes")
}

fn data() -> ReceiptData {
    ReceiptData {
        confirmation: "K7QM-3XPA-9RTW".into(),
        payer_name: "Петар Петровић".into(),
        payer_address: "Кнеза Милоша 10\n11000 Београд".into(),
        purpose: "Рачун за јануар".into(),
        payee_name: "ЈКП Инфостан технологије".into(),
        payee_address: String::new(),
        payee_account: AccountNumber::parse("160-5100000000-02").expect("account"),
        payment_code: PaymentCode::parse("289").expect("code"),
        reference: None,
        amount_para: 1_234_567,
        fee_para: 4_500,
        currency: Currency::RSD,
        paid_at: DateTime::parse_from_rfc3339("2026-03-02T09:15:07Z")
            .expect("time")
            .with_timezone(&Utc),
        paid_by: PaidBy::Cash,
        office: Some(CounterOffice {
            code: "11101".into(),
            name: "Београд 1".into(),
        }),
    }
}

#[test]
fn receipt_verify_with_the_installations_key() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("data/keys")).expect("keys dir");
    std::fs::write(dir.join("data/keys/secret.key"), SECRET).expect("secret");
    let keys =
        ReceiptKeys::from_config(&Config::default(), &SecretString::from(SECRET)).expect("keys");
    let receipt = issue(&data(), &keys).expect("issues");
    let pdf = dir.join("receipt.pdf");
    std::fs::write(&pdf, &receipt.pdf).expect("pdf");

    let o = eposta(dir, &["receipt", "verify", &receipt.token], "");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.starts_with("valid\n"), "{out}");
    assert!(out.contains("total\t12.390,67 RSD"), "{out}");
    assert!(out.contains("payee\tЈКП Инфостан технологије"), "{out}");

    let o = eposta(dir, &["receipt", "verify", pdf.to_str().expect("path")], "");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let o = eposta(dir, &["receipt", "verify"], &format!("{}\n", receipt.token));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // Another installation (another secret) does not trust it, and says which key signed.
    let other = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(other.path().join("data/keys")).expect("keys dir");
    std::fs::write(
        other.path().join("data/keys/secret.key"),
        "quite another secret key, 32 chars or more",
    )
    .expect("secret");
    let o = eposta(other.path(), &["receipt", "verify", &receipt.token], "");
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(keys.signing_key().id().as_str()), "{out}");

    // After a rotation the old key, kept in the settings, still verifies.
    let o = {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_eposta"));
        cmd.args(["receipt", "verify", &receipt.token])
            .current_dir(other.path())
            .env("EPOSTA_DATA_DIR", other.path().join("data"))
            .env(
                "EPOSTA_PAYMENTS_RECEIPT_OLD_KEYS",
                keys.signing_key().public().to_base64url(),
            )
            .stdin(Stdio::null());
        cmd.output().expect("runs")
    };
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let o = eposta(
        dir,
        &["receipt", "verify", "--key", "not a key!", &receipt.token],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--key number 1"));
}

#[test]
fn receipt_verify_without_an_installation_needs_a_key() {
    let dir = tempfile::tempdir().expect("dir");
    let o = eposta(dir.path(), &["receipt", "verify", "EPR1.a.b"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--key or --keys"));
    assert!(
        !dir.path().join("data/keys/secret.key").exists(),
        "verifying never creates a secret"
    );
}

/// The verification by hand that docs/receipts.md shows, with OpenSSL and a POSIX shell
/// only: the key's PEM from `eposta receipt keys`, the signed text and the signature cut
/// from the code. Missing OpenSSL fails under CI and is reported elsewhere.
#[test]
fn receipts_verify_by_hand_with_openssl() {
    const TEST: &str = "receipts_verify_by_hand_with_openssl";
    let found = Command::new("openssl").arg("version").output().is_ok();
    if !eposta_kernel::testing::peer_available(TEST, found, "openssl", "apt-get install openssl") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("data/keys")).expect("keys dir");
    std::fs::write(dir.join("data/keys/secret.key"), SECRET).expect("secret");
    let o = eposta(dir, &["receipt", "keys"], "");
    assert_eq!(o.status.code(), Some(0));
    let set: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let pem = set["keys"][0]["pem"].as_str().expect("a PEM");
    std::fs::write(dir.join("key.pem"), pem).expect("pem");

    let keys =
        ReceiptKeys::from_config(&Config::default(), &SecretString::from(SECRET)).expect("keys");
    let token = issue(&data(), &keys).expect("issues").token;
    // The commands of docs/receipts.md, "By hand".
    let script = r#"
set -eu
TOKEN=$1
b64url_decode() {
  s=$(printf '%s' "$1" | tr '_-' '/+')
  while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
  printf '%s' "$s" | base64 -d
}
printf '%s' "${TOKEN%.*}" > signed.txt
b64url_decode "${TOKEN##*.}" > signature.bin
openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in signed.txt -sigfile signature.bin
b64url_decode "$(printf '%s' "$TOKEN" | cut -d. -f2)"
"#;
    let by_hand = |token: &str| {
        Command::new("sh")
            .args(["-c", script, "sh", token])
            .current_dir(dir)
            .output()
            .expect("sh runs")
    };
    let o = by_hand(&token);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("Signature Verified Successfully"), "{out}");
    assert!(
        out.contains("\"amt\":1234567"),
        "the payload reads as JSON: {out}"
    );

    // One character of the payload changed: OpenSSL refuses it too.
    let mut changed = token.clone();
    changed.replace_range(20..21, if &token[20..21] == "A" { "B" } else { "A" });
    let o = by_hand(&changed);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("Signature Verification Failure"));
}
