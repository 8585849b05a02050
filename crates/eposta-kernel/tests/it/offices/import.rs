//! Importing the registry: the sample file, re-imports, bad rows and headers, the demo seed.

use eposta_kernel::audit::Actor;
use eposta_kernel::offices::service::{self, ImportReport};
use eposta_kernel::testing::TestApp;

use super::{HEADER, audited, count, import, office, rows};

#[tokio::test]
async fn the_sample_file_imports_and_is_audited() {
    let t = TestApp::new().await;
    let sample = eposta_kernel::demo::OFFICES_CSV.to_owned();
    let mut seen = Vec::new();
    let report = service::import_csv(
        &t.app,
        &Actor::System,
        std::io::Cursor::new(sample.clone()),
        |p| seen.push(p),
    )
    .await
    .expect("runs")
    .expect("the sample is valid");
    let lines = sample.lines().count() as u64 - 1;
    assert_eq!(
        report,
        ImportReport {
            rows: lines,
            inserted: lines,
            updated: 0,
            unchanged: 0
        }
    );
    assert!((25..=40).contains(&lines), "about 25 offices: {lines}");
    assert_eq!(count(&t).await, lines as i64);
    assert_eq!(
        seen.last().map(|p| (p.bytes, p.rows)),
        Some((sample.len() as u64, lines)),
        "progress reaches the end"
    );
    let bg = office(&t, "11101").await;
    assert_eq!(
        (bg.name.as_str(), bg.postal_code.as_str()),
        ("Београд 1", "11101")
    );
    assert!(bg.latitude.is_some() && bg.opening_hours.is_some());
    let entries = audited(&t, "offices.imported").await;
    assert_eq!(entries.len(), 1);
    let details: serde_json::Value = serde_json::from_str(&entries[0].details).expect("JSON");
    assert_eq!(details["inserted"], lines);
    assert_eq!(details["updated"], 0);
}

#[tokio::test]
async fn a_second_import_updates_offices_instead_of_duplicating_them() {
    let t = TestApp::new().await;
    let first = import(&t, format!("{HEADER}{}", rows(10000, 3)))
        .await
        .expect("valid");
    assert_eq!((first.inserted, first.updated), (3, 0));
    let before = office(&t, "10001").await;

    // Same codes (one in lower case is still the same office), one changed, one new.
    let again = format!(
        "{HEADER}10000,10000,Пошта 10000,Општина,Улица 10000,,,\n\
         10001,10001,Преименована,Општина,Улица 10001,44.5,20.5,пон–пет 08–19\n\
         10002,10002,Пошта 10002,Општина,Улица 10002,,,\n\
         a1,11000,Нова,Општина,Улица,,,\n"
    );
    let report = import(&t, again).await.expect("valid");
    assert_eq!(
        report,
        ImportReport {
            rows: 4,
            inserted: 1,
            updated: 1,
            unchanged: 2
        }
    );
    assert_eq!(count(&t).await, 4);
    let after = office(&t, "10001").await;
    assert_eq!(after.id, before.id, "the same office, updated in place");
    assert_eq!(after.name, "Преименована");
    assert_eq!(after.latitude, Some(44.5));
    assert_eq!(after.opening_hours.as_deref(), Some("пон–пет 08–19"));
    assert_eq!(office(&t, "A1").await.name, "Нова", "codes are upper-cased");
    let untouched = office(&t, "10000").await;
    assert_eq!(untouched.updated_at, untouched.created_at);
}

