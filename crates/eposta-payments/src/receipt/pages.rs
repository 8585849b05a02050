//! The public page where anyone checks a receipt: paste its code, or upload the receipt's
//! PDF or a photo of its QR code; the page says whether ePošta signed it and shows what it
//! vouches for. Nothing is stored and nothing is logged about the receipt.

use askama::Template;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::StatusCode;
use axum::response::Response;
use eposta_formats::qr_decode::{self, DecodeError};
use eposta_kernel::App;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::Form;
use eposta_kernel::web::page::{PageCtx, render_status};
use serde::Deserialize;

use super::claims::{PaidBy, ReceiptClaims};
use super::keys::ReceiptKeys;
use super::pdf::belgrade_seconds;
use super::token::{self, VerifyError};

/// The largest upload read: a phone's photo, with room to spare. The form's own limit
/// (`EPOSTA_BODY_LIMIT`) does not apply to this one route.
pub const MAX_UPLOAD: usize = 12 * 1024 * 1024;

/// A fact of a valid receipt, as the page lists it.
struct Fact {
    label: &'static str,
    value: String,
}

/// What the page says after a check.
enum Verdict {
    Valid(Vec<Fact>),
    Invalid(String),
}

#[derive(Template)]
#[template(path = "receipts/verify.html")]
struct VerifyPage {
    ctx: PageCtx,
    token: String,
    verdict: Option<Verdict>,
    file_help: String,
}

