//! The data set of the tracking-lookup benchmark (docs/benchmarks.md, "Tracking lookups";
//! issue #4: 10 million items and 80 million events on PostgreSQL), generated, never
//! downloaded. Not a test: `bench/tracking.sh` runs it. Three commands, each on the database
//! `EPOSTA_DATABASE_URL` names (PostgreSQL, migrated with `eposta migrate`):
//!
//!   bench_tracking_load load ITEMS   the sample offices, four sorting facilities, ITEMS
//!                                    booked and accepted items and 8 events each; does
//!                                    nothing when the database holds this data set already,
//!                                    refuses a database holding anything else
//!   bench_tracking_load key          issues a `postal:track` API key and prints it
//!   bench_tracking_load ids ITEMS N  prints N tracking numbers of loaded items, at random
//!                                    (fixed seed), one a line
//!
//! Loading is PostgreSQL's bulk path: the secondary indexes (unique keys included) are
//! dropped, rows go in by binary `COPY … FREEZE` (frozen, so that the benchmark's first reads
//! write no hint bits) in a transaction that truncated the table, and the indexes are built
//! again from their saved definitions before `ANALYZE`. A table of its own,
//! `bench_tracking_dataset`, records a finished load.
//!
//! Items are numbered 0..ITEMS; item `i` has the serial `(i * 7654321 + 13579111) mod 10^8`
//! (a bijection, so every S10 identifier is distinct and they do not come in order), the
//! service indicator of its product (RA 55 %, CA 35 %, EA 10 %), the sample offices as origin
//! and destination, and the life of a domestic item: accepted, through one or two sorting
//! centres, out for delivery, delivered (one in seven with a failed attempt first). Events are
//! written in time order across blocks of items, as scanners would post them, so that an
//! item's eight events lie on eight different pages, not one.

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, TimeZone, Utc};
use eposta_formats::s10::S10;
use eposta_kernel::audit::Actor;
use eposta_kernel::config::Config;
use eposta_kernel::{App, apikeys, demo, offices};
use eposta_postal::tracking::{codes, store as tracking_store, summary};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool, Row};
use tokio::sync::mpsc;
use uuid::Uuid;

const EVENTS_PER_ITEM: usize = 8;
/// Items whose events are written step by step together (a day's post, roughly).
const BLOCK: usize = 50_000;
/// Bytes per message to the COPY stream.
const CHUNK: usize = 1 << 20;

/// Where the sorting centres are, by the first digit of an office's postal code.
const FACILITIES: [(&str, &str); 4] = [
    ("SC11000", "Сортирни центар Београд"),
    ("SC21000", "Сортирни центар Нови Сад"),
    ("SC34000", "Сортирни центар Крагујевац"),
    ("SC18000", "Сортирни центар Ниш"),
];

fn facility_for(office: &str) -> &'static str {
    match office.as_bytes().first() {
        Some(b'1') if office.starts_with("11") || office.starts_with("12") => FACILITIES[0].0,
        Some(b'2') => FACILITIES[1].0,
        Some(b'3') => FACILITIES[2].0,
        _ => FACILITIES[3].0,
    }
}

/// The S10 identifier of item `i` (see the module comment).
pub fn tracking_number(i: u64) -> S10 {
    let serial = (i * 7_654_321 + 13_579_111) % 100_000_000;
    let si = match i % 20 {
        0..=10 => "RA",
        11..=17 => "CA",
        _ => "EA",
    };
    S10::new(si, u32::try_from(serial).unwrap_or(0), "RS").expect("a valid serial")
}

fn product(i: u64) -> &'static str {
    match i % 20 {
        0..=10 => "registered_letter",
        11..=17 => "parcel",
        _ => "express",
    }
}

/// Items are booked over a year, evenly.
fn booked_at(i: u64, items: u64) -> DateTime<Utc> {
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 6, 0, 0)
        .single()
        .expect("a date");
    let span = 365 * 86_400_000_i64;
    start + Duration::milliseconds(span / items.max(1) as i64 * i as i64)
}

