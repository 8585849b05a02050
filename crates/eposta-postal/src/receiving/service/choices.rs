//! What the recipient sees of an item and what they may choose: home or a post office,
//! another address, another person to collect; and a citizen's items addressed to them.

use chrono::{DateTime, Utc};
use eposta_kernel::accounts::Role;
use eposta_kernel::accounts::store as account_store;
use eposta_kernel::audit;
use eposta_kernel::db::Tx;
use eposta_kernel::offices::store as office_store;
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde_json::json;

use super::{Proof, Recipient};
use crate::booking::store::ItemRow;
use crate::domain::{FieldError, RecipientInput, Rule, parse_address};
use crate::receiving::domain::{self, Destination, Refusal};
use crate::receiving::notices;
use crate::receiving::store::{self, AddressedRow, ChoiceRow};
use crate::tracking::domain::Status;
use crate::tracking::service::{self as tracking, Lookup, TrackedEvent};
use crate::tracking::store::status_of;

/// Where an item waiting for pickup waits.
#[derive(Debug, Clone)]
pub struct Pickup {
    pub office_code: String,
    pub office_name: Option<String>,
    pub office_address: Option<String>,
    pub hours: Option<String>,
    pub since: DateTime<Utc>,
    /// `17.03.2026.`: the last day to collect it.
    pub deadline: String,
}

/// What the recipient sees of their item.
#[derive(Debug, Clone)]
pub struct RecipientView {
    pub item: ItemRow,
    pub proof: Proof,
    pub status: Status,
    pub events: Vec<TrackedEvent>,
    pub choice: Option<ChoiceRow>,
    pub pickup: Option<Pickup>,
    /// Whether the delivery and address may still change, and if not, why.
    pub destination_rule: Result<(), Refusal>,
    pub collector_rule: Result<(), Refusal>,
}

/// The item as its recipient sees it: status, events, what they chose, and where and until
/// when it waits, when it waits at an office.
pub async fn view(app: &App, r: &Recipient) -> Result<RecipientView, Error> {
    let found = tracking::track(app, std::slice::from_ref(&r.item.tracking_number)).await?;
    let (status, events) = match found.into_iter().next().map(|t| t.lookup) {
        Some(Lookup::Found { status, events, .. }) => (status, events),
        _ => (Status::PreTransit, Vec::new()),
    };
    let mut conn = app.db.conn().await?;
    let choice = store::choice(&mut conn, r.item.id).await?;
    let pickup = match events.last() {
        Some(last) if status == Status::AvailableForPickup => {
            // Where the event happened, when that is an office; else the office chosen.
            let office = office_store::by_code(&mut conn, &last.location).await?;
            let chosen = choice.as_ref().filter(|c| c.office_code.is_some());
            let (office_code, office_name, office_address, hours) = match (office, chosen) {
                (Some(o), _) => (o.code, Some(o.name), Some(o.address), o.opening_hours),
                (None, Some(c)) => (
                    c.office_code.clone().unwrap_or_default(),
                    c.office_name.clone(),
                    c.office_address.clone(),
                    c.office_hours.clone(),
                ),
                (None, None) => (last.location.clone(), last.place.clone(), None, None),
            };
            Some(Pickup {
                office_code,
                office_name,
                office_address,
                hours,
                since: last.event_time,
                deadline: notices::deadline_text(last.event_time, app.config.postal_pickup_days),
            })
        }
        _ => None,
    };
    Ok(RecipientView {
        item: r.item.clone(),
        proof: r.proof,
        status,
        events,
        choice,
        pickup,
        destination_rule: domain::may_change_destination(status),
        collector_rule: domain::may_name_collector(status),
    })
}

/// Why a choice was not saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The item's status no longer allows it.
    Status(Refusal),
    /// Input broke these rules.
    Fields(Vec<FieldError>),
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Error {
        match r {
            Refused::Status(r) => Error::conflict(r.message()),
            Refused::Fields(errors) => match errors.into_iter().next() {
                Some(e) => Error::invalid(e.field, e.rule.message()),
                None => Error::invalid("form", "is not valid"),
            },
        }
    }
}

/// Where the recipient wants the item, as asked.
#[derive(Debug, Clone)]
pub enum DestinationChoice {
    Home,
    /// A post office, by its code.
    Pickup {
        office: String,
    },
    /// Another address (a redirect).
    Address(RecipientInput),
}

