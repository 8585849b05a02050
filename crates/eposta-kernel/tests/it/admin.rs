//! The admin console: accounts (list, search, create staff, disable and enable), organisations
//! and API keys (the secret shown once), the outbox (masked list, audited detail) and the
//! audit log page with its chain check.

use axum::http::{StatusCode, header};
use eposta_kernel::accounts::{Role, store as account_store};
use eposta_kernel::apikeys;
use eposta_kernel::audit;
use eposta_kernel::db_run;
use eposta_kernel::notify;
use eposta_kernel::testing::{Client, PASSWORD, TestApp};
use uuid::Uuid;

/// A logged-in admin whose pages are in English, and their id.
async fn admin(t: &TestApp) -> (Client, Uuid) {
    let email = t.user(Role::Admin, None).await;
    let mut c = t.client();
    c.login(&email, PASSWORD).await;
    // After logging in, which sets the account's language.
    c.set_cookie("eposta_lang", "en");
    (c, user_id(t, &email).await)
}

async fn user_id(t: &TestApp, email: &str) -> Uuid {
    let mut conn = t.app.db.conn().await.expect("connection");
    account_store::user_by_email(&mut conn, email)
        .await
        .expect("read")
        .expect("user exists")
        .id
}

async fn audit_entries(t: &TestApp) -> Vec<audit::Row> {
    let mut conn = t.app.db.conn().await.expect("connection");
    audit::recent(&mut conn, None, 1000).await.expect("audit")
}

