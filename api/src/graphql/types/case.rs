//! Donation cases in the contract: the staff's case and case file, the donor's timeline, the
//! requesting hospital's view, and their inputs. The enums mirror `crate::domain::donation`
//! one to one (`remote`), so the stored names and the contract cannot drift apart.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::ContactAttempt;
use crate::domain::donation;
use crate::service::cases as service;

/// The steps of a case, in order (the EMDIS MARR_STAT events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::Stage")]
pub enum CaseStage {
    /// A patient's search hit the volunteer; the case opens here.
    SearchHit,
    /// Confirmatory typing requested: from here the volunteer is reserved (RS).
    CtRequested,
    CtSampleTaken,
    CtResult,
    InfoSession,
    ExamBooked,
    ExamPassed,
    /// Pre-collection clearance: refused while a family concern is open. A donor who backs
    /// out from here on is a late regret.
    Clearance,
    /// G-CSF start: PBSC only.
    GcsfStart,
    /// Collection: the donor becomes TU/TX for the branch's rest period, and the check-ups
    /// are scheduled.
    Collection,
    Transplant,
    /// The case leaves the active list; the check-ups run for ten years.
    FollowUp,
}

/// What is collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::Product")]
pub enum CaseProduct {
    /// Peripheral blood stem cells, after G-CSF.
    Pbsc,
    Marrow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::Urgency")]
pub enum CaseUrgency {
    Standard,
    Urgent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::CaseState")]
pub enum CaseState {
    Active,
    /// Collected and transplanted; the check-ups run.
    FollowUp,
    /// Ended early.
    Ended,
}

/// Whose side ended a case early. Only the donor's side is regret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::EndedBy")]
pub enum CaseEndedBy {
    Donor,
    /// The patient or the transplant centre.
    Patient,
    /// The registry, e.g. a medical deferral.
    Registry,
}

/// Why a case ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::EndCause")]
pub enum CaseEndCause {
    Family,
    Fear,
    Health,
    Work,
    /// The donor could not be reached: the donor's side, after the branch's number of failed
    /// attempts on the case.
    LostContact,
    Personal,
    Other,
}

/// What a donor or coordinator raises on a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::RequestKind")]
pub enum CaseRequestKind {
    /// The donor's family is worried: clearance waits until the coordinator resolves it.
    FamilyConcern,
    Question,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::PatientSex")]
pub enum PatientSex {
    Female,
    Male,
}

/// The patient's age band: a band, never an age.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::AgeBand")]
pub enum PatientAgeBand {
    /// 0 to 17.
    Child,
    /// 18 to 39.
    Young,
    /// 40 to 59.
    Middle,
    /// 60 and over.
    Older,
}

/// The check-ups after collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::Checkpoint")]
pub enum CheckUpPoint {
    Day2,
    Week1,
    Month1,
    Month6,
    Year1,
    Year2,
    Year3,
    Year4,
    Year5,
    Year6,
    Year7,
    Year8,
    Year9,
    Year10,
}

/// What a donor may report in a check-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "donation::Symptom")]
pub enum CheckUpSymptom {
    Fatigue,
    BonePain,
    InjectionSite,
    Fever,
    Bleeding,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "service::StepProgress")]
pub enum StepProgress {
    Done,
    /// The step the case waits for.
    Next,
    Later,
}

/// How a request ended, as the requesting hospital is told: it names no one, and keeps the
/// donor's own reasons theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "service::RequestOutcome")]
pub enum RequestOutcome {
    DonorNotReachable,
    DonorMedicallyDeferred,
    DonorDeclined,
    EndedByRequester,
    EndedByRegistry,
}

/// A donation case as staff read it.
#[derive(Debug, SimpleObject)]
pub struct DonationCase {
    pub id: ID,
    /// Null once the volunteer withdrew after the case.
    pub volunteer_id: Option<ID>,
    pub branch_code: String,
    pub requesting_hospital_id: Option<ID>,
    pub requesting_centre: Option<String>,
    /// The requesting centre's code for the patient; never a name.
    pub patient_reference: String,
    pub patient_sex: Option<PatientSex>,
    pub patient_age_band: Option<PatientAgeBand>,
    /// Whether the donor sees the patient's sex and age band.
    pub patient_shared: bool,
    pub product: CaseProduct,
    pub urgency: CaseUrgency,
    pub coordinator_id: ID,
    pub coordinator_phone: Option<String>,
    pub state: CaseState,
    /// The last step recorded.
    pub stage: CaseStage,
    pub stage_on: NaiveDate,
    /// When the next step is due, by the branch's deadline; an overdue stage alerts the
    /// coordinator.
    pub stage_due_at: Option<DateTime<Utc>>,
    /// The volunteer's last confirmation was older than the branch's threshold when the case
    /// opened: reach them first.
    pub stale_contact: bool,
    pub opened_at: DateTime<Utc>,
    pub ended: Option<CaseEnding>,
    /// The exam day the coordinator planned (`planCaseDates`); a partner hospital's accepted
    /// date takes precedence on leave letters.
    pub planned_exam_on: Option<NaiveDate>,
    /// The collection day the coordinator planned; the recorded collection, or a partner
    /// hospital's accepted date, takes precedence.
    pub planned_collection_on: Option<NaiveDate>,
}

/// The dates a coordinator plans for a case: either may be cleared with null.
#[derive(Debug, InputObject)]
pub struct PlanCaseDatesInput {
    /// Not before the case opened.
    pub exam_on: Option<NaiveDate>,
    /// Not before the case opened, and after the exam.
    pub collection_on: Option<NaiveDate>,
}

impl From<service::CaseView> for DonationCase {
    fn from(view: service::CaseView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            volunteer_id: view.volunteer_id.map(|id| ID(id.to_string())),
            branch_code: view.branch_code,
            requesting_hospital_id: view.requesting_hospital_id.map(|id| ID(id.to_string())),
            requesting_centre: view.requesting_centre,
            patient_reference: view.patient_reference,
            patient_sex: view.patient_sex.map(Into::into),
            patient_age_band: view.patient_age_band.map(Into::into),
            patient_shared: view.patient_shared,
            product: view.product.into(),
            urgency: view.urgency.into(),
            coordinator_id: ID(view.coordinator_id.to_string()),
            coordinator_phone: view.coordinator_phone,
            state: view.state.into(),
            stage: view.stage.into(),
            stage_on: view.stage_on,
            stage_due_at: view.stage_due_at,
            stale_contact: view.stale_contact,
            opened_at: view.opened_at,
            ended: view.ended.map(Into::into),
            planned_exam_on: view.planned_exam_on,
            planned_collection_on: view.planned_collection_on,
        }
    }
}

/// How a case ended early.
#[derive(Debug, SimpleObject)]
pub struct CaseEnding {
    pub at: DateTime<Utc>,
    /// The stage the case had reached.
    pub stage: CaseStage,
    pub ended_by: CaseEndedBy,
    pub cause: CaseEndCause,
    pub note: Option<String>,
    /// The donor backed out after clearance.
    pub late_regret: bool,
}

impl From<service::Ending> for CaseEnding {
    fn from(ending: service::Ending) -> Self {
        Self {
            at: ending.at,
            stage: ending.stage.into(),
            ended_by: ending.by.into(),
            cause: ending.cause.into(),
            note: ending.note,
            late_regret: ending.late_regret,
        }
    }
}

/// A recorded step.
#[derive(Debug, SimpleObject)]
pub struct CaseStep {
    pub stage: CaseStage,
    pub on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    /// The staff account that recorded it.
    pub recorded_by: ID,
}

impl From<service::MilestoneView> for CaseStep {
    fn from(view: service::MilestoneView) -> Self {
        Self {
            stage: view.stage.into(),
            on: view.on,
            recorded_at: view.recorded_at,
            recorded_by: ID(view.recorded_by.to_string()),
        }
    }
}

/// A family concern or a question on a case.
#[derive(Debug, SimpleObject)]
pub struct CaseRequest {
    pub id: ID,
    pub case_id: ID,
    pub kind: CaseRequestKind,
    /// `VOLUNTEER` from the app, or `STAFF`.
    pub raised_by: String,
    pub detail: Option<String>,
    pub raised_at: DateTime<Utc>,
    /// The family session, once booked.
    pub session_on: Option<NaiveDate>,
    pub session_attendees: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
}

impl From<service::RequestView> for CaseRequest {
    fn from(view: service::RequestView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            case_id: ID(view.case_id.to_string()),
            kind: view.kind.into(),
            raised_by: view.raised_by.to_uppercase(),
            detail: view.detail,
            raised_at: view.raised_at,
            session_on: view.session_on,
            session_attendees: view.session_attendees,
            resolved_at: view.resolved_at,
            outcome: view.outcome,
        }
    }
}

