//! The compiled `eposta` binary, end to end: migrate, create an admin with the password on
//! standard input (never as an argument), and check the audit log.
//!
//! These run on SQLite in a temporary data directory even when `EPOSTA_TEST_PG_URL` is set:
//! they test the binary (arguments, standard input, exit codes, output), not the database,
//! which the kernel's suite covers on both.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `eposta` with `args` in `dir`, its data in `dir/data`, `stdin` piped in, and no
/// `EPOSTA_*` setting from the environment the tests run in.
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
    // A command that exits before reading (a usage error) closes the pipe; that is fine.
    let _ = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("eposta finishes")
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn migrate_create_an_admin_from_stdin_and_verify_the_audit_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();

    let o = eposta(dir, &["audit", "verify"], "");
    assert!(!o.status.success(), "an unmigrated database: {}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("eposta migrate"));

    let o = eposta(dir, &["migrate"], "");
    assert!(o.status.success(), "{}", show(&o));
    assert!(dir.join("data/eposta.db").exists());

    let o = eposta(
        dir,
        &[
            "admin",
            "create-user",
            "--role",
            "admin",
            "--email",
            "a@example.rs",
        ],
        "a long enough password\n",
    );
    assert!(o.status.success(), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("created admin "), "{}", show(&o));
    assert!(!out.contains("a long enough password"));

    // A password on the command line would end up in shell history and `ps`; there is no
    // such option, so the command is refused before it reads or creates anything.
    let o = eposta(
        dir,
        &[
            "admin",
            "create-user",
            "--role",
            "admin",
            "--email",
            "b@example.rs",
            "--password",
            "a long enough password",
        ],
        "a long enough password\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unexpected argument '--password'"),
        "{}",
        show(&o)
    );

    // A password that breaks the policy is refused, and nothing is created.
    let o = eposta(
        dir,
        &[
            "admin",
            "create-user",
            "--role",
            "admin",
            "--email",
            "c@example.rs",
        ],
        "short\n",
    );
    assert!(!o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("password"));

    let o = eposta(dir, &["audit", "verify"], "");
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "audit log intact: 1 entries",
        "only the one account was created"
    );
}

