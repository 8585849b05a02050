//! The postal capability's integration tests, on SQLite, or on PostgreSQL when
//! `EPOSTA_TEST_PG_URL` is set.

mod booking;
pub mod counter;
mod labels;
mod pickup;
mod receiving;
mod role_matrix;
mod tracking;
mod webhooks;
