//! The coordinator's side: asking a hospital to admit a donor, re-routing an unanswered or
//! declined request to another hospital, and withdrawing open requests when a case ends.

use chrono::{Duration, NaiveDate, Utc};
use entity::{admission_request, branch, donation_case, hospital};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{AdmissionView, DATE_WINDOW_DAYS, GreenChannel, MAX_ANSWER_HOURS, MAX_STAY_DAYS};
use crate::db;
use crate::domain::admission::{AdmissionPurpose, AdmissionStatus};
use crate::domain::calendar;
use crate::domain::donation::CaseState;
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::webhooks::EventType;
use crate::service::{Coordinator, Principal};

/// What a coordinator asks of a hospital (EMDIS's workup request, FHIR's `ServiceRequest`).
#[derive(Clone, Debug)]
pub struct NewAdmission {
    pub case_id: Uuid,
    pub hospital_id: Uuid,
    pub purpose: AdmissionPurpose,
    pub proposed_on: NaiveDate,
    /// Up to two other dates that would do.
    pub alternatives: Vec<NaiveDate>,
    pub stay_days: i32,
    /// The branch's default when not given.
    pub answer_within_hours: Option<i32>,
}

impl GreenChannel {
    /// Asks a partner hospital to admit the donor of an active case, and tells its system.
    ///
    /// # Errors
    /// - BAD_USER_INPUT naming the field: a date before today or past the window, more than two
    ///   alternatives, a stay or deadline out of range, an unknown or disabled hospital;
    /// - NOT_FOUND for an unknown case, FORBIDDEN for another branch's;
    /// - CONFLICT on `input.caseId` when the case is not active, its stage does not fit the
    ///   purpose, or a request for the purpose is already open.
    pub async fn request(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        input: NewAdmission,
        request_id: Option<&str>,
    ) -> AppResult<AdmissionView> {
        let now = Utc::now();
        check_dates(&input, calendar::today(now))?;
        let hours = input.answer_within_hours;
        if hours.is_some_and(|hours| !(1..=MAX_ANSWER_HOURS).contains(&i64::from(hours))) {
            return Err(AppError::invalid("input.answerWithinHours", format!("must be 1 to {MAX_ANSWER_HOURS}")));
        }
        let queued = db::write!(&self.db, |txn| {
            let case = self.active_case(txn, coordinator, input.case_id, input.purpose).await?;
            let hospital = partner(txn, input.hospital_id, "input.hospitalId").await?;
            let hours = match hours {
                Some(hours) => i64::from(hours),
                None => default_hours(txn, &case.branch_code).await?,
            };
            let request = self.insert(txn, actor, &case, &hospital, &input, hours, None).await?;
            let entry = AuditEntry {
                subject: Some(("admission_request", request.id)),
                detail: Some(format!("{} at hospital {}", input.purpose.as_str(), hospital.id)),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::AdmissionRequested, entry).await?;
            let told = self.tell(txn, &request, EventType::AdmissionRequested).await?;
            Ok((request.id, told))
        })?;
        self.after_commit(queued.1);
        self.staff_view(coordinator.scope.clone(), queued.0).await
    }

