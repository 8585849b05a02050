//! Tracking pages: the public lookup at `/track`, the staff's list of flagged events, and the
//! admin's registry of facilities.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use eposta_formats::s10::S10Error;
use eposta_kernel::accounts::Role;
use eposta_kernel::i18n::Lang;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Query};
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde::Deserialize;

use super::codes;
use super::domain::{self, Flag, Status};
use super::input;
use super::service::{self, Lookup, Tracked, TrackedEvent};
use super::store::{self, FlaggedRow};

/// Who may see flagged events: counter staff (their own office's) and admins (all).
pub const FLAGGED_VIEWERS: &[Role] = &[Role::Clerk, Role::Manager, Role::Admin];

/// Flagged events per page.
const PAGE_SIZE: i64 = 50;
/// Longest text the lookup box takes (20 grouped numbers and separators fit easily).
const MAX_QUERY: usize = 600;

/// A time as people in Serbia read it, and as `<time datetime>` wants it.
pub(crate) struct When {
    pub(crate) shown: String,
    pub(crate) iso: String,
}

impl When {
    pub(crate) fn new(t: DateTime<Utc>) -> When {
        When {
            shown: eposta_kernel::clock::belgrade(t),
            iso: t.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

/// Text from the code tables in the page's language (Serbian is kept in Cyrillic).
fn localised(ctx: &PageCtx, en: &str, sr: &str) -> String {
    match ctx.lang {
        Lang::En => en.to_owned(),
        _ => ctx.script(sr),
    }
}

/// What a code means, in the page's language; the bare code when the table lacks it.
fn event_text(ctx: &PageCtx, code: &str) -> String {
    codes::table()
        .event(code)
        .map_or_else(|| code.to_owned(), |m| localised(ctx, &m.en, &m.sr))
}

fn place_text(ctx: &PageCtx, place: Option<&str>, location: &str) -> String {
    match place {
        Some(name) => format!("{} ({location})", ctx.script(name)),
        None => location.to_owned(),
    }
}

/// An event as a page shows it (the receiving pages show them too).
pub(crate) struct EventView {
    pub(crate) when: When,
    pub(crate) what: String,
    pub(crate) place: String,
    /// The reason and action of a failed delivery.
    pub(crate) detail: Option<String>,
}

impl EventView {
    pub(crate) fn new(ctx: &PageCtx, e: &TrackedEvent) -> EventView {
        let what = match e.meaning {
            Some(m) => localised(ctx, &m.en, &m.sr),
            None => e.code.clone(),
        };
        let reason = e.reason.map(|r| localised(ctx, &r.en, &r.sr));
        let action = e.action.map(|a| localised(ctx, &a.en, &a.sr));
        let detail = match (reason, action) {
            (None, None) => None,
            (r, a) => Some(
                [
                    r.map(|r| format!("{}: {r}", ctx.t("tracking.reason"))),
                    a.map(|a| format!("{}: {a}", ctx.t("tracking.action"))),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(". "),
            ),
        };
        EventView {
            when: When::new(e.event_time),
            what,
            place: place_text(ctx, e.place.as_deref(), &e.location),
            detail,
        }
    }
}

struct ItemView {
    heading: String,
    status: Option<&'static str>,
    /// Where its recipient chooses how to receive it.
    receive: Option<String>,
    /// Said instead of (or before) the events: unknown, invalid, not yet handed in.
    note: Option<String>,
    events: Vec<EventView>,
}

fn invalid_text(ctx: &PageCtx, e: &S10Error) -> String {
    match e {
        S10Error::ReservedServiceIndicator(si) => {
            ctx.f("tracking.invalid.reserved", &[("si", si.as_str())])
        }
        S10Error::CheckDigit { found, expected } => ctx.f(
            "tracking.invalid.check_digit",
            &[
                ("found", &found.to_string()),
                ("expected", &expected.to_string()),
            ],
        ),
        S10Error::Country(c) => ctx.f("tracking.invalid.country", &[("country", c.as_str())]),
        S10Error::Format | S10Error::Serial => ctx.t("tracking.invalid.format").to_owned(),
    }
}

impl ItemView {
    fn new(ctx: &PageCtx, t: &Tracked) -> ItemView {
        match &t.lookup {
            Lookup::Found { id, status, events } => ItemView {
                heading: id.grouped(),
                receive: Some(format!("/receive?id={}", id.as_str())),
                status: Some(ctx.t(status.text_key())),
                note: (*status == Status::PreTransit && events.is_empty())
                    .then(|| ctx.t("tracking.pre_transit").to_owned()),
                events: events.iter().map(|e| EventView::new(ctx, e)).collect(),
            },
            Lookup::NotFound { id } => ItemView {
                heading: id.grouped(),
                receive: None,
                status: None,
                note: Some(ctx.t("tracking.not_found").to_owned()),
                events: Vec::new(),
            },
            Lookup::Invalid { error } => ItemView {
                heading: t.query.clone(),
                receive: None,
                status: None,
                note: Some(invalid_text(ctx, error)),
                events: Vec::new(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "postal/tracking.html")]
struct TrackPage {
    ctx: PageCtx,
    query: String,
    error: Option<String>,
    items: Vec<ItemView>,
}

#[derive(Deserialize)]
pub(super) struct TrackQuery {
    #[serde(default)]
    id: String,
}

pub(super) async fn track(
    State(app): State<App>,
    ctx: PageCtx,
    Query(q): Query<TrackQuery>,
) -> Result<Response, PageError> {
    let refuse = |ctx: PageCtx, query: String, key: &'static str| {
        let error = Some(ctx.t(key).to_owned());
        render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &TrackPage {
                ctx,
                query,
                error,
                items: Vec::new(),
            },
        )
    };
    if q.id.chars().count() > MAX_QUERY {
        return refuse(ctx, String::new(), "tracking.too_long");
    }
    let ids = match domain::split_ids(&q.id) {
        Ok(ids) => ids,
        Err(_) => return refuse(ctx, q.id, "tracking.too_many"),
    };
    let found = service::track(&app, &ids).await?;
    let items = found.iter().map(|t| ItemView::new(&ctx, t)).collect();
    render(&TrackPage {
        ctx,
        query: q.id,
        error: None,
        items,
    })
}

/// Links to the pages before and after this one.
struct Pager {
    prev: Option<String>,
    next: Option<String>,
}

struct FlaggedView {
    number: String,
    link: String,
    what: String,
    place: String,
    when: When,
    received: When,
    why: &'static str,
    source: String,
}

impl FlaggedView {
    fn new(ctx: &PageCtx, r: &FlaggedRow) -> FlaggedView {
        FlaggedView {
            link: format!(
                "/track?{}",
                serde_urlencoded::to_string([("id", r.tracking_number.as_str())])
                    .unwrap_or_default()
            ),
            number: r.tracking_number.clone(),
            what: format!(
                "{} · {} ({})",
                r.code,
                event_text(ctx, &r.code),
                ctx.t(store::status_of(&r.status).text_key())
            ),
            place: place_text(ctx, r.place.as_deref(), &r.location),
            when: When::new(r.event_time),
            received: When::new(r.received_at),
            why: Flag::parse(&r.flag).map_or("", |f| ctx.t(f.text_key())),
            source: r.source.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "postal/tracking_flagged.html")]
struct FlaggedPage {
    ctx: PageCtx,
    scope: String,
    rows: Vec<FlaggedView>,
    pager: Pager,
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    page: Option<u32>,
}

pub(super) async fn flagged(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let offset = i64::from(page - 1) * PAGE_SIZE;
    let found = service::flagged(&app, &user, PAGE_SIZE, offset).await?;
    let link = |p: u32| format!("/counter/tracking/flagged?page={p}");
    let scope = match &found.office_code {
        Some(code) => ctx.f("tracking.flagged.office", &[("code", code)]),
        None => ctx.t("tracking.flagged.all").to_owned(),
    };
    render(&FlaggedPage {
        rows: found
            .rows
            .iter()
            .map(|r| FlaggedView::new(&ctx, r))
            .collect(),
        pager: Pager {
            prev: (page > 1).then(|| link(page - 1)),
            next: found.more.then(|| link(page + 1)),
        },
        scope,
        ctx,
    })
}

struct FacilityView {
    code: String,
    name: String,
    updated: When,
}

#[derive(Template)]
#[template(path = "postal/tracking_facilities.html")]
struct FacilitiesPage {
    ctx: PageCtx,
    facilities: Vec<FacilityView>,
    code: String,
    name: String,
    code_error: Option<&'static str>,
    name_error: Option<&'static str>,
    saved: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct SavedQuery {
    saved: Option<String>,
}

async fn facilities_page(
    app: &App,
    ctx: PageCtx,
    status: StatusCode,
    form: FacilityForm,
    errors: (Option<&'static str>, Option<&'static str>),
    saved: Option<String>,
) -> Result<Response, PageError> {
    let facilities = service::facilities(app)
        .await?
        .into_iter()
        .map(|f| FacilityView {
            name: ctx.script(&f.name),
            code: f.code,
            updated: When::new(f.updated_at),
        })
        .collect();
    render_status(
        status,
        &FacilitiesPage {
            ctx,
            facilities,
            code: form.code,
            name: form.name,
            code_error: errors.0,
            name_error: errors.1,
            saved,
        },
    )
}

pub(super) async fn facilities(
    State(app): State<App>,
    ctx: PageCtx,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let saved = q
        .saved
        .and_then(|c| input::location_code(&c).ok())
        .map(|c| ctx.f("tracking.facilities.saved", &[("code", &c)]));
    facilities_page(
        &app,
        ctx,
        StatusCode::OK,
        FacilityForm::default(),
        (None, None),
        saved,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct FacilityForm {
    code: String,
    name: String,
}

pub(super) async fn save_facility(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Form(form): Form<FacilityForm>,
) -> Result<Response, PageError> {
    let errors = match service::save_facility(&app, &user, &form.code, &form.name).await {
        Ok(_) => {
            let code = input::location_code(&form.code).unwrap_or_default();
            // Codes are letters and digits only, safe in a query as they are.
            return Ok(
                Redirect::to(&format!("/admin/tracking/facilities?saved={code}")).into_response(),
            );
        }
        Err(Error::Invalid { field, .. }) if field == "name" => {
            (None, Some(ctx.t("tracking.facilities.invalid.name")))
        }
        Err(Error::Invalid { field, .. }) if field == "code" => {
            (Some(ctx.t("tracking.facilities.invalid.code")), None)
        }
        Err(Error::Conflict(_)) => (Some(ctx.t("tracking.facilities.invalid.office")), None),
        Err(e) => return Err(e.into()),
    };
    facilities_page(
        &app,
        ctx,
        StatusCode::UNPROCESSABLE_ENTITY,
        form,
        errors,
        None,
    )
    .await
}
