//! Delivery: claim due messages, apply the rules that protect volunteers, hand SMS to the
//! provider, and record what happened. The outbox is one of the job engine's queues, claimed
//! by its code ([`crate::jobs::claim`]); a message is its own job.
//!
//! A message is sent at most once to the provider. A claim (`claimed`) is only an intention:
//! if its worker dies, another takes it back after the claim timeout. Just before the provider
//! call it becomes `sending` (the engine's "handed over"), and a `sending` message is never
//! sent again: if its worker dies there, the outcome is unknown and the sweep fails it for
//! staff to see, because a duplicate login code or campaign SMS is worse than one missing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use entity::outbound_message::{self, Channel, Column, Entity, Purpose, Status};
use entity::{inbox_notification, messaging_opt_out};
use futures::future::join_all;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Messaging;
use super::catalog::Snapshot;
use super::provider::{OutgoingSms, SendOutcome};
use crate::db;
use crate::domain::messaging::{Rendered, render, signed_sms};
use crate::error::{AppError, AppResult};
use crate::jobs::Queue;
use crate::jobs::claim::{Claimable, backoff};
use crate::pii::registry;

/// A phone's blind index and when a message went to it.
type SentTo = (Option<Vec<u8>>, Option<DateTime<Utc>>);

/// What the rules decide for one claimed message.
enum Decision {
    Send,
    Hold { until: DateTime<Utc>, reason: &'static str },
    Cancel { reason: &'static str },
}

impl Messaging {
    /// Claims one batch of due messages and delivers it; returns how many were claimed.
    ///
    /// # Errors
    /// The database failed; claimed messages are taken back after the claim timeout.
    pub async fn deliver_batch(&self, worker: &str) -> AppResult<usize> {
        let claimed = self.claim(worker, self.inner.settings.batch_size).await?;
        let count = claimed.len();
        if count > 0 {
            let catalog = self.inner.catalog.snapshot().await?;
            let (sms, inbox): (Vec<_>, Vec<_>) =
                claimed.into_iter().partition(|message| message.channel == Channel::Sms);
            self.deliver_to_inbox(worker, inbox, &catalog).await?;
            self.deliver_sms(worker, sms, &catalog).await?;
        }
        Ok(count)
    }

    /// Claims up to `limit` due messages for `worker`: queued ones whose time has come, and
    /// claims whose worker did not turn them into sends in time.
    ///
    /// # Errors
    /// The database failed.
    pub async fn claim(&self, worker: &str, limit: u64) -> AppResult<Vec<outbound_message::Model>> {
        OUTBOX.claim(&self.inner.db, worker, self.claim_timeout(), limit, Condition::all()).await
    }

    /// Fails the messages handed to the provider by a worker that then vanished: their outcome
    /// is unknown, and sending again could deliver twice.
    ///
    /// # Errors
    /// The database failed.
    pub async fn fail_lost_sends(&self) -> AppResult<u64> {
        let lost = OUTBOX
            .sweep_lost(
                &self.inner.db,
                Condition::all(),
                "outcome unknown: the worker stopped during the send; not resent",
            )
            .await?;
        Ok(u64::try_from(lost.len()).unwrap_or(u64::MAX))
    }

    async fn deliver_to_inbox(
        &self,
        worker: &str,
        messages: Vec<outbound_message::Model>,
        catalog: &Snapshot,
    ) -> AppResult<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let keys = &self.inner.keys;
        db::write!(&self.inner.db, |txn| {
            for message in &messages {
                let (Some(volunteer_id), Ok(rendered)) = (message.volunteer_id, self.render_stored(message, catalog))
                else {
                    finish(
                        txn,
                        worker,
                        message.id,
                        Status::Failed,
                        Some("undeliverable: unreadable or incomplete message"),
                        now,
                    )
                    .await?;
                    continue;
                };
                let id = Uuid::now_v7();
                let body = keys.cipher.encrypt(&rendered.text, registry::INBOX_NOTIFICATION_BODY.at(id));
                inbox_notification::Entity::insert(inbox_notification::ActiveModel {
                    id: Set(id),
                    volunteer_id: Set(volunteer_id),
                    message_id: Set(message.id),
                    template_key: Set(message.template_key.clone()),
                    body: Set(body),
                    created_at: Set(now),
                    read_at: Set(None),
                })
                .on_conflict_do_nothing_on([inbox_notification::Column::MessageId])
                .exec_without_returning(txn)
                .await?;
                OUTBOX
                    .release(worker, message.id, now)
                    .col_expr(Column::Status, Expr::value(Status::Delivered))
                    .col_expr(Column::Provider, Expr::value("app_inbox"))
                    .col_expr(Column::Attempts, OUTBOX.one_more_attempt())
                    .col_expr(Column::SentAt, Expr::value(now))
                    .col_expr(Column::DeliveredAt, Expr::value(now))
                    .exec(txn)
                    .await?;
                self.inner.metrics.observe_message(Channel::AppInbox, "delivered");
            }
            Ok(())
        })
    }

    async fn deliver_sms(
        &self,
        worker: &str,
        messages: Vec<outbound_message::Model>,
        catalog: &Snapshot,
    ) -> AppResult<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let decisions = self.decide(&messages, catalog, now).await?;
        let to_send = db::write!(&self.inner.db, |txn| {
            let mut to_send = Vec::new();
            for (message, decision) in messages.iter().zip(&decisions) {
                match decision {
                    Decision::Send => to_send.push(message.id),
                    Decision::Hold { until, reason } => {
                        OUTBOX.requeue(worker, message.id, *until, reason, now).exec(txn).await?;
                    }
                    Decision::Cancel { reason } => {
                        finish(txn, worker, message.id, Status::Cancelled, Some(*reason), now).await?;
                    }
                }
            }
            Ok(to_send)
        })?;
        for decision in &decisions {
            match decision {
                Decision::Send => {}
                Decision::Hold { .. } => self.inner.metrics.observe_message(Channel::Sms, "held"),
                Decision::Cancel { .. } => self.inner.metrics.observe_message(Channel::Sms, "cancelled"),
            }
        }
        if to_send.is_empty() {
            return Ok(());
        }

        // Handed over from here on: never sent again, whatever happens to this worker.
        let sending = OUTBOX
            .hand_over(worker, to_send, self.claim_timeout(), now)
            .col_expr(Column::Provider, Expr::value(self.inner.provider.name()))
            .exec_with_returning(&self.inner.db)
            .await?;
        let outcomes = join_all(sending.iter().map(|message| self.send_one(message, catalog))).await;

        let now = Utc::now();
        db::write!(&self.inner.db, |txn| {
            for (message, outcome) in sending.iter().zip(&outcomes) {
                self.record(txn, message, outcome.clone(), now).await?;
            }
            Ok(())
        })
    }

