//! Post offices: the registry every clerk and manager belongs to, its CSV import, the admin
//! console's pages, the public office finder and the `offices:read` API.

pub mod api;
pub mod domain;
pub mod import;
pub mod pages;
pub mod service;
pub mod store;
