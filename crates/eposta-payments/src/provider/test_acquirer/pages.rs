//! The test acquirer's hosted pages (the card form, the 3-D Secure challenge) and its
//! notification job. Public pages: an acquirer knows no ePošta accounts; the unguessable
//! session id in the address is what lets a card holder in.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use eposta_kernel::App;
use eposta_kernel::Error;
use eposta_kernel::jobs::Job;
use eposta_kernel::money::Money;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Path};
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::routes::{Access, Routes};
use serde::{Deserialize, Serialize};

use super::store::{self, Session};
use super::{Body, CardOutcome, NAME, judge, signed_headers};

pub fn routes() -> Routes {
    Routes::new()
        .get("/test-acquirer/pay/{session}", Access::Public, card_page)
        .post("/test-acquirer/pay/{session}", Access::Public, card_submit)
        .get(
            "/test-acquirer/challenge/{session}",
            Access::Public,
            challenge_page,
        )
        .post(
            "/test-acquirer/challenge/{session}",
            Access::Public,
            challenge_submit,
        )
}

/// The session, if the test acquirer is on and knows it.
async fn session(app: &App, id: &str) -> Result<Session, PageError> {
    if !app.config.payments_test_acquirer {
        return Err(Error::NotFound.into());
    }
    Ok(store::get(app, id).await?.ok_or(Error::NotFound)?)
}

/// A test card in the page's list.
struct TestCard {
    number: &'static str,
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "acquirer/pay.html")]
struct CardPage {
    ctx: PageCtx,
    session: String,
    amount: String,
    description: String,
    expiry: String,
    errors: Vec<(&'static str, String)>,
    cards: Vec<TestCard>,
}

impl CardPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "acquirer/closed.html")]
struct ClosedPage {
    ctx: PageCtx,
    return_url: String,
}

fn card_page_view(ctx: PageCtx, s: &Session, expiry: String) -> CardPage {
    let cards = vec![
        TestCard {
            number: "4242 4242 4242 4242",
            outcome: ctx.t("acquirer.card.succeeds"),
        },
        TestCard {
            number: "4000 0000 0000 0002",
            outcome: ctx.t("acquirer.card.declined"),
        },
        TestCard {
            number: "4000 0000 0000 9995",
            outcome: ctx.t("acquirer.card.no_funds"),
        },
        TestCard {
            number: "4000 0000 0000 3220",
            outcome: ctx.t("acquirer.card.challenge"),
        },
    ];
    CardPage {
        session: s.id.clone(),
        amount: Money::rsd(s.amount_para).to_string(),
        description: s.description.clone(),
        expiry,
        errors: Vec::new(),
        cards,
        ctx,
    }
}

async fn card_page(
    State(app): State<App>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let s = session(&app, &id).await?;
    if s.state != "open" {
        return render(&ClosedPage {
            ctx,
            return_url: s.return_url,
        });
    }
    render(&card_page_view(ctx, &s, String::new()))
}

#[derive(Deserialize)]
struct CardForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    cvc: String,
    #[serde(default)]
    action: String,
}

async fn card_submit(
    State(app): State<App>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<CardForm>,
) -> Result<Response, PageError> {
    let s = session(&app, &id).await?;
    if s.state != "open" {
        return render(&ClosedPage {
            ctx,
            return_url: s.return_url,
        });
    }
    if f.action == "cancel" {
        store::finish(&app, &id, &["open"], "cancelled", None, None, true).await?;
        return Ok(Redirect::to(&s.return_url).into_response());
    }
    match judge(&f.number, &f.expiry, &f.cvc, app.now()) {
        Err(errors) => {
            // The card number is never shown back.
            let mut page = card_page_view(ctx, &s, f.expiry);
            page.errors = errors
                .into_iter()
                .map(|e| {
                    (
                        e.field,
                        page.ctx.tr.f(&format!("acquirer.error.{}", e.key), &[]),
                    )
                })
                .collect();
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Ok((CardOutcome::Approve, last4)) => {
            store::finish(&app, &id, &["open"], "succeeded", None, Some(&last4), true).await?;
            Ok(Redirect::to(&s.return_url).into_response())
        }
        Ok((CardOutcome::Decline(reason), last4)) => {
            store::finish(
                &app,
                &id,
                &["open"],
                "declined",
                Some(reason),
                Some(&last4),
                true,
            )
            .await?;
            Ok(Redirect::to(&s.return_url).into_response())
        }
        Ok((CardOutcome::Challenge, last4)) => {
            store::finish(&app, &id, &["open"], "challenge", None, Some(&last4), false).await?;
            Ok(Redirect::to(&format!("/test-acquirer/challenge/{id}")).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "acquirer/challenge.html")]
struct ChallengePage {
    ctx: PageCtx,
    session: String,
    lead: String,
}

async fn challenge_page(
    State(app): State<App>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let s = session(&app, &id).await?;
    if s.state != "challenge" {
        return render(&ClosedPage {
            ctx,
            return_url: s.return_url,
        });
    }
    let lead = ctx.f(
        "acquirer.challenge.lead",
        &[
            ("amount", &Money::rsd(s.amount_para).to_string()),
            ("last4", s.card_last4.as_deref().unwrap_or("")),
        ],
    );
    render(&ChallengePage {
        ctx,
        session: s.id,
        lead,
    })
}

#[derive(Deserialize)]
struct ChallengeForm {
    #[serde(default)]
    decision: String,
}

async fn challenge_submit(
    State(app): State<App>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<ChallengeForm>,
) -> Result<Response, PageError> {
    let s = session(&app, &id).await?;
    if s.state != "challenge" {
        return render(&ClosedPage {
            ctx,
            return_url: s.return_url,
        });
    }
    let (to, reason) = match f.decision.as_str() {
        "approve" => ("succeeded", None),
        _ => ("declined", Some("authentication failed")),
    };
    store::finish(&app, &id, &["challenge"], to, reason, None, true).await?;
    Ok(Redirect::to(&s.return_url).into_response())
}

/// The acquirer's notification of a finished session to ePošta: signed at each attempt,
/// handed to ePošta's notification handler (the code behind
/// `POST /api/v1/payments/notifications/test`; both sides live in this process, so the call
/// skips the network). Retried with the queue's backoff until ePošta answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct NotifyMerchant {
    pub session: String,
}

impl Job for NotifyMerchant {
    const KIND: &'static str = "payments.test_acquirer.notify";

    async fn run(self, app: App) -> anyhow::Result<()> {
        let Some(s) = store::get(&app, &self.session).await? else {
            return Ok(());
        };
        let (kind, reason) = match s.state.as_str() {
            "succeeded" => ("payment.succeeded", None),
            "declined" => ("payment.declined", s.decline_reason.clone()),
            "cancelled" => ("payment.cancelled", None),
            _ => return Ok(()),
        };
        let body = serde_json::to_vec(&Body {
            id: format!("ntf_{}_{}", s.id, s.state),
            kind: kind.to_owned(),
            session: s.id.clone(),
            merchant_ref: s.merchant_ref.clone(),
            amount_para: s.amount_para,
            reason,
        })?;
        let headers = signed_headers(&app, &body);
        crate::service::notify::receive(&app, NAME, &headers, &body).await?;
        Ok(())
    }
}
