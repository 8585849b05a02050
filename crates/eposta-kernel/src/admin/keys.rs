//! `/admin/keys`: organisations (agencies and businesses) and their API keys. A new key's
//! secret is shown once, on the answer to the form that issued it, and is kept nowhere:
//! only its hash is stored.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::pages::{FieldErrors, When, label, no_store};
use crate::apikeys::{self, SCOPES, store};
use crate::app::App;
use crate::audit::Actor;
use crate::error::Error;
use crate::web::error::PageError;
use crate::web::extract::{Form, FormPairs, Path, Query};
use crate::web::page::{PageCtx, render, render_status};
use crate::web::principal::SessionUser;

const KINDS: [&str; 2] = ["agency", "business"];

struct OrgView {
    id: Uuid,
    name: String,
    kind: String,
}

struct OrgOption {
    id: String,
    name: String,
}

struct KindOption {
    value: &'static str,
    label: String,
}

struct KeyView {
    id: Uuid,
    organisation: String,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    created: When,
    last_used: Option<When>,
    revoked: Option<When>,
    revoke_label: String,
}

struct ScopeOption {
    name: &'static str,
    description: String,
    checked: bool,
}

/// The organisation form as typed, kept when refused.
#[derive(Debug, Default)]
struct OrgKept {
    name: String,
    kind: String,
}

/// The key form as typed, kept when refused.
#[derive(Debug, Default)]
struct KeyKept {
    organisation: String,
    name: String,
    scopes: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    ctx: PageCtx,
    notice: Option<&'static str>,
    organisations: Vec<OrgView>,
    org_options: Vec<OrgOption>,
    kinds: Vec<KindOption>,
    keys: Vec<KeyView>,
    scopes: Vec<ScopeOption>,
    org_form: OrgKept,
    org_errors: FieldErrors,
    key_form: KeyKept,
    key_errors: FieldErrors,
}

impl KeysPage {
    fn org_other_error(&self) -> Option<&str> {
        self.org_errors.other(&["name", "kind"])
    }

    fn key_other_error(&self) -> Option<&str> {
        self.key_errors.other(&["organisation", "name", "scopes"])
    }
}

#[derive(Default)]
struct Extra {
    notice: Option<&'static str>,
    org_form: OrgKept,
    org_errors: FieldErrors,
    key_form: KeyKept,
    key_errors: FieldErrors,
}

async fn page(
    app: &App,
    ctx: PageCtx,
    extra: Extra,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut conn = app.db.conn().await?;
    let orgs = store::organisations(&mut conn).await?;
    let keys = store::list(&mut conn).await?;
    drop(conn);
    let organisations = orgs
        .iter()
        .map(|o| OrgView {
            id: o.id,
            name: ctx.script(&o.name),
            kind: label(&ctx, "admin.keys.kind", &o.kind),
        })
        .collect();
    let org_options = orgs
        .iter()
        .map(|o| OrgOption {
            id: o.id.to_string(),
            name: ctx.script(&o.name),
        })
        .collect();
    let kinds = KINDS
        .iter()
        .map(|k| KindOption {
            value: k,
            label: label(&ctx, "admin.keys.kind", k),
        })
        .collect();
    let keys = keys
        .into_iter()
        .map(|k| KeyView {
            revoke_label: ctx.f(
                "admin.keys.revoke_named",
                &[("name", &k.name), ("prefix", &k.prefix)],
            ),
            id: k.id,
            organisation: ctx.script(&k.organisation),
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.split_whitespace().map(str::to_owned).collect(),
            created: When::new(k.created_at),
            last_used: k.last_used_at.map(When::new),
            revoked: k.revoked_at.map(When::new),
        })
        .collect();
    let scopes = SCOPES
        .iter()
        .map(|(name, description)| ScopeOption {
            name,
            description: ctx
                .tr
                .lookup(&format!("admin.scope.{name}"))
                .unwrap_or(description)
                .to_owned(),
            checked: extra.key_form.scopes.iter().any(|s| s == name),
        })
        .collect();
    let mut org_form = extra.org_form;
    if org_form.kind.is_empty() {
        org_form.kind = KINDS[0].into();
    }
    render_status(
        status,
        &KeysPage {
            ctx,
            notice: extra.notice,
            organisations,
            org_options,
            kinds,
            keys,
            scopes,
            org_form,
            org_errors: extra.org_errors,
            key_form: extra.key_form,
            key_errors: extra.key_errors,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    notice: Option<String>,
}

pub(super) async fn list(
    State(app): State<App>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("organisation") => Some(ctx.t("admin.keys.org_created")),
        Some("revoked") => Some(ctx.t("admin.keys.revoked_done")),
        _ => None,
    };
    let extra = Extra {
        notice,
        ..Extra::default()
    };
    page(&app, ctx, extra, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct OrgForm {
    name: String,
    kind: String,
}

pub(super) async fn create_organisation(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Form(f): Form<OrgForm>,
) -> Result<Response, PageError> {
    match apikeys::create_organisation(&app, &Actor::User(me.id), &f.name, &f.kind).await {
        Ok(_) => Ok(Redirect::to("/admin/keys?notice=organisation").into_response()),
        Err(e) => match FieldErrors::from_error(&ctx, "admin.keys.org_invalid", &e) {
            Some(org_errors) => {
                let extra = Extra {
                    org_form: OrgKept {
                        name: f.name,
                        kind: f.kind,
                    },
                    org_errors,
                    ..Extra::default()
                };
                page(&app, ctx, extra, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "admin/key_issued.html")]
struct IssuedPage {
    ctx: PageCtx,
    token: String,
    name: String,
    organisation: String,
    scopes: Vec<String>,
}

/// The checkboxes send `scopes` once per ticked box, which a struct cannot take, so the
/// form arrives as its pairs.
pub(super) async fn issue(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Form(form): Form<FormPairs>,
) -> Result<Response, PageError> {
    let kept = KeyKept {
        organisation: form.value("organisation"),
        name: form.value("name"),
        scopes: form.values("scopes"),
    };
    let issued = match Uuid::parse_str(kept.organisation.trim()) {
        Ok(org) => apikeys::issue(&app, &Actor::User(me.id), org, &kept.name, &kept.scopes)
            .await
            .map(|k| (org, k))
            // The organisation was chosen from a list; if it is gone, say so at that field.
            .map_err(|e| match e {
                Error::Invalid { field, .. } if field == "reference" => {
                    Error::invalid("organisation", "no such organisation")
                }
                e => e,
            }),
        Err(_) => Err(Error::invalid("organisation", "choose an organisation")),
    };
    match issued {
        Ok((org, key)) => {
            let mut conn = app.db.conn().await?;
            let organisation = store::organisations(&mut conn)
                .await?
                .into_iter()
                .find(|o| o.id == org)
                .map(|o| ctx.script(&o.name))
                .unwrap_or_default();
            drop(conn);
            let page = IssuedPage {
                ctx,
                token: key.token,
                name: kept.name.trim().to_owned(),
                organisation,
                scopes: kept.scopes,
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
                page(&app, ctx, extra, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            None => Err(e.into()),
        },
    }
}

pub(super) async fn revoke(
    State(app): State<App>,
    me: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    apikeys::revoke(&app, &Actor::User(me.id), id).await?;
    Ok(Redirect::to("/admin/keys?notice=revoked").into_response())
}
