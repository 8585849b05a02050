//! Measures `POST /api/v1/payments` through HTTP (issue #5: at least 2,000 payments/s on
//! PostgreSQL on the 2-core machine, with idempotency keys). Not a test: it prints numbers.
//!
//!   EPOSTA_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/eposta_bench \
//!     cargo run --release -p eposta-payments --example bench_payments -- \
//!     [requests] [connections] [rounds] [method] [pool] [wrk seconds]
//!
//! Defaults: 10000 requests, 64 connections, 3 rounds, method `ips`, a pool of 16 database
//! connections, 10 s of `wrk` (0: no wrk run). Without `EPOSTA_TEST_PG_URL` it runs on a
//! temporary SQLite file.
//!
//! It makes a schema of its own (PostgreSQL), migrates it, serves the whole ePošta router
//! (kernel and payments, every middleware layer) on a real TCP socket in this process, and
//! issues an API key with `payments:write`. Then:
//! 1. correctness first: 100 identical concurrent requests with one Idempotency-Key make
//!    exactly one payment;
//! 2. `rounds` rounds of `requests` payments, each with its own Idempotency-Key, sent over
//!    `connections` keep-alive HTTP/1.1 connections by an in-process client; each round
//!    checks that every answer was 201 and that the payments are in the database, and prints
//!    payments/s and latency percentiles;
//! 3. if `wrk` is installed, `wrk -t2 -c<connections> -d<seconds>s` with a Lua script that
//!    gives every request its own Idempotency-Key, and a check that the database holds one
//!    payment per 2xx answer wrk counted.
//!
//! The client (or wrk) runs on the same 2 cores as the server and PostgreSQL, as the issue's
//! measurement does; the schema is dropped at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eposta_kernel::audit::Actor;
use eposta_kernel::clock::SystemClock;
use eposta_kernel::config::Config;
use eposta_kernel::db::{Backend, Db};
use eposta_kernel::{App, apikeys, db_run, testing, web};
use secrecy::SecretString;
use serde_json::{Value, json};

fn body(method: &str, i: usize) -> Value {
    json!({
        "payer": {"name": "Петар Петровић", "address": "Булевар краља Александра 73\n11000 Београд"},
        "payee": {"name": "JP EPS Beograd", "account": "845000000040484987"},
        "purpose": "Uplata po racunu",
        "payment_code": "189",
        "amount": {"minor": 100_000 + (i % 90_000) as i64, "currency": "RSD"},
        "reference": "97163220000111111111000",
        "method": method,
        "return_url": "https://shop.example.rs/paid",
    })
}

async fn count(app: &App) -> i64 {
    let mut conn = app.db.conn().await.expect("conn");
    db_run!(&mut conn, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM payments"
    )
    .fetch_one(&mut *c)
    .await)
    .expect("count")
}

/// Opens a fresh database with pools of `pool` connections: a new schema on PostgreSQL
/// (dropped at the end), a temporary file on SQLite.
async fn open(pool: u32, dir: &std::path::Path) -> Db {
    let db = testing::fresh_db_with(dir, Some(pool)).await;
    if db.backend() == Backend::Postgres && std::env::var_os("BENCH_NO_OWNER_FKS").is_some() {
        // An experiment: the foreign keys from payments to their owner's rows, which every
        // insert checks with a key-share lock on the same few parent rows.
        let mut conn = db.conn().await.expect("conn");
        for fk in [
            "payments_owner_organisation_fkey",
            "payments_api_key_id_fkey",
            "payments_owner_user_fkey",
            "payments_owner_office_fkey",
        ] {
            db_run!(&mut conn, |c| sqlx::query(&format!(
                "ALTER TABLE payments DROP CONSTRAINT {fk}"
            ))
            .execute(&mut *c)
            .await
            .map(|_| ()))
            .expect("drop fk");
        }
        println!("experiment: without the owner foreign keys");
    }
    db
}

