//! What the donor sees of their case in the app: the steps done and next, with dates and what
//! each means; their coordinator's work phone; the patient only as the coordinator chose to
//! share (sex, age band); their questions and concerns; and their check-ups.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{case_milestone, donation_case};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

pub use super::follow_up::CheckUpAnswers;
use super::{CaseService, FollowUpView, RequestView};
use crate::domain::donation::{AgeBand, CaseState, Explained, PatientSex, Product, Stage};
use crate::error::AppResult;
use crate::service::OwnRecord;
use crate::service::green_channel::DonorAdmission;

/// Where a step stands for the donor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepProgress {
    Done,
    /// The step the case waits for.
    Next,
    Later,
}

/// A step of the donor's timeline.
#[derive(Clone, Debug)]
pub struct DonorStep {
    pub stage: Stage,
    pub progress: StepProgress,
    /// When it happened, once done.
    pub on: Option<NaiveDate>,
    /// When the registry expects it, for the next step.
    pub expected_by: Option<DateTime<Utc>>,
    pub explained: Explained,
}

/// The donor's case, as the app shows it.
#[derive(Clone, Debug)]
pub struct Timeline {
    pub case_id: Uuid,
    pub product: Product,
    pub state: CaseState,
    pub steps: Vec<DonorStep>,
    pub coordinator_phone: Option<String>,
    /// Only when the coordinator shares them.
    pub patient_sex: Option<PatientSex>,
    pub patient_age_band: Option<AgeBand>,
    pub requests: Vec<RequestView>,
    pub follow_ups: Vec<FollowUpView>,
    /// Hospital admissions asked for or agreed: where and when to go.
    pub admissions: Vec<DonorAdmission>,
}

impl CaseService {
    /// The volunteer's current case (active or in follow-up), as a timeline; `None` when they
    /// have none. Five statements, whatever the number of steps, requests, check-ups and
    /// admissions.
    ///
    /// # Errors
    /// The database failed.
    pub async fn timeline(&self, me: &OwnRecord) -> AppResult<Option<Timeline>> {
        let Some(case) = donation_case::Entity::find()
            .filter(donation_case::Column::VolunteerId.eq(me.id))
            .filter(donation_case::Column::State.ne(CaseState::Ended.as_str()))
            .order_by_desc(donation_case::Column::OpenedAt)
            .limit(1)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let case = self.view(case)?;
        let done: Vec<(String, NaiveDate)> = case_milestone::Entity::find()
            .select_only()
            .columns([case_milestone::Column::Stage, case_milestone::Column::OccurredOn])
            .filter(case_milestone::Column::CaseId.eq(case.id))
            .into_tuple()
            .all(&self.db)
            .await?;
        let steps = Stage::path(case.product)
            .map(|stage| {
                let on = done.iter().find(|(done, _)| done == stage.as_str()).map(|(_, on)| *on);
                let progress = match on {
                    Some(_) => StepProgress::Done,
                    None if case.stage.next(case.product) == Some(stage) => StepProgress::Next,
                    None => StepProgress::Later,
                };
                let expected_by = (progress == StepProgress::Next).then_some(case.stage_due_at).flatten();
                DonorStep { stage, progress, on, expected_by, explained: stage.explained() }
            })
            .collect();
        let shared = case.patient_shared;
        Ok(Some(Timeline {
            case_id: case.id,
            product: case.product,
            state: case.state,
            steps,
            coordinator_phone: case.coordinator_phone,
            patient_sex: case.patient_sex.filter(|_| shared),
            patient_age_band: case.patient_age_band.filter(|_| shared),
            requests: self.requests_of(&[case.id]).await?,
            follow_ups: self.follow_ups_of(&[case.id]).await?,
            admissions: self.green_channel.for_donor(case.id).await?,
        }))
    }
}
