//! Who is calling: resolved once per request from the session cookie (pages) or the bearer
//! API key (API), and put into the request's extensions with the visitor's language.

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

use super::error::{PageError, is_api_path};
use crate::accounts::Role;
use crate::accounts::store as account_store;
use crate::apikeys;
use crate::app::App;
use crate::error::Error;
use crate::i18n::Lang;
use crate::ids;
use crate::organisations::{self, Membership};

pub const SESSION_COOKIE: &str = "eposta_session";
pub const LANG_COOKIE: &str = "eposta_lang";

/// A logged-in person.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub office_id: Option<Uuid>,
    pub session_id: Uuid,
    /// The organisation this person acts for in the console (citizens who are members of
    /// one; see [`crate::organisations::current`]).
    pub organisation: Option<Membership>,
}

impl SessionUser {
    /// Staff of one office may act only on that office; admins on every office.
    pub fn may_act_for_office(&self, office: Uuid) -> bool {
        self.role == Role::Admin || (self.role.needs_office() && self.office_id == Some(office))
    }
}

/// An agency's or business's API key.
#[derive(Debug, Clone)]
pub struct KeyHolder {
    pub key_id: Uuid,
    pub organisation_id: Uuid,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    User(SessionUser),
    Key(KeyHolder),
}

/// The client's address, for throttling: the socket peer, or the first `X-Forwarded-For`
/// entry when `EPOSTA_TRUST_FORWARDED_FOR` says a proxy sets it.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Global middleware: resolves the principal and language before routing.
pub async fn resolve(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let api = is_api_path(req.uri().path());
    let headers = req.headers();
    let resolved = if api {
        match bearer(headers) {
            Some(token) => apikeys::authenticate(&app, token)
                .await
                .map(|k| k.map(Principal::Key)),
            None => Ok(None),
        }
    } else {
        match cookie(headers, SESSION_COOKIE) {
            Some(token) => session_user(&app, token, cookie(headers, organisations::ORG_COOKIE))
                .await
                .map(|u| u.map(|(u, _)| Principal::User(u))),
            None => Ok(None),
        }
    };
    let principal = match resolved {
        Ok(p) => p.unwrap_or(Principal::Anonymous),
        Err(e) => {
            return super::error::problem_response(
                req.uri().path(),
                super::error::Problem::from_error(&e),
            );
        }
    };
    let lang = cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    let addr = client_addr(&app, &req);
    req.extensions_mut().insert(principal);
    req.extensions_mut().insert(lang);
    req.extensions_mut().insert(addr);
    next.run(req).await
}

fn client_addr(app: &App, req: &Request) -> ClientAddr {
    if app.config.trust_forwarded_for
        && let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return ClientAddr(first.trim().to_owned());
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into());
    ClientAddr(peer)
}

async fn session_user(
    app: &App,
    token: &str,
    selected_org: Option<&str>,
) -> Result<Option<(SessionUser, Lang)>, Error> {
    let mut conn = app.db.conn().await?;
    let Some(row) =
        account_store::session_by_token(&mut conn, &ids::token_hash(token), app.now()).await?
    else {
        return Ok(None);
    };
    let role = Role::parse(&row.role)?;
    // Only citizens' accounts are members of organisations, so staff pay no extra query.
    let organisation = if role == Role::Citizen {
        let selected = selected_org.and_then(|s| Uuid::parse_str(s).ok());
        organisations::current(
            organisations::memberships(&mut conn, row.user_id).await?,
            selected,
        )
    } else {
        None
    };
    Ok(Some((
        SessionUser {
            id: row.user_id,
            email: row.email,
            display_name: row.display_name,
            role,
            office_id: row.office_id,
            session_id: row.session_id,
            organisation,
        },
        Lang::parse(&row.lang).unwrap_or_default(),
    )))
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or(Principal::Anonymous))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .cloned()
            .unwrap_or(ClientAddr("local".into())))
    }
}

/// The logged-in user; routes that take it are guarded so that it is always there.
impl<S: Send + Sync> FromRequestParts<S> for SessionUser {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PageError> {
        match parts.extensions.get::<Principal>() {
            Some(Principal::User(u)) => Ok(u.clone()),
            _ => Err(PageError::from(Error::Unauthenticated)),
        }
    }
}

/// The calling API key; routes that take it are guarded so that it is always there.
impl<S: Send + Sync> FromRequestParts<S> for KeyHolder {
    type Rejection = super::error::ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Principal>() {
            Some(Principal::Key(k)) => Ok(k.clone()),
            _ => Err(Error::Unauthenticated.into()),
        }
    }
}
