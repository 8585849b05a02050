//! Measures reconciliation (issue #5: a generated camt.053 statement of 1 million entries in
//! under 30 s, in memory that does not grow with the file). Not a test: it prints numbers.
//!
//!   EPOSTA_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/eposta_bench \
//!     cargo run --release -p eposta-payments --example bench_reconcile -- [entries] [file]
//!
//! Defaults: 1,000,000 entries, the statement written to a temporary file (about 1.4 KB per
//! entry) and deleted at the end. Without `EPOSTA_TEST_PG_URL` it runs on a temporary SQLite
//! file. On PostgreSQL it works in a schema of its own, dropped at the end.
//!
//! 1. Creates the pending IPS payments the statement will pay, in bulk (SQL, not timed):
//!    one per credit, each with its own model-97 collection reference and total.
//! 2. Writes the statement with the formats crate's generator (`write_statement`, the
//!    writer behind `gen_camt053`): nine entries in ten are credits whose reference and
//!    amount match a payment (half of the references structured, half in free text); of
//!    those, one in a hundred is a dinar short (reported as a mismatch) and one in a
//!    hundred names no payment; every tenth entry is a debit.
//! 3. Imports it through `reconcile::import`, as `eposta reconcile` does, and prints the
//!    wall time, this process's CPU time (and the PostgreSQL backends'), the peak resident
//!    memory of the import (the peak is reset before it), and the outcomes; checks that
//!    every payment that should be paid is.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use eposta_formats::account::AccountNumber;
use eposta_formats::iso20022::camt053::{StatementSpec, TransactionSpec, Version, write_statement};
use eposta_formats::iso20022::{CreditDebit, Currency, Date};
use eposta_formats::reference::Reference;
use eposta_kernel::audit::Actor;
use eposta_kernel::clock::SystemClock;
use eposta_kernel::config::Config;
use eposta_kernel::db::{Backend, Either, Exec};
use eposta_kernel::{App, apikeys, db_run, testing};
use eposta_payments::domain::codes::confirmation_from;
use eposta_payments::reconcile::{self, Imported, Outcome, Request, Source};
use eposta_payments::settings;
use secrecy::SecretString;
use uuid::Uuid;

/// What entry `i` of the statement is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Pays payment `i` exactly.
    Pays,
    /// A dinar short of payment `i`'s total.
    Short,
    /// A reference no payment has.
    Unknown,
    Debit,
}

fn kind(i: u64) -> Kind {
    match (i % 10, i % 100) {
        (9, _) => Kind::Debit,
        (_, 1) => Kind::Short,
        (_, 2) => Kind::Unknown,
        _ => Kind::Pays,
    }
}

fn reference(i: u64) -> Reference {
    Reference::model97(&format!("{i:013}")).expect("13 digits")
}

/// Payment `i`'s amount and fee.
fn amounts(i: u64) -> (i64, i64) {
    (10_000 + (i * 7919 % 5_000_000) as i64, 3_500)
}

fn entry(i: u64) -> TransactionSpec {
    let (amount, fee) = amounts(i);
    let k = kind(i);
    let r = match k {
        Kind::Unknown => reference(9_000_000_000_000 + i),
        _ => reference(i),
    };
    let (structured, text) = if i.is_multiple_of(2) {
        (Some(r), None)
    } else {
        (None, Some(format!("Uplata po racunu 97 {}", r.reference())))
    };
    TransactionSpec {
        direction: if k == Kind::Debit {
            CreditDebit::Debit
        } else {
            CreditDebit::Credit
        },
        para: match k {
            Kind::Short => amount + fee - 100,
            _ => amount + fee,
        },
        reference: if k == Kind::Debit { None } else { structured },
        unstructured: if k == Kind::Debit {
            Some("Naknada banke".into())
        } else {
            text
        },
        end_to_end_id: Some(format!("E2E{i:012}")),
        account_servicer_reference: Some(format!("BANK{i:010}")),
        debtor_name: Some("Петар Петровић".into()),
        debtor_account: AccountNumber::new(160, 5_100 + i % 1000),
        value_date: None,
    }
}

