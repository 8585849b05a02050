//! Pure rules of the counter's hand-over: whether an item may be handed over at the clerk's
//! office, and what the clerk must confirm (who collected it, the identity document, the
//! cash-on-delivery amount). No IO.

use crate::receiving::domain::Destination;
use crate::tracking::domain::Status;

/// Who collected the item at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collected {
    /// The addressee named on the item.
    Addressee,
    /// The other person the recipient named (`receiving_choices`).
    Collector,
}

impl Collected {
    pub fn as_str(self) -> &'static str {
        match self {
            Collected::Addressee => "addressee",
            Collected::Collector => "collector",
        }
    }

    pub fn parse(s: &str) -> Option<Collected> {
        [Collected::Addressee, Collected::Collector]
            .into_iter()
            .find(|c| c.as_str() == s.trim())
    }
}

/// Where an item is, as far as its hand-over cares.
#[derive(Debug, Clone, Copy)]
pub struct Whereabouts<'a> {
    /// The status of its newest event.
    pub status: Status,
    /// The office it waits at, when it waits for pickup: where that event happened, or the
    /// office the recipient chose when the event happened at a facility.
    pub waiting_at: Option<&'a str>,
    /// What the recipient chose, if anything.
    pub destination: Option<Destination>,
    /// The office the recipient chose for pickup.
    pub chosen_office: Option<&'a str>,
}

/// Why the counter may not hand an item over (or not yet: what the clerk must confirm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not (yet) waiting at a post office: on its way, out for delivery, attempted.
    NotWaiting,
    Delivered,
    Returning,
    Cancelled,
    /// It waits at another office (its code).
    Elsewhere(String),
    /// The recipient redirected it to another address.
    RedirectedAddress,
    /// The recipient chose pickup at another office (its code).
    RedirectedOffice(String),
    /// "The named collector" was chosen, but the recipient named nobody.
    NoCollector,
    /// The clerk did not confirm checking the identity document.
    DocumentNotChecked,
    /// The item has a cash-on-delivery amount and the clerk did not confirm taking it.
    CodNotCollected,
}

impl Refusal {
    /// The catalogue key of the page's sentence; `{office}` is filled in where it has one.
    pub fn key(&self) -> &'static str {
        match self {
            Refusal::NotWaiting => "counter.handover.refused.not_waiting",
            Refusal::Delivered => "counter.handover.refused.delivered",
            Refusal::Returning => "counter.handover.refused.returning",
            Refusal::Cancelled => "counter.handover.refused.cancelled",
            Refusal::Elsewhere(_) => "counter.handover.refused.elsewhere",
            Refusal::RedirectedAddress => "counter.handover.refused.redirected_address",
            Refusal::RedirectedOffice(_) => "counter.handover.refused.redirected_office",
            Refusal::NoCollector => "counter.handover.refused.no_collector",
            Refusal::DocumentNotChecked => "counter.handover.refused.document",
            Refusal::CodNotCollected => "counter.handover.refused.cod",
        }
    }

    /// The office the sentence names, if it names one.
    pub fn office(&self) -> Option<&str> {
        match self {
            Refusal::Elsewhere(o) | Refusal::RedirectedOffice(o) => Some(o),
            _ => None,
        }
    }

    /// Whether the item's state forbids the hand-over (409), rather than the clerk's form
    /// missing a confirmation (422).
    pub fn is_conflict(&self) -> bool {
        !matches!(
            self,
            Refusal::NoCollector | Refusal::DocumentNotChecked | Refusal::CodNotCollected
        )
    }
}

/// Whether the item may be handed over at the office `here`: it must wait for pickup, at
/// this office, and not be redirected elsewhere by its recipient.
pub fn may_hand_over(w: &Whereabouts<'_>, here: &str) -> Result<(), Refusal> {
    match w.status {
        Status::AvailableForPickup => {}
        Status::Delivered => return Err(Refusal::Delivered),
        Status::ReturnToSender => return Err(Refusal::Returning),
        Status::Cancelled => return Err(Refusal::Cancelled),
        _ => return Err(Refusal::NotWaiting),
    }
    match w.waiting_at {
        Some(o) if o == here => {}
        Some(o) => return Err(Refusal::Elsewhere(o.to_owned())),
        None => return Err(Refusal::NotWaiting),
    }
    match (w.destination, w.chosen_office) {
        (Some(Destination::Address), _) => Err(Refusal::RedirectedAddress),
        (Some(Destination::Pickup), Some(o)) if o != here => {
            Err(Refusal::RedirectedOffice(o.to_owned()))
        }
        _ => Ok(()),
    }
}