/// A check-up after collection.
#[derive(Debug, SimpleObject)]
pub struct CheckUp {
    pub id: ID,
    pub case_id: ID,
    pub volunteer_id: ID,
    pub point: CheckUpPoint,
    pub due_on: NaiveDate,
    pub reminded_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answers: Option<CheckUpAnswers>,
}

impl From<service::FollowUpView> for CheckUp {
    fn from(view: service::FollowUpView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            case_id: ID(view.case_id.to_string()),
            volunteer_id: ID(view.volunteer_id.to_string()),
            point: view.checkpoint.into(),
            due_on: view.due_on,
            reminded_at: view.reminded_at,
            answered_at: view.answered_at,
            answers: view.answers.map(Into::into),
        }
    }
}

/// The donor's answers to a check-up.
#[derive(Debug, SimpleObject)]
pub struct CheckUpAnswers {
    pub feeling_well: bool,
    pub symptoms: Vec<CheckUpSymptom>,
    pub seen_doctor: bool,
    pub note: Option<String>,
}

impl From<service::CheckUpAnswers> for CheckUpAnswers {
    fn from(answers: service::CheckUpAnswers) -> Self {
        Self {
            feeling_well: answers.feeling_well,
            symptoms: answers
                .symptoms
                .iter()
                .filter_map(|stored| donation::Symptom::parse(stored))
                .map(Into::into)
                .collect(),
            seen_doctor: answers.seen_doctor,
            note: answers.note,
        }
    }
}

