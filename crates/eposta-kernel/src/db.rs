//! One codebase on two databases: a small enum over the SQLite and PostgreSQL pools, and the
//! `db_run!` macro that runs the same query text on either (see docs/decisions/0001).

use std::str::FromStr;
use std::time::{Duration, Instant};

use deadpool::managed;

use secrecy::ExposeSecret;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};

use crate::error::Error;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend is chosen by the URL scheme, as atuin and vaultwarden do.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(Error::Config(
                "EPOSTA_DATABASE_URL must start with sqlite: or postgres:".into(),
            ))
        }
    }
}

/// A handle on the database. Cloning is cheap (the pools are reference counted).
///
/// SQLite gets two pools: many readers and exactly one writer, because SQLite allows one
/// writer at a time and a second writer would only meet `SQLITE_BUSY`.
///
/// PostgreSQL gets two as well: sqlx's pool for transactions, and a pool of connections for
/// reads (`conn`), which hands a connection back without a round trip. sqlx's pool sends a
/// `Sync` and waits for the server's answer every time a connection goes back to it; on a
/// lookup that is one query, that round trip cost as much CPU as a second query (measured in
/// docs/benchmarks.md, "Tracking lookups"). A read connection is instead checked with that
/// round trip when it is handed out and was last checked more than `READ_CHECK_EVERY` ago,
/// so one that broke (a server restart) fails reads for at most that long before it is
/// replaced. A read cancelled half-way leaves nothing behind: sqlx's PostgreSQL connection
/// reads what is left of an earlier exchange before it sends the next query.
#[derive(Clone)]
pub enum Db {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres {
        pool: PgPool,
        read: managed::Pool<PgReads>,
    },
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Db::Sqlite { .. } => f.write_str("Db::Sqlite"),
            Db::Postgres { .. } => f.write_str("Db::Postgres"),
        }
    }
}

/// How often a read connection in use is checked with a round trip to the server.
pub const READ_CHECK_EVERY: Duration = Duration::from_secs(1);
/// Read connections older than this are closed and opened again, as sqlx's pool does.
const READ_MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Opens and checks the read connections of `Db::Postgres`.
pub struct PgReads {
    options: PgConnectOptions,
}

/// A read connection and when it was last known to work.
pub struct ReadConnection {
    conn: PgConnection,
    opened: Instant,
    checked: Instant,
}

impl managed::Manager for PgReads {
    type Type = ReadConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<ReadConnection, sqlx::Error> {
        let conn = PgConnection::connect_with(&self.options).await?;
        let now = Instant::now();
        Ok(ReadConnection {
            conn,
            opened: now,
            checked: now,
        })
    }

    async fn recycle(
        &self,
        c: &mut ReadConnection,
        _: &managed::Metrics,
    ) -> managed::RecycleResult<sqlx::Error> {
        if c.opened.elapsed() > READ_MAX_LIFETIME {
            return Err(managed::RecycleError::message("closed after its lifetime"));
        }
        if c.checked.elapsed() > READ_CHECK_EVERY {
            c.conn.ping().await?;
            c.checked = Instant::now();
        }
        Ok(())
    }
}

/// Either backend's value of something; `db_run!` matches on it.
pub enum Either<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// A connection taken from the pool, for reads (or single autocommit writes on PostgreSQL).
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(managed::Object<PgReads>),
}

/// A transaction; every write that must be atomic (including enqueued jobs and audit
/// entries) goes through one.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Anything that yields a connection of one backend or the other: [`Conn`] and [`Tx`].
pub trait Exec: Send {
    fn exec(&mut self) -> Either<&mut SqliteConnection, &mut PgConnection>;
    fn backend(&self) -> Backend;
}

impl Exec for Conn {
    fn exec(&mut self) -> Either<&mut SqliteConnection, &mut PgConnection> {
        match self {
            Conn::Sqlite(c) => Either::Sqlite(&mut **c),
            Conn::Postgres(c) => Either::Postgres(&mut c.conn),
        }
    }
    fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }
}

impl Exec for Tx {
    fn exec(&mut self) -> Either<&mut SqliteConnection, &mut PgConnection> {
        match self {
            Tx::Sqlite(c) => Either::Sqlite(&mut **c),
            Tx::Postgres(c) => Either::Postgres(&mut **c),
        }
    }
    fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Runs the same block on whichever backend `$c` (a `&mut impl Exec`) holds. Inside the
/// block, `$conn` is `&mut SqliteConnection` or `&mut PgConnection`; use it as `&mut *$conn`.
///
/// The query text is shared, so it must be portable: `$1` placeholders (SQLite accepts them),
/// `RETURNING`, `ON CONFLICT … DO UPDATE`, and types that both drivers encode (i64, text,
/// bool, UUID, UTC timestamps, JSON).
#[macro_export]
macro_rules! db_run {
    ($c:expr, |$conn:ident| $body:expr) => {
        match $crate::db::Exec::exec($c) {
            $crate::db::Either::Sqlite($conn) => $body,
            $crate::db::Either::Postgres($conn) => $body,
        }
    };
}

/// Options for opening the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL only: the schema to put first on the search path (used by tests so each
    /// test gets a schema of its own).
    pub pg_schema: Option<String>,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            pg_schema: None,
        }
    }
}

