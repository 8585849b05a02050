//! Organisation members: the accounts that act for an agency or business in the web console.
//! An admin adds an existing citizen's account by e-mail (as owner or member) and removes it;
//! a person may belong to several organisations and picks which one the console shows (see
//! docs/webhooks.md, "The console").

pub mod domain;
pub mod store;

use uuid::Uuid;

pub use domain::{Membership, ORG_ANYONE, ORG_OWNERS, OrgRole};

use crate::accounts::Role;
use crate::accounts::domain::Email;
use crate::accounts::store as account_store;
use crate::app::App;
use crate::audit::{self, Actor};
use crate::db::Exec;
use crate::error::Error;

/// The cookie that says which of a person's organisations the console shows.
pub const ORG_COOKIE: &str = "eposta_org";

/// Adds the account with this e-mail address to the organisation (or changes its role).
/// Only citizens' accounts may be members: staff accounts act for the post, never for a
/// customer. Returns the account's id.
pub async fn add_member(
    app: &App,
    actor: &Actor,
    organisation: Uuid,
    email: &str,
    role: &str,
) -> Result<Uuid, Error> {
    let email = Email::parse(email)?;
    let role = OrgRole::parse(role)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if store::by_id(&mut tx, organisation).await?.is_none() {
        return Err(Error::NotFound);
    }
    let user = account_store::user_by_email(&mut tx, email.as_str())
        .await?
        .ok_or_else(|| Error::invalid("email", "no account has this e-mail address"))?;
    if Role::parse(&user.role)? != Role::Citizen {
        return Err(Error::invalid(
            "email",
            "staff accounts cannot be members of an organisation",
        ));
    }
    store::upsert(&mut tx, organisation, user.id, role.as_str(), now).await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "organisation.member_added",
            subject: &format!("organisation:{organisation}"),
            office_id: None,
            details: serde_json::json!({ "user": user.id, "role": role.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(organisation = %organisation, user = %user.id, role = %role, "organisation member added");
    Ok(user.id)
}

pub async fn remove_member(
    app: &App,
    actor: &Actor,
    organisation: Uuid,
    user: Uuid,
) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::remove(&mut tx, organisation, user).await? {
        return Err(Error::NotFound);
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "organisation.member_removed",
            subject: &format!("organisation:{organisation}"),
            office_id: None,
            details: serde_json::json!({ "user": user }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(organisation = %organisation, user = %user, "organisation member removed");
    Ok(())
}

/// An organisation and its members, for the admin's page.
pub async fn with_members(
    app: &App,
    organisation: Uuid,
) -> Result<(store::OrganisationRow, Vec<store::MemberRow>), Error> {
    let mut conn = app.db.conn().await?;
    let org = store::by_id(&mut conn, organisation)
        .await?
        .ok_or(Error::NotFound)?;
    let members = store::members(&mut conn, organisation).await?;
    Ok((org, members))
}

/// Every organisation `user` belongs to, by name.
pub async fn memberships(c: &mut impl Exec, user: Uuid) -> Result<Vec<Membership>, Error> {
    store::memberships(c, user)
        .await?
        .into_iter()
        .map(|m| {
            Ok(Membership {
                role: OrgRole::parse(&m.role)?,
                organisation_id: m.organisation_id,
                name: m.name,
                kind: m.kind,
            })
        })
        .collect()
}

/// The organisation the console shows: the one the person picked (`selected`, from the
/// cookie) if they still belong to it, else the first by name; none for non-members.
pub fn current(memberships: Vec<Membership>, selected: Option<Uuid>) -> Option<Membership> {
    let picked = selected.and_then(|s| memberships.iter().position(|m| m.organisation_id == s));
    memberships.into_iter().nth(picked.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str) -> Membership {
        Membership {
            organisation_id: Uuid::new_v4(),
            name: name.into(),
            kind: "business".into(),
            role: OrgRole::Member,
        }
    }

    #[test]
    fn the_picked_organisation_wins_only_while_one_belongs_to_it() {
        let (a, b) = (m("A"), m("B"));
        let both = vec![a.clone(), b.clone()];
        assert_eq!(current(both.clone(), None), Some(a.clone()));
        assert_eq!(current(both.clone(), Some(b.organisation_id)), Some(b));
        assert_eq!(current(both, Some(Uuid::new_v4())), Some(a));
        assert_eq!(current(Vec::new(), Some(Uuid::new_v4())), None);
    }
}
