//! The dates a coordinator plans for a case's exam and collection. Cases at centres that are
//! not partner hospitals have no accepted admission to read them from, and the donor needs
//! them for a leave letter before the day.

use chrono::{NaiveDate, Utc};
use entity::donation_case;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{CaseService, CaseView, in_scope};
use crate::db;
use crate::domain::calendar;
use crate::domain::donation::CaseState;
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{Coordinator, Principal};

/// The planned days; none clears one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlannedDates {
    pub exam_on: Option<NaiveDate>,
    pub collection_on: Option<NaiveDate>,
}

impl CaseService {
    /// Plans the exam and collection days of an active case. Audited.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.examOn` or `input.collectionOn` for a day before the case
    /// opened, or a collection not after the exam; NOT_FOUND; FORBIDDEN for another branch's
    /// case; CONFLICT on `caseId` for a case that is not active.
    pub async fn plan_dates(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        case_id: Uuid,
        plan: PlannedDates,
        request_id: Option<&str>,
    ) -> AppResult<CaseView> {
        let case = in_scope(&self.db, &coordinator.scope, case_id).await?;
        let opened_on = calendar::today(case.opened_at);
        for (field, day) in [("input.examOn", plan.exam_on), ("input.collectionOn", plan.collection_on)] {
            if day.is_some_and(|day| day < opened_on) {
                return Err(AppError::invalid(field, "is before the case opened"));
            }
        }
        if let (Some(exam), Some(collection)) = (plan.exam_on, plan.collection_on)
            && collection <= exam
        {
            return Err(AppError::invalid("input.collectionOn", "must come after the exam"));
        }
        let row = db::write!(&self.db, |txn| {
            let changed = donation_case::Entity::update_many()
                .col_expr(donation_case::Column::PlannedExamOn, Expr::value(plan.exam_on))
                .col_expr(donation_case::Column::PlannedCollectionOn, Expr::value(plan.collection_on))
                .col_expr(donation_case::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(donation_case::Column::Id.eq(case_id))
                .filter(donation_case::Column::State.eq(CaseState::Active.as_str()))
                .exec(txn)
                .await?;
            if changed.rows_affected == 0 {
                return Ok(Err(AppError::Conflict {
                    field: "caseId".into(),
                    message: "the case is not active".into(),
                }));
            }
            let entry = AuditEntry { subject: Some(("donation_case", case_id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::CaseDatesPlanned, entry).await?;
            Ok(Ok(donation_case::Entity::find_by_id(case_id).one(txn).await?.ok_or(AppError::Contended)?))
        })??;
        self.view(row)
    }
}