/// One HTTP/1.1 request over a fresh connection; returns the raw response.
fn http(port: u16, request: &str) -> String {
    use std::io::Read;
    // Not listening yet reads as an empty answer.
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    s.write_all(request.as_bytes()).expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn cookie_from(response: &str, name: &str) -> Option<String> {
    response
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

#[test]
fn serve_logs_json_lines_without_secrets_or_personal_data_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let secret = "an-installation-secret-that-is-long-enough";
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eposta"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EPOSTA_") {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd
        .args(["serve", "--demo"])
        .current_dir(dir.path())
        .env("EPOSTA_DATA_DIR", dir.path().join("data"))
        .env("EPOSTA_LISTEN", format!("127.0.0.1:{port}"))
        .env("EPOSTA_LOG_FORMAT", "json")
        .env("EPOSTA_LOG", "info")
        .env("EPOSTA_SECRET_KEY", secret)
        // A relay that is not there: delivery fails, and the failure is logged.
        .env("EPOSTA_SMTP_URL", "smtp://mailer:hunter2@127.0.0.1:9")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eposta serve starts");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !http(
        port,
        "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .starts_with("HTTP/1.1 200")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "eposta did not become ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let page = http(
        port,
        "GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let csrf = cookie_from(&page, "eposta_csrf").expect("a CSRF cookie");
    let post = |path: &str, body: String| {
        http(
            port,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: eposta_csrf={csrf}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    let r = post(
        "/login",
        format!("csrf={csrf}&email=citizen%40demo.eposta.rs&password=wrong-password-123"),
    );
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
    let r = post(
        "/register",
        format!("csrf={csrf}&email=new.citizen%40example.rs&password=a-secret-passphrase"),
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    // The demo citizen pays a bill by card through the test acquirer (on with --demo): names,
    // addresses, accounts and the card number must not reach the logs.
    let r = post(
        "/login",
        format!("csrf={csrf}&email=citizen%40demo.eposta.rs&password=demo-citizen-password"),
    );
    assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    let session = cookie_from(&r, "eposta_session").expect("a session");
    let as_citizen = |path: &str, body: String| {
        http(
            port,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                 Cookie: eposta_csrf={csrf}; eposta_session={session}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    let r = as_citizen(
        "/payments/new",
        format!(
            "csrf={csrf}&payer_name=Petar+Tajni%C4%87&payer_address=Tajna+ulica+7&\
             payee_name=Elektro+Primalac&payee_account=845-404849-87&purpose=Racun+za+struju&\
             payment_code=189&amount=1500&submission=0123456789abcdef0123456789abcdef&action=pay_card"
        ),
    );
    assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    let acquirer = r
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .and_then(|l| l.find("/test-acquirer/").map(|i| l[i..].trim().to_owned()))
        .expect("to the test acquirer");
    let r = as_citizen(
        &acquirer,
        format!("csrf={csrf}&number=4242+4242+4242+4242&expiry=12%2F30&cvc=123&action=pay"),
    );
    assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    // Let a worker try (and fail) to deliver the confirmation mail.
    std::thread::sleep(std::time::Duration::from_secs(2));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let _ = child.stdin.take();
    let out = child.wait_with_output().expect("eposta exits");
    assert!(
        out.status.success(),
        "SIGTERM must end eposta cleanly: {}",
        show(&out)
    );

    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.lines().count() > 5, "{logs}");
    for line in logs.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            v.get("level").is_some() && v.get("message").is_some(),
            "{line}"
        );
    }
    for secret_or_personal in [
        secret,
        "hunter2",
        "wrong-password-123",
        "a-secret-passphrase",
        "citizen@demo.eposta.rs",
        "new.citizen@example.rs",
        &csrf,
        &session,
        "Tajni",
        "Tajna ulica",
        "Elektro Primalac",
        "845-404849-87",
        "845000000040484987",
        "4242424242424242",
        "4242 4242",
    ] {
        assert!(
            !logs.contains(secret_or_personal),
            "the logs contain {secret_or_personal:?}:\n{logs}"
        );
    }
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(
        logs.contains("job failed"),
        "the failed delivery must be logged (and checked above): {logs}"
    );
    assert!(
        logs.contains("payment created") && logs.contains("payment state changed"),
        "the payment and its success by the acquirer's notification are logged (and checked above): {logs}"
    );
}

/// Runs `eposta` in `dir` with no `EPOSTA_*` setting at all, not even a data directory, and
/// feeds `stdin` from a thread: a command that writes while it reads would otherwise fill the
/// output pipe while the test is still writing, and both would wait for ever.
fn eposta_standalone(dir: &Path, args: &[&str], stdin: Vec<u8>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eposta"));
    cmd.args(args).current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EPOSTA_") {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the eposta binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        // A command that exits before reading (a usage error) closes the pipe; that is fine.
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().expect("eposta finishes");
    writer.join().expect("the stdin writer finishes");
    out
}

/// The shared S10 vectors: (identifier, expected outcome) for every row.
fn s10_vectors() -> Vec<(&'static str, &'static str)> {
    let rows: Vec<_> = include_str!("../../eposta-formats/testdata/s10.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("id\t"))
        .map(|l| {
            let mut cols = l.split('\t');
            (cols.next().unwrap_or(""), cols.next().unwrap_or(""))
        })
        .collect();
    assert_eq!(rows.len(), 27, "every row of s10.tsv");
    rows
}

/// What `eposta s10 check` must say about an identifier with this expected outcome: the
/// verdict column and a piece of the reason or warning.
fn s10_expected_line(id: &str, outcome: &str) -> (String, &'static str) {
    let (verdict, reason) = match outcome {
        "valid" => ("valid", ""),
        "warn-si" => ("valid", "warning: service indicator"),
        "invalid-check" => ("invalid", "check digit"),
        "invalid-si" => ("invalid", "is reserved"),
        "invalid-country" => ("invalid", "not an ISO 3166-1 country code"),
        "invalid-format" => ("invalid", "must be 13 characters"),
        other => panic!("unknown outcome {other:?} for {id}"),
    };
    (format!("{id}\t{verdict}"), reason)
}

#[test]
fn s10_check_judges_every_shared_vector_as_arguments_and_on_standard_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let vectors = s10_vectors();
    let ids: Vec<&str> = vectors.iter().map(|(id, _)| *id).collect();

    let mut args = vec!["s10", "check"];
    args.extend(&ids);
    let from_args = eposta_standalone(dir.path(), &args, Vec::new());
    let stdin = ids.iter().map(|id| format!("{id}\n")).collect::<String>();
    let from_stdin = eposta_standalone(dir.path(), &["s10", "check", "-"], stdin.into_bytes());

    for o in [&from_args, &from_stdin] {
        assert_eq!(o.status.code(), Some(1), "some are invalid: {}", show(o));
        let out = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), vectors.len(), "{}", show(o));
        for ((id, outcome), line) in vectors.iter().zip(&lines) {
            let (start, reason) = s10_expected_line(id, outcome);
            assert!(
                line.starts_with(&start) && line.contains(reason),
                "{id} ({outcome}): {line}"
            );
            let columns = if *outcome == "valid" { 2 } else { 3 };
            assert_eq!(line.split('\t').count(), columns, "{line}");
        }
    }
    assert_eq!(from_args.stdout, from_stdin.stdout, "the same verdicts");
    assert!(
        std::fs::read_dir(dir.path())
            .expect("read dir")
            .next()
            .is_none(),
        "checking creates nothing (no data directory, no database)"
    );
}

#[test]
fn s10_check_exits_0_when_all_are_valid_warnings_included_and_needs_no_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = eposta_standalone(
        dir.path(),
        &["s10", "check", "ra 123 456 785 rs", "FB123456785GB"],
        Vec::new(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "ra 123 456 785 rs\tvalid\n\
         FB123456785GB\tvalid\twarning: service indicator FB is not allocated in S10-12\n"
    );

    // A configuration that would stop every other command is not even read.
    std::fs::write(dir.path().join("eposta.toml"), "listen = [broken").expect("write");
    let valid: String = s10_vectors()
        .iter()
        .filter(|(_, outcome)| matches!(*outcome, "valid" | "warn-si"))
        .map(|(id, _)| format!("{id}\r\n"))
        .collect();
    let o = eposta_standalone(
        dir.path(),
        &["s10", "check", "-"],
        valid.clone().into_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), valid.lines().count());
    assert!(
        out.contains(
            "\nFB123456785GB\tvalid\twarning: service indicator FB is not allocated in S10-12\n"
        ),
        "the line ending is not part of the identifier: {out}"
    );
    let o = eposta(dir.path(), &["migrate"], "");
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("listen"),
        "the broken configuration does stop commands that read it: {}",
        show(&o)
    );

    // One invalid identifier among valid ones is enough for exit 1; every line is still
    // answered, blank ones and a last line without an ending included.
    let o = eposta_standalone(
        dir.path(),
        &["s10", "check", "-"],
        b"RA123456785RS\n\nRA123456784RS\nRR473124829GB".to_vec(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "RA123456785RS\tvalid\n\
         \tinvalid\tmust be 13 characters: two letters, nine digits, two letters\n\
         RA123456784RS\tinvalid\tcheck digit 4, expected 5\n\
         RR473124829GB\tvalid\n"
    );
}

#[test]
fn s10_usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [
        &["s10", "check"][..],
        &["s10", "check", "--strict", "RA123456785RS"],
        &["s10", "generate"],
        &["s10", "generate", "--count", "10", "--invalid-every", "0"],
        &["s10", "generate", "--count", "many"],
    ] {
        let o = eposta_standalone(dir.path(), args, Vec::new());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show(&o));
        assert!(o.stdout.is_empty(), "{args:?}: {}", show(&o));
    }
}

