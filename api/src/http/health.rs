//! Liveness and readiness, for orchestrators and load balancers.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;

/// The process is up and serving. Deliberately touches nothing else: a database outage must not
/// get a healthy process restarted.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

/// The service can do its work: the database answers within a second.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match tokio::time::timeout(Duration::from_secs(1), state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check: database unavailable");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("readiness check: database did not answer within 1 s");
            unavailable()
        }
    }
}

fn unavailable() -> (StatusCode, Json<Value>) {
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "database": "unreachable" })))
}
