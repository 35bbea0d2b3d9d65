//! Moving a case: its steps in order, its early end, and the donor status that follows both.
//!
//! The status follows the case: RS from confirmatory typing on; TU/TX after collection, for the
//! branch's rest period; after an early end, TU/UC when the donor could not be reached, TU for
//! the donor's own reasons (MR for health, PR otherwise, for the branch's longest pause), and
//! back to AV when the patient's or the registry's side ended a case that reserved them.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::volunteer::{self, DonorStatus, StatusReason};
use entity::{case_request, contact_attempt, donation_case};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::follow_up::schedule;
use super::open::{due_at, record_step};
use super::{CaseService, CaseView};
use crate::db;
use crate::domain::calendar;
use crate::domain::contact::short_text;
use crate::domain::donation::{CaseState, EndCause, EndedBy, RequestKind, Stage};
use crate::domain::{AttemptOutcome, WithdrawalCause};
use crate::error::{AppError, AppResult};
use crate::messaging::{NewMessage, Recipient};
use crate::pii::registry;
use crate::service::alerts::{self, AlertKind};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::volunteer::{StatusChange, returning_status};
use crate::service::webhooks::EventType;
use crate::service::{Coordinator, Principal};

/// The most a collection yields, in ml: a marrow harvest is at most about 20 ml per kg of the
/// donor, a PBSC product far less.
const MAX_COLLECTED_ML: i32 = 2_500;

/// Longest note on an early end, in characters.
const MAX_NOTE_CHARS: usize = 500;

/// How a case ended early.
#[derive(Clone, Debug)]
pub struct Ending {
    pub at: DateTime<Utc>,
    /// The stage the case had reached.
    pub stage: Stage,
    pub by: EndedBy,
    pub cause: EndCause,
    pub note: Option<String>,
    /// The donor backed out after clearance.
    pub late_regret: bool,
}

/// An early end to record.
#[derive(Clone, Debug)]
pub struct EndInput {
    pub by: EndedBy,
    pub cause: EndCause,
    pub note: Option<String>,
}

