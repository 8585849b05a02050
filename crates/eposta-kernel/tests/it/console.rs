//! The organisation console and its members: the admin adds and removes members by e-mail;
//! a member sees only their organisation's keys, webhooks and deliveries; owners issue and
//! revoke keys (never staff-only scopes), register, rotate and delete webhooks and resend
//! deliveries; another organisation's things are not found; a person in two organisations
//! picks one.

use axum::http::StatusCode;
use eposta_kernel::accounts::Role;
use eposta_kernel::apikeys;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::testing::{Client, PASSWORD, Receiver, TestApp};
use uuid::Uuid;

use super::webhooks::{app, emit, expected_signature, signatures};

async fn org(t: &TestApp, name: &str) -> Uuid {
    apikeys::create_organisation(&t.app, &Actor::System, name, "business")
        .await
        .expect("organisation")
}

fn english(mut c: Client) -> Client {
    c.set_cookie("eposta_lang", "en");
    c
}

/// The text of the only `input.secret` of a shown-once page.
fn shown_secret(html: &str) -> String {
    let start = html.find("class=\"secret\"").expect("a secret on the page");
    let value = &html[start..];
    let v = value.find("value=\"").expect("value") + 7;
    value[v..v + value[v..].find('"').expect("end")].to_owned()
}

fn assert_translated(html: &str) {
    for marker in ["console.", "admin.", "nav."] {
        assert!(
            !html.contains(&format!(">{marker}")) && !html.contains(&format!("\"{marker}")),
            "untranslated {marker}: {html}"
        );
    }
}

