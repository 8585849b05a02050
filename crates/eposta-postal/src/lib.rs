//! Postal items: UPU S10 identifiers allocated per service indicator, products and prices,
//! booking (citizens on the web, businesses through the API), labels, acceptance at the
//! counter, tracking events with UPU codes, delivery, pickup and redirect.

pub mod allocation;
pub mod booking;
pub mod counter;
pub mod domain;
pub mod labels;
pub mod pickup;
pub mod receiving;
pub mod tariff;
pub mod tracking;
pub mod webhooks;

use eposta_kernel::Error;
use eposta_kernel::config::Config;
use eposta_kernel::jobs::Registry;
use eposta_kernel::web::Routes;

/// Checks the capability's settings (the pickup days, the tariff file). `eposta serve` calls it before
/// anything else, so a bad tariff stops start-up with a message naming the problem.
pub fn check_config(config: &Config) -> Result<(), Error> {
    let days = config.postal_pickup_days;
    if !(1..=receiving::domain::MAX_PICKUP_DAYS).contains(&days) {
        return Err(Error::Config(format!(
            "EPOSTA_POSTAL_PICKUP_DAYS must be from 1 to {} days, not {days}",
            receiving::domain::MAX_PICKUP_DAYS
        )));
    }
    tariff::Tariff::configured(config).map(|_| ())
}

/// Every route of the capability, with its access rules.
pub fn routes() -> Routes {
    Routes::new()
        .merge(booking::pages::routes())
        .merge(booking::api::routes())
        .merge(counter::pages::routes())
        .merge(counter::handover::routes())
        .merge(pickup::pages::routes())
        .merge(tracking::routes())
        .merge(receiving::routes())
}

/// The capability's job kinds, added to the process's registry.
pub fn jobs(registry: Registry) -> Registry {
    registry.register::<receiving::notices::SendNotices>()
}
