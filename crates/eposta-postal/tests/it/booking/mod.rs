//! Booking: serial allocation, the citizen's pages, the businesses' API; on SQLite, or on
//! PostgreSQL when `EPOSTA_TEST_PG_URL` is set.

mod allocation;
mod api;
pub mod pages;

use eposta_kernel::accounts::Role;
use eposta_kernel::accounts::service::{NewStaff, create_user};
use eposta_kernel::apikeys;
use eposta_kernel::audit::Actor;
use eposta_kernel::db_run;
use eposta_kernel::testing::{Client, PASSWORD, TestApp};
use secrecy::SecretString;
use serde_json::{Value, json};

/// A test application with the postal routes and jobs.
pub async fn app() -> TestApp {
    TestApp::builder()
        .routes(eposta_postal::routes())
        .jobs(eposta_postal::jobs)
        .build()
        .await
}

/// A logged-in citizen with a name (the booking form fills in the sender from it).
pub async fn citizen(t: &TestApp, name: &str) -> Client {
    let email = format!("{}@test.eposta.rs", uuid::Uuid::new_v4().simple());
    create_user(
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
    c
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

/// A count from SQL on the test database.
pub async fn count(t: &TestApp, sql: &str) -> i64 {
    let mut conn = t.app.db.conn().await.expect("connection");
    db_run!(&mut conn, |c| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&mut *c)
        .await)
    .expect("count")
}

/// A valid shipment as the API takes it; `i` varies the product.
pub fn shipment(i: usize) -> Value {
    let (product, weight, options) = match i % 4 {
        0 => (
            "parcel",
            1200,
            json!({"cash_on_delivery": {"minor": 250_000, "currency": "RSD"}}),
        ),
        1 => ("express", 800, json!({"sms_notice": true})),
        2 => (
            "registered_letter",
            40,
            json!({"declared_value": {"minor": 1_000_000, "currency": "RSD"}, "delivery_confirmation": true}),
        ),
        _ => ("letter", 20, json!({})),
    };
    json!({
        "product": product,
        "weight_g": weight,
        "sender": {
            "name": "Књижара Доо", "street": "Кнеза Михаила", "number": "40",
            "postal_code": "11000", "place": "Београд", "phone": "011 3210 123"
        },
        "recipient": {
            "name": format!("Купац {i}"), "street": "Змај Јовина", "number": format!("{}", i % 90 + 1),
            "postal_code": "21000", "place": "Нови Сад", "phone": "+381 64 123 4567",
            "email": "kupac@example.rs"
        },
        "options": options
    })
}
