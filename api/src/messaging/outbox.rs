//! Queuing a message: one row in the outbox, in the caller's transaction, so that a change and
//! the message it causes commit or roll back together.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::outbound_message::{self, Channel, Status};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TryInsertResult};
use uuid::Uuid;

use super::Messaging;
use super::catalog::Snapshot;
use crate::db::bulk;
use crate::domain::Phone;
use crate::domain::messaging::{render, signed_sms, sms_segments};
use crate::error::{AppError, AppResult};
use crate::pii::registry;

/// Where a message goes.
#[derive(Clone, Debug)]
pub enum Recipient {
    Sms(Phone),
    /// The volunteer's notification list in the app.
    AppInbox {
        volunteer_id: Uuid,
    },
}

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub recipient: Recipient,
    pub volunteer_id: Option<Uuid>,
    pub branch_code: String,
    pub template_key: String,
    pub locale: String,
    pub variables: BTreeMap<String, String>,
    /// The same key queues once: a retried request or a re-run job does not message twice.
    pub dedupe_key: String,
    pub campaign_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queued {
    pub id: Uuid,
    /// The dedupe key was already queued; `id` is the first message's.
    pub duplicate: bool,
}

/// Messages checked and sealed, ready to be written ([`Messaging::prepare`]).
#[derive(Debug)]
pub struct Prepared(Vec<(Channel, outbound_message::ActiveModel)>);

impl Messaging {
    /// Queues `message` on `conn`, which may be the caller's transaction. Template variables are
    /// checked now: a missing one is the caller's error, not a garbled SMS later.
    ///
    /// # Errors
    /// BAD_USER_INPUT for an unknown template or branch, or variables that do not fit.
    pub async fn queue<C: ConnectionTrait>(&self, conn: &C, message: NewMessage) -> AppResult<Queued> {
        let catalog = self.inner.catalog.snapshot_on(conn).await?;
        let dedupe_key = message.dedupe_key.clone();
        let (id, channel, row) = self.row(&catalog, message, Utc::now())?;
        let inserted = outbound_message::Entity::insert(row)
            .on_conflict_do_nothing_on([outbound_message::Column::DedupeKey])
            .exec_without_returning(conn)
            .await?;
        if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            self.inner.metrics.observe_message(channel, "queued");
            return Ok(Queued { id, duplicate: false });
        }
        let first: Option<Uuid> = outbound_message::Entity::find()
            .select_only()
            .column(outbound_message::Column::Id)
            .filter(outbound_message::Column::DedupeKey.eq(dedupe_key))
            .into_tuple()
            .one(conn)
            .await?;
        let id = first.ok_or_else(|| AppError::internal(anyhow::anyhow!("dedupe conflict without a row")))?;
        Ok(Queued { id, duplicate: true })
    }

    /// Checks and seals many messages for [`Self::queue_prepared`]: the costly half of
    /// queueing a campaign (rendering, encryption), which needs no connection, so a launcher
    /// prepares one batch while the previous one is written.
    ///
    /// # Errors
    /// As [`Self::queue`], for the first message that does not fit.
    pub async fn prepare(&self, messages: Vec<NewMessage>) -> AppResult<Prepared> {
        let catalog = self.inner.catalog.snapshot().await?;
        let now = Utc::now();
        let rows = messages
            .into_iter()
            .map(|message| self.row(&catalog, message, now).map(|(_, channel, row)| (channel, row)))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Prepared(rows))
    }

    /// Queues prepared messages on `conn` in bulk ([`crate::db::bulk`]); a dedupe key queued
    /// before is skipped. Returns how many were queued now.
    ///
    /// # Errors
    /// The database failed; nothing of this call is queued then.
    pub async fn queue_prepared<C: ConnectionTrait>(&self, conn: &C, prepared: &Prepared) -> AppResult<u64> {
        let (channels, rows): (Vec<Channel>, Vec<outbound_message::ActiveModel>) = prepared.0.iter().cloned().unzip();
        let queued =
            bulk::insert::<outbound_message::Entity, _>(conn, rows, Some(outbound_message::Column::DedupeKey)).await?;
        // Only a resumed launch meets dedupe keys queued before, and it cannot tell which of a
        // batch were new: such a batch is left out of the metric, not miscounted.
        if queued == u64::try_from(channels.len()).unwrap_or(u64::MAX) {
            for channel in channels {
                self.inner.metrics.observe_message(channel, "queued");
            }
        }
        Ok(queued)
    }

    /// The outbox row of a checked message, with its id and channel.
    fn row(
        &self,
        catalog: &Snapshot,
        message: NewMessage,
        now: DateTime<Utc>,
    ) -> AppResult<(Uuid, Channel, outbound_message::ActiveModel)> {
        let template = catalog
            .template(&message.template_key, &message.locale)
            .ok_or_else(|| AppError::invalid("templateKey", "no template with this key in this locale"))?;
        let branch = catalog.branch(&message.branch_code).ok_or_else(AppError::no_such_branch)?;
        let rendered = render(&template.body, &message.variables).map_err(AppError::field("variables"))?;
        if message.dedupe_key.is_empty() || message.dedupe_key.len() > 200 {
            return Err(AppError::invalid("dedupeKey", "must be 1 to 200 characters"));
        }
        let id = Uuid::now_v7();
        let keys = &self.inner.keys;
        let variables = serde_json::to_string(&message.variables).map_err(AppError::internal)?;
        let (channel, phone, phone_index, segments) = match &message.recipient {
            Recipient::Sms(phone) => (
                Channel::Sms,
                Some(keys.cipher.encrypt(phone.expose(), registry::OUTBOUND_MESSAGE_RECIPIENT_PHONE.at(id))),
                Some(keys.blind_index.phone(phone)),
                sms_segments(&signed_sms(&branch.sign_name, &rendered.text)),
            ),
            Recipient::AppInbox { .. } => (Channel::AppInbox, None, None, 0),
        };
        let volunteer_id = match message.recipient {
            Recipient::AppInbox { volunteer_id } => Some(volunteer_id),
            Recipient::Sms(_) => message.volunteer_id,
        };
        let row = outbound_message::ActiveModel {
            id: Set(id),
            channel: Set(channel),
            purpose: Set(template.purpose),
            status: Set(Status::Queued),
            branch_code: Set(message.branch_code),
            volunteer_id: Set(volunteer_id),
            recipient_phone: Set(phone),
            recipient_phone_index: Set(phone_index),
            template_key: Set(message.template_key),
            locale: Set(message.locale),
            variables: Set(keys.cipher.encrypt(&variables, registry::OUTBOUND_MESSAGE_VARIABLES.at(id))),
            segments: Set(i32::try_from(segments).unwrap_or(i32::MAX)),
            dedupe_key: Set(message.dedupe_key),
            campaign_id: Set(message.campaign_id),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_by: Set(None),
            claimed_until: Set(None),
            provider: Set(None),
            provider_message_id: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            sent_at: Set(None),
            delivered_at: Set(None),
        };
        Ok((id, channel, row))
    }
}
