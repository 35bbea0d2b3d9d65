//! The HTTP surface: GraphQL, health, readiness and metrics, behind the request id, tracing,
//! timeout and body-limit layers.

mod authenticate;
mod callbacks;
mod client_address;
mod graphql;
mod health;
mod letters;
mod metrics;
mod request_id;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use request_id::RequestId;

use crate::auth::Tokens;
use crate::config::Settings;
use crate::graphql::RegistrySchema;
use crate::metrics::Metrics;
use crate::service::Services;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub schema: RegistrySchema,
    pub db: DatabaseConnection,
    pub services: Services,
    pub tokens: Arc<Tokens>,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<Settings>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The public keys that verify this deployment's access tokens, for partners.
async fn jwks(axum::extract::State(state): axum::extract::State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.tokens.jwks())
}

/// The routes and their layers. GraphQL enforces its own timeout with a GraphQL error; the
/// outer timeout is a backstop for every route, slightly longer.
pub fn router(state: AppState) -> Router {
    let http = &state.settings.http;
    let backstop = http.request_timeout() + Duration::from_secs(1);
    let layers = ServiceBuilder::new()
        .layer(axum::middleware::map_request(request_id::discard_unusable))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_id::span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, backstop))
        // The extractors enforce the limit, so that `/graphql` refuses a large body in the
        // GraphQL error shape instead of tower-http's plain-text 413.
        .layer(DefaultBodyLimit::max(http.body_limit_bytes));
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::scrape))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/callbacks/sms/reports", post(callbacks::reports))
        .route("/callbacks/sms/replies", post(callbacks::replies))
        .route("/letters/{code}", get(letters::page))
        .route("/letters/download/{token}", get(letters::download))
        .layer(layers)
        .with_state(state)
}
