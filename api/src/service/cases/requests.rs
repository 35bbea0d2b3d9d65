//! Family concerns and questions on a case. Either side may raise one: the coordinator, or the
//! donor from the app ("my family is worried", "I have a question"). A family concern gets a
//! family session (a date, who attends) and an outcome; until the coordinator resolves it, the
//! case cannot pass clearance.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{case_request, donation_case};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::CaseService;
use crate::db;
use crate::domain::contact::short_text;
use crate::domain::donation::{CaseState, RequestKind};
use crate::error::{AppError, AppResult};
use crate::pii::registry;
use crate::service::alerts::{self, AlertKind};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{Coordinator, OwnRecord, Principal};

/// Longest text of a concern, a question or an outcome, in characters.
const MAX_TEXT_CHARS: usize = 500;
/// Longest list of who attends a family session.
const MAX_ATTENDEES_CHARS: usize = 200;

/// A concern or a question as staff and the donor read it.
#[derive(Clone, Debug)]
pub struct RequestView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: RequestKind,
    /// `volunteer` or `staff`.
    pub raised_by: String,
    pub detail: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub session_on: Option<NaiveDate>,
    pub session_attendees: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
}

impl CaseService {
    /// Raises a concern or a question on an active case, for the coordinator.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.detail`; CONFLICT on `caseId` for a case no longer active;
    /// NOT_FOUND; FORBIDDEN.
    pub async fn raise(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        case_id: Uuid,
        kind: RequestKind,
        detail: Option<&str>,
        request_id: Option<&str>,
    ) -> AppResult<RequestView> {
        let detail = checked(detail, "input.detail")?;
        let case = super::in_scope(&self.db, &coordinator.scope, case_id).await?;
        self.insert_request(actor, case, kind, "staff", detail, request_id).await
    }

