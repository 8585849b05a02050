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
