//! `GET /api/v1/me`: who the calling API key is. The first call every API client makes.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::apikeys;
use crate::app::App;
use crate::web::error::ApiError;
use crate::web::principal::KeyHolder;

/// The calling API key and the organisation it belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub organisation: MeOrganisation,
    pub key: MeKey,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeOrganisation {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeKey {
    pub id: Uuid,
    /// The name the administrators gave the key.
    pub name: String,
    /// The public part of the key, `ep_<prefix>_…`, to tell keys apart.
    pub prefix: String,
    /// What the key may do, for example `sms:send`.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Who am I
///
/// The calling API key: its name, prefix and scopes, and the organisation it belongs to.
/// Any valid key may call it, whatever its scopes.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "me",
    tag = "kernel",
    responses((status = 200, description = "The calling key", body = Me))
)]
pub async fn me(State(app): State<App>, key: KeyHolder) -> Result<Json<Me>, ApiError> {
    let row = apikeys::describe(&app, &key).await?;
    Ok(Json(Me {
        organisation: MeOrganisation {
            id: row.organisation_id,
            name: row.organisation,
        },
        key: MeKey {
            id: row.id,
            name: row.name,
            prefix: format!("ep_{}", row.prefix),
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: row.created_at,
        },
    }))
}
