//! The in-process test harness: a [`TestApp`] on a fresh database (a temporary SQLite file,
//! or a fresh schema on the PostgreSQL server that `EPOSTA_TEST_PG_URL` names), and a
//! [`Client`] with a cookie jar that drives the router without sockets; and the role-matrix
//! walk every crate runs over its routes.

mod receiver;
mod role_matrix;

pub use receiver::{Received, Receiver};

pub use role_matrix::{CALLERS, concrete_path, principal_for, walk_role_matrix};

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use secrecy::SecretString;
use tower::ServiceExt;

use crate::accounts::Role;
use crate::accounts::service::{self, NewStaff};
use crate::app::App;
use crate::audit::Actor;
use crate::clock::FixedClock;
use crate::config::Config;
use crate::db::{Db, DbOptions};
use crate::jobs::Registry;
use crate::notify::email::EmailTransport;
use crate::offices::store::{self as office_store, OfficeFields};
use crate::web::Routes;

/// A whole application on a database of its own.
pub struct TestApp {
    pub app: App,
    pub clock: FixedClock,
    router: Router,
    registry: Registry,
    _dir: tempfile::TempDir,
}

/// Which database tests run on: PostgreSQL when `EPOSTA_TEST_PG_URL` is set, else SQLite.
pub fn pg_url() -> Option<String> {
    std::env::var("EPOSTA_TEST_PG_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Opens a fresh, migrated database: a temporary SQLite file in `dir`, or a new schema on the
/// PostgreSQL test server (the CI run drops the whole database afterwards).
pub async fn fresh_db(dir: &std::path::Path) -> Db {
    fresh_db_with(dir, None).await
}

/// [`fresh_db`] with pools of `max_connections` (benchmarks size them); `None`: the tests'
/// sizes.
pub async fn fresh_db_with(dir: &std::path::Path, max_connections: Option<u32>) -> Db {
    match pg_url() {
        Some(url) => {
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let admin = Db::connect(
                &SecretString::from(url.clone()),
                &DbOptions {
                    max_connections: 1,
                    ..DbOptions::default()
                },
            )
            .await
            .expect("EPOSTA_TEST_PG_URL must name a reachable PostgreSQL database");
            let mut conn = admin.conn().await.expect("connection");
            crate::db_run!(&mut conn, |c| sqlx::query(&format!(
                "CREATE SCHEMA {schema}"
            ))
            .execute(&mut *c)
            .await
            .map(|_| ()))
            .expect("create schema");
            drop(conn);
            admin.close().await;
            let db = Db::connect(
                &SecretString::from(url),
                &DbOptions {
                    max_connections: max_connections.unwrap_or(5),
                    pg_schema: Some(schema),
                    ..DbOptions::default()
                },
            )
            .await
            .expect("connect to test schema");
            db.migrate().await.expect("migrate");
            db
        }
        None => {
            let url = format!("sqlite://{}", dir.join("test.db").display());
            let defaults = DbOptions::default();
            let opts = DbOptions {
                max_connections: max_connections.unwrap_or(defaults.max_connections),
                ..defaults
            };
            let db = Db::connect(&SecretString::from(url), &opts)
                .await
                .expect("open SQLite");
            db.migrate().await.expect("migrate");
            db
        }
    }
}

/// Drops the schema a [`fresh_db`] made on PostgreSQL, with everything in it (benchmarks,
/// which run outside CI's throw-away database, leave nothing behind). Nothing on SQLite,
/// whose file lives in the caller's temporary directory.
pub async fn drop_fresh_db(db: &Db) {
    if db.backend() != crate::db::Backend::Postgres {
        return;
    }
    let mut conn = db.conn().await.expect("connection");
    let schema: String =
        crate::db_run!(&mut conn, |c| sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut *c)
            .await)
        .expect("current schema");
    crate::db_run!(&mut conn, |c| sqlx::query(&format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    ))
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .expect("drop schema");
}

/// The instant every test starts at.
pub fn epoch() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("valid time")
        .with_timezone(&chrono::Utc)
}

