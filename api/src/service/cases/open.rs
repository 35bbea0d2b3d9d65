//! Opening a case when a patient's search hits a volunteer.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::volunteer::DonorStatus;
use entity::{case_milestone, case_stage_deadline, donation_case, hospital, staff_account};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::{CaseService, CaseView, active_stage};
use crate::db;
use crate::domain::calendar;
use crate::domain::contact::short_text;
use crate::domain::donation::{AgeBand, CaseState, PatientSex, Product, Stage, Urgency};
use crate::error::{AppError, AppResult};
use crate::service::alerts::{self, AlertKind};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{Coordinator, Principal, StaffRole};

/// Longest name of an outside transplant centre, in characters.
const MAX_CENTRE_CHARS: usize = 100;
/// Longest patient reference.
const MAX_REFERENCE_CHARS: usize = 32;

/// Who asked for the donor.
#[derive(Clone, Debug)]
pub enum Requester {
    /// A hospital registered with the registry, which then sees how its request went.
    Hospital(Uuid),
    /// A transplant centre outside it (abroad, or not a partner), by name.
    Centre(String),
}

/// What the registry holds of the patient: a code, and what the coordinator may share.
#[derive(Clone, Debug)]
pub struct PatientInfo {
    /// The requesting centre's code for the patient; never a name or a diagnosis.
    pub reference: String,
    pub sex: Option<PatientSex>,
    pub age_band: Option<AgeBand>,
    /// Whether the donor sees the sex and age band.
    pub shared: bool,
}

/// A case to open.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub volunteer_id: Uuid,
    pub requester: Requester,
    pub patient: PatientInfo,
    pub product: Product,
    pub urgency: Urgency,
    /// The staff account responsible; the one opening the case when `None`.
    pub coordinator_id: Option<Uuid>,
    /// The work phone the donor calls.
    pub coordinator_phone: Option<String>,
    /// When the search hit came, for a case entered after the fact; today when `None`.
    pub hit_on: Option<NaiveDate>,
}

