//! Pickup use cases: a sender (a citizen on the web, a business through the API) asks for a
//! pickup of a booked item or cancels it; the counter staff of the sender's postal code list
//! the open requests and mark an item collected. The only place with their rules.

use chrono::NaiveDate;
use chrono_tz::Europe::Belgrade;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::ids::new_id;
use eposta_kernel::offices::store as office_store;
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde_json::json;
use uuid::Uuid;

use super::store::{self, PickupRow, RoundRow};
use super::{MAX_NOTE, check_window};
use crate::booking::store::{ItemRow, PRE_TRANSIT};

/// How many open requests the counter's list shows.
pub const ROUND_LIMIT: i64 = 500;

/// What the sender asks for: a window of days (Europe/Belgrade) and a note to the postman.
#[derive(Debug, Clone)]
pub struct Request {
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub note: String,
}

/// Today in Belgrade, where the days of a window are counted.
pub fn today(app: &App) -> NaiveDate {
    app.now().with_timezone(&Belgrade).date_naive()
}

/// Reads a day typed as `YYYY-MM-DD` (the value of a date input).
pub fn parse_day(field: &'static str, s: &str) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::invalid(field, "give a date as YYYY-MM-DD"))
}

/// Asks for a pickup of `item` (the caller checked it is the sender's). Only an item not yet
/// handed in can be collected, and only one request is open at a time.
pub async fn request(
    app: &App,
    item: &ItemRow,
    r: &Request,
    actor: &Actor,
) -> Result<PickupRow, Error> {
    if item.status != PRE_TRANSIT {
        return Err(Error::conflict(
            "this item has been handed in already; a pickup is no longer needed",
        ));
    }
    check_window(today(app), r.window_from, r.window_to)
        .map_err(|e| Error::invalid(e.field(), e.message()))?;
    let note = r.note.trim();
    if note.chars().count() > MAX_NOTE {
        return Err(Error::invalid("note", "at most 200 characters"));
    }
    if note.chars().any(char::is_control) {
        return Err(Error::invalid("note", "one line of text, please"));
    }
    let now = app.now();
    let id = new_id();
    let by = match actor {
        Actor::User(u) => Some(*u),
        _ => None,
    };
    let mut tx = app.db.begin().await?;
    if !store::insert(
        &mut tx,
        id,
        item.id,
        r.window_from,
        r.window_to,
        note,
        by,
        now,
    )
    .await?
    {
        return Err(Error::conflict(
            "a pickup has been asked for this item already; cancel it to choose another window",
        ));
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "postal.pickup.requested",
            subject: &format!("item:{}", item.id),
            office_id: None,
            details: json!({
                "window_from": r.window_from.to_string(),
                "window_to": r.window_to.to_string(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PickupRow {
        id,
        item_id: item.id,
        window_from: r.window_from,
        window_to: r.window_to,
        note: note.to_owned(),
        status: "requested".to_owned(),
        created_at: now,
    })
}

/// Cancels the item's open request; "not found" when there is none.
pub async fn cancel(app: &App, item: &ItemRow, actor: &Actor) -> Result<(), Error> {
    close(app, item.id, "cancelled", actor, None).await
}

async fn close(
    app: &App,
    item: Uuid,
    status: &str,
    actor: &Actor,
    office_id: Option<Uuid>,
) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::close(&mut tx, item, status, now).await? {
        return Err(Error::NotFound);
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: if status == "collected" {
                "postal.pickup.collected"
            } else {
                "postal.pickup.cancelled"
            },
            subject: &format!("item:{item}"),
            office_id,
            details: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The item's open request, if any.
pub async fn open(app: &App, item: Uuid) -> Result<Option<PickupRow>, Error> {
    let mut conn = app.db.conn().await?;
    store::open_for_item(&mut conn, item).await
}

/// The clerk's office: its id and postal code (counter work needs one).
async fn office_of(app: &App, user: &SessionUser) -> Result<(Uuid, String), Error> {
    let office = user.office_id.ok_or(Error::Forbidden)?;
    let mut conn = app.db.conn().await?;
    let row = office_store::by_id(&mut conn, office)
        .await?
        .ok_or(Error::Forbidden)?;
    Ok((office, row.postal_code))
}

/// The open requests of senders in the clerk's office's postal code whose window has not
/// passed, earliest first.
pub async fn round(app: &App, user: &SessionUser) -> Result<Vec<RoundRow>, Error> {
    let (_, postal_code) = office_of(app, user).await?;
    let mut conn = app.db.conn().await?;
    store::open_for_postal_code(&mut conn, &postal_code, today(app), ROUND_LIMIT).await
}

/// The postman collected the item: its request is closed. Only the staff of the sender's
/// postal code may say so; for others the request does not exist.
pub async fn collected(app: &App, user: &SessionUser, item: Uuid) -> Result<(), Error> {
    let (office_id, postal_code) = office_of(app, user).await?;
    let mut conn = app.db.conn().await?;
    let sender_code = crate::booking::store::by_id(&mut conn, item)
        .await?
        .map(|r| r.sender_postal_code);
    drop(conn);
    if sender_code.as_deref() != Some(postal_code.as_str()) {
        return Err(Error::NotFound);
    }
    close(
        app,
        item,
        "collected",
        &Actor::User(user.id),
        Some(office_id),
    )
    .await
}