/// Inserts the pending IPS payments of entries `0..n` that reference one (not the debits or
/// the unknown references), 10,000 per statement.
async fn seed(app: &App, n: u64) -> u64 {
    let org = apikeys::create_organisation(app, &Actor::System, "Bench", "business")
        .await
        .expect("organisation");
    let now = app.now();
    let expires = now + chrono::Duration::days(3);
    let ids: Vec<u64> = (0..n)
        .filter(|i| matches!(kind(*i), Kind::Pays | Kind::Short))
        .collect();
    for chunk in ids.chunks(10_000) {
        let mut tx = app.db.begin().await.expect("tx");
        let rows: Vec<(Uuid, String, String, i64, i64)> = chunk
            .iter()
            .map(|i| {
                let (amount, fee) = amounts(*i);
                (
                    Uuid::now_v7(),
                    confirmation_from(*i),
                    reference(*i).ro(),
                    amount,
                    fee,
                )
            })
            .collect();
        const FIXED: &str = "'pending', 'ips', 'api', 'organisation', 'Petar Petrović', \
             'Beograd', 'JP EPS Beograd', '', '845000000040484987', 'Uplata po racunu', \
             '189', 'RSD'";
        const COLUMNS: &str = "state, method, channel, owner_kind, payer_name, payer_address, \
             payee_name, payee_address, payee_account, purpose, payment_code, currency, id, \
             confirmation, collection_reference, amount_para, fee_para, owner_organisation, \
             expires_at, created_at, updated_at";
        match tx.exec() {
            Either::Postgres(c) => {
                sqlx::query(&format!(
                    "INSERT INTO payments ({COLUMNS}) SELECT {FIXED}, v.*, $6::uuid, $7, $8, $8 \
                     FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS v"
                ))
                .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.3).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.4).collect::<Vec<_>>())
                .bind(org)
                .bind(expires)
                .bind(now)
                .execute(&mut *c)
                .await
                .expect("insert");
            }
            Either::Sqlite(c) => {
                let json = serde_json::Value::Array(
                    rows.iter()
                        .map(|r| serde_json::json!([hex_of(r.0), r.1, r.2, r.3, r.4]))
                        .collect(),
                )
                .to_string();
                sqlx::query(&format!(
                    "INSERT INTO payments ({COLUMNS}) SELECT {FIXED}, unhex(j.value ->> 0), \
                     j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, $1, $2, $3, $3 \
                     FROM json_each($4) AS j"
                ))
                .bind(org)
                .bind(expires)
                .bind(now)
                .bind(json)
                .execute(&mut *c)
                .await
                .expect("insert");
            }
        }
        tx.commit().await.expect("commit");
    }
    ids.len() as u64
}

fn hex_of(id: Uuid) -> String {
    id.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Peak and current resident memory of this process, in KiB (`VmHWM`, `VmRSS`).
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// CPU seconds (user + system) of this process and of the PostgreSQL backends `pids`.
fn cpu_seconds(pids: &[i32]) -> (f64, f64) {
    let ticks = 100.0;
    let of = |path: String| -> f64 {
        let stat = std::fs::read_to_string(path).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = after.split_whitespace().collect();
        let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (n(11) + n(12)) / ticks
    };
    let me = of("/proc/self/stat".into());
    let pg = pids.iter().map(|p| of(format!("/proc/{p}/stat"))).sum();
    (me, pg)
}

fn db_backend_is_pg(app: &App) -> bool {
    app.db.backend() == Backend::Postgres
}

async fn pg_pids(app: &App) -> Vec<i32> {
    if testing::pg_url().is_none() {
        return Vec::new();
    }
    let mut conn = app.db.conn().await.expect("conn");
    db_run!(&mut conn, |c| sqlx::query_scalar::<_, i32>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
         OR backend_type = 'walwriter'"
    )
    .fetch_all(&mut *c)
    .await)
    .expect("pids")
}