/// One event of an item: code, location, time, reason, action.
struct Step {
    code: &'static str,
    location: String,
    at: DateTime<Utc>,
    reason: Option<&'static str>,
    action: Option<&'static str>,
}

/// The eight events of item `i`, in time order.
fn life(i: u64, items: u64, offices: &[String]) -> [Step; EVENTS_PER_ITEM] {
    let n = offices.len() as u64;
    let origin = offices[(i * 7 % n) as usize].clone();
    let dest = offices[((i * 13 + 5) % n) as usize].clone();
    let sc_out = facility_for(&origin).to_owned();
    let sc_in = facility_for(&dest).to_owned();
    let t0 = booked_at(i, items) + Duration::minutes(30 + (i % 240) as i64);
    let h = |hours: i64| t0 + Duration::minutes(hours * 60 + (i % 50) as i64);
    let step = |code, location: &String, at| Step {
        code,
        location: location.clone(),
        at,
        reason: None,
        action: None,
    };
    if i % 7 == 3 {
        [
            step("EMA", &origin, h(0)),
            step("EDD", &sc_out, h(4)),
            step("EDE", &sc_out, h(7)),
            step("EMG", &dest, h(20)),
            step("EDG", &dest, h(22)),
            Step {
                reason: Some("01"),
                action: Some("B"),
                ..step("EMH", &dest, h(26))
            },
            step("EDG", &dest, h(46)),
            step("EMI", &dest, h(49)),
        ]
    } else {
        [
            step("EMA", &origin, h(0)),
            step("EDD", &sc_out, h(4)),
            step("EDE", &sc_out, h(7)),
            step("EDD", &sc_in, h(15)),
            step("EDE", &sc_in, h(17)),
            step("EMG", &dest, h(21)),
            step("EDG", &dest, h(23)),
            step("EMI", &dest, h(26)),
        ]
    }
}

