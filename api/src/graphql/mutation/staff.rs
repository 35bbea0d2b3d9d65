use async_graphql::{Context, ID, InputObject, Object, Result};

use crate::graphql::types::{CreatedStaffAccount, Session, StaffRole};
use crate::graphql::{parse_id, principal, request_id, services};
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
    /// Signs a staff member in with user name, password and, for national administrators and
    /// coordinators (who can unmask personal data), the current code of their authenticator
    /// app. The answer is the same for every refusal: unknown name, wrong password, missing,
    /// wrong or reused code, disabled account.
    ///
    /// Access: anyone.
    async fn staff_sign_in(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
        totp_code: Option<String>,
    ) -> Result<Session> {
        let staff = &services(ctx)?.staff;
        let session = staff.sign_in(&username, &password, totp_code.as_deref(), request_id(ctx)).await?;
        Ok(session.into())
    }

    /// Creates a staff account. For roles that need a second factor, the answer carries the
    /// `otpauth://` URI to scan into an authenticator app, shown this once.
    ///
    /// Access: national administrators.
    async fn create_staff_account(
        &self,
        ctx: &Context<'_>,
        input: CreateStaffAccountInput,
    ) -> Result<CreatedStaffAccount> {
        let actor = principal(ctx);
        let admin = actor.national_admin()?;
        let input = NewStaff {
            username: input.username,
            password: input.password,
            role: input.role.into(),
            branch_code: input.branch_code,
        };
        let created = services(ctx)?.staff.create(&admin, &actor, input, request_id(ctx)).await?;
        Ok(created.into())
    }

    /// Replaces the second factor of an account whose authenticator was lost: its sessions end,
    /// and the answer is the new `otpauth://` URI, shown this once.
    ///
    /// Access: national administrators.
    async fn reset_staff_second_factor(&self, ctx: &Context<'_>, id: ID) -> Result<String> {
        let actor = principal(ctx);
        let admin = actor.national_admin()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.staff.reset_second_factor(&admin, &actor, id, request_id(ctx)).await?)
    }

    /// Changes the caller's own password. Every session of the account ends, this one
    /// included: sign in again with the new password.
    ///
    /// Access: staff (any role), for their own account.
    async fn change_my_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<bool> {
        let staff = &services(ctx)?.staff;
        staff.change_own_password(&principal(ctx), &current_password, &new_password, request_id(ctx)).await?;
        Ok(true)
    }

    /// Disables a staff account: its sessions end at once.
    ///
    /// Access: national administrators.
    async fn disable_staff_account(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let actor = principal(ctx);
        let admin = actor.national_admin()?;
        let id = parse_id("id", &id)?;
        services(ctx)?.staff.disable(&admin, &actor, id, request_id(ctx)).await?;
        Ok(true)
    }
}
