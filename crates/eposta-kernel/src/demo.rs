//! Demo data for `eposta serve --demo`: a few post offices and one account of each role,
//! with the credentials the README states. Seeding twice changes nothing.

use secrecy::SecretString;

use crate::accounts::Role;
use crate::accounts::service::{self, NewStaff};
use crate::accounts::store as account_store;
use crate::app::App;
use crate::audit::Actor;
use crate::error::Error;
use crate::offices::store::{self as office_store, OfficeFields};

/// (e-mail, password, role, office code, name). Public knowledge: never use in production.
pub const ACCOUNTS: &[(&str, &str, Role, Option<&str>, &str)] = &[
    (
        "admin@demo.eposta.rs",
        "demo-admin-password",
        Role::Admin,
        None,
        "Админ Демо",
    ),
    (
        "manager@demo.eposta.rs",
        "demo-manager-password",
        Role::Manager,
        Some("11101"),
        "Милица Управник",
    ),
    (
        "clerk@demo.eposta.rs",
        "demo-clerk-password",
        Role::Clerk,
        Some("11101"),
        "Петар Шалтерски",
    ),
    (
        "clerk2@demo.eposta.rs",
        "demo-clerk-password",
        Role::Clerk,
        Some("21101"),
        "Јована Новосадска",
    ),
    (
        "citizen@demo.eposta.rs",
        "demo-citizen-password",
        Role::Citizen,
        None,
        "Ана Грађанин",
    ),
];

fn offices() -> Vec<OfficeFields> {
    let o = |code: &str, pc: &str, name: &str, mun: &str, addr: &str, lat: f64, lon: f64| {
        OfficeFields {
            code: code.into(),
            postal_code: pc.into(),
            name: name.into(),
            municipality: mun.into(),
            address: addr.into(),
            latitude: Some(lat),
            longitude: Some(lon),
            opening_hours: Some("Pon–Pet 08–19, Sub 08–14".into()),
        }
    };
    vec![
        o(
            "11101",
            "11101",
            "Београд 1",
            "Стари град",
            "Змај Јовина 17",
            44.8176,
            20.4569,
        ),
        o(
            "21101",
            "21101",
            "Нови Сад 1",
            "Нови Сад",
            "Народних хероја 2",
            45.2551,
            19.8452,
        ),
        o(
            "18101",
            "18101",
            "Ниш 1",
            "Ниш",
            "Вождова 13а",
            43.3209,
            21.8958,
        ),
    ]
}

/// Seeds the demo data unless it is there already.
pub async fn seed(app: &App) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    for o in offices() {
        office_store::upsert(&mut tx, &o, app.now()).await?;
    }
    tx.commit().await?;
    for (email, password, role, office, name) in ACCOUNTS {
        let mut conn = app.db.conn().await?;
        let exists = account_store::user_by_email(&mut conn, email)
            .await?
            .is_some();
        drop(conn);
        if exists {
            continue;
        }
        service::create_user(
            app,
            &Actor::System,
            NewStaff {
                email: (*email).into(),
                password: SecretString::from(*password),
                display_name: (*name).into(),
                role: *role,
                office_code: office.map(str::to_owned),
            },
        )
        .await?;
    }
    tracing::info!("demo data ready");
    Ok(())
}