/// Binary COPY: the header, tuples, the trailer (PostgreSQL's "Binary Format").
struct Copy {
    buf: Vec<u8>,
}

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl Copy {
    fn new() -> Copy {
        Copy {
            buf: Vec::with_capacity(CHUNK + 4096),
        }
    }
    fn header(&mut self) {
        self.buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        self.buf.extend_from_slice(&0_i32.to_be_bytes());
        self.buf.extend_from_slice(&0_i32.to_be_bytes());
    }
    fn trailer(&mut self) {
        self.buf.extend_from_slice(&(-1_i16).to_be_bytes());
    }
    fn tuple(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }
    fn text(&mut self, s: &str) {
        self.buf
            .extend_from_slice(&i32::try_from(s.len()).unwrap_or(0).to_be_bytes());
        self.buf.extend_from_slice(s.as_bytes());
    }
    fn opt_text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }
    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1_i32).to_be_bytes());
    }
    fn time(&mut self, t: DateTime<Utc>) {
        self.buf.extend_from_slice(&8_i32.to_be_bytes());
        let micros = t.timestamp_micros() - PG_EPOCH_MICROS;
        self.buf.extend_from_slice(&micros.to_be_bytes());
    }
    fn int4(&mut self, v: i32) {
        self.buf.extend_from_slice(&4_i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    fn int8(&mut self, v: i64) {
        self.buf.extend_from_slice(&8_i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    fn uuid(&mut self, v: Uuid) {
        self.buf.extend_from_slice(&16_i32.to_be_bytes());
        self.buf.extend_from_slice(v.as_bytes());
    }
    fn full(&self) -> bool {
        self.buf.len() >= CHUNK
    }
    fn take(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 4096))
    }
}

const FIRST_NAMES: [&str; 8] = [
    "Марко",
    "Јелена",
    "Никола",
    "Ана",
    "Стефан",
    "Милица",
    "Лазар",
    "Ивана",
];
const LAST_NAMES: [&str; 8] = [
    "Јовановић",
    "Петровић",
    "Николић",
    "Марковић",
    "Ђорђевић",
    "Стојановић",
    "Илић",
    "Станковић",
];
const STREETS: [&str; 6] = [
    "Булевар ослобођења",
    "Кнеза Милоша",
    "Карађорђева",
    "Немањина",
    "Цара Душана",
    "Војводе Мишића",
];

const ITEM_COLUMNS: &str = "id, tracking_number, booking_code, product, weight_g, options, \
     cod_minor, declared_value_minor, price_minor, vat_minor, currency, sender_name, \
     sender_street, sender_number, sender_postal_code, sender_place, sender_phone, \
     recipient_name, recipient_street, recipient_number, recipient_postal_code, \
     recipient_place, recipient_phone, recipient_email, status, booked_by_user, \
     booked_by_organisation, accepted_office_id, accepted_at, paid_at, payment_method, \
     created_at, updated_at";

/// An office as the generator needs it.
#[derive(Clone)]
struct Office {
    id: Uuid,
    code: String,
    name: String,
}

/// Booking codes: 8 characters of the booking alphabet, distinct per item (the item number
/// in base 32, scrambled by a bijection of the 40-bit range).
fn booking_code(i: u64) -> String {
    let alphabet = eposta_postal::domain::BOOKING_ALPHABET;
    let mut v = (i.wrapping_mul(0x009E_3779_B97F) ^ 0x005A_5A5A_5A5A) & ((1 << 40) - 1);
    let mut out = String::with_capacity(8);
    for _ in 0..8 {
        out.push(char::from(alphabet[(v & 31) as usize]));
        v >>= 5;
    }
    out
}

fn item_rows(items: u64, offices: Vec<Office>, send: mpsc::Sender<Vec<u8>>) {
    let mut c = Copy::new();
    c.header();
    let n = offices.len() as u64;
    for i in 0..items {
        let origin = &offices[(i * 7 % n) as usize];
        let dest = &offices[((i * 13 + 5) % n) as usize];
        let booked = booked_at(i, items);
        let accepted = booked + Duration::minutes(30 + (i % 240) as i64);
        let id = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            booked.timestamp() as u64,
            booked.timestamp_subsec_nanos(),
        ));
        let product = product(i);
        let (weight, price) = match product {
            "registered_letter" => (20 + (i % 480) as i32, 23_000_i64),
            "parcel" => (500 + (i % 9_500) as i32, 45_000),
            _ => (200 + (i % 4_800) as i32, 60_000),
        };
        c.tuple(33);
        c.uuid(id);
        c.text(tracking_number(i).as_str());
        c.text(&booking_code(i));
        c.text(product);
        c.int4(weight);
        c.text(if product == "registered_letter" {
            "[\"registered\"]"
        } else {
            "[]"
        });
        c.null();
        c.null();
        c.int8(price);
        c.int8(price / 6);
        c.text("RSD");
        c.text(&format!(
            "{} {}",
            FIRST_NAMES[(i % 8) as usize],
            LAST_NAMES[(i / 8 % 8) as usize]
        ));
        c.text(STREETS[(i % 6) as usize]);
        c.text(&(1 + i % 150).to_string());
        c.text(&origin.code);
        c.text(&origin.name);
        c.opt_text((i % 3 == 0).then_some("+381641234567"));
        c.text(&format!(
            "{} {}",
            FIRST_NAMES[(i / 3 % 8) as usize],
            LAST_NAMES[(i / 5 % 8) as usize]
        ));
        c.text(STREETS[(i / 7 % 6) as usize]);
        c.text(&(1 + i % 97).to_string());
        c.text(&dest.code);
        c.text(&dest.name);
        c.opt_text((i % 2 == 0).then_some("+381601234567"));
        c.null();
        c.text("accepted");
        c.null();
        c.null();
        c.uuid(origin.id);
        c.time(accepted);
        c.time(accepted);
        c.text("cash");
        c.time(booked);
        c.time(accepted);
        if c.full() && send.blocking_send(c.take()).is_err() {
            return;
        }
    }
    c.trailer();
    let _ = send.blocking_send(c.take());
}

