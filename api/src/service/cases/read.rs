//! Reading cases: the staff's case page and case list, logging an attempt to reach the donor,
//! and the requesting hospital's view, which says how a request went and never who the donor
//! is.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{case_milestone, donation_case};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use super::{CaseService, CaseView, FollowUpView, RequestView};
use crate::db;
use crate::domain::donation::{CaseState, EndCause, EndedBy, Product, Stage, Urgency};
use crate::error::{AppError, AppResult};
use crate::service::keyset::{self, Page};
use crate::service::volunteer::{AttemptView, NewAttempt, checked_note};
use crate::service::{Coordinator, PartnerHospital, Principal, VolunteerReader};

/// Most cases one page of the list holds.
pub const MAX_CASES: u64 = 100;
const CURSOR_TAG: &str = "cases";

/// A step as recorded.
#[derive(Clone, Debug)]
pub struct MilestoneView {
    pub stage: Stage,
    pub on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Uuid,
}

/// Everything the staff's case page shows, read in a fixed number of statements.
#[derive(Clone, Debug)]
pub struct CasePage {
    pub case: CaseView,
    pub milestones: Vec<MilestoneView>,
    pub attempts: Vec<AttemptView>,
    pub requests: Vec<RequestView>,
    pub follow_ups: Vec<FollowUpView>,
}

/// Which cases a list shows.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    /// Required of branch roles' own branch; any or none for national roles.
    pub branch_code: Option<String>,
    pub state: Option<CaseState>,
    pub stage: Option<Stage>,
}

/// A case as the requesting hospital sees it: its own reference, where it stands, and how it
/// ended, in terms that name no one.
#[derive(Clone, Debug)]
pub struct RequestedCase {
    pub id: Uuid,
    pub patient_reference: String,
    pub product: Product,
    pub urgency: Urgency,
    pub opened_on: NaiveDate,
    pub state: CaseState,
    pub stage: Stage,
    pub ended: Option<RequestOutcome>,
}

/// Why a request ended, as the requester is told: whose side, and for the donor's side only
/// whether the donor could not be reached or was deferred on health. The donor's own reasons
/// (family, fear, work) are theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    DonorNotReachable,
    DonorMedicallyDeferred,
    DonorDeclined,
    EndedByRequester,
    EndedByRegistry,
}

impl RequestOutcome {
    fn of(by: EndedBy, cause: EndCause) -> Self {
        match (by, cause) {
            (_, EndCause::LostContact) => Self::DonorNotReachable,
            (EndedBy::Donor | EndedBy::Registry, EndCause::Health) => Self::DonorMedicallyDeferred,
            (EndedBy::Donor, _) => Self::DonorDeclined,
            (EndedBy::Patient, _) => Self::EndedByRequester,
            (EndedBy::Registry, _) => Self::EndedByRegistry,
        }
    }
}

impl CaseService {
    /// The staff's case page: the case, its steps, the attempts to reach the donor, concerns
    /// and questions, and the check-ups, in six statements whatever their number.
    ///
    /// # Errors
    /// NOT_FOUND; FORBIDDEN for another branch's case.
    pub async fn page(&self, reader: &VolunteerReader, id: Uuid) -> AppResult<CasePage> {
        let case = self.view(super::in_scope(&self.db, &reader.scope, id).await?)?;
        let milestones = case_milestone::Entity::find()
            .filter(case_milestone::Column::CaseId.eq(id))
            .order_by_asc(case_milestone::Column::OccurredOn)
            .order_by_asc(case_milestone::Column::RecordedAt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| MilestoneView {
                stage: Stage::parse(&row.stage).unwrap_or(Stage::SearchHit),
                on: row.occurred_on,
                recorded_at: row.recorded_at,
                recorded_by: row.recorded_by,
            })
            .collect();
        Ok(CasePage {
            milestones,
            attempts: self.attempts.attempts_on_case(id).await?,
            requests: self.requests_of(&[id]).await?,
            follow_ups: self.follow_ups_of(&[id]).await?,
            case,
        })
    }

    /// The cases of a branch (every branch, for national roles that name none), newest first,
    /// filtered by state and stage.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first` or `after`; FORBIDDEN for another branch.
    pub async fn list(
        &self,
        reader: &VolunteerReader,
        filter: &CaseFilter,
        first: u64,
        after: Option<&str>,
    ) -> AppResult<Page<CaseView>> {
        let mut query = donation_case::Entity::find();
        if let Some(branch) = reader.scope.branch_read(filter.branch_code.as_deref())? {
            query = query.filter(donation_case::Column::BranchCode.eq(branch));
        }
        if let Some(state) = filter.state {
            query = query.filter(donation_case::Column::State.eq(state.as_str()));
        }
        if let Some(stage) = filter.stage {
            query = query.filter(donation_case::Column::Stage.eq(stage.as_str()));
        }
        self.newest_first(query, first, after, |case| self.view(case)).await
    }