/// Everything the staff's case page shows.
#[derive(Debug, SimpleObject)]
pub struct CaseFile {
    pub case: DonationCase,
    /// The steps recorded, in order.
    pub steps: Vec<CaseStep>,
    /// The attempts to reach the donor for this case, newest first.
    pub attempts: Vec<ContactAttempt>,
    pub requests: Vec<CaseRequest>,
    pub check_ups: Vec<CheckUp>,
}

/// A hospital admission on the donor's timeline.
#[derive(Debug, SimpleObject)]
pub struct MyAdmission {
    pub purpose: super::admission::AdmissionPurpose,
    /// REQUESTED while the hospital has not answered; ACCEPTED with the date.
    pub status: super::admission::AdmissionStatus,
    pub hospital_name: String,
    pub proposed_on: NaiveDate,
    pub admitted_on: Option<NaiveDate>,
    pub department: Option<String>,
    pub stay_days: i32,
}

impl From<service::CasePage> for CaseFile {
    fn from(page: service::CasePage) -> Self {
        Self {
            case: page.case.into(),
            steps: page.milestones.into_iter().map(Into::into).collect(),
            attempts: page.attempts.into_iter().map(Into::into).collect(),
            requests: page.requests.into_iter().map(Into::into).collect(),
            check_ups: page.follow_ups.into_iter().map(Into::into).collect(),
        }
    }
}

/// A step of the donor's timeline.
#[derive(Debug, SimpleObject)]
pub struct DonorStep {
    pub stage: CaseStage,
    pub progress: StepProgress,
    /// When it happened, once done.
    pub on: Option<NaiveDate>,
    /// When the registry expects it, for the next step.
    pub expected_by: Option<DateTime<Utc>>,
    pub title_zh: String,
    pub title_en: String,
    /// What the step means for the donor.
    pub meaning_zh: String,
    pub meaning_en: String,
}

impl From<service::DonorStep> for DonorStep {
    fn from(step: service::DonorStep) -> Self {
        Self {
            stage: step.stage.into(),
            progress: step.progress.into(),
            on: step.on,
            expected_by: step.expected_by,
            title_zh: step.explained.title_zh.into(),
            title_en: step.explained.title_en.into(),
            meaning_zh: step.explained.meaning_zh.into(),
            meaning_en: step.explained.meaning_en.into(),
        }
    }
}

/// The donor's case in the app.
#[derive(Debug, SimpleObject)]
pub struct MyDonation {
    pub case_id: ID,
    pub product: CaseProduct,
    pub state: CaseState,
    pub steps: Vec<DonorStep>,
    /// The coordinator's work phone.
    pub coordinator_phone: Option<String>,
    /// Only when the coordinator shares it.
    pub patient_sex: Option<PatientSex>,
    pub patient_age_band: Option<PatientAgeBand>,
    /// The donor's questions and concerns, and their answers.
    pub requests: Vec<CaseRequest>,
    pub check_ups: Vec<CheckUp>,
    /// Hospital admissions asked for or agreed on the donor's behalf: where and when to go.
    pub admissions: Vec<MyAdmission>,
}

