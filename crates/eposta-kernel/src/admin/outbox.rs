//! `/admin/outbox`: the newest e-mails and SMS, recipients masked; one message in full on its
//! own page, which records the reading in the audit log.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::pages::{When, label, no_store};
use super::service;
use crate::app::App;
use crate::audit::Actor;
use crate::notify::mask_recipient;
use crate::web::error::PageError;
use crate::web::extract::Path;
use crate::web::page::{PageCtx, render};
use crate::web::principal::SessionUser;

struct MessageRow {
    id: Uuid,
    channel: String,
    recipient: String,
    /// The link text: the subject, or what kind of message it is when there is none (SMS).
    title: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created: When,
    sent: Option<When>,
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    ctx: PageCtx,
    messages: Vec<MessageRow>,
}

pub(super) async fn list(State(app): State<App>, ctx: PageCtx) -> Result<Response, PageError> {
    let messages = service::outbox(&app)
        .await?
        .into_iter()
        .map(|m| {
            let masked = mask_recipient(&m.recipient);
            // Transport errors often quote the address; the list shows it masked there too.
            let last_error = m.last_error.map(|e| e.replace(&m.recipient, &masked));
            let title = if m.subject.trim().is_empty() {
                label(&ctx, "admin.outbox.untitled", &m.channel)
            } else {
                m.subject
            };
            MessageRow {
                id: m.id,
                channel: label(&ctx, "admin.outbox.channel", &m.channel),
                recipient: masked,
                title,
                status: label(&ctx, "admin.outbox.status", &m.status),
                attempts: m.attempts,
                last_error,
                created: When::new(m.created_at),
                sent: m.sent_at.map(When::new),
            }
        })
        .collect();
    render(&OutboxPage { ctx, messages })
}

#[derive(Template)]
#[template(path = "admin/outbox_message.html")]
struct MessagePage {
    ctx: PageCtx,
    channel: String,
    recipient: String,
    subject: String,
    body: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created: When,
    sent: Option<When>,
}

pub(super) async fn show(
    State(app): State<App>,
    ctx: PageCtx,
    me: SessionUser,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let m = service::view_outbox_message(&app, &Actor::User(me.id), id).await?;
    let page = MessagePage {
        channel: label(&ctx, "admin.outbox.channel", &m.channel),
        status: label(&ctx, "admin.outbox.status", &m.status),
        ctx,
        recipient: m.recipient,
        subject: m.subject,
        body: m.body,
        attempts: m.attempts,
        last_error: m.last_error,
        created: When::new(m.created_at),
        sent: m.sent_at.map(When::new),
    };
    Ok(no_store(render(&page)?))
}
