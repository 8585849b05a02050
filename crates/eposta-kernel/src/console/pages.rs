//! `/console`: the organisation's overview (its API keys, webhooks and latest deliveries),
//! switching between organisations, and issuing and revoking keys.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{is_owner, membership};
use crate::admin::pages::{FieldErrors, When, label, no_store};
use crate::apikeys;
use crate::app::App;
use crate::audit::Actor;
use crate::error::Error;
use crate::organisations::{self, Membership, ORG_COOKIE};
use crate::web::error::PageError;
use crate::web::extract::{Form, FormPairs, Path, Query};
use crate::web::page::{PageCtx, render, render_status};
use crate::web::principal::SessionUser;
use crate::webhooks::{EVENT_TYPES, service as hooks};

/// How many deliveries the overview lists.
const RECENT: i64 = 20;

struct OrgOption {
    id: Uuid,
    name: String,
    current: bool,
}

struct KeyView {
    id: Uuid,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    created: When,
    last_used: Option<When>,
    revoked: Option<When>,
    revoke_label: String,
}

pub(super) struct Choice {
    pub name: &'static str,
    pub description: String,
    pub checked: bool,
}

struct HookView {
    id: Uuid,
    url: String,
    events: Vec<String>,
    description: String,
    created: When,
}

pub(super) struct DeliveryView {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_type: String,
    pub status: String,
    pub status_class: &'static str,
    pub attempts: i32,
    pub last_result: String,
    pub created: When,
}

/// The form fields as typed, kept when refused.
#[derive(Debug, Default)]
pub(super) struct KeyKept {
    name: String,
    scopes: Vec<String>,
}

#[derive(Debug, Default)]
pub(super) struct HookKept {
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    ctx: PageCtx,
    org: Membership,
    role: String,
    owner: bool,
    notice: Option<&'static str>,
    organisations: Vec<OrgOption>,
    keys: Vec<KeyView>,
    scopes: Vec<Choice>,
    key_form: KeyKept,
    key_errors: FieldErrors,
    hooks: Vec<HookView>,
    event_types: Vec<Choice>,
    hook_form: HookKept,
    hook_errors: FieldErrors,
    deliveries: Vec<DeliveryView>,
}

impl HomePage {
    fn key_other_error(&self) -> Option<&str> {
        self.key_errors.other(&["name", "scopes"])
    }
    fn hook_other_error(&self) -> Option<&str> {
        self.hook_errors.other(&["url", "events", "description"])
    }
}

#[derive(Default)]
pub(super) struct Extra {
    pub notice: Option<&'static str>,
    pub key_form: KeyKept,
    pub key_errors: FieldErrors,
    pub hook_form: HookKept,
    pub hook_errors: FieldErrors,
}

/// A delivery as a row of a table: its state and what the receiver last answered.
pub(super) fn delivery_view(ctx: &PageCtx, l: &hooks::DeliveryLog) -> DeliveryView {
    let status = l.status();
    let last_result = match l.attempts.last() {
        None => ctx.t("console.deliveries.not_yet").to_owned(),
        Some(a) => match (a.status_code, &a.error) {
            (Some(code), _) => format!("HTTP {code}"),
            (None, Some(e)) => e.clone(),
            (None, None) => String::new(),
        },
    };
    DeliveryView {
        id: l.delivery.id,
        endpoint_id: l.delivery.endpoint_id,
        event_type: l.delivery.event_type.clone(),
        status: label(ctx, "console.delivery_status", status.as_str()),
        status_class: match status {
            crate::webhooks::domain::DeliveryStatus::Delivered => "ok",
            crate::webhooks::domain::DeliveryStatus::Failed => "error",
            crate::webhooks::domain::DeliveryStatus::Pending => "",
        },
        attempts: l.delivery.attempts,
        last_result,
        created: When::new(l.delivery.created_at),
    }
}

pub(super) fn event_choices(ctx: &PageCtx, checked: &[String]) -> Vec<Choice> {
    EVENT_TYPES
        .iter()
        .map(|(name, description)| Choice {
            name,
            description: ctx
                .tr
                .lookup(&format!("console.event.{name}"))
                .unwrap_or(description)
                .to_owned(),
            checked: checked.iter().any(|c| c == name),
        })
        .collect()
}

