//! The post-office registry: the CSV import (all or nothing, upsert by code), the rules an
//! office must meet, the admin console, staff lists scoped to an office, the public finder
//! and the `offices:read` API.

use axum::http::StatusCode;
use eposta_kernel::accounts::Role;
use eposta_kernel::apikeys;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::offices::domain::{OfficeInput, parse_office};
use eposta_kernel::offices::service::{self, ImportRejected, ImportReport};
use eposta_kernel::offices::store;
use eposta_kernel::testing::{PASSWORD, TestApp};

const HEADER: &str =
    "code,postal_code,name,municipality,address,latitude,longitude,opening_hours\n";

async fn import(t: &TestApp, csv: String) -> Result<ImportReport, ImportRejected> {
    service::import_csv(&t.app, &Actor::System, std::io::Cursor::new(csv), |_| {})
        .await
        .expect("the import runs")
}

async fn count(t: &TestApp) -> i64 {
    let mut conn = t.app.db.conn().await.expect("connection");
    store::count(&mut conn).await.expect("count")
}

async fn office(t: &TestApp, code: &str) -> store::OfficeRow {
    let mut conn = t.app.db.conn().await.expect("connection");
    store::by_code(&mut conn, code)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("no office {code}"))
}

/// The newest audit entries with this action, newest first.
async fn audited(t: &TestApp, action: &str) -> Vec<audit::Row> {
    let mut conn = t.app.db.conn().await.expect("connection");
    audit::recent(&mut conn, None, 1000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.action == action)
        .collect()
}

/// `n` valid rows with codes from `first` on.
fn rows(first: u32, n: u32) -> String {
    (first..first + n)
        .map(|i| format!("{i},{:05},Пошта {i},Општина,Улица {i},,,\n", i % 100_000))
        .collect()
}

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

#[tokio::test]
async fn admins_search_page_and_edit_offices() {
    let t = TestApp::new().await;
    import(&t, eposta_kernel::demo::OFFICES_CSV.to_owned())
        .await
        .expect("valid");
    let mut admin = t.logged_in(Role::Admin, None).await;

    let r = admin.get("/admin/offices?q=%D0%9D%D0%BE%D0%B2%D0%B8").await; // "Нови"
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(
        page.contains("Нови Сад 1") && page.contains("Нови Београд"),
        "{page}"
    );
    assert!(!page.contains("Ниш 1"), "{page}");
    for (q, finds) in [
        ("18101", "Ниш 1"),
        ("Krag", "Крагујевац"),
        ("суботица", "Суботица"),
    ] {
        let r = admin
            .get(&format!("/admin/offices?q={}", urlencode(q)))
            .await;
        assert!(r.text().contains(finds), "{q}: {}", r.text());
    }

    // Sixty more offices make two pages of fifty.
    import(&t, format!("{HEADER}{}", rows(50000, 60)))
        .await
        .expect("valid");
    let first = admin.get("/admin/offices?q=50").await.text();
    // (askama writes `&` in attributes as `&#38;`)
    assert!(
        first.contains("href=\"/admin/offices?q=50&#38;page=2\" rel=\"next\""),
        "{first}"
    );
    assert!(!first.contains("rel=\"prev\""));
    let second = admin.get("/admin/offices?q=50&page=2").await.text();
    assert!(
        second.contains("50059") && !second.contains("50001"),
        "{second}"
    );
    assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""));

    let r = admin.get("/admin/offices/21101").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text().contains("value=\"Народних хероја 2\""),
        "{}",
        r.text()
    );
    assert_eq!(
        admin.get("/admin/offices/99999").await.status,
        StatusCode::NOT_FOUND
    );

    // A broken rule: 422, the message next to the field, what was typed kept.
    let fields = [
        ("postal_code", "2110"),
        ("name", "Нови Сад – Центар"),
        ("municipality", "Нови Сад"),
        ("address", "Народних хероја 2"),
        ("latitude", "45.2551"),
        ("longitude", ""),
        ("opening_hours", "пон–пет 07–20"),
    ];
    let r = admin.post_form("/admin/offices/21101", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text();
    assert!(
        page.contains("id=\"postal_code-error\"")
            && page.contains("Поштански број мора имати тачно 5 цифара."),
        "{page}"
    );
    assert!(page.contains("id=\"longitude-error\""), "{page}");
    assert!(!page.contains("id=\"name-error\""), "{page}");
    assert!(page.contains("value=\"Нови Сад – Центар\""), "{page}");
    assert!(page.contains("value=\"2110\""), "{page}");
    assert_eq!(office(&t, "21101").await.name, "Нови Сад 1", "not saved");

    let mut good = fields;
    good[0].1 = "21102";
    good[5].1 = "19.8452";
    let r = admin.post_form("/admin/offices/21101", &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), Some("/admin/offices/21101?saved=1"));
    let saved = office(&t, "21101").await;
    assert_eq!(
        (
            saved.postal_code.as_str(),
            saved.name.as_str(),
            saved.opening_hours.as_deref()
        ),
        ("21102", "Нови Сад – Центар", Some("пон–пет 07–20"))
    );
    let entries = audited(&t, "office.updated").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].subject, "office:21101");
    assert_eq!(entries[0].office_id, Some(saved.id));
    assert!(entries[0].details.contains("postal_code") && entries[0].details.contains("name"));
    assert!(!entries[0].details.contains("address"), "only what changed");

    // Staff may not edit the registry.
    let mut manager = t.logged_in(Role::Manager, Some("21101")).await;
    assert_eq!(
        manager.get("/admin/offices").await.status,
        StatusCode::FORBIDDEN
    );
    let r = manager.post_form("/admin/offices/21101", &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .expect("encodes")
        .trim_start_matches('=')
        .to_owned()
}

