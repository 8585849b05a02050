//! Pure types of organisation membership: the roles a member may have.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What a person is to an organisation. Owners change what the organisation has (API keys,
/// webhooks, resending deliveries); members read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    Owner,
    Member,
}

impl OrgRole {
    pub const ALL: [OrgRole; 2] = [OrgRole::Owner, OrgRole::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Result<OrgRole, Error> {
        OrgRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| Error::invalid("role", "must be owner or member"))
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everyone in an organisation.
pub const ORG_ANYONE: &[OrgRole] = &[OrgRole::Owner, OrgRole::Member];
/// Those who may change what the organisation has.
pub const ORG_OWNERS: &[OrgRole] = &[OrgRole::Owner];

/// The organisation a logged-in person acts for in the console, and as what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub organisation_id: uuid::Uuid,
    pub name: String,
    pub kind: String,
    pub role: OrgRole,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_ones_name_the_field() {
        for r in OrgRole::ALL {
            assert_eq!(OrgRole::parse(r.as_str()).ok(), Some(r));
        }
        match OrgRole::parse("boss") {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "role"),
            other => panic!("{other:?}"),
        }
    }
}
