use async_graphql::{Context, ID, Object, Result};

use crate::domain::{NationalId, Phone};
use crate::error::AppError;
use crate::graphql::types::Volunteer;
use crate::graphql::{parse_id, principal, services};
use crate::service::Lookup;

#[derive(Debug, Default)]
pub struct VolunteerQuery;

#[Object]
impl VolunteerQuery {
    /// The signed-in volunteer's own record, masked.
    ///
    /// Access: volunteers (their own record only).
    async fn me(&self, ctx: &Context<'_>) -> Result<Volunteer> {
        Ok(services(ctx)?.volunteers.me(&principal(ctx)).await?.into())
    }

    /// A volunteer record, masked.
    ///
    /// Access: national administrators; coordinators and recruiters of the volunteer's branch.
    async fn volunteer(&self, ctx: &Context<'_>, id: ID) -> Result<Volunteer> {
        let reader = principal(ctx).volunteer_reader()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.volunteers.get(&reader, id).await?.into())
    }

    /// The volunteers an exact national ID number or current phone finds, masked; give exactly
    /// one of the two. Only POST: the arguments are personal data, which must not travel in URLs.
    ///
    /// Access: national administrators; coordinators and recruiters (their branch's volunteers).
    async fn find_volunteers(
        &self,
        ctx: &Context<'_>,
        national_id: Option<String>,
        phone: Option<String>,
    ) -> Result<Vec<Volunteer>> {
        let reader = principal(ctx).volunteer_reader()?;
        let lookup = match (national_id, phone) {
            (Some(id), None) => Lookup::NationalId(NationalId::parse(&id).map_err(AppError::field("nationalId"))?),
            (None, Some(phone)) => Lookup::Phone(Phone::parse(&phone).map_err(AppError::field("phone"))?),
            _ => return Err(AppError::invalid("nationalId", "give exactly one of nationalId and phone").into()),
        };
        let found = services(ctx)?.volunteers.find(&reader, &lookup).await?;
        Ok(found.into_iter().map(Into::into).collect())
    }
}
