//! Signed webhooks, for every capability: an organisation registers HTTPS endpoints with the
//! event types it wants; a capability hands events over inside its own transaction
//! ([`service::enqueue`]); a job per (endpoint, event) POSTs the JSON body signed with
//! HMAC-SHA256 over `<timestamp>.<body>`, retries with the job queue's backoff, and records
//! every attempt, which the console and the API show. docs/webhooks.md is the receivers'
//! guide.

pub mod api;
pub mod deliver;
pub mod domain;
pub mod service;
pub mod store;

pub use deliver::DeliverWebhook;
pub use service::{Event, enqueue};

/// Every event type an endpoint can take. Capabilities add theirs here as they land.
pub const EVENT_TYPES: &[(&str, &str)] = &[(
    "tracking.updated",
    "a postal item booked by the organisation has a new tracking event",
)];

/// The API-key scope for managing webhooks through the API.
pub const SCOPE: &str = "webhooks:manage";

/// Most endpoints one organisation may have.
pub const MAX_ENDPOINTS: i64 = 10;
