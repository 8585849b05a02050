//! Booking use cases, for citizens on the web and businesses through the API: check and price
//! a shipment, book one or up to 1,000 at once (serials, booking codes, one transaction, an
//! audit entry), and read back one's own items. The only place with transactions and
//! authorisation rules for booking.

use std::collections::{BTreeMap, HashSet};

use eposta_kernel::accounts::Role;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::ids::new_id;
use eposta_kernel::web::principal::{KeyHolder, SessionUser};
use eposta_kernel::{App, Error};
use rand::RngCore;
use serde_json::json;
use uuid::Uuid;

use super::store::{self, ItemRow, NewItem};
use crate::allocation;
use crate::domain::{BOOKING_ALPHABET, FieldError, Shipment, ShipmentInput};
use crate::tariff::{Quote, Tariff};
use crate::tracking::service::record_acceptance;

/// The most shipments one API request may book.
pub const MAX_BATCH: usize = 1000;
/// The scope an API key needs to book.
pub const SCOPE: &str = "postal:book";
/// How often new booking codes are drawn for rows whose code was taken meanwhile.
const CODE_ATTEMPTS: usize = 5;

/// A shipment checked and priced.
#[derive(Debug, Clone)]
pub struct Priced {
    pub shipment: Shipment,
    pub quote: Quote,
}

/// A rule broken by one shipment of a batch (`index` counts from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError {
    pub index: usize,
    pub error: FieldError,
}

/// Who books: a citizen, an organisation through one of its API keys, or a clerk who takes
/// an item that was not booked before (it is accepted and paid at once).
pub(crate) enum Owner {
    Citizen(Uuid),
    Organisation {
        id: Uuid,
        key: Uuid,
    },
    Counter {
        clerk: Uuid,
        office_id: Uuid,
        office_code: String,
        payment: &'static str,
    },
}

/// The key a booking form carries from its price step to its confirm button: the first
/// confirm with it books, a second (a double click, a reload) finds that booking.
pub fn submission_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A submission key as posted: 32 lowercase hex digits, or none.
fn checked_submission(key: &str) -> Option<&str> {
    let key = key.trim();
    (key.len() == 32 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(key)
}

/// Checks and prices a shipment without booking it (the "calculate price" step).
pub fn quote(app: &App, input: &ShipmentInput) -> Result<Result<Priced, Vec<FieldError>>, Error> {
    let tariff = Tariff::configured(&app.config)?;
    Ok(tariff
        .check(input)
        .map(|(shipment, quote)| Priced { shipment, quote }))
}

/// A citizen books one shipment; it waits for payment at the counter. `submission` is the
/// form's key (see [`submission_key`]): confirming twice books once.
pub async fn book_for_citizen(
    app: &App,
    user: &SessionUser,
    input: &ShipmentInput,
    submission: &str,
) -> Result<Result<ItemRow, Vec<FieldError>>, Error> {
    if user.role != Role::Citizen {
        return Err(Error::Forbidden);
    }
    book_one(app, &Owner::Citizen(user.id), input, submission).await
}

/// Books one shipment for `owner` from a form, once per submission key.
pub(crate) async fn book_one(
    app: &App,
    owner: &Owner,
    input: &ShipmentInput,
    submission: &str,
) -> Result<Result<ItemRow, Vec<FieldError>>, Error> {
    let priced = match quote(app, input)? {
        Ok(p) => p,
        Err(errors) => return Ok(Err(errors)),
    };
    let submission = checked_submission(submission)
        .ok_or_else(|| Error::invalid("submission", "the form is out of date; send it again"))?;
    let mut rows = create(app, owner, vec![priced], Some(submission)).await?;
    rows.pop()
        .map(Ok)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("booked nothing")))
}

