//! The campaign launcher: queues the messages of launched campaigns, a batch of recipients per
//! transaction (their messages, their `queued_at`, the campaign's count together), so that a
//! launcher stopped half-way resumes where it stopped and a recipient never gets two.
//!
//! Every replica runs one; a lease on the campaign row lets one launcher work a campaign, and
//! another take over when that lease runs out. Cancelling takes the campaign row first, so no
//! batch commits after a cancellation.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use entity::campaign::{self, CampaignStatus};
use entity::campaign_recipient;
use entity::volunteer;
use entity::volunteer_contact::{self, ContactKind};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use tokio::sync::watch;
use uuid::Uuid;

use super::campaigns::{CampaignService, with_name};
use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::messaging::{NewMessage, Prepared, Recipient};
use crate::service::volunteer::{contact_binding, name_binding};

/// Recipients queued per transaction.
const BATCH: u64 = 2000;
/// How long a launcher holds a campaign without renewing.
const LEASE_SECS: i64 = 60;
/// How often an idle launcher looks for launched campaigns of other replicas.
const POLL: StdDuration = StdDuration::from_secs(2);

/// Recipients read and their messages sealed, ready to be written: every recipient still to
/// queue from `first` to `last`, in volunteer order.
struct Batch {
    first: Uuid,
    last: Uuid,
    messages: Prepared,
}

/// A recipient's sealed name and channel choices.
type RecipientRow = (Uuid, Vec<u8>, String, bool, bool);

