//! Receiving use cases: proving one is an item's recipient (a one-time code to the phone or
//! e-mail on the item, or a citizen account with that e-mail), what the recipient sees, and
//! what they may choose (home or a post office, another address, another person to collect).
//! The only place with receiving's transactions and authorisation rules.

use chrono::{DateTime, Duration, Utc};
use eposta_formats::s10::S10;
use eposta_kernel::accounts::Role;
use eposta_kernel::accounts::store as account_store;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::db::{Exec, Tx};
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::notify::{self, Channel, Message, mask_recipient};
use eposta_kernel::offices::store as office_store;
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error, ids};
use serde_json::json;
use uuid::Uuid;

use super::domain::{
    self, CODE_VALID, Destination, MAX_ATTEMPTS, Refusal, SEND_WINDOW, SENDS_PER_CLIENT,
    SENDS_PER_ITEM, SESSION_VALID,
};
use super::notices;
use super::store::{self, AddressedRow, ChoiceRow, LiveCode};
use crate::booking::store::{self as item_store, ItemRow};
use crate::domain::{FieldError, RecipientInput, Rule, parse_address};
use crate::tracking::domain::Status;
use crate::tracking::service::{self as tracking, Lookup, TrackedEvent};
use crate::tracking::store::status_of;

/// How the visitor proved they are the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Logged in as the citizen whose confirmed e-mail is the item's recipient address.
    Account(Uuid),
    /// Gave the one-time code sent to the item's contacts (a recipient session).
    Code,
}

impl Proof {
    fn actor(self) -> Actor {
        match self {
            Proof::Account(u) => Actor::User(u),
            // The person has no account: the system acts on the proven code's word.
            Proof::Code => Actor::System,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Proof::Account(_) => "account",
            Proof::Code => "code",
        }
    }
}

/// The recipient of one item, as proven.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub item: ItemRow,
    pub proof: Proof,
}

/// Whether `user` is an item's recipient by account: a citizen whose e-mail, confirmed and
/// not disabled, is the item's recipient address.
async fn is_recipient_account(
    c: &mut impl Exec,
    user: &SessionUser,
    item: &ItemRow,
) -> Result<bool, Error> {
    if user.role != Role::Citizen || item.recipient_email.as_deref() != Some(user.email.as_str()) {
        return Ok(false);
    }
    Ok(account_store::user_by_id(c, user.id)
        .await?
        .is_some_and(|u| u.email_verified && !u.disabled && u.email == user.email))
}

/// The visitor as the recipient of the item `number`, when they are: logged in as its
/// recipient, or holding a recipient session (`token`, from the cookie) for it. `None` for
/// everyone else, and for numbers that are not valid or not booked here, alike.
pub async fn recipient(
    app: &App,
    user: Option<&SessionUser>,
    token: Option<&str>,
    number: &str,
) -> Result<Option<Recipient>, Error> {
    let Ok(id) = S10::parse(number).map(|c| c.id) else {
        return Ok(None);
    };
    let mut conn = app.db.conn().await?;
    let Some(item) = item_store::by_tracking_number(&mut conn, &id).await? else {
        return Ok(None);
    };
    if let Some(user) = user
        && is_recipient_account(&mut conn, user, &item).await?
    {
        return Ok(Some(Recipient {
            proof: Proof::Account(user.id),
            item,
        }));
    }
    if let Some(token) = token {
        let session = store::session_item(&mut conn, &ids::token_hash(token), app.now()).await?;
        if session == Some(item.id) {
            return Ok(Some(Recipient {
                item,
                proof: Proof::Code,
            }));
        }
    }
    Ok(None)
}

/// What asking for a code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRequest {
    /// A code went to each of these contacts (masked); none when the number has no contact
    /// here, which looks the same as a number not booked here.
    Sent { masked: Vec<String> },
    /// Too many requests for this number or from this client in the last hour.
    Throttled,
}

/// The keyed hash of a code: HMAC under the installation's secret, bound to its request.
fn code_hash(app: &App, id: Uuid, code: &str) -> String {
    app.keyed_hash("receive-code", &format!("{id}:{code}"))
}

/// The item's contacts for codes and notices: e-mail first, then phone.
fn contacts(item: &ItemRow) -> Vec<(Channel, String)> {
    let mut out = Vec::new();
    if let Some(e) = &item.recipient_email {
        out.push((Channel::Email, e.clone()));
    }
    if let Some(p) = &item.recipient_phone {
        out.push((Channel::Sms, p.clone()));
    }
    out
}

