//! Notices to recipients when their items move: accepted, out for delivery, waiting at a post
//! office (with the office, its hours and the pickup deadline), delivered; with the
//! cash-on-delivery amount while there is one to pay.
//!
//! [`events_stored`] runs inside the transaction that stores tracking events (from
//! `tracking::fanout`) and records the notices those events call for, in one statement per
//! batch (two when the batch has items booked here), never one per event; a [`SendNotices`]
//! job enqueued in the same transaction writes them to the kernel's outbox (`notify::queue`)
//! moments later. So a notice exists exactly when its event does, and a job that runs twice
//! still queues each notice once (it claims the ledger rows it sends).
//!
//! Channels: e-mail whenever the item has the recipient's address; SMS to the recipient's
//! phone when the booking bought the `sms_notice` option, and always for "waiting at the
//! office", which stands in for the paper slip left at the door.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use eposta_formats::s10::S10;
use eposta_kernel::db::Tx;
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::jobs::{self, Job};
use eposta_kernel::money::Money;
use eposta_kernel::notify::{self, Channel, Message};
use eposta_kernel::{App, Error};
use serde::{Deserialize, Serialize};

use super::domain::{date_text, pickup_deadline};
use super::store::{self, NoticeRow};
use crate::domain::Extra;
use crate::tracking::domain::Status;
use crate::tracking::fanout::StoredEvent;

/// The statuses recipients hear about.
pub const NOTICE_STATUSES: [Status; 4] = [
    Status::Accepted,
    Status::OutForDelivery,
    Status::AvailableForPickup,
    Status::Delivered,
];

/// Records the notices that just-stored events call for and enqueues the job that sends
/// them, in the storing transaction. A batch whose items' newest events are of other
/// statuses costs nothing; otherwise one statement finds the items booked here, one more
/// records their notices, and one job insert follows when any notice is owed.
pub async fn events_stored(app: &App, tx: &mut Tx, events: &[StoredEvent]) -> Result<(), Error> {
    let news = candidates(events);
    if news.is_empty() {
        return Ok(());
    }
    let now = app.now();
    let ids = store::owe_notices(tx, &news, now).await?;
    if !ids.is_empty() {
        tracing::debug!(notices = ids.len(), "recipient notices owed");
        jobs::enqueue(tx, now, &SendNotices { ids }).await?;
    }
    Ok(())
}

/// The events of a batch that may be news: per item, the newest event the batch stored (by
/// event time; of equal times, the one posted last, as the database orders them), when its
/// status is one recipients hear about. Whether it is still the item's newest event of all,
/// and a change of status, the database decides (`store::owe_notices`).
pub fn candidates(events: &[StoredEvent]) -> Vec<&StoredEvent> {
    let mut newest: HashMap<&str, &StoredEvent> = HashMap::with_capacity(events.len());
    for e in events {
        let slot = newest.entry(e.tracking_number.as_str()).or_insert(e);
        if e.event_time >= slot.event_time {
            *slot = e;
        }
    }
    let mut out: Vec<&StoredEvent> = newest
        .into_values()
        .filter(|e| NOTICE_STATUSES.contains(&e.status))
        .collect();
    out.sort_by(|a, b| a.tracking_number.cmp(&b.tracking_number));
    out
}

/// Writes owed notices to the outbox. Idempotent: it claims its ledger rows first, and a
/// row claimed before (by an earlier run) is skipped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendNotices {
    pub ids: Vec<i64>,
}

impl Job for SendNotices {
    const KIND: &'static str = "postal.receiving.notices";
    /// Recipients wait for these ("your parcel is at the office").
    const PRIORITY: i32 = 5;

    async fn run(self, app: App) -> anyhow::Result<()> {
        let now = app.now();
        let mut tx = app.db.begin().await?;
        let claimed = store::claim_notices(&mut tx, &self.ids, now).await?;
        let rows = store::notices(&mut tx, &claimed).await?;
        let tr = Tr::new(Lang::default());
        let mut messages = 0;
        for row in &rows {
            for msg in compose(
                &tr,
                &app.config.public_url,
                app.config.postal_pickup_days,
                row,
            ) {
                notify::queue(&app, &mut tx, now, &msg).await?;
                messages += 1;
            }
        }
        tx.commit().await?;
        tracing::info!(notices = rows.len(), messages, "recipient notices queued");
        Ok(())
    }
}

/// The office a notice names: where the event happened when that is a post office, else
/// the office the recipient chose.
struct Office<'a> {
    name: &'a str,
    address: Option<&'a str>,
    hours: Option<&'a str>,
}

