//! A citizen's saved payees: saved from one of their payments, picked to fill the form,
//! deleted. Only their own.

use eposta_kernel::ids::new_id;
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error};
use uuid::Uuid;

use crate::model::SavedPayee;
use crate::store::payees;

/// Saves the payee of one of the citizen's payments (its name, address, account, payment
/// code, reference and purpose). Saving the same payee again keeps the first.
pub async fn save_from_payment(
    app: &App,
    user: &SessionUser,
    payment: Uuid,
) -> Result<SavedPayee, Error> {
    let p = super::for_citizen(app, user, payment).await?;
    let payee = SavedPayee {
        id: new_id(),
        user_id: user.id,
        name: p.payee.name.clone(),
        address: p.payee.address.clone(),
        account: p.payee_account.as_str().to_owned(),
        payment_code: p.payment_code.to_string(),
        reference: p.reference.as_ref().map(|r| r.ro()),
        purpose: p.purpose.clone(),
        created_at: app.now(),
    };
    let mut tx = app.db.begin().await?;
    let inserted = payees::insert(&mut tx, &payee).await?;
    tx.commit().await?;
    if inserted {
        tracing::info!(payee = %payee.id, "payee saved");
        return Ok(payee);
    }
    let mut conn = app.db.conn().await?;
    payees::of_user(&mut conn, user.id)
        .await?
        .into_iter()
        .find(|s| s.account == payee.account && s.name == payee.name)
        .ok_or(Error::NotFound)
}

/// The citizen's payees, by name.
pub async fn list(app: &App, user: &SessionUser) -> Result<Vec<SavedPayee>, Error> {
    let mut conn = app.db.conn().await?;
    payees::of_user(&mut conn, user.id).await
}

/// One of the citizen's payees; another's is "not found".
pub async fn get(app: &App, user: &SessionUser, id: Uuid) -> Result<SavedPayee, Error> {
    let mut conn = app.db.conn().await?;
    payees::get(&mut conn, user.id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Deletes one of the citizen's payees; another's is "not found".
pub async fn delete(app: &App, user: &SessionUser, id: Uuid) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    let deleted = payees::delete(&mut tx, user.id, id).await?;
    tx.commit().await?;
    if deleted {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}
