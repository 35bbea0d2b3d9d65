use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::{CampaignDelivery, MessageDelivery};
use crate::graphql::{parse_id, principal, services};
use crate::service::deliveries;

#[derive(Debug, Default)]
pub struct DeliveryQuery;

#[Object]
impl DeliveryQuery {
    /// The delivery of one outbound message, recipient masked.
    ///
    /// Access: national administrators; coordinators and recruiters of the message's branch.
    async fn message_delivery(&self, ctx: &Context<'_>, id: ID) -> Result<MessageDelivery> {
        let id = parse_id("id", &id)?;
        Ok(deliveries::message_delivery(&services(ctx)?.messaging, &principal(ctx), id).await?.into())
    }

    /// A campaign's messages by delivery status. Branch staff count their branch's messages only.
    ///
    /// Access: national administrators; branch coordinators and recruiters.
    async fn campaign_delivery(&self, ctx: &Context<'_>, campaign_id: ID) -> Result<CampaignDelivery> {
        let id = parse_id("campaignId", &campaign_id)?;
        Ok(deliveries::campaign_totals(&services(ctx)?.messaging, &principal(ctx), id).await?.into())
    }
}