    /// Opt-outs, quiet hours and the daily cap, for the non-essential messages of a batch.
    async fn decide(
        &self,
        messages: &[outbound_message::Model],
        catalog: &Snapshot,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<Decision>> {
        let phones: Vec<Vec<u8>> = messages
            .iter()
            .filter(|message| message.purpose == Purpose::NonEssential)
            .filter_map(|message| message.recipient_phone_index.clone())
            .collect();
        let (opted_out, mut sent_today) = if phones.is_empty() {
            (HashSet::new(), HashMap::new())
        } else {
            let opted_out: HashSet<Vec<u8>> = messaging_opt_out::Entity::find()
                .filter(messaging_opt_out::Column::PhoneIndex.is_in(phones.clone()))
                .all(&self.inner.db)
                .await?
                .into_iter()
                .map(|opt_out| opt_out.phone_index)
                .collect();
            let recent: Vec<SentTo> = Entity::find()
                .select_only()
                .column(Column::RecipientPhoneIndex)
                .column(Column::SentAt)
                .filter(Column::RecipientPhoneIndex.is_in(phones))
                .filter(Column::Purpose.eq(Purpose::NonEssential))
                .filter(Column::Status.is_in([Status::Sending, Status::Accepted, Status::Delivered]))
                .filter(Column::SentAt.gte(now - chrono::Duration::days(1)))
                .into_tuple()
                .all(&self.inner.db)
                .await?;
            let mut sent: HashMap<Vec<u8>, Vec<DateTime<Utc>>> = HashMap::new();
            for (phone, at) in recent {
                if let (Some(phone), Some(at)) = (phone, at) {
                    sent.entry(phone).or_default().push(at);
                }
            }
            (opted_out, sent)
        };

        Ok(messages
            .iter()
            .map(|message| {
                if message.purpose == Purpose::Transactional {
                    return Decision::Send;
                }
                let (Some(rules), Some(phone)) =
                    (catalog.branch(&message.branch_code), message.recipient_phone_index.as_ref())
                else {
                    return Decision::Cancel { reason: "undeliverable: no branch rules or no phone" };
                };
                if opted_out.contains(phone) {
                    return Decision::Cancel { reason: "recipient opted out of non-essential messages" };
                }
                if let Some(until) = rules.quiet_hours.hold_until(now) {
                    return Decision::Hold { until, reason: "held: quiet hours" };
                }
                let day_start = rules.quiet_hours.local_day_start(now);
                let today = sent_today.entry(phone.clone()).or_default();
                let count = today.iter().filter(|at| **at >= day_start).count();
                if count >= usize::try_from(rules.daily_non_essential_cap).unwrap_or(usize::MAX) {
                    return Decision::Hold {
                        until: rules.quiet_hours.next_day(now),
                        reason: "held: daily cap reached",
                    };
                }
                today.push(now);
                Decision::Send
            })
            .collect())
    }

    async fn send_one(&self, message: &outbound_message::Model, catalog: &Snapshot) -> SendOutcome {
        let Some(sms) = self.outgoing(message, catalog) else {
            return SendOutcome::Reject { code: "Unreadable".into() };
        };
        self.inner.pacer.wait().await;
        self.inner.provider.send(&sms).await
    }

    fn outgoing(&self, message: &outbound_message::Model, catalog: &Snapshot) -> Option<OutgoingSms> {
        let phone = self
            .inner
            .keys
            .cipher
            .decrypt(message.recipient_phone.as_deref()?, registry::OUTBOUND_MESSAGE_RECIPIENT_PHONE.at(message.id))
            .ok()?;
        let sign_name = catalog.branch(&message.branch_code)?.sign_name.clone();
        let rendered = self.render_stored(message, catalog).ok()?;
        Some(OutgoingSms {
            message_id: message.id,
            phone,
            text: signed_sms(&sign_name, &rendered.text),
            sign_name,
            template_key: message.template_key.clone(),
            locale: message.locale.clone(),
            params: rendered.params,
        })
    }

    fn render_stored(&self, message: &outbound_message::Model, catalog: &Snapshot) -> AppResult<Rendered> {
        let json = self
            .inner
            .keys
            .cipher
            .decrypt(&message.variables, registry::OUTBOUND_MESSAGE_VARIABLES.at(message.id))
            .map_err(AppError::internal)?;
        let variables: BTreeMap<String, String> = serde_json::from_str(&json).map_err(AppError::internal)?;
        let template = catalog
            .template(&message.template_key, &message.locale)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("template {} is gone", message.template_key)))?;
        render(&template.body, &variables).map_err(AppError::internal)
    }

    async fn record<C: ConnectionTrait>(
        &self,
        conn: &C,
        message: &outbound_message::Model,
        outcome: SendOutcome,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let settings = &self.inner.settings;
        let update = Entity::update_many()
            .col_expr(Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(message.id))
            .filter(Column::Status.eq(Status::Sending));
        let update = match outcome {
            SendOutcome::Accepted { provider_message_id } => {
                self.inner.metrics.observe_message(Channel::Sms, "sent");
                update
                    .col_expr(Column::Status, Expr::value(Status::Accepted))
                    .col_expr(Column::ProviderMessageId, Expr::value(provider_message_id))
                    .col_expr(Column::SentAt, Expr::value(now))
                    .col_expr(Column::LastError, Expr::value(Option::<String>::None))
            }
            SendOutcome::Retry { code }
                if u32::try_from(message.attempts).unwrap_or(u32::MAX) < settings.max_attempts =>
            {
                self.inner.metrics.observe_message(Channel::Sms, "retried");
                let settings = &self.inner.settings;
                let wait = backoff(message.attempts, settings.backoff_base_ms, settings.backoff_max_ms);
                update
                    .col_expr(Column::Status, Expr::value(Status::Queued))
                    .col_expr(Column::NextAttemptAt, Expr::value(now + wait))
                    .col_expr(Column::LastError, Expr::value(code))
            }
            SendOutcome::Retry { code } | SendOutcome::Reject { code } => {
                self.inner.metrics.observe_message(Channel::Sms, "failed");
                update
                    .col_expr(Column::Status, Expr::value(Status::Failed))
                    .col_expr(Column::LastError, Expr::value(code))
            }
        };
        update.exec(conn).await?;
        Ok(())
    }

    fn claim_timeout(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(i64::try_from(self.inner.settings.claim_timeout_ms).unwrap_or(i64::MAX))
    }
}

