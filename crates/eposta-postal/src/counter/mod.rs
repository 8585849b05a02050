//! Acceptance at the counter: a clerk finds a booked item by its hand-in code, weighs it,
//! confirms the price for the weight found, takes payment (cash or card) and hands over a
//! receipt. Acceptance records the UPU event EMA at the clerk's office. The hand-over of an
//! item waiting at the office (`handover`) records EMI there.

pub mod handover;
pub mod pages;
pub mod service;
