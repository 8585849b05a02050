//! The application state every handler, job and command shares.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Mutex};

use secrecy::{ExposeSecret, SecretString};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::{Db, DbOptions};
use crate::error::Error;
use crate::notify::email::{self, EmailTransport};

/// Cheap to clone; everything inside is shared.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// Key material for HMACs (CSRF tokens, keyed hashes of personal data).
    pub secret: SecretString,
    /// Carries e-mail on (SMTP when `smtp_url` is set); none means e-mail is held.
    pub mailer: Option<Arc<dyn EmailTransport>>,
    /// What [`App::local`] hands out: one value per type.
    locals: Arc<Locals>,
}

/// Process-local state kept beside the database, one value per type.
type Locals = Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>;

impl Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .field("backend", &self.db.backend())
            .field("mailer", &self.mailer.is_some())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Opens the database and loads (or creates) the secret key. Migrations are the caller's
    /// choice: `serve` applies them, `worker` expects them.
    pub async fn open(config: Config) -> Result<App, Error> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            Error::Config(format!(
                "EPOSTA_DATA_DIR {}: {e}",
                config.data_dir.display()
            ))
        })?;
        let db = Db::connect(
            &config.database_url(),
            &DbOptions {
                max_connections: config.db_max_connections,
                ..DbOptions::default()
            },
        )
        .await?;
        let secret = match &config.secret_key {
            Some(s) => s.clone(),
            None => load_or_create_secret(&config.data_dir.join("keys"))?,
        };
        Ok(App::from_parts(config, db, Arc::new(SystemClock), secret))
    }

    /// Assembles an app; the e-mail transport follows the configuration.
    pub fn from_parts(config: Config, db: Db, clock: Arc<dyn Clock>, secret: SecretString) -> App {
        let mailer = email::transport_from_config(&config);
        App(Arc::new(AppInner {
            config,
            db,
            clock,
            secret,
            mailer,
            locals: Arc::default(),
        }))
    }

    /// The same app with another e-mail transport (tests use failing or recording ones).
    pub fn with_mailer(&self, mailer: Option<Arc<dyn EmailTransport>>) -> App {
        App(Arc::new(AppInner {
            config: self.config.clone(),
            db: self.db.clone(),
            clock: self.clock.clone(),
            secret: self.secret.clone(),
            mailer,
            locals: self.locals.clone(),
        }))
    }

    /// This process's value of `T` for this app, made with `T::default()` on first use: for
    /// what a module keeps in memory beside the database, such as caches (the API keys', the
    /// tracking lookup's place names). Each app has its own (tests run many apps in one
    /// process, each on its own database); copies made by [`App::with_mailer`] share it.
    /// Whatever is kept here is per process: another `eposta` process on the same database
    /// has its own, so a cache must say how stale it may be.
    pub fn local<T: Any + Default + Send + Sync>(&self) -> Arc<T> {
        let mut locals = self
            .locals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let value = locals
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        drop(locals);
        value
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("values are stored under their own type"))
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// HMAC-SHA256 under the installation's secret, hex; for keyed hashes of personal data
    /// and of e-mail addresses in throttling records.
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.secret.expose_secret().as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The installation's secret as a command that must not create one reads it:
/// `EPOSTA_SECRET_KEY`, else `<data_dir>/keys/secret.key`; `None` if neither exists (a
/// fresh machine, or a command run away from the installation).
pub fn existing_secret(config: &Config) -> Result<Option<SecretString>, Error> {
    if let Some(s) = &config.secret_key {
        return Ok(Some(s.clone()));
    }
    read_secret(&config.data_dir.join("keys"))
}

fn read_secret(dir: &Path) -> Result<Option<SecretString>, Error> {
    let path = dir.join("secret.key");
    let Ok(s) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let s = s.trim();
    if s.len() >= 32 {
        return Ok(Some(SecretString::from(s.to_owned())));
    }
    Err(Error::Config(format!(
        "{} is shorter than 32 characters",
        path.display()
    )))
}

/// The secret lives in `<data_dir>/keys/secret.key`, created on first start with a warning,
/// because several processes must share it (put it in `EPOSTA_SECRET_KEY` in production).
fn load_or_create_secret(dir: &Path) -> Result<SecretString, Error> {
    let path = dir.join("secret.key");
    if let Some(secret) = read_secret(dir)? {
        return Ok(secret);
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
    let secret = crate::ids::random_token();
    write_private(&path, &secret).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    tracing::warn!(path = %path.display(), "generated a new secret key; set EPOSTA_SECRET_KEY in production");
    Ok(SecretString::from(secret))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(contents.as_bytes())
}
