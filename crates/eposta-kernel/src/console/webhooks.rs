//! The console's webhook pages: registering an endpoint (its secret shown once), one
//! endpoint with its delivery log and every attempt, rotating its secret, deleting it, and
//! resending a delivery.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::pages::{self, DeliveryView, Extra, HookKept, SecretPage, delivery_view};
use super::{is_owner, membership};
use crate::admin::pages::{FieldErrors, When, no_store};
use crate::app::App;
use crate::audit::Actor;
use crate::error::Error;
use crate::web::error::PageError;
use crate::web::extract::{Form, FormPairs, Path, Query};
use crate::web::page::{PageCtx, render};
use crate::web::principal::SessionUser;
use crate::webhooks::service::{self as hooks, Registration};

/// Deliveries per page of an endpoint's log.
const PAGE: i64 = 50;

/// Checkboxes send `events` once per ticked box, which a struct cannot take.
pub(super) async fn register(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Form(form): Form<FormPairs>,
) -> Result<Response, PageError> {
    let org = membership(&me)?;
    let kept = HookKept {
        url: form.value("url"),
        description: form.value("description"),
        events: form.values("events"),
    };
    let registration = Registration {
        url: kept.url.clone(),
        events: kept.events.clone(),
        description: kept.description.clone(),
    };
    match hooks::register(
        &app,
        &Actor::User(me.id),
        org.organisation_id,
        &registration,
    )
    .await
    {
        Ok(created) => {
            let page = SecretPage {
                title: ctx.t("console.webhooks.created_title"),
                warning: ctx.t("console.webhooks.secret_warning"),
                label: ctx.t("console.webhooks.secret"),
                help: ctx.t("console.webhooks.secret_help"),
                secret: created.secret,
                facts: vec![
                    (ctx.t("console.webhooks.url"), created.endpoint.url.clone()),
                    (
                        ctx.t("console.webhooks.events"),
                        created.endpoint.event_types().join(", "),
                    ),
                ],
                back: format!("/console/webhooks/{}", created.endpoint.id),
                ctx,
            };
            Ok(no_store(render(&page)?))
        }
        Err(e) => match FieldErrors::from_error(&ctx, "console.webhooks.invalid", &e) {
            Some(hook_errors) => {
                let extra = Extra {
                    hook_form: kept,
                    hook_errors,
                    ..Extra::default()
                };
                pages::page(&app, ctx, &me, extra, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            None => Err(e.into()),
        },
    }
}

struct AttemptView {
    at: When,
    status_code: Option<i32>,
    latency_ms: i64,
    error: String,
    succeeded: bool,
}

struct LogEntry {
    row: DeliveryView,
    pending: bool,
    body: String,
    attempts: Vec<AttemptView>,
}

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct WebhookPage {
    ctx: PageCtx,
    owner: bool,
    notice: Option<&'static str>,
    id: Uuid,
    url: String,
    events: Vec<String>,
    description: String,
    created: When,
    previous_until: Option<When>,
    log: Vec<LogEntry>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ShowQuery {
    notice: Option<String>,
    before: Option<Uuid>,
}

pub(super) async fn show(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Path(id): Path<Uuid>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let org = membership(&me)?;
    let endpoint = hooks::endpoint(&app, org.organisation_id, id).await?;
    let mut rows = hooks::deliveries(&app, org.organisation_id, id, q.before, PAGE + 1).await?;
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    let next = more
        .then(|| {
            rows.last()
                .map(|l| format!("/console/webhooks/{id}?before={}", l.delivery.id))
        })
        .flatten();
    let log = rows
        .iter()
        .map(|l| LogEntry {
            row: delivery_view(&ctx, l),
            pending: l.delivery.status == "pending",
            body: serde_json::from_str::<serde_json::Value>(&l.delivery.body)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| l.delivery.body.clone()),
            attempts: l
                .attempts
                .iter()
                .map(|a| AttemptView {
                    at: When::new(a.attempted_at),
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error.clone().unwrap_or_default(),
                    succeeded: a.succeeded,
                })
                .collect(),
        })
        .collect();
    let notice = match q.notice.as_deref() {
        Some("resent") => Some(ctx.t("console.deliveries.resent")),
        _ => None,
    };
    let now = app.now();
    render(&WebhookPage {
        owner: is_owner(&org),
        notice,
        id,
        events: endpoint.event_types(),
        url: endpoint.url,
        description: endpoint.description,
        created: When::new(endpoint.created_at),
        previous_until: endpoint.previous_until.filter(|t| *t > now).map(When::new),
        log,
        next,
        ctx,
    })
}

pub(super) async fn rotate(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let org = membership(&me)?;
    let endpoint = hooks::endpoint(&app, org.organisation_id, id).await?;
    let secret = hooks::rotate(&app, &Actor::User(me.id), org.organisation_id, id).await?;
    let page = SecretPage {
        title: ctx.t("console.webhooks.rotated_title"),
        warning: ctx.t("console.webhooks.rotated_warning"),
        label: ctx.t("console.webhooks.secret"),
        help: ctx.t("console.webhooks.secret_help"),
        secret,
        facts: vec![(ctx.t("console.webhooks.url"), endpoint.url)],
        back: format!("/console/webhooks/{id}"),
        ctx,
    };
    Ok(no_store(render(&page)?))
}

pub(super) async fn delete(
    State(app): State<App>,
    me: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let org = membership(&me)?;
    hooks::delete(&app, &Actor::User(me.id), org.organisation_id, id).await?;
    Ok(Redirect::to("/console?notice=deleted").into_response())
}

pub(super) async fn resend(
    State(app): State<App>,
    me: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let org = membership(&me)?;
    let d = hooks::delivery(&app, org.organisation_id, id).await?;
    match hooks::resend(&app, &Actor::User(me.id), org.organisation_id, id, None).await {
        Ok(()) | Err(Error::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!(
        "/console/webhooks/{}?notice=resent",
        d.delivery.endpoint_id
    ))
    .into_response())
}
