//! The post-office pages: the public office finder, a counter's own office (with its staff for
//! the manager), an office's staff list, and the admin console's office list and edit form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::domain::{FIELD_ORDER, FieldError, OfficeInput};
use super::service;
use super::store::{OfficeRow, StaffRow};
use crate::accounts::Role;
use crate::app::App;
use crate::web::error::PageError;
use crate::web::extract::{Form, Path, Query};
use crate::web::page::{PageCtx, render, render_status};
use crate::web::principal::SessionUser;
use crate::web::routes::{ADMINS, Access, COUNTER, Routes};

/// Who may open an office's staff list; the service narrows managers to their own office.
const STAFF_LIST: &[Role] = &[Role::Manager, Role::Admin];

/// Offices per page in the finder and the admin list.
const PAGE_SIZE: i64 = 50;

pub fn routes() -> Routes {
    Routes::new()
        .get("/offices", Access::Public, finder)
        .get("/offices/{code}/staff", Access::Staff(STAFF_LIST), staff)
        .get("/counter/office", Access::Staff(COUNTER), counter_office)
        .get("/admin/offices", Access::Staff(ADMINS), admin_list)
        .get("/admin/offices/{code}", Access::Staff(ADMINS), edit_form)
        .post("/admin/offices/{code}", Access::Staff(ADMINS), save)
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    page: Option<u32>,
}

/// Links to the pages before and after this one.
struct Pager {
    prev: Option<String>,
    next: Option<String>,
}

impl Pager {
    fn new(base: &str, q: &str, page: u32, more: bool) -> Self {
        let link = |p: u32| {
            let page = p.to_string();
            let query = if q.is_empty() {
                serde_urlencoded::to_string([("page", page.as_str())])
            } else {
                serde_urlencoded::to_string([("q", q), ("page", page.as_str())])
            };
            format!("{base}?{}", query.unwrap_or_default())
        };
        Self {
            prev: (page > 1).then(|| link(page - 1)),
            next: more.then(|| link(page + 1)),
        }
    }
}

/// Runs a search for a page of the finder or the admin list.
/// One page of the search, as the finder and the admin's list both show it: the offices in
/// the page's script and the pager (whose links go to `path`).
async fn search_page(
    app: &App,
    ctx: &PageCtx,
    q: &SearchQuery,
    path: &'static str,
) -> Result<(Vec<OfficeView>, Pager), PageError> {
    let page = q.page.unwrap_or(1).max(1);
    let offset = i64::from(page - 1) * PAGE_SIZE;
    let found = service::search(app, q.q.trim(), PAGE_SIZE, offset).await?;
    let offices = found
        .offices
        .iter()
        .map(|o| OfficeView::new(ctx, o))
        .collect();
    Ok((offices, Pager::new(path, q.q.trim(), page, found.more)))
}

/// An office as a citizen sees it, in the page's script.
struct OfficeView {
    code: String,
    name: String,
    postal_code: String,
    municipality: String,
    address: String,
    hours: Option<String>,
    map: Option<String>,
}

