//! SQL for accounts, sessions, one-time e-mail tokens and login failures.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Exec;
use crate::db_run;
use crate::error::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: String,
    pub office_id: Option<Uuid>,
    pub lang: String,
    pub email_verified: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, email, password_hash, display_name, role, office_id, lang, \
                            email_verified, disabled, created_at";

pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub office_id: Option<Uuid>,
    pub lang: &'a str,
    pub email_verified: bool,
    pub now: DateTime<Utc>,
}

pub async fn insert_user(c: &mut impl Exec, u: &NewUser<'_>) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO users (id, email, password_hash, display_name, role, office_id, lang, \
         email_verified, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
    )
    .bind(u.id)
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.display_name)
    .bind(u.role)
    .bind(u.office_id)
    .bind(u.lang)
    .bind(u.email_verified)
    .bind(u.now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn user_by_email(c: &mut impl Exec, email: &str) -> Result<Option<UserRow>, Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, UserRow>(&sql)
        .bind(email)
        .fetch_optional(&mut *c)
        .await)?)
}

pub async fn user_by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<UserRow>, Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, UserRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Users for the admin console, newest first, optionally filtered by e-mail or name.
pub async fn list_users(
    c: &mut impl Exec,
    search: &str,
    limit: i64,
) -> Result<Vec<UserRow>, Error> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users \
         WHERE ($1 = '' OR LOWER(email) LIKE $2 OR LOWER(display_name) LIKE $2) \
         ORDER BY created_at DESC LIMIT $3"
    );
    // Case-insensitive on both databases (PostgreSQL's LIKE is not); SQLite's LOWER folds
    // ASCII only, so Cyrillic names match there in the case typed. Wildcards and
    // PostgreSQL's escape character are dropped from the search: it is a plain substring.
    let pattern = format!("%{}%", search.to_lowercase().replace(['%', '_', '\\'], ""));
    Ok(db_run!(c, |c| sqlx::query_as::<_, UserRow>(&sql)
        .bind(search)
        .bind(&pattern)
        .bind(limit)
        .fetch_all(&mut *c)
        .await)?)
}

pub async fn set_password(
    c: &mut impl Exec,
    user: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(user)
    .bind(hash)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_lang(
    c: &mut impl Exec,
    user: Uuid,
    lang: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE users SET lang = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(user)
    .bind(lang)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_verified(c: &mut impl Exec, user: Uuid, now: DateTime<Utc>) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE users SET email_verified = TRUE, updated_at = $2 WHERE id = $1"
    )
    .bind(user)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_disabled(
    c: &mut impl Exec,
    user: Uuid,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(user)
    .bind(disabled)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

// --- sessions ---

/// What a request learns from its session cookie.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub office_id: Option<Uuid>,
    pub lang: String,
}

pub async fn insert_session(
    c: &mut impl Exec,
    id: Uuid,
    token_hash: &str,
    user: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| {
        sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(id)
    .bind(token_hash)
    .bind(user)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn session_by_token(
    c: &mut impl Exec,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRow>, Error> {
    Ok(db_run!(c, |c| {
        sqlx::query_as::<_, SessionRow>(
        "SELECT s.id AS session_id, u.id AS user_id, u.email, u.display_name, u.role, u.office_id, u.lang \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *c)
    .await
    })?)
}

pub async fn delete_session(c: &mut impl Exec, token_hash: &str) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "DELETE FROM sessions WHERE token_hash = $1"
    )
    .bind(token_hash)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_user_sessions(c: &mut impl Exec, user: Uuid) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1"
    )
    .bind(user)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

// --- one-time e-mail tokens ---

pub async fn insert_email_token(
    c: &mut impl Exec,
    token_hash: &str,
    user: Uuid,
    purpose: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| {
        sqlx::query(
        "INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(token_hash)
    .bind(user)
    .bind(purpose)
    .bind(expires_at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Marks an unused, unexpired token used and returns its user; `None` when there is no such
/// token (the caller cannot tell why, and neither can an attacker).
pub async fn use_email_token(
    c: &mut impl Exec,
    token_hash: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, Uuid>(
        "UPDATE email_tokens SET used_at = $3 \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING user_id"
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(&mut *c)
    .await)?)
}

/// Whether a token is still usable, without using it (to show the reset form).
pub async fn email_token_valid(
    c: &mut impl Exec,
    token_hash: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let n: i64 = db_run!(c, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM email_tokens WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3"
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_one(&mut *c)
    .await)?;
    Ok(n > 0)
}

// --- login failures ---

pub async fn record_login_failure(
    c: &mut impl Exec,
    account_key: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO login_failures (account_key, address, at) VALUES ($1, $2, $3)"
    )
    .bind(account_key)
    .bind(address)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Failures since `since` for this account and for this address.
pub async fn login_failures(
    c: &mut impl Exec,
    account_key: &str,
    address: &str,
    since: DateTime<Utc>,
) -> Result<(i64, i64), Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, (i64, i64)>(
        "SELECT \
           (SELECT COUNT(*) FROM login_failures WHERE account_key = $1 AND at > $3), \
           (SELECT COUNT(*) FROM login_failures WHERE address = $2 AND at > $3)"
    )
    .bind(account_key)
    .bind(address)
    .bind(since)
    .fetch_one(&mut *c)
    .await)?)
}

pub async fn clear_login_failures(c: &mut impl Exec, account_key: &str) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "DELETE FROM login_failures WHERE account_key = $1"
    )
    .bind(account_key)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
