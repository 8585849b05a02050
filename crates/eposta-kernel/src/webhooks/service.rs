//! Webhook use cases: an organisation registers, lists, rotates and deletes its endpoints and
//! reads and resends its deliveries (from the console and the API alike); capabilities
//! enqueue events inside their own transactions with [`enqueue`].

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::deliver::DeliverWebhook;
use super::domain::{DeliveryStatus, Envelope, SECRET_PREFIX, UrlPolicy};
use super::store::{self, AttemptRow, DeliveryRow, EndpointRow, NewDelivery, NewEndpoint};
use super::{EVENT_TYPES, MAX_ENDPOINTS};
use crate::app::App;
use crate::audit::{self, Actor};
use crate::db::Tx;
use crate::error::Error;
use crate::{ids, jobs};

/// How long the secret before a rotation keeps signing beside the new one, so that receivers
/// can switch without losing deliveries.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// The installation's URL policy (see [`UrlPolicy`]).
pub fn policy(app: &App) -> UrlPolicy {
    UrlPolicy {
        allow_loopback: app.config.webhooks_allow_loopback,
    }
}

/// The signing secret of `endpoint` under `salt`. It is derived, never stored: an HMAC of the
/// endpoint and its salt under the installation's secret key, so the database alone cannot
/// sign (and rotating `EPOSTA_SECRET_KEY` changes every endpoint's secret).
fn derive_secret(app: &App, endpoint: Uuid, salt: &str) -> String {
    format!(
        "{SECRET_PREFIX}{}",
        app.keyed_hash("webhook.secret", &format!("{endpoint}.{salt}"))
    )
}

/// The secrets that sign a delivery now: the current one, and the one before a rotation
/// while its overlap lasts.
pub fn signing_secrets(app: &App, e: &EndpointRow, now: DateTime<Utc>) -> Vec<String> {
    let mut out = vec![derive_secret(app, e.id, &e.secret_salt)];
    if let (Some(salt), Some(until)) = (&e.previous_salt, e.previous_until)
        && until > now
    {
        out.push(derive_secret(app, e.id, salt));
    }
    out
}

/// What an organisation asks for.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
}

/// A new endpoint, with its secret: shown once, to whoever registered it.
#[derive(Debug)]
pub struct Created {
    pub endpoint: EndpointRow,
    pub secret: String,
}