#[test]
fn s10_generated_identifiers_check_valid_except_every_kth() {
    let dir = tempfile::tempdir().expect("temp dir");
    let generate = |seed: &str| {
        let o = eposta_standalone(
            dir.path(),
            &[
                "s10",
                "generate",
                "--count",
                "10000",
                "--seed",
                seed,
                "--invalid-every",
                "10",
            ],
            Vec::new(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        o.stdout
    };
    let ids = generate("42");
    assert_eq!(ids, generate("42"), "the same seed gives the same data");
    assert_ne!(ids, generate("43"));

    let o = eposta_standalone(dir.path(), &["s10", "check", "-"], ids.clone());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 10_000);
    let mut reasons = std::collections::BTreeMap::new();
    for (i, (line, id)) in lines.iter().zip(ids.split(|&b| b == b'\n')).enumerate() {
        let mut cols = line.split('\t');
        assert_eq!(cols.next().map(str::as_bytes), Some(id), "the ID as given");
        let verdict = cols.next();
        if (i + 1) % 10 == 0 {
            assert_eq!(verdict, Some("invalid"), "line {}: {line}", i + 1);
            let reason = cols.next().unwrap_or("");
            let kind = ["check digit", "reserved", "ISO 3166-1", "13 characters"]
                .into_iter()
                .find(|kind| reason.contains(kind))
                .unwrap_or(reason);
            *reasons.entry(kind).or_insert(0) += 1;
        } else {
            assert_eq!(
                (verdict, cols.next()),
                (Some("valid"), None),
                "line {}: {line}",
                i + 1
            );
        }
    }
    assert_eq!(
        reasons.into_iter().collect::<Vec<_>>(),
        [
            ("13 characters", 250),
            ("ISO 3166-1", 250),
            ("check digit", 250),
            ("reserved", 250),
        ],
        "exactly 1,000 invalid, each kind of fault alike"
    );
}

#[test]
fn serve_refuses_to_start_with_a_bad_tariff_and_names_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tariff = dir.path().join("tariff.toml");
    std::fs::write(
        &tariff,
        "name = \"Ценовник\"\ncurrency = \"RSD\"\nvat_bp = 20000\n[products]\n",
    )
    .expect("write");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eposta"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EPOSTA_") {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd
        .arg("serve")
        .current_dir(dir.path())
        .env("EPOSTA_DATA_DIR", dir.path().join("data"))
        .env("EPOSTA_LISTEN", "127.0.0.1:0")
        .env("EPOSTA_LOG", "warn")
        .env("EPOSTA_POSTAL_TARIFF", &tariff)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eposta serve starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("eposta serve kept running with a bad tariff");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let o = child.wait_with_output().expect("output");
    assert!(!o.status.success(), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("EPOSTA_POSTAL_TARIFF"), "{}", show(&o));
    assert!(err.contains("tariff.toml"), "{}", show(&o));
    assert!(err.contains("vat_bp: must be 0 to 10000"), "{}", show(&o));
    assert!(
        !dir.path().join("data/eposta.db").exists(),
        "it stopped before opening the database"
    );
}