    /// Logs an attempt to reach the donor of an active case, in the volunteer's attempt log: a
    /// wrong number is marked on the contact, reaching them confirms the record, and the case
    /// counts the failures that let the coordinator end it as lost contact.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.note`; CONFLICT on `caseId` for a case no longer active;
    /// NOT_FOUND; FORBIDDEN.
    pub async fn log_attempt(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        case_id: Uuid,
        attempt: NewAttempt,
        request_id: Option<&str>,
    ) -> AppResult<AttemptView> {
        let note = checked_note(&attempt)?;
        let case = self.view(super::in_scope(&self.db, &coordinator.scope, case_id).await?)?;
        if case.state != CaseState::Active {
            return Err(AppError::Conflict { field: "caseId".into(), message: "the case is no longer active".into() });
        }
        let volunteer_id = case.volunteer_id.ok_or(AppError::NotFound { resource: "volunteer" })?;
        let attempt = NewAttempt { case_id: Some(case_id), ..attempt };
        let id = Uuid::now_v7();
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            let model = self.volunteers.find_model_on(txn, volunteer_id).await?;
            self.attempts.record_in(txn, actor, &model, id, &attempt, note.as_deref(), now, request_id).await
        })?;
        self.attempts
            .attempts_on_case(case_id)
            .await?
            .into_iter()
            .find(|logged| logged.id == id)
            .ok_or(AppError::NotFound { resource: "attempt" })
    }

    /// The requests of the calling hospital, newest first.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first` or `after`.
    pub async fn requested(
        &self,
        hospital: &PartnerHospital,
        first: u64,
        after: Option<&str>,
    ) -> AppResult<Page<RequestedCase>> {
        let query = donation_case::Entity::find().filter(donation_case::Column::RequestingHospitalId.eq(hospital.id));
        self.newest_first(query, first, after, |case| self.requested_view(case)).await
    }

    /// A page of the cases `query` selects, newest opened first, each made a view: the one
    /// order of the staff's list and the hospital's.
    async fn newest_first<T>(
        &self,
        query: Select<donation_case::Entity>,
        first: u64,
        after: Option<&str>,
        view: impl Fn(donation_case::Model) -> AppResult<T>,
    ) -> AppResult<Page<T>> {
        keyset::check_first(first, MAX_CASES)?;
        let mut query = query
            .order_by_desc(donation_case::Column::OpenedAt)
            .order_by_desc(donation_case::Column::Id)
            .limit(keyset::fetch_size(first));
        if let Some(cursor) = after {
            let (at, id) = keyset::read_time_cursor(cursor, CURSOR_TAG)?;
            query =
                query.filter(keyset::after(donation_case::Column::OpenedAt, at, donation_case::Column::Id, id, true));
        }
        let rows = query.all(&self.db).await?;
        let page = Page::cut(rows, first, |last| keyset::time_cursor(CURSOR_TAG, last.opened_at, last.id));
        let nodes = page.nodes.into_iter().map(view).collect::<AppResult<Vec<_>>>()?;
        Ok(Page { nodes, next_cursor: page.next_cursor })
    }

    /// One request of the calling hospital.
    ///
    /// # Errors
    /// NOT_FOUND; FORBIDDEN for a case another hospital (or an outside centre) requested.
    pub async fn requested_one(&self, hospital: &PartnerHospital, id: Uuid) -> AppResult<RequestedCase> {
        let case = donation_case::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "case" })?;
        if case.requesting_hospital_id != Some(hospital.id) {
            return Err(AppError::Forbidden);
        }
        self.requested_view(case)
    }

    fn requested_view(&self, case: donation_case::Model) -> AppResult<RequestedCase> {
        let view = self.view(case)?;
        Ok(RequestedCase {
            id: view.id,
            patient_reference: view.patient_reference,
            product: view.product,
            urgency: view.urgency,
            opened_on: crate::domain::calendar::today(view.opened_at),
            state: view.state,
            stage: view.ended.as_ref().map_or(view.stage, |ended| ended.stage),
            ended: view.ended.map(|ended| RequestOutcome::of(ended.by, ended.cause)),
        })
    }
}
