//! The names of the places events happen at (post offices and facilities), kept in memory
//! for lookups. A lookup shows every event's place by name; joining the offices and
//! facilities on every lookup cost the database more than finding the events themselves
//! (docs/benchmarks.md, "Tracking lookups"), while the names are few and rarely change.
//!
//! Names are fetched on first need, code by code, and trusted for [`TTL`]: a new office or
//! facility shows at once (its code is not known yet, so it is fetched); a renamed one shows
//! under its new name within [`TTL`], and at once for a facility renamed through this process
//! ([`forget`]).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use eposta_kernel::db::Exec;
use eposta_kernel::{App, Error};

use super::store;

/// How long a name (or the absence of one) is trusted.
pub const TTL: Duration = Duration::from_secs(60);

/// The names known to this process: code → name (`None`: neither an office nor a facility).
/// One per app ([`App::local`]).
#[derive(Default)]
struct Places(Mutex<Known>);

struct Known {
    names: HashMap<String, Option<String>>,
    /// When `names` started to fill; all of it is dropped after [`TTL`].
    since: Instant,
    /// Counts [`forget`]s, so that names fetched before one are not kept.
    generation: u64,
}

impl Default for Known {
    fn default() -> Self {
        Known {
            names: HashMap::new(),
            since: Instant::now(),
            generation: 0,
        }
    }
}

impl Places {
    fn lock(&self) -> MutexGuard<'_, Known> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The name of each of `codes` that an office or facility has; codes without one are
/// absent from the answer. Asks the database only for codes not known yet.
pub async fn names(
    app: &App,
    c: &mut impl Exec,
    codes: &[&str],
) -> Result<HashMap<String, String>, Error> {
    let places = app.local::<Places>();
    let mut out = HashMap::with_capacity(codes.len());
    let mut missing: Vec<&str> = Vec::new();
    let generation = {
        let mut known = places.lock();
        if known.since.elapsed() > TTL {
            known.names.clear();
            known.since = Instant::now();
        }
        for code in codes {
            match known.names.get(*code) {
                Some(Some(name)) => {
                    out.insert((*code).to_owned(), name.clone());
                }
                Some(None) => {}
                None if !missing.contains(code) => missing.push(code),
                None => {}
            }
        }
        known.generation
    };
    if missing.is_empty() {
        return Ok(out);
    }
    let found: HashMap<String, String> =
        store::place_names(c, &missing).await?.into_iter().collect();
    let mut known = places.lock();
    if known.generation == generation {
        for code in &missing {
            known
                .names
                .insert((*code).to_owned(), found.get(*code).cloned());
        }
    }
    drop(known);
    out.extend(found);
    Ok(out)
}

/// Drops every name this process knows, after a facility was added or renamed.
pub fn forget(app: &App) {
    let places = app.local::<Places>();
    let mut known = places.lock();
    known.names.clear();
    known.since = Instant::now();
    known.generation += 1;
}
