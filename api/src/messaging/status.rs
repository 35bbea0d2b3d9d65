//! Delivery status of messages and campaign totals, for staff.

use std::collections::BTreeMap;

use entity::outbound_message::{Column, Entity, Status};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Messaging;
use crate::error::AppResult;

/// Messages of a campaign by status, with the SMS segments they cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CampaignTotals {
    pub by_status: BTreeMap<&'static str, u64>,
    pub segments: u64,
}

impl CampaignTotals {
    /// Messages in `status`.
    #[must_use]
    pub fn count(&self, status: Status) -> u64 {
        self.by_status.get(status_name(status)).copied().unwrap_or_default()
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Queued => "queued",
        Status::Claimed => "claimed",
        Status::Sending => "sending",
        Status::Accepted => "accepted",
        Status::Delivered => "delivered",
        Status::Failed => "failed",
        Status::Cancelled => "cancelled",
    }
}

impl Messaging {
    /// Totals of one campaign, in one grouped query however large the campaign.
    ///
    /// # Errors
    /// The database failed.
    pub async fn campaign_totals(&self, campaign_id: Uuid) -> AppResult<CampaignTotals> {
        let rows: Vec<(Status, i64, Option<i64>)> = Entity::find()
            .select_only()
            .column(Column::Status)
            .column_as(Column::Id.count(), "messages")
            .column_as(Column::Segments.sum(), "segments")
            .filter(Column::CampaignId.eq(campaign_id))
            .group_by(Column::Status)
            .into_tuple()
            .all(&self.inner.db)
            .await?;
        let mut totals = CampaignTotals::default();
        for (status, messages, segments) in rows {
            totals.by_status.insert(status_name(status), u64::try_from(messages).unwrap_or_default());
            totals.segments += u64::try_from(segments.unwrap_or_default()).unwrap_or_default();
        }
        Ok(totals)
    }
}