fn event_rows(items: u64, offices: Vec<String>, send: mpsc::Sender<Vec<u8>>) {
    let table = codes::table();
    let mut c = Copy::new();
    c.header();
    let mut first = 0;
    while first < items {
        let last = (first + BLOCK as u64).min(items);
        let lives: Vec<(String, [Step; EVENTS_PER_ITEM])> = (first..last)
            .map(|i| {
                (
                    tracking_number(i).as_str().to_owned(),
                    life(i, items, &offices),
                )
            })
            .collect();
        for k in 0..EVENTS_PER_ITEM {
            for (number, steps) in &lives {
                let s = &steps[k];
                let status = table
                    .event(s.code)
                    .map_or("in_transit", |e| e.status.as_str());
                c.tuple(10);
                c.text(number);
                c.text(s.code);
                c.text(status);
                c.text(&s.location);
                c.time(s.at);
                c.opt_text(s.reason);
                c.opt_text(s.action);
                c.null();
                c.text(if s.code == "EMA" {
                    "counter"
                } else {
                    "key:scanners"
                });
                c.time(s.at + Duration::seconds(40));
                if c.full() && send.blocking_send(c.take()).is_err() {
                    return;
                }
            }
        }
        first = last;
    }
    c.trailer();
    let _ = send.blocking_send(c.take());
}

/// Each item's summary row (`tracking_summaries`): its eight events' lines in the order the
/// events were stored, written by the same function ingest uses.
fn summary_rows(items: u64, offices: Vec<String>, send: mpsc::Sender<Vec<u8>>) {
    let table = codes::table();
    let mut c = Copy::new();
    c.header();
    let mut text = String::new();
    for i in 0..items {
        text.clear();
        for s in life(i, items, &offices) {
            summary::push(
                &mut text,
                &summary::Line {
                    code: s.code,
                    status: table
                        .event(s.code)
                        .map_or("in_transit", |e| e.status.as_str()),
                    location: &s.location,
                    event_time: s.at,
                    reason_code: s.reason,
                    action_code: s.action,
                },
            );
        }
        c.tuple(2);
        c.text(tracking_number(i).as_str());
        c.text(&text);
        if c.full() && send.blocking_send(c.take()).is_err() {
            return;
        }
    }
    c.trailer();
    let _ = send.blocking_send(c.take());
}

/// Streams what `produce` generates (on a thread of its own, so that generating and
/// PostgreSQL's parsing overlap) into `COPY table (columns) FROM STDIN (FORMAT binary,
/// FREEZE)`, in a transaction that truncates the table first. Returns the rows copied.
async fn copy_table(
    pool: &PgPool,
    table: &str,
    columns: &str,
    produce: impl FnOnce(mpsc::Sender<Vec<u8>>) + Send + 'static,
) -> anyhow::Result<u64> {
    let (send, mut receive) = mpsc::channel::<Vec<u8>>(8);
    let producer = std::thread::spawn(move || produce(send));
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    // FREEZE needs the table truncated (or created) in the same transaction. Tables that
    // refer to it are empty (the load refuses a database that holds items).
    sqlx::query(&format!("TRUNCATE {table} CASCADE"))
        .execute(&mut *tx)
        .await?;
    let mut copy = (*tx)
        .copy_in_raw(&format!(
            "COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary, FREEZE)"
        ))
        .await?;
    while let Some(chunk) = receive.recv().await {
        copy.send(chunk).await?;
    }
    let rows = copy.finish().await?;
    tx.commit().await?;
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("the generator panicked"))?;
    Ok(rows)
}

/// A secondary index: its name, table, and how to make it again.
struct SavedIndex {
    name: String,
    table: String,
    /// `Some(definition)` for an index behind a constraint (UNIQUE): `ALTER TABLE … ADD`.
    constraint: Option<String>,
    create: String,
}

