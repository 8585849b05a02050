//! `eposta receipt verify`: checks a payment receipt's signed code offline, from the code
//! itself, standard input, the receipt's PDF or a photo of its QR code, against this
//! installation's keys or public keys given on the command line. Needs no database and no
//! async runtime. Prints the receipt's claims; exits 0 only for a genuine receipt, 1 for
//! one that is not, 2 when the input or the keys cannot be read. `eposta receipt keys`
//! prints the installation's public keys (for a rotation, or to publish elsewhere).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use eposta_formats::qr_decode;
use eposta_kernel::config::Config;
use eposta_kernel::money::Money;
use eposta_kernel::signing::{JwkSet, PublicKey};
use eposta_payments::receipt::{
    PaidBy, ReceiptClaims, ReceiptKeys, find_token, find_token_in_text, verify,
};

#[derive(Subcommand, Debug)]
pub enum ReceiptCommand {
    /// Check a receipt: exit 0 if ePošta signed it and nothing was changed, 1 if not.
    ///
    /// INPUT is the receipt's code (EPR1.…), a file (the receipt's PDF, a PNG or JPEG photo
    /// of its QR code, or text holding the code), or `-` for standard input (the default).
    /// The keys are this installation's (from its configuration) unless --key or --keys
    /// names others.
    Verify(VerifyArgs),
    /// Print this installation's receipt keys as `/receipts/keys.json` publishes them (the
    /// current key, then the old ones kept in EPOSTA_PAYMENTS_RECEIPT_OLD_KEYS).
    Keys,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The code, a file, or `-` for standard input.
    #[arg(value_name = "TOKEN|FILE|-", default_value = "-")]
    input: String,
    /// A trusted public key (base64url or base64 of the 32 bytes, or PEM); repeatable.
    #[arg(long = "key", value_name = "PUBLIC_KEY")]
    keys: Vec<String>,
    /// A JSON file of trusted keys, as `/receipts/keys.json` publishes them.
    #[arg(long = "keys", value_name = "FILE")]
    key_file: Option<PathBuf>,
}

/// The largest input read, from a file or standard input: a phone's photo and then some.
const MAX_INPUT: u64 = 40 * 1024 * 1024;

pub fn run(command: &ReceiptCommand, config: Option<&Path>) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let (name, result) = match command {
        ReceiptCommand::Verify(args) => (
            "verify",
            verify_command(args, config, &mut std::io::stdin().lock(), &mut out),
        ),
        ReceiptCommand::Keys => ("keys", keys_command(config, &mut out).map(|()| true)),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("eposta receipt {name}: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The installation's keys, from its configuration; never creates a secret.
fn installation_keys(config: Option<&Path>) -> anyhow::Result<ReceiptKeys> {
    let config = Config::load(config)?;
    let Some(secret) = eposta_kernel::app::existing_secret(&config)? else {
        bail!(
            "this installation has no secret key (EPOSTA_SECRET_KEY or {}); name the keys to trust with --key or --keys",
            config.data_dir.join("keys/secret.key").display()
        );
    };
    Ok(ReceiptKeys::from_config(&config, &secret)?)
}

fn keys_command(config: Option<&Path>, out: &mut dyn Write) -> anyhow::Result<()> {
    let keys = installation_keys(config)?;
    writeln!(out, "{}", serde_json::to_string_pretty(&keys.jwk_set())?)?;
    Ok(())
}

/// Verifies and prints; `Ok(true)` for a genuine receipt, `Ok(false)` for one that is not,
/// `Err` when the input or the keys cannot be read.
fn verify_command(
    args: &VerifyArgs,
    config: Option<&Path>,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let keys = trusted_keys(args, config)?;
    let token = match read_token(&args.input, stdin)? {
        Ok(token) => token,
        Err(why) => {
            writeln!(out, "invalid\t{why}")?;
            return Ok(false);
        }
    };
    match verify(&token, &keys) {
        Ok(claims) => {
            writeln!(out, "valid")?;
            print_claims(out, &claims)?;
            Ok(true)
        }
        Err(e) => {
            writeln!(out, "invalid\t{e}")?;
            Ok(false)
        }
    }
}

fn trusted_keys(args: &VerifyArgs, config: Option<&Path>) -> anyhow::Result<Vec<PublicKey>> {
    let mut keys = Vec::new();
    for (n, text) in args.keys.iter().enumerate() {
        keys.push(PublicKey::parse(text).with_context(|| format!("--key number {}", n + 1))?);
    }
    if let Some(path) = &args.key_file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("--keys {}", path.display()))?;
        let set: JwkSet = serde_json::from_str(&text)
            .with_context(|| format!("--keys {}: not a key set", path.display()))?;
        keys.extend(
            set.public_keys()
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("--keys {}", path.display()))?,
        );
    }
    if !keys.is_empty() {
        return Ok(keys);
    }
    Ok(installation_keys(config)?.verifying_keys().to_vec())
}

