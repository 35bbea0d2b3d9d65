//! Donation cases: a volunteer matched for a patient, from the search hit through collection to
//! ten years of follow-up, with every early end recorded by stage, side and cause.
//!
//! Who may do what, stated here once and taken as capabilities:
//! - a [`Coordinator`](crate::service::Coordinator) of the volunteer's branch (or a national administrator) opens a case and
//!   moves it: steps, contact attempts, concerns, the end;
//! - a [`VolunteerReader`](crate::service::VolunteerReader) (recruiters too) reads the branch's cases and the follow-up work
//!   list, but moves nothing;
//! - the volunteer ([`OwnRecord`](crate::service::OwnRecord)) reads their own case as a timeline, tells the coordinator
//!   they have a question or that their family is worried, and answers their check-ups;
//! - the requesting hospital ([`PartnerHospital`](crate::service::PartnerHospital)) sees its requests and how each ended, never
//!   who the donor is.
//!
//! - `open.rs`: opening a case on a search hit;
//! - `read.rs`: the case page, the case list, and the requesting hospital's view;
//! - `moves.rs`: the steps, the end, and the donor status that follows them;
//! - `plan.rs`: the exam and collection days the coordinator plans, for leave letters;
//! - `requests.rs`: family concerns and questions, and the family session;
//! - `donor.rs`: what the volunteer sees and does in the app;
//! - `follow_up.rs`: the check-ups after collection, and the scheduled work (overdue stages,
//!   check-up reminders);
//! - `figures.rs`: the regret figures, per month, branch and nation, which the rollup keeps.

mod donor;
mod figures;
mod follow_up;
mod moves;
mod open;
mod plan;
mod read;
mod requests;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use entity::donation_case;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

pub use donor::{CheckUpAnswers, DonorStep, StepProgress, Timeline};
pub use figures::{CaseFigures, CaseMonth, CauseCount, FiguresTask, MilestoneDays, NATIONAL, StageEnds};
pub use follow_up::{ANSWER_DAYS, CaseTask, FollowUpTask, FollowUpView};
pub use moves::{EndInput, Ending, end_on_withdrawal};
pub use open::{NewCase, PatientInfo, Requester};
pub use plan::PlannedDates;
pub use read::{CaseFilter, CasePage, MilestoneView, RequestOutcome, RequestedCase};
pub use requests::RequestView;

use crate::domain::donation::{AgeBand, CaseState, EndCause, EndedBy, PatientSex, Product, Stage, Urgency};
use crate::error::{AppError, AppResult};
use crate::messaging::Messaging;
use crate::pii::{KeyRing, registry};
use crate::service::BranchScope;
use crate::service::alerts::{self, AlertKind};
use crate::service::benefits::Benefits;
use crate::service::green_channel::GreenChannel;
use crate::service::volunteer::{ContactAttemptService, StatusLog, VolunteerService};

/// Donation cases and what hangs on them. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CaseService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    attempts: ContactAttemptService,
    status: StatusLog,
    messaging: Messaging,
    /// Open admission requests are withdrawn when a case ends.
    green_channel: GreenChannel,
    /// Collection grants the branch's benefits.
    benefits: Benefits,
}

/// A case as staff read it.
#[derive(Clone, Debug)]
pub struct CaseView {
    pub id: Uuid,
    /// `None` once the volunteer withdrew after the case.
    pub volunteer_id: Option<Uuid>,
    pub branch_code: String,
    pub requesting_hospital_id: Option<Uuid>,
    pub requesting_centre: Option<String>,
    pub patient_reference: String,
    pub patient_sex: Option<PatientSex>,
    pub patient_age_band: Option<AgeBand>,
    pub patient_shared: bool,
    pub product: Product,
    pub urgency: Urgency,
    pub coordinator_id: Uuid,
    pub coordinator_phone: Option<String>,
    pub state: CaseState,
    pub stage: Stage,
    pub stage_on: NaiveDate,
    pub stage_due_at: Option<DateTime<Utc>>,
    pub stale_contact: bool,
    pub opened_at: DateTime<Utc>,
    pub ended: Option<Ending>,
    /// The dates the coordinator planned, for leave letters.
    pub planned_exam_on: Option<NaiveDate>,
    pub planned_collection_on: Option<NaiveDate>,
}

