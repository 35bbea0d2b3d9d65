//! Scheduled work that one replica runs per period: every replica ticks, and a lease row in
//! `job_lease` lets one of them run each task.
//!
//! The lease first covers a run ([`RUN_LEASE`] at most): a replica that dies mid-run lets
//! another retake the task when it runs out. A finished run then holds the lease until the
//! period ends; a failed one until a short retry delay has passed.

use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::job_lease;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TryInsertResult};

use crate::error::AppResult;

/// The longest a run holds its task before another replica may retake it.
const RUN_LEASE: Duration = Duration::minutes(30);
/// How long a failed run waits before any replica tries again.
const RETRY_AFTER: Duration = Duration::minutes(5);

/// Work that runs once per period across all replicas.
#[async_trait]
pub trait Periodic: Send + Sync + 'static {
    /// The lease's name, for example `retention.attrition`.
    fn name(&self) -> &'static str;

    /// How often it runs.
    fn every(&self) -> Duration;

    /// One run at `now`. It must be safe to run again after a crash half-way: a retaken run
    /// starts over. Returns how much it did, for the logs.
    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64>;
}

/// Runs `task` if no replica holds it at `now`; `None` when one does.
///
/// # Errors
/// The database failed; a run that failed holds the task for [`RETRY_AFTER`].
pub async fn run_if_due(db: &DatabaseConnection, task: &dyn Periodic, now: DateTime<Utc>) -> AppResult<Option<u64>> {
    // Stored at microseconds on PostgreSQL: the lease is found again by its start.
    let now = now.trunc_subsecs(6);
    let name = task.name();
    if !take(db, name, now, now + task.every().min(RUN_LEASE)).await? {
        return Ok(None);
    }
    let outcome = task.run(now).await;
    let hold_until = match &outcome {
        Ok(_) => now + task.every(),
        Err(_) => Utc::now() + RETRY_AFTER,
    };
    job_lease::Entity::update_many()
        .col_expr(job_lease::Column::LeaseUntil, Expr::value(hold_until))
        .filter(job_lease::Column::Name.eq(name))
        .filter(job_lease::Column::StartedAt.eq(now))
        .exec(db)
        .await?;
    outcome.map(Some)
}

/// Takes the task's lease until `until` if no replica holds it.
async fn take(db: &DatabaseConnection, name: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> AppResult<bool> {
    let inserted = job_lease::Entity::insert(job_lease::ActiveModel {
        name: Set(name.to_owned()),
        started_at: Set(now),
        lease_until: Set(until),
    })
    .on_conflict_do_nothing_on([job_lease::Column::Name])
    .exec_without_returning(db)
    .await?;
    if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(true);
    }
    let taken = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::StartedAt, Expr::value(now))
        .col_expr(job_lease::Column::LeaseUntil, Expr::value(until))
        .filter(job_lease::Column::Name.eq(name))
        .filter(job_lease::Column::LeaseUntil.lte(now))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}
