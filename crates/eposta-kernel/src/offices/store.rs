//! SQL for post offices.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Exec;
use crate::db_run;
use crate::error::Error;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct OfficeRow {
    pub id: Uuid,
    pub code: String,
    pub postal_code: String,
    pub name: String,
    pub municipality: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub opening_hours: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, code, postal_code, name, municipality, address, latitude, longitude, \
                       opening_hours, created_at, updated_at";

pub async fn by_code(c: &mut impl Exec, code: &str) -> Result<Option<OfficeRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM offices WHERE code = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, OfficeRow>(&sql)
        .bind(code)
        .fetch_optional(&mut *c)
        .await)?)
}

pub async fn by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<OfficeRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM offices WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, OfficeRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// The fields of an office as imported or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeFields {
    pub code: String,
    pub postal_code: String,
    pub name: String,
    pub municipality: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub opening_hours: Option<String>,
}

/// Inserts an office, or updates the one with the same code. Returns true when inserted.
pub async fn upsert(
    c: &mut impl Exec,
    f: &OfficeFields,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let inserted: bool = db_run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO offices (id, code, postal_code, name, municipality, address, latitude, longitude, \
         opening_hours, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (code) DO UPDATE SET postal_code = excluded.postal_code, name = excluded.name, \
         municipality = excluded.municipality, address = excluded.address, latitude = excluded.latitude, \
         longitude = excluded.longitude, opening_hours = excluded.opening_hours, updated_at = excluded.updated_at \
         RETURNING created_at = updated_at"
    )
    .bind(crate::ids::new_id())
    .bind(&f.code)
    .bind(&f.postal_code)
    .bind(&f.name)
    .bind(&f.municipality)
    .bind(&f.address)
    .bind(f.latitude)
    .bind(f.longitude)
    .bind(&f.opening_hours)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    })?;
    Ok(inserted)
}

/// Offices whose code, postal code, name or municipality contains `search`, by code.
pub async fn search(
    c: &mut impl Exec,
    search: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<OfficeRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM offices WHERE ($1 = '' OR LOWER(code) LIKE $2 OR postal_code LIKE $2 \
         OR LOWER(name) LIKE $2 OR LOWER(municipality) LIKE $2) ORDER BY code LIMIT $3 OFFSET $4"
    );
    let pattern = format!("%{}%", search.trim().to_lowercase().replace(['%', '_'], ""));
    Ok(db_run!(c, |c| sqlx::query_as::<_, OfficeRow>(&sql)
        .bind(search.trim())
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *c)
        .await)?)
}