    /// The donor tells their coordinator they have a question, or that their family is worried,
    /// on their active case. The coordinator is alerted.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `message`; NOT_FOUND when the volunteer has no active case.
    pub async fn tell_coordinator(
        &self,
        me: &OwnRecord,
        kind: RequestKind,
        message: Option<&str>,
        request_id: Option<&str>,
    ) -> AppResult<RequestView> {
        let detail = checked(message, "message")?;
        let case = donation_case::Entity::find()
            .filter(donation_case::Column::VolunteerId.eq(me.id))
            .filter(donation_case::Column::State.eq(CaseState::Active.as_str()))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "active case" })?;
        self.insert_request(&Principal::Volunteer { id: me.id }, case, kind, "volunteer", detail, request_id).await
    }

    async fn insert_request(
        &self,
        actor: &Principal,
        case: donation_case::Model,
        kind: RequestKind,
        raised_by: &'static str,
        detail: Option<String>,
        request_id: Option<&str>,
    ) -> AppResult<RequestView> {
        let volunteer_id = case.volunteer_id.ok_or(AppError::NotFound { resource: "volunteer" })?;
        let id = Uuid::now_v7();
        let now = Utc::now();
        let row = db::write!(&self.db, |txn| {
            let active = donation_case::Entity::find_by_id(case.id)
                .filter(donation_case::Column::State.eq(CaseState::Active.as_str()))
                .one(txn)
                .await?;
            if active.is_none() {
                return Ok(Err(AppError::Conflict {
                    field: "caseId".into(),
                    message: "the case is no longer active".into(),
                }));
            }
            let row = case_request::ActiveModel {
                id: Set(id),
                case_id: Set(case.id),
                volunteer_id: Set(volunteer_id),
                branch_code: Set(case.branch_code.clone()),
                kind: Set(kind.as_str().to_owned()),
                raised_by: Set(raised_by.to_owned()),
                detail: Set(detail
                    .as_deref()
                    .map(|text| self.keys.cipher.encrypt(text, registry::CASE_REQUEST_DETAIL.at(id)))),
                raised_at: Set(now),
                session_on: Set(None),
                session_attendees: Set(None),
                resolved_at: Set(None),
                resolved_by: Set(None),
                outcome: Set(None),
            }
            .insert(txn)
            .await?;
            if raised_by == "volunteer" {
                let alert = if kind == RequestKind::FamilyConcern {
                    AlertKind::CaseFamilyConcern
                } else {
                    AlertKind::CaseQuestion
                };
                alerts::raise(txn, &case.branch_code, Some(volunteer_id), alert).await?;
            }
            let entry = AuditEntry {
                subject: Some(("donation_case", case.id)),
                detail: Some(kind.as_str().to_owned()),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::CaseRequestRaised, entry).await?;
            Ok(Ok(row))
        })??;
        self.request_view(row)
    }

    /// Books the family session for an open family concern: its date and who attends.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.attendees`; CONFLICT on `caseRequestId` for a question or a
    /// resolved concern; NOT_FOUND; FORBIDDEN.
    pub async fn book_session(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        request: Uuid,
        on: NaiveDate,
        attendees: &str,
        request_id: Option<&str>,
    ) -> AppResult<RequestView> {
        let attendees = short_text(attendees, MAX_ATTENDEES_CHARS).map_err(AppError::field("input.attendees"))?;
        let row = self.open_request(coordinator, request).await?;
        if row.kind != RequestKind::FamilyConcern.as_str() {
            return Err(AppError::Conflict {
                field: "caseRequestId".into(),
                message: "is a question, not a family concern".into(),
            });
        }
        let sealed = self.keys.cipher.encrypt(&attendees, registry::CASE_REQUEST_SESSION_ATTENDEES.at(request));
        let row = db::write!(&self.db, |txn| {
            case_request::Entity::update_many()
                .col_expr(case_request::Column::SessionOn, Expr::value(on))
                .col_expr(case_request::Column::SessionAttendees, Expr::value(sealed.clone()))
                .filter(case_request::Column::Id.eq(request))
                .filter(case_request::Column::ResolvedAt.is_null())
                .exec(txn)
                .await?;
            let entry = AuditEntry { subject: Some(("donation_case", row.case_id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::CaseSessionBooked, entry).await?;
            case_request::Entity::find_by_id(request).one(txn).await?.ok_or(AppError::NotFound { resource: "request" })
        })?;
        self.request_view(row)
    }

    /// Resolves a concern or answers a question, with its outcome.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `outcome`; CONFLICT on `caseRequestId` once resolved; NOT_FOUND; FORBIDDEN.
    pub async fn resolve(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        request: Uuid,
        outcome: &str,
        request_id: Option<&str>,
    ) -> AppResult<RequestView> {
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let outcome = short_text(outcome, MAX_TEXT_CHARS).map_err(AppError::field("outcome"))?;
        let row = self.open_request(coordinator, request).await?;
        let sealed = self.keys.cipher.encrypt(&outcome, registry::CASE_REQUEST_OUTCOME.at(request));
        let now = Utc::now();
        let row = db::write!(&self.db, |txn| {
            let resolved = case_request::Entity::update_many()
                .col_expr(case_request::Column::ResolvedAt, Expr::value(now))
                .col_expr(case_request::Column::ResolvedBy, Expr::value(*staff_id))
                .col_expr(case_request::Column::Outcome, Expr::value(sealed.clone()))
                .filter(case_request::Column::Id.eq(request))
                .filter(case_request::Column::ResolvedAt.is_null())
                .exec(txn)
                .await?
                .rows_affected;
            if resolved == 0 {
                return Ok(Err(already_resolved()));
            }
            let entry = AuditEntry {
                subject: Some(("donation_case", row.case_id)),
                detail: Some(row.kind.clone()),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::CaseRequestResolved, entry).await?;
            Ok(Ok(case_request::Entity::find_by_id(request)
                .one(txn)
                .await?
                .ok_or(AppError::NotFound { resource: "request" })?))
        })??;
        self.request_view(row)
    }

    /// An unresolved request of a case the coordinator reaches.
    async fn open_request(&self, coordinator: &Coordinator, request: Uuid) -> AppResult<case_request::Model> {
        let row = case_request::Entity::find_by_id(request)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "request" })?;
        if !coordinator.scope.admits(&row.branch_code) {
            return Err(AppError::Forbidden);
        }
        if row.resolved_at.is_some() {
            return Err(already_resolved());
        }
        Ok(row)
    }

    /// The requests of `case_ids`, oldest first, in one statement.
    pub(super) async fn requests_of(&self, case_ids: &[Uuid]) -> AppResult<Vec<RequestView>> {
        case_request::Entity::find()
            .filter(case_request::Column::CaseId.is_in(case_ids.iter().copied()))
            .order_by_asc(case_request::Column::RaisedAt)
            .order_by_asc(case_request::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| self.request_view(row))
            .collect()
    }

    fn request_view(&self, row: case_request::Model) -> AppResult<RequestView> {
        let open = |sealed: Option<&Vec<u8>>, column: registry::SealedColumn| {
            sealed
                .map(|sealed| self.keys.cipher.decrypt(sealed, column.at(row.id)))
                .transpose()
                .map_err(AppError::internal)
        };
        Ok(RequestView {
            id: row.id,
            case_id: row.case_id,
            kind: RequestKind::parse(&row.kind).unwrap_or(RequestKind::Question),
            detail: open(row.detail.as_ref(), registry::CASE_REQUEST_DETAIL)?,
            session_attendees: open(row.session_attendees.as_ref(), registry::CASE_REQUEST_SESSION_ATTENDEES)?,
            outcome: open(row.outcome.as_ref(), registry::CASE_REQUEST_OUTCOME)?,
            raised_by: row.raised_by,
            raised_at: row.raised_at,
            session_on: row.session_on,
            resolved_at: row.resolved_at,
        })
    }
}

/// An optional text, checked: when given, neither empty nor too long.
fn checked(text: Option<&str>, field: &'static str) -> AppResult<Option<String>> {
    text.map(|text| short_text(text, MAX_TEXT_CHARS)).transpose().map_err(AppError::field(field))
}

fn already_resolved() -> AppError {
    AppError::Conflict { field: "caseRequestId".into(), message: "is already resolved".into() }
}
