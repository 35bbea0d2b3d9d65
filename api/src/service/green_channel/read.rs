//! Reading requests: the hospital's open requests, oldest deadline first; one request; a
//! case's requests for its staff; and the donor's identity, released to the hospital that
//! accepted, for the purpose "admission", each read audited as an unmasking.

use std::collections::HashMap;

use chrono::Utc;
use entity::{admission_request, donation_case, hospital, volunteer};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use uuid::Uuid;

use super::request::corrupt;
use super::{AdmissionView, Appointment, DonorSummary, GreenChannel};
use crate::domain::admission::{AdmissionPurpose, AdmissionStatus, DeclineReason};
use crate::domain::calendar;
use crate::domain::contact::masked_text;
use crate::domain::donation::Product;
use crate::domain::{Abo, BloodGroup, PersonName, Phone, Rh, Sex};
use crate::error::{AppError, AppResult};
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::volunteer::{age_on, current_contact};
use crate::service::{BranchScope, PartnerHospital, Principal, VolunteerReader};
use entity::volunteer_contact::ContactKind;

/// Most requests one list returns.
pub const MAX_REQUESTS: u64 = 100;

/// The donor's identity, for the admitting hospital's real-name admission.
#[derive(Clone, Debug)]
pub struct DonorIdentity {
    pub full_name: String,
    pub national_id: String,
    pub phone: Option<String>,
}

/// An admission as the donor sees it on their case's timeline: where, when, for what.
#[derive(Clone, Debug)]
pub struct DonorAdmission {
    pub purpose: AdmissionPurpose,
    pub status: AdmissionStatus,
    pub hospital_name: String,
    pub proposed_on: chrono::NaiveDate,
    /// Once the hospital accepted.
    pub admitted_on: Option<chrono::NaiveDate>,
    pub department: Option<String>,
    pub stay_days: i32,
}

/// The hospital's contact, as sealed in the row.
#[derive(Deserialize, serde::Serialize)]
pub(super) struct SealedContact {
    pub(super) name: String,
    pub(super) phone: String,
}

impl GreenChannel {
    /// The hospital's requests with `status` (open ones by default), oldest deadline first:
    /// `first` of them, at most [`MAX_REQUESTS`]. A constant number of statements.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first`.
    pub async fn for_hospital(
        &self,
        hospital: &PartnerHospital,
        status: Option<AdmissionStatus>,
        first: u64,
    ) -> AppResult<Vec<AdmissionView>> {
        if !(1..=MAX_REQUESTS).contains(&first) {
            return Err(AppError::invalid("first", format!("must be 1 to {MAX_REQUESTS}")));
        }
        let status = status.unwrap_or(AdmissionStatus::Requested);
        let rows = admission_request::Entity::find()
            .filter(admission_request::Column::HospitalId.eq(hospital.id))
            .filter(admission_request::Column::Status.eq(status.as_str()))
            .order_by_asc(admission_request::Column::AnswerDueAt)
            .order_by_asc(admission_request::Column::Id)
            .limit(first)
            .all(&self.db)
            .await?;
        self.views(&self.db, rows).await
    }

    /// One of the hospital's requests.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown request, FORBIDDEN for another hospital's.
    pub async fn for_hospital_one(&self, hospital: &PartnerHospital, id: Uuid) -> AppResult<AdmissionView> {
        let row = self.own_request(&self.db, hospital, id).await?;
        self.one_view(row).await
    }

