//! The kernel's own JSON API (`/api/v1/me`, `/api/v1/openapi.json`) and the readable API
//! reference at `/api`, drawn from the same OpenAPI document.

pub mod me;
pub mod reference;

use crate::web::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/me", Access::AnyKey, me::me)
        .get(
            "/api/v1/openapi.json",
            Access::Public,
            reference::openapi_json,
        )
        .get("/api", Access::Public, reference::page)
        .openapi(openapi())
}

/// The OpenAPI description of the kernel's API operations.
///
/// KERNEL API PATHS: every kernel handler under `/api/v1` is listed here by its
/// `#[utoipa::path]` function (schemas its responses and bodies name are collected from it).
/// A route missing from this list fails `tests/it/api.rs`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(me::me, reference::openapi_json, crate::offices::api::list))]
    struct KernelApi;
    <KernelApi as utoipa::OpenApi>::openapi()
}
