//! A request that a partner hospital admit a case's donor on a fast track (FHIR: a `Task` on a
//! `ServiceRequest`, answered with an `Appointment`), with the hospital's answer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admission_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub hospital_id: Uuid,
    pub branch_code: String,
    /// `medical_exam` or `collection`.
    pub purpose: String,
    /// `pbsc` or `marrow`.
    pub product: String,
    pub proposed_on: Date,
    pub alternative_on: Option<Date>,
    pub second_alternative_on: Option<Date>,
    pub stay_days: i32,
    /// `requested`, `accepted`, `declined` or `cancelled`.
    pub status: String,
    /// One more with every change the hospital is told of.
    pub version: i32,
    pub requested_at: DateTimeUtc,
    pub requested_by: Uuid,
    pub answer_due_at: DateTimeUtc,
    /// When the coordinator was alerted that the deadline passed unanswered.
    pub escalated_at: Option<DateTimeUtc>,
    pub answered_at: Option<DateTimeUtc>,
    pub answered_late: bool,
    pub admitted_on: Option<Date>,
    pub department: Option<String>,
    /// Ciphertext of the hospital's contact for the admission (name and phone).
    pub contact: Option<Vec<u8>>,
    /// `no_bed`, `no_service`, `date_not_possible` or `other`.
    pub decline_reason: Option<String>,
    /// Ciphertext of the note with a decline, or the reason for a reschedule or cancellation.
    pub note: Option<Vec<u8>>,
    pub closed_at: Option<DateTimeUtc>,
    /// The request this one replaced when the coordinator re-routed it.
    pub rerouted_from: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::hospital::Entity", from = "Column::HospitalId", to = "super::hospital::Column::Id")]
    Hospital,
}

impl Related<super::hospital::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Hospital.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
