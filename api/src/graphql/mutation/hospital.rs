use async_graphql::{Context, ID, InputObject, Object, Result};

use crate::graphql::types::{Hospital, HospitalAccess, HospitalCredentials};
use crate::graphql::{parse_id, principal, request_id, services};
use crate::service::NewHospital;

#[derive(Debug, Default)]
pub struct HospitalMutation;

/// A partner hospital to register.
#[derive(Debug, InputObject)]
pub struct RegisterHospitalInput {
    /// 2 to 100 characters.
    pub name: String,
    pub branch_code: String,
    /// The hospital's contact person for the registry.
    pub contact_name: String,
    pub contact_phone: String,
}

#[Object]
impl HospitalMutation {
    /// Registers a partner hospital.
    ///
    /// Access: national administrators.
    async fn register_hospital(&self, ctx: &Context<'_>, input: RegisterHospitalInput) -> Result<Hospital> {
        let actor = principal(ctx);
        let admin = actor.national_admin()?;
        let input = NewHospital {
            name: input.name,
            branch_code: input.branch_code,
            contact_name: input.contact_name,
            contact_phone: input.contact_phone,
        };
        Ok(services(ctx)?.hospitals.register(&admin, &actor, input, request_id(ctx)).await?.into())
    }

    /// Issues new client credentials to a hospital, shown this once. Earlier credentials keep
    /// working for seven days, so the hospital can roll over without downtime.
    ///
    /// Access: national administrators.
    async fn issue_hospital_credentials(&self, ctx: &Context<'_>, hospital_id: ID) -> Result<HospitalCredentials> {
        let actor = principal(ctx);
        let admin = actor.national_admin()?;
        let id = parse_id("hospitalId", &hospital_id)?;
        Ok(services(ctx)?.hospitals.issue_credentials(&admin, &actor, id, request_id(ctx)).await?.into())
    }

    /// Exchanges a hospital's client credentials for a short-lived access token.
    ///
    /// Access: anyone holding client credentials.
    async fn hospital_token(
        &self,
        ctx: &Context<'_>,
        client_id: String,
        client_secret: String,
    ) -> Result<HospitalAccess> {
        let (access_token, expires_in) = services(ctx)?.hospitals.exchange(&client_id, &client_secret).await?;
        Ok(HospitalAccess { access_token, expires_in })
    }
}