/// Rows of a shared-vector table in crates/eposta-formats/testdata: the columns of every line
/// that is not a comment or the header.
fn table(text: &'static str) -> Vec<Vec<&'static str>> {
    text.lines()
        .skip_while(|l| l.starts_with('#'))
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect()
}

#[test]
fn ips_check_judges_every_shared_vector_streamed_on_standard_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = table(include_str!("../../eposta-formats/testdata/ips.tsv"));
    assert_eq!(rows.len(), 30, "every row of ips.tsv");
    // The table writes newlines inside values as `\n`, exactly as the command reads them.
    let stdin: String = rows.iter().map(|r| format!("{}\r\n", r[0])).collect();
    let o = eposta_standalone(dir.path(), &["ips", "check"], stdin.into_bytes());
    assert_eq!(o.status.code(), Some(1), "some are invalid: {}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), rows.len(), "{}", show(&o));
    for (row, line) in rows.iter().zip(&lines) {
        if row[1] == "valid" {
            assert_eq!(*line, "valid", "{}", row[0]);
        } else {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "{line}");
            assert_eq!(
                (cols[0], cols[1]),
                ("invalid", row[2]),
                "{}: {line}",
                row[0]
            );
            assert!(!cols[2].is_empty());
        }
    }

    let valid: String = rows
        .iter()
        .filter(|r| r[1] == "valid")
        .map(|r| format!("{}\n", r[0]))
        .collect();
    let o = eposta_standalone(dir.path(), &["ips", "check", "-"], valid.into_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "valid\n".repeat(9));
    assert!(
        std::fs::read_dir(dir.path())
            .expect("read dir")
            .next()
            .is_none(),
        "checking creates nothing"
    );
}

