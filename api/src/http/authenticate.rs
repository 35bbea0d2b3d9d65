//! The caller's identity, from the `Authorization: Bearer` header.
//!
//! No header means an anonymous caller. A header that is there but does not hold a valid access
//! token is an error, never anonymous access: a client with an expired token must learn that
//! it has to refresh, not silently see less. Staff and volunteer tokens are also checked against
//! their record on every request, so a disabled account, a changed password or a purged
//! volunteer ends its sessions at once.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::AppState;
use crate::auth::TokenError;
use crate::error::AppError;
use crate::service::Principal;

/// Why credentials were refused, in words a client may see.
pub enum Refusal {
    Credentials(&'static str),
    /// The check itself failed (the database is down): not the caller's fault.
    Unavailable(AppError),
}

/// The principal of a request.
pub async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, Refusal> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(Principal::Anonymous);
    };
    let value = value.to_str().map_err(|_| Refusal::Credentials("the Authorization header is malformed"))?;
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(Refusal::Credentials("use Authorization: Bearer <access token>"))?;
    let verified = state.tokens.verify(token).map_err(|err| {
        Refusal::Credentials(match err {
            TokenError::Expired => "the access token has expired; refresh it",
            TokenError::Invalid => "the access token is not valid",
        })
    })?;
    let current = match &verified.principal {
        Principal::Staff { id, .. } => state.services.staff.ensure_current(*id, verified.credential_version).await,
        Principal::Hospital { id, .. } => state.services.hospitals.ensure_current(*id).await,
        Principal::Volunteer { id } => state.services.volunteers.ensure_current(*id, verified.credential_version).await,
        Principal::Anonymous => Ok(()),
    };
    let current = match (current, verified.session) {
        (Ok(()), Some(session)) => state.services.sessions.ensure_live(session).await,
        (current, _) => current,
    };
    current.map_err(|err| match err {
        AppError::Unauthenticated => Refusal::Credentials("the session has ended; sign in again"),
        other => Refusal::Unavailable(other),
    })?;
    Ok(verified.principal)
}
