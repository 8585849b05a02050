//! The kernel's error type. Storage errors are mapped here, once: unique violation becomes
//! `Conflict`, a missing row `NotFound`, a pool timeout `Unavailable`.

use std::borrow::Cow;

/// Errors of the kernel and, through it, of every capability's service layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input broke a rule; `field` names what was wrong (for 400/422 answers).
    #[error("{field}: {message}")]
    Invalid {
        field: Cow<'static, str>,
        message: Cow<'static, str>,
    },
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(Cow<'static, str>),
    /// The caller is not logged in (or the key is unknown).
    #[error("authentication required")]
    Unauthenticated,
    /// The caller is known but may not do this.
    #[error("forbidden")]
    Forbidden,
    #[error("too many attempts, try again later")]
    TooManyRequests,
    /// The database (or another dependency) is not reachable right now.
    #[error("service unavailable")]
    Unavailable,
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn invalid(
        field: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Conflict(message.into())
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %e, "database unavailable");
                Error::Unavailable
            }
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                Error::Conflict("already exists".into())
            }
            sqlx::Error::Database(ref db) if db.is_foreign_key_violation() => {
                Error::invalid("reference", "refers to something that does not exist")
            }
            other => Error::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(anyhow::Error::new(e).context("migration failed"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
