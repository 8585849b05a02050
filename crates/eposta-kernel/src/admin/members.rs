//! `/admin/organisations/{id}`: an organisation's members. An admin adds an existing
//! citizen's account by e-mail, as owner or member, and removes it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::pages::{FieldErrors, When, label};
use crate::app::App;
use crate::audit::Actor;
use crate::error::Error;
use crate::organisations::{self, OrgRole};
use crate::web::error::PageError;
use crate::web::extract::{Form, Path, Query};
use crate::web::page::{PageCtx, render_status};
use crate::web::principal::SessionUser;

struct MemberView {
    user_id: Uuid,
    email: String,
    name: String,
    role: String,
    since: When,
    remove_label: String,
}

struct RoleOption {
    value: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "admin/organisation.html")]
struct OrganisationPage {
    ctx: PageCtx,
    id: Uuid,
    name: String,
    kind: String,
    notice: Option<&'static str>,
    members: Vec<MemberView>,
    roles: Vec<RoleOption>,
    email: String,
    role: String,
    errors: FieldErrors,
}

impl OrganisationPage {
    fn other_error(&self) -> Option<&str> {
        self.errors.other(&["email", "role"])
    }
}

async fn show(
    app: &App,
    ctx: PageCtx,
    id: Uuid,
    notice: Option<&'static str>,
    kept: (String, String),
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (org, members) = organisations::with_members(app, id).await?;
    let members = members
        .into_iter()
        .map(|m| MemberView {
            remove_label: ctx.f("console.members.remove_named", &[("email", &m.email)]),
            user_id: m.user_id,
            email: m.email,
            name: m.display_name,
            role: label(&ctx, "console.role", &m.role),
            since: When::new(m.created_at),
        })
        .collect();
    let roles = OrgRole::ALL
        .iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: label(&ctx, "console.role", r.as_str()),
        })
        .collect();
    let (email, mut role) = kept;
    if role.is_empty() {
        role = OrgRole::Owner.as_str().into();
    }
    render_status(
        status,
        &OrganisationPage {
            kind: label(&ctx, "admin.keys.kind", &org.kind),
            name: ctx.script(&org.name),
            ctx,
            id,
            notice,
            members,
            roles,
            email,
            role,
            errors,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct Notice {
    notice: Option<String>,
}

pub(super) async fn page(
    State(app): State<App>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("added") => Some(ctx.t("console.members.added")),
        Some("removed") => Some(ctx.t("console.members.removed")),
        _ => None,
    };
    show(
        &app,
        ctx,
        id,
        notice,
        Default::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub(super) async fn add(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Path(id): Path<Uuid>,
    Form(f): Form<AddForm>,
) -> Result<Response, PageError> {
    match organisations::add_member(&app, &Actor::User(me.id), id, &f.email, &f.role).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/organisations/{id}?notice=added")).into_response())
        }
        Err(e @ Error::Invalid { .. }) => {
            let errors =
                FieldErrors::from_error(&ctx, "console.members.invalid", &e).unwrap_or_default();
            show(
                &app,
                ctx,
                id,
                None,
                (f.email, f.role),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn remove(
    State(app): State<App>,
    me: SessionUser,
    Path((id, user)): Path<(Uuid, Uuid)>,
) -> Result<Response, PageError> {
    organisations::remove_member(&app, &Actor::User(me.id), id, user).await?;
    Ok(Redirect::to(&format!("/admin/organisations/{id}?notice=removed")).into_response())
}
