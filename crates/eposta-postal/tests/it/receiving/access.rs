//! Who sees which item: its recipient (by account or by code), nobody else, whatever their
//! role; the list of items addressed to a citizen holds theirs only.

use axum::http::StatusCode;
use eposta_kernel::accounts::Role;
use eposta_kernel::testing::PASSWORD;

use super::{app, book, prove};

#[tokio::test]
async fn only_the_recipient_sees_an_item_whatever_the_callers_role() {
    let t = app().await;
    let recipient = t.user(Role::Citizen, None).await;
    let number = book(&t, |s| s["recipient"]["email"] = recipient.clone().into()).await;
    let someone_elses = book(&t, |_| {}).await;
    let item = format!("/receive/{number}");

    // The recipient's account opens it without a code, and lists it.
    let mut own = t.client();
    own.login(&recipient, PASSWORD).await;
    let r = own.get(&item).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = own.post_form("/receive", &[("id", &number)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some(item.as_str()));
    let list = own.get("/receive/mine").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.text().contains(&format!("href=\"{item}\"")),
        "{}",
        list.text()
    );
    assert!(!list.text().contains(&someone_elses), "{}", list.text());
    let r = own
        .post_form(&format!("{item}/delivery"), &[("delivery", "home")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        super::count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'postal.receiving.destination' \
             AND actor LIKE 'user:%'"
        )
        .await,
        1
    );

    // Everyone else, logged in or not, any role, is sent to prove it: on pages and on forms.
    let mut callers = vec![("anonymous", t.client())];
    for (name, role, office) in [
        ("other citizen", Role::Citizen, None),
        ("clerk", Role::Clerk, Some("11101")),
        ("manager", Role::Manager, Some("11101")),
        ("admin", Role::Admin, None),
    ] {
        callers.push((name, t.logged_in(role, office).await));
    }
    // And someone holding a recipient session for another item.
    let mut other_session = t.client();
    prove(&t, &mut other_session, &someone_elses).await;
    callers.push(("session of another item", other_session));
    for (name, c) in callers.iter_mut() {
        let r = c.get(&item).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}");
        assert_eq!(
            r.location(),
            Some(format!("/receive?id={number}").as_str()),
            "{name}"
        );
        for form in ["delivery", "redirect", "collector"] {
            let r = c
                .post_form(&format!("{item}/{form}"), &[("delivery", "home")])
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{name} {form}");
            assert!(
                r.location().is_some_and(|l| l.starts_with("/receive?id=")),
                "{name} {form}"
            );
        }
    }
    assert_eq!(
        super::count(&t, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'postal.receiving.%' AND action <> 'postal.receiving.proven'").await,
        1,
        "nothing changed"
    );

    // The list is for citizens; staff are refused, strangers sent to log in.
    let mut clerk = t.logged_in(Role::Clerk, Some("11101")).await;
    assert_eq!(
        clerk.get("/receive/mine").await.status,
        StatusCode::FORBIDDEN
    );
    let r = t.client().get("/receive/mine").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/login?")));
}

#[tokio::test]
async fn a_citizen_with_another_address_proves_it_by_code() {
    let t = app().await;
    let number = book(&t, |_| {}).await;
    let mut citizen = t.logged_in(Role::Citizen, None).await;
    let r = citizen.post_form("/receive", &[("id", &number)]).await;
    assert_eq!(r.status, StatusCode::OK, "a code, not a shortcut");
    let list = citizen.get("/receive/mine").await.text();
    assert!(!list.contains(&number), "{list}");
    prove(&t, &mut citizen, &number).await;
    assert_eq!(
        citizen.get(&format!("/receive/{number}")).await.status,
        StatusCode::OK
    );
}
