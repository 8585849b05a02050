//! Pure payment rules: methods, channels, owners, the state machine ([`state`]), payment
//! orders and their validation ([`order`]), the rules they break ([`rule`]), and the public
//! numbers a payment carries ([`codes`]). No IO.

pub mod codes;
pub mod order;
mod rule;
pub mod state;

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use order::{Party, PayeeInput, PayerInput, PaymentInput, PaymentOrder, parse_order};
pub use rule::{FieldError, Photo, Rule};
pub use state::{Event, State, TransitionError, already_happened, refund_event, transition};

/// The most one payment may be: 10,000,000.00 RSD (1,000,000,000 para). Far above any bill
/// paid at a post office or from home, and low enough that sums of a day's payments stay far
/// from overflowing an `i64`; anything above it is a typing mistake or an attack. The fee
/// schedule sets lower limits per method (its last band).
pub const MAX_AMOUNT_PARA: i64 = 1_000_000_000;

/// How the payer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A payment card, through the acquirer's hosted page ([`crate::provider`]).
    Card,
    /// NBS IPS instant transfer to ePošta's collection account, by QR code; completed when
    /// the transfer shows on the bank statement.
    Ips,
    /// Cash at a post-office counter.
    Cash,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Card, Method::Ips, Method::Cash];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Card => "card",
            Method::Ips => "ips",
            Method::Cash => "cash",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A citizen on the web pages.
    Web,
    /// An organisation through the API.
    Api,
    /// A clerk at a post-office counter.
    Counter,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::Counter => "counter",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Web, Channel::Api, Channel::Counter]
            .into_iter()
            .find(|c| c.as_str() == s)
    }

    /// Cash is taken only at a counter; the counter takes only cash (a card terminal there
    /// is not an online acquirer).
    pub fn offers(self, method: Method) -> bool {
        match self {
            Channel::Web | Channel::Api => matches!(method, Method::Card | Method::Ips),
            Channel::Counter => method == Method::Cash,
        }
    }
}

/// Whose payment it is: who may see it, and where it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A citizen's own payment, from the web pages.
    Citizen { user: Uuid },
    /// An organisation's, made through the API with one of its keys.
    Organisation { organisation: Uuid, key: Uuid },
    /// Taken by a clerk at an office's counter.
    Counter { clerk: Uuid, office: Uuid },
}

impl Owner {
    pub fn channel(self) -> Channel {
        match self {
            Owner::Citizen { .. } => Channel::Web,
            Owner::Organisation { .. } => Channel::Api,
            Owner::Counter { .. } => Channel::Counter,
        }
    }

    /// The stored `owner_kind`.
    pub fn kind(self) -> &'static str {
        match self {
            Owner::Citizen { .. } => "citizen",
            Owner::Organisation { .. } => "organisation",
            Owner::Counter { .. } => "counter",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_offer_their_methods() {
        let table = [
            (Channel::Web, [true, true, false]),
            (Channel::Api, [true, true, false]),
            (Channel::Counter, [false, false, true]),
        ];
        for (channel, offers) in table {
            for (method, offered) in Method::ALL.into_iter().zip(offers) {
                assert_eq!(channel.offers(method), offered, "{channel:?} {method}");
            }
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
    }
}