#[tokio::test]
async fn admins_add_and_remove_members_by_email() {
    let t = app().await;
    t.office("11101", "Београд 1").await;
    let a = org(&t, "Књижара Лагуна").await;
    let email = t.user(Role::Citizen, None).await;
    let mut person = t.client();
    person.login(&email, PASSWORD).await;
    let mut person = english(person);
    assert_eq!(person.get("/console").await.status, StatusCode::FORBIDDEN);

    let mut admin = english(t.logged_in(Role::Admin, None).await);
    let page = admin.get(&format!("/admin/organisations/{a}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Књижара Лагуна"));
    assert!(
        admin
            .get("/admin/keys")
            .await
            .text()
            .contains(&format!("/admin/organisations/{a}"))
    );
    let r = admin
        .post_form(
            &format!("/admin/organisations/{a}/members"),
            &[("email", &email.to_uppercase()), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = admin
        .get(&format!("/admin/organisations/{a}?notice=added"))
        .await
        .text();
    assert!(html.contains(&email) && html.contains("owner"), "{html}");
    assert_translated(&html);

    // Now the person has the console.
    let home = person.get("/console").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("Књижара Лагуна"));
    assert!(
        home.text().contains("href=\"/console\""),
        "the menu links the console"
    );

    // Staff accounts and unknown addresses are refused at the field.
    let clerk = t.user(Role::Clerk, Some("11101")).await;
    for (who, role) in [
        (clerk.as_str(), "member"),
        ("nobody@test.eposta.rs", "member"),
        (email.as_str(), "boss"),
    ] {
        let r = admin
            .post_form(
                &format!("/admin/organisations/{a}/members"),
                &[("email", who), ("role", role)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{who}");
        assert!(r.text().contains("aria-invalid=\"true\""), "{who}");
    }
    let r = admin
        .post_form(
            &format!("/admin/organisations/{}/members", Uuid::now_v7()),
            &[("email", &email), ("role", "member")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Removing takes the console away.
    let user = {
        let mut conn = t.app.db.conn().await.expect("conn");
        eposta_kernel::accounts::store::user_by_email(&mut conn, &email)
            .await
            .expect("read")
            .expect("user")
            .id
    };
    let r = admin
        .post_form(
            &format!("/admin/organisations/{a}/members/{user}/remove"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(person.get("/console").await.status, StatusCode::FORBIDDEN);
    let mut conn = t.app.db.conn().await.expect("conn");
    let actions: Vec<String> = audit::recent(&mut conn, None, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(actions.contains(&"organisation.member_added".to_owned()));
    assert!(actions.contains(&"organisation.member_removed".to_owned()));
    // Others may not manage members.
    let r = person
        .post_form(
            &format!("/admin/organisations/{a}/members"),
            &[("email", &email), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn owners_manage_keys_and_webhooks_members_read_and_other_organisations_see_nothing() {
    let t = app().await;
    let rx = Receiver::start().await;
    let a = org(&t, "Апотека").await;
    let b = org(&t, "Бицикл").await;
    let mut owner = english(t.member_of(a, "owner").await);
    let mut member = english(t.member_of(a, "member").await);
    let mut other = english(t.member_of(b, "owner").await);

    // The owner registers a webhook in the console; the secret is shown once.
    let r = owner
        .post_form(
            "/console/webhooks",
            &[
                ("url", &rx.url("/console")),
                ("events", "tracking.updated"),
                ("description", "склад"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap_or("")),
        Some("no-store")
    );
    let secret = shown_secret(&r.text());
    assert!(secret.starts_with("whsec_"));
    let home = owner.get("/console").await.text();
    assert_translated(&home);
    assert!(home.contains(&rx.url("/console")) && !home.contains(&secret));
    let endpoint = {
        let i = home
            .find("/console/webhooks/")
            .expect("a link to the webhook")
            + 18;
        home[i..i + 36].to_owned()
    };
    // A bad address is refused at its field, the form kept.
    let r = owner
        .post_form(
            "/console/webhooks",
            &[("url", "http://10.0.0.1/x"), ("events", "tracking.updated")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"hook-url-error\""), "{}", r.text());

    emit(&t, a, 1).await;
    rx.answer(&[503]);
    t.run_pending_jobs().await;
    let page = owner.get(&format!("/console/webhooks/{endpoint}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_translated(&html);
    assert!(html.contains("503") && html.contains("waiting"), "{html}");
    let received = &rx.received()[0];
    assert_eq!(
        signatures(received),
        vec![expected_signature(
            &secret,
            received.header("eposta-webhook-timestamp"),
            &received.body
        )]
    );
    // Retried after its backoff, it gets through; the log shows both attempts.
    t.clock.advance(chrono::Duration::seconds(10));
    t.run_pending_jobs().await;
    let html = owner
        .get(&format!("/console/webhooks/{endpoint}"))
        .await
        .text();
    assert!(
        html.contains("503") && html.contains(">delivered<"),
        "{html}"
    );
    let delivery = {
        let i = html.find("/console/deliveries/").expect("a resend button") + 20;
        html[i..i + 36].to_owned()
    };
    let r = owner
        .post_form(&format!("/console/deliveries/{delivery}/resend"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    t.run_pending_jobs().await;
    assert_eq!(rx.received().len(), 3);

    // A member reads but does not change.
    assert_eq!(member.get("/console").await.status, StatusCode::OK);
    let html = member
        .get(&format!("/console/webhooks/{endpoint}"))
        .await
        .text();
    assert!(!html.contains("/resend"), "members get no resend button");
    for (path, fields) in [
        (
            "/console/webhooks".to_owned(),
            vec![
                ("url", "http://127.0.0.1:9/"),
                ("events", "tracking.updated"),
            ],
        ),
        (format!("/console/deliveries/{delivery}/resend"), vec![]),
        (format!("/console/webhooks/{endpoint}/rotate"), vec![]),
        (format!("/console/webhooks/{endpoint}/delete"), vec![]),
        (
            "/console/keys".to_owned(),
            vec![("name", "x"), ("scopes", "postal:book")],
        ),
    ] {
        let r = member.post_form(&path, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "member {path}");
    }

    // Keys: the owner issues one with a self-service scope; staff-only scopes are refused.
    let r = owner
        .post_form(
            "/console/keys",
            &[("name", "продавница"), ("scopes", "postal:book")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let token = shown_secret(&r.text());
    let me = t.api(&token).get("/api/v1/me").await.json();
    assert_eq!(me["organisation"]["id"], a.to_string());
    let r = owner
        .post_form(
            "/console/keys",
            &[("name", "скенер"), ("scopes", "tracking:write")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !owner
            .get("/console")
            .await
            .text()
            .contains("value=\"tracking:write\"")
    );
    let key_id = {
        let home = owner.get("/console").await.text();
        let i = home.find("/console/keys/").expect("a revoke button") + 14;
        home[i..i + 36].to_owned()
    };

    // Another organisation's owner finds none of it.
    assert!(
        !other
            .get("/console")
            .await
            .text()
            .contains(&rx.url("/console"))
    );
    assert_eq!(
        other
            .get(&format!("/console/webhooks/{endpoint}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for path in [
        format!("/console/deliveries/{delivery}/resend"),
        format!("/console/webhooks/{endpoint}/rotate"),
        format!("/console/webhooks/{endpoint}/delete"),
        format!("/console/keys/{key_id}/revoke"),
    ] {
        let r = other.post_form(&path, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "other owner {path}");
    }
    assert_eq!(t.api(&token).get("/api/v1/me").await.status, StatusCode::OK);

    // The owner revokes the key, rotates the secret and deletes the webhook.
    let r = owner
        .post_form(&format!("/console/keys/{key_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        t.api(&token).get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = owner
        .post_form(&format!("/console/webhooks/{endpoint}/rotate"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let rotated = shown_secret(&r.text());
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    let r = owner
        .post_form(&format!("/console/webhooks/{endpoint}/delete"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        owner
            .get(&format!("/console/webhooks/{endpoint}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // People of no organisation, staff and visitors have no console.
    let mut citizen = t.logged_in(Role::Citizen, None).await;
    assert_eq!(citizen.get("/console").await.status, StatusCode::FORBIDDEN);
    let r = t.client().get("/console").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/login?")));
}

#[tokio::test]
async fn a_person_in_two_organisations_picks_which_one_the_console_shows() {
    let t = app().await;
    let a = org(&t, "Алфа").await;
    let b = org(&t, "Бета").await;
    let c = org(&t, "Гама").await;
    let email = t.user(Role::Citizen, None).await;
    for (o, role) in [(a, "member"), (b, "owner")] {
        eposta_kernel::organisations::add_member(&t.app, &Actor::System, o, &email, role)
            .await
            .expect("member");
    }
    let mut p = t.client();
    p.login(&email, PASSWORD).await;
    let mut p = english(p);
    let html = p.get("/console").await.text();
    assert!(html.contains("Алфа · member"), "the first by name: {html}");
    let r = p
        .post_form("/console/organisation", &[("organisation", &b.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = p.get("/console").await.text();
    assert!(html.contains("Бета · owner"), "{html}");
    // An organisation one does not belong to cannot be picked, nor forced by the cookie.
    let r = p
        .post_form("/console/organisation", &[("organisation", &c.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    p.set_cookie("eposta_org", &c.to_string());
    let html = p.get("/console").await.text();
    assert!(
        html.contains("Алфа · member") && !html.contains("Гама ·"),
        "{html}"
    );
}
