//! `/admin/users`: accounts newest first with search, creating staff accounts, disabling and
//! enabling accounts. The rules are in `accounts::service`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use super::pages::{FieldErrors, When, label, yes_no};
use super::service::LIST_LIMIT;
use crate::accounts::Role;
use crate::accounts::service::{self, NewStaff};
use crate::app::App;
use crate::audit::Actor;
use crate::error::Error;
use crate::web::error::PageError;
use crate::web::extract::{Form, Path, Query};
use crate::web::page::{PageCtx, render_status};
use crate::web::principal::SessionUser;

/// The roles the console creates; citizens register themselves.
const STAFF_ROLES: [Role; 3] = [Role::Clerk, Role::Manager, Role::Admin];

struct UserView {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    office: String,
    confirmed: &'static str,
    disabled: bool,
    disabled_text: &'static str,
    created: When,
    is_self: bool,
    /// The action button's accessible name, naming the account (many rows, one word each).
    action_label: String,
}

struct RoleOption {
    value: &'static str,
    label: String,
}

/// What the admin typed into the new-account form, kept when it is refused. The password
/// is never sent back.
#[derive(Debug, Default)]
struct Kept {
    email: String,
    display_name: String,
    role: String,
    office: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    q: String,
    users: Vec<UserView>,
    notice: Option<&'static str>,
    error: Option<String>,
    roles: Vec<RoleOption>,
    form: Kept,
    errors: FieldErrors,
}

impl UsersPage {
    /// A refusal that concerns none of the form's fields.
    fn other_error(&self) -> Option<&str> {
        self.errors
            .other(&["email", "display_name", "role", "office", "password"])
    }
}

#[derive(Default)]
struct Extra {
    notice: Option<&'static str>,
    error: Option<String>,
    form: Kept,
    errors: FieldErrors,
}

async fn page(
    app: &App,
    ctx: PageCtx,
    me: Uuid,
    q: String,
    extra: Extra,
    status: StatusCode,
) -> Result<Response, PageError> {
    let users = service::list_users(app, &q, LIST_LIMIT)
        .await?
        .into_iter()
        .map(|u| {
            let is_self = u.id == me;
            let action = if u.disabled {
                "admin.users.enable_named"
            } else {
                "admin.users.disable_named"
            };
            UserView {
                action_label: ctx.f(action, &[("email", &u.email)]),
                id: u.id,
                name: ctx.script(&u.display_name),
                role: label(&ctx, "admin.role", u.role.as_str()),
                office: u.office_code.unwrap_or_default(),
                confirmed: yes_no(&ctx, u.confirmed),
                disabled: u.disabled,
                disabled_text: yes_no(&ctx, u.disabled),
                created: When::new(u.created_at),
                is_self,
                email: u.email,
            }
        })
        .collect();
    let roles = STAFF_ROLES
        .iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: label(&ctx, "admin.role", r.as_str()),
        })
        .collect();
    let mut form = extra.form;
    if form.role.is_empty() {
        form.role = Role::Clerk.as_str().into();
    }
    render_status(
        status,
        &UsersPage {
            ctx,
            q,
            users,
            notice: extra.notice,
            error: extra.error,
            roles,
            form,
            errors: extra.errors,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    notice: Option<String>,
}

pub(super) async fn list(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let notice = match query.notice.as_deref() {
        Some("created") => Some(ctx.t("admin.users.created")),
        Some("disabled") => Some(ctx.t("admin.users.disabled_done")),
        Some("enabled") => Some(ctx.t("admin.users.enabled_done")),
        _ => None,
    };
    let extra = Extra {
        notice,
        ..Extra::default()
    };
    page(&app, ctx, me.id, query.q, extra, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct CreateForm {
    email: String,
    #[serde(default)]
    display_name: String,
    role: String,
    #[serde(default)]
    office: String,
    password: String,
}

/// The role chosen in the form, one of the staff roles.
fn staff_role(s: &str) -> Result<Role, Error> {
    Role::parse(s)
        .ok()
        .filter(|r| STAFF_ROLES.contains(r))
        .ok_or_else(|| Error::invalid("role", "must be clerk, manager or admin"))
}

pub(super) async fn create(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    let kept = Kept {
        email: f.email.clone(),
        display_name: f.display_name.clone(),
        role: f.role.clone(),
        office: f.office.clone(),
    };
    let created = match staff_role(&f.role) {
        Ok(role) => {
            service::create_user(
                &app,
                &Actor::User(me.id),
                NewStaff {
                    email: f.email,
                    password: SecretString::from(f.password),
                    display_name: f.display_name,
                    role,
                    office_code: Some(f.office),
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => Ok(Redirect::to("/admin/users?notice=created").into_response()),
        Err(e) => match FieldErrors::from_error(&ctx, "admin.users.invalid", &e) {
            Some(errors) => {
                let extra = Extra {
                    form: kept,
                    errors,
                    ..Extra::default()
                };
                page(
                    &app,
                    ctx,
                    me.id,
                    String::new(),
                    extra,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

/// The search to return to after an action.
#[derive(Deserialize)]
pub(super) struct BackTo {
    #[serde(default)]
    q: String,
}

pub(super) async fn disable(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Path(id): Path<Uuid>,
    Form(back): Form<BackTo>,
) -> Result<Response, PageError> {
    set_disabled(app, ctx, me, id, true, back.q).await
}

pub(super) async fn enable(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Path(id): Path<Uuid>,
    Form(back): Form<BackTo>,
) -> Result<Response, PageError> {
    set_disabled(app, ctx, me, id, false, back.q).await
}

async fn set_disabled(
    app: App,
    ctx: PageCtx,
    me: SessionUser,
    id: Uuid,
    disabled: bool,
    q: String,
) -> Result<Response, PageError> {
    match service::set_disabled(&app, me.id, id, disabled).await {
        Ok(()) => {
            let notice = if disabled { "disabled" } else { "enabled" };
            let query = serde_urlencoded::to_string([("notice", notice), ("q", q.as_str())])
                .unwrap_or_default();
            Ok(Redirect::to(&format!("/admin/users?{query}")).into_response())
        }
        Err(e @ Error::Invalid { .. }) => {
            let error = FieldErrors::from_error(&ctx, "admin.users.invalid", &e)
                .and_then(|f| f.get("user").map(str::to_owned));
            let extra = Extra {
                error,
                ..Extra::default()
            };
            page(&app, ctx, me.id, q, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}
