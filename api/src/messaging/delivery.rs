//! Delivery workers: claim due messages, apply the rules that protect volunteers, hand SMS to
//! the provider, and record what happened.
//!
//! A message is sent at most once to the provider. A claim (`claimed`) is only an intention:
//! if its worker dies, another takes it back after the claim timeout. Just before the provider
//! call it becomes `sending`, and a `sending` message is never sent again: if its worker dies
//! there, the outcome is unknown and the message fails for staff to see, because a duplicate
//! login code or campaign SMS is worse than one missing.
//!
//! Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL, so many workers in many processes take
//! disjoint batches; SQLite serialises writers, which gives the same guarantee.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::outbound_message::{self, Channel, Column, Entity, Purpose, Status};
use entity::{inbox_notification, messaging_opt_out};
use futures::future::join_all;
use rand::Rng;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::Messaging;
use super::catalog::Snapshot;
use super::provider::{OutgoingSms, SendOutcome};
use crate::db;
use crate::domain::messaging::{Rendered, render, signed_sms};
use crate::error::{AppError, AppResult};
use crate::pii::registry;

/// How often a worker fails the sends whose worker was lost mid-send.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// A phone's blind index and when a message went to it.
type SentTo = (Option<Vec<u8>>, Option<DateTime<Utc>>);

/// What the rules decide for one claimed message.
enum Decision {
    Send,
    Hold { until: DateTime<Utc>, reason: &'static str },
    Cancel { reason: &'static str },
}

impl Messaging {
    /// Starts this process's delivery workers; they stop claiming when `shutdown` turns true and
    /// finish the batch in hand.
    #[must_use]
    pub fn start_workers(&self, shutdown: &watch::Receiver<bool>) -> JoinSet<()> {
        let mut workers = JoinSet::new();
        for n in 0..self.inner.settings.workers {
            let messaging = self.clone();
            let mut shutdown = shutdown.clone();
            let name = format!("{}-{n}", self.inner.process_id);
            workers.spawn(async move { messaging.work(&name, &mut shutdown).await });
        }
        workers
    }

    async fn work(&self, worker: &str, shutdown: &mut watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.inner.settings.poll_interval_ms);
        let full = usize::try_from(self.inner.settings.batch_size).unwrap_or(usize::MAX);
        let mut swept = tokio::time::Instant::now();
        while !*shutdown.borrow() {
            if swept.elapsed() >= SWEEP_EVERY {
                if let Err(err) = self.fail_lost_sends().await {
                    tracing::warn!(error = ?err, "could not sweep lost sends");
                }
                swept = tokio::time::Instant::now();
            }
            let claimed = self.deliver_batch(worker).await.unwrap_or_else(|err| {
                tracing::warn!(worker, error = ?err, "delivery round failed");
                0
            });
            if claimed < full {
                tokio::select! {
                    _ = shutdown.changed() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        }
        tracing::debug!(worker, "delivery worker stopped");
    }

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
        let db = &self.inner.db;
        let now = Utc::now();
        let until = now + self.claim_timeout();
        let due = Condition::any()
            .add(Condition::all().add(Column::Status.eq(Status::Queued)).add(Column::NextAttemptAt.lte(now)))
            .add(Condition::all().add(Column::Status.eq(Status::Claimed)).add(Column::ClaimedUntil.lt(now)));
        let mut pick = Query::select();
        pick.column(Column::Id).from(Entity).cond_where(due).order_by(Column::NextAttemptAt, Order::Asc).limit(limit);
        if db.get_database_backend() == DbBackend::Postgres {
            pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        Ok(Entity::update_many()
            .col_expr(Column::Status, Expr::value(Status::Claimed))
            .col_expr(Column::ClaimedBy, Expr::value(worker))
            .col_expr(Column::ClaimedUntil, Expr::value(until))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.in_subquery(pick))
            .exec_with_returning(db)
            .await?)
    }

    /// Fails the messages handed to the provider by a worker that then vanished: their outcome
    /// is unknown, and sending again could deliver twice.
    ///
    /// # Errors
    /// The database failed.
    pub async fn fail_lost_sends(&self) -> AppResult<u64> {
        let now = Utc::now();
        let lost = Entity::update_many()
            .col_expr(Column::Status, Expr::value(Status::Failed))
            .col_expr(Column::LastError, Expr::value("outcome unknown: the worker stopped during the send; not resent"))
            .col_expr(Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Status.eq(Status::Sending))
            .filter(Column::ClaimedUntil.lt(now))
            .exec(&self.inner.db)
            .await?;
        Ok(lost.rows_affected)
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
                release(worker, message.id, now)
                    .col_expr(Column::Status, Expr::value(Status::Delivered))
                    .col_expr(Column::Provider, Expr::value("app_inbox"))
                    .col_expr(Column::Attempts, one_more_attempt())
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
                        release(worker, message.id, now)
                            .col_expr(Column::Status, Expr::value(Status::Queued))
                            .col_expr(Column::NextAttemptAt, Expr::value(*until))
                            .col_expr(Column::LastError, Expr::value(*reason))
                            .exec(txn)
                            .await?;
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
        let sending = Entity::update_many()
            .col_expr(Column::Status, Expr::value(Status::Sending))
            .col_expr(Column::Attempts, one_more_attempt())
            .col_expr(Column::ClaimedUntil, Expr::value(now + self.claim_timeout()))
            .col_expr(Column::Provider, Expr::value(self.inner.provider.name()))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.is_in(to_send))
            .filter(Column::ClaimedBy.eq(worker))
            .filter(Column::Status.eq(Status::Claimed))
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
                update
                    .col_expr(Column::Status, Expr::value(Status::Queued))
                    .col_expr(Column::NextAttemptAt, Expr::value(now + self.backoff(message.attempts)))
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

    /// Exponential backoff from the base, with jitter so that a burst of failures does not
    /// come back as a burst.
    fn backoff(&self, attempts: i32) -> chrono::Duration {
        let settings = &self.inner.settings;
        let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(20);
        let ceiling = settings.backoff_base_ms.saturating_mul(1 << exponent).min(settings.backoff_max_ms);
        let jittered = rand::thread_rng().gen_range(ceiling / 2..=ceiling.max(1));
        chrono::Duration::milliseconds(i64::try_from(jittered).unwrap_or(i64::MAX))
    }

    fn claim_timeout(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(i64::try_from(self.inner.settings.claim_timeout_ms).unwrap_or(i64::MAX))
    }
}

fn one_more_attempt() -> Expr {
    // Scoped: `ExprTrait` would shadow `Ord::min` and friends across the module.
    use sea_orm::sea_query::ExprTrait;
    Expr::col(Column::Attempts).add(1)
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
    release(worker, id, now)
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::LastError, Expr::value(reason))
        .exec(conn)
        .await?;
    Ok(())
}

/// An update of one message that `worker` still holds, giving up the claim. The filter on the
/// worker makes a claim that expired and was retaken by another worker untouchable.
fn release(worker: &str, id: Uuid, now: DateTime<Utc>) -> sea_orm::UpdateMany<Entity> {
    Entity::update_many()
        .col_expr(Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::ClaimedBy.eq(worker))
}
