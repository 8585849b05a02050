//! The notifier: e-mail and SMS to people. Messages are written to the outbox table in the
//! caller's transaction (so a message exists exactly when the change that caused it does);
//! the admin console shows the outbox. Delivery is a job enqueued in the same transaction
//! ([`email::DeliverEmail`] over SMTP; SMS over SMPP comes later); without a transport for
//! its channel a message stays `held` in the outbox.

pub mod email;
pub mod store;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::app::App;
use crate::db::{Exec, Tx};
use crate::error::Error;

pub use store::{OutboxRow, recent};

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

/// The state of an outbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No transport for its channel: kept for the admin console, not sent.
    Held,
    /// A delivery job will send it.
    Queued,
    Sent,
    /// Delivery gave up (see `last_error`).
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Queued => "queued",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "held" => Some(Status::Held),
            "queued" => Some(Status::Queued),
            "sent" => Some(Status::Sent),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
}

/// Puts a message in the outbox in the caller's transaction and returns its id. An e-mail is
/// `queued` with a [`email::DeliverEmail`] job beside it when SMTP is configured; anything
/// else (SMS for now) is `held`.
pub async fn queue(
    app: &App,
    tx: &mut Tx,
    now: DateTime<Utc>,
    msg: &Message,
) -> Result<Uuid, Error> {
    let deliver = match msg.channel {
        Channel::Email => app.mailer.is_some(),
        // The SMPP transport comes with the SMS capability.
        Channel::Sms => false,
    };
    let status = if deliver {
        Status::Queued
    } else {
        Status::Held
    };
    let id = crate::ids::new_id();
    store::insert(tx, id, msg, status, now).await?;
    if deliver {
        crate::jobs::enqueue(tx, now, &email::DeliverEmail { outbox_id: id }).await?;
    }
    Ok(id)
}

/// One outbox message.
pub async fn get(c: &mut impl Exec, id: Uuid) -> Result<Option<OutboxRow>, Error> {
    store::by_id(c, id).await
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
