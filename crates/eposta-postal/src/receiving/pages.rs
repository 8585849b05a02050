//! The recipient's pages: `/receive` (the tracking number, then the one-time code), the item
//! with its choices (`/receive/{number}`), and a citizen's items addressed to them
//! (`/receive/mine`). The routes are public: who may see an item is decided per item (the
//! recipient's account or a recipient session, see `service::recipient`); anyone else is sent
//! to `/receive` to prove it, alike for every number.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use eposta_formats::s10::S10;
use eposta_kernel::App;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Path, Query};
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::principal::{ClientAddr, SessionUser, cookie};
use serde::Deserialize;

use super::service::{self, CodeCheck, CodeRequest, Recipient, Refused};
use super::views::{AddressForm, CollectorForm, DeliveryForm, Forms, Outcome, item_page};
use crate::booking::pages::product_key;
use crate::domain::{FieldError, Rule};
use crate::tracking::store::status_of;

/// The recipient session's cookie: a random token, for the `/receive` pages only.
pub const COOKIE: &str = "eposta_receive";
/// Items per page of "addressed to me".
const PAGE_SIZE: i64 = 50;
/// Longest tracking number the form takes (a grouped one with spaces fits).
const MAX_NUMBER: usize = 40;

/// `/receive?id=…`, where anyone who has not proven to be the recipient is sent.
fn to_start(number: &str) -> Response {
    let query = serde_urlencoded::to_string([("id", number)]).unwrap_or_default();
    Redirect::to(&format!("/receive?{query}")).into_response()
}

/// `/receive/RA123456785RS` (the number is letters and digits only once normalised).
fn item_path(id: &S10) -> String {
    format!("/receive/{}", id.as_str())
}

fn parse_number(input: &str) -> Option<S10> {
    if input.chars().count() > MAX_NUMBER {
        return None;
    }
    S10::parse(input).ok().map(|c| c.id)
}

async fn recipient_of(
    app: &App,
    ctx: &PageCtx,
    headers: &HeaderMap,
    number: &str,
) -> Result<Option<Recipient>, PageError> {
    Ok(service::recipient(app, ctx.user.as_ref(), cookie(headers, COOKIE), number).await?)
}

#[derive(Template)]
#[template(path = "postal/receive_start.html")]
struct StartPage {
    ctx: PageCtx,
    number: String,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "postal/receive_code.html")]
struct CodePage {
    ctx: PageCtx,
    number: String,
    grouped: String,
    /// Where the code went (masked), or what to expect.
    sent: String,
    error: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NumberQuery {
    id: String,
}

/// The start: the tracking number. Someone already proven (by account or session) for the
/// number in the link goes straight to the item.
pub(super) async fn start(
    State(app): State<App>,
    ctx: PageCtx,
    headers: HeaderMap,
    Query(q): Query<NumberQuery>,
) -> Result<Response, PageError> {
    if let Some(id) = parse_number(&q.id)
        && recipient_of(&app, &ctx, &headers, id.as_str())
            .await?
            .is_some()
    {
        return Ok(Redirect::to(&item_path(&id)).into_response());
    }
    let number = q.id.chars().take(MAX_NUMBER).collect();
    render(&StartPage {
        ctx,
        number,
        error: None,
    })
}

fn bad_number(ctx: PageCtx, number: String) -> Result<Response, PageError> {
    let error = Some(ctx.t("receive.invalid_number"));
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &StartPage {
            ctx,
            number: number.chars().take(MAX_NUMBER).collect(),
            error,
        },
    )
}

fn too_many(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
    res
}

