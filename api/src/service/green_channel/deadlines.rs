//! The green channel's scheduled work: requests past their deadline without an answer raise
//! one alert for the branch's coordinators, who re-route them; and idempotency keys past
//! their time are forgotten.

use chrono::{DateTime, Duration, Utc};
use entity::{admission_request, donation_case};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::GreenChannel;
use crate::db;
use crate::domain::admission::AdmissionStatus;
use crate::error::AppResult;
use crate::service::alerts::{self, AlertKind};
use crate::service::idempotency;

/// Requests escalated per run; the next run takes the rest.
const BATCH: u64 = 500;

impl GreenChannel {
    /// Alerts the coordinators of every request unanswered past its deadline, once each, and
    /// purges expired idempotency keys. Returns how many requests were escalated.
    ///
    /// # Errors
    /// The database failed; nothing of the run is kept, and the next run does it.
    pub async fn escalate_overdue(&self, now: DateTime<Utc>) -> AppResult<u64> {
        db::write!(&self.db, |txn| {
            let overdue: Vec<(Uuid, Uuid, String)> = admission_request::Entity::find()
                .select_only()
                .columns([
                    admission_request::Column::Id,
                    admission_request::Column::CaseId,
                    admission_request::Column::BranchCode,
                ])
                .filter(admission_request::Column::Status.eq(AdmissionStatus::Requested.as_str()))
                .filter(admission_request::Column::AnswerDueAt.lt(now))
                .filter(admission_request::Column::EscalatedAt.is_null())
                .limit(BATCH)
                .into_tuple()
                .all(txn)
                .await?;
            let volunteers: std::collections::HashMap<Uuid, Option<Uuid>> = donation_case::Entity::find()
                .select_only()
                .columns([donation_case::Column::Id, donation_case::Column::VolunteerId])
                .filter(donation_case::Column::Id.is_in(overdue.iter().map(|(_, case, _)| *case)))
                .into_tuple::<(Uuid, Option<Uuid>)>()
                .all(txn)
                .await?
                .into_iter()
                .collect();
            for (_, case, branch) in &overdue {
                let volunteer = volunteers.get(case).copied().flatten();
                alerts::raise(txn, branch, volunteer, AlertKind::AdmissionOverdue).await?;
            }
            admission_request::Entity::update_many()
                .col_expr(admission_request::Column::EscalatedAt, Expr::value(now))
                .filter(admission_request::Column::Id.is_in(overdue.iter().map(|(id, ..)| *id)))
                .exec(txn)
                .await?;
            idempotency::purge(txn, now).await?;
            Ok(overdue.len() as u64)
        })
    }
}

/// The deadline check, as the job engine's scheduler runs it: every five minutes, so a late
/// answer is escalated within minutes of its deadline.
#[derive(Clone, Debug)]
pub struct DeadlineTask(pub GreenChannel);

#[async_trait::async_trait]
impl crate::jobs::Periodic for DeadlineTask {
    fn name(&self) -> &'static str {
        "admissions.deadlines"
    }

    fn every(&self) -> Duration {
        Duration::minutes(5)
    }

    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64> {
        self.0.escalate_overdue(now).await
    }
}
