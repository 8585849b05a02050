//! Tracking use cases: ingesting scanners' batches, recording an acceptance at the counter,
//! looking items up by tracking number, the staff's list of flagged events, and the registry
//! of facilities.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use eposta_formats::s10::{S10, S10Error};
use eposta_kernel::accounts::Role;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::db::Tx;
use eposta_kernel::offices::store as office_store;
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use serde_json::json;

use super::codes::{self, Action, EventCode, Reason};
use super::domain::{Flag, MAX_BATCH, MAX_IDS, RowError, Status};
use super::fanout::{self, StoredEvent};
use super::input::{self, RawEvent, ValidEvent};
use super::places;
use super::store::{self, FacilityRow, FlaggedRow, NewEvent};

/// What became of one posted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Stored {
        status: Status,
        flag: Option<Flag>,
    },
    /// The same event was stored before (or earlier in the same batch).
    Duplicate,
    Error(RowError),
}

/// The answer to a batch: one outcome per posted event, in the order posted.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub rows: Vec<RowOutcome>,
}

impl IngestReport {
    pub fn stored(&self) -> usize {
        self.count(|o| matches!(o, RowOutcome::Stored { .. }))
    }
    pub fn duplicates(&self) -> usize {
        self.count(|o| matches!(o, RowOutcome::Duplicate))
    }
    pub fn errors(&self) -> usize {
        self.count(|o| matches!(o, RowOutcome::Error(_)))
    }
    pub fn flagged(&self) -> usize {
        self.count(|o| matches!(o, RowOutcome::Stored { flag: Some(_), .. }))
    }
    fn count(&self, f: impl Fn(&RowOutcome) -> bool) -> usize {
        self.rows.iter().filter(|o| f(o)).count()
    }
}

/// Stores a batch of events posted by `source` (`key:<id>` for an API key). Each event is
/// checked on its own: bad ones are reported by position and the good ones kept, in one
/// transaction. Events that do not fit their item's history are stored with a flag.
pub async fn ingest(
    app: &App,
    source: &str,
    rows: &[serde_json::Value],
) -> Result<IngestReport, Error> {
    if rows.len() > MAX_BATCH {
        return Err(Error::invalid(
            "events",
            format!("at most {MAX_BATCH} events per request"),
        ));
    }
    let now = app.now();
    let table = codes::table();
    let mut outcomes: Vec<Option<RowOutcome>> = vec![None; rows.len()];
    let mut valid: Vec<(usize, ValidEvent)> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        match RawEvent::from_json(row).and_then(|raw| input::check_event(table, &raw, now)) {
            Ok(e) => valid.push((i, e)),
            Err(e) => outcomes[i] = Some(RowOutcome::Error(e)),
        }
    }
    if !valid.is_empty() {
        let known = {
            let mut places: Vec<&str> = valid.iter().map(|(_, e)| e.location.as_str()).collect();
            places.sort_unstable();
            places.dedup();
            let mut conn = app.db.conn().await?;
            store::known_locations(&mut conn, &places).await?
        };
        valid.retain(|(i, e)| {
            let ok = known.contains(&e.location);
            if !ok {
                outcomes[*i] = Some(RowOutcome::Error(RowError::new(
                    "location",
                    format!("no office or facility has the code {}", e.location),
                )));
            }
            ok
        });
    }
    let mut tx = app.db.begin().await?;
    let mut numbers: Vec<&str> = valid
        .iter()
        .map(|(_, e)| e.tracking_number.as_str())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut histories = if numbers.is_empty() {
        HashMap::new()
    } else {
        store::histories(&mut tx, &numbers).await?
    };
    let mut seen = HashSet::with_capacity(valid.len());
    // What each row to insert was (position, status, flag), beside the rows themselves.
    let mut meta: Vec<(usize, &ValidEvent, Option<Flag>)> = Vec::with_capacity(valid.len());
    let mut news: Vec<NewEvent<'_>> = Vec::with_capacity(valid.len());
    for (i, e) in &valid {
        let number = e.tracking_number.as_str();
        if !seen.insert((number, e.code, e.location.as_str(), e.event_time)) {
            outcomes[*i] = Some(RowOutcome::Duplicate);
            continue;
        }
        let history = histories.entry(number.to_owned()).or_default();
        let flag = history.flag(e.status, e.event_time);
        history.record(e.status, e.event_time);
        meta.push((*i, e, flag));
        news.push(new_event(e, flag, source, now));
    }
    let inserted = store::insert_events(&mut tx, &news).await?;
    let mut stored = Vec::with_capacity(news.len());
    for ((i, event, flag), new) in meta.into_iter().zip(inserted) {
        outcomes[i] = Some(if new {
            stored.push(stored_event(event, flag));
            RowOutcome::Stored {
                status: event.status,
                flag,
            }
        } else {
            RowOutcome::Duplicate
        });
    }
    fanout::events_stored(app, &mut tx, &stored).await?;
    tx.commit().await?;
    let report = IngestReport {
        rows: outcomes
            .into_iter()
            .map(|o| o.unwrap_or(RowOutcome::Duplicate))
            .collect(),
    };
    tracing::info!(
        source,
        stored = report.stored(),
        duplicates = report.duplicates(),
        errors = report.errors(),
        flagged = report.flagged(),
        "tracking events ingested"
    );
    Ok(report)
}

