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