/// The code in the input: `Ok(Err(why))` when the input was read but holds no code (an
/// answer, "invalid"), `Err` when it could not be read at all.
fn read_token(input: &str, stdin: &mut dyn Read) -> anyhow::Result<Result<String, String>> {
    if input != "-"
        && let Some(token) = find_token(input.as_bytes())
    {
        return Ok(Ok(token));
    }
    let mut bytes = Vec::new();
    if input == "-" {
        stdin
            .take(MAX_INPUT)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        let path = Path::new(input);
        if !path.exists() {
            bail!("{input}: neither a receipt code (EPR1.…) nor a file");
        }
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_INPUT).read_to_end(&mut bytes))
            .with_context(|| input.to_owned())?;
    }
    Ok(token_in(&bytes))
}

/// The code in a file's bytes: a PDF's metadata, a photo's QR code, or text.
fn token_in(bytes: &[u8]) -> Result<String, String> {
    if bytes.starts_with(b"\x89PNG") || bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let texts = qr_decode::decode_image(bytes).map_err(|e| e.to_string())?;
        return texts
            .iter()
            .find_map(|t| find_token(t.as_bytes()))
            .ok_or_else(|| "the QR code in the picture is not a receipt code".to_owned());
    }
    let found = match std::str::from_utf8(bytes) {
        Ok(text) => find_token_in_text(text),
        Err(_) => find_token(bytes),
    };
    found.ok_or_else(|| {
        if bytes.starts_with(b"%PDF-") {
            "this PDF holds no receipt code".to_owned()
        } else {
            "no receipt code (EPR1.…) in the input".to_owned()
        }
    })
}

