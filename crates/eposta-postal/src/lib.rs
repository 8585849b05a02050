//! Postal items: UPU S10 identifiers allocated per service indicator, products and prices,
//! booking (citizens on the web, businesses through the API), labels, acceptance at the
//! counter, tracking events with UPU codes, delivery, pickup and redirect.

pub mod tracking;

use eposta_kernel::jobs::Registry;
use eposta_kernel::web::Routes;

/// Every route of the capability, with its access rules.
pub fn routes() -> Routes {
    Routes::new().merge(tracking::routes())
}

/// The capability's job kinds, added to the process's registry.
pub fn jobs(registry: Registry) -> Registry {
    registry
}