/// An organisation books up to [`MAX_BATCH`] shipments: all of them, or, if any breaks a
/// rule, none, with every broken rule of every shipment. `inputs` holds each shipment as
/// read from the request, or why it could not be read.
pub async fn book_for_organisation(
    app: &App,
    key: &KeyHolder,
    inputs: Vec<Result<ShipmentInput, Vec<FieldError>>>,
) -> Result<Result<Vec<ItemRow>, Vec<BatchError>>, Error> {
    if !key.scopes.iter().any(|s| s == SCOPE) {
        return Err(Error::Forbidden);
    }
    if inputs.is_empty() {
        return Err(Error::invalid(
            "shipments",
            "must hold at least one shipment",
        ));
    }
    if inputs.len() > MAX_BATCH {
        return Err(Error::invalid(
            "shipments",
            "must hold at most 1000 shipments per request",
        ));
    }
    let tariff = Tariff::configured(&app.config)?;
    let mut priced = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        match input.and_then(|i| tariff.check(&i)) {
            Ok((shipment, quote)) => priced.push(Priced { shipment, quote }),
            Err(errs) => errors.extend(errs.into_iter().map(|error| BatchError { index, error })),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let owner = Owner::Organisation {
        id: key.organisation_id,
        key: key.key_id,
    };
    Ok(Ok(create(app, &owner, priced, None).await?))
}

/// Draws a booking code: 8 of 32 characters (40 bits). Uniqueness is the database's job;
/// a taken code is drawn again.
fn booking_code() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(BOOKING_ALPHABET[usize::from(b & 31)]))
        .collect()
}

/// Books priced shipments: a block of serials per service indicator, then every item in one
/// transaction with its audit entry (and, at the counter, its acceptance). Returns the rows
/// in the order of `priced`; with a `submission` key used before, the item booked then.
async fn create(
    app: &App,
    owner: &Owner,
    priced: Vec<Priced>,
    submission: Option<&str>,
) -> Result<Vec<ItemRow>, Error> {
    if let Some(key) = submission {
        let mut conn = app.db.conn().await?;
        if let Some(row) = store::by_submission(&mut conn, key).await? {
            return Ok(vec![row]);
        }
    }
    // Serials first, each block committed on its own (see `allocation::allocate`).
    let mut by_si: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in priced.iter().enumerate() {
        let item = &p.shipment.item;
        let si = allocation::service_indicator(item.product, item.options.declared_value.is_some());
        by_si.entry(si).or_default().push(i);
    }
    let mut ids = vec![None; priced.len()];
    for (si, positions) in &by_si {
        let block = allocation::allocate(app, si, positions.len()).await?;
        for (pos, id) in positions.iter().zip(block) {
            ids[*pos] = Some(id);
        }
    }
    let (user, organisation) = match owner {
        Owner::Citizen(u) => (Some(*u), None),
        Owner::Organisation { id, .. } => (None, Some(*id)),
        Owner::Counter { .. } => (None, None),
    };
    let now = app.now();
    let mut codes = HashSet::new();
    let mut rows = Vec::with_capacity(priced.len());
    for (p, id) in priced.iter().zip(ids) {
        let tracking_number =
            id.ok_or_else(|| Error::Internal(anyhow::anyhow!("a serial is missing")))?;
        let mut code = booking_code();
        while !codes.insert(code.clone()) {
            code = booking_code();
        }
        let item = NewItem {
            id: new_id(),
            tracking_number,
            booking_code: code,
            shipment: &p.shipment,
            quote: &p.quote,
            booked_by_user: user,
            booked_by_organisation: organisation,
        };
        let mut row = item.row(now);
        if let Owner::Counter {
            office_id, payment, ..
        } = owner
        {
            row.status = "accepted".to_owned();
            row.accepted_office_id = Some(*office_id);
            row.accepted_at = Some(now);
            row.paid_at = Some(now);
            row.payment_method = Some((*payment).to_owned());
        }
        rows.push(row);
    }

    let mut tx = app.db.begin().await?;
    let mut pending: Vec<usize> = (0..rows.len()).collect();
    for _ in 0..CODE_ATTEMPTS {
        let batch: Vec<ItemRow> = pending.iter().map(|&i| rows[i].clone()).collect();
        let inserted: HashSet<Uuid> = store::insert_items(&mut tx, &batch)
            .await?
            .into_iter()
            .collect();
        pending.retain(|&i| !inserted.contains(&rows[i].id));
        if pending.is_empty() {
            break;
        }
        for &i in &pending {
            let mut code = booking_code();
            while !codes.insert(code.clone()) {
                code = booking_code();
            }
            rows[i].booking_code = code;
        }
    }
    if !pending.is_empty() {
        return Err(Error::Internal(anyhow::anyhow!(
            "no free booking code after {CODE_ATTEMPTS} attempts"
        )));
    }
    if let (Some(key), Some(first)) = (submission, rows.first())
        && !store::claim_submission(&mut tx, key, first.id, now).await?
    {
        // The same form was confirmed meanwhile (a double click): show what it booked.
        drop(tx);
        let mut conn = app.db.conn().await?;
        let row = store::by_submission(&mut conn, key)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("a claimed submission has no item")))?;
        return Ok(vec![row]);
    }
    if let Owner::Counter { office_code, .. } = owner {
        for r in &rows {
            record_acceptance(
                app,
                &mut tx,
                &r.tracking_number,
                office_code,
                now,
                &format!("counter:{office_code}"),
            )
            .await?;
        }
    }
    let (actor, entry) = match owner {
        Owner::Citizen(u) => {
            let r = &rows[0];
            (
                Actor::User(*u),
                (
                    "postal.item.booked",
                    format!("postal_item:{}", r.id),
                    json!({
                        "tracking_number": r.tracking_number,
                        "product": r.product,
                        "price_minor": r.price_minor,
                    }),
                ),
            )
        }
        Owner::Counter { clerk, payment, .. } => {
            let r = &rows[0];
            (
                Actor::User(*clerk),
                (
                    "postal.accepted",
                    format!("item:{}", r.id),
                    json!({
                        "tracking_number": r.tracking_number,
                        "weight_g": r.weight_g,
                        "total_minor": r.price_minor,
                        "payment": payment,
                        "booked_at_counter": true,
                    }),
                ),
            )
        }
        Owner::Organisation { id, key } => (
            Actor::ApiKey(*key),
            (
                "postal.shipments.booked",
                format!("organisation:{id}"),
                json!({
                    "count": rows.len(),
                    "tracking_numbers": rows.iter().map(|r| r.tracking_number.as_str()).collect::<Vec<_>>(),
                }),
            ),
        ),
    };
    let (action, subject, details) = entry;
    let office_id = match owner {
        Owner::Counter { office_id, .. } => Some(*office_id),
        _ => None,
    };
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &actor,
            action,
            subject: &subject,
            office_id,
            details,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(items = rows.len(), %actor, "postal items booked");
    Ok(rows)
}

