//! The admin console: accounts, organisations and their API keys, the outbox and the audit
//! log. (Post offices have their own pages in `offices`.)

mod audit_log;
mod keys;
mod members;
mod outbox;
pub mod pages;
pub mod service;
mod users;
