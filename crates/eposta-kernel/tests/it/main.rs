//! The kernel's integration tests: one binary, driving the router in-process on SQLite, or on
//! PostgreSQL when `EPOSTA_TEST_PG_URL` is set.

mod accounts;
mod admin;
mod api;
mod audit;
mod console;
mod db;
mod idempotency;
mod jobs;
mod notify;
mod offices;
mod role_matrix;
mod shell;
mod webhooks;