    /// Re-routes a request that is waiting, declined or cancelled to another hospital in one
    /// step: the old request is cancelled (its hospital is told), and a new one with the same
    /// dates and a fresh deadline names it in `rerouted_from`, so the history stays whole.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown request, FORBIDDEN for another branch's; BAD_USER_INPUT on
    /// `hospitalId` for an unknown hospital or the same one; CONFLICT on `requestId` for an
    /// accepted request (cancel it with the hospital first) or a case no longer active.
    pub async fn reroute(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        request_id_to_move: Uuid,
        hospital_id: Uuid,
        answer_within_hours: Option<i32>,
        request_id: Option<&str>,
    ) -> AppResult<AdmissionView> {
        if answer_within_hours.is_some_and(|hours| !(1..=MAX_ANSWER_HOURS).contains(&i64::from(hours))) {
            return Err(AppError::invalid("answerWithinHours", format!("must be 1 to {MAX_ANSWER_HOURS}")));
        }
        let (new_id, told) = db::write!(&self.db, |txn| {
            let old = admission_request::Entity::find_by_id(request_id_to_move)
                .one(txn)
                .await?
                .ok_or(AppError::NotFound { resource: "admission request" })?;
            if !coordinator.scope.admits(&old.branch_code) {
                return Err(AppError::Forbidden);
            }
            if old.hospital_id == hospital_id {
                return Err(AppError::invalid("hospitalId", "must be another hospital"));
            }
            if old.status == AdmissionStatus::Accepted.as_str() {
                return Err(AppError::Conflict {
                    field: "requestId".into(),
                    message: "the hospital accepted this request: it must cancel before it is re-routed".into(),
                });
            }
            let purpose = AdmissionPurpose::parse(&old.purpose).ok_or_else(|| corrupt("purpose"))?;
            let case = self.active_case(txn, coordinator, old.case_id, purpose).await.map_err(|err| match err {
                AppError::Conflict { message, .. } => AppError::Conflict { field: "requestId".into(), message },
                other => other,
            })?;
            let hospital = partner(txn, hospital_id, "hospitalId").await?;
            let now = Utc::now();
            let mut told = false;
            if old.status == AdmissionStatus::Requested.as_str() {
                let closed = close(txn, &old, AdmissionStatus::Cancelled, now).await?;
                told |= self.tell(txn, &closed, EventType::AdmissionCancelled).await?;
            }
            let hours = match answer_within_hours {
                Some(hours) => i64::from(hours),
                None => default_hours(txn, &case.branch_code).await?,
            };
            let again = NewAdmission {
                case_id: old.case_id,
                hospital_id,
                purpose,
                proposed_on: old.proposed_on,
                alternatives: [old.alternative_on, old.second_alternative_on].into_iter().flatten().collect(),
                stay_days: old.stay_days,
                answer_within_hours: None,
            };
            let request = self.insert(txn, actor, &case, &hospital, &again, hours, Some(old.id)).await?;
            let entry = AuditEntry {
                subject: Some(("admission_request", request.id)),
                detail: Some(format!("re-routed from {} to hospital {}", old.id, hospital.id)),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::AdmissionRerouted, entry).await?;
            told |= self.tell(txn, &request, EventType::AdmissionRequested).await?;
            Ok((request.id, told))
        })?;
        self.after_commit(told);
        self.staff_view(coordinator.scope.clone(), new_id).await
    }

    /// Withdraws a case's open requests on `conn`, the transaction that ends the case, and tells
    /// each hospital; returns whether any hospital was told.
    ///
    /// # Errors
    /// The database failed.
    pub async fn withdraw_for_case<C: ConnectionTrait>(&self, conn: &C, case_id: Uuid) -> AppResult<bool> {
        let open = admission_request::Entity::find()
            .filter(admission_request::Column::CaseId.eq(case_id))
            .filter(
                admission_request::Column::Status
                    .is_in([AdmissionStatus::Requested.as_str(), AdmissionStatus::Accepted.as_str()]),
            )
            .all(conn)
            .await?;
        let mut told = false;
        for request in open {
            let closed = close(conn, &request, AdmissionStatus::Cancelled, Utc::now()).await?;
            told |= self.tell(conn, &closed, EventType::AdmissionCancelled).await?;
        }
        Ok(told)
    }

    /// Tells a hospital's system of a change outside its requests (a case it requested
    /// ended), on `conn`: the change's transaction.
    ///
    /// # Errors
    /// The database failed.
    pub async fn tell_hospital<C: ConnectionTrait>(
        &self,
        conn: &C,
        hospital_id: Uuid,
        branch_code: &str,
        event: EventType,
        data: serde_json::Value,
    ) -> AppResult<bool> {
        self.webhooks.emit(conn, hospital_id, branch_code, event, data).await
    }

    /// Wakes the delivery worker when the committed change queued a webhook.
    pub(crate) fn after_commit(&self, told: bool) {
        if told {
            self.webhooks.wake();
        }
    }

    /// The case, checked for this coordinator and this purpose.
    async fn active_case<C: ConnectionTrait>(
        &self,
        conn: &C,
        coordinator: &Coordinator,
        case_id: Uuid,
        purpose: AdmissionPurpose,
    ) -> AppResult<donation_case::Model> {
        let case = donation_case::Entity::find_by_id(case_id)
            .one(conn)
            .await?
            .ok_or(AppError::NotFound { resource: "case" })?;
        if !coordinator.scope.admits(&case.branch_code) {
            return Err(AppError::Forbidden);
        }
        let conflict = |message: String| AppError::Conflict { field: "input.caseId".into(), message };
        if case.state != CaseState::Active.as_str() {
            return Err(conflict(format!("the case is {}: only an active case's donor is admitted", case.state)));
        }
        let stage = crate::domain::donation::Stage::parse(&case.stage).ok_or_else(|| corrupt("stage"))?;
        if !purpose.fits(stage) {
            return Err(conflict(format!("the case is at {}, which does not call for this admission", case.stage)));
        }
        Ok(case)
    }

