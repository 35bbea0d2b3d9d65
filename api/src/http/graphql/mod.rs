//! `/graphql`: GraphQL over HTTP, per the GraphQL-over-HTTP specification.
//!
//! A single operation per request (batching is off: one request, one rate-limit decision, one
//! audit trail), JSON bodies only, queries only over GET, and a response media type negotiated
//! from Accept. async-graphql-axum's integration is not used because it cannot answer
//! `application/json` clients in their own media type.

mod media;
mod params;

use async_graphql::http::GraphiQLSource;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Map, Value};

use self::media::Media;
use self::params::{Malformed, Params};
use super::authenticate::{self, Refusal};
use super::{AppState, RequestId as HttpRequestId};
use crate::error::{ErrorCode, code_of, server_error};
use crate::graphql::HttpGet;
use crate::service::{ClientAddress, RequestId};

pub async fn post(
    State(state): State<AppState>,
    HttpRequestId(request_id): HttpRequestId,
    client: ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(media) = Media::negotiate(&headers) else {
        return not_acceptable(&state, &request_id);
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let limit = state.settings.http.body_limit_bytes;
            let reason = format!("the request body is larger than {limit} bytes");
            return refuse(&state, media, &request_id, StatusCode::PAYLOAD_TOO_LARGE, &reason);
        }
        Err(_) => {
            let reason = "the request body could not be read";
            return refuse(&state, media, &request_id, StatusCode::BAD_REQUEST, reason);
        }
    };
    if !media::is_json_body(&headers) {
        return refuse(
            &state,
            media,
            &request_id,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json",
        );
    }
    match Params::from_json_body(&body) {
        Ok(params) => execute(&state, media, &request_id, &headers, params.into_request().data(client)).await,
        Err(Malformed(reason)) => refuse(&state, media, &request_id, StatusCode::BAD_REQUEST, &reason),
    }
}

/// GET runs queries from the query string; a browser asking for a page gets GraphiQL, except in
/// production, where introspection is off.
pub async fn get(
    State(state): State<AppState>,
    HttpRequestId(request_id): HttpRequestId,
    client: ClientAddress,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() && media::prefers_html(&headers) && !state.settings.is_production() {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    let Some(media) = Media::negotiate(&headers) else {
        return not_acceptable(&state, &request_id);
    };
    match Params::from_query_string(&raw) {
        Ok(params) => {
            let get = HttpGet { operation_name: params.operation_name.clone() };
            execute(&state, media, &request_id, &headers, params.into_request().data(get).data(client)).await
        }
        Err(Malformed(reason)) => refuse(&state, media, &request_id, StatusCode::BAD_REQUEST, &reason),
    }
}

async fn execute(
    state: &AppState,
    media: Media,
    request_id: &str,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Response {
    let principal = match authenticate::principal(state, headers).await {
        Ok(principal) => principal,
        Err(Refusal::Credentials(reason)) => return unauthenticated(state, media, request_id, reason),
        Err(Refusal::Unavailable(err)) => {
            let code = err.code();
            let error = async_graphql::Error::from(err).into_server_error(async_graphql::Pos::default());
            let mut response = render(media, request_id, async_graphql::Response::from_errors(vec![error]));
            *response.status_mut() = if code == ErrorCode::ServiceUnavailable {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            return response;
        }
    };
    let request = request.data(principal).data(RequestId(Some(request_id.to_owned())));
    let timeout = state.settings.http.request_timeout();
    let response = if let Ok(response) = tokio::time::timeout(timeout, state.schema.execute(request)).await {
        response
    } else {
        tracing::warn!(timeout_ms = timeout.as_millis(), "GraphQL request timed out");
        state.metrics.observe_error(ErrorCode::ServiceUnavailable);
        async_graphql::Response::from_errors(vec![server_error(
            ErrorCode::ServiceUnavailable,
            "the request took too long and was stopped",
        )])
    };
    render(media, request_id, response)
}

/// Writes a GraphQL response. A request that failed before execution has no `data` and, for
/// `application/graphql-response+json`, a 4xx status chosen by its error code.
fn render(media: Media, request_id: &str, mut response: async_graphql::Response) -> Response {
    let failed_before_execution = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|err| err.path.is_empty());
    for err in &mut response.errors {
        err.extensions.get_or_insert_with(Default::default).set("requestId", request_id);
    }
    let mut body = Map::new();
    if !failed_before_execution {
        body.insert("data".into(), serde_json::to_value(&response.data).unwrap_or(Value::Null));
    }
    if !response.errors.is_empty() {
        body.insert("errors".into(), serde_json::to_value(&response.errors).unwrap_or(Value::Null));
    }
    let code = response.errors.first().and_then(code_of);
    let status = if failed_before_execution { status_before_execution(media, code) } else { StatusCode::OK };
    let mut http =
        (status, [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))], axum::Json(Value::Object(body)))
            .into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        http.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
    }
    http
}

fn status_before_execution(media: Media, code: Option<ErrorCode>) -> StatusCode {
    match code {
        Some(ErrorCode::MethodNotAllowed) => StatusCode::METHOD_NOT_ALLOWED,
        Some(ErrorCode::ServiceUnavailable) => StatusCode::SERVICE_UNAVAILABLE,
        Some(ErrorCode::BadRequest) => StatusCode::BAD_REQUEST,
        Some(ErrorCode::Unauthenticated) => StatusCode::UNAUTHORIZED,
        Some(ErrorCode::Forbidden) => StatusCode::FORBIDDEN,
        _ if media == Media::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// Refuses a request GraphQL never saw, in the GraphQL error shape.
fn refuse(state: &AppState, media: Media, request_id: &str, status: StatusCode, reason: &str) -> Response {
    state.metrics.observe_error(ErrorCode::BadRequest);
    let mut response = render(
        media,
        request_id,
        async_graphql::Response::from_errors(vec![server_error(ErrorCode::BadRequest, reason)]),
    );
    *response.status_mut() = status;
    response
}

/// 401 with `WWW-Authenticate`, in the GraphQL error shape, code UNAUTHENTICATED.
fn unauthenticated(state: &AppState, media: Media, request_id: &str, reason: &str) -> Response {
    state.metrics.observe_error(ErrorCode::Unauthenticated);
    let mut response = render(
        media,
        request_id,
        async_graphql::Response::from_errors(vec![server_error(ErrorCode::Unauthenticated, reason)]),
    );
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
        .headers_mut()
        .insert(axum::http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    response
}

fn not_acceptable(state: &AppState, request_id: &str) -> Response {
    refuse(
        state,
        Media::Json,
        request_id,
        StatusCode::NOT_ACCEPTABLE,
        "accept application/graphql-response+json or application/json",
    )
}
