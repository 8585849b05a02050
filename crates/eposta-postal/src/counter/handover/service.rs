//! Hand-over use cases: what the counter sees of an item waiting at the office, and handing
//! it over (the UPU event EMI at the clerk's office, and an audit entry, in one transaction).
//! The only place with the hand-over's transactions and rules of access.

use chrono::{DateTime, Utc};
use eposta_formats::s10::S10;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::db::Exec;
use eposta_kernel::offices::store as office_store;
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde_json::json;
use uuid::Uuid;

use super::domain::{self, Confirmation, Refusal, Whereabouts};
use crate::booking::store::{self as item_store, ItemRow};
use crate::counter::service::office_code;
use crate::receiving::domain::Document;
use crate::receiving::store::{self as choice_store, ChoiceRow};
use crate::tracking::domain::Status;
use crate::tracking::input;
use crate::tracking::service::record_at_office;
use crate::tracking::store::{self as event_store, status_of};

/// An office as the counter names it.
#[derive(Debug, Clone)]
pub struct OfficeName {
    pub code: String,
    pub name: Option<String>,
}

/// The person the recipient named to collect the item, for the clerk's eyes only.
#[derive(Clone)]
pub struct CollectorView {
    pub name: String,
    pub document: Option<Document>,
    pub digits: Option<String>,
}

/// What the counter sees of an item. The names (`item`'s addressee, `collector`) are shown
/// only when the item may be handed over here.
#[derive(Clone)]
pub struct Handover {
    pub item: ItemRow,
    pub status: Status,
    /// Since when it waits, when it waits for pickup.
    pub since: Option<DateTime<Utc>>,
    /// Where it waits, when it waits for pickup.
    pub waiting_at: Option<OfficeName>,
    /// The office the recipient chose, when they chose pickup.
    pub chosen_office: Option<OfficeName>,
    /// The clerk's office code.
    pub here: String,
    pub rule: Result<(), Refusal>,
    pub collector: Option<CollectorView>,
}

impl Handover {
    /// The office a refusal names, as "name (code)" when its name is known.
    pub fn office_named(&self, code: &str) -> String {
        [&self.waiting_at, &self.chosen_office]
            .into_iter()
            .flatten()
            .find(|o| o.code == code)
            .and_then(|o| o.name.as_deref().map(|n| format!("{n} ({code})")))
            .unwrap_or_else(|| code.to_owned())
    }
}

/// The tracking number as typed (any case, spaces and grouping).
pub fn parse_number(typed: &str) -> Result<S10, Error> {
    input::tracking_number(typed).map_err(|e| Error::invalid("number", e.to_string()))
}

/// Reads the item's state (inside the caller's transaction, or on a connection for a page).
async fn state(c: &mut impl Exec, item: ItemRow, here: String) -> Result<Handover, Error> {
    let events = event_store::events_of(c, &[item.tracking_number.as_str()]).await?;
    let last = events.last();
    let status = last.map_or(Status::PreTransit, |e| status_of(&e.status));
    let choice: Option<ChoiceRow> = choice_store::choice(c, item.id).await?;
    let chosen_office = choice.as_ref().and_then(|ch| {
        ch.office_code.clone().map(|code| OfficeName {
            code,
            name: ch.office_name.clone(),
        })
    });
    let (waiting_at, since) = match last {
        Some(e) if status == Status::AvailableForPickup => {
            // Where the event happened when that is an office; else the office chosen.
            let office = match office_store::by_code(c, &e.location).await? {
                Some(o) => Some(OfficeName {
                    code: o.code,
                    name: Some(o.name),
                }),
                None => chosen_office.clone(),
            };
            (office, Some(e.event_time))
        }
        _ => (None, None),
    };
    let rule = domain::may_hand_over(
        &Whereabouts {
            status,
            waiting_at: waiting_at.as_ref().map(|o| o.code.as_str()),
            destination: choice.as_ref().and_then(ChoiceRow::destination),
            chosen_office: chosen_office.as_ref().map(|o| o.code.as_str()),
        },
        &here,
    );
    let collector = choice.filter(|_| rule.is_ok()).and_then(|ch| {
        Some(CollectorView {
            name: ch.collector_name?,
            document: ch.collector_document.as_deref().and_then(Document::parse),
            digits: ch.collector_document_digits,
        })
    });
    Ok(Handover {
        item,
        status,
        since,
        waiting_at,
        chosen_office,
        here,
        rule,
        collector,
    })
}

/// What the clerk sees of the item `number`: its status, where it waits, and when it may be
/// handed over here, the addressee and the named collector. Showing those names (and the
/// collector's document digits) to staff is recorded in the audit log. Only items booked
/// here are found: an item booked elsewhere has no addressee or choices here.
pub async fn look(app: &App, user: &SessionUser, number: &S10) -> Result<Handover, Error> {
    let (office_id, here) = office_code(app, user).await?;
    let mut conn = app.db.conn().await?;
    let item = item_store::by_tracking_number(&mut conn, number)
        .await?
        .ok_or(Error::NotFound)?;
    let h = state(&mut conn, item, here).await?;
    drop(conn);
    if h.rule.is_ok() {
        let mut tx = app.db.begin().await?;
        audit::append(
            &mut tx,
            app.now(),
            audit::Entry {
                actor: &Actor::User(user.id),
                action: "postal.handover.viewed",
                subject: &format!("postal_item:{}", h.item.id),
                office_id: Some(office_id),
                details: json!({
                    "tracking_number": h.item.tracking_number,
                    "collector_shown": h.collector.is_some(),
                }),
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(h)
}

/// Hands the item over at the clerk's office: the item must wait there for pickup, the
/// clerk confirms who collected it, that the document was checked and, for an item with
/// cash on delivery, that the amount was taken. Records EMI (delivered) at the office
/// through the tracking path (so notices and webhooks follow) and an audit entry, in one
/// transaction that first locks the item's events, so the same hand-over posted twice
/// records one EMI and the second is refused as delivered.
pub async fn hand_over(
    app: &App,
    user: &SessionUser,
    number: &S10,
    confirmation: &Confirmation,
) -> Result<Result<Uuid, Refusal>, Error> {
    let (office_id, here) = office_code(app, user).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    event_store::lock_events(&mut tx, number.as_str()).await?;
    let item = item_store::by_tracking_number(&mut tx, number)
        .await?
        .ok_or(Error::NotFound)?;
    let h = state(&mut tx, item, here).await?;
    if let Err(r) = h.rule {
        return Ok(Err(r));
    }
    if let Err(r) =
        domain::check_confirmation(confirmation, h.collector.is_some(), h.item.cod_minor)
    {
        return Ok(Err(r));
    }
    let stored = record_at_office(
        app,
        &mut tx,
        &h.item.tracking_number,
        &h.here,
        ("EMI", Status::Delivered),
        now,
        &format!("counter:{}", h.here),
    )
    .await?;
    if !stored {
        // The same EMI, at the same instant, was stored by a concurrent hand-over.
        return Ok(Err(Refusal::Delivered));
    }
    let mut details = json!({
        "tracking_number": h.item.tracking_number,
        "collected_by": confirmation.collected.as_str(),
        "document_checked": true,
    });
    if let Some(cod) = h.item.cod_minor.filter(|m| *m > 0) {
        details["cod_collected_minor"] = json!(cod);
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(user.id),
            action: "postal.handed_over",
            subject: &format!("postal_item:{}", h.item.id),
            office_id: Some(office_id),
            details,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        item = %h.item.id,
        office = %h.here,
        collected_by = confirmation.collected.as_str(),
        "item handed over at the counter"
    );
    Ok(Ok(h.item.id))
}