/// Ends a claimed message without sending it.
async fn finish<C: ConnectionTrait>(
    conn: &C,
    worker: &str,
    id: Uuid,
    status: Status,
    reason: Option<&'static str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    OUTBOX
        .release(worker, id, now)
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::LastError, Expr::value(reason))
        .exec(conn)
        .await?;
    Ok(())
}

/// The outbox, as the job engine's claim code sees it.
const OUTBOX: Claimable<Entity> = Claimable {
    id: Column::Id,
    status: Column::Status,
    due_at: Column::NextAttemptAt,
    claimed_by: Column::ClaimedBy,
    claimed_until: Column::ClaimedUntil,
    attempts: Column::Attempts,
    last_error: Column::LastError,
    updated_at: Some(Column::UpdatedAt),
    queued: "queued",
    claimed: "claimed",
    handed_over: "sending",
    lost: "failed",
    attempt_on_claim: false,
};

/// The outbox as one of the engine's queues: the configured number of workers per process,
/// each claiming a batch at a time.
#[async_trait]
impl Queue for Messaging {
    fn kind(&self) -> &'static str {
        "message.delivery"
    }

    fn workers(&self) -> usize {
        self.inner.settings.workers
    }

    fn poll(&self) -> Duration {
        Duration::from_millis(self.inner.settings.poll_interval_ms)
    }

    fn batch_size(&self) -> usize {
        usize::try_from(self.inner.settings.batch_size).unwrap_or(usize::MAX)
    }

    async fn work(&self, worker: &str) -> AppResult<usize> {
        self.deliver_batch(worker).await
    }

    async fn sweep(&self) -> AppResult<u64> {
        self.fail_lost_sends().await
    }
}
