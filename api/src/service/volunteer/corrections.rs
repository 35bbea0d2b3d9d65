//! Coordinators' decisions on a record: its donor status with an EMDIS reason, and corrections
//! of what the volunteer or a recruiter got wrong. Each is audited, names the fields it touched
//! and never their values.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use entity::volunteer::{self, DonorStatus, HlaResolution, StatusReason};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveEnum, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, UpdateMany};
use uuid::Uuid;

use super::availability::{local_today, returning_status, tombstone};
use super::records::{VolunteerService, VolunteerView, index_name_prefixes, name_index};
use super::status::{Change, StatusLog};
use crate::db;
use crate::domain::contact::short_text;
use crate::domain::{BloodGroup, NationalId, PersonName, Sex};
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::cases;
use crate::service::{Coordinator, Principal};

/// Longest note on a status decision, in characters.
const MAX_NOTE_CHARS: usize = 500;
/// Furthest a coordinator may set a TU's end: two years.
const MAX_TU_DAYS: i64 = 730;

/// A status a coordinator sets. RS and OP belong to donation cases, so they are not here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffStatus {
    /// AV once HLA typed, else back to PENDING.
    Available,
    TemporarilyUnavailable {
        reason: StatusReason,
        until: Option<NaiveDate>,
    },
    /// Off the register for good: a tombstone stays, personal data goes.
    Deleted {
        reason: StatusReason,
    },
}

impl StaffStatus {
    /// The status a coordinator asks for, from its EMDIS parts.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `status` for PENDING, RS and OP (the register and donation cases set
    /// those), on `reason` when missing or not allowed, on `until` where it has no meaning.
    pub fn from_parts(status: DonorStatus, reason: Option<StatusReason>, until: Option<NaiveDate>) -> AppResult<Self> {
        match (status, reason, until) {
            (DonorStatus::Available, None, None) => Ok(Self::Available),
            (DonorStatus::Available, Some(_), _) => Err(AppError::invalid("reason", "AV takes no reason")),
            (DonorStatus::Available, None, Some(_)) => Err(AppError::invalid("until", "AV takes no end date")),
            (DonorStatus::TemporarilyUnavailable, Some(reason), until) => {
                Ok(Self::TemporarilyUnavailable { reason, until })
            }
            (DonorStatus::Deleted, Some(reason), None) => Ok(Self::Deleted { reason }),
            (DonorStatus::Deleted, Some(_), Some(_)) => Err(AppError::invalid("until", "DE is permanent")),
            (DonorStatus::TemporarilyUnavailable | DonorStatus::Deleted, None, _) => {
                Err(AppError::invalid("reason", "give the EMDIS reason"))
            }
            (
                DonorStatus::Pending | DonorStatus::ReservedForThisPatient | DonorStatus::ReservedForAnotherPatient,
                ..,
            ) => Err(AppError::invalid(
                "status",
                "PENDING follows the HLA typing and RS/OP follow donation cases; set AV, TU or DE",
            )),
        }
    }
}

/// Corrections to a record; what is `None` stays as it is.
#[derive(Clone, Debug, Default)]
pub struct Correction {
    pub name: Option<PersonName>,
    pub national_id: Option<NationalId>,
    pub city: Option<String>,
    pub blood_group: Option<BloodGroup>,
    pub occupation: Option<String>,
    pub hla_resolution: Option<HlaResolution>,
}

#[derive(Clone, Debug)]
pub struct CorrectionService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    status: StatusLog,
}

impl CorrectionService {
    pub(crate) fn new(db: DatabaseConnection, keys: Arc<KeyRing>, volunteers: VolunteerService) -> Self {
        Self { status: StatusLog::new(Arc::clone(&keys)), db, keys, volunteers }
    }

