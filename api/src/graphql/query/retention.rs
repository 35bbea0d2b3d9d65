use async_graphql::{Context, Object, Result};

use crate::graphql::types::{VolunteerConnection, VolunteerFilterInput, VolunteerOrder, volunteer_connection};
use crate::graphql::{principal, services};

#[derive(Debug, Default)]
pub struct RetentionQuery;

#[Object]
impl RetentionQuery {
    /// Volunteers the filter finds, masked, `first` (1 to 50) after the cursor `after`, in
    /// `orderBy` (newest registrations first by default). Cursors stay valid while volunteers
    /// register. Only POST: the filter can hold personal data, which must not travel in URLs.
    ///
    /// Access: national administrators (every branch); coordinators and recruiters (their branch).
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn search_volunteers(
        &self,
        ctx: &Context<'_>,
        filter: Option<VolunteerFilterInput>,
        order_by: Option<VolunteerOrder>,
        first: Option<u64>,
        after: Option<String>,
    ) -> Result<VolunteerConnection> {
        let reader = principal(ctx).volunteer_reader()?;
        let filter = filter.unwrap_or_default().parse("filter")?;
        let order = order_by.unwrap_or_default().into();
        let search = &services(ctx)?.search;
        let page = search.search(&reader, &filter, order, first.unwrap_or(20), after.as_deref()).await?;
        volunteer_connection(ctx, page, reader, filter, after.is_some()).await
    }
}
