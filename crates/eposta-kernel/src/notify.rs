//! The `Notifier`: e-mail and SMS to people. Messages are written to the outbox table in the
//! caller's transaction (so a message exists exactly when the change that caused it does);
//! the admin console shows the outbox. Delivery transports (SMTP now, SMPP later) are run by
//! jobs; without a transport a message stays `held` in the outbox.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{Exec, Tx};
use crate::db_run;
use crate::error::Error;

/// A channel of the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// A message to one person.
#[derive(Debug, Clone)]
pub struct Message {
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: Uuid,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Puts a message in the outbox, `queued` when a transport for its channel will take it,
/// `held` otherwise. Returns its id.
pub async fn queue(
    tx: &mut Tx,
    now: DateTime<Utc>,
    msg: &Message,
    transport_available: bool,
) -> Result<Uuid, Error> {
    let id = crate::ids::new_id();
    let status = if transport_available {
        "queued"
    } else {
        "held"
    };
    db_run!(tx, |c| sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, body, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(id)
    .bind(msg.channel.as_str())
    .bind(&msg.recipient)
    .bind(&msg.subject)
    .bind(&msg.body)
    .bind(status)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(id)
}

/// The newest outbox messages, for the admin console.
pub async fn recent(c: &mut impl Exec, limit: i64) -> Result<Vec<OutboxRow>, Error> {
    Ok(db_run!(c, |c| {
        sqlx::query_as::<_, OutboxRow>(
        "SELECT id, channel, recipient, subject, body, status, attempts, last_error, created_at, sent_at \
         FROM outbox ORDER BY created_at DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(&mut *c)
    .await
    })?)
}

/// One outbox message, for the admin console's detail page.
pub async fn by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<OutboxRow>, Error> {
    Ok(db_run!(c, |c| {
        sqlx::query_as::<_, OutboxRow>(
        "SELECT id, channel, recipient, subject, body, status, attempts, last_error, created_at, sent_at \
         FROM outbox WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await
    })?)
}

/// Masks a phone number or e-mail address for display: `+381 6•• ••• •67`, `a•••@example.rs`.
pub fn mask_recipient(r: &str) -> String {
    if let Some((local, domain)) = r.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}•••@{domain}");
    }
    let n = r.chars().count();
    r.chars()
        .enumerate()
        .map(|(i, c)| {
            if c.is_ascii_digit() && i >= 4 && i + 2 < n {
                '•'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_recipients() {
        assert_eq!(mask_recipient("ana@example.rs"), "a•••@example.rs");
        assert_eq!(mask_recipient("+381641234567"), "+381•••••••67");
    }
}