impl CaseService {
    /// Records the case's next step on the date it happened. Only the next step of the case's
    /// path is accepted (G-CSF only for PBSC), and clearance only once every family concern is
    /// resolved. The donor's status follows, and the donor's app shows the step. Collection
    /// records the volume collected and grants the branch's benefits, in the same transaction.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.on` in the future or before the previous step, on
    /// `input.stage` for a step that skips one, and on `input.collectedMl` out of bounds, given
    /// for another step, or missing when the branch's benefit rules multiply it; CONFLICT on
    /// `input.stage` naming the current
    /// stage for a step already passed or a case no longer active, or naming the open concern
    /// for clearance; NOT_FOUND; FORBIDDEN for another branch's case.
    pub async fn record_step(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        case_id: Uuid,
        (stage, on, collected_ml): (Stage, NaiveDate, Option<i32>),
        request_id: Option<&str>,
    ) -> AppResult<CaseView> {
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let now = Utc::now();
        if on > calendar::today(now) {
            return Err(AppError::invalid("input.on", "must not be in the future"));
        }
        match collected_ml {
            Some(_) if stage != Stage::Collection => {
                return Err(AppError::invalid("input.collectedMl", "is recorded at collection only"));
            }
            Some(ml) if !(1..=MAX_COLLECTED_ML).contains(&ml) => {
                return Err(AppError::invalid("input.collectedMl", format!("must be from 1 to {MAX_COLLECTED_ML} ml")));
            }
            _ => {}
        }
        let case = self.view(super::in_scope(&self.db, &coordinator.scope, case_id).await?)?;
        check_move(&case, stage, on)?;
        if stage == Stage::Collection
            && collected_ml.is_none()
            && self.benefits.need_volume(&case.branch_code, on).await?
        {
            return Err(AppError::invalid(
                "input.collectedMl",
                "the branch's benefit rules are a multiple of the volume collected: record it",
            ));
        }
        let rules = self.volunteers.branch_rules(&case.branch_code).await?;
        let updated = db::write!(&self.db, |txn| {
            let volunteer_id = case.volunteer_id.ok_or(AppError::NotFound { resource: "volunteer" })?;
            db::lock_volunteer(txn, volunteer_id).await?;
            // Read again under the lock: another coordinator may have moved the case meanwhile.
            let current = self.view(super::in_scope(txn, &coordinator.scope, case_id).await?)?;
            if let Err(refusal) = check_move(&current, stage, on) {
                return Ok(Err(refusal));
            }
            if stage == Stage::Clearance
                && let Some(raised) = open_concern(txn, case_id).await?
            {
                return Ok(Err(AppError::Conflict {
                    field: "input.stage".into(),
                    message: format!(
                        "the family concern raised on {} is open: resolve it before clearance",
                        calendar::today(raised)
                    ),
                }));
            }
            let next_state = if stage == Stage::FollowUp { CaseState::FollowUp } else { CaseState::Active };
            donation_case::Entity::update_many()
                .col_expr(donation_case::Column::Stage, Expr::value(stage.as_str()))
                .col_expr(donation_case::Column::StageOn, Expr::value(on))
                .col_expr(
                    donation_case::Column::StageDueAt,
                    Expr::value(due_at(txn, &case.branch_code, stage, now).await?),
                )
                .col_expr(donation_case::Column::OverdueAlertedAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(donation_case::Column::State, Expr::value(next_state.as_str()))
                .col_expr(donation_case::Column::UpdatedAt, Expr::value(now))
                .filter(donation_case::Column::Id.eq(case_id))
                .exec(txn)
                .await?;
            record_step(txn, case_id, stage, on, *staff_id, now).await?;
            let follows = match stage {
                Stage::CtRequested => Some((DonorStatus::ReservedForThisPatient, None, None, "case.reserved")),
                Stage::Collection => Some((
                    DonorStatus::TemporarilyUnavailable,
                    Some(StatusReason::AfterTransplantation),
                    Some(on + Duration::days(rules.donation_rest_days)),
                    "case.collected",
                )),
                _ => None,
            };
            if let Some((status, reason, until, source)) = follows {
                let change =
                    StatusChange { status, reason, until, confirms: false, by: Some(actor), source, note: None };
                self.status.change(txn, &[volunteer_id], &change, now).await?;
            }
            if stage == Stage::Collection {
                schedule(txn, case_id, volunteer_id, &case.branch_code, on).await?;
                donation_case::Entity::update_many()
                    .col_expr(donation_case::Column::CollectedMl, Expr::value(collected_ml))
                    .filter(donation_case::Column::Id.eq(case_id))
                    .exec(txn)
                    .await?;
                self.benefits
                    .grant_at_collection(txn, case_id, &case.branch_code, volunteer_id, on, collected_ml)
                    .await?;
            }
            self.tell_donor(txn, &case, volunteer_id, stage).await?;
            let entry = AuditEntry {
                subject: Some(("donation_case", case_id)),
                detail: Some(stage.as_str().to_owned()),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::CaseMilestone, entry).await?;
            Ok(Ok(super::in_scope(txn, &coordinator.scope, case_id).await?))
        })??;
        self.view(updated)
    }

    /// Ends an active case early, at the stage it reached, with whose side ended it and why.
    /// "Lost contact" is the donor's side, and needs the branch's number of failed attempts on
    /// the case first. A donor who backs out from clearance on is a late regret, and raises the
    /// most urgent alert there is. The donor's status follows.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.note` (empty or too long) and on `input.endedBy` for lost
    /// contact on another side; CONFLICT on `caseId` for a case no longer active, and on
    /// `input.cause` before enough failed attempts; NOT_FOUND; FORBIDDEN.
    pub async fn end(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        case_id: Uuid,
        input: EndInput,
        request_id: Option<&str>,
    ) -> AppResult<CaseView> {
        let note = input
            .note
            .as_deref()
            .map(|note| short_text(note, MAX_NOTE_CHARS))
            .transpose()
            .map_err(AppError::field("input.note"))?;
        if input.cause == EndCause::LostContact && input.by != EndedBy::Donor {
            return Err(AppError::invalid("input.endedBy", "a donor who cannot be reached is the donor's side"));
        }
        let case = self.view(super::in_scope(&self.db, &coordinator.scope, case_id).await?)?;
        still_active(&case)?;
        let rules = self.volunteers.branch_rules(&case.branch_code).await?;
        if input.cause == EndCause::LostContact {
            let failed = self.failed_attempts(case_id).await?;
            if failed < rules.case_failed_attempts {
                return Err(AppError::Conflict {
                    field: "input.cause".into(),
                    message: format!(
                        "{failed} of the branch's {} attempts to reach the donor have failed: keep trying first",
                        rules.case_failed_attempts
                    ),
                });
            }
        }
        let now = Utc::now();
        let today = calendar::today(now);
        let late_regret = input.by == EndedBy::Donor && case.stage.is_late();
        let updated = db::write!(&self.db, |txn| {
            let volunteer_id = case.volunteer_id.ok_or(AppError::NotFound { resource: "volunteer" })?;
            db::lock_volunteer(txn, volunteer_id).await?;
            let current = self.view(super::in_scope(txn, &coordinator.scope, case_id).await?)?;
            if let Err(refusal) = still_active(&current) {
                return Ok(Err(refusal));
            }
            let sealed = note
                .as_deref()
                .map(|note| self.keys.cipher.encrypt(note, registry::DONATION_CASE_END_NOTE.at(case_id)));
            close(txn, case_id, current.stage, input.by, input.cause, sealed, late_regret, now).await?;
            let model = self.volunteers.find_model_on(txn, volunteer_id).await?;
            let rest = Some(today + Duration::days(rules.max_pause_days));
            let follows = match (input.by, input.cause) {
                (_, EndCause::LostContact) => {
                    Some((DonorStatus::TemporarilyUnavailable, Some(StatusReason::UnableToContact), None))
                }
                (EndedBy::Donor | EndedBy::Registry, EndCause::Health) => {
                    Some((DonorStatus::TemporarilyUnavailable, Some(StatusReason::Medical), rest))
                }
                (EndedBy::Donor, _) => Some((DonorStatus::TemporarilyUnavailable, Some(StatusReason::Personal), rest)),
                // Not the donor's doing: a volunteer the case reserved returns to the register.
                _ if model.status == DonorStatus::ReservedForThisPatient => {
                    Some((returning_status(&model), None, None))
                }
                _ => None,
            };
            if let Some((status, reason, until)) = follows {
                let change = StatusChange {
                    status,
                    reason,
                    until,
                    confirms: false,
                    by: Some(actor),
                    source: "case.ended",
                    note: None,
                };
                self.status.change(txn, &[volunteer_id], &change, now).await?;
            }
            if late_regret {
                alerts::raise(txn, &case.branch_code, Some(volunteer_id), AlertKind::LateRegret).await?;
            }
            let entry = AuditEntry {
                subject: Some(("donation_case", case_id)),
                detail: Some(format!("{}/{}/{}", current.stage.as_str(), input.by.as_str(), input.cause.as_str())),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::CaseEnded, entry).await?;
            let mut told = self.green_channel.withdraw_for_case(txn, case_id).await?;
            if let Some(hospital_id) = current.requesting_hospital_id {
                let data = serde_json::json!({
                    "caseId": case_id.to_string(),
                    "endedStage": current.stage.as_str(),
                    "endedBy": input.by.as_str(),
                    "cause": input.cause.as_str(),
                });
                told |= self
                    .green_channel
                    .tell_hospital(txn, hospital_id, &case.branch_code, EventType::CaseEnded, data)
                    .await?;
            }
            Ok(Ok((super::in_scope(txn, &coordinator.scope, case_id).await?, told)))
        })??;
        self.green_channel.after_commit(updated.1);
        self.view(updated.0)
    }

    /// The attempts on the case that failed to reach the donor.
    pub(super) async fn failed_attempts(&self, case_id: Uuid) -> AppResult<u64> {
        let failed: Vec<&str> = AttemptOutcome::ALL
            .iter()
            .filter(|outcome| outcome.failed_to_reach())
            .map(|outcome| outcome.as_str())
            .collect();
        Ok(contact_attempt::Entity::find()
            .filter(contact_attempt::Column::CaseId.eq(case_id))
            .filter(contact_attempt::Column::Outcome.is_in(failed))
            .count(&self.db)
            .await?)
    }

    /// Puts the step in the donor's notification list, on the step's transaction.
    async fn tell_donor(
        &self,
        txn: &DatabaseTransaction,
        case: &CaseView,
        volunteer_id: Uuid,
        stage: Stage,
    ) -> AppResult<()> {
        let step = stage.explained().title_zh.to_owned();
        let message = NewMessage {
            recipient: Recipient::AppInbox { volunteer_id },
            volunteer_id: Some(volunteer_id),
            branch_code: case.branch_code.clone(),
            template_key: "case_step_done".into(),
            locale: "zh-CN".into(),
            variables: BTreeMap::from([("step".to_owned(), step)]),
            dedupe_key: format!("case_step:{}:{}", case.id, stage.as_str()),
            campaign_id: None,
        };
        self.messaging.queue(txn, message).await?;
        Ok(())
    }
}

/// Ends the volunteer's active case as they withdraw (only one still at its search hit can be:
/// from confirmatory typing on, withdrawal in the app is refused). The coordinator is alerted;
/// the erasure that follows unlinks the case. On the withdrawal's transaction.
///
/// # Errors
/// The database failed.
pub async fn end_on_withdrawal(
    txn: &DatabaseTransaction,
    model: &volunteer::Model,
    cause: WithdrawalCause,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let active: Option<donation_case::Model> = donation_case::Entity::find()
        .filter(donation_case::Column::VolunteerId.eq(model.id))
        .filter(donation_case::Column::State.eq(CaseState::Active.as_str()))
        .one(txn)
        .await?;
    let Some(active) = active else { return Ok(()) };
    let stage = Stage::parse(&active.stage).unwrap_or(Stage::SearchHit);
    let end_cause = match cause {
        WithdrawalCause::Family => EndCause::Family,
        WithdrawalCause::Work => EndCause::Work,
        WithdrawalCause::Health => EndCause::Health,
        WithdrawalCause::Fear => EndCause::Fear,
        WithdrawalCause::Moved | WithdrawalCause::Personal => EndCause::Personal,
        WithdrawalCause::Other => EndCause::Other,
    };
    close(txn, active.id, stage, EndedBy::Donor, end_cause, None, stage.is_late(), now).await?;
    alerts::raise(txn, &model.branch_code, Some(model.id), AlertKind::WithdrawalDuringCase).await
}

/// Marks case `id` ended at `stage`.
#[allow(clippy::too_many_arguments)] // the end's five facts, and where and when
async fn close(
    txn: &DatabaseTransaction,
    id: Uuid,
    stage: Stage,
    by: EndedBy,
    cause: EndCause,
    note: Option<Vec<u8>>,
    late_regret: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    donation_case::Entity::update_many()
        .col_expr(donation_case::Column::State, Expr::value(CaseState::Ended.as_str()))
        .col_expr(donation_case::Column::EndedAt, Expr::value(now))
        .col_expr(donation_case::Column::EndedStage, Expr::value(stage.as_str()))
        .col_expr(donation_case::Column::EndedBy, Expr::value(by.as_str()))
        .col_expr(donation_case::Column::EndCause, Expr::value(cause.as_str()))
        .col_expr(donation_case::Column::EndNote, Expr::value(note))
        .col_expr(donation_case::Column::LateRegret, Expr::value(late_regret))
        .col_expr(donation_case::Column::StageDueAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(donation_case::Column::UpdatedAt, Expr::value(now))
        .filter(donation_case::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Whether `stage` on `on` is the case's next step.
fn check_move(case: &CaseView, stage: Stage, on: NaiveDate) -> AppResult<()> {
    if case.state != CaseState::Active {
        return Err(AppError::Conflict {
            field: "input.stage".into(),
            message: format!("the case is {}, at {}", case.state.as_str(), case.stage.as_str()),
        });
    }
    if stage.rank() <= case.stage.rank() {
        return Err(AppError::Conflict {
            field: "input.stage".into(),
            message: format!("the case is already at {}", case.stage.as_str()),
        });
    }
    let next = case.stage.next(case.product);
    if next != Some(stage) {
        let next = next.map_or("nothing", Stage::as_str);
        return Err(AppError::invalid(
            "input.stage",
            format!("is not the next step: after {} comes {next}", case.stage.as_str()),
        ));
    }
    if on < case.stage_on {
        return Err(AppError::invalid(
            "input.on",
            format!("must not be before the previous step, on {}", case.stage_on),
        ));
    }
    Ok(())
}

fn still_active(case: &CaseView) -> AppResult<()> {
    if case.state == CaseState::Active {
        Ok(())
    } else {
        Err(AppError::Conflict {
            field: "caseId".into(),
            message: format!("the case is {}, at {}", case.state.as_str(), case.stage.as_str()),
        })
    }
}

/// When the case's oldest open family concern was raised, if one is open.
async fn open_concern(txn: &DatabaseTransaction, case_id: Uuid) -> AppResult<Option<DateTime<Utc>>> {
    let concern = case_request::Entity::find()
        .filter(case_request::Column::CaseId.eq(case_id))
        .filter(case_request::Column::Kind.eq(RequestKind::FamilyConcern.as_str()))
        .filter(case_request::Column::ResolvedAt.is_null())
        .order_by_asc(case_request::Column::RaisedAt)
        .one(txn)
        .await?;
    Ok(concern.map(|concern| concern.raised_at))
}