/// Builds a [`TestApp`] with extra routes and jobs (a capability's own).
pub struct TestAppBuilder {
    routes: Routes,
    registry: Registry,
    config: Config,
    email_transport: Option<Arc<dyn EmailTransport>>,
}

impl TestAppBuilder {
    pub fn routes(mut self, routes: Routes) -> Self {
        self.routes = self.routes.merge(routes);
        self
    }

    pub fn jobs(mut self, f: impl FnOnce(Registry) -> Registry) -> Self {
        self.registry = f(self.registry);
        self
    }

    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// Carries e-mail with `transport` instead of what the config says (SMTP or none).
    pub fn email_transport(mut self, transport: Arc<dyn EmailTransport>) -> Self {
        self.email_transport = Some(transport);
        self
    }

    pub async fn build(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = self.config;
        config.data_dir = dir.path().to_path_buf();
        let db = fresh_db(dir.path()).await;
        let clock = FixedClock::new(epoch());
        let app = App::from_parts(
            config,
            db,
            Arc::new(clock.clone()),
            SecretString::from("test-secret-key-of-sufficient-length"),
        );
        let app = match self.email_transport {
            Some(transport) => app.with_mailer(Some(transport)),
            None => app,
        };
        let router = crate::web::build(app.clone(), self.routes);
        TestApp {
            app,
            clock,
            router,
            registry: self.registry,
            _dir: dir,
        }
    }
}

impl TestApp {
    /// The kernel's routes and jobs.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            routes: crate::routes(),
            registry: crate::jobs(),
            config: Config::default(),
            email_transport: None,
        }
    }

    pub async fn new() -> TestApp {
        Self::builder().build().await
    }

    /// A browser-like client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
            bearer: None,
        }
    }

    /// An API client with a bearer key.
    pub fn api(&self, key: &str) -> Client {
        Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
            bearer: Some(key.to_owned()),
        }
    }

    /// Runs every job that is due, as the workers would.
    pub async fn run_pending_jobs(&self) -> usize {
        crate::jobs::run_pending(&self.app, &self.registry)
            .await
            .expect("jobs run")
    }

    /// Adds an office (code = postal code) and returns its id.
    pub async fn office(&self, code: &str, name: &str) -> uuid::Uuid {
        let mut tx = self.app.db.begin().await.expect("tx");
        office_store::upsert(
            &mut tx,
            &OfficeFields {
                code: code.into(),
                postal_code: code.into(),
                name: name.into(),
                municipality: name.into(),
                address: "Улица 1".into(),
                latitude: None,
                longitude: None,
                opening_hours: None,
            },
            self.app.now(),
        )
        .await
        .expect("office");
        let office = office_store::by_code(&mut tx, code)
            .await
            .expect("read")
            .expect("office exists");
        tx.commit().await.expect("commit");
        office.id
    }

    /// Creates an account of `role` (clerks and managers at office `office`) and returns its
    /// e-mail; the password is [`PASSWORD`].
    pub async fn user(&self, role: Role, office: Option<&str>) -> String {
        let email = format!(
            "{}-{}@test.eposta.rs",
            role.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        service::create_user(
            &self.app,
            &Actor::System,
            NewStaff {
                email: email.clone(),
                password: SecretString::from(PASSWORD),
                display_name: String::new(),
                role,
                office_code: office.map(str::to_owned),
            },
        )
        .await
        .expect("create user");
        email
    }

    /// A logged-in citizen who is `role` (`owner` or `member`) of `organisation`.
    pub async fn member_of(&self, organisation: uuid::Uuid, role: &str) -> Client {
        let email = self.user(Role::Citizen, None).await;
        crate::organisations::add_member(&self.app, &Actor::System, organisation, &email, role)
            .await
            .expect("add member");
        let mut c = self.client();
        c.login(&email, PASSWORD).await;
        c
    }

    /// A logged-in client of a new account with `role`.
    pub async fn logged_in(&self, role: Role, office: Option<&str>) -> Client {
        let email = self.user(role, office).await;
        let mut c = self.client();
        c.login(&email, PASSWORD).await;
        c
    }
}