pub(super) async fn page(
    app: &App,
    ctx: PageCtx,
    me: &SessionUser,
    extra: Extra,
    status: StatusCode,
) -> Result<Response, PageError> {
    let org = membership(me)?;
    let mut conn = app.db.conn().await?;
    let all = organisations::memberships(&mut conn, me.id).await?;
    drop(conn);
    let organisations = all
        .into_iter()
        .map(|m| OrgOption {
            current: m.organisation_id == org.organisation_id,
            id: m.organisation_id,
            name: ctx.script(&m.name),
        })
        .collect();
    let keys = apikeys::keys_of(app, org.organisation_id)
        .await?
        .into_iter()
        .map(|k| KeyView {
            revoke_label: ctx.f(
                "admin.keys.revoke_named",
                &[("name", &k.name), ("prefix", &k.prefix)],
            ),
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.split_whitespace().map(str::to_owned).collect(),
            created: When::new(k.created_at),
            last_used: k.last_used_at.map(When::new),
            revoked: k.revoked_at.map(When::new),
        })
        .collect();
    let scopes = apikeys::self_service_scopes()
        .map(|(name, description)| Choice {
            name,
            description: ctx
                .tr
                .lookup(&format!("admin.scope.{name}"))
                .unwrap_or(description)
                .to_owned(),
            checked: extra.key_form.scopes.iter().any(|s| s == name),
        })
        .collect();
    let hooks = hooks::endpoints(app, org.organisation_id)
        .await?
        .into_iter()
        .map(|e| HookView {
            events: e.event_types(),
            id: e.id,
            url: e.url,
            description: e.description,
            created: When::new(e.created_at),
        })
        .collect();
    let deliveries = hooks::recent(app, org.organisation_id, RECENT)
        .await?
        .iter()
        .map(|l| delivery_view(&ctx, l))
        .collect();
    let mut hook_form = extra.hook_form;
    if hook_form.events.is_empty() && extra.hook_errors.get("events").is_none() {
        hook_form.events = vec![EVENT_TYPES[0].0.to_owned()];
    }
    render_status(
        status,
        &HomePage {
            role: label(&ctx, "console.role", org.role.as_str()),
            owner: is_owner(&org),
            event_types: event_choices(&ctx, &hook_form.events),
            ctx,
            org,
            notice: extra.notice,
            organisations,
            keys,
            scopes,
            key_form: extra.key_form,
            key_errors: extra.key_errors,
            hooks,
            hook_form,
            hook_errors: extra.hook_errors,
            deliveries,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct HomeQuery {
    notice: Option<String>,
}

pub(super) async fn home(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Query(q): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("revoked") => Some(ctx.t("admin.keys.revoked_done")),
        Some("deleted") => Some(ctx.t("console.webhooks.deleted")),
        _ => None,
    };
    let extra = Extra {
        notice,
        ..Extra::default()
    };
    page(&app, ctx, &me, extra, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct SwitchForm {
    #[serde(default)]
    organisation: String,
}

/// Picks which of the person's organisations the console shows (a cookie, checked against
/// the memberships on every request, so it grants nothing by itself).
pub(super) async fn switch(
    State(app): State<App>,
    me: SessionUser,
    Form(f): Form<SwitchForm>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(f.organisation.trim())
        .map_err(|_| Error::invalid("organisation", "choose an organisation"))?;
    let mut conn = app.db.conn().await?;
    let mine = organisations::memberships(&mut conn, me.id).await?;
    if !mine.iter().any(|m| m.organisation_id == id) {
        return Err(Error::NotFound.into());
    }
    let secure = if app.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{ORG_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}");
    let mut res = Redirect::to("/console").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "console/secret.html")]
pub(super) struct SecretPage {
    pub ctx: PageCtx,
    pub title: &'static str,
    pub warning: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub secret: String,
    pub facts: Vec<(&'static str, String)>,
    pub back: String,
}

/// The checkboxes send `scopes` once per ticked box, which a struct cannot take.
pub(super) async fn issue_key(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Form(form): Form<FormPairs>,
) -> Result<Response, PageError> {
    let org = membership(&me)?;
    let kept = KeyKept {
        name: form.value("name"),
        scopes: form.values("scopes"),
    };
    match apikeys::issue_own(
        &app,
        &Actor::User(me.id),
        org.organisation_id,
        &kept.name,
        &kept.scopes,
    )
    .await
    {
        Ok(key) => {
            let page = SecretPage {
                title: ctx.t("admin.keys.issued_title"),
                warning: ctx.t("console.keys.issued_warning"),
                label: ctx.t("admin.keys.token"),
                help: ctx.t("admin.keys.token_help"),
                secret: key.token,
                facts: vec![
                    (ctx.t("admin.keys.name"), kept.name.trim().to_owned()),
                    (ctx.t("admin.keys.scopes"), kept.scopes.join(", ")),
                ],
                back: "/console".into(),
                ctx,
            };
            Ok(no_store(render(&page)?))
        }
        Err(e) => match FieldErrors::from_error(&ctx, "admin.keys.invalid", &e) {
            Some(key_errors) => {
                let extra = Extra {
                    key_form: kept,
                    key_errors,
                    ..Extra::default()
                };
                page(&app, ctx, &me, extra, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            None => Err(e.into()),
        },
    }
}

pub(super) async fn revoke_key(
    State(app): State<App>,
    me: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let org = membership(&me)?;
    apikeys::revoke_own(&app, &Actor::User(me.id), org.organisation_id, id).await?;
    Ok(Redirect::to("/console?notice=revoked").into_response())
}
