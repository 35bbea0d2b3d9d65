//! Delivery status of messages and campaign totals, for staff.

use std::collections::HashMap;

use entity::outbound_message::{Column, Entity, Model, Status};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Messaging;
use crate::error::AppResult;
use crate::pii::registry;

/// Messages of a campaign by status, with the SMS segments they cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CampaignTotals {
    pub by_status: HashMap<Status, u64>,
    pub segments: u64,
}

impl CampaignTotals {
    /// Messages in `status`.
    #[must_use]
    pub fn count(&self, status: Status) -> u64 {
        self.by_status.get(&status).copied().unwrap_or_default()
    }
}

impl Messaging {
    /// Totals of one campaign (within one branch, when given), in one grouped query however
    /// large the campaign.
    ///
    /// # Errors
    /// The database failed.
    pub async fn campaign_totals(&self, campaign_id: Uuid, branch: Option<&str>) -> AppResult<CampaignTotals> {
        let mut query = Entity::find()
            .select_only()
            .column(Column::Status)
            .column_as(Column::Id.count(), "messages")
            .column_as(Column::Segments.sum(), "segments")
            .filter(Column::CampaignId.eq(campaign_id));
        if let Some(branch) = branch {
            query = query.filter(Column::BranchCode.eq(branch));
        }
        let rows: Vec<(Status, i64, Option<i64>)> =
            query.group_by(Column::Status).into_tuple().all(&self.inner.db).await?;
        let mut totals = CampaignTotals::default();
        for (status, messages, segments) in rows {
            totals.by_status.insert(status, u64::try_from(messages).unwrap_or_default());
            totals.segments += u64::try_from(segments.unwrap_or_default()).unwrap_or_default();
        }
        Ok(totals)
    }
}

/// What staff see of one message: its delivery, with the recipient masked.
#[derive(Clone, Debug)]
pub struct MessageDelivery {
    pub id: Uuid,
    pub branch_code: String,
    pub channel: &'static str,
    pub status: &'static str,
    pub template_key: String,
    pub campaign_id: Option<Uuid>,
    pub recipient_phone_masked: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Messaging {
    /// One message's delivery, or `None`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn message_delivery(&self, id: Uuid) -> AppResult<Option<MessageDelivery>> {
        Ok(Entity::find_by_id(id).one(&self.inner.db).await?.map(|message| self.delivery_of(message)))
    }

    /// The latest `latest` messages to each volunteer of `volunteers`, newest first, in one
    /// statement (a window over each volunteer's messages, which PostgreSQL and SQLite share).
    ///
    /// # Errors
    /// The database failed.
    pub async fn messages_of(
        &self,
        volunteers: &[Uuid],
        latest: u64,
    ) -> AppResult<HashMap<Uuid, Vec<MessageDelivery>>> {
        let rank = Alias::new("rank_in_volunteer");
        let mut ranked = Query::select();
        ranked
            .column(Asterisk)
            .expr_as(
                Expr::cust("ROW_NUMBER() OVER (PARTITION BY volunteer_id ORDER BY created_at DESC, id DESC)"),
                rank.clone(),
            )
            .from(Entity)
            .and_where(Expr::col(Column::VolunteerId).is_in(volunteers.iter().copied()));
        let mut latest_ones = Query::select();
        latest_ones
            .column(Asterisk)
            .from_subquery(ranked, Alias::new("ranked"))
            .and_where(Expr::col(rank).lte(latest))
            .order_by(Column::CreatedAt, Order::Desc)
            .order_by(Column::Id, Order::Desc);
        let statement = self.inner.db.get_database_backend().build(&latest_ones);
        let rows = Entity::find().from_raw_sql(statement).all(&self.inner.db).await?;
        let mut messages: HashMap<Uuid, Vec<MessageDelivery>> = HashMap::new();
        for row in rows {
            if let Some(volunteer) = row.volunteer_id {
                messages.entry(volunteer).or_default().push(self.delivery_of(row));
            }
        }
        Ok(messages)
    }

    fn delivery_of(&self, message: Model) -> MessageDelivery {
        let id = message.id;
        let phone = message
            .recipient_phone
            .as_deref()
            .and_then(|sealed| {
                self.inner.keys.cipher.decrypt(sealed, registry::OUTBOUND_MESSAGE_RECIPIENT_PHONE.at(id)).ok()
            })
            .and_then(|phone| crate::domain::Phone::from_stored(&phone).ok())
            .map(|phone| phone.masked());
        MessageDelivery {
            id,
            branch_code: message.branch_code,
            channel: message.channel.as_str(),
            status: message.status.as_str(),
            template_key: message.template_key,
            campaign_id: message.campaign_id,
            recipient_phone_masked: phone,
            attempts: message.attempts,
            last_error: message.last_error,
            created_at: message.created_at,
            sent_at: message.sent_at,
            delivered_at: message.delivered_at,
        }
    }
}
