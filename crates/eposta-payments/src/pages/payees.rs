//! Saved payees: the list (pick one to fill the form, delete one), and saving the payee of a
//! payment from its page.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use eposta_formats::account::AccountNumber;
use eposta_formats::reference::Reference;
use eposta_kernel::App;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::extract::{Form, Path, Query};
use eposta_kernel::web::page::{PageCtx, render};
use eposta_kernel::web::principal::SessionUser;
use serde::Deserialize;
use uuid::Uuid;

use crate::service::payees;

struct PayeeView {
    id: Uuid,
    name: String,
    account: String,
    reference: String,
    purpose: String,
}

#[derive(Template)]
#[template(path = "payments/payees.html")]
struct PayeesPage {
    ctx: PageCtx,
    payees: Vec<PayeeView>,
    deleted: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    deleted: Option<String>,
}

pub async fn list(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let payees = payees::list(&app, &user)
        .await?
        .into_iter()
        .map(|p| PayeeView {
            id: p.id,
            name: ctx.script(&p.name),
            account: AccountNumber::parse(&p.account).map_or(p.account.clone(), |a| a.dashed()),
            reference: p
                .reference
                .as_deref()
                .and_then(|r| Reference::parse_ro(r).ok())
                .map(|r| r.to_string())
                .unwrap_or_default(),
            purpose: ctx.script(&p.purpose),
        })
        .collect();
    render(&PayeesPage {
        ctx,
        payees,
        deleted: q.deleted.is_some(),
    })
}

#[derive(Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    payment_id: String,
}

/// Saves the payee of one of the citizen's payments, then goes back to that payment.
pub async fn save(
    State(app): State<App>,
    user: SessionUser,
    Form(f): Form<SaveForm>,
) -> Result<Response, PageError> {
    let id: Uuid =
        f.payment_id.trim().parse().map_err(|_| {
            eposta_kernel::Error::invalid("payment_id", "is not one of your payments")
        })?;
    payees::save_from_payment(&app, &user, id).await?;
    Ok(Redirect::to(&format!("/payments/{id}?saved=1")).into_response())
}

pub async fn delete(
    State(app): State<App>,
    user: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    payees::delete(&app, &user, id).await?;
    Ok(Redirect::to("/payments/payees?deleted=1").into_response())
}
