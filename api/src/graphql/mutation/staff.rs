use async_graphql::{Context, ID, InputObject, Object, Result};
use uuid::Uuid;

use crate::error::AppError;
use crate::graphql::types::{Session, StaffRole};
use crate::graphql::{principal, request_id, services};
use crate::service::NewStaff;

#[derive(Debug, Default)]
pub struct StaffMutation;

/// A staff account to create.
#[derive(Debug, InputObject)]
pub struct CreateStaffAccountInput {
    /// 3 to 64 letters, digits, dots, dashes or underscores; case-insensitive.
    pub username: String,
    /// 12 to 128 characters.
    pub password: String,
    pub role: StaffRole,
    /// The branch the account acts in (GB/T 2260 code).
    pub branch_code: String,
}

#[Object]
impl StaffMutation {
    /// Signs a staff member in with user name and password. The answer is the same for an
    /// unknown name, a wrong password and a disabled account.
    ///
    /// Access: anyone.
    async fn staff_sign_in(&self, ctx: &Context<'_>, username: String, password: String) -> Result<Session> {
        let session = services(ctx)?.staff.sign_in(&username, &password, request_id(ctx)).await?;
        Ok(session.into())
    }

    /// Exchanges a staff refresh token for a new session; the old token is spent. Presenting a
    /// spent token again revokes every token of its session.
    ///
    /// Access: the holder of the refresh token.
    async fn refresh_staff_session(&self, ctx: &Context<'_>, refresh_token: String) -> Result<Session> {
        let session = services(ctx)?.staff.refresh(&refresh_token, request_id(ctx)).await?;
        Ok(session.into())
    }

    /// Ends the session a refresh token belongs to. Signing out twice is harmless.
    ///
    /// Access: the holder of the refresh token.
    async fn sign_out(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        services(ctx)?.staff.sign_out(&refresh_token).await?;
        Ok(true)
    }

    /// Creates a staff account.
    ///
    /// Access: national administrators.
    async fn create_staff_account(&self, ctx: &Context<'_>, input: CreateStaffAccountInput) -> Result<ID> {
        let actor = principal(ctx);
        let admin = actor.national_admin()?;
        let input = NewStaff {
            username: input.username,
            password: input.password,
            role: input.role.into(),
            branch_code: input.branch_code,
        };
        let id = services(ctx)?.staff.create(&admin, &actor, input).await?;
        Ok(ID(id.to_string()))
    }

    /// Disables a staff account: its sessions end at once.
    ///
    /// Access: national administrators.
    async fn disable_staff_account(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let actor = principal(ctx);
        let admin = actor.national_admin()?;
        let id = Uuid::parse_str(&id).map_err(|_| AppError::invalid("id", "is not a staff account id"))?;
        services(ctx)?.staff.disable(&admin, &actor, id, request_id(ctx)).await?;
        Ok(true)
    }
}
