//! Account use cases: register, confirm, log in and out, reset a password, change language,
//! create staff, list, disable and enable accounts. The only place with transactions and rules for accounts; the pages, the API
//! and the CLI all call these functions.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::domain::{Email, Role, check_password};
use super::{password, store};
use crate::app::App;
use crate::audit::{self, Actor};
use crate::error::Error;
use crate::i18n::{Lang, Tr};
use crate::ids;
use crate::notify::{self, Channel, Message};

/// Failed logins per account in the window before further attempts are refused.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins per client address in the window.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
const CONFIRM_VALID: Duration = Duration::hours(48);
const RESET_VALID: Duration = Duration::hours(1);

fn session_lifetime(role: Role) -> Duration {
    if role.is_staff() {
        Duration::hours(12)
    } else {
        Duration::days(7)
    }
}

/// A new citizen's form.
pub struct Registration {
    pub email: String,
    pub password: SecretString,
    pub display_name: String,
    pub lang: Lang,
}

/// Registers a citizen and e-mails a confirmation link. Registering an address that already
/// has an account looks the same to the caller; the owner gets an e-mail saying so instead.
pub async fn register_citizen(app: &App, r: Registration) -> Result<(), Error> {
    let email = Email::parse(&r.email)?;
    check_password(r.password.expose_secret())?;
    let name = r.display_name.trim();
    if name.chars().count() > 200 {
        return Err(Error::invalid(
            "display_name",
            "must be at most 200 characters",
        ));
    }
    let hash = password::hash(r.password).await?;
    let now = app.now();
    let tr = Tr::new(r.lang);
    let mut tx = app.db.begin().await?;
    if let Some(existing) = store::user_by_email(&mut tx, email.as_str()).await? {
        let tr = Tr::new(Lang::parse(&existing.lang).unwrap_or_default());
        let msg = Message {
            channel: Channel::Email,
            recipient: email.to_string(),
            subject: tr.t("mail.exists.subject").to_owned(),
            body: tr.f(
                "mail.exists.body",
                &[("url", &format!("{}/password-reset", app.config.public_url))],
            ),
        };
        notify::queue(app, &mut tx, now, &msg).await?;
        tx.commit().await?;
        return Ok(());
    }
    let id = ids::new_id();
    store::insert_user(
        &mut tx,
        &store::NewUser {
            id,
            email: email.as_str(),
            password_hash: &hash,
            display_name: name,
            role: Role::Citizen.as_str(),
            office_id: None,
            lang: r.lang.code(),
            email_verified: false,
            now,
        },
    )
    .await?;
    let token = ids::random_token();
    store::insert_email_token(
        &mut tx,
        &ids::token_hash(&token),
        id,
        "confirm",
        now + CONFIRM_VALID,
    )
    .await?;
    let msg = Message {
        channel: Channel::Email,
        recipient: email.to_string(),
        subject: tr.t("mail.confirm.subject").to_owned(),
        body: tr.f(
            "mail.confirm.body",
            &[(
                "url",
                &format!("{}/confirm-email?token={token}", app.config.public_url),
            )],
        ),
    };
    notify::queue(app, &mut tx, now, &msg).await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(id),
            action: "account.registered",
            subject: &format!("user:{id}"),
            office_id: None,
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %id, "citizen registered");
    Ok(())
}

/// Confirms an e-mail address with the token from the link.
pub async fn confirm_email(app: &App, token: &str) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let user = store::use_email_token(&mut tx, &ids::token_hash(token), "confirm", now)
        .await?
        .ok_or_else(|| Error::invalid("token", "the link is invalid or has expired"))?;
    store::set_verified(&mut tx, user, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A successful login: the session token for the cookie, and who logged in.
#[derive(Debug)]
pub struct LoggedIn {
    pub token: String,
    pub user_id: Uuid,
    pub role: Role,
    pub lang: Lang,
    pub max_age: Duration,
}

/// Why a login failed, as much as may be told.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    /// Wrong e-mail or password; which one is never said.
    BadCredentials,
    /// The password was right but the address is not confirmed yet.
    Unconfirmed,
    Throttled,
}