/// What the clerk confirms at the hand-over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmation {
    pub collected: Collected,
    pub document_checked: bool,
    pub cod_collected: bool,
}

/// Checks the clerk's confirmation against the item: the collector must have been named,
/// the document checked, and a cash-on-delivery amount (in para) taken.
pub fn check_confirmation(
    c: &Confirmation,
    collector_named: bool,
    cod_minor: Option<i64>,
) -> Result<(), Refusal> {
    if c.collected == Collected::Collector && !collector_named {
        return Err(Refusal::NoCollector);
    }
    if !c.document_checked {
        return Err(Refusal::DocumentNotChecked);
    }
    if cod_minor.is_some_and(|m| m > 0) && !c.cod_collected {
        return Err(Refusal::CodNotCollected);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(status: Status, waiting_at: Option<&'static str>) -> Whereabouts<'static> {
        Whereabouts {
            status,
            waiting_at,
            destination: None,
            chosen_office: None,
        }
    }

    #[test]
    fn only_an_item_waiting_here_is_handed_over() {
        for s in Status::ALL {
            let r = may_hand_over(&at(s, Some("11101")), "11101");
            assert_eq!(r.is_ok(), s == Status::AvailableForPickup, "{s}");
        }
        assert_eq!(
            may_hand_over(&at(Status::Delivered, Some("11101")), "11101"),
            Err(Refusal::Delivered)
        );
        assert_eq!(
            may_hand_over(&at(Status::InTransit, None), "11101"),
            Err(Refusal::NotWaiting)
        );
        assert_eq!(
            may_hand_over(&at(Status::AvailableForPickup, Some("21101")), "11101"),
            Err(Refusal::Elsewhere("21101".into()))
        );
        assert_eq!(
            may_hand_over(&at(Status::AvailableForPickup, None), "11101"),
            Err(Refusal::NotWaiting)
        );
    }

    #[test]
    fn a_redirect_forbids_the_hand_over_here() {
        let mut w = at(Status::AvailableForPickup, Some("11101"));
        w.destination = Some(Destination::Address);
        assert_eq!(may_hand_over(&w, "11101"), Err(Refusal::RedirectedAddress));
        w.destination = Some(Destination::Pickup);
        w.chosen_office = Some("21101");
        assert_eq!(
            may_hand_over(&w, "11101"),
            Err(Refusal::RedirectedOffice("21101".into()))
        );
        w.chosen_office = Some("11101");
        assert_eq!(may_hand_over(&w, "11101"), Ok(()));
        w.destination = Some(Destination::Home);
        assert_eq!(may_hand_over(&w, "11101"), Ok(()));
    }

    #[test]
    fn the_clerk_confirms_collector_document_and_cod() {
        let ok = Confirmation {
            collected: Collected::Addressee,
            document_checked: true,
            cod_collected: false,
        };
        assert_eq!(check_confirmation(&ok, false, None), Ok(()));
        assert_eq!(
            check_confirmation(&ok, false, Some(250_000)),
            Err(Refusal::CodNotCollected)
        );
        let paid = Confirmation {
            cod_collected: true,
            ..ok
        };
        assert_eq!(check_confirmation(&paid, false, Some(250_000)), Ok(()));
        let collector = Confirmation {
            collected: Collected::Collector,
            ..paid
        };
        assert_eq!(
            check_confirmation(&collector, false, None),
            Err(Refusal::NoCollector)
        );
        assert_eq!(check_confirmation(&collector, true, None), Ok(()));
        let unchecked = Confirmation {
            document_checked: false,
            ..collector
        };
        assert_eq!(
            check_confirmation(&unchecked, true, None),
            Err(Refusal::DocumentNotChecked)
        );
        assert!(!Refusal::DocumentNotChecked.is_conflict());
        assert!(Refusal::Delivered.is_conflict());
    }

    #[test]
    fn collected_round_trips() {
        for c in [Collected::Addressee, Collected::Collector] {
            assert_eq!(Collected::parse(c.as_str()), Some(c));
        }
        assert_eq!(Collected::parse("neighbour"), None);
    }
}
