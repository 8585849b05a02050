//! SQL for organisation members.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Exec;
use crate::db_run;
use crate::error::Error;

/// One organisation a person belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MembershipRow {
    pub organisation_id: Uuid,
    pub name: String,
    pub kind: String,
    pub role: String,
}

/// One member of an organisation, as the admin's page lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

/// The organisations `user` belongs to, by name.
pub async fn memberships(c: &mut impl Exec, user: Uuid) -> Result<Vec<MembershipRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, MembershipRow>(
        "SELECT m.organisation_id, o.name, o.kind, m.role FROM organisation_members m \
         JOIN organisations o ON o.id = m.organisation_id WHERE m.user_id = $1 ORDER BY o.name"
    )
    .bind(user)
    .fetch_all(&mut *c)
    .await)?)
}

pub async fn members(c: &mut impl Exec, organisation: Uuid) -> Result<Vec<MemberRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, MemberRow>(
        "SELECT u.id AS user_id, u.email, u.display_name, m.role, m.created_at \
         FROM organisation_members m JOIN users u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 ORDER BY u.email"
    )
    .bind(organisation)
    .fetch_all(&mut *c)
    .await)?)
}

/// Adds a member, or changes the role of one who is already there.
pub async fn upsert(
    c: &mut impl Exec,
    organisation: Uuid,
    user: Uuid,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO organisation_members (organisation_id, user_id, role, created_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (organisation_id, user_id) DO UPDATE SET role = excluded.role"
    )
    .bind(organisation)
    .bind(user)
    .bind(role)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// False when `user` was not a member.
pub async fn remove(c: &mut impl Exec, organisation: Uuid, user: Uuid) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "DELETE FROM organisation_members WHERE organisation_id = $1 AND user_id = $2"
    )
    .bind(organisation)
    .bind(user)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganisationRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

pub async fn by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<OrganisationRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, OrganisationRow>(
        "SELECT id, name, kind, created_at FROM organisations WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await)?)
}
