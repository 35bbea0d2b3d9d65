//! The hospital's answers: accept with a date, a department and a contact; decline with a coded
//! reason and a note; later reschedule or cancel an acceptance, giving a reason.
//!
//! Every answer runs under the hospital's idempotency key, in one transaction with the change,
//! its audit row and its webhook. A change is written only if the request is still at the
//! version it was read at, so two answers racing under different keys cannot both apply: the
//! second is CONFLICT and reads the request again.

use chrono::{DateTime, Utc};
use entity::admission_request::{self, ActiveModel, Column, Entity};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

use super::read::SealedContact;
use super::request::check_date;
use super::{AdmissionView, GreenChannel};
use crate::db;
use crate::domain::admission::{AdmissionStatus, DeclineReason};
use crate::domain::{Phone, calendar};
use crate::error::{AppError, AppResult};
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::idempotency::IdempotentCall;
use crate::service::webhooks::EventType;
use crate::service::{PartnerHospital, Principal, bounded_text};

/// The longest note or reason, in characters.
const MAX_NOTE_CHARS: usize = 500;

/// An acceptance (FHIR: the `Appointment`).
#[derive(Clone, Debug, Serialize)]
pub struct Acceptance {
    pub request_id: Uuid,
    pub admitted_on: chrono::NaiveDate,
    pub department: String,
    pub contact_name: String,
    pub contact_phone: String,
}

/// A decline, with its coded reason.
#[derive(Clone, Debug, Serialize)]
pub struct Decline {
    pub request_id: Uuid,
    pub reason: DeclineReason,
    pub note: String,
}

/// A new date for an accepted admission.
#[derive(Clone, Debug, Serialize)]
pub struct Reschedule {
    pub request_id: Uuid,
    pub admitted_on: chrono::NaiveDate,
    pub reason: String,
}

/// The hospital withdrawing its acceptance.
#[derive(Clone, Debug, Serialize)]
pub struct Cancellation {
    pub request_id: Uuid,
    pub reason: String,
}

/// What an answer does to the row it found: the changed row and what the hospital's system
/// hears, or the refusal.
type Change<'a> =
    dyn Fn(&admission_request::Model, DateTime<Utc>) -> AppResult<(ActiveModel, EventType)> + Send + Sync + 'a;

impl GreenChannel {
    /// Accepts a request: the donor's identity is released to this hospital from now on.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field; NOT_FOUND for an unknown or another hospital's
    /// request; CONFLICT on `input.requestId` when it is not waiting for an answer, or on
    /// `idempotencyKey`.
    pub async fn accept(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        key: &str,
        input: Acceptance,
        request_id: Option<&str>,
    ) -> AppResult<AdmissionView> {
        let call = IdempotentCall::new(hospital, key, "acceptAdmission", &input)?;
        check_date("input.admittedOn", input.admitted_on, calendar::today(Utc::now()))?;
        let department = bounded_text("input.department", &input.department, 100)?;
        let name = bounded_text("input.contactName", &input.contact_name, 50)?;
        let phone = Phone::parse(&input.contact_phone).map_err(AppError::field("input.contactPhone"))?;
        let contact = serde_json::to_string(&SealedContact { name, phone: phone.expose().to_owned() })
            .map_err(AppError::internal)?;
        let change = |row: &admission_request::Model, now| {
            waiting(row)?;
            let mut model: ActiveModel = row.clone().into();
            model.status = Set(AdmissionStatus::Accepted.as_str().to_owned());
            model.answered_at = Set(Some(now));
            model.answered_late = Set(now > row.answer_due_at);
            model.admitted_on = Set(Some(input.admitted_on));
            model.department = Set(Some(department.clone()));
            model.contact =
                Set(Some(self.keys.cipher.encrypt(&contact, registry::ADMISSION_REQUEST_CONTACT.at(row.id))));
            Ok((model, EventType::AdmissionChanged))
        };
        self.answer(hospital, actor, &call, input.request_id, AuditAction::AdmissionAccepted, &change, request_id).await
    }

    /// Declines a request with a coded reason and a note.
    ///
    /// # Errors
    /// As [`Self::accept`].
    pub async fn decline(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        key: &str,
        input: Decline,
        request_id: Option<&str>,
    ) -> AppResult<AdmissionView> {
        let call = IdempotentCall::new(hospital, key, "declineAdmission", &input)?;
        let note = bounded_text("input.note", &input.note, MAX_NOTE_CHARS)?;
        let change = |row: &admission_request::Model, now| {
            waiting(row)?;
            let mut model: ActiveModel = row.clone().into();
            model.status = Set(AdmissionStatus::Declined.as_str().to_owned());
            model.answered_at = Set(Some(now));
            model.answered_late = Set(now > row.answer_due_at);
            model.decline_reason = Set(Some(input.reason.as_str().to_owned()));
            model.note = Set(Some(self.keys.cipher.encrypt(&note, registry::ADMISSION_REQUEST_NOTE.at(row.id))));
            model.closed_at = Set(Some(now));
            Ok((model, EventType::AdmissionChanged))
        };
        self.answer(hospital, actor, &call, input.request_id, AuditAction::AdmissionDeclined, &change, request_id).await
    }