/// One of the citizen's own items; another's is "not found", as if it did not exist.
pub async fn citizen_item(app: &App, user: &SessionUser, id: Uuid) -> Result<ItemRow, Error> {
    let mut conn = app.db.conn().await?;
    store::by_id(&mut conn, id)
        .await?
        .filter(|r| r.booked_by_user == Some(user.id))
        .ok_or(Error::NotFound)
}

/// A page of the citizen's items, newest first, and whether more follow.
pub async fn citizen_items(
    app: &App,
    user: &SessionUser,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ItemRow>, bool), Error> {
    let mut conn = app.db.conn().await?;
    let mut rows = store::list_by_user(&mut conn, user.id, limit + 1, offset).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}

/// One of the organisation's own shipments, by tracking number in any spacing or case;
/// another organisation's is "not found".
pub async fn organisation_item(
    app: &App,
    key: &KeyHolder,
    tracking_number: &str,
) -> Result<ItemRow, Error> {
    let id = eposta_formats::s10::S10::parse(tracking_number)
        .map_err(|_| Error::NotFound)?
        .id;
    let mut conn = app.db.conn().await?;
    store::by_tracking_number(&mut conn, &id)
        .await?
        .filter(|r| r.booked_by_organisation == Some(key.organisation_id))
        .ok_or(Error::NotFound)
}
