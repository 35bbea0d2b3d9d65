//! The caller's identity, from the `Authorization: Bearer` header.
//!
//! No header means an anonymous caller. A header that is there but does not hold a valid access
//! token is an error, never anonymous access: a client with an expired token must learn that
//! it has to refresh, not silently see less.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::AppState;
use crate::auth::TokenError;
use crate::service::Principal;

/// The principal of a request, or why its credentials were refused (a client-safe reason).
pub fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, &'static str> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(Principal::Anonymous);
    };
    let value = value.to_str().map_err(|_| "the Authorization header is malformed")?;
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or("use Authorization: Bearer <access token>")?;
    state.tokens.verify(token).map_err(|err| match err {
        TokenError::Expired => "the access token has expired; refresh it",
        TokenError::Invalid => "the access token is not valid",
    })
}
