//! Tracking: UPU event codes, normalised statuses, the event log of every item.

pub mod store;