fn new_event<'a>(
    e: &'a ValidEvent,
    flag: Option<Flag>,
    source: &'a str,
    now: DateTime<Utc>,
) -> NewEvent<'a> {
    NewEvent {
        tracking_number: e.tracking_number.as_str(),
        code: e.code,
        status: e.status.as_str(),
        location: &e.location,
        event_time: e.event_time,
        reason_code: e.reason_code,
        action_code: e.action_code,
        flag: flag.map(Flag::as_str),
        source,
        received_at: now,
    }
}

fn stored_event(e: &ValidEvent, flag: Option<Flag>) -> StoredEvent {
    StoredEvent {
        tracking_number: e.tracking_number.as_str().to_owned(),
        code: e.code,
        status: e.status,
        location: e.location.clone(),
        event_time: e.event_time,
        reason_code: e.reason_code,
        action_code: e.action_code,
        flag,
    }
}

/// Records the UPU acceptance (EMA) of an item at an office, inside the caller's transaction
/// (the counter's acceptance calls it), with what follows from it (the recipient's notice, the
/// business's webhook). `source` says who, such as `counter:<office code>`. True when stored,
/// false when the same acceptance was recorded before.
pub async fn record_acceptance(
    app: &App,
    tx: &mut Tx,
    tracking_number: &str,
    office_code: &str,
    at: DateTime<Utc>,
    source: &str,
) -> Result<bool, Error> {
    record_at_office(
        app,
        tx,
        tracking_number,
        office_code,
        ("EMA", Status::Accepted),
        at,
        source,
    )
    .await
}

/// Records an event that a post office's counter witnesses (`EMA` accepted, `EMI` delivered:
/// `event` is the code with the status it means) inside the caller's transaction, flagged as
/// ingest would flag it, with what follows from it (notices, webhooks). True when stored,
/// false when the same event was recorded before.
pub async fn record_at_office(
    app: &App,
    tx: &mut Tx,
    tracking_number: &str,
    office_code: &str,
    event: (&'static str, Status),
    at: DateTime<Utc>,
    source: &str,
) -> Result<bool, Error> {
    let number = input::tracking_number(tracking_number)
        .map_err(|e| Error::invalid("tracking_number", e.to_string()))?;
    let office =
        input::location_code(office_code).map_err(|e| Error::invalid("office", e.message))?;
    if !store::office_exists(tx, &office).await? {
        return Err(Error::invalid("office", "no office has this code"));
    }
    let (code, status) = event;
    let event = ValidEvent {
        tracking_number: number,
        code,
        status,
        location: office,
        event_time: at,
        reason_code: None,
        action_code: None,
    };
    let history = store::histories(tx, &[number.as_str()])
        .await?
        .remove(number.as_str())
        .unwrap_or_default();
    let flag = history.flag(event.status, at);
    let stored = store::insert_event(tx, &new_event(&event, flag, source, at)).await?;
    if stored {
        fanout::events_stored(app, tx, &[stored_event(&event, flag)]).await?;
    }
    Ok(stored)
}

/// One event of an item as anyone may see it: no flag, no source, no personal data.
#[derive(Debug, Clone)]
pub struct TrackedEvent {
    pub code: String,
    /// The code's meaning; absent for a code the table no longer has.
    pub meaning: Option<&'static EventCode>,
    pub status: Status,
    pub location: String,
    /// The office's or facility's name, as registered.
    pub place: Option<String>,
    pub event_time: DateTime<Utc>,
    pub reason_code: Option<String>,
    pub reason: Option<&'static Reason>,
    pub action_code: Option<String>,
    pub action: Option<&'static Action>,
}

/// What a lookup found for one id.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Events in event-time order; the status is the latest event's (or `pre_transit` for a
    /// booked item with no events yet).
    Found {
        id: S10,
        status: Status,
        events: Vec<TrackedEvent>,
    },
    NotFound {
        id: S10,
    },
    Invalid {
        error: S10Error,
    },
}

/// A lookup's answer for one id as it was asked.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub query: String,
    pub lookup: Lookup,
}