impl OfficeView {
    fn new(ctx: &PageCtx, o: &OfficeRow) -> Self {
        Self {
            code: o.code.clone(),
            name: ctx.script(&o.name),
            postal_code: o.postal_code.clone(),
            municipality: ctx.script(&o.municipality),
            address: ctx.script(&o.address),
            hours: o.opening_hours.as_deref().map(|h| ctx.script(h)),
            map: match (o.latitude, o.longitude) {
                (Some(lat), Some(lon)) => Some(format!(
                    "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
                )),
                _ => None,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "offices/finder.html")]
struct FinderPage {
    ctx: PageCtx,
    q: String,
    offices: Vec<OfficeView>,
    pager: Pager,
}

async fn finder(
    State(app): State<App>,
    ctx: PageCtx,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let (offices, pager) = search_page(&app, &ctx, &q, "/offices").await?;
    render(&FinderPage {
        pager,
        ctx,
        q: q.q,
        offices,
    })
}

/// A member of staff, in the page's language and script.
struct StaffView {
    email: String,
    name: String,
    role: &'static str,
    disabled: bool,
}

fn staff_views(ctx: &PageCtx, staff: &[StaffRow]) -> Vec<StaffView> {
    staff
        .iter()
        .map(|s| StaffView {
            email: s.email.clone(),
            name: ctx.script(&s.display_name),
            role: if s.role == Role::Manager.as_str() {
                ctx.t("offices.role.manager")
            } else {
                ctx.t("offices.role.clerk")
            },
            disabled: s.disabled,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "offices/counter_office.html")]
struct CounterOfficePage {
    ctx: PageCtx,
    office: OfficeView,
    /// Only for the office's manager.
    staff: Option<Vec<StaffView>>,
}

async fn counter_office(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
) -> Result<Response, PageError> {
    let office = service::own_office(&app, &user).await?;
    let staff = if service::may_see_staff(&user, &office) {
        Some(staff_views(
            &ctx,
            &service::staff(&app, &user, &office).await?,
        ))
    } else {
        None
    };
    render(&CounterOfficePage {
        office: OfficeView::new(&ctx, &office),
        ctx,
        staff,
    })
}

#[derive(Template)]
#[template(path = "offices/staff.html")]
struct StaffPage {
    ctx: PageCtx,
    office: OfficeView,
    staff: Vec<StaffView>,
}

async fn staff(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let office = service::by_code(&app, &code).await?;
    let staff = service::staff(&app, &user, &office).await?;
    render(&StaffPage {
        staff: staff_views(&ctx, &staff),
        office: OfficeView::new(&ctx, &office),
        ctx,
    })
}

#[derive(Template)]
#[template(path = "offices/admin_list.html")]
struct AdminListPage {
    ctx: PageCtx,
    q: String,
    offices: Vec<OfficeView>,
    pager: Pager,
}

async fn admin_list(
    State(app): State<App>,
    ctx: PageCtx,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let (offices, pager) = search_page(&app, &ctx, &q, "/admin/offices").await?;
    render(&AdminListPage {
        pager,
        ctx,
        q: q.q,
        offices,
    })
}

/// One input of the edit form, with its message when the last try broke a rule.
struct FormField {
    name: &'static str,
    label: &'static str,
    value: String,
    required: bool,
    max: usize,
    help: Option<&'static str>,
    error: Option<&'static str>,
    /// `inputmode` for phones' keyboards.
    mode: &'static str,
}

impl FormField {
    /// The ids of the help and error texts the input is described by.
    fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("{}-help", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

fn form_fields(ctx: &PageCtx, input: &OfficeInput, errors: &[FieldError]) -> Vec<FormField> {
    FIELD_ORDER
        .iter()
        .filter(|f| **f != "code")
        .map(|&name| {
            let (label, value, required, max, help, mode) = match name {
                "postal_code" => (
                    "offices.field.postal_code",
                    &input.postal_code,
                    true,
                    5,
                    None,
                    "numeric",
                ),
                "name" => ("offices.field.name", &input.name, true, 100, None, "text"),
                "municipality" => (
                    "offices.field.municipality",
                    &input.municipality,
                    true,
                    100,
                    None,
                    "text",
                ),
                "address" => (
                    "offices.field.address",
                    &input.address,
                    true,
                    200,
                    None,
                    "text",
                ),
                "latitude" => (
                    "offices.field.latitude",
                    &input.latitude,
                    false,
                    20,
                    Some("offices.edit.coords_help"),
                    "decimal",
                ),
                "longitude" => (
                    "offices.field.longitude",
                    &input.longitude,
                    false,
                    20,
                    Some("offices.edit.coords_help"),
                    "decimal",
                ),
                _ => (
                    "offices.field.opening_hours",
                    &input.opening_hours,
                    false,
                    200,
                    Some("offices.edit.hours_help"),
                    "text",
                ),
            };
            FormField {
                name,
                label: ctx.t(label),
                value: value.clone(),
                required,
                max,
                help: help.map(|h| ctx.t(h)),
                error: errors
                    .iter()
                    .any(|e| e.field == name)
                    .then(|| invalid_message(ctx, name)),
                mode,
            }
        })
        .collect()
}

/// The message for a field that broke a rule, in the page's language.
fn invalid_message(ctx: &PageCtx, field: &str) -> &'static str {
    match field {
        "postal_code" => ctx.t("offices.invalid.postal_code"),
        "name" => ctx.t("offices.invalid.name"),
        "municipality" => ctx.t("offices.invalid.municipality"),
        "address" => ctx.t("offices.invalid.address"),
        "latitude" => ctx.t("offices.invalid.latitude"),
        "longitude" => ctx.t("offices.invalid.longitude"),
        "opening_hours" => ctx.t("offices.invalid.opening_hours"),
        _ => ctx.t("offices.invalid.code"),
    }
}

#[derive(Template)]
#[template(path = "offices/admin_edit.html")]
struct EditPage {
    ctx: PageCtx,
    code: String,
    title: String,
    fields: Vec<FormField>,
    failed: bool,
    saved: bool,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn edit_form(
    State(app): State<App>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let office = service::by_code(&app, &code).await?;
    let input = OfficeInput::from_fields(&office.fields());
    render(&EditPage {
        fields: form_fields(&ctx, &input, &[]),
        title: format!("{} · {}", office.code, ctx.script(&office.name)),
        ctx,
        code: office.code,
        failed: false,
        saved: q.saved.is_some(),
    })
}

async fn save(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Path(code): Path<String>,
    Form(input): Form<OfficeInput>,
) -> Result<Response, PageError> {
    match service::update(&app, &user, &code, &input).await? {
        Ok(office) => {
            // Codes are letters and digits only, safe in a path as they are.
            let to = format!("/admin/offices/{}?saved=1", office.code);
            Ok(Redirect::to(&to).into_response())
        }
        Err(errors) => {
            let office = service::by_code(&app, &code).await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &EditPage {
                    fields: form_fields(&ctx, &input, &errors),
                    title: format!("{} · {}", office.code, ctx.script(&office.name)),
                    ctx,
                    code: office.code,
                    failed: true,
                    saved: false,
                },
            )
        }
    }
}