    /// Sets a volunteer's status with its EMDIS reason and a note, recorded in the status
    /// history and the audit trail. DE removes the volunteer from the register: a tombstone
    /// keeps the reason and the dates, personal data is erased. Returns the record, or `None`
    /// once deleted.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `reason`, `until` or `note`; CONFLICT on `status` for AV before HLA
    /// typing, or while an active donation case reserves the volunteer; NOT_FOUND; FORBIDDEN for
    /// another branch's volunteer.
    pub async fn set_status(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        id: Uuid,
        status: StaffStatus,
        note: Option<&str>,
        request_id: Option<&str>,
    ) -> AppResult<Option<VolunteerView>> {
        let note = note.map(|note| short_text(note, MAX_NOTE_CHARS)).transpose().map_err(AppError::field("note"))?;
        let model = self.readable(coordinator, id).await?;
        if let Some(stage) = cases::reserving_stage(&self.db, id).await? {
            return Err(AppError::Conflict {
                field: "status".into(),
                message: format!("follows an active donation case, now at {}: move or end the case", stage.as_str()),
            });
        }
        let now = Utc::now();
        let change = match status {
            StaffStatus::Available => {
                if model.hla_resolution == HlaResolution::Untyped {
                    return Err(AppError::Conflict {
                        field: "status".into(),
                        message: "is not HLA typed yet: record the typing, which makes the volunteer available".into(),
                    });
                }
                (DonorStatus::Available, None, None)
            }
            StaffStatus::TemporarilyUnavailable { reason, until } => {
                let today = local_today(&self.volunteers.branch_rules(&model.branch_code).await?, now);
                check_unavailability(reason, until, today)?;
                (DonorStatus::TemporarilyUnavailable, Some(reason), until)
            }
            StaffStatus::Deleted { reason } => {
                if note.is_none() {
                    return Err(AppError::invalid("note", "say why the volunteer leaves the register"));
                }
                db::write!(&self.db, |txn| {
                    tombstone(txn, &model, reason, "staff_decision", now).await?;
                    let entry = AuditEntry {
                        subject: Some(("volunteer", id)),
                        detail: Some(format!("DE/{}", reason.to_value())),
                        request_id,
                        ..Default::default()
                    };
                    audit::record(txn, actor, AuditAction::VolunteerStatusSet, entry).await?;
                    Ok(())
                })?;
                return Ok(None);
            }
        };
        let (status, reason, until) = change;
        db::write!(&self.db, |txn| {
            let change = Change {
                status,
                reason,
                until,
                confirms: false,
                by: Some(actor),
                source: "staff.set_status",
                note: note.as_deref(),
            };
            self.status.change(txn, &[id], &change, now).await?;
            let detail = reason
                .map_or_else(|| status.to_value(), |reason| format!("{}/{}", status.to_value(), reason.to_value()));
            let entry =
                AuditEntry { subject: Some(("volunteer", id)), detail: Some(detail), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::VolunteerStatusSet, entry).await?;
            Ok(())
        })?;
        Ok(Some(self.volunteers.get(&coordinator.reader(), id).await?))
    }

