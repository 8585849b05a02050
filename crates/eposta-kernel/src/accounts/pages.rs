//! The account pages: home, log in and out, registration, e-mail confirmation, password
//! reset, language switching, and each role's landing page.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::service::{self, LoginError, Registration};
use crate::app::App;
use crate::error::Error;
use crate::i18n::Lang;
use crate::offices::store::{self as office_store, OfficeRow};
use crate::web::error::PageError;
use crate::web::extract::{Form, Path, Query};
use crate::web::page::{PageCtx, render};
use crate::web::principal::{
    ClientAddr, LANG_COOKIE, Principal, SESSION_COOKIE, SessionUser, cookie,
};
use crate::web::routes::{ADMINS, Access, COUNTER, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .get("/", Access::Public, home)
        .get("/login", Access::Public, login_form)
        .post("/login", Access::Public, login)
        .post("/logout", Access::User, logout)
        .get("/register", Access::Public, register_form)
        .post("/register", Access::Public, register)
        .get("/confirm-email", Access::Public, confirm_email)
        .get("/password-reset", Access::Public, reset_request_form)
        .post("/password-reset", Access::Public, reset_request)
        .get("/password-reset/{token}", Access::Public, reset_form)
        .post("/password-reset/{token}", Access::Public, reset)
        .get("/lang/{code}", Access::Public, switch_language)
        .get("/me", Access::Citizen, me)
        .get("/counter", Access::Staff(COUNTER), counter)
        .get("/admin", Access::Staff(ADMINS), admin)
}

/// Only local paths are followed after login or a language switch (no open redirects).
fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    (n.starts_with('/')
        && !n.starts_with("//")
        && !n.starts_with("/\\")
        && !n.contains(['\r', '\n']))
    .then(|| n.to_owned())
}

fn set_cookie(res: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cookie_attrs(app: &App) -> &'static str {
    if app.config.secure_cookies() {
        "; Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax"
    }
}

#[derive(Template)]
#[template(path = "accounts/home.html")]
struct HomePage {
    ctx: PageCtx,
}

