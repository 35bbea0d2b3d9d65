use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::Hospital;
use crate::graphql::{parse_id, principal, services};

#[derive(Debug, Default)]
pub struct HospitalQuery;

#[Object]
impl HospitalQuery {
    /// A partner hospital's registration, contact masked.
    ///
    /// Access: national administrators; coordinators and recruiters of the hospital's branch;
    /// the hospital itself.
    async fn hospital(&self, ctx: &Context<'_>, id: ID) -> Result<Hospital> {
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.hospitals.get(&principal(ctx), id).await?.into())
    }
}
