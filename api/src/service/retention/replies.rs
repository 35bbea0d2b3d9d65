//! Answers to campaign and recommitment SMS: "1" still willing, "2" pause, "TD" opt out. This
//! is the cheapest way a volunteer keeps their record fresh, so an answer is applied at once;
//! but only from a volunteer's current primary phone, and only within the answer window of a
//! message that asked: a stray "1" is kept as unmatched for staff, not read as consent.
//!
//! A campaign's recipient also gets the answer recorded, for its page and its non-responders.

use chrono::{DateTime, Duration, Utc};
use entity::campaign;
use entity::campaign_recipient::CampaignResponse;
use entity::outbound_message;
use entity::volunteer::{self, DonorStatus, StatusReason};
use entity::volunteer_contact::{self, ContactKind};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::campaigns::record_response;
use crate::error::AppResult;
use crate::messaging::{OptOutReply, Reply, ReplyHandler};
use crate::service::Principal;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::volunteer::{OWN_REASONS, StatusChange, StatusLog, returning_status};

/// The template that asks "still willing?": only its answers move a status.
pub const RECOMMITMENT_TEMPLATE: &str = "recommitment";
/// How long after a recommitment message sent outside a campaign its answer counts.
pub const RESPONSE_WINDOW_DAYS: i64 = 30;
/// How far back a reply is matched to what asked it: the longest campaign window.
const LONGEST_WINDOW_DAYS: i64 = 60;

/// What a reply says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    StillWilling,
    Pause,
    OptOut,
}

impl Answer {
    /// `1`, `2` (full-width digits included, as any phone types them) or `TD`/退订.
    fn read(text: &str) -> Option<Self> {
        match text.trim() {
            "1" | "１" => Some(Self::StillWilling),
            "2" | "２" => Some(Self::Pause),
            td if td.eq_ignore_ascii_case("TD") || td == "退订" => Some(Self::OptOut),
            _ => None,
        }
    }
}

/// Applies "1" (the record is confirmed, and a volunteer whose own pause or unreachability it
/// was returns to the register), "2" (a pause of the branch's length) and, for a campaign's
/// recipient, "TD" (the opt-out, recorded as their answer). A volunteer reserved for a patient,
/// or paused by staff, is only confirmed: their status is the coordinator's. A TD that answers
/// no campaign is left to the backbone's own opt-out.
#[derive(Debug)]
pub struct CampaignReply {
    status: StatusLog,
}

impl CampaignReply {
    #[must_use]
    pub fn new(status: StatusLog) -> Self {
        Self { status }
    }
}

#[async_trait::async_trait]
impl ReplyHandler for CampaignReply {
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
        let Some((asked, campaign)) = asked_by(txn, reply.phone_index, reply.received_at).await? else {
            return Ok(None);
        };
        let window =
            campaign.as_ref().map_or(RESPONSE_WINDOW_DAYS, |campaign| i64::from(campaign.response_window_days));
        if asked.created_at + Duration::days(window) < reply.received_at {
            return Ok(None);
        }
        let (outcome, response) = match answer {
            Answer::OptOut if campaign.is_some() => {
                OptOutReply::opt_out(txn, reply.phone_index, reply.received_at).await?;
                ("opt_out", CampaignResponse::OptedOut)
            }
            Answer::OptOut => return Ok(None),
            _ if asked.template_key != RECOMMITMENT_TEMPLATE => return Ok(None),
            Answer::StillWilling => {
                self.recommit(txn, &model).await?;
                ("recommitted", CampaignResponse::StillWilling)
            }
            Answer::Pause => {
                self.pause(txn, &model).await?;
                ("paused", CampaignResponse::Pause)
            }
        };
        if let Some(campaign) = campaign {
            record_response(txn, campaign.id, model.id, response, reply.received_at).await?;
        }
        let entry = AuditEntry { subject: Some(("volunteer", model.id)), ..Default::default() };
        audit::record(
            txn,
            &Principal::Volunteer { id: model.id },
            match response {
                CampaignResponse::StillWilling => AuditAction::VolunteerReplyRecommit,
                CampaignResponse::Pause => AuditAction::VolunteerReplyPause,
                CampaignResponse::OptedOut => AuditAction::VolunteerReplyOptOut,
            },
            entry,
        )
        .await?;
        Ok(Some(outcome))
    }
}

