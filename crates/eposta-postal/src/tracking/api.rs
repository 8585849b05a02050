//! The tracking JSON API: scanners and sorting centres post events in batches
//! (`tracking:write`); customers look items up (`postal:track`).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use eposta_kernel::App;
use eposta_kernel::Error;
use eposta_kernel::web::error::ApiError;
use eposta_kernel::web::extract::{Json as Body, Path};
use eposta_kernel::web::principal::KeyHolder;
use serde::Serialize;

use super::domain::{self, Flag, Status};
use super::input::RawEvent;
use super::service::{self, Lookup, RowOutcome, TrackedEvent};

/// The scope a key needs to post events: a right of its own, because reading tracking
/// (`postal:track`, which business customers get) must not let anyone write "delivered".
pub const WRITE_SCOPE: &str = "tracking:write";
/// The scope a key needs to look items up.
pub const READ_SCOPE: &str = "postal:track";

/// The answer to a batch of events: totals, then one result per event in the order posted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestAnswer {
    pub stored: usize,
    pub duplicates: usize,
    pub errors: usize,
    /// Stored events that do not fit their item's history (also counted in `stored`).
    pub flagged: usize,
    pub results: Vec<RowResult>,
}

/// What became of one event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowResult {
    /// The event's position in the posted array, from 0.
    pub index: usize,
    /// `stored`, `duplicate` (the same event was stored before; nothing changed) or `error`
    /// (not stored; `field` and `message` say why).
    #[schema(example = "stored")]
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Why a stored event looks impossible in its item's history; staff see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Post tracking events
///
/// A JSON array of 1 to 1,000 events. Each is checked on its own: a valid tracking number
/// (UPU S10), a known UPU event code, a location that is an office code or a registered
/// facility code, an RFC 3339 time no more than 5 minutes in the future, and for EMH
/// (delivery attempted) the non-delivery `reason_code` and the `action_code`. Valid events
/// are stored even when others in the batch are not; the same event (tracking number, code,
/// location and time) posted again is reported as `duplicate` and stored once. Events may
/// come in any order. An event that does not fit its item's history (delivered before
/// accepted, anything after delivery) is stored with a `flag` for staff to look at.
#[utoipa::path(
    post,
    path = "/api/v1/tracking/events",
    tag = "tracking",
    operation_id = "post_tracking_events",
    request_body(content = Vec<RawEvent>, description = "1 to 1,000 events", content_type = "application/json"),
    responses(
        (status = 200, description = "One result per event, in the order posted", body = IngestAnswer),
        (status = 422, description = "Not an array, or more than 1,000 events", body = eposta_kernel::web::error::ErrorBody),
    ),
    security(("api_key" = ["tracking:write"]))
)]
pub async fn post_events(
    State(app): State<App>,
    key: KeyHolder,
    Body(rows): Body<Vec<serde_json::Value>>,
) -> Result<Json<IngestAnswer>, ApiError> {
    let report = service::ingest(&app, &format!("key:{}", key.key_id), &rows).await?;
    let results = report
        .rows
        .iter()
        .enumerate()
        .map(|(index, o)| match o {
            RowOutcome::Stored { status, flag } => RowResult {
                index,
                result: "stored",
                status: Some(*status),
                flag: *flag,
                field: None,
                message: None,
            },
            RowOutcome::Duplicate => RowResult {
                index,
                result: "duplicate",
                status: None,
                flag: None,
                field: None,
                message: None,
            },
            RowOutcome::Error(e) => RowResult {
                index,
                result: "error",
                status: None,
                flag: None,
                field: Some(e.field),
                message: Some(e.message.clone()),
            },
        })
        .collect();
    Ok(Json(IngestAnswer {
        stored: report.stored(),
        duplicates: report.duplicates(),
        errors: report.errors(),
        flagged: report.flagged(),
        results,
    }))
}

/// The answer to a lookup: one result per id asked (an id asked twice, once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrackingAnswer {
    pub results: Vec<ItemResult>,
}

