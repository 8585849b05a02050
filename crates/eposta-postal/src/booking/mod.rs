//! Booking postal items: citizens on the web (`/items`), businesses through the API
//! (`/api/v1/shipments`); both call the same service functions.

pub mod api;
pub mod form;
pub mod label;
pub mod pages;
pub mod service;
pub mod store;