fn office(row: &NoticeRow) -> Option<Office<'_>> {
    match (&row.office_name, &row.chosen_name) {
        (Some(name), _) => Some(Office {
            name,
            address: row.office_address.as_deref(),
            hours: row.office_hours.as_deref(),
        }),
        (None, Some(name)) => Some(Office {
            name,
            address: row.chosen_address.as_deref(),
            hours: row.chosen_hours.as_deref(),
        }),
        (None, None) => None,
    }
}

fn grouped(number: &str) -> String {
    S10::parse(number).map_or_else(|_| number.to_owned(), |c| c.id.grouped())
}

/// The messages one notice becomes: an e-mail and/or an SMS, in `tr`'s language.
pub fn compose(tr: &Tr, public_url: &str, pickup_days: u32, row: &NoticeRow) -> Vec<Message> {
    let Some(status) = Status::parse(&row.status) else {
        return Vec::new();
    };
    let number = grouped(&row.tracking_number);
    let (subject_key, headline_key) = match status {
        Status::Accepted => ("receive.notice.accepted.subject", "receive.notice.accepted"),
        Status::OutForDelivery => (
            "receive.notice.out_for_delivery.subject",
            "receive.notice.out_for_delivery",
        ),
        Status::AvailableForPickup => (
            "receive.notice.available_for_pickup.subject",
            "receive.notice.available_for_pickup",
        ),
        Status::Delivered => (
            "receive.notice.delivered.subject",
            "receive.notice.delivered",
        ),
        _ => return Vec::new(),
    };
    let when = eposta_kernel::clock::belgrade(row.event_time);
    let mut lines = vec![tr.f(headline_key, &[("number", &number), ("time", &when)])];
    if status == Status::AvailableForPickup {
        lines.extend(pickup_lines(tr, row, pickup_days));
    }
    if let Some(cod) = row.cod_minor.filter(|_| status != Status::Delivered) {
        lines.push(tr.f(
            "receive.notice.cod",
            &[("amount", &Money::rsd(cod).to_string())],
        ));
    }
    let link = format!(
        "{}/receive?{}",
        public_url.trim_end_matches('/'),
        serde_urlencoded::to_string([("id", row.tracking_number.as_str())]).unwrap_or_default()
    );
    lines.push(tr.f("receive.notice.link", &[("url", &link)]));

    let mut out = Vec::new();
    if let Some(email) = &row.recipient_email {
        out.push(Message {
            channel: Channel::Email,
            recipient: email.clone(),
            subject: tr.f(subject_key, &[("number", &number)]),
            body: lines.join("\n") + "\n",
        });
    }
    let sms_notice = serde_json::from_str::<Vec<String>>(&row.options)
        .unwrap_or_default()
        .iter()
        .any(|o| o == Extra::SmsNotice.as_str());
    if let Some(phone) = &row.recipient_phone
        && (sms_notice || status == Status::AvailableForPickup)
    {
        out.push(Message {
            channel: Channel::Sms,
            recipient: phone.clone(),
            subject: String::new(),
            body: lines.join(" "),
        });
    }
    out
}

fn pickup_lines(tr: &Tr, row: &NoticeRow, pickup_days: u32) -> Vec<String> {
    let mut lines = Vec::new();
    match office(row) {
        Some(o) => {
            let place = match o.address {
                Some(a) => format!("{}, {a}", o.name),
                None => o.name.to_owned(),
            };
            lines.push(tr.f("receive.notice.office", &[("office", &place)]));
            if let Some(h) = o.hours.filter(|h| !h.trim().is_empty()) {
                lines.push(tr.f("receive.notice.hours", &[("hours", h)]));
            }
        }
        None => lines.push(tr.f("receive.notice.office", &[("office", &row.location)])),
    }
    let deadline = date_text(pickup_deadline(row.event_time, pickup_days));
    lines.push(tr.f("receive.notice.deadline", &[("date", &deadline)]));
    lines
}

