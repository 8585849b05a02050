//! The admin's pages of reconciliation.

use eposta_kernel::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
}
