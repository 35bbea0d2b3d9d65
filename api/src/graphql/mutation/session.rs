use async_graphql::{Context, Object, Result};

use crate::graphql::types::Session;
use crate::graphql::{request_id, services};

#[derive(Debug, Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Exchanges a refresh token (staff or volunteer) for a new session; the old token is
    /// spent. Presenting a spent token again revokes every token of its session.
    ///
    /// Access: the holder of the refresh token.
    async fn refresh_session(&self, ctx: &Context<'_>, refresh_token: String) -> Result<Session> {
        let session = services(ctx)?.sessions.refresh(&refresh_token, request_id(ctx)).await?;
        Ok(session.into())
    }

    /// The same as `refreshSession`, from when only staff had sessions.
    ///
    /// Access: the holder of the refresh token.
    #[graphql(deprecation = "Use refreshSession, which serves staff and volunteers alike.")]
    async fn refresh_staff_session(&self, ctx: &Context<'_>, refresh_token: String) -> Result<Session> {
        self.refresh_session(ctx, refresh_token).await
    }

    /// Ends the session a refresh token belongs to. Signing out twice is harmless.
    ///
    /// Access: the holder of the refresh token.
    async fn sign_out(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        services(ctx)?.sessions.sign_out(&refresh_token).await?;
        Ok(true)
    }
}
