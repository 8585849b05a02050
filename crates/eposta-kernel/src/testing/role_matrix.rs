//! The role matrix walk: every route, every kind of caller, the status its access rule
//! promises.

use axum::body::Body;
use axum::http::StatusCode;

use super::{Client, PASSWORD, TestApp};
use crate::accounts::Role;
use crate::apikeys;
use crate::audit::Actor;
use crate::organisations::{self, Membership, OrgRole};
use crate::web::RouteSpec;
use crate::web::principal::{KeyHolder, Principal, SessionUser};
use crate::web::routes::Decision;

/// A concrete path for a route pattern: parameters become values that exist nowhere.
pub fn concrete_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "00000000-0000-0000-0000-000000000000"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every kind of caller the matrix walk tries, in order: `apikey` is a key with every scope;
/// `member` and `owner` are citizens who belong to an organisation with that role.
pub const CALLERS: &[&str] = &[
    "anonymous",
    "citizen",
    "clerk",
    "manager",
    "admin",
    "apikey",
    "member",
    "owner",
];

/// The principal each caller of [`CALLERS`] stands for.
pub fn principal_for(caller: &str) -> Principal {
    let user = |role, organisation: Option<OrgRole>| {
        Principal::User(SessionUser {
            id: uuid::Uuid::nil(),
            email: String::new(),
            display_name: String::new(),
            role,
            office_id: None,
            session_id: uuid::Uuid::nil(),
            organisation: organisation.map(|role| Membership {
                organisation_id: uuid::Uuid::nil(),
                name: String::new(),
                kind: "business".into(),
                role,
            }),
        })
    };
    match caller {
        "anonymous" => Principal::Anonymous,
        "citizen" => user(Role::Citizen, None),
        "clerk" => user(Role::Clerk, None),
        "manager" => user(Role::Manager, None),
        "admin" => user(Role::Admin, None),
        "member" => user(Role::Citizen, Some(OrgRole::Member)),
        "owner" => user(Role::Citizen, Some(OrgRole::Owner)),
        _ => Principal::Key(KeyHolder {
            key_id: uuid::Uuid::nil(),
            organisation_id: uuid::Uuid::nil(),
            scopes: apikeys::SCOPES
                .iter()
                .map(|(s, _)| (*s).to_owned())
                .collect(),
        }),
    }
}

/// Walks every route in `specs` with every kind of caller ([`CALLERS`]: anonymous, citizen,
/// clerk and manager of office 11101, admin, an API key with every scope, a member and an
/// owner of a business) and asserts that each is let
/// in exactly when the route's `Access` says so: 401 for the API and a redirect to the login
/// page for pages when unauthenticated, 403 when forbidden, never a 5xx. Returns how many
/// requests it checked. Every capability calls it with its routes.
pub async fn walk_role_matrix(t: &TestApp, specs: &[RouteSpec]) -> usize {
    t.office("11101", "Београд 1").await;
    let mut callers: Vec<(&str, Client)> = vec![("anonymous", t.client())];
    for (name, role, office) in [
        ("citizen", Role::Citizen, None),
        ("clerk", Role::Clerk, Some("11101")),
        ("manager", Role::Manager, Some("11101")),
        ("admin", Role::Admin, None),
    ] {
        let email = t.user(role, office).await;
        let mut c = t.client();
        c.login(&email, PASSWORD).await;
        callers.push((name, c));
    }
    let org = apikeys::create_organisation(&t.app, &Actor::System, "Test agency", "agency")
        .await
        .expect("set-up");
    let all_scopes: Vec<String> = apikeys::SCOPES
        .iter()
        .map(|(s, _)| (*s).to_owned())
        .collect();
    let key = apikeys::issue(&t.app, &Actor::System, org, "matrix", &all_scopes)
        .await
        .expect("set-up");
    callers.push(("apikey", t.api(&key.token)));
    let business =
        apikeys::create_organisation(&t.app, &Actor::System, "Test business", "business")
            .await
            .expect("set-up");
    for role in ["member", "owner"] {
        let email = t.user(Role::Citizen, None).await;
        organisations::add_member(&t.app, &Actor::System, business, &email, role)
            .await
            .expect("set-up");
        let mut c = t.client();
        c.login(&email, PASSWORD).await;
        callers.push((role, c));
    }
    debug_assert_eq!(callers.iter().map(|(n, _)| *n).collect::<Vec<_>>(), CALLERS);

    let mut checked = 0;
    for spec in specs {
        // Logging out ends the session the next checks need; it is covered in accounts.rs.
        if spec.path == "/logout" {
            continue;
        }
        for (name, client) in callers.iter_mut() {
            let decision = spec.access.decide(&principal_for(name));
            let path = concrete_path(spec.path);
            let r = client
                .send(
                    spec.method.clone(),
                    &path,
                    &[("content-type", "application/x-www-form-urlencoded")],
                    Body::from(format!(
                        "csrf={}",
                        client.cookie("eposta_csrf").unwrap_or("")
                    )),
                )
                .await;
            let api = spec.path.starts_with("/api/");
            match decision {
                Decision::Allow => assert!(
                    !(matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                        || r.status == StatusCode::SEE_OTHER
                            && r.location().is_some_and(|l| l.starts_with("/login?"))),
                    "{name} should be let into {} {}: got {}",
                    spec.method,
                    spec.path,
                    r.status
                ),
                Decision::Unauthenticated if api => {
                    assert_eq!(
                        r.status,
                        StatusCode::UNAUTHORIZED,
                        "{name} {} {}",
                        spec.method,
                        spec.path
                    )
                }
                Decision::Unauthenticated => {
                    assert_eq!(
                        r.status,
                        StatusCode::SEE_OTHER,
                        "{name} {} {}",
                        spec.method,
                        spec.path
                    );
                    assert!(
                        r.location().is_some_and(|l| l.starts_with("/login?next=")),
                        "{name} {}",
                        spec.path
                    );
                }
                Decision::Forbidden => {
                    assert_eq!(
                        r.status,
                        StatusCode::FORBIDDEN,
                        "{name} {} {}",
                        spec.method,
                        spec.path
                    )
                }
            }
            assert!(
                !r.status.is_server_error(),
                "{name} {} {}: {}",
                spec.method,
                spec.path,
                r.status
            );
            checked += 1;
        }
    }
    checked
}
