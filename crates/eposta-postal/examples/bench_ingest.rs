//! Measures tracking-event ingest (issue #4: at least 50,000 events/s in batches of 1,000 on
//! PostgreSQL). Not a test: it prints numbers.
//!
//!   EPOSTA_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/eposta_bench \
//!     cargo run --release -p eposta-postal --example bench_ingest -- [batches] [size] [rounds]
//!
//! Without `EPOSTA_TEST_PG_URL` it runs on a temporary SQLite file. Between rounds it runs
//! `ANALYZE tracking_events` as autovacuum would (`EPOSTA_BENCH_NO_ANALYZE=1`: it does not). It makes a fresh schema
//! (PostgreSQL) through the test harness, registers 200 offices, generates items whose five
//! events (EMA, EDD, EMG, EDG, EMI) are spread over the batches, and posts them: `rounds`
//! times `batches` batches of new events straight to the service (`service::ingest`; each
//! round is reported, so that a round slowed by other work on a shared machine shows as
//! such), one pass through the HTTP router in-process (JSON both ways, API key, idempotency
//! and error layers included), and the first round's batches again, which are all
//! duplicates.

use std::time::{Duration, Instant};

use eposta_formats::s10::S10;
use eposta_kernel::audit::Actor;
use eposta_kernel::offices::store::{self as office_store, OfficeFields};
use eposta_kernel::testing::TestApp;
use eposta_kernel::{apikeys, db_run, testing};
use eposta_postal::tracking::service;
use serde_json::{Value, json};

const OFFICES: usize = 200;
const STEPS: [&str; 5] = ["EMA", "EDD", "EMG", "EDG", "EMI"];

/// `batches` batches of `size` events: items of five events each, numbered from `first`.
fn generate(first: u32, batches: usize, size: usize) -> Vec<Vec<Value>> {
    let base = testing::epoch() - chrono::Duration::days(20);
    let per_batch = size / STEPS.len();
    (0..batches)
        .map(|b| {
            let mut out = Vec::with_capacity(size);
            for i in 0..per_batch {
                let serial = first + (b * per_batch + i) as u32;
                let id = S10::new("RA", serial, "RS").expect("valid serial");
                for (step, code) in STEPS.iter().enumerate() {
                    let office = 11000 + (serial as usize + step * 7) % OFFICES;
                    let at = base
                        + chrono::Duration::seconds(i64::from(serial % 86_400))
                        + chrono::Duration::hours(step as i64 * 6);
                    out.push(json!({
                        "tracking_number": id.as_str(),
                        "code": code,
                        "location": office.to_string(),
                        "event_time": at.to_rfc3339(),
                    }));
                }
            }
            out
        })
        .collect()
}

fn report(label: &str, events: usize, batches: usize, took: Duration) {
    println!(
        "{label:<30} {events} events in {:.2} s = {:.0} events/s ({:.1} ms per batch)",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / batches as f64
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: [batches] [batch size]"))
        .collect();
    let batches = args.first().copied().unwrap_or(100);
    let size = args.get(1).copied().unwrap_or(1000);
    let rounds = args.get(2).copied().unwrap_or(3).max(1);
    let backend = if testing::pg_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let t = TestApp::builder()
        .routes(eposta_postal::routes())
        .jobs(eposta_postal::jobs)
        .build()
        .await;
    let offices: Vec<OfficeFields> = (0..OFFICES)
        .map(|i| {
            let code = (11000 + i).to_string();
            OfficeFields {
                code: code.clone(),
                postal_code: code,
                name: format!("Пошта {i}"),
                municipality: "Београд".into(),
                address: "Улица 1".into(),
                latitude: None,
                longitude: None,
                opening_hours: None,
            }
        })
        .collect();
    let mut tx = t.app.db.begin().await.expect("tx");
    office_store::upsert_many(&mut tx, &offices, t.app.now())
        .await
        .expect("offices");
    tx.commit().await.expect("commit");

    println!("{backend}: {batches} batches of {size} events");
    let mut first_round = Vec::new();
    let mut rates = Vec::new();
    for round in 0..rounds {
        let direct = generate((round * batches * size) as u32, batches, size);
        let started = Instant::now();
        let mut stored = 0;
        for batch in &direct {
            let r = service::ingest(&t.app, "bench", batch)
                .await
                .expect("ingest");
            assert_eq!(r.errors(), 0, "every generated event is valid");
            stored += r.stored();
        }
        let took = started.elapsed();
        rates.push(stored as f64 / took.as_secs_f64());
        report(
            &format!("service, new events, round {}", round + 1),
            stored,
            batches,
            took,
        );
        if round == 0 {
            first_round = direct;
        }
        // What autovacuum would do on a server that runs it (the shared test server does not).
        // `EPOSTA_BENCH_NO_ANALYZE=1` skips it, to see ingest on a table without statistics.
        if testing::pg_url().is_some() && std::env::var_os("EPOSTA_BENCH_NO_ANALYZE").is_none() {
            let mut conn = t.app.db.conn().await.expect("conn");
            db_run!(&mut conn, |c| sqlx::query("ANALYZE tracking_events")
                .execute(&mut *c)
                .await
                .map(|_| ()))
            .expect("analyze");
        }
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "service, new events: best {:.0} events/s, median {:.0} events/s",
        rates[rates.len() - 1],
        rates[rates.len() / 2]
    );

    let org = apikeys::create_organisation(&t.app, &Actor::System, "Bench", "agency")
        .await
        .expect("organisation");
    let key = apikeys::issue(
        &t.app,
        &Actor::System,
        org,
        "bench",
        &["tracking:write".to_owned()],
    )
    .await
    .expect("key");
    let mut client = t.api(&key.token);
    let over_http = generate(50_000_000, batches, size);
    let bodies: Vec<Value> = over_http.into_iter().map(Value::Array).collect();
    let started = Instant::now();
    let mut stored = 0;
    for body in &bodies {
        let r = client.post_json("/api/v1/tracking/events", body, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text());
        stored += r.json()["stored"].as_u64().expect("stored") as usize;
    }
    report(
        "HTTP in-process, new events",
        stored,
        batches,
        started.elapsed(),
    );

    let started = Instant::now();
    let mut duplicates = 0;
    for batch in &first_round {
        duplicates += service::ingest(&t.app, "bench", batch)
            .await
            .expect("ingest")
            .duplicates();
    }
    report(
        "service, all duplicates",
        duplicates,
        batches,
        started.elapsed(),
    );

    // The harness made a schema of its own on PostgreSQL; leave nothing behind.
    testing::drop_fresh_db(&t.app.db).await;
}