impl CampaignReply {
    /// "1": confirmed, and back on the register from the volunteer's own pause or from UC.
    async fn recommit(&self, txn: &DatabaseTransaction, model: &volunteer::Model) -> AppResult<()> {
        let now = Utc::now();
        let own = model.status == DonorStatus::TemporarilyUnavailable
            && model.status_reason.is_some_and(|reason| OWN_REASONS.contains(&reason));
        if own {
            let change = StatusChange {
                status: returning_status(model),
                reason: None,
                until: None,
                confirms: true,
                by: None,
                source: "reply.recommit",
                note: None,
            };
            self.status.change(txn, &[model.id], &change, now).await?;
        } else {
            confirm(txn, model, now).await?;
        }
        Ok(())
    }

    /// "2": a personal pause of the branch's length, for an available or pending volunteer.
    async fn pause(&self, txn: &DatabaseTransaction, model: &volunteer::Model) -> AppResult<()> {
        let now = Utc::now();
        if !matches!(model.status, DonorStatus::Available | DonorStatus::Pending) {
            return confirm(txn, model, now).await;
        }
        let rule: Option<(i32, i32)> = entity::branch::Entity::find_by_id(model.branch_code.clone())
            .select_only()
            .columns([entity::branch::Column::ReplyPauseDays, entity::branch::Column::UtcOffsetMinutes])
            .into_tuple()
            .one(txn)
            .await?;
        let (days, offset) = rule.unwrap_or((180, 480));
        let today = (now + Duration::minutes(i64::from(offset))).date_naive();
        let change = StatusChange {
            status: DonorStatus::TemporarilyUnavailable,
            reason: Some(StatusReason::Personal),
            until: Some(today + Duration::days(i64::from(days))),
            confirms: true,
            by: None,
            source: "reply.pause",
            note: None,
        };
        self.status.change(txn, &[model.id], &change, now).await?;
        Ok(())
    }
}

/// The latest message to this phone that asked for an answer (a recommitment message, or any
/// campaign's), with its campaign, sent within the longest window before the reply.
async fn asked_by(
    txn: &DatabaseTransaction,
    phone_index: &[u8],
    received_at: DateTime<Utc>,
) -> AppResult<Option<(outbound_message::Model, Option<campaign::Model>)>> {
    let Some(asked) = outbound_message::Entity::find()
        .filter(outbound_message::Column::RecipientPhoneIndex.eq(phone_index.to_vec()))
        .filter(
            Condition::any()
                .add(outbound_message::Column::TemplateKey.eq(RECOMMITMENT_TEMPLATE))
                .add(outbound_message::Column::CampaignId.is_not_null()),
        )
        .filter(outbound_message::Column::CreatedAt.gt(received_at - Duration::days(LONGEST_WINDOW_DAYS)))
        .order_by_desc(outbound_message::Column::CreatedAt)
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let campaign = match asked.campaign_id {
        Some(id) => campaign::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    Ok(Some((asked, campaign)))
}

/// Refreshes the confirmation only: the status is not the volunteer's to change by SMS.
async fn confirm(txn: &DatabaseTransaction, model: &volunteer::Model, now: DateTime<Utc>) -> AppResult<()> {
    volunteer::Entity::update_many()
        .col_expr(volunteer::Column::LastConfirmedAt, Expr::value(now))
        .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
        .filter(volunteer::Column::Id.eq(model.id))
        .exec(txn)
        .await?;
    Ok(())
}