#[tokio::test]
async fn a_file_with_bad_rows_names_every_line_and_imports_nothing() {
    let t = TestApp::new().await;
    import(&t, format!("{HEADER}10000,10000,Стара,Општина,Улица,,,\n"))
        .await
        .expect("valid");
    let before = count(&t).await;

    // More good rows than one write batch come first, so some are written before the bad
    // rows are met: they must be rolled back, and the existing office left as it was.
    let mut csv = format!("{HEADER}10000,10000,Нова,Општина,Улица,,,\n");
    csv.push_str(&rows(20000, 1200));
    csv.push_str("30001,3000,Пошта,Општина,Улица,,,\n"); // line 1203
    csv.push_str("30002,30002,,Општина,Улица,,,\n"); // line 1204
    csv.push_str("30003,30003,Пошта,Општина,Улица,91,20,\n"); // line 1205
    csv.push_str("20005,20005,Двојник,Општина,Улица,,,\n"); // line 1206
    csv.push_str(&rows(40000, 10));
    csv.push_str("40001,40001,Пошта,Општина\n"); // line 1217
    let rejected = import(&t, csv).await.expect_err("refused");
    let described: Vec<String> = rejected.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        described,
        [
            "line 1203: postal_code must be exactly 5 digits",
            "line 1204: name is required, at most 100 characters on one line",
            "line 1205: latitude must be a number from -90 to 90",
            "line 1206: code 20005 is already on line 8",
            "line 1217: has 4 fields where the header has 8",
        ]
    );
    assert_eq!(rejected.bad_rows, 5);
    assert_eq!(count(&t).await, before, "nothing imported");
    assert_eq!(office(&t, "10000").await.name, "Стара", "nothing updated");
    assert!(audited(&t, "offices.imported").await.len() == 1);
}

#[tokio::test]
async fn at_least_the_first_hundred_bad_rows_are_described() {
    let t = TestApp::new().await;
    let bad: String = (0..150).map(|i| format!("X{i},1,,,,,,\n")).collect();
    let rejected = import(&t, format!("{HEADER}{bad}"))
        .await
        .expect_err("refused");
    assert_eq!(rejected.bad_rows, 150);
    assert_eq!(rejected.errors.len(), 150);
    assert_eq!(rejected.errors[99].line, 101);
    assert!(
        rejected.errors[0]
            .to_string()
            .starts_with("line 2: postal_code must be exactly 5 digits; name is required"),
        "{}",
        rejected.errors[0]
    );
    assert_eq!(count(&t).await, 0);
}

#[tokio::test]
async fn a_bad_header_is_refused_on_line_one() {
    let t = TestApp::new().await;
    for (csv, says) in [
        ("", "empty"),
        ("code;postal_code;name\n1;11000;x\n", "unknown column"),
        ("code,name,municipality,address\n", "postal_code"),
    ] {
        let rejected = import(&t, csv.to_owned()).await.expect_err("refused");
        assert_eq!(rejected.errors.len(), 1, "{csv:?}");
        assert_eq!(rejected.errors[0].line, 1);
        assert!(
            rejected.errors[0].to_string().contains(says),
            "{csv:?}: {}",
            rejected.errors[0]
        );
    }
    // Optional columns may be left out altogether.
    let report = import(
        &t,
        "code,postal_code,name,municipality,address\n11000,11000,Beograd,Stari grad,Takovska 2\n"
            .to_owned(),
    )
    .await
    .expect("valid");
    assert_eq!(report.inserted, 1);
}
#[tokio::test]
async fn the_demo_seed_loads_the_sample_offices() {
    let t = TestApp::new().await;
    eposta_kernel::demo::seed(&t.app).await.expect("seeded");
    let n = count(&t).await;
    assert!(n >= 25, "{n}");
    for code in ["11101", "21101", "18101"] {
        office(&t, code).await;
    }
    eposta_kernel::demo::seed(&t.app)
        .await
        .expect("seeded again");
    assert_eq!(count(&t).await, n);
    let mut manager = t.client();
    manager
        .login("manager@demo.eposta.rs", "demo-manager-password")
        .await;
    let page = manager.get("/counter/office").await.text();
    assert!(
        page.contains("Београд 1") && page.contains("clerk@demo.eposta.rs"),
        "{page}"
    );
}