fn page(ctx: PageCtx, token: String, verdict: Option<Verdict>) -> Result<Response, PageError> {
    let status = match verdict {
        Some(Verdict::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let file_help = ctx.f(
        "receipts.verify.file.help",
        &[("mb", &(MAX_UPLOAD / (1024 * 1024)).to_string())],
    );
    render_status(
        status,
        &VerifyPage {
            ctx,
            token,
            verdict,
            file_help,
        },
    )
}

pub(crate) async fn form(ctx: PageCtx) -> Result<Response, PageError> {
    page(ctx, String::new(), None)
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    token: String,
}

/// `POST /receipts/verify`: a pasted code (or any text holding one, such as a link).
pub(crate) async fn check_token(
    State(app): State<App>,
    ctx: PageCtx,
    Form(f): Form<TokenForm>,
) -> Result<Response, PageError> {
    let found = token::find_token_in_text(&f.token);
    let verdict = match found {
        Some(t) => verdict(&app, &ctx, &t)?,
        None => Verdict::Invalid(ctx.t("receipts.verify.no_code").to_owned()),
    };
    let shown: String = f.token.chars().take(token::MAX_TOKEN).collect();
    page(ctx, shown, Some(verdict))
}

/// `POST /receipts/verify/file`: the receipt's PDF (the code is in its metadata) or a photo
/// of its QR code (PNG or JPEG), as `multipart/form-data` in the field `file`. The CSRF
/// token travels in the query string, since the body is not a plain form.
pub(crate) async fn check_file(
    State(app): State<App>,
    ctx: PageCtx,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let Ok(multipart) = multipart else {
        let why = ctx.t("receipts.verify.no_file").to_owned();
        return page(ctx, String::new(), Some(Verdict::Invalid(why)));
    };
    let bytes = match read_file(multipart).await {
        Ok(Some(bytes)) if !bytes.is_empty() => bytes,
        Ok(_) => {
            let why = ctx.t("receipts.verify.no_file").to_owned();
            return page(ctx, String::new(), Some(Verdict::Invalid(why)));
        }
        Err(_) => {
            let why = ctx.f(
                "receipts.verify.too_large",
                &[("mb", &(MAX_UPLOAD / (1024 * 1024)).to_string())],
            );
            return page(ctx, String::new(), Some(Verdict::Invalid(why)));
        }
    };
    let found = if bytes.starts_with(b"%PDF-") {
        token::find_token(&bytes)
            .ok_or_else(|| ctx.t("receipts.verify.pdf_without_code").to_owned())
    } else {
        // Decoding a photo takes a few hundred milliseconds of CPU: off the async workers.
        let decoded = tokio::task::spawn_blocking(move || qr_decode::decode_image(&bytes))
            .await
            .map_err(|e| eposta_kernel::Error::Internal(anyhow::Error::new(e)))?;
        match decoded {
            Ok(texts) => texts
                .iter()
                .find_map(|t| token::find_token(t.as_bytes()))
                .ok_or_else(|| ctx.t("receipts.verify.qr_not_receipt").to_owned()),
            Err(e) => Err(decode_error_text(&ctx, &e)),
        }
    };
    let (shown, verdict) = match found {
        Ok(t) => {
            let v = verdict(&app, &ctx, &t)?;
            (t, v)
        }
        Err(why) => (String::new(), Verdict::Invalid(why)),
    };
    page(ctx, shown, Some(verdict))
}

/// The bytes of the field `file`; `Err` when the upload is larger than [`MAX_UPLOAD`] or
/// broken.
async fn read_file(mut multipart: Multipart) -> Result<Option<Vec<u8>>, MultipartError> {
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("file") {
            return Ok(Some(field.bytes().await?.to_vec()));
        }
    }
    Ok(None)
}

fn decode_error_text(ctx: &PageCtx, e: &DecodeError) -> String {
    match e {
        DecodeError::NotAnImage => ctx.t("receipts.verify.not_an_image").to_owned(),
        DecodeError::TooLarge { width, height } => ctx.f(
            "receipts.verify.image_too_large",
            &[
                ("width", &width.to_string()),
                ("height", &height.to_string()),
            ],
        ),
        DecodeError::Damaged { .. } => ctx.t("receipts.verify.damaged").to_owned(),
        DecodeError::NoQrCode => ctx.t("receipts.verify.no_qr").to_owned(),
        DecodeError::Unreadable(_) => ctx.t("receipts.verify.unreadable").to_owned(),
    }
}

fn verdict(app: &App, ctx: &PageCtx, token: &str) -> Result<Verdict, PageError> {
    let keys = ReceiptKeys::for_app(app)?;
    Ok(match token::verify(token, keys.verifying_keys()) {
        Ok(claims) => Verdict::Valid(facts(ctx, &claims)),
        Err(e) => Verdict::Invalid(match e {
            VerifyError::Format(_) => ctx.t("receipts.verify.format").to_owned(),
            VerifyError::UnknownKey(kid) => {
                ctx.f("receipts.verify.unknown_key", &[("kid", kid.as_str())])
            }
            VerifyError::BadSignature => ctx.t("receipts.verify.bad_signature").to_owned(),
            VerifyError::ChangedContent => ctx.t("receipts.verify.changed").to_owned(),
        }),
    })
}

fn facts(ctx: &PageCtx, c: &ReceiptClaims) -> Vec<Fact> {
    let money = |para: i64| {
        Money {
            minor: para,
            currency: c.currency,
        }
        .to_string()
    };
    let paid_by = match (c.paid_by, &c.office) {
        (PaidBy::Cash, Some(office)) => ctx.f("receipts.paid_by.cash_at", &[("office", office)]),
        (PaidBy::Cash, None) => ctx.t("receipts.paid_by.cash").to_owned(),
        (PaidBy::Card, _) => ctx.t("receipts.paid_by.card").to_owned(),
        (PaidBy::Ips, _) => ctx.t("receipts.paid_by.ips").to_owned(),
    };
    let fact = |label: &'static str, value: String| Fact {
        label: ctx.t(label),
        value,
    };
    vec![
        fact("receipts.fact.confirmation", c.confirmation.clone()),
        fact("receipts.fact.amount", money(c.amount_para)),
        fact("receipts.fact.fee", money(c.fee_para)),
        fact(
            "receipts.fact.total",
            c.total_para().map(money).unwrap_or_default(),
        ),
        fact("receipts.fact.payee", c.payee.clone()),
        fact("receipts.fact.account", c.payee_account.clone()),
        fact(
            "receipts.fact.reference",
            if c.reference.is_empty() {
                "—".into()
            } else {
                c.reference.clone()
            },
        ),
        fact("receipts.fact.code", c.payment_code.clone()),
        fact("receipts.fact.paid_at", belgrade_seconds(c.paid_at)),
        fact("receipts.fact.paid_by", paid_by),
        fact("receipts.fact.key", c.key_id.to_string()),
    ]
}
