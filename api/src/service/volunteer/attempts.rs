//! Staff's attempts to reach a volunteer: each logged with its channel, outcome and a note, and
//! a wrong or dead number marked invalid on the contact it was, so that nobody dials it again.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::contact_attempt;
use entity::volunteer::{self, DonorStatus, StatusReason};
use entity::volunteer_contact::{self, ContactKind};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::corrections::back_from_lost;
use super::grouped;
use super::records::VolunteerService;
use super::status::{Change, StatusLog};
use crate::db;
use crate::domain::contact::short_text;
use crate::domain::{AttemptChannel, AttemptOutcome};
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{Principal, VolunteerReader};

/// Longest note, in characters.
const MAX_NOTE_CHARS: usize = 500;
/// Most attempts one read returns, newest first.
pub const MAX_ATTEMPTS: u64 = 100;

/// An attempt to log.
#[derive(Clone, Debug)]
pub struct NewAttempt {
    pub channel: AttemptChannel,
    pub outcome: AttemptOutcome,
    /// Which of the volunteer's own contacts was tried, if one was.
    pub contact: Option<ContactKind>,
    pub note: Option<String>,
    /// The donation case the attempt is for, when one is: the case counts its failures.
    pub case_id: Option<Uuid>,
}

/// An attempt as staff read it.
#[derive(Clone, Debug)]
pub struct AttemptView {
    pub id: Uuid,
    pub channel: AttemptChannel,
    pub outcome: AttemptOutcome,
    pub contact_kind: Option<ContactKind>,
    pub note: Option<String>,
    pub staff_id: Uuid,
    pub attempted_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct ContactAttemptService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    status: StatusLog,
}

impl ContactAttemptService {
    pub(crate) fn new(db: DatabaseConnection, keys: Arc<KeyRing>, volunteers: VolunteerService) -> Self {
        Self { status: StatusLog::new(Arc::clone(&keys)), db, keys, volunteers }
    }

