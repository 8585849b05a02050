//! SQL for post offices (and the one query on users that lists an office's staff).

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use super::domain::OfficeFields;
use super::domain::search_patterns;
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

impl OfficeRow {
    /// The office's data, without its id and times.
    pub fn fields(&self) -> OfficeFields {
        OfficeFields {
            code: self.code.clone(),
            postal_code: self.postal_code.clone(),
            name: self.name.clone(),
            municipality: self.municipality.clone(),
            address: self.address.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            opening_hours: self.opening_hours.clone(),
        }
    }
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

/// Inserts an office, or updates the one with the same code. Returns true when inserted.
pub async fn upsert(
    c: &mut impl Exec,
    f: &OfficeFields,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let done = upsert_many(c, std::slice::from_ref(f), now).await?;
    Ok(done.inserted == 1)
}

/// What an upsert did to a batch of offices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upserted {
    pub inserted: u64,
    pub updated: u64,
}

/// Rows per statement in [`upsert_many`]: 9 parameters each stays far below SQLite's limit
/// of 32,766 parameters and PostgreSQL's of 65,535.
pub const UPSERT_BATCH: usize = 500;

/// Inserts offices, or updates those whose code exists and whose data differ; an office
/// sent unchanged is not touched (its `updated_at` stays). The codes must be distinct
/// (PostgreSQL refuses to update one row twice in a statement).
pub async fn upsert_many(
    c: &mut impl Exec,
    offices: &[OfficeFields],
    now: DateTime<Utc>,
) -> Result<Upserted, Error> {
    let mut done = Upserted::default();
    for batch in offices.chunks(UPSERT_BATCH) {
        let values = (0..batch.len())
            .map(|i| {
                let p = 2 + i * 9;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, $1, $1)",
                    p,
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        // A new row comes back with the id we gave it, an updated one with its old id, and an
        // unchanged one not at all: that tells the three apart without a read per row.
        let sql = format!(
            "INSERT INTO offices (id, code, postal_code, name, municipality, address, latitude, \
             longitude, opening_hours, created_at, updated_at) VALUES {values} \
             ON CONFLICT (code) DO UPDATE SET postal_code = excluded.postal_code, \
             name = excluded.name, municipality = excluded.municipality, \
             address = excluded.address, latitude = excluded.latitude, \
             longitude = excluded.longitude, opening_hours = excluded.opening_hours, \
             updated_at = excluded.updated_at \
             WHERE offices.postal_code <> excluded.postal_code OR offices.name <> excluded.name \
             OR offices.municipality <> excluded.municipality \
             OR offices.address <> excluded.address \
             OR offices.latitude IS DISTINCT FROM excluded.latitude \
             OR offices.longitude IS DISTINCT FROM excluded.longitude \
             OR offices.opening_hours IS DISTINCT FROM excluded.opening_hours \
             RETURNING id"
        );
        let new_ids: Vec<Uuid> = batch.iter().map(|_| crate::ids::new_id()).collect();
        let returned: Vec<Uuid> = db_run!(c, |c| {
            let mut q = sqlx::query_scalar::<_, Uuid>(&sql).bind(now);
            for (f, id) in batch.iter().zip(&new_ids) {
                q = q
                    .bind(*id)
                    .bind(&f.code)
                    .bind(&f.postal_code)
                    .bind(&f.name)
                    .bind(&f.municipality)
                    .bind(&f.address)
                    .bind(f.latitude)
                    .bind(f.longitude)
                    .bind(&f.opening_hours);
            }
            q.fetch_all(&mut *c).await
        })?;
        let new: std::collections::HashSet<Uuid> = new_ids.into_iter().collect();
        let inserted = returned.iter().filter(|id| new.contains(id)).count() as u64;
        done.inserted += inserted;
        done.updated += returned.len() as u64 - inserted;
    }
    Ok(done)
}

/// Replaces the data of the office with `f.code`; false when there is none.
pub async fn update(
    c: &mut impl Exec,
    f: &OfficeFields,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE offices SET postal_code = $2, name = $3, municipality = $4, address = $5, \
         latitude = $6, longitude = $7, opening_hours = $8, updated_at = $9 WHERE code = $1"
    )
    .bind(&f.code)
    .bind(&f.postal_code)
    .bind(&f.name)
    .bind(&f.municipality)
    .bind(&f.address)
    .bind(f.latitude)
    .bind(f.longitude)
    .bind(&f.opening_hours)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// How many offices there are.
pub async fn count(c: &mut impl Exec) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM offices"
    )
    .fetch_one(&mut *c)
    .await)?)
}

/// Offices whose code, postal code, name or municipality contains `search` (in either script;
/// see [`search_patterns`]), by code.
pub async fn search(
    c: &mut impl Exec,
    search: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<OfficeRow>, Error> {
    let patterns = search_patterns(search);
    let filter = if patterns.is_empty() {
        String::new()
    } else {
        let any = (1..=patterns.len())
            .map(|i| {
                format!(
                    "LOWER(code) LIKE ${i} OR postal_code LIKE ${i} OR LOWER(name) LIKE ${i} \
                     OR LOWER(municipality) LIKE ${i}"
                )
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        format!("WHERE {any}")
    };
    let (l, o) = (patterns.len() + 1, patterns.len() + 2);
    let sql =
        format!("SELECT {COLUMNS} FROM offices {filter} ORDER BY code LIMIT ${l} OFFSET ${o}");
    Ok(db_run!(c, |c| {
        let mut q = sqlx::query_as::<_, OfficeRow>(&sql);
        for p in &patterns {
            q = q.bind(p);
        }
        q.bind(limit).bind(offset).fetch_all(&mut *c).await
    })?)
}

/// A member of an office's staff, as a manager sees them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
}

/// The clerks and managers of an office: managers first, then by e-mail.
pub async fn staff_of(c: &mut impl Exec, office: Uuid) -> Result<Vec<StaffRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, StaffRow>(
        "SELECT id, email, display_name, role, disabled FROM users \
         WHERE office_id = $1 AND role IN ('clerk', 'manager') \
         ORDER BY CASE role WHEN 'manager' THEN 0 ELSE 1 END, email"
    )
    .bind(office)
    .fetch_all(&mut *c)
    .await)?)
}
