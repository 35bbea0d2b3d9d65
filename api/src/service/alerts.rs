//! Alerts for branch coordinators, raised by volunteers' actions in the app: a volunteer
//! reserved for a patient tried to withdraw, or asked for a staff call to their family; and by
//! background work that failed for good.

use chrono::{DateTime, Utc};
use entity::staff_alert;
use futures::future::BoxFuture;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::audit::{self, AuditAction, AuditEntry};
use super::keyset::{self, Page};
use super::{BranchScope, Principal, Unmasker};
use crate::db;
use crate::error::{AppError, AppResult};

/// Most alerts one call returns.
pub const MAX_ALERTS: u64 = 100;
/// Names the order of alert cursors.
const CURSOR_TAG: &str = "alerts";

/// What a coordinator is alerted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    /// A volunteer reserved for a patient tried to withdraw in the app: call them.
    WithdrawalDuringCase,
    /// A volunteer asked staff to talk to their family.
    FamilyCallRequested,
    /// Background work for the branch ran out of attempts, or its outcome is unknown.
    JobFailed,
    /// A volunteer reclaiming their record from a new phone asked for a call: the number is on
    /// the record as `REPORTED_PHONE`.
    RecoveryCallBack,
    /// A case opened for a volunteer whose last confirmation is older than the branch's
    /// threshold: reach them before anything else.
    CaseStaleContact,
    /// A case's stage waited past the branch's deadline for its next step.
    CaseStageOverdue,
    /// The donor backed out after clearance: the patient may be in conditioning. The most
    /// urgent alert there is.
    LateRegret,
    /// The donor asked their coordinator a question from the app.
    CaseQuestion,
    /// The donor said from the app that their family is worried.
    CaseFamilyConcern,
    /// A volunteer in an active case reconnected with a new number: call them on it.
    CaseDonorReconnected,
    /// Another search hit on a volunteer already in an active case was refused.
    CaseSecondRequest,
    /// A partner hospital let an admission request pass its deadline unanswered: re-route it.
    AdmissionOverdue,
}

impl AlertKind {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WithdrawalDuringCase => "withdrawal_during_case",
            Self::FamilyCallRequested => "family_call_requested",
            Self::JobFailed => "job_failed",
            Self::RecoveryCallBack => "recovery_call_back",
            Self::CaseStaleContact => "case_stale_contact",
            Self::CaseStageOverdue => "case_stage_overdue",
            Self::LateRegret => "late_regret",
            Self::CaseQuestion => "case_question",
            Self::CaseFamilyConcern => "case_family_concern",
            Self::CaseDonorReconnected => "case_donor_reconnected",
            Self::CaseSecondRequest => "case_second_request",
            Self::AdmissionOverdue => "admission_overdue",
        }
    }

    /// Whether the alert must be acted on at once: a patient's life may hang on it.
    #[must_use]
    pub fn is_urgent(kind: &str) -> bool {
        [Self::LateRegret, Self::WithdrawalDuringCase].iter().any(|urgent| urgent.as_str() == kind)
    }
}

/// Raises an alert for the coordinators of `branch_code`, about a volunteer when there is one,
/// on `conn` (the transaction of what raised it, when there is one).
///
/// # Errors
/// The database failed.
pub async fn raise<C: ConnectionTrait>(
    conn: &C,
    branch_code: &str,
    volunteer_id: Option<Uuid>,
    kind: AlertKind,
) -> AppResult<()> {
    staff_alert::ActiveModel {
        id: Set(Uuid::now_v7()),
        branch_code: Set(branch_code.to_owned()),
        volunteer_id: Set(volunteer_id),
        kind: Set(kind.as_str().to_owned()),
        created_at: Set(Utc::now()),
        resolved_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The alert for a job of the branch that died, as the job engine raises it.
#[must_use]
pub fn job_failed<'a>(txn: &'a DatabaseTransaction, branch_code: &'a str) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(raise(txn, branch_code, None, AlertKind::JobFailed))
}

/// An alert as a coordinator sees it.
#[derive(Clone, Debug)]
pub struct StaffAlertView {
    pub id: Uuid,
    pub branch_code: String,
    pub volunteer_id: Option<Uuid>,
    /// `withdrawal_during_case`, `family_call_requested`, `job_failed` or `recovery_call_back`.
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct StaffAlertService {
    db: DatabaseConnection,
}

impl StaffAlertService {
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The alerts of the coordinator's branch (every branch for national administrators),
    /// newest first; open ones only unless `include_resolved`: a page of `first` (at most
    /// [`MAX_ALERTS`]) after the cursor `after`.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first` or `after`; the database failed.
    pub async fn page(
        &self,
        coordinator: &Unmasker,
        include_resolved: bool,
        first: u64,
        after: Option<&str>,
    ) -> AppResult<Page<StaffAlertView>> {
        keyset::check_first(first, MAX_ALERTS)?;
        let mut query = staff_alert::Entity::find()
            .order_by_desc(staff_alert::Column::CreatedAt)
            .order_by_desc(staff_alert::Column::Id)
            .limit(keyset::fetch_size(first));
        if let BranchScope::Branch(branch) = &coordinator.scope {
            query = query.filter(staff_alert::Column::BranchCode.eq(branch.as_str()));
        }
        if !include_resolved {
            query = query.filter(staff_alert::Column::ResolvedAt.is_null());
        }
        if let Some(cursor) = after {
            let (at, id) = keyset::read_time_cursor(cursor, CURSOR_TAG)?;
            query = query.filter(keyset::after(staff_alert::Column::CreatedAt, at, staff_alert::Column::Id, id, true));
        }
        let rows = query.all(&self.db).await?;
        let page = Page::cut(rows, first, |last| keyset::time_cursor(CURSOR_TAG, last.created_at, last.id));
        Ok(page.map(|row| StaffAlertView {
            id: row.id,
            branch_code: row.branch_code,
            volunteer_id: row.volunteer_id,
            kind: row.kind,
            created_at: row.created_at,
            resolved_at: row.resolved_at,
        }))
    }

    /// The newest [`MAX_ALERTS`] alerts, as [`Self::page`] gives its first page; for the
    /// deprecated `staffAlerts`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self, coordinator: &Unmasker, include_resolved: bool) -> AppResult<Vec<StaffAlertView>> {
        Ok(self.page(coordinator, include_resolved, MAX_ALERTS, None).await?.nodes)
    }

    /// Marks an alert handled. Audited.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown or already resolved alert; FORBIDDEN for another branch's.
    pub async fn resolve(
        &self,
        coordinator: &Unmasker,
        actor: &Principal,
        id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let alert = staff_alert::Entity::find_by_id(id)
            .filter(staff_alert::Column::ResolvedAt.is_null())
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "alert" })?;
        if !coordinator.scope.admits(&alert.branch_code) {
            return Err(AppError::Forbidden);
        }
        db::write!(&self.db, |txn| {
            staff_alert::Entity::update_many()
                .col_expr(staff_alert::Column::ResolvedAt, Expr::value(Utc::now()))
                .filter(staff_alert::Column::Id.eq(id))
                .exec(txn)
                .await?;
            let entry = AuditEntry { subject: Some(("staff_alert", id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::StaffAlertResolve, entry).await?;
            Ok(())
        })
    }
}
