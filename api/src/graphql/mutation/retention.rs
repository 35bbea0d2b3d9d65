use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::{Campaign, CampaignInput, ExportFile, VolunteerExport, VolunteerFilterInput};
use crate::graphql::{parse_id, principal, request_id, services};

#[derive(Debug, Default)]
pub struct RetentionMutation;

#[Object]
impl RetentionMutation {
    /// Defines a campaign as a draft: a segment, a registered non-essential template, the
    /// channels. Read its `preview`, then launch it. Audited.
    ///
    /// Access: national administrators (any branch, or national); coordinators and recruiters
    /// (their branch).
    async fn create_campaign(&self, ctx: &Context<'_>, input: CampaignInput) -> Result<Campaign> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let definition = input.parse()?;
        Ok(services(ctx)?.campaigns.create(&reader, &actor, definition, request_id(ctx)).await?.into())
    }

    /// Launches a draft: its recipients are fixed now, the answer window opens, and their
    /// messages are queued in the background (watch `queued`), delivered with the branch's
    /// quiet hours, caps and opt-outs. Launching again changes nothing. Audited.
    ///
    /// Access: as `createCampaign`.
    async fn launch_campaign(&self, ctx: &Context<'_>, id: ID) -> Result<Campaign> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.campaigns.launch(&reader, &actor, id, request_id(ctx)).await?.into())
    }

    /// Stops a campaign: nothing more is queued, and messages not yet handed to the gateway
    /// are cancelled. Audited.
    ///
    /// Access: as `createCampaign`.
    async fn cancel_campaign(&self, ctx: &Context<'_>, id: ID) -> Result<Campaign> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.campaigns.cancel(&reader, &actor, id, request_id(ctx)).await?.into())
    }

    /// Asks for an export (masked CSV) of what the filter finds, with its purpose. Up to 100
    /// rows it is approved at once; beyond, a second staff member must approve it. At most
    /// 20,000 rows; filters naming a person are refused. Audited.
    ///
    /// Access: national administrators; coordinators and recruiters (their branch).
    async fn request_volunteer_export(
        &self,
        ctx: &Context<'_>,
        filter: Option<VolunteerFilterInput>,
        purpose: String,
    ) -> Result<VolunteerExport> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let filter = filter.unwrap_or_default().parse("filter")?;
        Ok(services(ctx)?.exports.request(&reader, &actor, &filter, &purpose, request_id(ctx)).await?.into())
    }

    /// Approves another staff member's export. Audited.
    ///
    /// Access: national administrators; coordinators of the export's branch (not its requester).
    async fn approve_volunteer_export(&self, ctx: &Context<'_>, id: ID) -> Result<VolunteerExport> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.exports.approve(&coordinator, &actor, id, request_id(ctx)).await?.into())
    }

    /// The rows of an approved export, as CSV, for its requester, within a week. Each download
    /// is audited.
    ///
    /// Access: the staff member who asked for it.
    async fn download_volunteer_export(&self, ctx: &Context<'_>, id: ID) -> Result<ExportFile> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.exports.download(&reader, &actor, id, request_id(ctx)).await?.into())
    }
}
