//! `POST /callbacks/sms/reports` and `POST /callbacks/sms/replies`: the SMS gateway's delivery
//! reports and volunteers' replies.
//!
//! Callbacks are signed: `X-Registry-Timestamp` (Unix seconds) and `X-Registry-Signature`, the
//! hex HMAC-SHA256 of `"{timestamp}.{body}"` under `messaging.callback_secret`. A stale
//! timestamp (over five minutes) or a wrong signature is refused before the body is read, so a
//! forged report cannot mark a message delivered, and a captured one cannot be replayed later.
//! The gateway's relay signs; with no secret configured, the endpoints answer 404.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::json;

use super::AppState;
use crate::digest::verify_hmac_hex;
use crate::messaging::{InboundSms, StatusReport};

const MAX_SKEW_SECS: i64 = 300;

pub async fn reports(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = refuse_unsigned(&state, &headers, &body) {
        return refusal;
    }
    let Ok(reports) = serde_json::from_slice::<Vec<StatusReport>>(&body) else {
        return answer(StatusCode::BAD_REQUEST, "the body must be a JSON array of status reports");
    };
    match state.services.messaging.record_receipts(&reports).await {
        Ok(_) => answer(StatusCode::OK, "OK"),
        Err(err) => failed(err),
    }
}

pub async fn replies(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = refuse_unsigned(&state, &headers, &body) {
        return refusal;
    }
    let Ok(reply) = serde_json::from_slice::<InboundSms>(&body) else {
        return answer(StatusCode::BAD_REQUEST, "the body must be a reply object");
    };
    match state.services.messaging.record_reply(state.services.messaging.provider_name(), &reply).await {
        Ok(_) => answer(StatusCode::OK, "OK"),
        Err(err) => failed(err),
    }
}

/// The refusal of a callback that is not signed with the current secret, if it is not.
fn refuse_unsigned(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let Some(secret) = &state.settings.messaging.callback_secret else {
        return Some(StatusCode::NOT_FOUND.into_response());
    };
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    let (Some(timestamp), Some(signature)) = (header("x-registry-timestamp"), header("x-registry-signature")) else {
        return Some(answer(StatusCode::UNAUTHORIZED, "missing signature"));
    };
    let fresh = timestamp.parse::<i64>().is_ok_and(|at| (chrono::Utc::now().timestamp() - at).abs() <= MAX_SKEW_SECS);
    let signed = [timestamp.as_bytes(), b".", body].concat();
    if fresh && verify_hmac_hex(secret.expose_secret().as_bytes(), &signed, signature) {
        None
    } else {
        tracing::warn!("refused an SMS callback with a bad or stale signature");
        Some(answer(StatusCode::UNAUTHORIZED, "invalid signature"))
    }
}

/// The gateway's own acknowledgement shape: `result` 0 is success.
fn answer(status: StatusCode, message: &str) -> Response {
    let result = i32::from(!status.is_success());
    (status, Json(json!({ "result": result, "errmsg": message }))).into_response()
}

fn failed(err: crate::error::AppError) -> Response {
    let code = err.code();
    // Converting logs an internal cause with the request's span.
    let _ = async_graphql::Error::from(err);
    match code {
        crate::error::ErrorCode::BadUserInput => {
            answer(StatusCode::BAD_REQUEST, "the callback does not describe a phone")
        }
        crate::error::ErrorCode::ServiceUnavailable => answer(StatusCode::SERVICE_UNAVAILABLE, "busy; retry"),
        _ => answer(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}
