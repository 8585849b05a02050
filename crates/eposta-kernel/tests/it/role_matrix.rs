//! Walks every route of the role matrix with every kind of caller and checks that each is let
//! in exactly when the route's declared access says so.

use axum::body::Body;
use axum::http::StatusCode;
use eposta_kernel::apikeys;
use eposta_kernel::audit::Actor;
use eposta_kernel::organisations::{ORG_ANYONE, ORG_OWNERS};
use eposta_kernel::testing::{
    CALLERS, TestApp, concrete_path as concrete, principal_for, walk_role_matrix,
};
use eposta_kernel::web::Access;
use eposta_kernel::web::principal::{KeyHolder, Principal};
use eposta_kernel::web::routes::Decision;

#[tokio::test]
async fn every_route_admits_exactly_its_roles() {
    let t = TestApp::new().await;
    let specs = eposta_kernel::routes().specs().to_vec();
    assert!(
        specs.len() > 10,
        "the matrix should cover the kernel's routes"
    );
    let checked = walk_role_matrix(&t, &specs).await;
    assert!(checked >= (specs.len() - 1) * CALLERS.len(), "{checked}");
}

#[test]
fn access_rules_decide_as_documented() {
    use Decision::*;
    let rows: &[(Access, [Decision; 8])] = &[
        // anonymous, citizen, clerk, manager, admin, API key, member, owner
        (
            Access::Public,
            [Allow, Allow, Allow, Allow, Allow, Allow, Allow, Allow],
        ),
        (
            Access::User,
            [
                Unauthenticated,
                Allow,
                Allow,
                Allow,
                Allow,
                Unauthenticated,
                Allow,
                Allow,
            ],
        ),
        (
            Access::Citizen,
            [
                Unauthenticated,
                Allow,
                Forbidden,
                Forbidden,
                Forbidden,
                Unauthenticated,
                Allow,
                Allow,
            ],
        ),
        (
            Access::Staff(eposta_kernel::web::routes::COUNTER),
            [
                Unauthenticated,
                Forbidden,
                Allow,
                Allow,
                Forbidden,
                Unauthenticated,
                Forbidden,
                Forbidden,
            ],
        ),
        (
            Access::Staff(eposta_kernel::web::routes::ADMINS),
            [
                Unauthenticated,
                Forbidden,
                Forbidden,
                Forbidden,
                Allow,
                Unauthenticated,
                Forbidden,
                Forbidden,
            ],
        ),
        (
            Access::Scope("sms:send"),
            [
                Unauthenticated,
                Unauthenticated,
                Unauthenticated,
                Unauthenticated,
                Unauthenticated,
                Allow,
                Unauthenticated,
                Unauthenticated,
            ],
        ),
        (
            Access::AnyKey,
            [
                Unauthenticated,
                Unauthenticated,
                Unauthenticated,
                Unauthenticated,
                Unauthenticated,
                Allow,
                Unauthenticated,
                Unauthenticated,
            ],
        ),
        (
            Access::Member(ORG_ANYONE),
            [
                Unauthenticated,
                Forbidden,
                Forbidden,
                Forbidden,
                Forbidden,
                Unauthenticated,
                Allow,
                Allow,
            ],
        ),
        (
            Access::Member(ORG_OWNERS),
            [
                Unauthenticated,
                Forbidden,
                Forbidden,
                Forbidden,
                Forbidden,
                Unauthenticated,
                Forbidden,
                Allow,
            ],
        ),
    ];
    for (access, expected) in rows {
        for (caller, want) in CALLERS.iter().zip(expected) {
            assert_eq!(
                access.decide(&principal_for(caller)),
                *want,
                "{access:?} for {caller}"
            );
        }
    }
    let narrow = Principal::Key(KeyHolder {
        key_id: uuid::Uuid::nil(),
        organisation_id: uuid::Uuid::nil(),
        scopes: vec!["postal:book".into()],
    });
    assert_eq!(Access::Scope("sms:send").decide(&narrow), Forbidden);
    // Any key is any key, however narrow its scopes.
    assert_eq!(Access::AnyKey.decide(&narrow), Allow);
}

/// A key with one scope walks the API routes: let into what it may call, 403 elsewhere.
#[tokio::test]
async fn a_narrow_key_is_refused_other_scopes() {
    // A scoped route of a capability-to-be, so that there is something to be refused.
    let scoped = || {
        eposta_kernel::web::Routes::new().post(
            "/api/v1/test/scoped",
            Access::Scope("sms:send"),
            || async { "sent" },
        )
    };
    let t = TestApp::builder().routes(scoped()).build().await;
    let org = apikeys::create_organisation(&t.app, &Actor::System, "Narrow agency", "agency")
        .await
        .unwrap();
    let key = apikeys::issue(
        &t.app,
        &Actor::System,
        org,
        "narrow",
        &["postal:track".to_owned()],
    )
    .await
    .unwrap();
    let narrow = Principal::Key(KeyHolder {
        key_id: uuid::Uuid::nil(),
        organisation_id: uuid::Uuid::nil(),
        scopes: vec!["postal:track".into()],
    });
    let mut client = t.api(&key.token);
    let specs = eposta_kernel::routes().merge(scoped()).specs().to_vec();
    let api: Vec<_> = specs
        .iter()
        .filter(|s| s.path.starts_with("/api/"))
        .collect();
    assert!(
        api.iter().any(|s| s.access == Access::AnyKey),
        "the kernel has an any-key route (/api/v1/me)"
    );
    let mut refused = 0;
    for spec in api {
        let r = client
            .send(
                spec.method.clone(),
                &concrete(spec.path),
                &[("content-type", "application/json")],
                Body::from("{}"),
            )
            .await;
        match spec.access.decide(&narrow) {
            Decision::Allow => assert!(
                !matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
                "{} {}: {}",
                spec.method,
                spec.path,
                r.status
            ),
            Decision::Forbidden => {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{} {}",
                    spec.method,
                    spec.path
                );
                assert_eq!(r.json()["error"]["code"], "forbidden");
                refused += 1;
            }
            Decision::Unauthenticated => assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{} {}",
                spec.method,
                spec.path
            ),
        }
    }
    assert!(refused >= 1);
}