/// Sends a one-time code for the item `number` to every contact the sender gave for its
/// recipient, in the visitor's language. Every request is recorded (and throttled) alike,
/// whether or not the number is booked here and has contacts; for a number that is not, the
/// record holds the hash of a random 256-bit value that no code can match.
pub async fn request_code(
    app: &App,
    number: &S10,
    client: &str,
    lang: Lang,
) -> Result<CodeRequest, Error> {
    let now = app.now();
    let client_key = app.keyed_hash("receive-client", client);
    let mut tx = app.db.begin().await?;
    store::delete_codes_before(&mut tx, now - Duration::days(1)).await?;
    let (per_number, per_client) =
        store::recent_requests(&mut tx, number.as_str(), &client_key, now - SEND_WINDOW).await?;
    if per_number >= SENDS_PER_ITEM || per_client >= SENDS_PER_CLIENT {
        tx.commit().await?;
        tracing::warn!(per_number, per_client, "receiving code requests throttled");
        return Ok(CodeRequest::Throttled);
    }
    let item = item_store::by_tracking_number(&mut tx, number).await?;
    let id = ids::new_id();
    let (code, to) = match &item {
        Some(i) => (domain::new_code(), contacts(i)),
        None => (ids::random_token(), Vec::new()),
    };
    store::insert_code(
        &mut tx,
        &store::NewCode {
            id,
            tracking_number: number.as_str(),
            item_id: item.as_ref().map(|i| i.id),
            code_hash: &code_hash(app, id, &code),
            client_key: &client_key,
            created_at: now,
            expires_at: now + CODE_VALID,
        },
    )
    .await?;
    let tr = Tr::new(lang);
    let minutes = CODE_VALID.num_minutes().to_string();
    let grouped = number.grouped();
    let link = format!(
        "{}/receive?{}",
        app.config.public_url.trim_end_matches('/'),
        serde_urlencoded::to_string([("id", number.as_str())]).unwrap_or_default()
    );
    let args = [
        ("code", code.as_str()),
        ("number", grouped.as_str()),
        ("minutes", minutes.as_str()),
        ("url", link.as_str()),
    ];
    for (channel, recipient) in &to {
        let (subject, body) = match channel {
            Channel::Email => (
                tr.f("receive.code.subject", &args),
                tr.f("receive.code.email", &args),
            ),
            Channel::Sms => (String::new(), tr.f("receive.code.sms", &args)),
        };
        let msg = Message {
            channel: *channel,
            recipient: recipient.clone(),
            subject,
            body,
        };
        notify::queue(app, &mut tx, now, &msg).await?;
    }
    tx.commit().await?;
    match &item {
        Some(i) => tracing::info!(item = %i.id, sent = to.len(), "receiving code requested"),
        None => tracing::info!("receiving code requested for a number not booked here"),
    }
    Ok(CodeRequest::Sent {
        masked: to.iter().map(|(_, r)| mask_recipient(r)).collect(),
    })
}

/// What checking a typed code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// The right code: a recipient session for the item (the token goes into the cookie).
    Proven { token: String, max_age: Duration },
    /// Not six digits; not counted as an attempt.
    Malformed,
    /// Another code; counted.
    Wrong,
    /// No code asked for this number is still valid: ask for a new one.
    Expired,
    /// The codes asked for this number have had their wrong tries.
    TooMany,
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks a typed code against the codes asked for the number in the last 15 minutes. Wrong
/// codes count against each of them; after [`MAX_ATTEMPTS`] they stop working. Answers alike
/// whether or not the number is booked here.
pub async fn verify_code(app: &App, number: &S10, typed: &str) -> Result<CodeCheck, Error> {
    let Some(typed) = domain::parse_code(typed) else {
        return Ok(CodeCheck::Malformed);
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let live = store::live_codes(&mut tx, number.as_str(), now).await?;
    if live.is_empty() {
        return Ok(CodeCheck::Expired);
    }
    let usable: Vec<&LiveCode> = live.iter().filter(|c| c.attempts < MAX_ATTEMPTS).collect();
    if usable.is_empty() {
        return Ok(CodeCheck::TooMany);
    }
    let hit = usable
        .iter()
        .find(|c| same(&c.code_hash, &code_hash(app, c.id, &typed)));
    let Some((code_id, item_id)) = hit.and_then(|c| c.item_id.map(|i| (c.id, i))) else {
        store::count_wrong_code(&mut tx, number.as_str(), now, MAX_ATTEMPTS).await?;
        tx.commit().await?;
        let left = usable.iter().any(|c| c.attempts + 1 < MAX_ATTEMPTS);
        tracing::info!(left, "wrong receiving code");
        return Ok(if left {
            CodeCheck::Wrong
        } else {
            CodeCheck::TooMany
        });
    };
    if !store::use_codes(&mut tx, number.as_str(), code_id, now).await? {
        return Ok(CodeCheck::Expired);
    }
    let token = ids::random_token();
    store::insert_session(
        &mut tx,
        &ids::token_hash(&token),
        item_id,
        now,
        now + SESSION_VALID,
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::System,
            action: "postal.receiving.proven",
            subject: &format!("postal_item:{item_id}"),
            office_id: None,
            details: json!({ "by": "code" }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(item = %item_id, "recipient proven by code");
    Ok(CodeCheck::Proven {
        token,
        max_age: SESSION_VALID,
    })
}

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
            let office = office_store::by_code(&mut conn, &last.location).await?;
            let chosen = choice.as_ref().filter(|c| c.office_code.is_some());
            Some(match (office, chosen) {
                (Some(o), _) => Pickup {
                    office_code: o.code,
                    office_name: Some(o.name),
                    office_address: Some(o.address),
                    hours: o.opening_hours,
                    since: last.event_time,
                    deadline: String::new(),
                },
                (None, Some(c)) => Pickup {
                    office_code: c.office_code.clone().unwrap_or_default(),
                    office_name: c.office_name.clone(),
                    office_address: c.office_address.clone(),
                    hours: c.office_hours.clone(),
                    since: last.event_time,
                    deadline: String::new(),
                },
                (None, None) => Pickup {
                    office_code: last.location.clone(),
                    office_name: last.place.clone(),
                    office_address: None,
                    hours: None,
                    since: last.event_time,
                    deadline: String::new(),
                },
            })
            .map(|mut p| {
                p.deadline = notices::deadline_text(p.since, app.config.postal_pickup_days);
                p
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