async fn home(ctx: PageCtx) -> Result<Response, PageError> {
    render(&HomePage { ctx })
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    ctx: PageCtx,
    error: Option<&'static str>,
    email: String,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(ctx: PageCtx, Query(q): Query<NextQuery>) -> Result<Response, PageError> {
    if let Some(u) = &ctx.user {
        return Ok(Redirect::to(u.role.home()).into_response());
    }
    let next = safe_next(q.next.as_deref()).unwrap_or_default();
    render(&LoginPage {
        ctx,
        error: None,
        email: String::new(),
        next,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(app): State<App>,
    ctx: PageCtx,
    ClientAddr(addr): ClientAddr,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let outcome = service::login(&app, &f.email, SecretString::from(f.password), &addr).await?;
    let next = safe_next(Some(&f.next));
    match outcome {
        Ok(done) => {
            let target = next.unwrap_or_else(|| done.role.home().to_owned());
            let mut res = Redirect::to(&target).into_response();
            let attrs = cookie_attrs(&app);
            set_cookie(
                &mut res,
                format!(
                    "{SESSION_COOKIE}={}; Max-Age={}{attrs}",
                    done.token,
                    done.max_age.num_seconds()
                ),
            );
            set_cookie(
                &mut res,
                format!(
                    "{LANG_COOKIE}={}; Max-Age=31536000{attrs}",
                    done.lang.code()
                ),
            );
            Ok(res)
        }
        Err(why) => {
            let (status, key) = match why {
                LoginError::BadCredentials => (axum::http::StatusCode::UNAUTHORIZED, "login.bad"),
                LoginError::Unconfirmed => (axum::http::StatusCode::FORBIDDEN, "login.unconfirmed"),
                LoginError::Throttled => {
                    (axum::http::StatusCode::TOO_MANY_REQUESTS, "login.throttled")
                }
            };
            let error = Some(ctx.t(key));
            let page = LoginPage {
                ctx,
                error,
                email: f.email,
                next: next.unwrap_or_default(),
            };
            let mut res = crate::web::page::render_status(status, &page)?;
            if status == axum::http::StatusCode::TOO_MANY_REQUESTS {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
            }
            Ok(res)
        }
    }
}

async fn logout(
    State(app): State<App>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        service::logout(&app, token).await?;
    }
    let mut res = Redirect::to("/").into_response();
    set_cookie(
        &mut res,
        format!("{SESSION_COOKIE}=; Max-Age=0{}", cookie_attrs(&app)),
    );
    Ok(res)
}

#[derive(Template)]
#[template(path = "accounts/register.html")]
struct RegisterPage {
    ctx: PageCtx,
    error: Option<String>,
    email: String,
    display_name: String,
}

async fn register_form(ctx: PageCtx) -> Result<Response, PageError> {
    render(&RegisterPage {
        ctx,
        error: None,
        email: String::new(),
        display_name: String::new(),
    })
}

#[derive(Deserialize)]
struct RegisterForm {
    email: String,
    password: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Template)]
#[template(path = "accounts/message.html")]
struct MessagePage {
    ctx: PageCtx,
    title: &'static str,
    text: &'static str,
    link: &'static str,
    link_text: &'static str,
}

fn message(ctx: PageCtx, title: &'static str, text: &'static str) -> Result<Response, PageError> {
    let title = ctx.t(title);
    let text = ctx.t(text);
    let link_text = ctx.t("nav.login");
    render(&MessagePage {
        ctx,
        title,
        text,
        link: "/login",
        link_text,
    })
}

/// The message for a rule broken in a form, in the page's language where we have one.
fn field_message(ctx: &PageCtx, e: &Error) -> Option<String> {
    match e {
        Error::Invalid { field, message } => Some(
            ctx.tr
                .lookup(&format!("invalid.{field}"))
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{field}: {message}")),
        ),
        _ => None,
    }
}

async fn register(
    State(app): State<App>,
    ctx: PageCtx,
    Form(f): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let r = Registration {
        email: f.email.clone(),
        password: SecretString::from(f.password),
        display_name: f.display_name.clone(),
        lang: ctx.lang,
    };
    match service::register_citizen(&app, r).await {
        Ok(()) => message(ctx, "register.done.title", "register.done.text"),
        Err(e) => match field_message(&ctx, &e) {
            Some(error) => crate::web::page::render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &RegisterPage {
                    ctx,
                    error: Some(error),
                    email: f.email,
                    display_name: f.display_name,
                },
            ),
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

async fn confirm_email(
    State(app): State<App>,
    ctx: PageCtx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    match service::confirm_email(&app, &q.token).await {
        Ok(()) => message(ctx, "confirm.done.title", "confirm.done.text"),
        Err(Error::Invalid { .. }) => message(ctx, "confirm.bad.title", "confirm.bad.text"),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "accounts/reset_request.html")]
struct ResetRequestPage {
    ctx: PageCtx,
}

async fn reset_request_form(ctx: PageCtx) -> Result<Response, PageError> {
    render(&ResetRequestPage { ctx })
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn reset_request(
    State(app): State<App>,
    ctx: PageCtx,
    Form(f): Form<EmailForm>,
) -> Result<Response, PageError> {
    service::request_password_reset(&app, &f.email).await?;
    message(ctx, "reset.sent.title", "reset.sent.text")
}

#[derive(Template)]
#[template(path = "accounts/reset_form.html")]
struct ResetFormPage {
    ctx: PageCtx,
    token: String,
    error: Option<String>,
}

async fn reset_form(
    State(app): State<App>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    if !service::reset_token_valid(&app, &token).await? {
        return message(ctx, "confirm.bad.title", "confirm.bad.text");
    }
    render(&ResetFormPage {
        ctx,
        token,
        error: None,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

async fn reset(
    State(app): State<App>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    match service::reset_password(&app, &token, SecretString::from(f.password)).await {
        Ok(()) => message(ctx, "reset.done.title", "reset.done.text"),
        Err(e @ Error::Invalid { .. }) if !matches!(&e, Error::Invalid { field, .. } if field == "token") =>
        {
            let error = field_message(&ctx, &e);
            crate::web::page::render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &ResetFormPage { ctx, token, error },
            )
        }
        Err(Error::Invalid { .. }) => message(ctx, "confirm.bad.title", "confirm.bad.text"),
        Err(e) => Err(e.into()),
    }
}

async fn switch_language(
    State(app): State<App>,
    principal: Principal,
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let lang = Lang::parse(&code).ok_or(Error::NotFound)?;
    if let Principal::User(u) = &principal {
        service::set_language(&app, u.id, lang).await?;
    }
    let target = safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&target).into_response();
    set_cookie(
        &mut res,
        format!(
            "{LANG_COOKIE}={}; Max-Age=31536000{}",
            lang.code(),
            cookie_attrs(&app)
        ),
    );
    Ok(res)
}

#[derive(Template)]
#[template(path = "accounts/me.html")]
struct MePage {
    ctx: PageCtx,
    greeting: String,
}

async fn me(ctx: PageCtx, user: SessionUser) -> Result<Response, PageError> {
    let name = if user.display_name.is_empty() {
        user.email.clone()
    } else {
        user.display_name.clone()
    };
    let greeting = ctx.f("me.greeting", &[("name", &name)]);
    render(&MePage { ctx, greeting })
}

#[derive(Template)]
#[template(path = "accounts/counter.html")]
struct CounterPage {
    ctx: PageCtx,
    office: OfficeRow,
}

async fn counter(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
) -> Result<Response, PageError> {
    let office_id = user.office_id.ok_or(Error::Forbidden)?;
    let mut conn = app.db.conn().await?;
    let office = office_store::by_id(&mut conn, office_id)
        .await?
        .ok_or(Error::NotFound)?;
    render(&CounterPage { ctx, office })
}

#[derive(Template)]
#[template(path = "accounts/admin.html")]
struct AdminPage {
    ctx: PageCtx,
}

async fn admin(ctx: PageCtx) -> Result<Response, PageError> {
    render(&AdminPage { ctx })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn follows_only_local_paths() {
        assert_eq!(safe_next(Some("/me?x=1")).as_deref(), Some("/me?x=1"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "me",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
        assert_eq!(safe_next(None), None);
    }
}
