use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::messaging;

/// The delivery of one outbound message.
#[derive(Debug, SimpleObject)]
pub struct MessageDelivery {
    pub id: ID,
    pub branch_code: String,
    /// `sms` or `app_inbox`.
    pub channel: String,
    /// `queued`, `claimed`, `sending`, `accepted`, `delivered`, `failed` or `cancelled`.
    pub status: String,
    pub template_key: String,
    /// The campaign that sent it, if one did.
    pub campaign_id: Option<ID>,
    /// Masked: `138****0001`.
    pub recipient_phone: Option<String>,
    pub attempts: i32,
    /// The gateway's error code or the rule that held or cancelled it; never personal data.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<messaging::MessageDelivery> for MessageDelivery {
    fn from(delivery: messaging::MessageDelivery) -> Self {
        Self {
            id: ID(delivery.id.to_string()),
            branch_code: delivery.branch_code,
            channel: delivery.channel.into(),
            status: delivery.status.into(),
            template_key: delivery.template_key,
            campaign_id: delivery.campaign_id.map(|id| ID(id.to_string())),
            recipient_phone: delivery.recipient_phone_masked,
            attempts: delivery.attempts,
            last_error: delivery.last_error,
            created_at: delivery.created_at,
            sent_at: delivery.sent_at,
            delivered_at: delivery.delivered_at,
        }
    }
}

/// A campaign's messages by delivery status, and the SMS segments they cost.
#[derive(Debug, SimpleObject)]
pub struct CampaignDelivery {
    pub queued: u64,
    /// Handed to the gateway and accepted, delivered or not yet reported.
    pub sent: u64,
    /// Claimed by a worker or handed to the gateway, awaiting its answer.
    pub in_flight: u64,
    pub accepted: u64,
    pub delivered: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub segments: u64,
}

impl From<messaging::CampaignTotals> for CampaignDelivery {
    fn from(totals: messaging::CampaignTotals) -> Self {
        use entity::outbound_message::Status;
        Self {
            queued: totals.count(Status::Queued),
            sent: totals.count(Status::Accepted) + totals.count(Status::Delivered),
            in_flight: totals.count(Status::Claimed) + totals.count(Status::Sending),
            accepted: totals.count(Status::Accepted),
            delivered: totals.count(Status::Delivered),
            failed: totals.count(Status::Failed),
            cancelled: totals.count(Status::Cancelled),
            segments: totals.segments,
        }
    }
}
