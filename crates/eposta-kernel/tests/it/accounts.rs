//! Citizens register, confirm, log in and out, reset a password; logins are throttled and
//! never tell whether an account exists.

use axum::http::StatusCode;
use eposta_kernel::accounts::Role;
use eposta_kernel::notify;
use eposta_kernel::testing::{PASSWORD, TestApp};

/// The link in the newest e-mail to `to`.
async fn link_in_mail(t: &TestApp, to: &str) -> String {
    let mut conn = t.app.db.conn().await.expect("connection");
    let mails = notify::recent(&mut conn, 50).await.expect("outbox");
    let mail = mails
        .iter()
        .find(|m| m.recipient == to)
        .unwrap_or_else(|| panic!("no mail to {to}"));
    let url = mail
        .body
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .expect("a link")
        .to_owned();
    url.trim_start_matches(&t.app.config.public_url).to_owned()
}

#[tokio::test]
async fn a_citizen_registers_confirms_logs_in_and_out() {
    let t = TestApp::new().await;
    let mut c = t.client();
    let r = c
        .post_form(
            "/register",
            &[
                ("email", "Ana@Example.rs"),
                ("password", PASSWORD),
                ("display_name", "Ана"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Not confirmed yet: the password is right, so we may say what is missing.
    let r = c
        .post_form(
            "/login",
            &[("email", "ana@example.rs"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let link = link_in_mail(&t, "ana@example.rs").await;
    assert!(link.starts_with("/confirm-email?token="), "{link}");
    let r = c.get(&link).await;
    assert_eq!(r.status, StatusCode::OK);
    // A used link does not work twice.
    let r = c.get(&link).await;
    assert!(r.text().contains("Веза не важи"), "{}", r.text());

    c.login("ana@example.rs", PASSWORD).await;
    let r = c.get("/me").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("Добро дошли, Ана."), "{}", r.text());

    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = c.get("/me").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/login?next=%2Fme"));
}

#[tokio::test]
async fn registering_a_taken_address_looks_the_same_and_warns_the_owner() {
    let t = TestApp::new().await;
    let email = t.user(Role::Citizen, None).await;
    let mut c = t.client();
    let r = c
        .post_form(
            "/register",
            &[("email", &email), ("password", "another-long-password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let fresh = c
        .post_form(
            "/register",
            &[("email", "new@example.rs"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        r.text().replace(&email, ""),
        fresh.text().replace("new@example.rs", "")
    );
    let link = link_in_mail(&t, &email).await;
    assert!(link.starts_with("/password-reset"), "{link}");
}

#[tokio::test]
async fn bad_registration_names_the_field_and_keeps_the_input() {
    let t = TestApp::new().await;
    let mut c = t.client();
    let r = c
        .post_form(
            "/register",
            &[
                ("email", "ana@example.rs"),
                ("password", "short"),
                ("display_name", "Ана"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text();
    assert!(
        body.contains("Лозинка мора имати најмање 10 знакова"),
        "{body}"
    );
    assert!(body.contains("value=\"ana@example.rs\""), "{body}");
    let r = c
        .post_form(
            "/register",
            &[("email", "not-an-address"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Адреса е-поште није исправна"));
    // A missing field is a 422 page, not a 500.
    let r = c.post_form("/register", &[("email", "x@example.rs")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn failed_logins_do_not_reveal_accounts_and_are_throttled() {
    let t = TestApp::new().await;
    let real = t.user(Role::Citizen, None).await;
    let mut c = t.client();
    let wrong_password = c
        .post_form(
            "/login",
            &[("email", &real), ("password", "wrong-password-1")],
        )
        .await;
    let no_account = c
        .post_form(
            "/login",
            &[
                ("email", "nobody@example.rs"),
                ("password", "wrong-password-1"),
            ],
        )
        .await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_account.status, StatusCode::UNAUTHORIZED);
    let strip = |s: String, e: &str| s.replace(e, "");
    assert_eq!(
        strip(wrong_password.text(), &real),
        strip(no_account.text(), "nobody@example.rs")
    );

    for _ in 0..4 {
        c.post_form(
            "/login",
            &[("email", &real), ("password", "wrong-password-1")],
        )
        .await;
    }
    // Five failures: even the right password is refused for a while.
    let r = c
        .post_form("/login", &[("email", &real), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.get("retry-after").is_some());
    t.clock.advance(chrono::Duration::minutes(16));
    c.login(&real, PASSWORD).await;
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_mail_and_old_sessions_end() {
    let t = TestApp::new().await;
    let email = t.user(Role::Citizen, None).await;
    let mut old = t.client();
    old.login(&email, PASSWORD).await;

    let mut c = t.client();
    let r = c.post_form("/password-reset", &[("email", &email)]).await;
    assert_eq!(r.status, StatusCode::OK);
    let unknown = c
        .post_form("/password-reset", &[("email", "nobody@example.rs")])
        .await;
    assert_eq!(
        r.text(),
        unknown.text(),
        "the answer must not tell whether the account exists"
    );

    let link = link_in_mail(&t, &email).await;
    let r = c.get(&link).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c.post_form(&link, &[("password", "short")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post_form(&link, &[("password", "a brand new password")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    assert_eq!(
        old.get("/me").await.status,
        StatusCode::SEE_OTHER,
        "old session must be gone"
    );
    let r = c
        .post_form("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    c.login(&email, "a brand new password").await;
    // The link is single-use and expires.
    let r = c
        .post_form(&link, &[("password", "yet another password")])
        .await;
    assert!(r.text().contains("Веза не важи"));
}

#[tokio::test]
async fn reset_links_expire_after_an_hour() {
    let t = TestApp::new().await;
    let email = t.user(Role::Citizen, None).await;
    let mut c = t.client();
    c.post_form("/password-reset", &[("email", &email)]).await;
    let link = link_in_mail(&t, &email).await;
    t.clock.advance(chrono::Duration::minutes(61));
    let r = c
        .post_form(&link, &[("password", "a brand new password")])
        .await;
    assert!(r.text().contains("Веза не важи"));
}

#[tokio::test]
async fn staff_need_an_office_and_only_staff_have_one() {
    let t = TestApp::new().await;
    t.office("11101", "Београд 1").await;
    use eposta_kernel::accounts::service::{NewStaff, create_user};
    use eposta_kernel::audit::Actor;
    let new = |role, office: Option<&str>| NewStaff {
        email: format!("{}@example.rs", uuid::Uuid::new_v4().simple()),
        password: secrecy::SecretString::from(PASSWORD),
        display_name: String::new(),
        role,
        office_code: office.map(str::to_owned),
    };
    let field = |e: eposta_kernel::Error| match e {
        eposta_kernel::Error::Invalid { field, .. } => field.to_string(),
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(
        field(
            create_user(&t.app, &Actor::System, new(Role::Clerk, None))
                .await
                .unwrap_err()
        ),
        "office"
    );
    assert_eq!(
        field(
            create_user(&t.app, &Actor::System, new(Role::Clerk, Some("99999")))
                .await
                .unwrap_err()
        ),
        "office"
    );
    assert_eq!(
        field(
            create_user(&t.app, &Actor::System, new(Role::Admin, Some("11101")))
                .await
                .unwrap_err()
        ),
        "office"
    );
    create_user(&t.app, &Actor::System, new(Role::Manager, Some("11101")))
        .await
        .unwrap();
}

#[tokio::test]
async fn language_is_switchable_and_remembered_for_the_account() {
    let t = TestApp::new().await;
    let email = t.user(Role::Citizen, None).await;
    let mut c = t.client();
    c.login(&email, PASSWORD).await;
    assert!(c.get("/me").await.text().contains("Моја еПошта"));
    let r = c.get("/lang/sr-Latn?next=/me").await;
    assert_eq!(r.location(), Some("/me"));
    assert!(c.get("/me").await.text().contains("Moja ePošta"));
    let r = c.get("/lang/en?next=https://evil.example").await;
    assert_eq!(r.location(), Some("/"), "no open redirect");
    assert!(c.get("/me").await.text().contains("My ePošta"));
    assert_eq!(c.get("/lang/xx").await.status, StatusCode::NOT_FOUND);

    // A new browser: the account's language comes back at login.
    let mut other = t.client();
    other.login(&email, PASSWORD).await;
    assert_eq!(other.cookie("eposta_lang"), Some("en"));
    assert!(other.get("/me").await.text().contains("<html lang=\"en\">"));
}