fn print_claims(out: &mut dyn Write, c: &ReceiptClaims) -> std::io::Result<()> {
    let money = |para: i64| {
        Money {
            minor: para,
            currency: c.currency,
        }
        .to_string()
    };
    let belgrade = c
        .paid_at
        .with_timezone(&chrono_tz::Europe::Belgrade)
        .format("%d.%m.%Y. %H:%M:%S");
    let paid_by = match (c.paid_by, &c.office) {
        (PaidBy::Cash, Some(office)) => format!("cash at post office {office}"),
        (PaidBy::Cash, None) => "cash".to_owned(),
        (PaidBy::Card, _) => "card".to_owned(),
        (PaidBy::Ips, _) => "IPS instant transfer".to_owned(),
    };
    let rows = [
        ("confirmation", c.confirmation.clone()),
        ("amount", money(c.amount_para)),
        ("fee", money(c.fee_para)),
        (
            "total",
            c.total_para().map(money).unwrap_or_else(|| "?".into()),
        ),
        ("payee", c.payee.replace('\n', ", ")),
        ("payee account", c.payee_account.clone()),
        ("reference", c.reference.clone()),
        ("payment code", c.payment_code.clone()),
        (
            "paid at",
            format!(
                "{} ({belgrade} Europe/Belgrade)",
                c.paid_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ),
        ("paid by", paid_by),
        ("key", c.key_id.to_string()),
    ];
    for (name, value) in rows {
        writeln!(out, "{name}\t{value}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use clap::Parser;
    use eposta_formats::account::AccountNumber;
    use eposta_formats::payment_code::PaymentCode;
    use eposta_kernel::money::Currency;
    use eposta_payments::receipt::{CounterOffice, ReceiptData, issue};

    fn data() -> ReceiptData {
        ReceiptData {
            confirmation: "K7QM-3XPA-9RTW".into(),
            payer_name: "Petar Petrović".into(),
            payer_address: String::new(),
            purpose: "Račun".into(),
            payee_name: "JKP Infostan".into(),
            payee_address: String::new(),
            payee_account: AccountNumber::parse("160-5100000000-02").expect("account"),
            payment_code: PaymentCode::parse("289").expect("code"),
            reference: None,
            amount_para: 102_550,
            fee_para: 4_500,
            currency: Currency::RSD,
            paid_at: DateTime::parse_from_rfc3339("2026-07-01T08:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
            paid_by: PaidBy::Cash,
            office: Some(CounterOffice {
                code: "21101".into(),
                name: "Нови Сад 1".into(),
            }),
        }
    }

    /// The `receipt` subcommand as `eposta` parses it.
    #[derive(Parser)]
    struct Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    }

    /// Runs `eposta receipt verify ARGS` in-process with `stdin`: exit verdict and output.
    fn cli(args: &[&str], stdin: &[u8]) -> (anyhow::Result<bool>, String) {
        let mut argv = vec!["receipt", "verify"];
        argv.extend_from_slice(args);
        let parsed = Receipt::try_parse_from(argv).expect("arguments parse");
        let ReceiptCommand::Verify(verify_args) = &parsed.command else {
            panic!("parsed as verify");
        };
        let mut out = Vec::new();
        let result = verify_command(verify_args, None, &mut &stdin[..], &mut out);
        (result, String::from_utf8(out).expect("UTF-8"))
    }

    #[test]
    fn verifies_a_code_a_pdf_a_photo_and_standard_input_with_a_given_key() {
        let keys = ReceiptKeys::new(b"a secret of at least 32 characters!!", 1, vec![]);
        let receipt = issue(&data(), &keys).expect("issues");
        let key = keys.signing_key().public().to_base64url();
        let dir = tempfile::tempdir().expect("dir");
        let pdf = dir.path().join("receipt.pdf");
        std::fs::write(&pdf, &receipt.pdf).expect("write");
        let photo = dir.path().join("qr.png");
        let png = eposta_formats::qr::QrImage::new(&receipt.token)
            .expect("fits")
            .to_png(3)
            .expect("png");
        std::fs::write(&photo, png).expect("write");

        for (input, stdin) in [
            (receipt.token.as_str(), &b""[..]),
            (pdf.to_str().expect("path"), b""),
            (photo.to_str().expect("path"), b""),
            ("-", receipt.token.as_bytes()),
        ] {
            let (verdict, out) = cli(&[input, "--key", &key], stdin);
            assert!(verdict.expect("runs"), "{input}: {out}");
            assert!(out.starts_with("valid\n"), "{out}");
            for line in [
                "confirmation\tK7QM-3XPA-9RTW",
                "total\t1.070,50 RSD",
                "payee account\t160-5100000000-02",
                "paid at\t2026-07-01T08:00:00Z (01.07.2026. 10:00:00 Europe/Belgrade)",
                "paid by\tcash at post office 21101",
            ] {
                assert!(out.contains(line), "{line} missing from {out}");
            }
        }
    }

    #[test]
    fn refuses_changed_codes_and_unknown_keys_with_exit_1() {
        let keys = ReceiptKeys::new(b"a secret of at least 32 characters!!", 1, vec![]);
        let receipt = issue(&data(), &keys).expect("issues");
        let other = ReceiptKeys::new(b"another secret of 32 characters!!!!!", 1, vec![]);
        let other_key = other.signing_key().public().to_base64url();
        let (verdict, out) = cli(&[&receipt.token, "--key", &other_key], b"");
        assert!(!verdict.expect("runs"));
        assert!(out.starts_with("invalid\tsigned with key"), "{out}");

        // A key set file, as /receipts/keys.json serves it, with both keys: valid.
        let dir = tempfile::tempdir().expect("dir");
        let set = dir.path().join("keys.json");
        let mut jwks = keys.jwk_set();
        jwks.keys.extend(other.jwk_set().keys);
        std::fs::write(&set, serde_json::to_string(&jwks).expect("json")).expect("write");
        let (verdict, _) = cli(
            &[&receipt.token, "--keys", set.to_str().expect("path")],
            b"",
        );
        assert!(verdict.expect("runs"));

        let key = keys.signing_key().public().to_base64url();
        let mut changed = receipt.token.clone();
        // The payload's last character before the signature, changed.
        let dot = changed.rfind('.').expect("dot");
        let c = changed.as_bytes()[dot - 2];
        changed.replace_range(dot - 2..dot - 1, if c == b'A' { "B" } else { "A" });
        let (verdict, out) = cli(&[&changed, "--key", &key], b"");
        assert!(!verdict.expect("runs"), "{out}");
        assert!(out.starts_with("invalid\t"), "{out}");

        let (verdict, out) = cli(&["-", "--key", &key], b"nothing here");
        assert!(!verdict.expect("runs"));
        assert_eq!(out, "invalid\tno receipt code (EPR1.…) in the input\n");
    }

    #[test]
    fn unreadable_input_or_keys_are_errors_not_verdicts() {
        let (verdict, _) = cli(&["/no/such/file", "--key", "AAAA"], b"");
        assert!(verdict.is_err(), "a bad key is an error (exit 2)");
        let keys = ReceiptKeys::new(b"a secret of at least 32 characters!!", 1, vec![]);
        let key = keys.signing_key().public().to_base64url();
        let (verdict, _) = cli(&["/no/such/file", "--key", &key], b"");
        let err = verdict.expect_err("not a file").to_string();
        assert!(err.contains("nor a file"), "{err}");
    }
}
