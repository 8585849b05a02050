//! SQL for organisations and their API keys.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Exec;
use crate::db_run;
use crate::error::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub organisation: String,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const KEY_COLUMNS: &str = "k.id, k.organisation_id, o.name AS organisation, k.name, k.prefix, k.scopes, \
                           k.created_at, k.last_used_at, k.revoked_at";

#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn insert(
    c: &mut impl Exec,
    id: Uuid,
    organisation: Uuid,
    name: &str,
    prefix: &str,
    hash: &str,
    scopes: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO api_keys (id, organisation_id, name, prefix, key_hash, scopes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(id)
    .bind(organisation)
    .bind(name)
    .bind(prefix)
    .bind(hash)
    .bind(scopes)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn live_by_hash(c: &mut impl Exec, hash: &str) -> Result<Option<KeyRow>, Error> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN organisations o ON o.id = k.organisation_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, KeyRow>(&sql)
        .bind(hash)
        .fetch_optional(&mut *c)
        .await)?)
}

pub async fn live_by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<KeyRow>, Error> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN organisations o ON o.id = k.organisation_id \
         WHERE k.id = $1 AND k.revoked_at IS NULL"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, KeyRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

pub async fn list(c: &mut impl Exec) -> Result<Vec<KeyRow>, Error> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN organisations o ON o.id = k.organisation_id \
         ORDER BY k.created_at DESC"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, KeyRow>(&sql)
        .fetch_all(&mut *c)
        .await)?)
}

pub async fn list_for(c: &mut impl Exec, organisation: Uuid) -> Result<Vec<KeyRow>, Error> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN organisations o ON o.id = k.organisation_id \
         WHERE k.organisation_id = $1 ORDER BY k.created_at DESC"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, KeyRow>(&sql)
        .bind(organisation)
        .fetch_all(&mut *c)
        .await)?)
}

pub async fn touch(c: &mut impl Exec, id: Uuid, now: DateTime<Utc>) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Returns false when there is no such live key.
pub async fn revoke(c: &mut impl Exec, id: Uuid, now: DateTime<Utc>) -> Result<bool, Error> {
    let r = db_run!(c, |c| sqlx::query(
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(r == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganisationRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_organisation(
    c: &mut impl Exec,
    id: Uuid,
    name: &str,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO organisations (id, name, kind, created_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(id)
    .bind(name)
    .bind(kind)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn organisations(c: &mut impl Exec) -> Result<Vec<OrganisationRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, OrganisationRow>(
        "SELECT id, name, kind, created_at FROM organisations ORDER BY name"
    )
    .fetch_all(&mut *c)
    .await)?)
}