impl CampaignService {
    /// Runs the launcher until `shutdown` turns true: woken at once by a launch in this
    /// process, and every few seconds for launches elsewhere or leases that ran out.
    pub async fn run_launcher(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(err) = self.launch_pending().await {
                tracing::warn!(error = ?err, "campaign launcher failed; retrying");
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                () = self.launches().notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Queues the messages of every launched campaign no other launcher holds; returns how many
    /// messages it queued.
    ///
    /// # Errors
    /// The database failed; what committed stays, and the next run resumes.
    pub async fn launch_pending(&self) -> AppResult<u64> {
        let now = Utc::now();
        let waiting: Vec<Uuid> = campaign::Entity::find()
            .select_only()
            .column(campaign::Column::Id)
            .filter(campaign::Column::Status.eq(CampaignStatus::Launching))
            .filter(
                Condition::any().add(campaign::Column::LeaseUntil.is_null()).add(campaign::Column::LeaseUntil.lt(now)),
            )
            .into_tuple()
            .all(self.db())
            .await?;
        let mut queued = 0;
        for id in waiting {
            if self.hold(id, None).await? {
                queued += self.queue_campaign(id).await?;
            }
        }
        Ok(queued)
    }

    /// Takes or renews the lease of a launching campaign; false when it is no longer launching
    /// (cancelled) or another launcher holds it.
    async fn hold(&self, id: Uuid, conn: Option<&sea_orm::DatabaseTransaction>) -> AppResult<bool> {
        let now = Utc::now();
        let mut update = campaign::Entity::update_many()
            .col_expr(campaign::Column::LeaseUntil, Expr::value(now + Duration::seconds(LEASE_SECS)))
            .filter(campaign::Column::Id.eq(id))
            .filter(campaign::Column::Status.eq(CampaignStatus::Launching));
        // Renewing inside a batch's transaction needs no check of the lease: this launcher holds it.
        let result = if let Some(txn) = conn {
            update.exec(txn).await?
        } else {
            update = update.filter(
                Condition::any().add(campaign::Column::LeaseUntil.is_null()).add(campaign::Column::LeaseUntil.lt(now)),
            );
            update.exec(self.db()).await?
        };
        Ok(result.rows_affected == 1)
    }

    /// Queues a campaign batch by batch. The next batch is read and sealed on another task
    /// while this one is written, so encryption and the database work side by side.
    async fn queue_campaign(&self, id: Uuid) -> AppResult<u64> {
        let Some(campaign) = campaign::Entity::find_by_id(id).one(self.db()).await? else { return Ok(0) };
        let campaign = Arc::new(campaign);
        let variables: Arc<BTreeMap<String, String>> =
            Arc::new(serde_json::from_str(&campaign.variables).map_err(AppError::internal)?);
        let mut queued = 0;
        let mut next = self.next_batch(&campaign, &variables, None).await?;
        while let Some(batch) = next {
            let following = tokio::spawn({
                let (this, campaign, variables) = (self.clone(), Arc::clone(&campaign), Arc::clone(&variables));
                let after = batch.last;
                async move { this.next_batch(&campaign, &variables, Some(after)).await }
            });
            let Some(count) = self.write_batch(id, batch).await? else {
                following.abort();
                return Ok(queued);
            };
            queued += count;
            next = following.await.map_err(AppError::internal)??;
        }
        campaign::Entity::update_many()
            .col_expr(campaign::Column::Status, Expr::value(CampaignStatus::Launched))
            .col_expr(campaign::Column::QueuedAt, Expr::value(Utc::now()))
            .col_expr(campaign::Column::LeaseUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
            .filter(campaign::Column::Id.eq(id))
            .filter(campaign::Column::Status.eq(CampaignStatus::Launching))
            .exec(self.db())
            .await?;
        tracing::info!(campaign = %id, queued, "campaign queued");
        Ok(queued)
    }

    /// The next batch of recipients still to queue (after `after`), with their messages sealed.
    async fn next_batch(
        &self,
        campaign: &campaign::Model,
        variables: &BTreeMap<String, String>,
        after: Option<Uuid>,
    ) -> AppResult<Option<Batch>> {
        let mut pending = campaign_recipient::Entity::find()
            .select_only()
            .column(campaign_recipient::Column::VolunteerId)
            .filter(campaign_recipient::Column::CampaignId.eq(campaign.id))
            .filter(campaign_recipient::Column::QueuedAt.is_null());
        if let Some(after) = after {
            pending = pending.filter(campaign_recipient::Column::VolunteerId.gt(after));
        }
        let recipients: Vec<Uuid> = pending
            .order_by_asc(campaign_recipient::Column::VolunteerId)
            .limit(BATCH)
            .into_tuple()
            .all(self.db())
            .await?;
        let (Some(first), Some(last)) = (recipients.first().copied(), recipients.last().copied()) else {
            return Ok(None);
        };
        let messages = self.messages_for(campaign, variables, &recipients).await?;
        let messages = self.messaging().prepare(messages).await?;
        Ok(Some(Batch { first, last, messages }))
    }

    /// Writes a batch: its messages, its recipients' `queued_at` and the campaign's count, in
    /// one transaction. `None` when the campaign was cancelled meanwhile: nothing goes out.
    async fn write_batch(&self, id: Uuid, batch: Batch) -> AppResult<Option<u64>> {
        let txn = self.db().begin().await?;
        if !self.hold(id, Some(&txn)).await? {
            txn.rollback().await?;
            return Ok(None);
        }
        let count = self.messaging().queue_prepared(&txn, batch.messages).await?;
        campaign_recipient::Entity::update_many()
            .col_expr(campaign_recipient::Column::QueuedAt, Expr::value(Utc::now()))
            .filter(campaign_recipient::Column::CampaignId.eq(id))
            .filter(campaign_recipient::Column::VolunteerId.between(batch.first, batch.last))
            .filter(campaign_recipient::Column::QueuedAt.is_null())
            .exec(&txn)
            .await?;
        campaign::Entity::update_many()
            .col_expr(
                campaign::Column::Queued,
                Expr::col(campaign::Column::Queued).add(i32::try_from(count).unwrap_or(i32::MAX)),
            )
            .filter(campaign::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Some(count))
    }

    /// The messages of one batch of recipients: an SMS to each working primary phone of those
    /// who accept SMS, and an app message to those who accept them, each named for its
    /// volunteer. Recipients reachable by neither are queued nothing (and show as such).
    async fn messages_for(
        &self,
        campaign: &campaign::Model,
        variables: &BTreeMap<String, String>,
        batch: &[Uuid],
    ) -> AppResult<Vec<NewMessage>> {
        let recipients: Vec<RecipientRow> = volunteer::Entity::find()
            .select_only()
            .columns([volunteer::Column::Id, volunteer::Column::Name, volunteer::Column::BranchCode])
            .columns([volunteer::Column::SmsNonEssential, volunteer::Column::InboxNonEssential])
            .filter(volunteer::Column::Id.is_in(batch.iter().copied()))
            .into_tuple()
            .all(self.db())
            .await?;
        let phones: HashMap<Uuid, (Uuid, Vec<u8>)> = if campaign.sms {
            let rows: Vec<(Uuid, Uuid, Vec<u8>)> = volunteer_contact::Entity::find()
                .select_only()
                .columns([volunteer_contact::Column::VolunteerId, volunteer_contact::Column::Id])
                .column(volunteer_contact::Column::Value)
                .filter(volunteer_contact::Column::VolunteerId.is_in(batch.iter().copied()))
                .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
                .filter(volunteer_contact::Column::EndedAt.is_null())
                .filter(volunteer_contact::Column::InvalidAt.is_null())
                .into_tuple()
                .all(self.db())
                .await?;
            rows.into_iter().map(|(volunteer, id, value)| (volunteer, (id, value))).collect()
        } else {
            HashMap::new()
        };
        let cipher = &self.keys().cipher;
        let mut messages = Vec::with_capacity(recipients.len() * 2);
        for (volunteer_id, sealed_name, branch_code, by_sms, in_app) in recipients {
            let name = cipher.decrypt(&sealed_name, name_binding(volunteer_id)).map_err(AppError::internal)?;
            let message = |recipient, channel: &str| NewMessage {
                recipient,
                volunteer_id: Some(volunteer_id),
                branch_code: branch_code.clone(),
                template_key: campaign.template_key.clone(),
                locale: campaign.locale.clone(),
                variables: with_name(variables, &name),
                dedupe_key: format!("campaign:{}:{volunteer_id}:{channel}", campaign.id),
                campaign_id: Some(campaign.id),
            };
            if campaign.app_inbox && in_app {
                messages.push(message(Recipient::AppInbox { volunteer_id }, "inbox"));
            }
            if let (true, Some((contact_id, sealed))) = (by_sms, phones.get(&volunteer_id)) {
                let clear = cipher.decrypt(sealed, contact_binding(*contact_id)).map_err(AppError::internal)?;
                let phone = Phone::from_stored(&clear)
                    .map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))?;
                messages.push(message(Recipient::Sms(phone), "sms"));
            }
        }
        Ok(messages)
    }
}