pub async fn login(
    app: &App,
    email: &str,
    password_input: SecretString,
    address: &str,
) -> Result<Result<LoggedIn, LoginError>, Error> {
    let now = app.now();
    let normalised = email.trim().to_lowercase();
    let account_key = app.keyed_hash("login", &normalised);
    let mut conn = app.db.conn().await?;
    let (per_account, per_address) =
        store::login_failures(&mut conn, &account_key, address, now - THROTTLE_WINDOW).await?;
    if per_account >= MAX_FAILURES_PER_ACCOUNT || per_address >= MAX_FAILURES_PER_ADDRESS {
        tracing::warn!(
            failures_account = per_account,
            failures_address = per_address,
            "login throttled"
        );
        return Ok(Err(LoginError::Throttled));
    }
    let user = store::user_by_email(&mut conn, &normalised).await?;
    drop(conn);
    let (hash, user) = match user {
        Some(u) if !u.disabled => (u.password_hash.clone(), Some(u)),
        _ => (password::DUMMY_HASH.clone(), None),
    };
    let ok = password::verify(password_input, hash).await?;
    let mut tx = app.db.begin().await?;
    let Some(user) = user.filter(|_| ok) else {
        store::record_login_failure(&mut tx, &account_key, address, now).await?;
        tx.commit().await?;
        return Ok(Err(LoginError::BadCredentials));
    };
    store::clear_login_failures(&mut tx, &account_key).await?;
    let role = Role::parse(&user.role)?;
    if role == Role::Citizen && !user.email_verified {
        tx.commit().await?;
        return Ok(Err(LoginError::Unconfirmed));
    }
    let token = ids::random_token();
    let max_age = session_lifetime(role);
    store::insert_session(
        &mut tx,
        ids::new_id(),
        &ids::token_hash(&token),
        user.id,
        now,
        now + max_age,
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(user.id),
            action: "session.login",
            subject: &format!("user:{}", user.id),
            office_id: user.office_id,
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, role = %role, "logged in");
    Ok(Ok(LoggedIn {
        token,
        user_id: user.id,
        role,
        lang: Lang::parse(&user.lang).unwrap_or_default(),
        max_age,
    }))
}

pub async fn logout(app: &App, token: &str) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    store::delete_session(&mut tx, &ids::token_hash(token)).await?;
    tx.commit().await
}

/// E-mails a reset link if the address has an account; says nothing either way.
pub async fn request_password_reset(app: &App, email: &str) -> Result<(), Error> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let Some(user) = store::user_by_email(&mut tx, email.as_str()).await? else {
        return Ok(());
    };
    if user.disabled {
        return Ok(());
    }
    let token = ids::random_token();
    store::insert_email_token(
        &mut tx,
        &ids::token_hash(&token),
        user.id,
        "reset",
        now + RESET_VALID,
    )
    .await?;
    let tr = Tr::new(Lang::parse(&user.lang).unwrap_or_default());
    let msg = Message {
        channel: Channel::Email,
        recipient: user.email.clone(),
        subject: tr.t("mail.reset.subject").to_owned(),
        body: tr.f(
            "mail.reset.body",
            &[(
                "url",
                &format!("{}/password-reset/{token}", app.config.public_url),
            )],
        ),
    };
    notify::queue(app, &mut tx, now, &msg).await?;
    tx.commit().await
}

pub async fn reset_token_valid(app: &App, token: &str) -> Result<bool, Error> {
    let mut conn = app.db.conn().await?;
    store::email_token_valid(&mut conn, &ids::token_hash(token), "reset", app.now()).await
}

/// Sets a new password with a reset token, confirms the address (the link proved it) and
/// ends every session of the account.
pub async fn reset_password(
    app: &App,
    token: &str,
    new_password: SecretString,
) -> Result<(), Error> {
    check_password(new_password.expose_secret())?;
    let hash = password::hash(new_password).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let user = store::use_email_token(&mut tx, &ids::token_hash(token), "reset", now)
        .await?
        .ok_or_else(|| Error::invalid("token", "the link is invalid or has expired"))?;
    store::set_password(&mut tx, user, &hash, now).await?;
    store::set_verified(&mut tx, user, now).await?;
    store::delete_user_sessions(&mut tx, user).await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(user),
            action: "account.password_reset",
            subject: &format!("user:{user}"),
            office_id: None,
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await
}

pub async fn set_language(app: &App, user: Uuid, lang: Lang) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    store::set_lang(&mut tx, user, lang.code(), app.now()).await?;
    tx.commit().await
}