impl CaseService {
    /// Opens a case on a search hit for an available volunteer of the coordinator's branch. A
    /// volunteer whose last confirmation is older than the branch's stale-contact threshold is
    /// flagged at once (and the coordinator alerted): reaching them comes first. A volunteer
    /// already in an active case is refused, and the branch alerted to the second request.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the `input` field; CONFLICT on `input.volunteerId` for a volunteer
    /// who is not available or already in a case; NOT_FOUND; FORBIDDEN for another branch's
    /// volunteer.
    pub async fn open(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        new: NewCase,
        request_id: Option<&str>,
    ) -> AppResult<CaseView> {
        let Principal::Staff { id: actor_id, .. } = actor else { return Err(actor.refusal()) };
        let checked = self.check_new(&new).await?;
        let model = self.volunteers.find_model(new.volunteer_id).await?;
        if !coordinator.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        let coordinator_id = self.responsible(new.coordinator_id.unwrap_or(*actor_id), &model.branch_code).await?;
        let rules = self.volunteers.branch_rules(&model.branch_code).await?;
        let now = Utc::now();
        let today = calendar::today(now);
        let hit_on = new.hit_on.unwrap_or(today);
        if hit_on > today {
            return Err(AppError::invalid("input.searchHitOn", "must not be in the future"));
        }
        let id = Uuid::now_v7();
        let case = db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, model.id).await?;
            let model = self.volunteers.find_model_on(txn, model.id).await?;
            if let Some(stage) = active_stage(txn, model.id).await? {
                alerts::raise(txn, &model.branch_code, Some(model.id), AlertKind::CaseSecondRequest).await?;
                return Ok(Err(AppError::Conflict {
                    field: "input.volunteerId".into(),
                    message: format!("is already in an active case, at {}", stage.as_str()),
                }));
            }
            if model.status != DonorStatus::Available {
                return Ok(Err(AppError::Conflict {
                    field: "input.volunteerId".into(),
                    message: "is not available (AV) for a search".into(),
                }));
            }
            let stale = model.last_confirmed_at < now - Duration::days(rules.stale_contact_days);
            let case = donation_case::ActiveModel {
                id: Set(id),
                volunteer_id: Set(Some(model.id)),
                branch_code: Set(model.branch_code.clone()),
                requesting_hospital_id: Set(checked.hospital_id),
                requesting_centre: Set(checked.centre.clone()),
                patient_reference: Set(checked.reference.clone()),
                patient_sex: Set(new.patient.sex.map(|sex| sex.as_str().to_owned())),
                patient_age_band: Set(new.patient.age_band.map(|band| band.as_str().to_owned())),
                patient_shared: Set(new.patient.shared),
                product: Set(new.product.as_str().to_owned()),
                urgency: Set(new.urgency.as_str().to_owned()),
                coordinator_id: Set(coordinator_id),
                coordinator_phone: Set(checked.phone.clone()),
                state: Set(CaseState::Active.as_str().to_owned()),
                stage: Set(Stage::SearchHit.as_str().to_owned()),
                stage_on: Set(hit_on),
                stage_due_at: Set(due_at(txn, &model.branch_code, Stage::SearchHit, now).await?),
                overdue_alerted_at: Set(None),
                stale_contact: Set(stale),
                opened_at: Set(now),
                opened_by: Set(*actor_id),
                ended_at: Set(None),
                ended_stage: Set(None),
                ended_by: Set(None),
                end_cause: Set(None),
                end_note: Set(None),
                late_regret: Set(false),
                collected_ml: Set(None),
                planned_exam_on: Set(None),
                planned_collection_on: Set(None),
                updated_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|err| AppError::on_constraint(err, Some(already_in_case()), None))?;
            record_step(txn, id, Stage::SearchHit, hit_on, *actor_id, now).await?;
            if stale {
                alerts::raise(txn, &model.branch_code, Some(model.id), AlertKind::CaseStaleContact).await?;
            }
            let entry = AuditEntry {
                subject: Some(("donation_case", id)),
                detail: Some(format!("{}/{}", new.product.as_str(), new.urgency.as_str())),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::CaseOpened, entry).await?;
            Ok(Ok(case))
        })??;
        self.view(case)
    }

    /// The checked parts of a new case that need no volunteer.
    async fn check_new(&self, new: &NewCase) -> AppResult<Checked> {
        let reference = new.patient.reference.trim();
        let well_formed = (1..=MAX_REFERENCE_CHARS).contains(&reference.chars().count())
            && reference.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'));
        if !well_formed {
            return Err(AppError::invalid(
                "input.patientReference",
                format!(
                    "must be the centre's code for the patient: 1 to {MAX_REFERENCE_CHARS} letters, digits, '-', '_' or '/', never a name"
                ),
            ));
        }
        let (hospital_id, centre) = match &new.requester {
            Requester::Hospital(id) => {
                let registered = hospital::Entity::find_by_id(*id)
                    .filter(hospital::Column::DisabledAt.is_null())
                    .one(&self.db)
                    .await?
                    .is_some();
                if !registered {
                    return Err(AppError::invalid("input.requestingHospitalId", "is not a registered hospital"));
                }
                (Some(*id), None)
            }
            Requester::Centre(name) => {
                let name = short_text(name, MAX_CENTRE_CHARS).map_err(AppError::field("input.requestingCentre"))?;
                (None, Some(name))
            }
        };
        let phone = new
            .coordinator_phone
            .as_deref()
            .map(|phone| {
                let phone = phone.trim();
                let shaped = (3..=32).contains(&phone.len())
                    && phone.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
                if shaped {
                    Ok(phone.to_owned())
                } else {
                    Err(AppError::invalid("input.coordinatorPhone", "must be a work phone number"))
                }
            })
            .transpose()?;
        Ok(Checked { reference: reference.to_owned(), hospital_id, centre, phone })
    }

    /// The staff account to make responsible: an enabled coordinator of the branch, or a
    /// national administrator.
    async fn responsible(&self, id: Uuid, branch_code: &str) -> AppResult<Uuid> {
        let account = staff_account::Entity::find_by_id(id)
            .filter(staff_account::Column::DisabledAt.is_null())
            .one(&self.db)
            .await?;
        match account {
            Some(account)
                if account.role == StaffRole::NationalAdmin
                    || (account.role == StaffRole::BranchCoordinator && account.branch_code == branch_code) =>
            {
                Ok(id)
            }
            _ => Err(AppError::invalid("input.coordinatorId", "must be a coordinator of the volunteer's branch")),
        }
    }
}

struct Checked {
    reference: String,
    hospital_id: Option<Uuid>,
    centre: Option<String>,
    phone: Option<String>,
}

fn already_in_case() -> AppError {
    AppError::Conflict { field: "input.volunteerId".into(), message: "is already in an active case".into() }
}

/// Writes a step of case `case_id`, on the caller's transaction.
pub(super) async fn record_step(
    txn: &DatabaseTransaction,
    case_id: Uuid,
    stage: Stage,
    on: NaiveDate,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    case_milestone::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        stage: Set(stage.as_str().to_owned()),
        occurred_on: Set(on),
        recorded_at: Set(now),
        recorded_by: Set(by),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// When a stage entered at `now` is due to move on, by the branch's deadline for it; `None` for
/// a stage without one.
pub(super) async fn due_at<C: ConnectionTrait>(
    conn: &C,
    branch_code: &str,
    stage: Stage,
    now: DateTime<Utc>,
) -> AppResult<Option<DateTime<Utc>>> {
    let deadline =
        case_stage_deadline::Entity::find_by_id((branch_code.to_owned(), stage.as_str().to_owned())).one(conn).await?;
    Ok(deadline.map(|deadline| now + Duration::days(i64::from(deadline.response_days))))
}