async fn count(app: &App, sql: &str) -> i64 {
    let mut conn = app.db.conn().await.expect("conn");
    db_run!(&mut conn, |c| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&mut *c)
        .await)
    .expect("count")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = args.get(1).map_or_else(
        || dir.path().join("statement.xml"),
        std::path::PathBuf::from,
    );
    let db = testing::fresh_db_with(dir.path(), Some(4)).await;
    let backend = if db.backend() == Backend::Postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let app = App::from_parts(
        Config::default(),
        db,
        Arc::new(SystemClock),
        SecretString::from("bench-secret-key-of-sufficient-length"),
    );
    let collection = settings::collection(&app.config).expect("collection");

    let started = Instant::now();
    let payments = seed(&app, n).await;
    println!(
        "{backend}: {payments} pending IPS payments inserted in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let spec = StatementSpec {
        version: Version::V02,
        message_id: format!("BENCH-{n}"),
        statement_id: format!("BENCH-{n}-1"),
        created: "2026-11-25T18:30:00".into(),
        account: collection.account,
        iban: true,
        currency: Currency::RSD,
        opening_para: 0,
        date: Date::new(2026, 11, 25).expect("date"),
    };
    let out = std::fs::File::create(&file).expect("statement file");
    write_statement(&spec, n, entry, out)
        .and_then(|mut w| w.flush())
        .expect("write");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "statement: {n} entries, {:.1} MB, written in {:.1} s ({})",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        file.display()
    );

    if db_backend_is_pg(&app) {
        // The same start for every run: what the seeding (or an earlier run) left dirty is
        // written now, not by a checkpoint that happens to fall inside the import.
        let mut conn = app.db.conn().await.expect("conn");
        db_run!(&mut conn, |c| sqlx::query("CHECKPOINT")
            .execute(&mut *c)
            .await
            .map(|_| ()))
        .expect("checkpoint");
    }
    let pids = pg_pids(&app).await;
    // Resets the peak (VmHWM) to the current size, so that the peak after is the import's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (mem_before, _) = memory();
    let (cpu0, pg0) = cpu_seconds(&pids);
    let started = Instant::now();
    let input = std::fs::File::open(&file).expect("open");
    let imported = reconcile::import(
        &app,
        &Request {
            actor: &Actor::System,
            source: Source::Cli,
            file_name: "bench.xml",
        },
        input,
        |_| {},
    )
    .await
    .expect("import");
    let wall = started.elapsed().as_secs_f64();
    let (cpu1, pg1) = cpu_seconds(&pids);
    let (peak, now) = memory();
    let Imported::New(id) = imported else {
        panic!("the statement was new");
    };
    println!(
        "import: {n} entries in {wall:.2} s: {:.0} entries/s; CPU: this process {:.2} s, \
         PostgreSQL {:.2} s",
        n as f64 / wall,
        cpu1 - cpu0,
        pg1 - pg0
    );
    println!(
        "peak resident memory during the import: {peak} KiB (at its start {mem_before} KiB; \
         now {now} KiB)"
    );
    let report = reconcile::report(&app, id).await.expect("report");
    for (o, entries, para) in &report.outcomes {
        if *entries > 0 {
            println!(
                "  {:<18} {entries:>8}  {}",
                o.as_str(),
                reconcile::amount_text(*para, "RSD")
            );
        }
    }
    let expected = (0..n).filter(|i| kind(*i) == Kind::Pays).count() as i64;
    assert_eq!(report.count(Outcome::Completed), expected);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM payments WHERE state = 'succeeded'"
        )
        .await,
        expected
    );
    println!("check: {expected} payments succeeded, as the statement pays them");

    if args.get(1).is_none() {
        let _ = std::fs::remove_file(&file);
    }
    testing::drop_fresh_db(&app.db).await;
    app.db.close().await;
}
