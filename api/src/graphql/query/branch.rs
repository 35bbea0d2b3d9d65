use async_graphql::{Context, Object, Result};

use crate::graphql::services;
use crate::graphql::types::Branch;

#[derive(Debug, Default)]
pub struct BranchQuery;

#[Object]
impl BranchQuery {
    /// The registry's 31 provincial branches, in code order.
    ///
    /// Access: anyone, signed in or not; the app lists them at enrolment.
    async fn branches(&self, ctx: &Context<'_>) -> Result<Vec<Branch>> {
        let branches = services(ctx)?.branches.list().await?;
        Ok(branches.into_iter().map(Branch::from).collect())
    }

    /// One branch by its two-digit GB/T 2260 province code (`"51"` is Sichuan), or null.
    ///
    /// Access: anyone, signed in or not.
    async fn branch(&self, ctx: &Context<'_>, code: String) -> Result<Option<Branch>> {
        let branch = services(ctx)?.branches.find(&code).await?;
        Ok(branch.map(Branch::from))
    }
}
