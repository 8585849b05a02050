//! SQL for citizens' saved payees.

use eposta_kernel::db::Exec;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use crate::model::SavedPayee;

const COLUMNS: &str =
    "id, user_id, name, address, account, payment_code, reference, purpose, created_at";

/// Saves a payee; false when the user has one with the same account and name already.
pub async fn insert(c: &mut impl Exec, p: &SavedPayee) -> Result<bool, Error> {
    let sql = format!(
        "INSERT INTO saved_payees ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (user_id, account, name) DO NOTHING"
    );
    let n = db_run!(c, |c| sqlx::query(&sql)
        .bind(p.id)
        .bind(p.user_id)
        .bind(&p.name)
        .bind(&p.address)
        .bind(&p.account)
        .bind(&p.payment_code)
        .bind(&p.reference)
        .bind(&p.purpose)
        .bind(p.created_at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A user's payees, by name.
pub async fn of_user(c: &mut impl Exec, user: Uuid) -> Result<Vec<SavedPayee>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM saved_payees WHERE user_id = $1 ORDER BY name, id");
    Ok(db_run!(c, |c| sqlx::query_as::<_, SavedPayee>(&sql)
        .bind(user)
        .fetch_all(&mut *c)
        .await)?)
}

/// One of a user's payees; another user's is none.
pub async fn get(c: &mut impl Exec, user: Uuid, id: Uuid) -> Result<Option<SavedPayee>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM saved_payees WHERE id = $1 AND user_id = $2");
    Ok(db_run!(c, |c| sqlx::query_as::<_, SavedPayee>(&sql)
        .bind(id)
        .bind(user)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Deletes one of a user's payees; false if there was none.
pub async fn delete(c: &mut impl Exec, user: Uuid, id: Uuid) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "DELETE FROM saved_payees WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
