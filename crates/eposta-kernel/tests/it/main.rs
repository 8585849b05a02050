//! The kernel's integration tests: one binary, driving the router in-process on SQLite, or on
//! PostgreSQL when `EPOSTA_TEST_PG_URL` is set.

mod accounts;
mod api;
mod idempotency;
mod role_matrix;
mod shell;