    /// Writes a new request (the open-request index catches a second one for the purpose).
    #[allow(clippy::too_many_arguments)]
    async fn insert<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Principal,
        case: &donation_case::Model,
        hospital: &hospital::Model,
        input: &NewAdmission,
        hours: i64,
        rerouted_from: Option<Uuid>,
    ) -> AppResult<admission_request::Model> {
        let now = Utc::now();
        let taken = AppError::Conflict {
            field: "input.purpose".into(),
            message: "a request for this admission is already open for the case".into(),
        };
        admission_request::ActiveModel {
            id: Set(Uuid::now_v7()),
            case_id: Set(case.id),
            hospital_id: Set(hospital.id),
            branch_code: Set(case.branch_code.clone()),
            purpose: Set(input.purpose.as_str().to_owned()),
            product: Set(case.product.clone()),
            proposed_on: Set(input.proposed_on),
            alternative_on: Set(input.alternatives.first().copied()),
            second_alternative_on: Set(input.alternatives.get(1).copied()),
            stay_days: Set(input.stay_days),
            status: Set(AdmissionStatus::Requested.as_str().to_owned()),
            version: Set(1),
            requested_at: Set(now),
            requested_by: Set(match actor {
                Principal::Staff { id, .. } => *id,
                _ => Uuid::nil(),
            }),
            answer_due_at: Set(now + Duration::hours(hours)),
            escalated_at: Set(None),
            answered_at: Set(None),
            answered_late: Set(false),
            admitted_on: Set(None),
            department: Set(None),
            contact: Set(None),
            decline_reason: Set(None),
            note: Set(None),
            closed_at: Set(None),
            rerouted_from: Set(rerouted_from),
            updated_at: Set(now),
        }
        .insert(conn)
        .await
        .map_err(|err| AppError::on_constraint(err, Some(taken), None))
    }
}

/// Closes an open request with `status`, one version on.
pub(super) async fn close<C: ConnectionTrait>(
    conn: &C,
    request: &admission_request::Model,
    status: AdmissionStatus,
    now: chrono::DateTime<Utc>,
) -> AppResult<admission_request::Model> {
    let mut model: admission_request::ActiveModel = request.clone().into();
    model.status = Set(status.as_str().to_owned());
    model.version = Set(request.version + 1);
    model.closed_at = Set(Some(now));
    model.updated_at = Set(now);
    Ok(model.update(conn).await?)
}

fn check_dates(input: &NewAdmission, today: NaiveDate) -> AppResult<()> {
    if input.alternatives.len() > 2 {
        return Err(AppError::invalid("input.alternatives", "at most two alternative dates"));
    }
    for (field, date) in std::iter::once(("input.proposedOn", input.proposed_on))
        .chain(input.alternatives.iter().map(|on| ("input.alternatives", *on)))
    {
        check_date(field, date, today)?;
    }
    if !(1..=MAX_STAY_DAYS).contains(&input.stay_days) {
        return Err(AppError::invalid("input.stayDays", format!("must be 1 to {MAX_STAY_DAYS} days")));
    }
    Ok(())
}

/// An admission date: today or later, and within the window.
pub(super) fn check_date(field: &'static str, date: NaiveDate, today: NaiveDate) -> AppResult<()> {
    if date < today {
        return Err(AppError::invalid(field, "must not be before today"));
    }
    if date > today + Duration::days(DATE_WINDOW_DAYS) {
        return Err(AppError::invalid(field, format!("must be within {DATE_WINDOW_DAYS} days")));
    }
    Ok(())
}

/// A registered, enabled hospital.
async fn partner<C: ConnectionTrait>(conn: &C, id: Uuid, field: &'static str) -> AppResult<hospital::Model> {
    hospital::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|hospital| hospital.disabled_at.is_none())
        .ok_or_else(|| AppError::invalid(field, "is not a registered partner hospital"))
}

async fn default_hours<C: ConnectionTrait>(conn: &C, branch_code: &str) -> AppResult<i64> {
    let branch = branch::Entity::find_by_id(branch_code.to_owned())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound { resource: "branch" })?;
    Ok(i64::from(branch.admission_answer_hours))
}

pub(super) fn corrupt(column: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("admission_request.{column} holds an unknown value"))
}
