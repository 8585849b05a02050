//! The web console of agencies and businesses: a logged-in member sees the organisation they
//! act for (picked in a cookie when they belong to several), its API keys, its webhooks and
//! their deliveries. Members read; owners issue and revoke keys, register, rotate and delete
//! webhooks, and resend deliveries. Every rule lives in `apikeys` and `webhooks::service`;
//! these pages only call them.

mod pages;
mod webhooks;

use crate::error::Error;
use crate::organisations::{Membership, ORG_ANYONE, ORG_OWNERS, OrgRole};
use crate::web::error::PageError;
use crate::web::principal::SessionUser;
use crate::web::routes::{Access, Routes};

pub fn routes() -> Routes {
    const ANYONE: Access = Access::Member(ORG_ANYONE);
    const OWNERS: Access = Access::Member(ORG_OWNERS);
    Routes::new()
        .get("/console", ANYONE, pages::home)
        .post("/console/organisation", ANYONE, pages::switch)
        .post("/console/keys", OWNERS, pages::issue_key)
        .post("/console/keys/{id}/revoke", OWNERS, pages::revoke_key)
        .post("/console/webhooks", OWNERS, webhooks::register)
        .get("/console/webhooks/{id}", ANYONE, webhooks::show)
        .post("/console/webhooks/{id}/rotate", OWNERS, webhooks::rotate)
        .post("/console/webhooks/{id}/delete", OWNERS, webhooks::delete)
        .post("/console/deliveries/{id}/resend", OWNERS, webhooks::resend)
}

/// The organisation the person acts for; the route guard lets only members in.
fn membership(me: &SessionUser) -> Result<Membership, PageError> {
    me.organisation
        .clone()
        .ok_or_else(|| PageError::from(Error::Forbidden))
}

fn is_owner(m: &Membership) -> bool {
    m.role == OrgRole::Owner
}
