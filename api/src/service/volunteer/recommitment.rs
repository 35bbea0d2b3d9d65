//! Answers to a recommitment SMS ("still willing? reply 1 yes, 2 to pause"): the cheapest way
//! a volunteer keeps their record fresh. A reply counts only from a volunteer's current primary
//! phone, and only when that phone was sent a recommitment message within the response window:
//! a stray "1" is kept as unmatched for staff, not read as consent.

use chrono::{Duration, Utc};
use entity::branch;
use entity::outbound_message;
use entity::volunteer::{self, DonorStatus, StatusReason};
use entity::volunteer_contact::{self, ContactKind};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::availability::{OWN_REASONS, returning_status};
use crate::error::AppResult;
use crate::messaging::{Reply, ReplyHandler};
use crate::service::Principal;
use crate::service::audit::{self, AuditEntry};

/// The template of the message these replies answer.
const RECOMMITMENT_TEMPLATE: &str = "recommitment";
/// How long after a recommitment message its answer counts.
pub const RESPONSE_WINDOW_DAYS: i64 = 30;

/// What a reply says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    StillWilling,
    Pause,
}

impl Answer {
    /// `1` or `2`, as typed on any phone (full-width digits included).
    fn read(text: &str) -> Option<Self> {
        match text.trim() {
            "1" | "１" => Some(Self::StillWilling),
            "2" | "２" => Some(Self::Pause),
            _ => None,
        }
    }
}

/// Applies "1" (still willing: the record is confirmed, and a volunteer whose own pause or
/// unreachability it was returns to the register) and "2" (a pause of the branch's length).
/// A volunteer reserved for a patient, or paused by staff, is only confirmed: their status is
/// the coordinator's.
#[derive(Debug, Default)]
pub struct RecommitmentReply;

#[async_trait::async_trait]
impl ReplyHandler for RecommitmentReply {
    async fn handle(&self, txn: &DatabaseTransaction, reply: &Reply<'_>) -> AppResult<Option<&'static str>> {
        let Some(answer) = Answer::read(reply.text) else { return Ok(None) };
        let Some(model) = volunteer::Entity::find()
            .inner_join(volunteer_contact::Entity)
            .filter(volunteer_contact::Column::ValueIndex.eq(reply.phone_index.to_vec()))
            .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .one(txn)
            .await?
        else {
            return Ok(None);
        };
        let asked = outbound_message::Entity::find()
            .filter(outbound_message::Column::RecipientPhoneIndex.eq(reply.phone_index.to_vec()))
            .filter(outbound_message::Column::TemplateKey.eq(RECOMMITMENT_TEMPLATE))
            .filter(outbound_message::Column::CreatedAt.gt(reply.received_at - Duration::days(RESPONSE_WINDOW_DAYS)))
            .count(txn)
            .await?;
        if asked == 0 {
            return Ok(None);
        }
        let now = Utc::now();
        let (status, reason, until, action) = match answer {
            Answer::StillWilling => {
                let own = model.status == DonorStatus::TemporarilyUnavailable
                    && model.status_reason.is_some_and(|reason| OWN_REASONS.contains(&reason));
                let status = if own { returning_status(&model) } else { model.status };
                let (reason, until) = if own { (None, None) } else { (model.status_reason, model.status_until) };
                (status, reason, until, "recommitted")
            }
            Answer::Pause if matches!(model.status, DonorStatus::Available | DonorStatus::Pending) => {
                let rule: Option<(i32, i32)> = branch::Entity::find_by_id(model.branch_code.clone())
                    .select_only()
                    .columns([branch::Column::ReplyPauseDays, branch::Column::UtcOffsetMinutes])
                    .into_tuple()
                    .one(txn)
                    .await?;
                let (days, offset) = rule.unwrap_or((180, 480));
                let today = (now + Duration::minutes(i64::from(offset))).date_naive();
                let until = today + Duration::days(i64::from(days));
                (DonorStatus::TemporarilyUnavailable, Some(StatusReason::Personal), Some(until), "paused")
            }
            Answer::Pause => (model.status, model.status_reason, model.status_until, "paused"),
        };
        let mut update = volunteer::Entity::update_many()
            .col_expr(volunteer::Column::LastConfirmedAt, Expr::value(now))
            .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
            .filter(volunteer::Column::Id.eq(model.id));
        if (status, reason, until) != (model.status, model.status_reason, model.status_until) {
            update = update
                .col_expr(volunteer::Column::Status, Expr::value(status))
                .col_expr(volunteer::Column::StatusReason, Expr::value(reason))
                .col_expr(volunteer::Column::StatusUntil, Expr::value(until))
                .col_expr(volunteer::Column::StatusChangedAt, Expr::value(now));
        }
        update.exec(txn).await?;
        let entry = AuditEntry {
            action: if action == "paused" { "volunteer.reply_pause" } else { "volunteer.reply_recommit" },
            subject: Some(("volunteer", model.id)),
            ..Default::default()
        };
        audit::record(txn, &Principal::Volunteer { id: model.id }, entry).await?;
        Ok(Some(action))
    }
}