impl CaseService {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        volunteers: VolunteerService,
        attempts: ContactAttemptService,
        messaging: Messaging,
        (green_channel, benefits): (GreenChannel, Benefits),
    ) -> Self {
        Self {
            status: StatusLog::new(Arc::clone(&keys)),
            db,
            keys,
            volunteers,
            attempts,
            messaging,
            green_channel,
            benefits,
        }
    }

    /// The view of a stored case, its note opened.
    fn view(&self, case: donation_case::Model) -> AppResult<CaseView> {
        let note = case
            .end_note
            .as_deref()
            .map(|sealed| self.keys.cipher.decrypt(sealed, registry::DONATION_CASE_END_NOTE.at(case.id)))
            .transpose()
            .map_err(AppError::internal)?;
        let ended = match (case.ended_at, stored(case.ended_stage.as_deref()), case.ended_by.as_deref()) {
            (Some(at), Some(stage), Some(by)) => Some(Ending {
                at,
                stage,
                by: EndedBy::parse(by).ok_or_else(|| corrupt("ended_by"))?,
                cause: case.end_cause.as_deref().and_then(EndCause::parse).ok_or_else(|| corrupt("end_cause"))?,
                note,
                late_regret: case.late_regret,
            }),
            _ => None,
        };
        Ok(CaseView {
            id: case.id,
            volunteer_id: case.volunteer_id,
            branch_code: case.branch_code,
            requesting_hospital_id: case.requesting_hospital_id,
            requesting_centre: case.requesting_centre,
            patient_reference: case.patient_reference,
            patient_sex: case.patient_sex.as_deref().and_then(PatientSex::parse),
            patient_age_band: case.patient_age_band.as_deref().and_then(AgeBand::parse),
            patient_shared: case.patient_shared,
            product: Product::parse(&case.product).ok_or_else(|| corrupt("product"))?,
            urgency: Urgency::parse(&case.urgency).ok_or_else(|| corrupt("urgency"))?,
            coordinator_id: case.coordinator_id,
            coordinator_phone: case.coordinator_phone,
            state: CaseState::parse(&case.state).ok_or_else(|| corrupt("state"))?,
            stage: Stage::parse(&case.stage).ok_or_else(|| corrupt("stage"))?,
            stage_on: case.stage_on,
            stage_due_at: case.stage_due_at,
            stale_contact: case.stale_contact,
            opened_at: case.opened_at,
            ended,
            planned_exam_on: case.planned_exam_on,
            planned_collection_on: case.planned_collection_on,
        })
    }
}

/// The stage a volunteer's active case reserves them for, if it does: from confirmatory typing
/// on, the volunteer cannot pause or withdraw in the app alone. Read on `conn`.
///
/// # Errors
/// The database failed.
pub async fn reserving_stage<C: ConnectionTrait>(conn: &C, volunteer_id: Uuid) -> AppResult<Option<Stage>> {
    Ok(active_stage(conn, volunteer_id).await?.filter(|stage| stage.reserves()))
}

/// The stage of the volunteer's active case, if they have one.
///
/// # Errors
/// The database failed.
pub async fn active_stage<C: ConnectionTrait>(conn: &C, volunteer_id: Uuid) -> AppResult<Option<Stage>> {
    let stage: Option<String> = donation_case::Entity::find()
        .select_only()
        .column(donation_case::Column::Stage)
        .filter(donation_case::Column::VolunteerId.eq(volunteer_id))
        .filter(donation_case::Column::State.eq(CaseState::Active.as_str()))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(stage.as_deref().and_then(Stage::parse))
}

/// Alerts the coordinator when a volunteer in an active case reconnects with a new number, on
/// `conn` (the reconnection's transaction): the case is waiting to reach them.
///
/// # Errors
/// The database failed.
pub async fn alert_on_reconnection<C: ConnectionTrait>(
    conn: &C,
    volunteer_id: Uuid,
    branch_code: &str,
) -> AppResult<()> {
    if active_stage(conn, volunteer_id).await?.is_some() {
        alerts::raise(conn, branch_code, Some(volunteer_id), AlertKind::CaseDonorReconnected).await?;
    }
    Ok(())
}

fn stored(stage: Option<&str>) -> Option<Stage> {
    stage.and_then(Stage::parse)
}

fn corrupt(column: &'static str) -> AppError {
    AppError::internal(anyhow::anyhow!("donation_case.{column} holds an unknown name"))
}

/// The case `id`, for a caller whose reach is `scope`: the check every service makes before it
/// reads or changes a case for branch staff (its steps, admissions, entitlements, letters).
///
/// # Errors
/// NOT_FOUND for an unknown case; FORBIDDEN for another branch's.
pub(crate) async fn in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &BranchScope,
    id: Uuid,
) -> AppResult<donation_case::Model> {
    let case = donation_case::Entity::find_by_id(id).one(conn).await?.ok_or(AppError::NotFound { resource: "case" })?;
    if !scope.admits(&case.branch_code) {
        return Err(AppError::Forbidden);
    }
    Ok(case)
}
