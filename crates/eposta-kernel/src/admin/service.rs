//! Admin use cases that belong to no other module: reading an outbox message in full (an
//! access to personal data, so it is audited) and listing and checking the audit log.
//! Accounts and API keys have their rules in `accounts::service` and `apikeys`.

use std::collections::HashMap;

use uuid::Uuid;

use crate::app::App;
use crate::audit::{self, Actor, Verdict};
use crate::db::Exec;
use crate::error::Error;
use crate::notify::{self, OutboxRow};

/// How many rows the console's lists show.
pub const LIST_LIMIT: i64 = 200;

/// The newest outbox messages.
pub async fn outbox(app: &App) -> Result<Vec<OutboxRow>, Error> {
    let mut conn = app.db.conn().await?;
    notify::recent(&mut conn, LIST_LIMIT).await
}

/// One outbox message in full, recipient and body included. Staff reading a citizen's
/// message is an access to personal data, so the reading is recorded in the same
/// transaction (the entry names the message, never its content).
pub async fn view_outbox_message(app: &App, actor: &Actor, id: Uuid) -> Result<OutboxRow, Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let msg = notify::get(&mut tx, id).await?.ok_or(Error::NotFound)?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor,
            action: "outbox.viewed",
            subject: &format!("outbox:{id}"),
            office_id: None,
            details: serde_json::json!({ "channel": msg.channel }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(message = %id, by = %actor, "outbox message viewed");
    Ok(msg)
}

/// The newest audit entries, with the codes of the offices they name.
pub async fn audit_entries(app: &App) -> Result<(Vec<audit::Row>, HashMap<Uuid, String>), Error> {
    let mut conn = app.db.conn().await?;
    let rows = audit::recent(&mut conn, None, LIST_LIMIT).await?;
    let codes = office_codes(&mut conn, rows.iter().filter_map(|r| r.office_id)).await?;
    Ok((rows, codes))
}

/// Walks the whole chain. It reads every entry, so it runs only when an admin asks.
pub async fn verify_audit(app: &App) -> Result<Verdict, Error> {
    let mut conn = app.db.conn().await?;
    audit::verify(&mut conn).await
}

/// The codes of the offices with these ids, each looked up once.
async fn office_codes(
    c: &mut impl Exec,
    ids: impl Iterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, Error> {
    let mut codes = HashMap::new();
    for id in ids {
        if !codes.contains_key(&id)
            && let Some(o) = crate::offices::store::by_id(c, id).await?
        {
            codes.insert(id, o.code);
        }
    }
    Ok(codes)
}