#[test]
fn account_jmbg_and_reference_check_every_shared_vector_as_arguments() {
    let dir = tempfile::tempdir().expect("temp dir");

    let accounts = table(include_str!("../../eposta-formats/testdata/accounts.tsv"));
    let mut args = vec!["account", "check"];
    args.extend(accounts.iter().map(|r| r[0]));
    let o = eposta_standalone(dir.path(), &args, Vec::new());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), accounts.len());
    for (row, line) in accounts.iter().zip(out.lines()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols[0], row[0], "{line}");
        if row[1] == "valid" {
            assert_eq!(cols[1], "valid", "{line}");
            assert_eq!(cols[3], format!("RS35{}", row[2]), "{line}");
        } else {
            assert_eq!(cols[1], "invalid", "{line}");
        }
    }
    let o = eposta_standalone(
        dir.path(),
        &[
            "account",
            "check",
            "840-955845-10",
            "RS35 8400 0007 4222 1843 57",
        ],
        Vec::new(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "840-955845-10\tvalid\t840-955845-10\tRS35840000000095584510\n\
         RS35 8400 0007 4222 1843 57\tvalid\t840-742221843-57\tRS35840000074222184357\n"
    );

    let jmbgs = table(include_str!("../../eposta-formats/testdata/jmbg.tsv"));
    let mut args = vec!["jmbg", "check"];
    args.extend(jmbgs.iter().map(|r| r[0]));
    let o = eposta_standalone(dir.path(), &args, Vec::new());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for (row, line) in jmbgs.iter().zip(out.lines()) {
        let verdict = line.split('\t').nth(1);
        let expected = if row[1] == "valid" {
            "valid"
        } else {
            "invalid"
        };
        assert_eq!(verdict, Some(expected), "{line}");
        // Personal data: only the last four digits are shown.
        assert!(
            !line.contains(&row[0][..row[0].len() - 4]) || row[0].len() <= 4,
            "{line}"
        );
    }
    assert_eq!(out.lines().count(), jmbgs.len());
    let serbian: Vec<&str> = jmbgs
        .iter()
        .filter(|r| r[2] == "yes")
        .map(|r| r[0])
        .collect();
    let mut args = vec!["jmbg", "check", "--serbian"];
    args.extend(&serbian);
    let o = eposta_standalone(dir.path(), &args, Vec::new());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let o = eposta_standalone(
        dir.path(),
        &["jmbg", "check", "--serbian", "0101900350008"],
        Vec::new(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "region 35 is Croatia: {}",
        show(&o)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "*********0008\tinvalid\tnot registered in Serbia (region must be 70 to 99)\n"
    );

    let references = table(include_str!("../../eposta-formats/testdata/references.tsv"));
    let mut args = vec!["reference", "check"];
    for r in &references {
        // A model given apart is a separate argument: `97 632001095785`.
        if !r[0].is_empty() {
            args.push(r[0]);
        }
        args.push(r[1]);
    }
    let o = eposta_standalone(dir.path(), &args, Vec::new());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), references.len(), "{}", show(&o));
    for (row, line) in references.iter().zip(out.lines()) {
        let input = if row[0].is_empty() {
            row[1].to_owned()
        } else {
            format!("{} {}", row[0], row[1])
        };
        let expected = if row[2].starts_with("valid") {
            "valid"
        } else {
            "invalid"
        };
        assert!(line.starts_with(&format!("{input}\t{expected}")), "{line}");
    }
    for args in [
        &["reference", "check", "97", "14123412"][..],
        &["reference", "check", "9714123412", "97 14123412", "00 1234"],
    ] {
        let o = eposta_standalone(dir.path(), args, Vec::new());
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", show(&o));
    }
}

/// Decodes the QR code in a PNG with zbarimg, as bytes (no character-set guessing).
fn zbar_raw(png: &Path) -> Vec<u8> {
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary"])
        .arg(png)
        .output()
        .expect("zbarimg runs");
    assert!(
        out.status.success(),
        "zbarimg read no code from {}",
        png.display()
    );
    out.stdout
}