/// The item's status inside a transaction, from its newest event (booked: pre-transit).
async fn status_in(tx: &mut Tx, item: &ItemRow) -> Result<Status, Error> {
    Ok(store::latest_status(tx, &item.tracking_number)
        .await?
        .map_or(Status::PreTransit, |s| status_of(&s)))
}

/// Records where the item goes: home, a post office (which must exist), or another address
/// (checked as a booking's addresses are). Only before the item is out for delivery.
pub async fn set_destination(
    app: &App,
    r: &Recipient,
    choice: &DestinationChoice,
) -> Result<Result<(), Refused>, Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if let Err(refusal) = domain::may_change_destination(status_in(&mut tx, &r.item).await?) {
        return Ok(Err(Refused::Status(refusal)));
    }
    let (destination, office, address) = match choice {
        DestinationChoice::Home => (Destination::Home, None, None),
        DestinationChoice::Pickup { office } => {
            let code = office.trim();
            if code.is_empty() {
                return Ok(Err(Refused::Fields(vec![FieldError::new(
                    "office",
                    Rule::Required,
                )])));
            }
            match office_store::by_code(&mut tx, code).await? {
                Some(o) => (Destination::Pickup, Some(o), None),
                None => {
                    return Ok(Err(Refused::Fields(vec![FieldError::new(
                        "office",
                        Rule::Office,
                    )])));
                }
            }
        }
        DestinationChoice::Address(input) => match parse_address("address", input) {
            Ok(a) => (Destination::Address, None, Some(a)),
            Err(errors) => return Ok(Err(Refused::Fields(errors))),
        },
    };
    store::set_destination(
        &mut tx,
        r.item.id,
        destination,
        office.as_ref().map(|o| o.id),
        address.as_ref(),
        now,
    )
    .await?;
    let mut details = json!({ "destination": destination.as_str(), "by": r.proof.as_str() });
    if let Some(o) = &office {
        details["office"] = json!(o.code);
    }
    if let Some(a) = &address {
        // The postal code routes the item; the rest of the address stays out of the log.
        details["postal_code"] = json!(a.postal_code);
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &r.proof.actor(),
            action: "postal.receiving.destination",
            subject: &format!("postal_item:{}", r.item.id),
            office_id: office.as_ref().map(|o| o.id),
            details,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(item = %r.item.id, destination = destination.as_str(), "recipient chose the delivery");
    Ok(Ok(()))
}

/// The collector's form as typed; `None` forgets the collector.
#[derive(Debug, Clone, Default)]
pub struct CollectorInput {
    pub name: String,
    pub document: String,
    pub digits: String,
}

/// Names (or forgets) another person who may collect the item, until it is delivered. The
/// name and document digits are stored for the counter, never logged or audited.
pub async fn set_collector(
    app: &App,
    r: &Recipient,
    input: Option<&CollectorInput>,
) -> Result<Result<(), Refused>, Error> {
    let collector = match input {
        Some(i) => match domain::parse_collector(&i.name, &i.document, &i.digits) {
            Ok(c) => Some(c),
            Err(errors) => return Ok(Err(Refused::Fields(errors))),
        },
        None => None,
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if let Err(refusal) = domain::may_name_collector(status_in(&mut tx, &r.item).await?) {
        return Ok(Err(Refused::Status(refusal)));
    }
    store::set_collector(&mut tx, r.item.id, collector.as_ref(), now).await?;
    let document = collector
        .as_ref()
        .and_then(|c| c.document.as_ref())
        .map(|(d, _)| d.as_str());
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &r.proof.actor(),
            action: if collector.is_some() {
                "postal.receiving.collector_named"
            } else {
                "postal.receiving.collector_removed"
            },
            subject: &format!("postal_item:{}", r.item.id),
            office_id: None,
            details: json!({ "by": r.proof.as_str(), "document": document }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(item = %r.item.id, named = collector.is_some(), "recipient changed the collector");
    Ok(Ok(()))
}

/// A page of the items addressed to a citizen's confirmed e-mail, newest first, and whether
/// more follow.
pub async fn addressed_to(
    app: &App,
    user: &SessionUser,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AddressedRow>, bool), Error> {
    if user.role != Role::Citizen {
        return Err(Error::Forbidden);
    }
    let mut conn = app.db.conn().await?;
    let confirmed = account_store::user_by_id(&mut conn, user.id)
        .await?
        .is_some_and(|u| u.email_verified && !u.disabled);
    if !confirmed {
        return Ok((Vec::new(), false));
    }
    let mut rows = store::addressed_to(&mut conn, &user.email, limit + 1, offset).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}
