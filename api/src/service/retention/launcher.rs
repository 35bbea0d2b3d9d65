//! The campaign launcher: a job of kind `campaign.launch` per launched campaign, enqueued in
//! the launch's transaction. It queues the campaign's messages a batch of recipients per
//! transaction, in volunteer order. Each batch commits its messages together with the
//! campaign's cursor (`queued_through`, the batch's last recipient) and count, so that a
//! launcher stopped half-way resumes where it stopped and a recipient never gets two.
//!
//! The job's claim is the lease: a launcher renews it with every batch, and another worker
//! retakes the job when a dead launcher's claim runs out. A batch commits only if the cursor is
//! still where it was read from, so a launcher that outlived its claim writes nothing after the
//! one that took over. Cancelling takes the campaign row first, so no batch commits after a
//! cancellation.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use entity::campaign::{self, CampaignStatus};
use entity::campaign_recipient;
use entity::volunteer;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use uuid::Uuid;

use super::campaigns::{CampaignService, with_name};
use crate::db;
use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::jobs::{JobHandler, Lease};
use crate::messaging::{NewMessage, Prepared, Recipient};
use crate::pii::registry;
use crate::service::volunteer::with_working_phone;

/// The job kind that launches a campaign.
pub const LAUNCH: &str = "campaign.launch";
/// Recipients queued per transaction.
const BATCH: u64 = 2000;

/// Recipients read and their messages sealed, ready to be written: every recipient after
/// `after` (the cursor it was read from) through `last`, in volunteer order.
struct Batch {
    after: Option<Uuid>,
    last: Uuid,
    messages: Prepared,
}

/// A recipient as the launcher reads them: volunteer id, sealed name, branch, whether they take
/// non-essential SMS and app messages, and their working primary phone (contact id and sealed
/// value) if they have one.
type RecipientRow = (Uuid, Vec<u8>, String, bool, bool, Option<Uuid>, Option<Vec<u8>>);

/// The launcher as the job engine runs it.
#[derive(Clone, Debug)]
pub struct CampaignLaunch(pub CampaignService);

#[async_trait]
impl JobHandler for CampaignLaunch {
    fn kind(&self) -> &'static str {
        LAUNCH
    }

    /// Idempotent by the cursor: a retaken launch resumes after the last committed batch.
    async fn run(&self, job: &entity::job::Model, lease: &Lease<'_>) -> AppResult<u64> {
        let id = job.subject_id.ok_or_else(|| AppError::internal(anyhow::anyhow!("launch job without a campaign")))?;
        self.0.queue_campaign(id, lease).await
    }
}

impl CampaignService {
    /// Runs the launches that are due now, in this task, and returns how many messages they
    /// queued: for tools and tests, which need not wait for the engine's workers. A launch held
    /// by a live launcher elsewhere is left to it.
    ///
    /// # Errors
    /// The database failed; what committed stays, and the next run resumes.
    pub async fn launch_pending(&self) -> AppResult<u64> {
        let launcher = CampaignLaunch(self.clone());
        let mut queued = 0;
        loop {
            let round = self.jobs().work(&launcher, "launch-now").await?;
            queued += round.amount;
            if round.claimed == 0 {
                return Ok(queued);
            }
        }
    }

    /// Queues a campaign batch by batch. The next batch is read and sealed on another task
    /// while this one is written, so encryption and the database work side by side.
    async fn queue_campaign(&self, id: Uuid, lease: &Lease<'_>) -> AppResult<u64> {
        let Some(campaign) = campaign::Entity::find_by_id(id).one(self.db()).await? else { return Ok(0) };
        let campaign = Arc::new(campaign);
        let variables: Arc<BTreeMap<String, String>> =
            Arc::new(serde_json::from_str(&campaign.variables).map_err(AppError::internal)?);
        let mut queued = 0;
        let mut next = self.next_batch(&campaign, &variables, campaign.queued_through).await?;
        while let Some(batch) = next {
            let following = tokio::spawn({
                let (this, campaign, variables) = (self.clone(), Arc::clone(&campaign), Arc::clone(&variables));
                let after = batch.last;
                async move { this.next_batch(&campaign, &variables, Some(after)).await }
            });
            let written = if lease.renew().await? { self.write_batch(id, batch).await? } else { None };
            let Some(count) = written else {
                following.abort();
                return Ok(queued);
            };
            queued += count;
            next = following.await.map_err(AppError::internal)??;
        }
        campaign::Entity::update_many()
            .col_expr(campaign::Column::Status, Expr::value(CampaignStatus::Launched))
            .col_expr(campaign::Column::QueuedAt, Expr::value(Utc::now()))
            .filter(campaign::Column::Id.eq(id))
            .filter(campaign::Column::Status.eq(CampaignStatus::Launching))
            .exec(self.db())
            .await?;
        tracing::info!(campaign = %id, queued, "campaign queued");
        Ok(queued)
    }