/// A staff member or admin (from the CLI or the admin console).
pub struct NewStaff {
    pub email: String,
    pub password: SecretString,
    pub display_name: String,
    pub role: Role,
    /// The office code; required for clerks and managers, refused for others.
    pub office_code: Option<String>,
}

pub async fn create_user(app: &App, actor: &Actor, n: NewStaff) -> Result<Uuid, Error> {
    let email = Email::parse(&n.email)?;
    if n.display_name.trim().chars().count() > 200 {
        return Err(Error::invalid(
            "display_name",
            "must be at most 200 characters",
        ));
    }
    check_password(n.password.expose_secret())?;
    let hash = password::hash(n.password).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let office_id = match (
        n.role.needs_office(),
        n.office_code.as_deref().map(str::trim),
    ) {
        (true, Some(code)) if !code.is_empty() => Some(
            crate::offices::store::by_code(&mut tx, code)
                .await?
                .ok_or_else(|| Error::invalid("office", "no post office has this code"))?
                .id,
        ),
        (true, _) => {
            return Err(Error::invalid(
                "office",
                "clerks and managers belong to a post office",
            ));
        }
        (false, Some(code)) if !code.is_empty() => {
            return Err(Error::invalid(
                "office",
                "only clerks and managers belong to a post office",
            ));
        }
        (false, _) => None,
    };
    let id = ids::new_id();
    store::insert_user(
        &mut tx,
        &store::NewUser {
            id,
            email: email.as_str(),
            password_hash: &hash,
            display_name: n.display_name.trim(),
            role: n.role.as_str(),
            office_id,
            lang: Lang::default().code(),
            email_verified: true,
            now,
        },
    )
    .await
    .map_err(|e| match e {
        Error::Conflict(_) => Error::invalid("email", "an account with this e-mail already exists"),
        e => e,
    })?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "account.created",
            subject: &format!("user:{id}"),
            office_id,
            details: serde_json::json!({ "role": n.role.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %id, role = %n.role, "account created");
    Ok(id)
}

/// An account as the admin console lists it: no password hash, the office by its code.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub office_code: Option<String>,
    pub confirmed: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// Accounts newest first, those whose e-mail or name contains `search` when it is not empty.
pub async fn list_users(app: &App, search: &str, limit: i64) -> Result<Vec<UserSummary>, Error> {
    let mut conn = app.db.conn().await?;
    let rows = store::list_users(&mut conn, search.trim(), limit).await?;
    // Staff of a page of accounts work at a handful of offices; look each up once.
    let mut codes: HashMap<Uuid, String> = HashMap::new();
    for office in rows.iter().filter_map(|r| r.office_id) {
        if !codes.contains_key(&office)
            && let Some(o) = crate::offices::store::by_id(&mut conn, office).await?
        {
            codes.insert(office, o.code);
        }
    }
    rows.into_iter()
        .map(|r| {
            Ok(UserSummary {
                role: Role::parse(&r.role)?,
                office_code: r.office_id.and_then(|o| codes.get(&o).cloned()),
                id: r.id,
                email: r.email,
                display_name: r.display_name,
                confirmed: r.email_verified,
                disabled: r.disabled,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// Disables or enables an account, on an admin's word. Disabling ends every session of the
/// account in the same transaction, so the person is out at their next request. An admin
/// cannot disable their own account: that is how a console locks out its last admin.
/// Asking for the state an account already has changes and records nothing.
pub async fn set_disabled(app: &App, admin: Uuid, user: Uuid, disabled: bool) -> Result<(), Error> {
    if disabled && admin == user {
        return Err(Error::invalid(
            "user",
            "an admin cannot disable their own account",
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let by = store::user_by_id(&mut tx, admin)
        .await?
        .ok_or(Error::Forbidden)?;
    if by.disabled || Role::parse(&by.role)? != Role::Admin {
        return Err(Error::Forbidden);
    }
    let target = store::user_by_id(&mut tx, user)
        .await?
        .ok_or(Error::NotFound)?;
    if target.disabled == disabled {
        return Ok(());
    }
    store::set_disabled(&mut tx, user, disabled, now).await?;
    if disabled {
        store::delete_user_sessions(&mut tx, user).await?;
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(admin),
            action: if disabled {
                "account.disabled"
            } else {
                "account.enabled"
            },
            subject: &format!("user:{user}"),
            office_id: target.office_id,
            details: serde_json::json!({ "role": target.role }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user, by = %admin, disabled, "account access changed");
    Ok(())
}
