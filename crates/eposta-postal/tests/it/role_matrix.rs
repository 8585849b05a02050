//! Every postal route admits exactly the callers its access rule names.

use eposta_kernel::testing::{CALLERS, TestApp, walk_role_matrix};

#[tokio::test]
async fn every_postal_route_admits_exactly_its_roles() {
    let t = TestApp::builder()
        .routes(eposta_postal::routes())
        .jobs(eposta_postal::jobs)
        .build()
        .await;
    let specs = eposta_postal::routes().specs().to_vec();
    let checked = walk_role_matrix(&t, &specs).await;
    assert_eq!(
        checked,
        specs.iter().filter(|s| s.path != "/logout").count() * CALLERS.len()
    );
}