/// The password of every account the harness creates.
pub const PASSWORD: &str = "test-password-long-enough";

/// Drives the router like a browser (cookies, CSRF field) or an API client (bearer key).
pub struct Client {
    router: Router,
    cookies: HashMap<String, String>,
    bearer: Option<String>,
}

/// A response, body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
}

impl Client {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.into(), value.into());
    }

    /// The CSRF token the server gave this client (fetching a page first if needed).
    pub async fn csrf(&mut self) -> String {
        if !self.cookies.contains_key(crate::web::csrf::COOKIE) {
            self.get("/healthz").await;
        }
        self.cookies
            .get(crate::web::csrf::COOKIE)
            .cloned()
            .unwrap_or_default()
    }

    pub async fn request(&mut self, req: Request<Body>) -> TestResponse {
        let (mut parts, body) = req.into_parts();
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            parts
                .headers
                .insert(header::COOKIE, jar.parse().expect("cookie header"));
        }
        if let Some(key) = &self.bearer
            && !parts.headers.contains_key(header::AUTHORIZATION)
        {
            parts.headers.insert(
                header::AUTHORIZATION,
                format!("Bearer {key}").parse().expect("auth header"),
            );
        }
        let res = self
            .router
            .clone()
            .oneshot(Request::from_parts(parts, body))
            .await
            .expect("infallible");
        for v in res.headers().get_all(header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let Some((kv, attrs)) = v.split_once(';').or(Some((v, ""))) else {
                continue;
            };
            let Some((k, val)) = kv.split_once('=') else {
                continue;
            };
            if val.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().into(), val.into());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Body,
    ) -> TestResponse {
        let mut b = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.request(b.body(body).expect("request")).await
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.send(Method::GET, path, &[], Body::empty()).await
    }

    /// Posts a form, adding the CSRF field.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form_raw(path, &all).await
    }

    /// Posts a form exactly as given (no CSRF field added).
    pub async fn post_form_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).expect("form");
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            Body::from(body),
        )
        .await
    }

    pub async fn post_json(
        &mut self,
        path: &str,
        json: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        self.send(Method::POST, path, &h, Body::from(json.to_string()))
            .await
    }

    /// Logs in through the form; panics unless it succeeds.
    pub async fn login(&mut self, email: &str, password: &str) {
        let r = self
            .post_form("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "login failed: {}",
            r.text()
        );
        assert!(
            self.cookies
                .contains_key(crate::web::principal::SESSION_COOKIE)
        );
    }
}

/// Whether a test may use a third-party peer (a Python package from `.ci/requirements.txt`,
/// say). Present: true. Missing under CI (`CI=true`): the test fails with `install`, because
/// CI must run every check. Missing elsewhere (a developer's fresh machine): the test says on
/// standard error what it did not check and how to get it, and goes on without that part.
pub fn peer_available(test: &str, available: bool, what: &str, install: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{test}: {what} is required under CI: {install}");
    }
    eprintln!("{test}: NOT CHECKED here: {what} is not installed ({install}); CI checks it");
    false
}

/// Checks an OpenAPI document with an independent judge, the `openapi-spec-validator` Python
/// package (PyPI, `.ci/requirements.txt`); required under CI, as `peer_available` says.
/// Panics, naming the validator's complaint, when the document is invalid.
pub fn assert_valid_openapi(test: &str, doc: &[u8]) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let check = "import json, sys\n\
                 try:\n    from openapi_spec_validator import validate\n\
                 except ImportError:\n    sys.exit(3)\n\
                 validate(json.load(sys.stdin))\n";
    let Ok(mut child) = Command::new("python3")
        .args(["-c", check])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        peer_available(test, false, "python3", "apt-get install python3");
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(doc)
        .expect("write the document");
    let out = child.wait_with_output().expect("validator ran");
    if !peer_available(
        test,
        out.status.code() != Some(3),
        "openapi-spec-validator",
        "pip install -r .ci/requirements.txt",
    ) {
        return;
    }
    assert!(
        out.status.success(),
        "the OpenAPI document is invalid:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