/// Sends a code to the item's contacts and asks for it.
pub(super) async fn request(
    State(app): State<App>,
    ctx: PageCtx,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    Form(f): Form<NumberQuery>,
) -> Result<Response, PageError> {
    let Some(id) = parse_number(&f.id) else {
        return bad_number(ctx, f.id);
    };
    if recipient_of(&app, &ctx, &headers, id.as_str())
        .await?
        .is_some()
    {
        return Ok(Redirect::to(&item_path(&id)).into_response());
    }
    match service::request_code(&app, &id, &addr, ctx.lang).await? {
        CodeRequest::Throttled => {
            let error = Some(ctx.t("receive.throttled"));
            let page = StartPage {
                ctx,
                number: id.as_str().to_owned(),
                error,
            };
            Ok(too_many(render_status(
                StatusCode::TOO_MANY_REQUESTS,
                &page,
            )?))
        }
        CodeRequest::Sent { masked } => {
            let sent = if masked.is_empty() {
                ctx.t("receive.code.sent_if_any").to_owned()
            } else {
                ctx.f("receive.code.sent", &[("to", &masked.join(", "))])
            };
            render(&CodePage {
                ctx,
                number: id.as_str().to_owned(),
                grouped: id.grouped(),
                sent,
                error: None,
            })
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CodeForm {
    id: String,
    code: String,
}

fn session_cookie(app: &App, token: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if app.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Max-Age={max_age}; Path=/receive; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// Checks the code; the right one opens a recipient session for the item.
pub(super) async fn verify(
    State(app): State<App>,
    ctx: PageCtx,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    let Some(id) = parse_number(&f.id) else {
        return bad_number(ctx, f.id);
    };
    let (status, key) = match service::verify_code(&app, &id, &f.code).await? {
        CodeCheck::Proven { token, max_age } => {
            let mut res = Redirect::to(&item_path(&id)).into_response();
            if let Some(v) = session_cookie(&app, &token, max_age.num_seconds()) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            return Ok(res);
        }
        CodeCheck::Malformed => (StatusCode::UNPROCESSABLE_ENTITY, "receive.code.malformed"),
        CodeCheck::Wrong => (StatusCode::UNPROCESSABLE_ENTITY, "receive.code.wrong"),
        CodeCheck::Expired => (StatusCode::UNPROCESSABLE_ENTITY, "receive.code.expired"),
        CodeCheck::TooMany => (StatusCode::TOO_MANY_REQUESTS, "receive.code.too_many"),
    };
    let error = Some(ctx.t(key));
    let sent = ctx.t("receive.code.enter").to_owned();
    let res = render_status(
        status,
        &CodePage {
            ctx,
            number: id.as_str().to_owned(),
            grouped: id.grouped(),
            sent,
            error,
        },
    )?;
    Ok(if status == StatusCode::TOO_MANY_REQUESTS {
        too_many(res)
    } else {
        res
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SavedQuery {
    saved: String,
}

/// The item, its status and events, what the recipient chose, and the forms to choose.
pub(super) async fn item(
    State(app): State<App>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(number): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let Some(r) = recipient_of(&app, &ctx, &headers, &number).await? else {
        return Ok(to_start(&number));
    };
    let view = service::view(&app, &r).await?;
    let saved = match q.saved.as_str() {
        "delivery" => Some("receive.saved.delivery"),
        "redirect" => Some("receive.saved.redirect"),
        "collector" => Some("receive.saved.collector"),
        _ => None,
    };
    let forms = Forms::current(&view);
    let page = item_page(
        ctx,
        &view,
        &forms,
        Outcome {
            saved,
            ..Outcome::default()
        },
    );
    render(&page)
}

/// After a change: back to the item, saying what was saved; or the item again with why not.
async fn answer(
    app: &App,
    ctx: PageCtx,
    r: &Recipient,
    result: Result<(), Refused>,
    saved: &str,
    forms: impl FnOnce(Forms) -> Forms,
) -> Result<Response, PageError> {
    let (status, outcome) = match result {
        Ok(()) => {
            let path = format!("/receive/{}?saved={saved}", r.item.tracking_number);
            return Ok(Redirect::to(&path).into_response());
        }
        Err(Refused::Status(refusal)) => (
            StatusCode::CONFLICT,
            Outcome {
                refusal: Some(ctx.t(refusal.key())),
                ..Outcome::default()
            },
        ),
        Err(Refused::Fields(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Outcome {
                errors,
                ..Outcome::default()
            },
        ),
    };
    let view = service::view(app, r).await?;
    let forms = forms(Forms::current(&view));
    render_status(status, &item_page(ctx, &view, &forms, outcome))
}

/// Delivery at home or pickup at a post office (which may be another office than planned).
pub(super) async fn delivery(
    State(app): State<App>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(number): Path<String>,
    Form(f): Form<DeliveryForm>,
) -> Result<Response, PageError> {
    let Some(r) = recipient_of(&app, &ctx, &headers, &number).await? else {
        return Ok(to_start(&number));
    };
    let result = match f.choice() {
        Some(choice) => service::set_destination(&app, &r, &choice).await?,
        None => Err(Refused::Fields(vec![FieldError::new(
            "delivery",
            Rule::Required,
        )])),
    };
    answer(&app, ctx, &r, result, "delivery", |forms| Forms {
        delivery: f,
        ..forms
    })
    .await
}

/// Delivery at another address.
pub(super) async fn redirect(
    State(app): State<App>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(number): Path<String>,
    Form(f): Form<AddressForm>,
) -> Result<Response, PageError> {
    let Some(r) = recipient_of(&app, &ctx, &headers, &number).await? else {
        return Ok(to_start(&number));
    };
    let choice = service::DestinationChoice::Address(f.input());
    let result = service::set_destination(&app, &r, &choice).await?;
    answer(&app, ctx, &r, result, "redirect", |forms| Forms {
        address: f,
        ..forms
    })
    .await
}

/// Another person who may collect the item, or none.
pub(super) async fn collector(
    State(app): State<App>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(number): Path<String>,
    Form(f): Form<CollectorForm>,
) -> Result<Response, PageError> {
    let Some(r) = recipient_of(&app, &ctx, &headers, &number).await? else {
        return Ok(to_start(&number));
    };
    let result = service::set_collector(&app, &r, f.input().as_ref()).await?;
    answer(&app, ctx, &r, result, "collector", |forms| Forms {
        collector: f,
        ..forms
    })
    .await
}

struct MineRow {
    number: String,
    grouped: String,
    product: &'static str,
    sender: String,
    status: &'static str,
    cod: Option<String>,
}

#[derive(Template)]
#[template(path = "postal/receive_mine.html")]
struct MinePage {
    ctx: PageCtx,
    items: Vec<MineRow>,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    page: Option<u32>,
}

/// Items addressed to the citizen's confirmed e-mail.
pub(super) async fn mine(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let offset = i64::from(page - 1) * PAGE_SIZE;
    let (rows, more) = service::addressed_to(&app, &user, PAGE_SIZE, offset).await?;
    let items = rows
        .iter()
        .map(|r| MineRow {
            number: r.item.tracking_number.clone(),
            grouped: r.item.grouped(),
            product: ctx.t(product_key(&r.item.product)),
            sender: ctx.script(&r.item.sender_name),
            status: ctx.t(r
                .latest
                .as_deref()
                .map_or(crate::tracking::domain::Status::PreTransit, status_of)
                .text_key()),
            cod: r.item.cod_minor.map(|m| Money::rsd(m).to_string()),
        })
        .collect();
    render(&MinePage {
        items,
        prev: (page > 1).then(|| format!("/receive/mine?page={}", page - 1)),
        next: more.then(|| format!("/receive/mine?page={}", page + 1)),
        ctx,
    })
}
