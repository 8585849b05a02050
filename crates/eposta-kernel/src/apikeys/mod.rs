//! API keys for agencies and businesses: shown once, stored as SHA-256, scoped, revocable,
//! each with a name and a last-used time.

pub mod store;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::app::App;
use crate::audit::{self, Actor};
use crate::error::Error;
use crate::ids;
use crate::web::principal::KeyHolder;

/// Every scope a key can carry. Capabilities add theirs here as they land.
pub const SCOPES: &[(&str, &str)] = &[
    ("sms:send", "send SMS and run campaigns"),
    ("postal:book", "book shipments"),
    ("postal:track", "read tracking"),
    (
        "tracking:write",
        "post tracking events (scanners, sorting centres)",
    ),
    (
        "payments:write",
        "create payments, read them and refund them",
    ),
    (
        "notary:submit",
        "notarise documents and send registered deliveries",
    ),
    ("offices:read", "read the post-office registry"),
    (
        "webhooks:manage",
        "register webhooks and read their deliveries",
    ),
];

/// Scopes only the post's administrators give out: scanners and sorting centres post
/// tracking events for every item, which no customer may do for itself.
pub const STAFF_ONLY: &[&str] = &["tracking:write"];

/// The scopes an organisation's owners may put on keys they issue themselves in the console.
pub fn self_service_scopes() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    SCOPES.iter().filter(|(s, _)| !STAFF_ONLY.contains(s))
}

/// How long a key's `last_used_at` may lag, so that a busy key does not write on every call.
const LAST_USED_GRANULARITY: chrono::Duration = chrono::Duration::minutes(1);

/// Keys look like `ep_<prefix>_<secret>`; the prefix is stored in clear to tell keys apart.
fn split_key(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("ep_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 8 && secret.len() >= 32).then_some(prefix)
}

/// How long a key stays trusted in memory after the database last said it is live, so that
/// a busy key costs no query per request. A key revoked through this process stops at once
/// ([`revoke`] forgets it); one revoked through another process on the same database stops
/// within this time.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// Most keys remembered at once; past it the memory starts afresh.
const CACHE_MAX: usize = 10_000;

/// Keys recently found live, by the SHA-256 of their token (never the token itself).
#[derive(Default)]
struct KeyCache(Mutex<Remembered>);

#[derive(Default)]
struct Remembered {
    keys: HashMap<String, Cached>,
    /// Counts revocations, so that a lookup that raced one is not remembered.
    generation: u64,
}

#[derive(Clone)]
struct Cached {
    holder: KeyHolder,
    /// When the database last vouched for the key (monotonic, for [`CACHE_TTL`]).
    checked: Instant,
    /// The key's `last_used_at` as last written (the app's clock).
    last_used_at: Option<DateTime<Utc>>,
}

impl KeyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key if the database vouched for it less than [`CACHE_TTL`] ago, and the
    /// generation to remember a fresh lookup under.
    fn fresh(&self, hash: &str) -> (Option<Cached>, u64) {
        let mut r = self.lock();
        let hit = match r.keys.get(hash) {
            Some(c) if c.checked.elapsed() < CACHE_TTL => Some(c.clone()),
            Some(_) => {
                r.keys.remove(hash);
                None
            }
            None => None,
        };
        (hit, r.generation)
    }

    /// Remembers a key found live, unless a key was revoked since the lookup began.
    fn remember(&self, hash: String, entry: Cached, generation: u64) {
        let mut r = self.lock();
        if r.generation != generation {
            return;
        }
        if r.keys.len() >= CACHE_MAX && !r.keys.contains_key(&hash) {
            r.keys.clear();
        }
        r.keys.insert(hash, entry);
    }

    fn touched(&self, hash: &str, at: DateTime<Utc>) {
        if let Some(c) = self.lock().keys.get_mut(hash) {
            c.last_used_at = Some(at);
        }
    }

    fn forget(&self, id: Uuid) {
        let mut r = self.lock();
        r.generation += 1;
        r.keys.retain(|_, c| c.holder.key_id != id);
    }
}