#[test]
fn ips_make_prints_a_code_that_checks_and_images_that_decode_to_it() {
    use eposta_kernel::testing::peer_available;
    const TEST: &str = "ips_make_prints_a_code_that_checks_and_images_that_decode_to_it";
    let dir = tempfile::tempdir().expect("temp dir");
    let (png, svg) = (dir.path().join("code.png"), dir.path().join("code.svg"));
    let o = eposta_standalone(
        dir.path(),
        &[
            "ips",
            "make",
            "--account",
            "840-955845-10",
            "--payee",
            "Пошта Србије\\nТаковска 2\\nБеоград",
            "--amount",
            "1025,5",
            "--code",
            "289",
            "--purpose",
            "Račun 2024-001",
            "--reference",
            "97 14-123412",
            "--png",
            png.to_str().expect("UTF-8 path"),
            "--svg",
            svg.to_str().expect("UTF-8 path"),
        ],
        Vec::new(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let printed = String::from_utf8_lossy(&o.stdout).into_owned();
    let expected = "K:PR|V:01|C:1|R:840000000095584510|N:Пошта Србије\\nТаковска 2\\nБеоград|I:RSD1025,50|SF:289|S:Račun 2024-001|RO:9714123412\n";
    assert_eq!(printed, expected);
    let o = eposta_standalone(dir.path(), &["ips", "check"], printed.clone().into_bytes());
    assert_eq!(
        (o.status.code(), &o.stdout[..]),
        (Some(0), &b"valid\n"[..]),
        "{}",
        show(&o)
    );

    let content = printed.trim_end().replace("\\n", "\n");
    assert!(
        std::fs::read(&png)
            .expect("png written")
            .starts_with(b"\x89PNG")
    );
    assert!(
        std::fs::read_to_string(&svg)
            .expect("svg written")
            .contains("<svg")
    );
    if peer_available(
        TEST,
        Command::new("zbarimg").arg("--version").output().is_ok(),
        "zbarimg",
        "apt-get install zbar-tools",
    ) {
        assert_eq!(String::from_utf8_lossy(&zbar_raw(&png)).trim_end(), content);
    }
    if peer_available(
        TEST,
        Command::new("rsvg-convert")
            .arg("--version")
            .output()
            .is_ok(),
        "rsvg-convert",
        "apt-get install librsvg2-bin",
    ) {
        let drawn = dir.path().join("from-svg.png");
        let ok = Command::new("rsvg-convert")
            .args(["--width", "400", "--output"])
            .arg(&drawn)
            .arg(&svg)
            .status()
            .expect("rsvg-convert runs");
        assert!(ok.success());
        assert_eq!(
            String::from_utf8_lossy(&zbar_raw(&drawn)).trim_end(),
            content
        );
    }
}

#[test]
fn ips_make_refuses_bad_fields_naming_the_tag_and_bad_usage_with_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = [
        "ips",
        "make",
        "--account",
        "840-955845-10",
        "--payee",
        "Primalac",
        "--amount",
        "10",
    ];
    let mut args = base.to_vec();
    let o = eposta_standalone(dir.path(), &args, Vec::new());
    assert_eq!(
        o.status.code(),
        Some(1),
        "no payment code on a PR: {}",
        show(&o)
    );
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("invalid\tSF\tmissing; mandatory for PR"),
        "{}",
        show(&o)
    );
    args.extend(["--code", "289", "--reference", "97 14123413"]);
    let o = eposta_standalone(dir.path(), &args, Vec::new());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("invalid\tRO\treference: model 97: control 14, expected 11"),
        "{}",
        show(&o)
    );
    let mut args = base.to_vec();
    args.extend(["--code", "289", "--kind", "EK"]);
    let o = eposta_standalone(dir.path(), &args, Vec::new());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("invalid\tM\t"),
        "{}",
        show(&o)
    );

    for bad in [
        &["ips", "make", "--payee", "A", "--amount", "1"][..],
        &[
            "ips",
            "make",
            "--account",
            "840-955845-10",
            "--payee",
            "A",
            "--amount",
            "1.025,00",
        ],
        &[
            "ips",
            "make",
            "--account",
            "840-955845-10",
            "--payee",
            "A",
            "--amount",
            "-1",
        ],
        &[
            "ips",
            "make",
            "--account",
            "840-955845-10",
            "--payee",
            "A",
            "--amount",
            "1",
            "--kind",
            "XX",
        ],
        &["account", "check"],
        &["jmbg", "check"],
        &["reference", "check"],
    ] {
        let o = eposta_standalone(dir.path(), bad, Vec::new());
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", show(&o));
        assert!(o.stdout.is_empty(), "{bad:?}");
    }
}

/// A camt.053.001.02 statement of `account` (IBAN) with these entries: (credit?, amount in
/// para, reference in IPS form, bank reference). Balances add up.
fn camt053(account_iban: &str, statement_id: &str, entries: &[(bool, i64, &str, &str)]) -> String {
    let amount = |p: i64| format!("{}.{:02}", p / 100, p % 100);
    let closing: i64 = entries
        .iter()
        .map(|(credit, p, _, _)| if *credit { *p } else { -*p })
        .sum();
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n\
         <BkToCstmrStmt><GrpHdr><MsgId>CLI-{statement_id}</MsgId>\
         <CreDtTm>2026-03-02T18:00:00</CreDtTm></GrpHdr>\n\
         <Stmt><Id>{statement_id}</Id><Acct><Id><IBAN>{account_iban}</IBAN></Id><Ccy>RSD</Ccy></Acct>\n\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"RSD\">0.00</Amt>\
         <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>\n\
         <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"RSD\">{}</Amt>\
         <CdtDbtInd>{}</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>\n",
        amount(closing.abs()),
        if closing < 0 { "DBIT" } else { "CRDT" }
    );
    for (credit, p, reference, bank) in entries {
        let direction = if *credit { "CRDT" } else { "DBIT" };
        let rmt = if reference.is_empty() {
            String::new()
        } else {
            format!(
                "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>{}</Prtry></CdOrPrtry></Tp>\
                 <Ref>{}</Ref></CdtrRefInf></Strd></RmtInf>",
                &reference[..2],
                &reference[2..]
            )
        };
        x.push_str(&format!(
            "<Ntry><Amt Ccy=\"RSD\">{}</Amt><CdtDbtInd>{direction}</CdtDbtInd><Sts>BOOK</Sts>\
             <BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>{bank}</AcctSvcrRef>\
             <NtryDtls><TxDtls>{rmt}</TxDtls></NtryDtls></Ntry>\n",
            amount(*p)
        ));
    }
    x.push_str("</Stmt></BkToCstmrStmt></Document>\n");
    x
}

