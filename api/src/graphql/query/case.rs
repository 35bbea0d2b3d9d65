use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::{CaseFile, CaseFilterInput, CheckUp, DonationCase, MyDonation, Page, RequestedCase};
use crate::graphql::{parse_id, principal, services};

#[derive(Debug, Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// A donation case with everything its page shows: steps, attempts to reach the donor,
    /// concerns and questions, check-ups.
    ///
    /// Access: national administrators; coordinators and recruiters of the case's branch
    /// (recruiters read, only coordinators move a case).
    async fn case_file(&self, ctx: &Context<'_>, id: ID) -> Result<CaseFile> {
        let reader = principal(ctx).volunteer_reader()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.cases.page(&reader, id).await?.into())
    }

    /// Donation cases, newest first, by branch, state and stage; `first` up to 100.
    ///
    /// Access: national administrators (any branch, or all); coordinators and recruiters (their
    /// branch).
    #[graphql(complexity = "first.max(1) as usize * child_complexity")]
    async fn donation_cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] filter: CaseFilterInput,
        #[graphql(default = 20)] first: u64,
        after: Option<String>,
    ) -> Result<Page<DonationCase>> {
        let reader = principal(ctx).volunteer_reader()?;
        let cases = &services(ctx)?.cases;
        Ok(cases.list(&reader, &filter.into(), first, after.as_deref()).await?.into())
    }

    /// Check-ups reminded over two weeks ago and still unanswered, oldest due first: the
    /// staff's follow-up work list; `first` up to 100.
    ///
    /// Access: national administrators; coordinators and recruiters (their branch).
    #[graphql(complexity = "first.max(1) as usize * child_complexity")]
    async fn unanswered_check_ups(
        &self,
        ctx: &Context<'_>,
        branch_code: Option<String>,
        #[graphql(default = 20)] first: u64,
        after: Option<String>,
    ) -> Result<Page<CheckUp>> {
        let reader = principal(ctx).volunteer_reader()?;
        let cases = &services(ctx)?.cases;
        Ok(cases.unanswered_check_ups(&reader, branch_code.as_deref(), first, after.as_deref()).await?.into())
    }

    /// The signed-in volunteer's current donation case as a timeline; null when they have none.
    ///
    /// Access: volunteers (their own).
    async fn my_donation(&self, ctx: &Context<'_>) -> Result<Option<MyDonation>> {
        let me = principal(ctx).own_record()?;
        Ok(services(ctx)?.cases.timeline(&me).await?.map(Into::into))
    }

    /// The calling hospital's requests for donors, newest first; `first` up to 100.
    ///
    /// Access: partner hospitals (their own requests).
    #[graphql(complexity = "first.max(1) as usize * child_complexity")]
    async fn requested_cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: u64,
        after: Option<String>,
    ) -> Result<Page<RequestedCase>> {
        let hospital = principal(ctx).partner_hospital()?;
        Ok(services(ctx)?.cases.requested(&hospital, first, after.as_deref()).await?.into())
    }

    /// One of the calling hospital's requests: where it stands and how it ended, never who
    /// the donor is.
    ///
    /// Access: the requesting hospital.
    async fn requested_case(&self, ctx: &Context<'_>, id: ID) -> Result<RequestedCase> {
        let hospital = principal(ctx).partner_hospital()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.cases.requested_one(&hospital, id).await?.into())
    }
}
