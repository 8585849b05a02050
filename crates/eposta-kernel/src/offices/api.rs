//! The post-office registry's JSON API: `GET /api/v1/offices` for keys with `offices:read`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::service;
use super::store::OfficeRow;
use crate::app::App;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::Query;
use crate::web::pagination::{Page, PageParams};
use crate::web::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new().get("/api/v1/offices", Access::Scope("offices:read"), list)
}

/// Search and paging of the office list (the list convention of docs/api.md).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfficesQuery {
    /// Part of a code, postal code, name or municipality, in Cyrillic or Latin (at most 100
    /// characters). Empty or absent: every office.
    #[serde(default)]
    pub q: String,
    /// How many offices to return, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Where to go on: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
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

/// Lists post offices, optionally filtered by a search text.
#[utoipa::path(
    get,
    path = "/api/v1/offices",
    tag = "offices",
    params(OfficesQuery),
    responses(
        (status = 200, description = "A page of offices", body = Page<Office>),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 403, description = "The key lacks the offices:read scope", body = ErrorBody),
        (status = 422, description = "A parameter is out of range; `field` names it", body = ErrorBody),
    ),
    security(("api_key" = ["offices:read"]))
)]
pub async fn list(
    State(app): State<App>,
    Query(q): Query<OfficesQuery>,
) -> Result<Json<Page<Office>>, ApiError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, offset) = (page.limit()?, page.offset()?);
    let found = service::search(&app, &q.q, limit, offset).await?;
    let items = found.offices.into_iter().map(Office::from).collect();
    Ok(Json(Page::after_offset(items, found.more, offset)))
}