/// Runs one statement that changes rows, as someone with database access could.
async fn sql(t: &TestApp, statement: &str) -> u64 {
    let mut tx = t.app.db.begin().await.expect("tx");
    let n = db_run!(&mut tx, |c| sqlx::query(statement)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
    .expect("statement");
    tx.commit().await.expect("commit");
    n
}

/// No page may show a catalogue key instead of its text.
fn assert_all_texts_translated(html: &str) {
    for marker in ["\"admin.", ">admin.", "\"field.", ">field."] {
        assert!(!html.contains(marker), "untranslated {marker}: {html}");
    }
}

#[tokio::test]
async fn every_console_page_renders_for_an_admin_and_is_refused_to_a_clerk() {
    let t = TestApp::new().await;
    t.office("11101", "Београд 1").await;
    let (mut a, _) = admin(&t).await;
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    for (path, heading) in [
        ("/admin/users", "<h1>Users</h1>"),
        ("/admin/keys", "<h1>API keys</h1>"),
        ("/admin/outbox", "<h1>Outbox</h1>"),
        ("/admin/audit", "<h1>Audit log</h1>"),
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let html = r.text();
        assert!(html.contains(heading), "{path}: {html}");
        assert_all_texts_translated(&html);
        let r = clerk.get(path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "clerk on {path}");
    }
    // Users and the audit log are never empty here (the admin exists and was recorded).
    for path in ["/admin/users", "/admin/audit"] {
        let html = a.get(path).await.text();
        assert!(
            html.contains("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\""),
            "{path}"
        );
        assert!(html.contains("<th scope=\"col\">"), "{path}");
    }
    // The default language is Serbian Cyrillic, and it is complete too.
    let mut sr = t.logged_in(Role::Admin, None).await;
    let html = sr.get("/admin/users").await.text();
    assert!(html.contains("<h1>Корисници</h1>"), "{html}");
    assert!(html.contains("Нови налог запосленог"), "{html}");
    assert_all_texts_translated(&html);
}

#[tokio::test]
async fn users_are_listed_newest_first_with_office_and_belgrade_time_and_can_be_searched() {
    let t = TestApp::new().await;
    t.office("11101", "Београд 1").await;
    let (mut a, _) = admin(&t).await;
    t.clock.advance(chrono::Duration::hours(1));
    let clerk = t.user(Role::Clerk, Some("11101")).await;
    t.clock.advance(chrono::Duration::hours(1));
    let citizen = t.user(Role::Citizen, None).await;

    let html = a.get("/admin/users").await.text();
    let (pos_citizen, pos_clerk) = (
        html.find(&citizen).expect("citizen listed"),
        html.find(&clerk).expect("clerk listed"),
    );
    assert!(pos_citizen < pos_clerk, "newest first");
    assert!(html.contains("Counter clerk"));
    assert!(html.contains("<span class=\"code\">11101</span>"));
    // 11:00 UTC on 2 March is 12:00 in Belgrade (CET).
    assert!(
        html.contains("<time datetime=\"2026-03-02T11:00:00Z\">02.03.2026. 12:00</time>"),
        "{html}"
    );

    let r = a.get("/admin/users?q=CLERK-").await;
    let html = r.text();
    assert!(html.contains(&clerk), "search is case-insensitive: {html}");
    assert!(!html.contains(&citizen));
    let html = a.get("/admin/users?q=nobody-has-this").await.text();
    assert!(html.contains("No accounts match."));
    // A search is plain text: wildcards and PostgreSQL's LIKE escape character break nothing.
    for q in ["%25", "_", "%5C", "a%5C"] {
        let r = a.get(&format!("/admin/users?q={q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
    }
}

#[tokio::test]
async fn creating_staff_names_the_field_at_fault_and_keeps_the_input() {
    let t = TestApp::new().await;
    t.office("11101", "Београд 1").await;
    let (mut a, admin_id) = admin(&t).await;
    let secret = "initial-password-123";
    let mut form = vec![
        ("email", "pera@posta.rs"),
        ("display_name", "Пера Перић"),
        ("role", "clerk"),
        ("office", ""),
        ("password", secret),
    ];

    let r = a.post_form("/admin/users", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("<p id=\"office-error\" class=\"error\" role=\"alert\">Clerks and managers need the code"),
        "{html}"
    );
    assert!(
        html.contains(
            "aria-describedby=\"office-help office-error\" aria-invalid=\"true\" autofocus"
        )
    );
    assert!(html.contains("value=\"pera@posta.rs\""), "e-mail kept");
    assert!(html.contains("value=\"Пера Перић\""), "name kept");
    assert!(
        html.contains("<option value=\"clerk\" selected>"),
        "role kept"
    );
    assert!(!html.contains(secret), "a password is never sent back");
    assert!(!html.contains("id=\"email-error\""));

    form[3] = ("office", "99999");
    let r = a.post_form("/admin/users", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"office-error\""));

    form[3] = ("office", "11101");
    form[0] = ("email", "not an address");
    let r = a.post_form("/admin/users", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"email-error\""), "{html}");
    assert!(html.contains("value=\"11101\""), "office kept");

    // Citizens register themselves; the console makes staff only.
    form[0] = ("email", "pera@posta.rs");
    form[2] = ("role", "citizen");
    let r = a.post_form("/admin/users", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"role-error\""));

    form[2] = ("role", "clerk");
    let r = a.post_form("/admin/users", &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), Some("/admin/users?notice=created"));
    let html = a.get("/admin/users?notice=created").await.text();
    assert!(html.contains("The account has been created."));
    assert!(html.contains("pera@posta.rs"));
    let entry = audit_entries(&t)
        .await
        .into_iter()
        .find(|e| e.action == "account.created")
        .expect("recorded");
    assert_eq!(entry.actor, format!("user:{admin_id}"));

    let mut pera = t.client();
    pera.login("pera@posta.rs", secret).await;
    assert_eq!(pera.get("/counter").await.status, StatusCode::OK);

    // The same address twice is refused at the e-mail field.
    let r = a.post_form("/admin/users", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"email-error\""));
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_refuses_its_logins() {
    let t = TestApp::new().await;
    t.office("11101", "Београд 1").await;
    let (mut a, admin_id) = admin(&t).await;
    let email = t.user(Role::Clerk, Some("11101")).await;
    let id = user_id(&t, &email).await;
    let mut clerk = t.client();
    clerk.login(&email, PASSWORD).await;
    assert_eq!(clerk.get("/counter").await.status, StatusCode::OK);

    let r = a
        .post_form(&format!("/admin/users/{id}/disable"), &[("q", "clerk")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/admin/users?notice=disabled&q=clerk"));

    let r = clerk.get("/counter").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/login?next=%2Fcounter"));
    let mut conn = t.app.db.conn().await.expect("connection");
    let sessions: i64 = db_run!(&mut conn, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE user_id = $1"
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await)
    .expect("count");
    drop(conn);
    assert_eq!(sessions, 0, "the sessions are gone, not merely refused");
    let r = clerk
        .post_form("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let html = a.get("/admin/users?q=clerk").await.text();
    assert!(html.contains(&format!("aria-label=\"Enable the account {email}\"")));
    let entry = &audit_entries(&t).await[0];
    assert_eq!(entry.action, "account.disabled");
    assert_eq!(entry.actor, format!("user:{admin_id}"));
    assert_eq!(entry.subject, format!("user:{id}"));

    let r = a.post_form(&format!("/admin/users/{id}/enable"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(audit_entries(&t).await[0].action, "account.enabled");
    clerk.login(&email, PASSWORD).await;

    // An admin cannot lock themself out, and stays logged in when trying.
    let html = a.get("/admin/users").await.text();
    assert!(!html.contains(&format!("/admin/users/{admin_id}/disable")));
    let r = a
        .post_form(&format!("/admin/users/{admin_id}/disable"), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("You cannot disable your own account."));
    assert_eq!(a.get("/admin/users").await.status, StatusCode::OK);

    let r = a
        .post_form(&format!("/admin/users/{}/disable", Uuid::now_v7()), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// The secret on the page that answers an issued key.
fn token_in(html: &str) -> String {
    let start = html.find("value=\"ep_").expect("a key on the page") + "value=\"".len();
    let len = html[start..].find('"').expect("end of the key");
    html[start..start + len].to_owned()
}

#[tokio::test]
async fn a_key_is_shown_once_works_until_revoked_and_is_stored_nowhere() {
    let t = TestApp::new().await;
    let (mut a, _) = admin(&t).await;
    let html = a.get("/admin/keys").await.text();
    assert!(html.contains("There are no organisations yet."));

    let r = a
        .post_form("/admin/organisations", &[("name", ""), ("kind", "agency")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"org-name-error\""));
    let r = a
        .post_form(
            "/admin/organisations",
            &[("name", "Институт за јавно здравље"), ("kind", "agency")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut conn = t.app.db.conn().await.expect("connection");
    let org = apikeys::store::organisations(&mut conn)
        .await
        .expect("orgs")[0]
        .id;
    drop(conn);
    let org = org.to_string();

    // No scope ticked: refused at the scopes, the name kept.
    let r = a
        .post_form(
            "/admin/keys",
            &[("organisation", org.as_str()), ("name", "Вакцинација")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains(
        "<p id=\"key-scopes-error\" class=\"error\" role=\"alert\">Choose at least one scope."
    ));
    assert!(html.contains("value=\"Вакцинација\""));

    let r = a
        .post_form(
            "/admin/keys",
            &[
                ("organisation", org.as_str()),
                ("name", "Вакцинација"),
                ("scopes", "sms:send"),
                ("scopes", "offices:read"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let html = r.text();
    assert!(html.contains("It will not be shown again"), "{html}");
    let token = token_in(&html);

    let holder = apikeys::authenticate(&t.app, &token)
        .await
        .expect("lookup")
        .expect("the key works");
    assert_eq!(holder.organisation_id.to_string(), org);
    assert_eq!(holder.scopes, ["sms:send", "offices:read"]);

    // Never again: not on the list, not in the audit log, not in the database.
    let html = a.get("/admin/keys").await.text();
    assert!(!html.contains(&token));
    let prefix = &token[3..11];
    assert!(html.contains(&format!("ep_{prefix}_…")), "{html}");
    assert!(html.contains("Институт за јавно здравље"));
    for e in audit_entries(&t).await {
        assert!(!e.details.contains(&token[12..]) && !e.subject.contains(&token[12..]));
    }
    let mut conn = t.app.db.conn().await.expect("connection");
    let stored: i64 = db_run!(&mut conn, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_keys WHERE key_hash = $1 OR name = $1 OR prefix = $1"
    )
    .bind(&token)
    .fetch_one(&mut *c)
    .await)
    .expect("count");
    drop(conn);
    assert_eq!(stored, 0);

    let r = a
        .post_form(&format!("/admin/keys/{}/revoke", holder.key_id), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        apikeys::authenticate(&t.app, &token)
            .await
            .expect("lookup")
            .is_none(),
        "a revoked key stops working"
    );
    let html = a.get("/admin/keys?notice=revoked").await.text();
    assert!(html.contains("The key has been revoked"));
    assert!(!html.contains(&format!("/admin/keys/{}/revoke", holder.key_id)));
    let r = a
        .post_form(&format!("/admin/keys/{}/revoke", holder.key_id), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "revoked once only");
}

#[tokio::test]
async fn the_outbox_masks_recipients_and_reading_a_message_is_audited() {
    let t = TestApp::new().await;
    let (mut a, admin_id) = admin(&t).await;
    let r = t
        .client()
        .post_form(
            "/register",
            &[("email", "ana@example.rs"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let html = a.get("/admin/outbox").await.text();
    assert!(html.contains("a•••@example.rs"), "{html}");
    assert!(!html.contains("ana@example.rs"));
    assert!(
        !html.contains("confirm-email?token="),
        "no bodies in the list"
    );
    assert!(html.contains("held (no transport)"));

    let mut conn = t.app.db.conn().await.expect("connection");
    let msg = notify::recent(&mut conn, 10).await.expect("outbox")[0].clone();
    drop(conn);
    let before = audit_entries(&t).await.len();
    let r = a.get(&format!("/admin/outbox/{}", msg.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let html = r.text();
    assert!(html.contains("<dd>ana@example.rs</dd>"), "{html}");
    assert!(html.contains("/confirm-email?token="), "the body in full");
    let entries = audit_entries(&t).await;
    assert_eq!(entries.len(), before + 1);
    let e = &entries[0];
    assert_eq!(e.action, "outbox.viewed");
    assert_eq!(e.actor, format!("user:{admin_id}"));
    assert_eq!(e.subject, format!("outbox:{}", msg.id));
    assert!(
        !e.details.contains("ana"),
        "no personal data in the audit log"
    );

    let r = a.get(&format!("/admin/outbox/{}", Uuid::now_v7())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(audit_entries(&t).await.len(), before + 1);
}

#[tokio::test]
async fn the_verify_button_reports_an_intact_chain_and_names_a_broken_entry() {
    let t = TestApp::new().await;
    let (mut a, _) = admin(&t).await;
    t.user(Role::Admin, None).await;
    let html = a.get("/admin/audit").await.text();
    assert!(html.contains("<span class=\"code\">account.created</span>"));
    assert!(html.contains("<span class=\"code\">session.login</span>"));

    let r = a.post_form("/admin/audit/verify", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text()
            .contains("role=\"status\" id=\"verdict\">Chain intact: 3 entries."),
        "{}",
        r.text()
    );

    // Entry 2 is the admin's login; make it look like the system's doing.
    sql(&t, "UPDATE audit_log SET actor = 'system' WHERE seq = 2").await;
    let r = a.post_form("/admin/audit/verify", &[]).await;
    assert!(
        r.text().contains(
            "role=\"alert\" id=\"verdict\">Chain broken at entry 2: content does not match its hash"
        ),
        "{}",
        r.text()
    );
}