    /// The case's open admissions (asked, or accepted with a date), for the donor's
    /// timeline: one statement.
    ///
    /// # Errors
    /// The database failed.
    pub async fn for_donor(&self, case_id: Uuid) -> AppResult<Vec<DonorAdmission>> {
        let open = [AdmissionStatus::Requested.as_str(), AdmissionStatus::Accepted.as_str()];
        let rows = admission_request::Entity::find()
            .filter(admission_request::Column::CaseId.eq(case_id))
            .filter(admission_request::Column::Status.is_in(open))
            .order_by_asc(admission_request::Column::ProposedOn)
            .find_also_related(hospital::Entity)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|(row, hospital)| {
                Ok(DonorAdmission {
                    purpose: AdmissionPurpose::parse(&row.purpose).ok_or_else(|| corrupt("purpose"))?,
                    status: AdmissionStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
                    hospital_name: hospital.map(|hospital| hospital.name).unwrap_or_default(),
                    proposed_on: row.proposed_on,
                    admitted_on: row.admitted_on,
                    department: row.department,
                    stay_days: row.stay_days,
                })
            })
            .collect()
    }

    /// A case's requests, newest first, for staff of its branch.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown case, FORBIDDEN for another branch's.
    pub async fn for_case(&self, reader: &VolunteerReader, case_id: Uuid) -> AppResult<Vec<AdmissionView>> {
        let branch: String = donation_case::Entity::find_by_id(case_id)
            .select_only()
            .column(donation_case::Column::BranchCode)
            .into_tuple()
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "case" })?;
        if !reader.scope.admits(&branch) {
            return Err(AppError::Forbidden);
        }
        let rows = admission_request::Entity::find()
            .filter(admission_request::Column::CaseId.eq(case_id))
            .order_by_desc(admission_request::Column::RequestedAt)
            .all(&self.db)
            .await?;
        self.views(&self.db, rows).await
    }

    /// One request, for staff whose reach is `scope`.
    pub(super) async fn staff_view(&self, scope: BranchScope, id: Uuid) -> AppResult<AdmissionView> {
        let row = admission_request::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "admission request" })?;
        if !scope.admits(&row.branch_code) {
            return Err(AppError::Forbidden);
        }
        self.one_view(row).await
    }

    /// The donor's identity, for the hospital that accepted the request: `None` until it has.
    /// Each release writes one audit row (an unmasking, for the purpose "admission").
    ///
    /// # Errors
    /// NOT_FOUND for an unknown request, FORBIDDEN for another hospital's.
    pub async fn identity(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<Option<DonorIdentity>> {
        let row = self.own_request(&self.db, hospital, id).await?;
        if row.status != AdmissionStatus::Accepted.as_str() {
            return Ok(None);
        }
        let volunteer_id: Option<Uuid> = donation_case::Entity::find_by_id(row.case_id)
            .select_only()
            .column(donation_case::Column::VolunteerId)
            .into_tuple::<Option<Uuid>>()
            .one(&self.db)
            .await?
            .flatten();
        let Some(volunteer_id) = volunteer_id else { return Ok(None) };
        let model = self.volunteers.find_model(volunteer_id).await?;
        let cipher = &self.keys.cipher;
        let (full_name, national_id) = self.volunteers.identity(&model)?;
        let phone = match current_contact(&self.db, model.id, ContactKind::PrimaryPhone).await? {
            Some(contact) => Some(
                cipher
                    .decrypt(&contact.value, registry::VOLUNTEER_CONTACT_VALUE.at(contact.id))
                    .map_err(AppError::internal)?,
            ),
            None => None,
        };
        let entry = AuditEntry {
            subject: Some(("volunteer", model.id)),
            field: Some("identity"),
            purpose: Some("admission"),
            request_id,
            detail: Some(format!("admission request {}", row.id)),
        };
        audit::record(&self.db, actor, AuditAction::VolunteerUnmask, entry).await?;
        Ok(Some(DonorIdentity {
            full_name: full_name.expose().to_owned(),
            national_id: national_id.expose().to_owned(),
            phone,
        }))
    }

    /// The request `id` if it is this hospital's: FORBIDDEN for another hospital's.
    pub(super) async fn own_request<C: ConnectionTrait>(
        &self,
        conn: &C,
        hospital: &PartnerHospital,
        id: Uuid,
    ) -> AppResult<admission_request::Model> {
        let row = admission_request::Entity::find_by_id(id)
            .one(conn)
            .await?
            .ok_or(AppError::NotFound { resource: "admission request" })?;
        if row.hospital_id != hospital.id {
            return Err(AppError::Forbidden);
        }
        Ok(row)
    }

    pub(super) async fn one_view(&self, row: admission_request::Model) -> AppResult<AdmissionView> {
        self.one_view_on(&self.db, row).await
    }

    /// [`Self::one_view`] through `conn`: inside a write, its transaction.
    pub(super) async fn one_view_on<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: admission_request::Model,
    ) -> AppResult<AdmissionView> {
        self.views(conn, vec![row]).await?.pop().ok_or(AppError::NotFound { resource: "admission request" })
    }

    /// Views of stored requests: three statements for any number (their hospitals, their
    /// cases, their donors). Admission needs no phone, so none is read.
    pub(super) async fn views<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: Vec<admission_request::Model>,
    ) -> AppResult<Vec<AdmissionView>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let hospitals: HashMap<Uuid, String> = hospital::Entity::find()
            .filter(hospital::Column::Id.is_in(rows.iter().map(|row| row.hospital_id)))
            .select_only()
            .column(hospital::Column::Id)
            .column(hospital::Column::Name)
            .into_tuple::<(Uuid, String)>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let cases: HashMap<Uuid, (Option<Uuid>, Option<String>)> = donation_case::Entity::find()
            .filter(donation_case::Column::Id.is_in(rows.iter().map(|row| row.case_id)))
            .select_only()
            .column(donation_case::Column::Id)
            .column(donation_case::Column::VolunteerId)
            .column(donation_case::Column::CoordinatorPhone)
            .into_tuple::<(Uuid, Option<Uuid>, Option<String>)>()
            .all(conn)
            .await?
            .into_iter()
            .map(|(id, volunteer, phone)| (id, (volunteer, phone)))
            .collect();
        let today = calendar::today(Utc::now());
        let donors: HashMap<Uuid, DonorSummary> = volunteer::Entity::find()
            .filter(volunteer::Column::Id.is_in(cases.values().filter_map(|(volunteer, _)| *volunteer)))
            .all(conn)
            .await?
            .into_iter()
            .map(|model| Ok((model.id, self.donor(&model, today)?)))
            .collect::<AppResult<_>>()?;
        rows.into_iter()
            .map(|row| {
                let (volunteer, coordinator_phone) = cases.get(&row.case_id).cloned().unwrap_or((None, None));
                let donor = volunteer.and_then(|id| donors.get(&id).cloned());
                self.view(row, &hospitals, donor, coordinator_phone)
            })
            .collect()
    }

    /// The donor as admission needs them.
    fn donor(&self, model: &volunteer::Model, today: chrono::NaiveDate) -> AppResult<DonorSummary> {
        let name =
            self.keys.cipher.decrypt(&model.name, registry::VOLUNTEER_NAME.at(model.id)).map_err(AppError::internal)?;
        let masked_name = PersonName::parse(&name).map_or_else(|_| masked_text(&name), |name| name.masked());
        let blood_group =
            match (model.blood_abo.as_deref().and_then(Abo::parse), model.blood_rh.as_deref().and_then(Rh::parse)) {
                (Some(abo), Some(rh)) => Some(BloodGroup { abo, rh }),
                _ => None,
            };
        Ok(DonorSummary {
            masked_name,
            sex: match model.sex {
                volunteer::Sex::Female => Sex::Female,
                volunteer::Sex::Male => Sex::Male,
            },
            age: age_on(model.birth_date, today),
            blood_group,
        })
    }

    fn view(
        &self,
        row: admission_request::Model,
        hospitals: &HashMap<Uuid, String>,
        donor: Option<DonorSummary>,
        coordinator_phone: Option<String>,
    ) -> AppResult<AdmissionView> {
        let cipher = &self.keys.cipher;
        let appointment = match (row.admitted_on, &row.department, &row.contact) {
            (Some(admitted_on), Some(department), Some(sealed)) => {
                let contact = cipher
                    .decrypt(sealed, registry::ADMISSION_REQUEST_CONTACT.at(row.id))
                    .map_err(AppError::internal)?;
                let contact: SealedContact = serde_json::from_str(&contact).map_err(AppError::internal)?;
                let phone =
                    Phone::from_stored(&contact.phone).map_or_else(|_| masked_text(&contact.phone), |p| p.masked());
                Some(Appointment {
                    admitted_on,
                    department: department.clone(),
                    contact_name: masked_text(&contact.name),
                    contact_phone: phone,
                })
            }
            _ => None,
        };
        let note = row
            .note
            .as_deref()
            .map(|sealed| cipher.decrypt(sealed, registry::ADMISSION_REQUEST_NOTE.at(row.id)))
            .transpose()
            .map_err(AppError::internal)?;
        Ok(AdmissionView {
            id: row.id,
            case_id: row.case_id,
            hospital_id: row.hospital_id,
            hospital_name: hospitals.get(&row.hospital_id).cloned().unwrap_or_default(),
            branch_code: row.branch_code,
            purpose: AdmissionPurpose::parse(&row.purpose).ok_or_else(|| corrupt("purpose"))?,
            product: Product::parse(&row.product).ok_or_else(|| corrupt("product"))?,
            proposed_on: row.proposed_on,
            alternatives: [row.alternative_on, row.second_alternative_on].into_iter().flatten().collect(),
            stay_days: row.stay_days,
            status: AdmissionStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
            version: row.version,
            requested_at: row.requested_at,
            answer_due_at: row.answer_due_at,
            answered_at: row.answered_at,
            answered_late: row.answered_late,
            escalated: row.escalated_at.is_some(),
            appointment,
            decline_reason: row
                .decline_reason
                .as_deref()
                .map(|reason| DeclineReason::parse(reason).ok_or_else(|| corrupt("decline_reason")))
                .transpose()?,
            note,
            closed_at: row.closed_at,
            rerouted_from: row.rerouted_from,
            donor,
            coordinator_phone,
        })
    }
}
