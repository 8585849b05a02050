//! The settlement status of a remittance batch or transfer, as pure rules: the bank's
//! pain.002 codes and `settled` (booked on a statement of the collection account), and which
//! news replaces which (one function, [`next`]), so that reports read late or twice never
//! move a status back.

use eposta_formats::iso20022::pain002;

/// A batch's or a transfer's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settlement {
    /// A pain.002 status.
    Bank(pain002::Status),
    /// Booked on a statement of the collection account: the money left.
    Settled,
}

impl Settlement {
    pub fn as_str(self) -> &'static str {
        match self {
            Settlement::Bank(s) => s.code(),
            Settlement::Settled => "settled",
        }
    }

    pub fn parse(s: &str) -> Option<Settlement> {
        if s == "settled" {
            return Some(Settlement::Settled);
        }
        pain002::Status::parse(s).map(Settlement::Bank)
    }

    pub fn is_rejected(self) -> bool {
        self == Settlement::Bank(pain002::Status::Rjct)
    }

    /// How far along: later news of a lower rank is old news.
    fn rank(self) -> u8 {
        use pain002::Status::*;
        match self {
            Settlement::Bank(Rcvd) => 1,
            Settlement::Bank(Pdng) => 2,
            Settlement::Bank(Actc) => 3,
            Settlement::Bank(Accp) => 4,
            Settlement::Bank(Acsp | Acwc | Part) => 5,
            Settlement::Bank(Acsc) => 6,
            Settlement::Settled => 7,
            Settlement::Bank(Rjct) => 8,
        }
    }

    /// The money has left the collection account.
    fn paid_out(self) -> bool {
        matches!(
            self,
            Settlement::Settled | Settlement::Bank(pain002::Status::Acsc)
        )
    }
}

/// What news does to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The status becomes the news.
    Set,
    /// The status is already that: nothing changes (a report read twice).
    Same,
    /// Older news than the status (an acceptance read after the settlement): ignored.
    Older,
    /// News that contradicts a final status (a rejection of a transfer already paid out, an
    /// acceptance of one rejected): ignored, and reported for a person.
    Conflict,
}

/// What `news` does to a status that is `current` (none: no status yet).
pub fn next(current: Option<Settlement>, news: Settlement) -> Change {
    let Some(current) = current else {
        return Change::Set;
    };
    if current == news {
        return Change::Same;
    }
    if current.is_rejected() || (news.is_rejected() && current.paid_out()) {
        return Change::Conflict;
    }
    if news.rank() > current.rank() || (news.rank() == current.rank() && !news.is_rejected()) {
        Change::Set
    } else {
        Change::Older
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pain002::Status::*;

    #[test]
    fn statuses_only_move_forward() {
        let b = Settlement::Bank;
        let s = Settlement::Settled;
        let cases = [
            (None, b(Actc), Change::Set),
            (Some(b(Actc)), b(Actc), Change::Same),
            (Some(b(Actc)), b(Accp), Change::Set),
            (Some(b(Accp)), b(Actc), Change::Older),
            (Some(b(Acsp)), b(Acwc), Change::Set),
            (Some(b(Acsc)), s, Change::Set),
            (Some(s), b(Acsc), Change::Older),
            (Some(s), s, Change::Same),
            (Some(b(Accp)), b(Rjct), Change::Set),
            (Some(b(Part)), b(Rjct), Change::Set),
            (Some(b(Acsc)), b(Rjct), Change::Conflict),
            (Some(s), b(Rjct), Change::Conflict),
            (Some(b(Rjct)), b(Acsc), Change::Conflict),
            (Some(b(Rjct)), s, Change::Conflict),
            (Some(b(Rjct)), b(Rjct), Change::Same),
            (Some(b(Pdng)), b(Rcvd), Change::Older),
        ];
        for (current, news, want) in cases {
            assert_eq!(next(current, news), want, "{current:?} then {news:?}");
        }
        for x in pain002::Status::ALL {
            let x = b(x);
            assert_eq!(Settlement::parse(x.as_str()), Some(x));
        }
        assert_eq!(Settlement::parse("settled"), Some(s));
        assert_eq!(Settlement::parse("BOOK"), None);
    }
}