/// Looks items up (anyone may): up to 20 ids; each is answered on its own, so an invalid or
/// unknown id does not fail the others. An id asked twice is answered once.
pub async fn track(app: &App, ids: &[String]) -> Result<Vec<Tracked>, Error> {
    if ids.len() > MAX_IDS {
        return Err(Error::invalid(
            "ids",
            format!("at most {MAX_IDS} tracking numbers at once"),
        ));
    }
    let mut asked: Vec<(String, Result<S10, S10Error>)> = Vec::new();
    let mut valid: Vec<S10> = Vec::new();
    for query in ids {
        let parsed = input::tracking_number(query);
        if let Ok(id) = parsed {
            if valid.contains(&id) {
                continue;
            }
            valid.push(id);
        }
        asked.push((query.clone(), parsed));
    }
    let numbers: Vec<&str> = valid.iter().map(S10::as_str).collect();
    let mut conn = app.db.conn().await?;
    let rows = store::events_of(&mut conn, &numbers).await?;
    let mut codes_seen: Vec<&str> = rows.iter().map(|r| r.location.as_str()).collect();
    codes_seen.sort_unstable();
    codes_seen.dedup();
    let names = places::names(app, &mut conn, &codes_seen).await?;
    let table = codes::table();
    let mut by_item: HashMap<String, Vec<TrackedEvent>> = HashMap::new();
    for r in rows {
        let place = names.get(&r.location).cloned();
        by_item
            .entry(r.tracking_number.clone())
            .or_default()
            .push(TrackedEvent {
                meaning: table.event(&r.code),
                reason: r.reason_code.as_deref().and_then(|c| table.reason(c)),
                action: r.action_code.as_deref().and_then(|c| table.action(c)),
                code: r.code,
                status: store::status_of(&r.status),
                location: r.location,
                place,
                event_time: r.event_time,
                reason_code: r.reason_code,
                action_code: r.action_code,
            });
    }
    let unseen: Vec<&str> = numbers
        .iter()
        .copied()
        .filter(|n| !by_item.contains_key(*n))
        .collect();
    let booked = store::booked(&mut conn, &unseen).await?;
    Ok(asked
        .into_iter()
        .map(|(query, parsed)| {
            let lookup = match parsed {
                Err(error) => Lookup::Invalid { error },
                Ok(id) => match by_item.remove(id.as_str()) {
                    Some(events) => Lookup::Found {
                        id,
                        status: events.last().map_or(Status::PreTransit, |e| e.status),
                        events,
                    },
                    None if booked.contains(id.as_str()) => Lookup::Found {
                        id,
                        status: Status::PreTransit,
                        events: Vec::new(),
                    },
                    None => Lookup::NotFound { id },
                },
            };
            Tracked { query, lookup }
        })
        .collect())
}

/// A page of flagged events and whose they are.
#[derive(Debug, Clone)]
pub struct Flagged {
    pub rows: Vec<FlaggedRow>,
    /// The office whose events these are; `None` for an admin's list of all.
    pub office_code: Option<String>,
    pub more: bool,
}

/// Flagged events for staff: a clerk or manager sees those at their own office, an admin
/// sees all.
pub async fn flagged(
    app: &App,
    user: &SessionUser,
    limit: i64,
    offset: i64,
) -> Result<Flagged, Error> {
    let mut conn = app.db.conn().await?;
    let office_code = match user.role {
        Role::Admin => None,
        Role::Clerk | Role::Manager => {
            let id = user.office_id.ok_or(Error::Forbidden)?;
            let office = office_store::by_id(&mut conn, id)
                .await?
                .ok_or(Error::Forbidden)?;
            Some(office.code)
        }
        Role::Citizen => return Err(Error::Forbidden),
    };
    let mut rows = store::flagged(&mut conn, office_code.as_deref(), limit + 1, offset).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(Flagged {
        rows,
        office_code,
        more,
    })
}

/// Every registered facility (anyone staff may read the list; admins change it).
pub async fn facilities(app: &App) -> Result<Vec<FacilityRow>, Error> {
    let mut conn = app.db.conn().await?;
    store::facilities(&mut conn).await
}

/// Longest facility name, in characters.
pub const MAX_FACILITY_NAME: usize = 100;

/// An admin registers a facility (a sorting centre, an exchange office, a depot) whose code
/// scanners may then post events at, or renames one. True when it is new.
pub async fn save_facility(
    app: &App,
    user: &SessionUser,
    code: &str,
    name: &str,
) -> Result<bool, Error> {
    if user.role != Role::Admin {
        return Err(Error::Forbidden);
    }
    let code = input::location_code(code)
        .map_err(|_| Error::invalid("code", "must be 1 to 16 letters or digits"))?;
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_FACILITY_NAME
        || name.chars().any(char::is_control)
    {
        return Err(Error::invalid(
            "name",
            "is required, at most 100 characters on one line",
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if store::office_exists(&mut tx, &code).await? {
        return Err(Error::conflict(
            "a post office has this code; events there already count",
        ));
    }
    let added = store::upsert_facility(&mut tx, &code, name, now).await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(user.id),
            action: if added {
                "tracking.facility.added"
            } else {
                "tracking.facility.renamed"
            },
            subject: &format!("facility:{code}"),
            office_id: None,
            details: json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    places::forget(app);
    tracing::info!(facility = %code, added, "facility saved");
    Ok(added)
}
