//! The yardstick of the tracking-lookup benchmark (docs/benchmarks.md, "Tracking lookups";
//! issue #4): the least a Rust web service can do per lookup, a bare axum + sqlx server
//! answering `GET /items/{id}` with one primary-key lookup of `postal_items` as JSON. No
//! middleware, no authentication, no logging. `bench/tracking.sh` runs it beside
//! `eposta serve` on the same database.
//!
//!   bench_tracking_baseline DATABASE_URL [LISTEN] [POOL]   (default 127.0.0.1:8091, 10)

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

#[derive(serde::Serialize, sqlx::FromRow)]
struct Item {
    tracking_number: String,
    product: String,
    status: String,
    created_at: DateTime<Utc>,
}

async fn item(
    State(pool): State<PgPool>,
    Path(id): Path<String>,
) -> Result<Json<Item>, StatusCode> {
    sqlx::query_as::<_, Item>(
        "SELECT tracking_number, product, status, created_at FROM postal_items \
         WHERE tracking_number = $1",
    )
    .bind(id)
    .fetch_optional(&pool)
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
    .map(Json)
    .ok_or(StatusCode::NOT_FOUND)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or_else(|| {
        anyhow::anyhow!("usage: bench_tracking_baseline DATABASE_URL [LISTEN] [POOL]")
    })?;
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:8091".into());
    let pool_size: u32 = args.next().map_or(Ok(10), |p| p.parse())?;
    let pool = PgPoolOptions::new()
        .max_connections(pool_size)
        .connect(&url)
        .await?;
    let app = Router::new()
        .route("/items/{id}", get(item))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {listen}");
    axum::serve(listener, app).await?;
    Ok(())
}