/// One item, or why there is none.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemResult {
    /// The id as asked.
    pub query: String,
    /// `found`, `not_found` (a valid number we have no record of) or `invalid` (not an S10
    /// number; `message` says why).
    #[schema(example = "found")]
    pub result: &'static str,
    /// The normalised S10 number.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "RA123456785RS")]
    pub tracking_number: Option<String>,
    /// The status of the latest event by event time (`pre_transit` when booked and not yet
    /// handed in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Oldest first, by event time.
    pub events: Vec<EventOut>,
}

/// One event of an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventOut {
    /// The UPU event code.
    #[schema(example = "EMA")]
    pub code: String,
    /// What the code means, in English.
    pub description: Option<&'static str>,
    pub status: Status,
    /// When it happened, UTC.
    pub event_time: DateTime<Utc>,
    /// The same instant in Europe/Belgrade time, with its offset.
    #[schema(example = "2026-03-02T10:15:00+01:00")]
    pub local_time: String,
    /// The office or facility code.
    #[schema(example = "11101")]
    pub location: String,
    /// The office's or facility's name, as registered (usually in Cyrillic).
    #[schema(example = "Београд 1")]
    pub place: Option<String>,
    /// The non-delivery reason (EMH).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<CodeOut>,
    /// The action taken (EMH).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<CodeOut>,
}

/// A code and what it means.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CodeOut {
    pub code: String,
    pub description: Option<&'static str>,
}

impl EventOut {
    fn new(e: TrackedEvent) -> EventOut {
        EventOut {
            description: e.meaning.map(|m| m.en.as_str()),
            local_time: e
                .event_time
                .with_timezone(&chrono_tz::Europe::Belgrade)
                .to_rfc3339(),
            reason: e.reason_code.map(|code| CodeOut {
                code,
                description: e.reason.map(|r| r.en.as_str()),
            }),
            action: e.action_code.map(|code| CodeOut {
                code,
                description: e.action.map(|a| a.en.as_str()),
            }),
            code: e.code,
            status: e.status,
            event_time: e.event_time,
            location: e.location,
            place: e.place,
        }
    }
}

/// Track items
///
/// Up to 20 tracking numbers, separated by commas. Each is answered on its own: an invalid
/// or unknown number does not fail the others. Events come oldest first by the time they
/// happened, whatever order they were posted in; the status is the latest event's. No
/// personal data (names, addresses, phone numbers) is ever part of the answer.
#[utoipa::path(
    get,
    path = "/api/v1/tracking/{ids}",
    tag = "tracking",
    operation_id = "track_items",
    params(("ids" = String, Path, description = "1 to 20 tracking numbers separated by commas", example = "RA123456785RS,EE876543216CA")),
    responses(
        (status = 200, description = "One result per tracking number", body = TrackingAnswer),
        (status = 422, description = "No tracking number, or more than 20", body = eposta_kernel::web::error::ErrorBody),
    ),
    security(("api_key" = ["postal:track"]))
)]
pub async fn track(
    State(app): State<App>,
    Path(ids): Path<String>,
) -> Result<Json<TrackingAnswer>, ApiError> {
    let ids = domain::split_ids(&ids).map_err(|e| Error::invalid("ids", e.message))?;
    if ids.is_empty() {
        return Err(Error::invalid("ids", "name at least one tracking number").into());
    }
    let found = service::track(&app, &ids).await?;
    let results = found
        .into_iter()
        .map(|t| match t.lookup {
            Lookup::Found { id, status, events } => ItemResult {
                query: t.query,
                result: "found",
                tracking_number: Some(id.as_str().to_owned()),
                status: Some(status),
                message: None,
                events: events.into_iter().map(EventOut::new).collect(),
            },
            Lookup::NotFound { id } => ItemResult {
                query: t.query,
                result: "not_found",
                tracking_number: Some(id.as_str().to_owned()),
                status: None,
                message: None,
                events: Vec::new(),
            },
            Lookup::Invalid { error } => ItemResult {
                query: t.query,
                result: "invalid",
                tracking_number: None,
                status: None,
                message: Some(error.to_string()),
                events: Vec::new(),
            },
        })
        .collect();
    Ok(Json(TrackingAnswer { results }))
}

/// The OpenAPI description of the tracking operations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(post_events, track))]
    struct TrackingApi;
    <TrackingApi as utoipa::OpenApi>::openapi()
}
