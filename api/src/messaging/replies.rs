//! Delivery reports and inbound replies from the gateway.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::outbound_message::{Channel, Column, Entity, Status};
use entity::{inbound_reply, messaging_opt_out};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, TryInsertResult};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Messaging;
use crate::db;
use crate::digest::hex;
use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::pii::registry;

/// One delivery report, in the gateway's callback format.
#[derive(Clone, Debug, Deserialize)]
pub struct StatusReport {
    /// The provider's message id (Tencent's `SerialNo`).
    pub sid: String,
    /// `SUCCESS` or `FAIL`.
    pub report_status: String,
    /// The operator's status code, e.g. `DELIVRD`.
    #[serde(default)]
    pub errmsg: String,
}

/// A mobile-originated SMS, in the gateway's callback format.
#[derive(Clone, Deserialize)]
pub struct InboundSms {
    pub mobile: String,
    pub nationcode: String,
    pub text: String,
    /// Unix seconds at the gateway.
    pub time: i64,
}

impl fmt::Debug for InboundSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundSms").field("time", &self.time).finish_non_exhaustive()
    }
}

/// A reply as the handlers see it.
#[derive(Debug)]
pub struct Reply<'a> {
    pub phone: &'a Phone,
    pub phone_index: &'a [u8],
    pub text: &'a str,
    pub received_at: DateTime<Utc>,
}

/// Acts on replies it recognises. Handlers are asked in order; the first that answers wins, and
/// a reply no handler takes is kept as `unmatched` for staff.
#[async_trait::async_trait]
pub trait ReplyHandler: Send + Sync + fmt::Debug {
    /// What the reply was handled as, or `None` if it is not this handler's.
    async fn handle(&self, txn: &DatabaseTransaction, reply: &Reply<'_>) -> AppResult<Option<&'static str>>;
}

/// `TD` (退订), the opt-out reply Chinese SMS rules require every bulk message to offer.
#[derive(Debug)]
pub struct OptOutReply;

#[async_trait::async_trait]
impl ReplyHandler for OptOutReply {
    async fn handle(&self, txn: &DatabaseTransaction, reply: &Reply<'_>) -> AppResult<Option<&'static str>> {
        let text = reply.text.trim();
        if !(text.eq_ignore_ascii_case("TD") || text == "退订") {
            return Ok(None);
        }
        Self::opt_out(txn, reply.phone_index, reply.received_at).await?;
        Ok(Some("opt_out"))
    }
}

impl OptOutReply {
    /// Opts the phone out of non-essential messages (once; a repeat changes nothing), for this
    /// handler and for handlers that recognise a TD as the answer to something of theirs.
    ///
    /// # Errors
    /// The database failed.
    pub async fn opt_out(txn: &DatabaseTransaction, phone_index: &[u8], at: DateTime<Utc>) -> AppResult<()> {
        messaging_opt_out::Entity::insert(messaging_opt_out::ActiveModel {
            phone_index: Set(phone_index.to_vec()),
            source: Set("reply_td".into()),
            created_at: Set(at),
        })
        .on_conflict_do_nothing_on([messaging_opt_out::Column::PhoneIndex])
        .exec_without_returning(txn)
        .await?;
        Ok(())
    }
}

/// What became of a reply callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyOutcome {
    Handled(&'static str),
    /// The same callback came before; nothing was done again.
    Repeated,
}

pub(super) fn default_handlers() -> Vec<Arc<dyn ReplyHandler>> {
    vec![Arc::new(OptOutReply)]
}

impl Messaging {
    /// Applies delivery reports. A report moves a message only out of `sending` or `accepted`,
    /// so a repeated callback changes nothing; returns how many messages changed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn record_receipts(&self, reports: &[StatusReport]) -> AppResult<u64> {
        let now = Utc::now();
        let mut changed = 0;
        for report in reports {
            let delivered = report.report_status.eq_ignore_ascii_case("SUCCESS");
            let mut update = Entity::update_many()
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::ProviderMessageId.eq(report.sid.as_str()))
                .filter(Column::Status.is_in([Status::Accepted, Status::Sending]));
            update = if delivered {
                update
                    .col_expr(Column::Status, Expr::value(Status::Delivered))
                    .col_expr(Column::DeliveredAt, Expr::value(now))
            } else {
                let code: String = report.errmsg.chars().filter(char::is_ascii_alphanumeric).take(32).collect();
                update
                    .col_expr(Column::Status, Expr::value(Status::Failed))
                    .col_expr(Column::LastError, Expr::value(format!("not delivered: {code}")))
            };
            let result = update.exec(&self.inner.db).await?;
            if result.rows_affected > 0 {
                self.inner.metrics.observe_message(Channel::Sms, if delivered { "delivered" } else { "undelivered" });
            }
            changed += result.rows_affected;
        }
        Ok(changed)
    }

    /// Keeps a reply and hands it to the reply handlers, once: a repeated callback is recognised
    /// by its content and changes nothing.
    ///
    /// # Errors
    /// BAD_USER_INPUT for a number that is not a phone; the database failed.
    pub async fn record_reply(&self, provider: &str, sms: &InboundSms) -> AppResult<ReplyOutcome> {
        let phone = Phone::parse(&format!("+{}{}", sms.nationcode.trim_start_matches('+'), sms.mobile))
            .map_err(AppError::field("mobile"))?;
        let keys = &self.inner.keys;
        let phone_index = keys.blind_index.phone(&phone);
        let dedupe_key = hex(&Sha256::digest(
            [provider.as_bytes(), &phone_index, &sms.time.to_be_bytes(), sms.text.as_bytes()].concat(),
        ));
        let received_at = DateTime::from_timestamp(sms.time, 0).unwrap_or_else(Utc::now);
        let id = Uuid::now_v7();

        db::write!(&self.inner.db, |txn| {
            let inserted = inbound_reply::Entity::insert(inbound_reply::ActiveModel {
                id: Set(id),
                provider: Set(provider.to_owned()),
                dedupe_key: Set(dedupe_key.clone()),
                phone: Set(keys.cipher.encrypt(phone.expose(), registry::INBOUND_REPLY_PHONE.at(id))),
                phone_index: Set(phone_index.clone()),
                body: Set(keys.cipher.encrypt(&sms.text, registry::INBOUND_REPLY_BODY.at(id))),
                received_at: Set(received_at),
                handled_as: Set("pending".into()),
                created_at: Set(Utc::now()),
            })
            .on_conflict_do_nothing_on([inbound_reply::Column::DedupeKey])
            .exec_without_returning(txn)
            .await?;
            if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
                return Ok(ReplyOutcome::Repeated);
            }
            let reply = Reply { phone: &phone, phone_index: &phone_index, text: &sms.text, received_at };
            let mut handled_as = "unmatched";
            for handler in &self.inner.reply_handlers {
                if let Some(outcome) = handler.handle(txn, &reply).await? {
                    handled_as = outcome;
                    break;
                }
            }
            inbound_reply::Entity::update_many()
                .col_expr(inbound_reply::Column::HandledAs, Expr::value(handled_as))
                .filter(inbound_reply::Column::Id.eq(id))
                .exec(txn)
                .await?;
            Ok(ReplyOutcome::Handled(handled_as))
        })
    }
}