/// Sends `n` requests over `connections` concurrent connections; returns each latency.
async fn round(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    method: &str,
    offset: usize,
    n: usize,
    connections: usize,
) -> Vec<Duration> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, next) = (client.clone(), next.clone());
        let url = format!("{base}/api/v1/payments");
        let auth = format!("Bearer {token}");
        let method = method.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return times;
                }
                let body = serde_json::to_vec(&body(&method, offset + i)).expect("json");
                let started = Instant::now();
                let r = client
                    .post(&url)
                    .header("authorization", &auth)
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("bench-{}", offset + i))
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                let status = r.status();
                let text = r.bytes().await.expect("body");
                assert_eq!(status.as_u16(), 201, "{}", String::from_utf8_lossy(&text));
                times.push(started.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all
}

/// The process ids of this benchmark's PostgreSQL backends (its pool's connections, in its
/// database) and of the server's shared WAL writer; other databases on the same server (other
/// people's tests on a shared machine) are left out.
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

/// CPU seconds (user + system) used so far by this process and by the PostgreSQL processes
/// `pids` (the server runs on this machine too), from `/proc`; zeros where it is missing.
fn cpu_seconds(pids: &[i32]) -> (f64, f64) {
    let ticks = 100.0; // USER_HZ on Linux
    let read = |path: &std::path::Path| -> Option<(String, f64)> {
        let stat = std::fs::read_to_string(path).ok()?;
        let (head, rest) = stat.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((comm, (utime + stime) / ticks))
    };
    let own = read(std::path::Path::new("/proc/self/stat")).map_or(0.0, |(_, t)| t);
    let pg = pids
        .iter()
        .filter_map(|p| read(&std::path::PathBuf::from(format!("/proc/{p}/stat"))))
        .map(|(_, t)| t)
        .sum();
    (own, pg)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Runs wrk against the server; returns (2xx answers, requests/s), or None without wrk.
fn wrk(
    base: &str,
    token: &str,
    method: &str,
    connections: usize,
    seconds: u64,
) -> Option<(u64, f64)> {
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join("payments.lua");
    let payload = body(method, 7)
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    std::fs::write(
        &script,
        format!(
            r#"local n = 0
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) n = 0 end
request = function()
  n = n + 1
  local key = "wrk-" .. tid .. "-" .. n .. "-" .. math.random(1000000000)
  return wrk.format("POST", "/api/v1/payments", {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {token}", ["Idempotency-Key"] = key}}, "{payload}")
end
"#
        ),
    )
    .expect("script");
    let out = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "--timeout",
            "5s",
            "-s",
        ])
        .arg(&script)
        .arg(base)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{text}");
    let total: u64 = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())?;
    let non2xx: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let rate: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|n| n.trim().parse().ok())?;
    Some((total - non2xx, rate))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let requests = num(0, 10_000);
    let connections = num(1, 64);
    let rounds = num(2, 3).max(1);
    let method = args.get(3).cloned().unwrap_or_else(|| "ips".into());
    let pool = num(4, 16) as u32;
    let wrk_seconds = num(5, 10) as u64;
    let backend = if testing::pg_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    let dir = tempfile::tempdir().expect("temp dir");
    let db = open(pool, dir.path()).await;
    let postgres = db.backend() == Backend::Postgres;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        public_url: base.clone(),
        db_max_connections: pool,
        payments_test_acquirer: true,
        log: "warn".into(),
        ..Config::default()
    };
    let app = App::from_parts(
        config,
        db,
        Arc::new(SystemClock),
        SecretString::from("bench-secret-key-of-sufficient-length"),
    );
    let routes = eposta_kernel::routes().merge(eposta_payments::routes());
    let router = web::build(app.clone(), routes);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    let org = apikeys::create_organisation(&app, &Actor::System, "Bench", "business")
        .await
        .expect("organisation");
    let token = apikeys::issue(
        &app,
        &Actor::System,
        org,
        "bench",
        &["payments:write".to_owned()],
    )
    .await
    .expect("key")
    .token;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    println!(
        "{backend}: {rounds} rounds of {requests} {method} payments over {connections} connections, pool {pool}"
    );

    // 1. Correctness first: one key, 100 identical requests at once, one payment.
    let before = count(&app).await;
    let mut same = Vec::new();
    for _ in 0..100 {
        let (client, url, auth) = (
            client.clone(),
            format!("{base}/api/v1/payments"),
            format!("Bearer {token}"),
        );
        let body = serde_json::to_vec(&body(&method, 0)).expect("json");
        same.push(tokio::spawn(async move {
            loop {
                let r = client
                    .post(&url)
                    .header("authorization", &auth)
                    .header("content-type", "application/json")
                    .header("idempotency-key", "bench-same")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("request");
                match r.status().as_u16() {
                    409 => tokio::time::sleep(Duration::from_millis(10)).await,
                    201 => {
                        let bytes = r.bytes().await.expect("body");
                        let v: Value = serde_json::from_slice(&bytes).expect("json");
                        return v["id"].clone();
                    }
                    s => panic!("status {s}"),
                }
            }
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in same {
        ids.insert(t.await.expect("task").to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(
        count(&app).await - before,
        1,
        "100 identical requests make one payment"
    );
    println!("100 identical concurrent requests: 1 payment");

    // 2. Rounds of distinct payments.
    let mut rates = Vec::new();
    for r in 0..rounds {
        let before = count(&app).await;
        let pids = pg_pids(&app).await;
        let cpu_before = cpu_seconds(&pids);
        let started = Instant::now();
        let mut times = round(
            &client,
            &base,
            &token,
            &method,
            r * requests,
            requests,
            connections,
        )
        .await;
        let took = started.elapsed();
        let cpu_after = cpu_seconds(&pids);
        assert_eq!(
            count(&app).await - before,
            requests as i64,
            "every 201 is a payment"
        );
        times.sort();
        let rate = requests as f64 / took.as_secs_f64();
        rates.push(rate);
        println!(
            "round {}: {requests} payments in {:.2} s = {rate:.0} payments/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            r + 1,
            took.as_secs_f64(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 1.0)
        );
        // Noise-resistant: CPU time per payment, whatever else runs on the machine. The
        // client runs in this process, so its share is in the first figure.
        let per = |secs: f64| secs * 1e6 / requests as f64;
        println!(
            "round {}: CPU per payment: this process (server and client) {:.0} µs, PostgreSQL {:.0} µs; {:.0} payments/s per core if nothing else ran",
            r + 1,
            per(cpu_after.0 - cpu_before.0),
            per(cpu_after.1 - cpu_before.1),
            1e6 / (per(cpu_after.0 - cpu_before.0) + per(cpu_after.1 - cpu_before.1)),
        );
        if postgres {
            let mut conn = app.db.conn().await.expect("conn");
            db_run!(&mut conn, |c| sqlx::query("ANALYZE payments")
                .execute(&mut *c)
                .await
                .map(|_| ()))
            .expect("analyze");
        }
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "in-process client: best {:.0} payments/s, median {:.0} payments/s",
        rates[rates.len() - 1],
        rates[rates.len() / 2]
    );

    // 3. wrk, when installed.
    if wrk_seconds > 0 {
        let before = count(&app).await;
        match wrk(&base, &token, &method, connections, wrk_seconds) {
            Some((ok, rate)) => {
                // Requests still in flight when wrk stopped may finish after it counted.
                tokio::time::sleep(Duration::from_secs(2)).await;
                let made = count(&app).await - before;
                println!("wrk: {rate:.0} payments/s; {ok} answers 2xx, {made} payments made");
                assert!(
                    made >= ok as i64 && made <= (ok + connections as u64) as i64,
                    "one payment per 2xx answer (and at most one per connection in flight)"
                );
            }
            None => println!("wrk: not installed or no result (apt-get install -y wrk)"),
        }
    }

    testing::drop_fresh_db(&app.db).await;
}