#[tokio::test]
async fn staff_lists_are_scoped_to_the_office_and_audited() {
    let t = TestApp::new().await;
    t.office("11101", "Београд 1").await;
    t.office("21101", "Нови Сад 1").await;
    let clerk_a = t.user(Role::Clerk, Some("11101")).await;
    let clerk_b = t.user(Role::Clerk, Some("21101")).await;
    let manager_email = t.user(Role::Manager, Some("11101")).await;
    let mut manager_a = t.client();
    manager_a.login(&manager_email, PASSWORD).await;
    let mut clerk = t.client();
    clerk.login(&clerk_a, PASSWORD).await;
    let mut admin = t.logged_in(Role::Admin, None).await;

    let r = manager_a.get("/offices/11101/staff").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&clerk_a) && !r.text().contains(&clerk_b));
    assert_eq!(
        manager_a.get("/offices/21101/staff").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        clerk.get("/offices/11101/staff").await.status,
        StatusCode::FORBIDDEN
    );
    let r = admin.get("/offices/21101/staff").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&clerk_b));
    assert_eq!(
        admin.get("/offices/99999/staff").await.status,
        StatusCode::NOT_FOUND
    );

    // The counter's own office: the manager sees the staff, a clerk does not.
    let r = manager_a.get("/counter/office").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("Београд 1") && r.text().contains(&clerk_a));
    let r = clerk.get("/counter/office").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("Београд 1"));
    assert!(
        !r.text().contains(&manager_email) && !r.text().contains("staff-h"),
        "a clerk sees no staff list"
    );

    // Three lists were shown (manager, admin, manager's counter page); refusals show none.
    let views = audited(&t, "office.staff_viewed").await;
    assert_eq!(views.len(), 3);
    assert_eq!(views[0].subject, "office:11101");
    assert_eq!(views[1].subject, "office:21101");
    assert!(views.iter().all(|v| v.actor.starts_with("user:")));
}

#[tokio::test]
async fn citizens_find_offices_in_their_script() {
    let t = TestApp::new().await;
    import(&t, eposta_kernel::demo::OFFICES_CSV.to_owned())
        .await
        .expect("valid");
    let mut c = t.client();
    let r = c.get("/offices?q=21101").await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(
        page.contains("Нови Сад 1") && page.contains("Народних хероја 2"),
        "{page}"
    );
    assert!(page.contains("пон–пет 08–19"), "{page}");
    assert!(!page.contains("Ниш 1"));

    c.get("/lang/sr-Latn?next=/").await;
    let page = c.get("/offices?q=beograd").await.text();
    assert!(
        page.contains("Beograd 1") && page.contains("Zmaj Jovina 17"),
        "{page}"
    );
    assert!(page.contains("pon–pet 08–19; sub 08–14"), "{page}");
    assert!(!page.contains("Београд"), "no Cyrillic on a Latin page");
    assert!(!page.contains("Niš 1"), "{page}");

    let page = c.get("/offices?q=Novi%20Pazar").await.text();
    assert!(
        page.contains("Novi Pazar") && !page.contains("Novi Sad"),
        "{page}"
    );
    let page = c.get("/offices?q=nema+takve").await.text();
    assert!(
        page.contains("Nijedna pošta ne odgovara pretrazi."),
        "{page}"
    );
    let r = c.get(&format!("/offices?q={}", "x".repeat(101))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_api_lists_offices_for_keys_with_the_scope() {
    let t = TestApp::new().await;
    import(&t, eposta_kernel::demo::OFFICES_CSV.to_owned())
        .await
        .expect("valid");
    let org = apikeys::create_organisation(&t.app, &Actor::System, "Агенција", "agency")
        .await
        .expect("organisation");
    let reader = apikeys::issue(&t.app, &Actor::System, org, "r", &["offices:read".into()])
        .await
        .expect("key");
    let other = apikeys::issue(&t.app, &Actor::System, org, "o", &["sms:send".into()])
        .await
        .expect("key");
    let mut api = t.api(&reader.token);

    let r = api.get("/api/v1/offices?q=21101").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["offices"].as_array().map(Vec::len), Some(1));
    let o = &body["offices"][0];
    assert_eq!(o["code"], "21101");
    assert_eq!(o["name"], "Нови Сад 1");
    assert_eq!(o["address"], "Народних хероја 2");
    assert_eq!(o["latitude"], 45.2551);
    assert!(o.get("id").is_none() && o.get("created_at").is_none());
    assert!(body.get("next_offset").is_none());

    let first = api.get("/api/v1/offices?limit=2").await.json();
    assert_eq!(first["offices"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["next_offset"], 2);
    let second = api.get("/api/v1/offices?limit=2&offset=2").await.json();
    assert_ne!(first["offices"][0]["code"], second["offices"][0]["code"]);
    let all = api.get("/api/v1/offices?limit=200").await.json();
    assert_eq!(
        all["offices"].as_array().map(Vec::len),
        Some(count(&t).await as usize)
    );

    let long_q = format!("q={}", "x".repeat(101));
    for (query, field) in [
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        (long_q.as_str(), "q"),
    ] {
        let r = api.get(&format!("/api/v1/offices?{query}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(r.json()["error"]["field"], field, "{query}: {}", r.text());
    }

    let r = t.api(&other.token).get("/api/v1/offices").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "forbidden");
    let r = t.client().get("/api/v1/offices").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
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
