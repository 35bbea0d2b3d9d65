use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;

use crate::graphql::types::{AdmissionRequest, AdmissionStatus, HospitalScore, WebhookDelivery, WebhookEndpoint};
use crate::graphql::{parse_id, principal, services};

#[derive(Debug, Default)]
pub struct AdmissionQuery;

#[Object]
impl AdmissionQuery {
    /// The calling hospital's admission requests with `status` (waiting for an answer by
    /// default), oldest deadline first; `first` up to 100.
    ///
    /// Access: partner hospitals (their own).
    #[graphql(complexity = "first.max(1) as usize * child_complexity")]
    async fn admission_requests(
        &self,
        ctx: &Context<'_>,
        status: Option<AdmissionStatus>,
        #[graphql(default = 20)] first: u64,
    ) -> Result<Vec<AdmissionRequest>> {
        let hospital = principal(ctx).partner_hospital()?;
        let requests = services(ctx)?.green_channel.for_hospital(&hospital, status.map(Into::into), first).await?;
        Ok(requests.into_iter().map(Into::into).collect())
    }

    /// One of the calling hospital's admission requests.
    ///
    /// Access: partner hospitals (their own).
    async fn admission_request(&self, ctx: &Context<'_>, id: ID) -> Result<AdmissionRequest> {
        let hospital = principal(ctx).partner_hospital()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.green_channel.for_hospital_one(&hospital, id).await?.into())
    }

    /// A donation case's admission requests, newest first, re-routed ones included.
    ///
    /// Access: national administrators; coordinators and recruiters of the case's branch.
    async fn case_admissions(&self, ctx: &Context<'_>, case_id: ID) -> Result<Vec<AdmissionRequest>> {
        let reader = principal(ctx).volunteer_reader()?;
        let id = parse_id("caseId", &case_id)?;
        let requests = services(ctx)?.green_channel.for_case(&reader, id).await?;
        Ok(requests.into_iter().map(Into::into).collect())
    }

    /// Each hospital's answers to admission requests made from `from` to `to` (inclusive):
    /// acceptance rate, median and p90 hours to answer, late answers; worst acceptance first.
    ///
    /// Access: national administrators (a branch, or all); coordinators and recruiters (their
    /// branch).
    async fn hospital_scorecard(
        &self,
        ctx: &Context<'_>,
        branch_code: Option<String>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<HospitalScore>> {
        let reader = principal(ctx).volunteer_reader()?;
        let scores = services(ctx)?.green_channel.scorecard(&reader, branch_code, from, to).await?;
        Ok(scores.into_iter().map(Into::into).collect())
    }

    /// The calling hospital's webhook endpoint; null before it registers one.
    ///
    /// Access: partner hospitals (their own).
    async fn webhook_endpoint(&self, ctx: &Context<'_>) -> Result<Option<WebhookEndpoint>> {
        let hospital = principal(ctx).partner_hospital()?;
        Ok(services(ctx)?.webhooks.endpoint(&hospital).await?.map(Into::into))
    }

    /// The calling hospital's most recent webhook deliveries, newest first; `first` up to 100.
    ///
    /// Access: partner hospitals (their own).
    #[graphql(complexity = "first.max(1) as usize * child_complexity")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: u64,
    ) -> Result<Vec<WebhookDelivery>> {
        let hospital = principal(ctx).partner_hospital()?;
        Ok(services(ctx)?.webhooks.deliveries(&hospital, first).await?.into_iter().map(Into::into).collect())
    }
}
