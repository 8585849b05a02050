//! Post offices: the registry every clerk and manager belongs to.

pub mod store;