    /// The next batch of recipients after the cursor `after`, with their messages sealed.
    async fn next_batch(
        &self,
        campaign: &campaign::Model,
        variables: &BTreeMap<String, String>,
        after: Option<Uuid>,
    ) -> AppResult<Option<Batch>> {
        let recipients = self.recipients_after(campaign.id, after).await?;
        let Some(last) = recipients.last().map(|recipient| recipient.0) else { return Ok(None) };
        let messages = self.messages_for(campaign, variables, recipients)?;
        let messages = self.messaging().prepare(messages).await?;
        Ok(Some(Batch { after, last, messages }))
    }

    /// Up to [`BATCH`] recipients after `after`, in volunteer order, each with what their
    /// messages need, in one statement. The recipients are picked in a subquery so that each is
    /// looked up by key: joined directly, PostgreSQL merges the whole volunteer table in id order
    /// to find a few thousand spread across it. (Erasure deletes a volunteer's recipient rows,
    /// so every recipient has a volunteer.)
    async fn recipients_after(&self, campaign_id: Uuid, after: Option<Uuid>) -> AppResult<Vec<RecipientRow>> {
        let mut batch = campaign_recipient::Entity::find()
            .select_only()
            .column(campaign_recipient::Column::VolunteerId)
            .filter(campaign_recipient::Column::CampaignId.eq(campaign_id));
        if let Some(after) = after {
            batch = batch.filter(campaign_recipient::Column::VolunteerId.gt(after));
        }
        let batch = batch.order_by_asc(campaign_recipient::Column::VolunteerId).limit(BATCH).into_query();
        Ok(with_working_phone(
            volunteer::Entity::find()
                .select_only()
                .columns([volunteer::Column::Id, volunteer::Column::Name, volunteer::Column::BranchCode])
                .columns([volunteer::Column::SmsNonEssential, volunteer::Column::InboxNonEssential]),
        )
        .filter(volunteer::Column::Id.in_subquery(batch))
        .order_by_asc(volunteer::Column::Id)
        .into_tuple()
        .all(self.db())
        .await?)
    }

    /// Writes a batch: its messages, the campaign's cursor and count, in one transaction. `None`
    /// when the campaign was cancelled meanwhile, or another launcher moved the cursor (this one
    /// outlived its claim): nothing of the batch is written.
    async fn write_batch(&self, id: Uuid, batch: Batch) -> AppResult<Option<u64>> {
        db::write!(self.db(), |txn| {
            let cursor = match batch.after {
                Some(after) => campaign::Column::QueuedThrough.eq(after),
                None => campaign::Column::QueuedThrough.is_null(),
            };
            let moved = campaign::Entity::update_many()
                .col_expr(campaign::Column::QueuedThrough, Expr::value(batch.last))
                .filter(campaign::Column::Id.eq(id))
                .filter(campaign::Column::Status.eq(CampaignStatus::Launching))
                .filter(cursor)
                .exec(txn)
                .await?;
            if moved.rows_affected != 1 {
                return Ok(None);
            }
            let count = self.messaging().queue_prepared(txn, &batch.messages).await?;
            campaign::Entity::update_many()
                .col_expr(
                    campaign::Column::Queued,
                    Expr::col(campaign::Column::Queued).add(i32::try_from(count).unwrap_or(i32::MAX)),
                )
                .filter(campaign::Column::Id.eq(id))
                .exec(txn)
                .await?;
            Ok(Some(count))
        })
    }

    /// The messages of one batch of recipients: an SMS to each working primary phone of those
    /// who accept SMS, and an app message to those who accept them, each named for its
    /// volunteer. Recipients reachable by neither are queued nothing (and show as such).
    fn messages_for(
        &self,
        campaign: &campaign::Model,
        variables: &BTreeMap<String, String>,
        recipients: Vec<RecipientRow>,
    ) -> AppResult<Vec<NewMessage>> {
        let cipher = &self.keys().cipher;
        let mut messages = Vec::with_capacity(recipients.len() * 2);
        for (volunteer_id, sealed_name, branch_code, by_sms, in_app, phone_id, sealed_phone) in recipients {
            let name =
                cipher.decrypt(&sealed_name, registry::VOLUNTEER_NAME.at(volunteer_id)).map_err(AppError::internal)?;
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
            if let (true, true, Some(contact_id), Some(sealed)) = (campaign.sms, by_sms, phone_id, &sealed_phone) {
                let clear = cipher
                    .decrypt(sealed, registry::VOLUNTEER_CONTACT_VALUE.at(contact_id))
                    .map_err(AppError::internal)?;
                let phone = Phone::from_stored(&clear)
                    .map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))?;
                messages.push(message(Recipient::Sms(phone), "sms"));
            }
        }
        Ok(messages)
    }
}
