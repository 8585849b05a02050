//! Receiving use cases: proving one is an item's recipient (a one-time code to the phone or
//! e-mail on the item, or a citizen account with that e-mail), what the recipient sees, and
//! what they may choose (home or a post office, another address, another person to collect).
//! The only place with receiving's transactions and authorisation rules; the choices are in
//! `service/choices.rs`.

mod choices;

use chrono::Duration;
use eposta_formats::s10::S10;
use eposta_kernel::accounts::Role;
use eposta_kernel::accounts::store as account_store;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::db::Exec;
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::notify::{self, Channel, Message, mask_recipient};
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error, ids};
use serde_json::json;
use uuid::Uuid;

pub use choices::{
    CollectorInput, DestinationChoice, Pickup, RecipientView, Refused, addressed_to, set_collector,
    set_destination, view,
};

use super::domain::{
    self, CODE_VALID, MAX_ATTEMPTS, SEND_WINDOW, SENDS_PER_CLIENT, SENDS_PER_ITEM, SESSION_VALID,
};
use super::store::{self, LiveCode};
use crate::booking::store::{self as item_store, ItemRow};

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