    /// Moves an accepted admission to another date, giving a reason.
    ///
    /// # Errors
    /// As [`Self::accept`]; CONFLICT on `input.requestId` unless the request is accepted.
    pub async fn reschedule(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        key: &str,
        input: Reschedule,
        request_id: Option<&str>,
    ) -> AppResult<AdmissionView> {
        let call = IdempotentCall::new(hospital, key, "rescheduleAdmission", &input)?;
        check_date("input.admittedOn", input.admitted_on, calendar::today(Utc::now()))?;
        let reason = bounded_text("input.reason", &input.reason, MAX_NOTE_CHARS)?;
        let change = |row: &admission_request::Model, _now| {
            accepted(row)?;
            let mut model: ActiveModel = row.clone().into();
            model.admitted_on = Set(Some(input.admitted_on));
            model.note = Set(Some(self.keys.cipher.encrypt(&reason, registry::ADMISSION_REQUEST_NOTE.at(row.id))));
            Ok((model, EventType::AdmissionChanged))
        };
        self.answer(hospital, actor, &call, input.request_id, AuditAction::AdmissionRescheduled, &change, request_id)
            .await
    }

    /// Withdraws the hospital's acceptance, giving a reason; the coordinator re-routes.
    ///
    /// # Errors
    /// As [`Self::reschedule`].
    pub async fn cancel(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        key: &str,
        input: Cancellation,
        request_id: Option<&str>,
    ) -> AppResult<AdmissionView> {
        let call = IdempotentCall::new(hospital, key, "cancelAdmission", &input)?;
        let reason = bounded_text("input.reason", &input.reason, MAX_NOTE_CHARS)?;
        let change = |row: &admission_request::Model, now| {
            accepted(row)?;
            let mut model: ActiveModel = row.clone().into();
            model.status = Set(AdmissionStatus::Cancelled.as_str().to_owned());
            model.note = Set(Some(self.keys.cipher.encrypt(&reason, registry::ADMISSION_REQUEST_NOTE.at(row.id))));
            model.closed_at = Set(Some(now));
            Ok((model, EventType::AdmissionCancelled))
        };
        self.answer(hospital, actor, &call, input.request_id, AuditAction::AdmissionCancelled, &change, request_id)
            .await
    }

    /// One answer: the key claimed, the change applied at the version read, the audit row, the
    /// webhook and the stored answer, in one transaction; or the first answer replayed.
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        call: &IdempotentCall,
        id: Uuid,
        action: AuditAction,
        change: &Change<'_>,
        request_id: Option<&str>,
    ) -> AppResult<AdmissionView> {
        let (view, told) = db::write!(&self.db, |txn| {
            let now = Utc::now();
            let (view, told) = call
                .once(txn, &self.keys, now, || async move {
                    let row = self.own_request(txn, hospital, id).await?;
                    let (mut model, event) = change(&row, now)?;
                    model.version = Set(row.version + 1);
                    model.updated_at = Set(now);
                    let applied = Entity::update_many()
                        .set(model)
                        .filter(Column::Id.eq(row.id))
                        .filter(Column::Version.eq(row.version))
                        .exec(txn)
                        .await?;
                    if applied.rows_affected != 1 {
                        return Err(AppError::Conflict {
                            field: "input.requestId".into(),
                            message: "the request changed meanwhile: read it again".into(),
                        });
                    }
                    let row = Entity::find_by_id(row.id).one(txn).await?.ok_or(AppError::Contended)?;
                    let entry =
                        AuditEntry { subject: Some(("admission_request", row.id)), request_id, ..Default::default() };
                    audit::record(txn, actor, action, entry).await?;
                    let told = self.tell(txn, &row, event).await?;
                    Ok((self.one_view_on(txn, row).await?, told))
                })
                .await?;
            Ok((view, told.unwrap_or(false)))
        })?;
        self.after_commit(told);
        Ok(view)
    }
}

/// A request still waiting for its answer.
fn waiting(row: &admission_request::Model) -> AppResult<()> {
    if row.status == AdmissionStatus::Requested.as_str() {
        Ok(())
    } else {
        Err(AppError::Conflict {
            field: "input.requestId".into(),
            message: format!("the request is {}: it no longer waits for an answer", row.status),
        })
    }
}

/// A request the hospital accepted.
fn accepted(row: &admission_request::Model) -> AppResult<()> {
    if row.status == AdmissionStatus::Accepted.as_str() {
        Ok(())
    } else {
        Err(AppError::Conflict {
            field: "input.requestId".into(),
            message: format!("the request is {}: only an accepted admission changes", row.status),
        })
    }
}