    /// Logs an attempt, audited. A wrong number or a number not in service marks the contact
    /// tried invalid. Reaching the volunteer confirms the record (the contact works), and
    /// returns a volunteer marked lost (TU/UC) to the register.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.note`; NOT_FOUND for an unknown volunteer; FORBIDDEN for
    /// another branch's.
    pub async fn log(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        volunteer_id: Uuid,
        attempt: NewAttempt,
        request_id: Option<&str>,
    ) -> AppResult<AttemptView> {
        let note = checked_note(&attempt)?;
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let model = self.volunteers.find_model(volunteer_id).await?;
        if !reader.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        let id = Uuid::now_v7();
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            self.record_in(txn, actor, &model, id, &attempt, note.as_deref(), now, request_id).await
        })?;
        Ok(AttemptView {
            id,
            channel: attempt.channel,
            outcome: attempt.outcome,
            contact_kind: attempt.contact,
            note,
            staff_id: *staff_id,
            attempted_at: now,
        })
    }

    /// Writes an attempt on `txn` (the caller's transaction), with what it implies: a contact
    /// marked invalid, or a volunteer reached and so confirmed (and back from lost). Audited.
    ///
    /// # Errors
    /// The database failed.
    #[allow(clippy::too_many_arguments)] // the attempt, and who, when and in which request
    pub(crate) async fn record_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &Principal,
        model: &volunteer::Model,
        id: Uuid,
        attempt: &NewAttempt,
        note: Option<&str>,
        now: DateTime<Utc>,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let staff_id = *staff_id;
        contact_attempt::ActiveModel {
            id: Set(id),
            volunteer_id: Set(model.id),
            branch_code: Set(model.branch_code.clone()),
            staff_id: Set(staff_id),
            channel: Set(attempt.channel.as_str().into()),
            outcome: Set(attempt.outcome.as_str().into()),
            contact_kind: Set(attempt.contact.map(|kind| kind.to_value())),
            note: Set(note.map(|note| self.keys.cipher.encrypt(note, registry::CONTACT_ATTEMPT_NOTE.at(id)))),
            attempted_at: Set(now),
            case_id: Set(attempt.case_id),
        }
        .insert(txn)
        .await?;
        if let Some(kind) = attempt.contact.filter(|_| attempt.outcome.invalidates_contact()) {
            volunteer_contact::Entity::update_many()
                .col_expr(volunteer_contact::Column::InvalidAt, Expr::value(now))
                .filter(volunteer_contact::Column::VolunteerId.eq(model.id))
                .filter(volunteer_contact::Column::Kind.eq(kind))
                .filter(volunteer_contact::Column::EndedAt.is_null())
                .filter(volunteer_contact::Column::InvalidAt.is_null())
                .exec(txn)
                .await?;
        }
        if attempt.outcome == AttemptOutcome::Reached {
            match back_from_lost(model) {
                Some(status) => {
                    let change = Change {
                        status,
                        reason: None,
                        until: None,
                        confirms: true,
                        by: Some(actor),
                        source: "staff.reached",
                        note: None,
                    };
                    self.status.change(txn, &[model.id], &change, now).await?;
                }
                None => {
                    volunteer::Entity::update_many()
                        .col_expr(volunteer::Column::LastConfirmedAt, Expr::value(now))
                        .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
                        .filter(volunteer::Column::Id.eq(model.id))
                        .exec(txn)
                        .await?;
                }
            }
        }
        let entry = AuditEntry {
            subject: Some(("volunteer", model.id)),
            detail: Some(format!("{}/{}", attempt.channel.as_str(), attempt.outcome.as_str())),
            request_id,
            ..Default::default()
        };
        audit::record(txn, actor, AuditAction::VolunteerContactAttempt, entry).await?;
        Ok(())
    }

    /// Marks a volunteer lost (TU/UC) once the branch's number of attempts within its window
    /// failed to reach them; they leave the work queue, and the next successful contact (an
    /// attempt that reaches them, a reply, a confirmation in the app) returns them.
    ///
    /// # Errors
    /// CONFLICT on `volunteerId` before enough failed attempts, or for a volunteer who is not
    /// available or pending (already lost, paused, reserved); NOT_FOUND; FORBIDDEN.
    pub async fn mark_lost(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        volunteer_id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let model = self.volunteers.find_model(volunteer_id).await?;
        if !reader.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        if !matches!(model.status, DonorStatus::Available | DonorStatus::Pending) {
            return Err(AppError::Conflict {
                field: "volunteerId".into(),
                message: "only an available or pending volunteer can be marked lost".into(),
            });
        }
        let rules = self.volunteers.branch_rules(&model.branch_code).await?;
        let now = Utc::now();
        let failed = self.failed_attempts(volunteer_id, now - Duration::days(rules.lost_attempt_window_days)).await?;
        if failed < rules.lost_after_attempts {
            return Err(AppError::Conflict {
                field: "volunteerId".into(),
                message: format!(
                    "{failed} failed attempts in the last {} days; the branch marks a volunteer lost after {}",
                    rules.lost_attempt_window_days, rules.lost_after_attempts
                ),
            });
        }
        db::write!(&self.db, |txn| {
            let change = Change {
                status: DonorStatus::TemporarilyUnavailable,
                reason: Some(StatusReason::UnableToContact),
                until: None,
                confirms: false,
                by: Some(actor),
                source: "staff.mark_lost",
                note: None,
            };
            self.status.change(txn, &[volunteer_id], &change, now).await?;
            let entry = AuditEntry {
                subject: Some(("volunteer", volunteer_id)),
                detail: Some(format!("{failed} failed attempts")),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::VolunteerMarkedLost, entry).await?;
            Ok(())
        })
    }

    /// Attempts since `since` that failed to reach the volunteer.
    async fn failed_attempts(&self, volunteer_id: Uuid, since: DateTime<Utc>) -> AppResult<u64> {
        let failed: Vec<&str> = AttemptOutcome::ALL
            .iter()
            .filter(|outcome| outcome.failed_to_reach())
            .map(|outcome| outcome.as_str())
            .collect();
        contact_attempt::Entity::find()
            .filter(contact_attempt::Column::VolunteerId.eq(volunteer_id))
            .filter(contact_attempt::Column::AttemptedAt.gte(since))
            .filter(contact_attempt::Column::Outcome.is_in(failed))
            .count(&self.db)
            .await
            .map_err(AppError::from)
    }

    /// The latest attempts on each volunteer of `ids` (at most [`MAX_ATTEMPTS`] each), newest
    /// first. Attempts are staff's own actions, a handful per volunteer, so one statement reads
    /// them all and the cut is made here.
    ///
    /// # Errors
    /// The database failed.
    pub async fn attempts_of(&self, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<AttemptView>>> {
        let rows = contact_attempt::Entity::find()
            .filter(contact_attempt::Column::VolunteerId.is_in(ids.iter().copied()))
            .order_by_desc(contact_attempt::Column::AttemptedAt)
            .all(&self.db)
            .await?;
        let mut attempts = grouped(rows, |row| row.volunteer_id, |row| self.view(row))?;
        for list in attempts.values_mut() {
            list.truncate(usize::try_from(MAX_ATTEMPTS).unwrap_or(usize::MAX));
        }
        Ok(attempts)
    }

    /// The attempts on a donation case, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn attempts_on_case(&self, case_id: Uuid) -> AppResult<Vec<AttemptView>> {
        contact_attempt::Entity::find()
            .filter(contact_attempt::Column::CaseId.eq(case_id))
            .order_by_desc(contact_attempt::Column::AttemptedAt)
            .limit(MAX_ATTEMPTS)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| self.view(row))
            .collect()
    }

    fn view(&self, row: contact_attempt::Model) -> AppResult<AttemptView> {
        let note = row
            .note
            .as_ref()
            .map(|sealed| self.keys.cipher.decrypt(sealed, registry::CONTACT_ATTEMPT_NOTE.at(row.id)))
            .transpose()
            .map_err(AppError::internal)?;
        Ok(AttemptView {
            id: row.id,
            channel: AttemptChannel::parse(&row.channel).unwrap_or(AttemptChannel::PhoneCall),
            outcome: AttemptOutcome::parse(&row.outcome).unwrap_or(AttemptOutcome::NoAnswer),
            contact_kind: row.contact_kind.and_then(|stored| ContactKind::try_from_value(&stored).ok()),
            note,
            staff_id: row.staff_id,
            attempted_at: row.attempted_at,
        })
    }
}

/// The attempt's note, checked: when given, neither empty nor too long.
///
/// # Errors
/// BAD_USER_INPUT on `input.note`.
pub fn checked_note(attempt: &NewAttempt) -> AppResult<Option<String>> {
    attempt
        .note
        .as_deref()
        .map(|note| short_text(note, MAX_NOTE_CHARS))
        .transpose()
        .map_err(AppError::field("input.note"))
}
