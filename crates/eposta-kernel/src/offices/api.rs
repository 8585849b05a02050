//! The post-office registry's JSON API: `GET /api/v1/offices` for keys with `offices:read`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::service;
use super::store::OfficeRow;
use crate::app::App;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::Query;
use crate::web::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new().get("/api/v1/offices", Access::Scope("offices:read"), list)
}

/// Search and paging of the office list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfficesQuery {
    /// Part of a code, postal code, name or municipality, in Cyrillic or Latin (at most 100
    /// characters). Empty or absent: every office.
    #[serde(default)]
    pub q: String,
    /// How many offices to return, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// How many offices to skip, 0 to 1,000,000 (default 0).
    #[param(minimum = 0, maximum = 1_000_000)]
    pub offset: Option<i64>,
}

/// A post office.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Office {
    /// The office's code (letters and digits, unique).
    #[schema(example = "11101")]
    pub code: String,
    #[schema(example = "11101")]
    pub postal_code: String,
    /// As registered, usually in Cyrillic.
    #[schema(example = "Београд 1")]
    pub name: String,
    #[schema(example = "Стари град")]
    pub municipality: String,
    #[schema(example = "Змај Јовина 17")]
    pub address: String,
    /// WGS 84 decimal degrees; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// Free text, as registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
}

impl From<OfficeRow> for Office {
    fn from(r: OfficeRow) -> Self {
        Self {
            code: r.code,
            postal_code: r.postal_code,
            name: r.name,
            municipality: r.municipality,
            address: r.address,
            latitude: r.latitude,
            longitude: r.longitude,
            opening_hours: r.opening_hours,
        }
    }
}

/// One page of offices, ordered by code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfficeList {
    pub offices: Vec<Office>,
    pub limit: i64,
    pub offset: i64,
    /// The `offset` of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<i64>,
}

/// Lists post offices, optionally filtered by a search text.
#[utoipa::path(
    get,
    path = "/api/v1/offices",
    tag = "offices",
    params(OfficesQuery),
    responses(
        (status = 200, description = "A page of offices", body = OfficeList),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 403, description = "The key lacks the offices:read scope", body = ErrorBody),
        (status = 422, description = "A parameter is out of range; `field` names it", body = ErrorBody),
    ),
    security(("api_key" = ["offices:read"]))
)]
pub async fn list(
    State(app): State<App>,
    Query(q): Query<OfficesQuery>,
) -> Result<Json<OfficeList>, ApiError> {
    let found = service::search(&app, &q.q, q.limit.unwrap_or(50), q.offset.unwrap_or(0)).await?;
    let next_offset = found.more.then_some(found.offset + found.limit);
    Ok(Json(OfficeList {
        offices: found.offices.into_iter().map(Office::from).collect(),
        limit: found.limit,
        offset: found.offset,
        next_offset,
    }))
}
