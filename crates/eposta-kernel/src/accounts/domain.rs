//! Pure account types: roles, e-mail addresses and the password policy.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What a person is to ePošta. Staff roles (clerk, manager) belong to one post office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Citizen,
    Clerk,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Citizen, Role::Clerk, Role::Manager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Clerk => "clerk",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, Error> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::invalid("role", "must be citizen, clerk, manager or admin"))
    }

    /// Clerks and managers work at exactly one post office.
    pub fn needs_office(self) -> bool {
        matches!(self, Role::Clerk | Role::Manager)
    }

    pub fn is_staff(self) -> bool {
        self != Role::Citizen
    }

    /// Where this role lands after logging in.
    pub fn home(self) -> &'static str {
        match self {
            Role::Citizen => "/me",
            Role::Clerk | Role::Manager => "/counter",
            Role::Admin => "/admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An e-mail address, trimmed and lower-cased; the username of every account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Email(String);

impl Email {
    /// A deliberately simple check (one `@`, a dot in the domain, no spaces, at most 254
    /// characters): the confirmation e-mail is the real test of an address.
    pub fn parse(input: &str) -> Result<Email, Error> {
        let s = input.trim().to_lowercase();
        let bad = || Error::invalid("email", "is not a valid e-mail address");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Password policy, after NIST SP 800-63B: at least 10 characters, at most 128, not only
/// one repeated character, and not one of the passwords every attacker tries first. No
/// composition rules: length is what makes a password strong.
pub fn check_password(password: &str) -> Result<(), Error> {
    let n = password.chars().count();
    if n < 10 {
        return Err(Error::invalid(
            "password",
            "must be at least 10 characters long",
        ));
    }
    if n > 128 {
        return Err(Error::invalid(
            "password",
            "must be at most 128 characters long",
        ));
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(Error::invalid("password", "must not repeat one character"));
    }
    const COMMON: &[&str] = &[
        "1234567890",
        "12345678910",
        "0123456789",
        "qwertyuiop",
        "password123",
        "passwordpassword",
        "lozinka123",
        "sifra12345",
        "qwertzuiop",
        "1q2w3e4r5t",
        "iloveyou12",
        "administrator",
    ];
    if COMMON.contains(&password.to_lowercase().as_str()) {
        return Err(Error::invalid("password", "is too common"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        let ok = Email::parse("  Ana@Example.RS ").map(|e| e.as_str().to_owned());
        assert_eq!(ok.ok().as_deref(), Some("ana@example.rs"));
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.rs",
            "ana@rs",
            "a b@example.rs",
            "a@b@c.rs",
            "ana@example..rs",
            "ana@.rs",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.rs", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn password_policy() {
        assert!(check_password("correct horse battery").is_ok());
        assert!(check_password("šifra-sa-ćirilicom-ђ").is_ok());
        for bad in ["short", "aaaaaaaaaaaa", "1234567890", "Password123"] {
            assert!(check_password(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_password(&"x".repeat(129)).is_err());
        assert!(check_password(&"xy".repeat(64)).is_ok());
    }

    #[test]
    fn roles_round_trip_and_know_their_office() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).ok(), Some(r));
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::Clerk.needs_office() && Role::Manager.needs_office());
        assert!(!Role::Admin.needs_office() && !Role::Citizen.needs_office());
    }
}