impl Db {
    /// Opens a pool on the database the URL names. SQLite files are created when missing.
    pub async fn connect(url: &secrecy::SecretString, opts: &DbOptions) -> Result<Self, Error> {
        let url = url.expose_secret();
        match Backend::from_url(url)? {
            Backend::Sqlite => {
                let base = SqliteConnectOptions::from_str(url)
                    .map_err(|e| Error::Config(format!("EPOSTA_DATABASE_URL: {e}")))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(opts.acquire_timeout.max(Duration::from_secs(30)))
                    .connect_with(base.clone())
                    .await?;
                let read = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(base)
                    .await?;
                Ok(Db::Sqlite { read, write })
            }
            Backend::Postgres => {
                let mut o = PgConnectOptions::from_str(url)
                    .map_err(|e| Error::Config(format!("EPOSTA_DATABASE_URL: {e}")))?;
                if let Some(schema) = &opts.pg_schema {
                    o = o.options([("search_path", schema.as_str())]);
                }
                // No ping before each acquire: it is a round trip to the server per query
                // (sqlx pings again when a connection goes back to the pool, which catches
                // broken ones); a connection that died in between fails one query, as it
                // could right after a ping. Measured in docs/benchmarks.md ("Tracking
                // lookups").
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(opts.acquire_timeout)
                    .test_before_acquire(false)
                    .connect_with(o.clone())
                    .await?;
                let read = managed::Pool::builder(PgReads { options: o })
                    .max_size(opts.max_connections.max(1) as usize)
                    .wait_timeout(Some(opts.acquire_timeout))
                    .create_timeout(Some(opts.acquire_timeout))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .map_err(|e| Error::Config(format!("database read pool: {e}")))?;
                Ok(Db::Postgres { pool, read })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Applies every pending migration of this backend's folder.
    pub async fn migrate(&self) -> Result<(), Error> {
        match self {
            Db::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await?,
            Db::Postgres { pool, .. } => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// True when every migration this binary knows has been applied (for `/readyz`).
    pub async fn is_migrated(&self) -> Result<bool, Error> {
        let (expected, mut conn) = match self {
            Db::Sqlite { read, .. } => (
                SQLITE_MIGRATIONS.iter().count(),
                Conn::Sqlite(read.acquire().await?),
            ),
            Db::Postgres { .. } => (POSTGRES_MIGRATIONS.iter().count(), self.conn().await?),
        };
        let applied: Result<i64, sqlx::Error> = db_run!(&mut conn, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success"
        )
        .fetch_one(&mut *c)
        .await);
        match applied {
            Ok(n) => Ok(usize::try_from(n).unwrap_or(0) >= expected),
            Err(sqlx::Error::Database(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A connection for reads.
    pub async fn conn(&self) -> Result<Conn, Error> {
        Ok(match self {
            Db::Sqlite { read, .. } => Conn::Sqlite(read.acquire().await?),
            Db::Postgres { read, .. } => Conn::Postgres(read.get().await.map_err(read_error)?),
        })
    }

    /// The sqlx pool of a PostgreSQL database (for tools that need sqlx's own API, such as
    /// `COPY`), or `None` on SQLite.
    pub fn pg_pool(&self) -> Option<&PgPool> {
        match self {
            Db::Postgres { pool, .. } => Some(pool),
            Db::Sqlite { .. } => None,
        }
    }

    /// A connection for one write statement in autocommit mode: on PostgreSQL a pooled
    /// connection (the read pool's serve single autocommit writes, see [`Conn`]), on SQLite
    /// the single writer. A single statement is atomic by itself, and it saves the `BEGIN`
    /// and `COMMIT` round trips of [`Db::begin`]; use a transaction for anything that takes
    /// more than one statement.
    pub async fn autocommit(&self) -> Result<Conn, Error> {
        match self {
            Db::Sqlite { write, .. } => Ok(Conn::Sqlite(write.acquire().await?)),
            Db::Postgres { .. } => self.conn().await,
        }
    }

    /// A write transaction (on SQLite, through the single writer).
    pub async fn begin(&self) -> Result<Tx, Error> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Db::Postgres { pool, .. } => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Pool figures for `/metrics`: (connections open, idle).
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite { read, write } => (
                read.size() + write.size(),
                read.num_idle() + write.num_idle(),
            ),
            Db::Postgres { pool, read } => {
                let reads = read.status();
                (
                    pool.size() + reads.size as u32,
                    pool.num_idle() + reads.available,
                )
            }
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres { pool, read } => {
                read.close();
                pool.close().await;
            }
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// A read connection that could not be had, as the kernel's errors say it: a timeout or a
/// server that cannot be reached is `Unavailable`, as for sqlx's pool.
fn read_error(e: managed::PoolError<sqlx::Error>) -> Error {
    match e {
        managed::PoolError::Backend(e) => e.into(),
        managed::PoolError::Timeout(_) | managed::PoolError::Closed => {
            tracing::warn!(error = %e, "database unavailable");
            Error::Unavailable
        }
        other => Error::Internal(anyhow::anyhow!("database read pool: {other}")),
    }
}
