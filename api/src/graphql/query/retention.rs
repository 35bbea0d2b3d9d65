use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;

use crate::graphql::loaders::prefetch;
use crate::graphql::types::{
    AttritionMonth, Campaign, CampaignPage, LostContactPage, VolunteerConnection, VolunteerExport,
    VolunteerFilterInput, VolunteerOrder, volunteer_connection,
};
use crate::graphql::{parse_id, principal, services};
use crate::service::retention;

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

    /// One campaign: its definition, preview (drafts), delivery, answers and non-responders.
    ///
    /// Access: national administrators (every campaign); coordinators and recruiters (their
    /// branch's).
    async fn campaign(&self, ctx: &Context<'_>, id: ID) -> Result<Campaign> {
        let reader = principal(ctx).volunteer_reader()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.campaigns.get(&reader, id).await?.into())
    }

    /// Campaigns, newest first, `first` (1 to 50) after `after`: the caller's branch, or for
    /// national administrators `branchCode` (every campaign when not given).
    ///
    /// Access: national administrators; coordinators and recruiters (their branch).
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        branch_code: Option<String>,
        first: Option<u64>,
        after: Option<String>,
    ) -> Result<CampaignPage> {
        let reader = principal(ctx).volunteer_reader()?;
        let campaigns = &services(ctx)?.campaigns;
        Ok(campaigns.list(&reader, branch_code.as_deref(), first.unwrap_or(20), after.as_deref()).await?.into())
    }

    /// The lost-contact work queue, highest priority first then longest waiting: the caller's
    /// branch, or for national administrators `branchCode` (the whole register when not given).
    /// The daily job keeps it current; anyone confirmed since (reached, replied, confirmed in
    /// the app) or no longer available is left out at once.
    ///
    /// Access: national administrators; coordinators and recruiters (their branch).
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn lost_contact_queue(
        &self,
        ctx: &Context<'_>,
        branch_code: Option<String>,
        first: Option<u64>,
        after: Option<String>,
    ) -> Result<LostContactPage> {
        let reader = principal(ctx).volunteer_reader()?;
        let queue = &services(ctx)?.work_queue;
        let page = queue.page(&reader, branch_code.as_deref(), first.unwrap_or(20), after.as_deref()).await?;
        let ids: Vec<uuid::Uuid> = page.entries.iter().map(|entry| entry.volunteer.id).collect();
        prefetch(ctx, &ctx.look_ahead().field("entries").field("volunteer"), &ids).await?;
        Ok(LostContactPage {
            entries: page.entries.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Attrition by month from `from` to `to` (any day of each; at most 120 months), oldest
    /// first: the caller's branch, or for national administrators `branchCode` or the whole
    /// register. Computed hourly; each month says when.
    ///
    /// Access: national administrators; coordinators and recruiters (their branch).
    async fn attrition_figures(
        &self,
        ctx: &Context<'_>,
        branch_code: Option<String>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<AttritionMonth>> {
        let reader = principal(ctx).volunteer_reader()?;
        let services = services(ctx)?;
        let branch = branch_code.as_deref();
        let register = services.attrition.figures(&reader, branch, from, to).await?;
        let cases = services.cases.figures(&reader, branch, from, to).await?;
        // The months of either: a month of case history before the service took snapshots of
        // the register still shows its regret.
        let mut months: std::collections::BTreeMap<NaiveDate, AttritionMonth> =
            register.into_iter().map(|figures| (figures.month, figures.into())).collect();
        for (month, case_month) in cases {
            let month =
                months.entry(month).or_insert_with(|| retention::MonthFigures { month, ..Default::default() }.into());
            month.cases = case_month.into();
        }
        Ok(months.into_values().collect())
    }

    /// Exports within the caller's reach (the latest 100), newest first; with
    /// `awaitingApproval`, those a second staff member should look at.
    ///
    /// Access: national administrators; coordinators and recruiters (their branch).
    async fn volunteer_exports(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] awaiting_approval: bool,
    ) -> Result<Vec<VolunteerExport>> {
        let reader = principal(ctx).volunteer_reader()?;
        Ok(services(ctx)?.exports.list(&reader, awaiting_approval).await?.into_iter().map(Into::into).collect())
    }
}
