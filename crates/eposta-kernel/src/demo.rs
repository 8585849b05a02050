//! Demo data for `eposta serve --demo`: the sample post offices, one account of each role
//! with the credentials the README states, and a business whose owner is the demo citizen.
//! Seeding twice adds nothing (each seeding's office import is in the audit log, with
//! nothing inserted or updated).

use secrecy::SecretString;

use crate::accounts::Role;
use crate::accounts::service::{self, NewStaff};
use crate::accounts::store as account_store;
use crate::app::App;
use crate::audit::Actor;
use crate::error::Error;
use crate::offices;

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

/// The sample office registry (samples/offices.csv), loaded the way an operator's import is.
/// It must keep the offices the demo accounts work at.
pub const OFFICES_CSV: &str = include_str!("../../../samples/offices.csv");

async fn exists_now(app: &App, email: &str) -> Result<bool, Error> {
    let mut conn = app.db.conn().await?;
    Ok(account_store::user_by_email(&mut conn, email)
        .await?
        .is_some())
}

/// Seeds the demo data unless it is there already.
pub async fn seed(app: &App) -> Result<(), Error> {
    if let Err(rejected) =
        offices::service::import_csv(app, &Actor::System, OFFICES_CSV.as_bytes(), |_| {}).await?
    {
        let first = rejected.errors.first().map(ToString::to_string);
        return Err(Error::Internal(anyhow::anyhow!(
            "samples/offices.csv has {} bad rows, first {}",
            rejected.bad_rows,
            first.unwrap_or_default()
        )));
    }
    for (email, password, role, office, name) in ACCOUNTS {
        let mut conn = app.db.conn().await?;
        let exists = account_store::user_by_email(&mut conn, email)
            .await?
            .is_some();
        drop(conn);
        if exists {
            continue;
        }
        let created = service::create_user(
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
        .await;
        match created {
            Ok(_) => {}
            // Another process started with --demo at the same moment and won the race.
            Err(Error::Invalid { .. }) if exists_now(app, email).await? => {}
            Err(e) => return Err(e),
        }
    }
    demo_business(app).await?;
    tracing::info!("demo data ready");
    Ok(())
}

/// The demo's business, whose owner is the demo citizen, so that the organisation console
/// has someone to show it to.
async fn demo_business(app: &App) -> Result<(), Error> {
    const NAME: &str = "Демо књижара";
    let mut conn = app.db.conn().await?;
    let existing = crate::apikeys::store::organisations(&mut conn)
        .await?
        .into_iter()
        .any(|o| o.name == NAME);
    drop(conn);
    if existing {
        return Ok(());
    }
    let id = match crate::apikeys::create_organisation(app, &Actor::System, NAME, "business").await
    {
        Ok(id) => id,
        // Another process seeding at the same moment made it.
        Err(Error::Invalid { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    crate::organisations::add_member(app, &Actor::System, id, "citizen@demo.eposta.rs", "owner")
        .await
        .map(|_| ())
}