/// Finds the live key for a bearer token; `None` for unknown, malformed or revoked keys.
/// A key found live is remembered for [`CACHE_TTL`]; its `last_used_at` is written at most
/// once a minute either way.
pub async fn authenticate(app: &App, token: &str) -> Result<Option<KeyHolder>, Error> {
    if split_key(token).is_none() {
        return Ok(None);
    }
    let hash = ids::token_hash(token);
    let cache = app.local::<KeyCache>();
    let now = app.now();
    let (hit, generation) = cache.fresh(&hash);
    if let Some(hit) = hit {
        if hit
            .last_used_at
            .is_none_or(|t| now - t > LAST_USED_GRANULARITY)
        {
            let mut tx = app.db.begin().await?;
            store::touch(&mut tx, hit.holder.key_id, now).await?;
            tx.commit().await?;
            cache.touched(&hash, now);
        }
        return Ok(Some(hit.holder));
    }
    let checked = Instant::now();
    let mut conn = app.db.conn().await?;
    let Some(row) = store::live_by_hash(&mut conn, &hash).await? else {
        return Ok(None);
    };
    drop(conn);
    let mut last_used_at = row.last_used_at;
    if last_used_at.is_none_or(|t| now - t > LAST_USED_GRANULARITY) {
        let mut tx = app.db.begin().await?;
        store::touch(&mut tx, row.id, now).await?;
        tx.commit().await?;
        last_used_at = Some(now);
    }
    let holder = KeyHolder {
        key_id: row.id,
        organisation_id: row.organisation_id,
        scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
    };
    cache.remember(
        hash,
        Cached {
            holder: holder.clone(),
            checked,
            last_used_at,
        },
        generation,
    );
    Ok(Some(holder))
}

/// The calling key as its holder may see it: name, prefix, scopes and organisation.
pub async fn describe(app: &App, key: &KeyHolder) -> Result<store::KeyRow, Error> {
    let mut conn = app.db.conn().await?;
    store::live_by_id(&mut conn, key.key_id)
        .await?
        .ok_or(Error::Unauthenticated)
}

/// A new key: the secret is in `token` and is never stored or shown again.
#[derive(Debug)]
pub struct IssuedKey {
    pub id: Uuid,
    pub token: String,
}