async fn secondary_indexes(c: &mut PgConnection) -> anyhow::Result<Vec<SavedIndex>> {
    let rows = sqlx::query(
        "SELECT i.relname AS name, t.relname AS tbl, pg_get_indexdef(i.oid) AS create, \
         con.conname AS constraint_name, pg_get_constraintdef(con.oid) AS constraint_def \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = t.oid \
         WHERE t.relname IN ('postal_items', 'tracking_events') \
           AND t.relnamespace = current_schema()::regnamespace AND NOT x.indisprimary \
         ORDER BY t.relname, i.relname",
    )
    .fetch_all(&mut *c)
    .await?;
    rows.into_iter()
        .map(|r| {
            let constraint: Option<String> = r.try_get("constraint_name")?;
            Ok(SavedIndex {
                name: constraint.unwrap_or(r.try_get("name")?),
                table: r.try_get("tbl")?,
                constraint: r.try_get("constraint_def")?,
                create: r.try_get("create")?,
            })
        })
        .collect()
}

async fn load(app: &App, pool: &PgPool, items: u64) -> anyhow::Result<()> {
    let mut c = pool.acquire().await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_tracking_dataset (items BIGINT NOT NULL, \
         events BIGINT NOT NULL, load_seconds DOUBLE PRECISION NOT NULL, \
         loaded_at TIMESTAMPTZ NOT NULL)",
    )
    .execute(&mut *c)
    .await?;
    let done: Option<(i64, i64, f64)> =
        sqlx::query_as("SELECT items, events, load_seconds FROM bench_tracking_dataset")
            .fetch_optional(&mut *c)
            .await?;
    if let Some((have, events, took)) = done {
        if have == items as i64 {
            println!(
                "the database holds the data set already: {have} items, {events} events (loaded in {took:.0} s)"
            );
            return Ok(());
        }
        bail!("the database holds a data set of {have} items, not {items}; use another one");
    }
    let any: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM postal_items) OR EXISTS (SELECT 1 FROM tracking_events)",
    )
    .fetch_one(&mut *c)
    .await?;
    if any {
        bail!("the database holds items or events of its own; load into an empty one");
    }
    let started = Instant::now();

    // The registries the events name: the sample offices (as the demo loads them) and the
    // sorting centres.
    match offices::service::import_csv(app, &Actor::System, demo::OFFICES_CSV.as_bytes(), |_| {})
        .await?
    {
        Ok(r) => println!("offices: {} in the sample registry", r.rows),
        Err(e) => bail!("the sample offices do not load: {} bad rows", e.bad_rows),
    }
    let mut tx = app.db.begin().await?;
    for (code, name) in FACILITIES {
        tracking_store::upsert_facility(&mut tx, code, name, app.now()).await?;
    }
    tx.commit().await?;
    let offices: Vec<Office> = sqlx::query("SELECT id, code, name FROM offices ORDER BY code")
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(|r| -> Result<Office, sqlx::Error> {
            Ok(Office {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
            })
        })
        .collect::<Result<_, _>>()?;
    if offices.is_empty() {
        bail!("no offices");
    }

    let saved = secondary_indexes(&mut c).await?;
    for s in &saved {
        let sql = match s.constraint {
            Some(_) => format!("ALTER TABLE {} DROP CONSTRAINT {}", s.table, s.name),
            None => format!("DROP INDEX {}", s.name),
        };
        sqlx::query(&sql).execute(&mut *c).await?;
    }
    println!(
        "dropped {} secondary indexes for the load: {}",
        saved.len(),
        saved
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    drop(c);

    let t = Instant::now();
    let office_list = offices.clone();
    let n = copy_table(pool, "postal_items", ITEM_COLUMNS, move |send| {
        item_rows(items, office_list, send)
    })
    .await?;
    println!(
        "postal_items: {n} rows copied in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let codes: Vec<String> = offices.iter().map(|o| o.code.clone()).collect();
    let events = copy_table(
        pool,
        "tracking_events",
        "tracking_number, code, status, location, event_time, reason_code, action_code, \
         flag, source, received_at",
        move |send| event_rows(items, codes, send),
    )
    .await?;
    println!(
        "tracking_events: {events} rows copied in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let codes: Vec<String> = offices.iter().map(|o| o.code.clone()).collect();
    let summaries = copy_table(
        pool,
        "tracking_summaries",
        "tracking_number, events",
        move |send| summary_rows(items, codes, send),
    )
    .await?;
    println!(
        "tracking_summaries: {summaries} rows copied in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut c = pool.acquire().await?;
    sqlx::query("SET maintenance_work_mem = '1GB'")
        .execute(&mut *c)
        .await?;
    for s in &saved {
        let t = Instant::now();
        let sql = match &s.constraint {
            Some(def) => format!("ALTER TABLE {} ADD CONSTRAINT {} {def}", s.table, s.name),
            None => s.create.clone(),
        };
        sqlx::query(&sql).execute(&mut *c).await?;
        println!(
            "index {} built in {:.1} s",
            s.name,
            t.elapsed().as_secs_f64()
        );
    }
    let t = Instant::now();
    sqlx::query(
        "ANALYZE postal_items, tracking_events, tracking_summaries, offices, postal_facilities",
    )
    .execute(&mut *c)
    .await?;
    println!("ANALYZE in {:.1} s", t.elapsed().as_secs_f64());
    let took = started.elapsed().as_secs_f64();
    sqlx::query("INSERT INTO bench_tracking_dataset VALUES ($1, $2, $3, now())")
        .bind(items as i64)
        .bind(events as i64)
        .bind(took)
        .execute(&mut *c)
        .await?;
    println!("loaded {items} items and {events} events in {took:.1} s");
    Ok(())
}

async fn issue_key(app: &App) -> anyhow::Result<String> {
    let org: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM organisations WHERE name = 'Tracking benchmark'")
            .fetch_optional(&mut *pg(app)?.acquire().await?)
            .await?;
    let org = match org {
        Some(o) => o,
        None => {
            apikeys::create_organisation(app, &Actor::System, "Tracking benchmark", "business")
                .await?
        }
    };
    let key = apikeys::issue(
        app,
        &Actor::System,
        org,
        "tracking benchmark",
        &["postal:track".to_owned()],
    )
    .await?;
    Ok(key.token)
}

fn pg(app: &App) -> anyhow::Result<PgPool> {
    match &app.db {
        eposta_kernel::db::Db::Postgres { pool, .. } => Ok(pool.clone()),
        eposta_kernel::db::Db::Sqlite { .. } => {
            bail!("EPOSTA_DATABASE_URL must name a PostgreSQL database")
        }
    }
}

/// `count` item numbers below `items`, from a fixed seed (xorshift; no need for more).
fn sample(items: u64, count: u64) -> impl Iterator<Item = u64> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..count).map(move |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % items.max(1)
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, what: &str| -> anyhow::Result<u64> {
        args.get(i)
            .with_context(|| format!("missing {what}"))?
            .replace('_', "")
            .parse::<u64>()
            .with_context(|| format!("{what} must be a number"))
    };
    match args.first().map(String::as_str) {
        Some("ids") => {
            use std::io::Write;
            let items = number(1, "ITEMS")?;
            let count = number(2, "N")?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for i in sample(items, count) {
                writeln!(out, "{}", tracking_number(i).as_str())?;
            }
            out.flush()?;
            Ok(())
        }
        Some(cmd @ ("load" | "key")) => {
            let config = Config::load(None)?;
            let app = App::open(config).await?;
            if !app.db.is_migrated().await? {
                bail!("the database is not migrated; run `eposta migrate` first");
            }
            if cmd == "key" {
                println!("{}", issue_key(&app).await?);
                return Ok(());
            }
            let items = number(1, "ITEMS")?;
            // Its own pool: one connection per COPY and the index builds.
            let url = std::env::var("EPOSTA_DATABASE_URL")
                .context("EPOSTA_DATABASE_URL must name the PostgreSQL database")?;
            pg(&app)?;
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .connect(&url)
                .await?;
            load(&app, &pool, items).await
        }
        _ => bail!("usage: bench_tracking_load load ITEMS | key | ids ITEMS N"),
    }
}
