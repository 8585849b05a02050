//! The office pages and API: admin search and edit, staff lists scoped to an office, the
//! public finder and `GET /api/v1/offices`.

use axum::http::StatusCode;
use eposta_kernel::accounts::Role;
use eposta_kernel::apikeys;
use eposta_kernel::audit::Actor;
use eposta_kernel::testing::{PASSWORD, TestApp};

use super::{HEADER, audited, count, import, office, rows};

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
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    let o = &body["items"][0];
    assert_eq!(o["code"], "21101");
    assert_eq!(o["name"], "Нови Сад 1");
    assert_eq!(o["address"], "Народних хероја 2");
    assert_eq!(o["latitude"], 45.2551);
    assert!(o.get("id").is_none() && o.get("created_at").is_none());
    assert!(body["next_cursor"].is_null());

    // Walking the pages with the cursors finds every office once.
    let total = count(&t).await as usize;
    let mut seen = Vec::new();
    let mut path = "/api/v1/offices?limit=2".to_owned();
    loop {
        let page = api.get(&path).await.json();
        let items = page["items"].as_array().expect("items").clone();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|o| o["code"].as_str().unwrap_or_default().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/offices?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), total, "no office twice: {seen:?}");
    let all = api.get("/api/v1/offices?limit=200").await.json();
    assert_eq!(all["items"].as_array().map(Vec::len), Some(total));

    let long_q = format!("q={}", "x".repeat(101));
    for (query, field) in [
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor", "cursor"),
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
