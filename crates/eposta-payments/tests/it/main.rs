//! The payments capability's integration tests, on SQLite, or on PostgreSQL when
//! `EPOSTA_TEST_PG_URL` is set (each test in a schema of its own).

mod api;
mod card;
mod counter;
mod ips;
mod pages;
mod photo;
mod receipts;
mod reconcile;
mod refunds;
mod remittance;
mod role_matrix;
mod settlement;

use eposta_kernel::accounts::Role;
use eposta_kernel::accounts::service::{NewStaff, create_user};
use eposta_kernel::apikeys;
use eposta_kernel::audit::Actor;
use eposta_kernel::db_run;
use eposta_kernel::testing::{Client, PASSWORD, TestApp};
use secrecy::SecretString;
use serde_json::{Value, json};

/// A test application with the payments routes and jobs, and the test acquirer on.
pub async fn app() -> TestApp {
    TestApp::builder()
        .routes(eposta_payments::routes())
        .jobs(eposta_payments::jobs)
        .config(|c| c.payments_test_acquirer = true)
        .build()
        .await
}

/// A logged-in citizen with a name.
pub async fn citizen(t: &TestApp, name: &str) -> Client {
    citizen_with_id(t, name).await.0
}

/// A logged-in citizen with a name, and the account's id.
pub async fn citizen_with_id(t: &TestApp, name: &str) -> (Client, uuid::Uuid) {
    let email = format!("{}@test.eposta.rs", uuid::Uuid::new_v4().simple());
    let id = create_user(
        &t.app,
        &Actor::System,
        NewStaff {
            email: email.clone(),
            password: SecretString::from(PASSWORD),
            display_name: name.to_owned(),
            role: Role::Citizen,
            office_code: None,
        },
    )
    .await
    .expect("citizen");
    let mut c = t.client();
    c.login(&email, PASSWORD).await;
    (c, id)
}

/// A logged-in clerk (or manager) of the office `code` with a name, and the account's id.
pub async fn staff(t: &TestApp, role: Role, code: &str, name: &str) -> (Client, uuid::Uuid) {
    let email = format!("{}@test.eposta.rs", uuid::Uuid::new_v4().simple());
    let id = create_user(
        &t.app,
        &Actor::System,
        NewStaff {
            email: email.clone(),
            password: SecretString::from(PASSWORD),
            display_name: name.to_owned(),
            role,
            office_code: Some(code.to_owned()),
        },
    )
    .await
    .expect("staff");
    let mut c = t.client();
    c.login(&email, PASSWORD).await;
    (c, id)
}

/// An API key of a new organisation with these scopes.
pub async fn api_key(t: &TestApp, organisation: &str, scopes: &[&str]) -> String {
    let org = apikeys::create_organisation(&t.app, &Actor::System, organisation, "business")
        .await
        .expect("organisation");
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    apikeys::issue(&t.app, &Actor::System, org, "shop", &scopes)
        .await
        .expect("key")
        .token
}

/// A number from SQL on the test database.
pub async fn count(t: &TestApp, sql: &str) -> i64 {
    let mut conn = t.app.db.conn().await.expect("connection");
    db_run!(&mut conn, |c| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&mut *c)
        .await)
    .expect("count")
}

/// Runs a statement on the test database.
pub async fn exec(t: &TestApp, sql: &str) {
    let mut conn = t.app.db.conn().await.expect("connection");
    db_run!(&mut conn, |c| sqlx::query(sql)
        .execute(&mut *c)
        .await
        .map(|_| ()))
    .expect("exec");
}

/// A valid payment order as the API takes it (the EPS bill of the shared vectors).
pub fn order(method: &str) -> Value {
    json!({
        "payer": {"name": "Петар Петровић", "address": "Булевар краља Александра 73\n11000 Београд"},
        "payee": {"name": "JP EPS Beograd", "account": "845000000040484987"},
        "purpose": "Uplata po racunu",
        "payment_code": "189",
        "amount": {"minor": 359_613, "currency": "RSD"},
        "reference": "97163220000111111111000",
        "method": method,
        "return_url": "https://shop.example.rs/paid",
    })
}

/// The path of an absolute URL on this installation (the test client has no host).
pub fn path_of(url: &str) -> String {
    url.strip_prefix("http://127.0.0.1:8080")
        .unwrap_or(url)
        .to_owned()
}