impl From<service::Timeline> for MyDonation {
    fn from(timeline: service::Timeline) -> Self {
        Self {
            case_id: ID(timeline.case_id.to_string()),
            product: timeline.product.into(),
            state: timeline.state.into(),
            steps: timeline.steps.into_iter().map(Into::into).collect(),
            coordinator_phone: timeline.coordinator_phone,
            patient_sex: timeline.patient_sex.map(Into::into),
            patient_age_band: timeline.patient_age_band.map(Into::into),
            requests: timeline.requests.into_iter().map(Into::into).collect(),
            check_ups: timeline.follow_ups.into_iter().map(Into::into).collect(),
            admissions: timeline
                .admissions
                .into_iter()
                .map(|admission| MyAdmission {
                    purpose: admission.purpose.into(),
                    status: admission.status.into(),
                    hospital_name: admission.hospital_name,
                    proposed_on: admission.proposed_on,
                    admitted_on: admission.admitted_on,
                    department: admission.department,
                    stay_days: admission.stay_days,
                })
                .collect(),
        }
    }
}

/// A case as the requesting hospital sees it: never who the donor is.
#[derive(Debug, SimpleObject)]
pub struct RequestedCase {
    pub id: ID,
    pub patient_reference: String,
    pub product: CaseProduct,
    pub urgency: CaseUrgency,
    pub opened_on: NaiveDate,
    pub state: CaseState,
    /// Where the case stands, or the stage it ended at.
    pub stage: CaseStage,
    /// Why it ended, once it ended early.
    pub outcome: Option<RequestOutcome>,
}

impl From<service::RequestedCase> for RequestedCase {
    fn from(case: service::RequestedCase) -> Self {
        Self {
            id: ID(case.id.to_string()),
            patient_reference: case.patient_reference,
            product: case.product.into(),
            urgency: case.urgency.into(),
            opened_on: case.opened_on,
            state: case.state.into(),
            stage: case.stage.into(),
            outcome: case.ended.map(Into::into),
        }
    }
}

/// A case to open on a search hit. Exactly one of `requestingHospitalId` and
/// `requestingCentre`.
#[derive(Debug, InputObject)]
pub struct OpenCaseInput {
    pub volunteer_id: ID,
    /// A registered hospital, which then sees how its request went.
    pub requesting_hospital_id: Option<ID>,
    /// Or an outside transplant centre, by name.
    pub requesting_centre: Option<String>,
    /// The centre's code for the patient: letters, digits, '-', '_' or '/'; never a name.
    pub patient_reference: String,
    pub patient_sex: Option<PatientSex>,
    pub patient_age_band: Option<PatientAgeBand>,
    /// Whether the donor sees the patient's sex and age band.
    #[graphql(default = false)]
    pub share_patient: bool,
    pub product: CaseProduct,
    #[graphql(default_with = "CaseUrgency::Standard")]
    pub urgency: CaseUrgency,
    /// The coordinator responsible; the caller when omitted.
    pub coordinator_id: Option<ID>,
    /// The work phone the donor calls.
    pub coordinator_phone: Option<String>,
    /// When the search hit came, for a case entered after the fact; today when omitted.
    pub search_hit_on: Option<NaiveDate>,
}

/// A step to record.
#[derive(Debug, InputObject)]
pub struct CaseStepInput {
    /// The case's next step.
    pub stage: CaseStage,
    /// When it happened: not in the future, not before the previous step.
    pub on: NaiveDate,
    /// At collection, the volume collected in ml (1 to 2500). Required when the branch's
    /// benefit rules are a multiple of it.
    pub collected_ml: Option<i32>,
}

/// An early end.
#[derive(Debug, InputObject)]
pub struct EndCaseInput {
    pub ended_by: CaseEndedBy,
    pub cause: CaseEndCause,
    /// Up to 500 characters, kept encrypted.
    pub note: Option<String>,
}

/// A family session for a family concern.
#[derive(Debug, InputObject)]
pub struct FamilySessionInput {
    pub on: NaiveDate,
    /// Who attends, up to 200 characters.
    pub attendees: String,
}

/// A check-up's questionnaire.
#[derive(Debug, InputObject)]
pub struct CheckUpAnswersInput {
    pub feeling_well: bool,
    pub symptoms: Vec<CheckUpSymptom>,
    pub seen_doctor: bool,
    /// Up to 500 characters.
    pub note: Option<String>,
}

/// Which cases a list shows.
#[derive(Debug, Default, InputObject)]
pub struct CaseFilterInput {
    /// Branch roles see their own branch only.
    pub branch_code: Option<String>,
    pub state: Option<CaseState>,
    pub stage: Option<CaseStage>,
}

impl From<CaseFilterInput> for service::CaseFilter {
    fn from(input: CaseFilterInput) -> Self {
        Self { branch_code: input.branch_code, state: input.state.map(Into::into), stage: input.stage.map(Into::into) }
    }
}
