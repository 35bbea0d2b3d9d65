//! The `x-request-id` of every request: kept from the client when it is usable, generated
//! otherwise, put in the request's span (so in every log line) and in every error.

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;

const HEADER: &str = "x-request-id";

/// The request id, as an extractor.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(of(parts.headers.get(HEADER))))
    }
}

/// A client's id is logged and echoed, so only short ids of safe characters are kept; any
/// other is replaced by a generated one.
pub async fn discard_unusable(mut request: Request) -> Request {
    let usable = request.headers().get(HEADER).and_then(|value| value.to_str().ok()).is_some_and(|id| {
        !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    });
    if !usable {
        request.headers_mut().remove(HEADER);
    }
    request
}

/// The span of one HTTP request. The path is logged without its query string, which may carry
/// GraphQL variables with personal data.
pub fn span(request: &Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %loggable(request.uri().path()),
        request_id = %of(request.headers().get(HEADER)),
    )
}

/// The path as logged: a letter's code and a download token are left out, so that the logs
/// cannot be used to check letters or fetch them.
fn loggable(path: &str) -> &str {
    if path.starts_with("/letters/download/") {
        "/letters/download/{token}"
    } else if path.starts_with("/letters/") {
        "/letters/{code}"
    } else {
        path
    }
}

fn of(value: Option<&HeaderValue>) -> String {
    value.and_then(|value| value.to_str().ok()).unwrap_or("-").to_owned()
}
