//! The post-office registry: the CSV import (all or nothing, upsert by code), the rules an
//! office must meet, the admin console, staff lists scoped to an office, the public finder
//! and the `offices:read` API.

mod import;
mod web;

use eposta_kernel::audit::{self, Actor};
use eposta_kernel::offices::domain::{OfficeInput, parse_office};
use eposta_kernel::offices::service::{self, ImportRejected, ImportReport};
use eposta_kernel::offices::store;
use eposta_kernel::testing::TestApp;

pub const HEADER: &str =
    "code,postal_code,name,municipality,address,latitude,longitude,opening_hours\n";

pub async fn import(t: &TestApp, csv: String) -> Result<ImportReport, ImportRejected> {
    service::import_csv(&t.app, &Actor::System, std::io::Cursor::new(csv), |_| {})
        .await
        .expect("the import runs")
}

pub async fn count(t: &TestApp) -> i64 {
    let mut conn = t.app.db.conn().await.expect("connection");
    store::count(&mut conn).await.expect("count")
}

pub async fn office(t: &TestApp, code: &str) -> store::OfficeRow {
    let mut conn = t.app.db.conn().await.expect("connection");
    store::by_code(&mut conn, code)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("no office {code}"))
}

/// The newest audit entries with this action, newest first.
pub async fn audited(t: &TestApp, action: &str) -> Vec<audit::Row> {
    let mut conn = t.app.db.conn().await.expect("connection");
    audit::recent(&mut conn, None, 1000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.action == action)
        .collect()
}

/// `n` valid rows with codes from `first` on.
pub fn rows(first: u32, n: u32) -> String {
    (first..first + n)
        .map(|i| format!("{i},{:05},Пошта {i},Општина,Улица {i},,,\n", i % 100_000))
        .collect()
}
#[test]
fn the_rules_for_an_office() {
    let ok = OfficeInput {
        code: "11101".into(),
        postal_code: "11101".into(),
        name: "Београд 1".into(),
        municipality: "Стари град".into(),
        address: "Змај Јовина 17".into(),
        latitude: "44.8176".into(),
        longitude: "20.4569".into(),
        opening_hours: "пон–пет 08–19".into(),
    };
    let office = parse_office(&ok).expect("valid");
    assert_eq!(office.latitude, Some(44.8176));
    let with = |f: fn(&mut OfficeInput)| {
        let mut i = ok.clone();
        f(&mut i);
        i
    };
    // (input, the fields it is refused for; empty when valid)
    let table: Vec<(OfficeInput, &[&str])> = vec![
        (with(|i| i.code = "bg1".into()), &[]),
        (with(|i| i.code = "A".repeat(16)), &[]),
        (with(|i| i.code = "A".repeat(17)), &["code"]),
        (with(|i| i.code = String::new()), &["code"]),
        (with(|i| i.code = "11-101".into()), &["code"]),
        (with(|i| i.code = "Београд".into()), &["code"]),
        (with(|i| i.postal_code = " 11000 ".into()), &[]),
        (with(|i| i.postal_code = "1100".into()), &["postal_code"]),
        (with(|i| i.postal_code = "110000".into()), &["postal_code"]),
        (with(|i| i.postal_code = "11a00".into()), &["postal_code"]),
        (with(|i| i.postal_code = "١١٠٠٠".into()), &["postal_code"]),
        (with(|i| i.name = "  ".into()), &["name"]),
        (with(|i| i.name = "Ж".repeat(100)), &[]),
        (with(|i| i.name = "Ж".repeat(101)), &["name"]),
        (with(|i| i.name = "Две\nлиније".into()), &["name"]),
        (with(|i| i.municipality = String::new()), &["municipality"]),
        (with(|i| i.address = "a".repeat(201)), &["address"]),
        (with(|i| i.address = "a".repeat(200)), &[]),
        (with(|i| i.latitude = "90".into()), &[]),
        (with(|i| i.latitude = "-90.0".into()), &[]),
        (with(|i| i.latitude = "90.0001".into()), &["latitude"]),
        (with(|i| i.latitude = "44,8".into()), &["latitude"]),
        (with(|i| i.latitude = "NaN".into()), &["latitude"]),
        (with(|i| i.longitude = "-180".into()), &[]),
        (with(|i| i.longitude = "180.5".into()), &["longitude"]),
        (with(|i| i.longitude = "inf".into()), &["longitude"]),
        (with(|i| i.longitude = String::new()), &["longitude"]),
        (with(|i| i.latitude = " ".into()), &["latitude"]),
        (
            with(|i| {
                i.latitude = String::new();
                i.longitude = String::new();
            }),
            &[],
        ),
        (with(|i| i.opening_hours = String::new()), &[]),
        (
            with(|i| i.opening_hours = "x".repeat(201)),
            &["opening_hours"],
        ),
        (
            OfficeInput::default(),
            &["code", "postal_code", "name", "municipality", "address"],
        ),
    ];
    for (input, fields) in table {
        let got: Vec<&str> = match parse_office(&input) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.field).collect(),
        };
        assert_eq!(got, fields, "{input:?}");
    }
    let trimmed = parse_office(&with(|i| i.name = "  Београд 1 ".into())).expect("valid");
    assert_eq!(trimmed.name, "Београд 1");
    assert_eq!(
        parse_office(&with(|i| i.opening_hours = " ".into()))
            .expect("valid")
            .opening_hours,
        None
    );
}