/// When an item became available for pickup, for the page (the same deadline as the notice).
pub fn deadline_text(available_at: DateTime<Utc>, pickup_days: u32) -> String {
    date_text(pickup_deadline(available_at, pickup_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, options: &str) -> NoticeRow {
        NoticeRow {
            id: 1,
            status: status.into(),
            location: "11101".into(),
            event_time: DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
            tracking_number: "RA123456785RS".into(),
            recipient_phone: Some("+381641234567".into()),
            recipient_email: Some("ana@example.rs".into()),
            cod_minor: Some(250_000),
            options: options.into(),
            office_name: Some("Београд 1".into()),
            office_address: Some("Змај Јовина 17".into()),
            office_hours: Some("пон–пет 08–19; суб 08–14".into()),
            chosen_name: None,
            chosen_address: None,
            chosen_hours: None,
        }
    }

    fn stored(number: &str, code: &'static str, status: Status, hour: u32) -> StoredEvent {
        StoredEvent {
            tracking_number: number.into(),
            code,
            status,
            location: "11101".into(),
            event_time: DateTime::parse_from_rfc3339(&format!("2026-03-01T{hour:02}:00:00Z"))
                .expect("time")
                .with_timezone(&Utc),
            reason_code: None,
            action_code: None,
            flag: None,
        }
    }

    #[test]
    fn each_item_offers_its_newest_event_when_it_is_news() {
        let batch = [
            // Out of order: the newest is the delivery.
            stored("A", "EMI", Status::Delivered, 12),
            stored("A", "EMA", Status::Accepted, 8),
            stored("A", "EDG", Status::OutForDelivery, 10),
            // The newest is in transit: nothing, though the batch accepted it too.
            stored("B", "EMA", Status::Accepted, 8),
            stored("B", "EMG", Status::InTransit, 9),
            // Two at the same time: the one posted last, as the database orders them.
            stored("C", "EDH", Status::AvailableForPickup, 9),
            stored("C", "EDG", Status::OutForDelivery, 9),
        ];
        let picked: Vec<(&str, &str)> = candidates(&batch)
            .into_iter()
            .map(|e| (e.tracking_number.as_str(), e.code))
            .collect();
        assert_eq!(picked, [("A", "EMI"), ("C", "EDG")]);
        assert!(candidates(&[]).is_empty());
    }

    #[test]
    fn waiting_at_the_office_names_office_hours_deadline_and_cod_by_both_channels() {
        let tr = Tr::new(Lang::SrCyrl);
        let msgs = compose(
            &tr,
            "https://eposta.rs/",
            15,
            &row("available_for_pickup", "[]"),
        );
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].channel, Channel::Email);
        assert_eq!(msgs[0].recipient, "ana@example.rs");
        assert_eq!(msgs[1].channel, Channel::Sms);
        assert_eq!(msgs[1].recipient, "+381641234567");
        for m in &msgs {
            for part in [
                "RA 123 456 785 RS",
                "Београд 1, Змај Јовина 17",
                "пон–пет 08–19; суб 08–14",
                "17.03.2026.",
                "2.500,00 RSD",
                "https://eposta.rs/receive?id=RA123456785RS",
            ] {
                assert!(m.body.contains(part), "{part} in {}", m.body);
            }
        }
        assert!(msgs[0].subject.contains("RA 123 456 785 RS"));
    }

    #[test]
    fn other_notices_go_by_sms_only_with_the_option() {
        let tr = Tr::new(Lang::SrCyrl);
        let plain = compose(
            &tr,
            "http://x",
            15,
            &row("out_for_delivery", "[\"registered\"]"),
        );
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].channel, Channel::Email);
        assert!(!plain[0].body.contains("17.03.2026."), "{}", plain[0].body);
        let with_sms = compose(
            &tr,
            "http://x",
            15,
            &row("out_for_delivery", "[\"registered\",\"sms_notice\"]"),
        );
        assert_eq!(with_sms.len(), 2);
        // Delivered: nothing left to pay, so no COD line.
        let delivered = compose(&tr, "http://x", 15, &row("delivered", "[]"));
        assert!(
            !delivered[0].body.contains("2.500,00"),
            "{}",
            delivered[0].body
        );
        assert!(
            delivered[0].body.contains("02.03.2026. 11:00"),
            "{}",
            delivered[0].body
        );
        // Statuses recipients do not hear about make no message.
        assert!(compose(&tr, "http://x", 15, &row("in_transit", "[]")).is_empty());
    }

    #[test]
    fn without_contacts_there_is_no_one_to_tell_and_the_chosen_office_stands_in() {
        let tr = Tr::new(Lang::SrCyrl);
        let mut r = row("available_for_pickup", "[]");
        r.recipient_email = None;
        r.recipient_phone = None;
        assert!(compose(&tr, "http://x", 15, &r).is_empty());
        let mut r = row("available_for_pickup", "[]");
        r.recipient_phone = None;
        r.office_name = None;
        r.office_address = None;
        r.office_hours = None;
        r.chosen_name = Some("Нови Сад 1".into());
        r.chosen_hours = Some("пон–пет 07–20".into());
        let m = compose(&tr, "http://x", 10, &r);
        assert_eq!(m.len(), 1);
        assert!(m[0].body.contains("Нови Сад 1"), "{}", m[0].body);
        assert!(m[0].body.contains("пон–пет 07–20"), "{}", m[0].body);
        assert!(m[0].body.contains("12.03.2026."), "{}", m[0].body);
    }
}
