//! One volunteer matched for one patient, from the search hit to follow-up. The patient is a
//! reference code only. Stored names of the stages, products, sides and causes are
//! `api::domain::donation`'s.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donation_case")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `None` once the volunteer withdrew: the case stays for the figures, naming no one.
    pub volunteer_id: Option<Uuid>,
    pub branch_code: String,
    /// The requesting transplant centre when it is a registered hospital…
    pub requesting_hospital_id: Option<Uuid>,
    /// …or its name when it is not.
    pub requesting_centre: Option<String>,
    /// The patient's code at the requesting centre; never a name.
    pub patient_reference: String,
    pub patient_sex: Option<String>,
    pub patient_age_band: Option<String>,
    /// Whether the coordinator shares the patient's sex and age band with the donor.
    pub patient_shared: bool,
    /// `pbsc` or `marrow`.
    pub product: String,
    /// `standard` or `urgent`.
    pub urgency: String,
    /// The staff account responsible at the branch.
    pub coordinator_id: Uuid,
    /// The coordinator's work phone, which the donor sees.
    pub coordinator_phone: Option<String>,
    /// `active`, `follow_up` or `ended`.
    pub state: String,
    /// The last step recorded.
    pub stage: String,
    /// The date of the last step.
    pub stage_on: Date,
    /// When the next step is due, by the branch's deadline for the stage.
    pub stage_due_at: Option<DateTimeUtc>,
    /// When the coordinator was alerted that the stage is overdue (once per stage).
    pub overdue_alerted_at: Option<DateTimeUtc>,
    /// The volunteer's last confirmation was older than the branch's threshold at opening.
    pub stale_contact: bool,
    pub opened_at: DateTimeUtc,
    pub opened_by: Uuid,
    pub ended_at: Option<DateTimeUtc>,
    /// The stage at which the case ended early.
    pub ended_stage: Option<String>,
    /// `donor`, `patient` (the patient or the transplant centre) or `registry`.
    pub ended_by: Option<String>,
    /// `family`, `fear`, `health`, `work`, `lost_contact`, `personal` or `other`.
    pub end_cause: Option<String>,
    /// Ciphertext of the coordinator's note on the end, bound to this row.
    pub end_note: Option<Vec<u8>>,
    /// The volume collected, in ml, as the coordinator recorded it at collection.
    pub collected_ml: Option<i32>,
    /// The dates the coordinator planned for the exam and the collection: the schedule leave
    /// letters read where no partner hospital has accepted a date.
    pub planned_exam_on: Option<Date>,
    pub planned_collection_on: Option<Date>,
    /// The donor withdrew after clearance: the patient may already be in conditioning.
    pub late_regret: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
