//! Accounts: citizens, staff (clerks and managers of one post office, admins), sessions.

pub mod domain;
pub mod pages;
pub mod password;
pub mod service;
pub mod store;

pub use domain::{Email, Role};