fn check_events(events: &[String]) -> Result<String, Error> {
    let mut out: Vec<&str> = Vec::new();
    for e in events {
        let e = e.trim();
        if !EVENT_TYPES.iter().any(|(t, _)| *t == e) {
            return Err(Error::invalid("events", format!("unknown event type {e}")));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.is_empty() {
        return Err(Error::invalid("events", "choose at least one event type"));
    }
    Ok(out.join(" "))
}

pub async fn register(
    app: &App,
    actor: &Actor,
    organisation: Uuid,
    r: &Registration,
) -> Result<Created, Error> {
    let url = policy(app).check_url(&r.url)?;
    let events = check_events(&r.events)?;
    let description = r.description.trim();
    if description.chars().count() > 200 {
        return Err(Error::invalid(
            "description",
            "must be at most 200 characters",
        ));
    }
    let id = ids::new_id();
    let salt = ids::random_token();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if store::count_endpoints(&mut tx, organisation).await? >= MAX_ENDPOINTS {
        return Err(Error::invalid(
            "url",
            format!("an organisation may have at most {MAX_ENDPOINTS} endpoints; delete one first"),
        ));
    }
    store::insert_endpoint(
        &mut tx,
        &NewEndpoint {
            id,
            organisation_id: organisation,
            url: url.as_str(),
            events: &events,
            description,
            secret_salt: &salt,
            now,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "webhook.created",
            subject: &format!("webhook:{id}"),
            office_id: None,
            details: serde_json::json!({ "organisation": organisation, "events": events }),
        },
    )
    .await?;
    let endpoint = store::endpoint(&mut tx, organisation, id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    tracing::info!(webhook = %id, organisation = %organisation, "webhook endpoint registered");
    Ok(Created {
        secret: derive_secret(app, id, &salt),
        endpoint,
    })
}

pub async fn endpoints(app: &App, organisation: Uuid) -> Result<Vec<EndpointRow>, Error> {
    let mut conn = app.db.conn().await?;
    store::endpoints(&mut conn, organisation).await
}

/// One of the organisation's endpoints; another organisation's is not found.
pub async fn endpoint(app: &App, organisation: Uuid, id: Uuid) -> Result<EndpointRow, Error> {
    let mut conn = app.db.conn().await?;
    store::endpoint(&mut conn, organisation, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Deletes an endpoint with its deliveries; deliveries still queued are dropped.
pub async fn delete(app: &App, actor: &Actor, organisation: Uuid, id: Uuid) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::delete_endpoint(&mut tx, organisation, id).await? {
        return Err(Error::NotFound);
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "webhook.deleted",
            subject: &format!("webhook:{id}"),
            office_id: None,
            details: serde_json::json!({ "organisation": organisation }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(webhook = %id, organisation = %organisation, "webhook endpoint deleted");
    Ok(())
}

/// Gives the endpoint a new secret (returned, shown once); the old one signs beside it for
/// [`ROTATION_OVERLAP`].
pub async fn rotate(
    app: &App,
    actor: &Actor,
    organisation: Uuid,
    id: Uuid,
) -> Result<String, Error> {
    let salt = ids::random_token();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::rotate_secret(
        &mut tx,
        organisation,
        id,
        &salt,
        now + ROTATION_OVERLAP,
        now,
    )
    .await?
    {
        return Err(Error::NotFound);
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "webhook.secret_rotated",
            subject: &format!("webhook:{id}"),
            office_id: None,
            details: serde_json::json!({ "organisation": organisation }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(webhook = %id, organisation = %organisation, "webhook secret rotated");
    Ok(derive_secret(app, id, &salt))
}

/// A delivery with its attempts, oldest first.
#[derive(Debug, Clone)]
pub struct DeliveryLog {
    pub delivery: DeliveryRow,
    pub attempts: Vec<AttemptRow>,
}

impl DeliveryLog {
    pub fn status(&self) -> DeliveryStatus {
        DeliveryStatus::parse(&self.delivery.status).unwrap_or(DeliveryStatus::Pending)
    }
}

async fn with_attempts(
    c: &mut impl crate::db::Exec,
    rows: Vec<DeliveryRow>,
) -> Result<Vec<DeliveryLog>, Error> {
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let mut by_delivery: HashMap<Uuid, Vec<AttemptRow>> = HashMap::new();
    for a in store::attempts(c, &ids).await? {
        by_delivery.entry(a.delivery_id).or_default().push(a);
    }
    Ok(rows
        .into_iter()
        .map(|d| DeliveryLog {
            attempts: by_delivery.remove(&d.id).unwrap_or_default(),
            delivery: d,
        })
        .collect())
}

/// Most deliveries one page lists.
pub const PAGE_MAX: i64 = 200;

/// An endpoint's deliveries, newest first, with their attempts; `before` pages on. At most
/// [`PAGE_MAX`] + 1.
pub async fn deliveries(
    app: &App,
    organisation: Uuid,
    endpoint: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DeliveryLog>, Error> {
    // One more than a page, to tell whether another follows.
    let limit = limit.clamp(1, PAGE_MAX + 1);
    let mut conn = app.db.conn().await?;
    if store::endpoint(&mut conn, organisation, endpoint)
        .await?
        .is_none()
    {
        return Err(Error::NotFound);
    }
    let rows = store::deliveries(&mut conn, endpoint, before, limit).await?;
    with_attempts(&mut conn, rows).await
}

/// The organisation's newest deliveries over all its endpoints, with their attempts.
pub async fn recent(app: &App, organisation: Uuid, limit: i64) -> Result<Vec<DeliveryLog>, Error> {
    let mut conn = app.db.conn().await?;
    let rows = store::recent_deliveries(&mut conn, organisation, limit.clamp(1, PAGE_MAX)).await?;
    with_attempts(&mut conn, rows).await
}

/// One of the organisation's deliveries with its attempts.
pub async fn delivery(app: &App, organisation: Uuid, id: Uuid) -> Result<DeliveryLog, Error> {
    let mut conn = app.db.conn().await?;
    let row = store::delivery(&mut conn, organisation, id)
        .await?
        .ok_or(Error::NotFound)?;
    with_attempts(&mut conn, vec![row])
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

/// Sends a delivery again (same event id and body, fresh signature and retries). A delivery
/// still pending is already on its way: that is a conflict.
/// With `endpoint`, the delivery must be one of that endpoint's.
pub async fn resend(
    app: &App,
    actor: &Actor,
    organisation: Uuid,
    id: Uuid,
    endpoint: Option<Uuid>,
) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let d = store::delivery(&mut tx, organisation, id)
        .await?
        .filter(|d| endpoint.is_none_or(|e| e == d.endpoint_id))
        .ok_or(Error::NotFound)?;
    if !store::set_status(&mut tx, d.id, &["delivered", "failed"], "pending").await? {
        return Err(Error::conflict(
            "the delivery is still pending; it is retried on its own",
        ));
    }
    jobs::enqueue(&mut tx, now, &DeliverWebhook { delivery: d.id }).await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "webhook.resent",
            subject: &format!("webhook_delivery:{id}"),
            office_id: None,
            details: serde_json::json!({ "organisation": organisation, "endpoint": d.endpoint_id }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(delivery = %id, organisation = %organisation, "webhook delivery resent");
    Ok(())
}

/// One event for one organisation, as a capability hands it over.
#[derive(Debug, Clone)]
pub struct Event {
    pub organisation_id: Uuid,
    /// The event's `data` object.
    pub data: serde_json::Value,
}

/// Enqueues a delivery of each event to each endpoint of its organisation that takes
/// `event_type`, inside the caller's transaction (so a delivery exists exactly when its event
/// does). A few statements per call, whatever the number of events: one to find the endpoints,
/// one (or a few on SQLite) each to insert the deliveries and their jobs. Returns how many
/// deliveries were enqueued.
pub async fn enqueue(
    tx: &mut Tx,
    now: DateTime<Utc>,
    event_type: &'static str,
    events: &[Event],
) -> Result<usize, Error> {
    debug_assert!(EVENT_TYPES.iter().any(|(t, _)| *t == event_type));
    if events.is_empty() {
        return Ok(0);
    }
    let orgs: Vec<Uuid> = events
        .iter()
        .map(|e| e.organisation_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut endpoints: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (endpoint, org) in store::subscribed(tx, &orgs, event_type).await? {
        endpoints.entry(org).or_default().push(endpoint);
    }
    if endpoints.is_empty() {
        return Ok(0);
    }
    let mut deliveries = Vec::new();
    for e in events {
        let Some(targets) = endpoints.get(&e.organisation_id) else {
            continue;
        };
        let event_id = ids::new_id();
        let body = serde_json::to_string(&Envelope::new(event_id, event_type, now, &e.data))
            .map_err(|e| Error::Internal(e.into()))?;
        for endpoint in targets {
            deliveries.push(NewDelivery {
                id: ids::new_id(),
                endpoint_id: *endpoint,
                organisation_id: e.organisation_id,
                event_id,
                body: body.clone(),
            });
        }
    }
    store::insert_deliveries(tx, event_type, &deliveries, now).await?;
    let jobs: Vec<DeliverWebhook> = deliveries
        .iter()
        .map(|d| DeliverWebhook { delivery: d.id })
        .collect();
    jobs::enqueue_many(tx, now, &jobs).await?;
    Ok(deliveries.len())
}