pub async fn issue(
    app: &App,
    actor: &Actor,
    organisation_id: Uuid,
    name: &str,
    scopes: &[String],
) -> Result<IssuedKey, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    if scopes.is_empty() {
        return Err(Error::invalid("scopes", "choose at least one scope"));
    }
    for s in scopes {
        if !SCOPES.iter().any(|(k, _)| k == s) {
            return Err(Error::invalid("scopes", format!("unknown scope {s}")));
        }
    }
    let prefix: String = ids::random_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let token = format!("ep_{prefix}_{}", ids::random_token());
    let id = ids::new_id();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::insert(
        &mut tx,
        id,
        organisation_id,
        name,
        &prefix,
        &ids::token_hash(&token),
        &scopes.join(" "),
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "apikey.issued",
            subject: &format!("key:{id}"),
            office_id: None,
            details: serde_json::json!({ "organisation": organisation_id, "scopes": scopes, "prefix": prefix }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(key = %id, organisation = %organisation_id, "API key issued");
    Ok(IssuedKey { id, token })
}

/// An organisation's owner issues a key for it from the console: as [`issue`], but never with
/// a [`STAFF_ONLY`] scope.
pub async fn issue_own(
    app: &App,
    actor: &Actor,
    organisation_id: Uuid,
    name: &str,
    scopes: &[String],
) -> Result<IssuedKey, Error> {
    if let Some(s) = scopes.iter().find(|s| STAFF_ONLY.contains(&s.as_str())) {
        return Err(Error::invalid(
            "scopes",
            format!("{s} is given out by the post's administrators only"),
        ));
    }
    issue(app, actor, organisation_id, name, scopes).await
}

/// The organisation's keys, newest first, revoked ones included.
pub async fn keys_of(app: &App, organisation_id: Uuid) -> Result<Vec<store::KeyRow>, Error> {
    let mut conn = app.db.conn().await?;
    store::list_for(&mut conn, organisation_id).await
}

/// Revokes any organisation's key (the admins' page).
pub async fn revoke(app: &App, actor: &Actor, id: Uuid) -> Result<(), Error> {
    revoke_in(app, actor, None, id).await
}

/// An organisation's owner revokes one of its keys from the console.
pub async fn revoke_own(
    app: &App,
    actor: &Actor,
    organisation_id: Uuid,
    id: Uuid,
) -> Result<(), Error> {
    revoke_in(app, actor, Some(organisation_id), id).await
}

async fn revoke_in(
    app: &App,
    actor: &Actor,
    organisation: Option<Uuid>,
    id: Uuid,
) -> Result<(), Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if let Some(org) = organisation
        && store::live_by_id(&mut tx, id)
            .await?
            .is_none_or(|k| k.organisation_id != org)
    {
        return Err(Error::NotFound);
    }
    if !store::revoke(&mut tx, id, now).await? {
        return Err(Error::NotFound);
    }
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "apikey.revoked",
            subject: &format!("key:{id}"),
            office_id: None,
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    app.local::<KeyCache>().forget(id);
    Ok(())
}

pub async fn create_organisation(
    app: &App,
    actor: &Actor,
    name: &str,
    kind: &str,
) -> Result<Uuid, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    if !matches!(kind, "agency" | "business") {
        return Err(Error::invalid("kind", "must be agency or business"));
    }
    let id = ids::new_id();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::insert_organisation(&mut tx, id, name, kind, now)
        .await
        .map_err(|e| match e {
            Error::Conflict(_) => Error::invalid("name", "an organisation with this name exists"),
            e => e,
        })?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "organisation.created",
            subject: &format!("organisation:{id}"),
            office_id: None,
            details: serde_json::json!({ "kind": kind }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shape() {
        assert_eq!(
            split_key(&format!("ep_abcdEFGH_{}", "x".repeat(43))),
            Some("abcdEFGH")
        );
        assert_eq!(split_key("ep_short_xxx"), None);
        assert_eq!(split_key("Bearer whatever"), None);
    }

    fn entry(id: Uuid) -> Cached {
        Cached {
            holder: KeyHolder {
                key_id: id,
                organisation_id: Uuid::nil(),
                scopes: vec!["postal:track".into()],
            },
            checked: Instant::now(),
            last_used_at: None,
        }
    }

    #[test]
    fn the_cache_forgets_revoked_keys_and_lookups_that_raced_a_revocation() {
        let cache = KeyCache::default();
        let id = ids::new_id();
        let (hit, generation) = cache.fresh("hash");
        assert!(hit.is_none());
        // A key is revoked while the lookup is at the database: its answer is not kept.
        cache.forget(ids::new_id());
        cache.remember("hash".into(), entry(id), generation);
        assert!(cache.fresh("hash").0.is_none());

        let (_, generation) = cache.fresh("hash");
        cache.remember("hash".into(), entry(id), generation);
        assert_eq!(cache.fresh("hash").0.map(|c| c.holder.key_id), Some(id));
        cache.forget(id);
        assert!(cache.fresh("hash").0.is_none());

        let stale = Cached {
            checked: Instant::now() - CACHE_TTL,
            ..entry(id)
        };
        let (_, generation) = cache.fresh("hash");
        cache.remember("hash".into(), stale, generation);
        assert!(cache.fresh("hash").0.is_none(), "older than the TTL");
    }
}