    /// Corrects a record. A new ID number must agree with itself (its birth date and sex
    /// replace the old ones) and belong to nobody else; recording HLA typing makes a pending
    /// volunteer available, and undoing it returns an available one to pending.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input` when nothing is corrected or a value is out of bounds;
    /// CONFLICT on `input.nationalId` for another volunteer's number; NOT_FOUND; FORBIDDEN.
    pub async fn correct(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        id: Uuid,
        correction: Correction,
        request_id: Option<&str>,
    ) -> AppResult<VolunteerView> {
        let (update, fields) = self.correction_update(id, &correction, Utc::now())?;
        let model = self.readable(coordinator, id).await?;
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            update.clone().exec(txn).await.map_err(|err| {
                let taken =
                    AppError::Conflict { field: "input.nationalId".into(), message: "is another volunteer's".into() };
                AppError::on_constraint(err, Some(taken), None)
            })?;
            if let Some(name) = &correction.name {
                index_name_prefixes(txn, &self.keys, id, name).await?;
            }
            if let Some(resolution) = correction.hla_resolution {
                let typed = resolution != HlaResolution::Untyped;
                let follows = match model.status {
                    DonorStatus::Pending if typed => Some(DonorStatus::Available),
                    DonorStatus::Available if !typed => Some(DonorStatus::Pending),
                    _ => None,
                };
                if let Some(status) = follows {
                    let change = Change {
                        status,
                        reason: None,
                        until: None,
                        confirms: false,
                        by: Some(actor),
                        source: "staff.hla_typing",
                        note: None,
                    };
                    self.status.change(txn, &[id], &change, now).await?;
                }
            }
            let entry = AuditEntry {
                subject: Some(("volunteer", id)),
                detail: Some(fields.join(",")),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::VolunteerCorrected, entry).await?;
            Ok(())
        })?;
        self.volunteers.get(&coordinator.reader(), id).await
    }

    /// The update a correction makes, and the names of the fields it touches.
    fn correction_update(
        &self,
        id: Uuid,
        correction: &Correction,
        now: chrono::DateTime<Utc>,
    ) -> AppResult<(UpdateMany<volunteer::Entity>, Vec<&'static str>)> {
        let checked = |value: &Option<String>, field: &'static str| {
            value.as_deref().map(|value| short_text(value, 50)).transpose().map_err(AppError::field(field))
        };
        let city = checked(&correction.city, "input.city")?;
        let occupation = checked(&correction.occupation, "input.occupation")?;
        let mut fields = Vec::new();
        let mut update = volunteer::Entity::update_many()
            .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
            .filter(volunteer::Column::Id.eq(id));
        let cipher = &self.keys.cipher;
        if let Some(name) = &correction.name {
            fields.push("name");
            update = update
                .col_expr(
                    volunteer::Column::Name,
                    Expr::value(cipher.encrypt(name.expose(), registry::VOLUNTEER_NAME.at(id))),
                )
                .col_expr(volunteer::Column::NameIndex, Expr::value(name_index(&self.keys, name)));
        }
        if let Some(national_id) = &correction.national_id {
            fields.push("national_id");
            let sex = match national_id.sex() {
                Sex::Female => volunteer::Sex::Female,
                Sex::Male => volunteer::Sex::Male,
            };
            update = update
                .col_expr(
                    volunteer::Column::NationalId,
                    Expr::value(cipher.encrypt(national_id.expose(), registry::VOLUNTEER_NATIONAL_ID.at(id))),
                )
                .col_expr(
                    volunteer::Column::NationalIdIndex,
                    Expr::value(self.keys.blind_index.national_id(national_id)),
                )
                .col_expr(volunteer::Column::BirthDate, Expr::value(national_id.birth_date()))
                .col_expr(volunteer::Column::Sex, Expr::value(sex));
        }
        if let Some(city) = city {
            fields.push("city");
            update = update.col_expr(volunteer::Column::City, Expr::value(city));
        }
        if let Some(occupation) = occupation {
            fields.push("occupation");
            update = update.col_expr(volunteer::Column::Occupation, Expr::value(occupation));
        }
        if let Some(group) = correction.blood_group {
            fields.push("blood_group");
            update = update
                .col_expr(volunteer::Column::BloodAbo, Expr::value(group.abo.as_str()))
                .col_expr(volunteer::Column::BloodRh, Expr::value(group.rh.as_str()));
        }
        if let Some(resolution) = correction.hla_resolution {
            fields.push("hla_resolution");
            update = update.col_expr(volunteer::Column::HlaResolution, Expr::value(resolution));
        }
        if fields.is_empty() {
            return Err(AppError::invalid("input", "name at least one field to correct"));
        }
        Ok((update, fields))
    }

    async fn readable(&self, coordinator: &Coordinator, id: Uuid) -> AppResult<volunteer::Model> {
        let model = self.volunteers.find_model(id).await?;
        if !coordinator.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        Ok(model)
    }
}

/// A TU's reason and end: a pause-like reason needs an end date in the future (within two
/// years); UC and UK may stay open, since they end with the next contact.
fn check_unavailability(reason: StatusReason, until: Option<NaiveDate>, today: NaiveDate) -> AppResult<()> {
    let open_ended = matches!(reason, StatusReason::UnableToContact | StatusReason::Unknown);
    match until {
        None if !open_ended => {
            Err(AppError::invalid("until", "a temporary unavailability for this reason needs its end date"))
        }
        Some(until) if until <= today => Err(AppError::invalid("until", "must be a date after today")),
        Some(until) if until > today + Duration::days(MAX_TU_DAYS) => {
            Err(AppError::invalid("until", format!("must be within {MAX_TU_DAYS} days")))
        }
        _ if matches!(reason, StatusReason::TooOld | StatusReason::Died) => {
            Err(AppError::invalid("reason", "is permanent: set DE with it"))
        }
        _ => Ok(()),
    }
}

/// The status a volunteer returns to from TU/UC when reached again.
pub(super) fn back_from_lost(model: &volunteer::Model) -> Option<DonorStatus> {
    (model.status == DonorStatus::TemporarilyUnavailable && model.status_reason == Some(StatusReason::UnableToContact))
        .then(|| returning_status(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_unavailability_needs_a_future_end_unless_it_waits_for_contact() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let tomorrow = today.succ_opt();
        assert!(check_unavailability(StatusReason::Medical, tomorrow, today).is_ok());
        assert!(check_unavailability(StatusReason::Medical, None, today).is_err());
        assert!(check_unavailability(StatusReason::Medical, Some(today), today).is_err());
        assert!(
            check_unavailability(StatusReason::Personal, today.checked_add_days(chrono::Days::new(800)), today)
                .is_err()
        );
        assert!(check_unavailability(StatusReason::UnableToContact, None, today).is_ok());
        assert!(check_unavailability(StatusReason::Died, tomorrow, today).is_err());
    }
}
