//! `GET /metrics`: the OpenMetrics text exposition for Prometheus.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::AppState;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let max = state.settings.database.max_connections;
    let (in_use, idle) = crate::db::pool_usage(&state.db, max);
    state.metrics.set_pool(in_use, idle, max);
    match state.services.messaging.queue_age().await {
        Ok(age) => state.metrics.set_queue_age(age),
        Err(err) => tracing::warn!(error = ?err, "could not read the outbox queue age"),
    }
    ([(CONTENT_TYPE, OPENMETRICS)], state.metrics.render())
}
