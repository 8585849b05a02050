//! Every payments route admits exactly the callers its access rule names.

use eposta_kernel::testing::{CALLERS, walk_role_matrix};

use super::app;

#[tokio::test]
async fn every_payments_route_admits_exactly_its_roles() {
    let t = app().await;
    let specs = eposta_payments::routes().specs().to_vec();
    let checked = walk_role_matrix(&t, &specs).await;
    assert_eq!(checked, specs.len() * CALLERS.len());
}