#[test]
fn reconcile_and_remittance_through_the_binary() {
    use eposta_kernel::accounts::Role;
    use eposta_kernel::accounts::service::{NewStaff, create_user};
    use eposta_kernel::audit::Actor;
    use eposta_kernel::config::Config;

    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let statement = dir.join("izvod.xml");
    std::fs::write(&statement, "<Document/>").expect("write");
    let o = eposta(dir, &["reconcile", statement.to_str().expect("path")], "");
    assert!(!o.status.success(), "an unmigrated database: {}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("eposta migrate"),
        "{}",
        show(&o)
    );
    let o = eposta(dir, &["migrate"], "");
    assert!(o.status.success(), "{}", show(&o));

    // A citizen's pending IPS payment in the installation's database, made through the
    // library as the payment pages would.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (reference, total, iban) = runtime.block_on(async {
        let config = Config {
            data_dir: dir.join("data"),
            ..Config::default()
        };
        let app = eposta_kernel::App::open(config).await.expect("open");
        let user = create_user(
            &app,
            &Actor::System,
            NewStaff {
                email: "payer@example.rs".into(),
                password: secrecy::SecretString::from("a long enough password"),
                display_name: "Payer".into(),
                role: Role::Citizen,
                office_code: None,
            },
        )
        .await
        .expect("citizen");
        let input: eposta_payments::domain::PaymentInput =
            serde_json::from_value(serde_json::json!({
                "payer": {"name": "Петар Петровић", "address": "Београд"},
                "payee": {"name": "JP EPS Beograd", "account": "845000000040484987"},
                "purpose": "Uplata po racunu", "payment_code": "189",
                "amount": {"minor": 100_000, "currency": "RSD"},
                "reference": "97163220000111111111000", "method": "ips",
            }))
            .expect("input");
        let created = eposta_payments::service::create(
            &app,
            eposta_payments::domain::Owner::Citizen { user },
            &input,
            None,
        )
        .await
        .expect("create")
        .expect("valid order");
        let p = created.payment;
        let iban = eposta_payments::settings::collection(&app.config)
            .expect("collection")
            .account
            .iban();
        let r = p.collection_reference.as_ref().expect("IPS").ro();
        app.db.close().await;
        (r, p.total_para(), iban)
    });

    let good = camt053(
        &iban,
        "STMT-1",
        &[
            (true, total, &reference, "BANK-1"),
            (true, 5_000, "97262026000000001", "BANK-2"),
            (false, 1_500, "", "FEE-1"),
        ],
    );
    std::fs::write(&statement, &good).expect("write");
    let path = statement.to_str().expect("path");
    let o = eposta(dir, &["reconcile", path], "");
    assert!(o.status.success(), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("3 entries in 1 statement(s)"), "{}", show(&o));
    let outcome = |name: &str| {
        out.lines()
            .map(|l| l.split('\t').map(str::trim).collect::<Vec<_>>())
            .find(|f| f[0] == name)
            .map(|f| f[1..].join(" "))
    };
    assert_eq!(
        outcome("completed"),
        Some(format!("1 {}.00 RSD", total / 100))
    );
    assert_eq!(outcome("unknown_reference").as_deref(), Some("1 50.00 RSD"));
    assert_eq!(outcome("debit").as_deref(), Some("1 15.00 RSD"));
    assert!(out.contains("BANK-2"), "{}", show(&o));
    assert!(!out.contains("Петар"), "no payer's name in the report");

    // The same statement again: nothing changes, exit 0.
    let o = eposta(dir, &["reconcile", path], "");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("imported before"),
        "{}",
        show(&o)
    );

    // Broken at the end, and another account's statement: exit 1, line and reason.
    let cut = &good[..good.len() - 30];
    std::fs::write(&statement, cut).expect("write");
    let o = eposta(dir, &["reconcile", path], "");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(": line "), "{}", show(&o));
    assert!(err.contains("nothing applied"), "{}", show(&o));
    let other = camt053("RS35160000000000510005", "STMT-9", &[(true, 100, "", "X")]);
    std::fs::write(&statement, other).expect("write");
    let o = eposta(dir, &["reconcile", path], "");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("collection account"),
        "{}",
        show(&o)
    );

    // Remittance: a day not over is refused, a bad date is a usage error, and a day that
    // is over sends the payment that the statement completed (its completion moved to
    // 2 March, since the binary runs on the real clock).
    runtime.block_on(async {
        let config = Config {
            data_dir: dir.join("data"),
            ..Config::default()
        };
        let app = eposta_kernel::App::open(config).await.expect("open");
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        let mut conn = app.db.conn().await.expect("conn");
        eposta_kernel::db_run!(&mut conn, |c| sqlx::query(
            "UPDATE payments SET completed_at = $1 WHERE state = 'succeeded'"
        )
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|_| ()))
        .expect("update");
        drop(conn);
        app.db.close().await;
    });
    let o = eposta(dir, &["remittance", "run", "--date", "2999-01-01"], "");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--date"),
        "{}",
        show(&o)
    );
    let o = eposta(dir, &["remittance", "run", "--date", "1.3.2026"], "");
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let files = dir.join("out");
    let o = eposta(
        dir,
        &[
            "remittance",
            "run",
            "--date",
            "2026-03-02",
            "--out",
            files.to_str().expect("path"),
        ],
        "",
    );
    assert!(o.status.success(), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 new batch(es)"), "{}", show(&o));
    assert!(out.contains("1 transfers\t1000.00 RSD"), "{}", show(&o));
    let name = "EPR-20260302-845000000040484987-1";
    let xml = std::fs::read_to_string(files.join(format!("{name}.xml"))).expect("pain.001");
    assert!(xml.contains("<NbOfTxs>1</NbOfTxs>"), "{xml}");
    let csv = std::fs::read_to_string(files.join(format!("{name}.csv"))).expect("csv");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let o = eposta(dir, &["remittance", "run", "--date", "2026-03-02"], "");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("0 new batch(es)"),
        "{}",
        show(&o)
    );

    // The bank's status report rejects the batch: its payment goes out again in the next
    // run; the same report again, one for an unknown batch and a broken one change nothing.
    let report = |msg: &str, original: &str, status: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03\">\n\
             <CstmrPmtStsRpt><GrpHdr><MsgId>{msg}</MsgId><CreDtTm>2026-03-03T09:00:00</CreDtTm></GrpHdr>\n\
             <OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>\n\
             <GrpSts>{status}</GrpSts></OrgnlGrpInfAndSts></CstmrPmtStsRpt>\n</Document>\n"
        )
    };
    let rejected = dir.join("pain002-rjct.xml");
    std::fs::write(&rejected, report("STS-1", name, "RJCT")).expect("write");
    let path = rejected.to_str().expect("path");
    let o = eposta(dir, &["remittance", "status", path], "");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("status RJCT; 0 transaction(s), 1 rejected"),
        "{}",
        show(&o)
    );
    let o = eposta(dir, &["remittance", "status", path], "");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("imported before"),
        "{}",
        show(&o)
    );
    let unknown = dir.join("pain002-unknown.xml");
    std::fs::write(&unknown, report("STS-2", "EPR-NOT-OURS", "ACCP")).expect("write");
    let o = eposta(
        dir,
        &["remittance", "status", unknown.to_str().expect("path")],
        "",
    );
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("unknown batch EPR-NOT-OURS"),
        "{}",
        show(&o)
    );
    let broken = dir.join("pain002-broken.xml");
    std::fs::write(&broken, report("STS-3", name, "OK")).expect("write");
    let o = eposta(
        dir,
        &["remittance", "status", broken.to_str().expect("path")],
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("line 5: OrgnlGrpInfAndSts/GrpSts"),
        "{}",
        show(&o)
    );
    let o = eposta(dir, &["remittance", "run", "--date", "2026-03-03"], "");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("1 new batch(es)"),
        "{}",
        show(&o)
    );
}
