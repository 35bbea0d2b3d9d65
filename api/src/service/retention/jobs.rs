//! The retention jobs: the daily refresh of the lost-contact work queue, the hourly attrition
//! snapshot, and filling in the name prefixes of records written before they existed.
//!
//! Every replica runs the schedule, but a lease in the database lets one replica run each job
//! per period: refreshing the queue of 3.6 million volunteers twice at once helps nobody.

use chrono::{DateTime, Duration, Utc};
use entity::{job_lease, volunteer, volunteer_name_prefix};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TryInsertResult,
};
use tokio::sync::watch;
use uuid::Uuid;

use super::{Attrition, QueueRefresh, WorkQueue};
use crate::db;
use crate::domain::PersonName;
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::volunteer::index_name_prefixes;

/// How often a replica looks whether a job is due.
const TICK: std::time::Duration = std::time::Duration::from_mins(5);
/// Records given their name prefixes per run: the backfill of an upgrade, a batch a day.
const BACKFILL_BATCH: u64 = 5_000;

/// What one run of the jobs did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionRun {
    /// `None` when another replica held the job.
    pub queue: Option<QueueRefresh>,
    pub attrition_rows: Option<u64>,
    pub names_indexed: u64,
}

#[derive(Clone, Debug)]
pub struct RetentionJobs {
    db: DatabaseConnection,
    keys: std::sync::Arc<KeyRing>,
    work_queue: WorkQueue,
    attrition: Attrition,
}

impl RetentionJobs {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: std::sync::Arc<KeyRing>,
        work_queue: WorkQueue,
        attrition: Attrition,
    ) -> Self {
        Self { db, keys, work_queue, attrition }
    }

    /// Runs whichever jobs are due at `now` and not held by another replica.
    ///
    /// # Errors
    /// The database failed; what committed stays.
    pub async fn run_due(&self, now: DateTime<Utc>) -> AppResult<RetentionRun> {
        let mut run = RetentionRun::default();
        if self.claim("retention.work_queue", Duration::hours(23), now).await? {
            run.queue = Some(self.work_queue.refresh(now).await?);
            run.names_indexed = self.backfill_name_prefixes().await?;
        }
        if self.claim("retention.attrition", Duration::minutes(55), now).await? {
            run.attrition_rows = Some(self.attrition.snapshot(now).await?);
        }
        if run != RetentionRun::default() {
            tracing::info!(queue = ?run.queue, attrition = ?run.attrition_rows, names = run.names_indexed, "retention jobs ran");
        }
        Ok(run)
    }

    /// Runs the jobs as they fall due until `shutdown` turns true.
    pub async fn run_scheduled(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(err) = self.run_due(Utc::now()).await {
                tracing::warn!(error = ?err, "retention jobs failed; retrying at the next tick");
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }

    /// Takes the job's lease for `period` if no replica holds it.
    async fn claim(&self, name: &str, period: Duration, now: DateTime<Utc>) -> AppResult<bool> {
        let inserted = job_lease::Entity::insert(job_lease::ActiveModel {
            name: Set(name.to_owned()),
            started_at: Set(now),
            lease_until: Set(now + period),
        })
        .on_conflict_do_nothing_on([job_lease::Column::Name])
        .exec_without_returning(&self.db)
        .await?;
        if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            return Ok(true);
        }
        let taken = job_lease::Entity::update_many()
            .col_expr(job_lease::Column::StartedAt, Expr::value(now))
            .col_expr(job_lease::Column::LeaseUntil, Expr::value(now + period))
            .filter(job_lease::Column::Name.eq(name))
            .filter(job_lease::Column::LeaseUntil.lte(now))
            .exec(&self.db)
            .await?;
        Ok(taken.rows_affected == 1)
    }

    /// Gives name prefixes to records that have none (written before name search existed).
    async fn backfill_name_prefixes(&self) -> AppResult<u64> {
        let unindexed: Vec<(Uuid, Vec<u8>)> = volunteer::Entity::find()
            .select_only()
            .columns([volunteer::Column::Id, volunteer::Column::Name])
            .filter(
                Expr::exists(
                    Query::select()
                        .expr(Expr::val(1))
                        .from(volunteer_name_prefix::Entity)
                        .and_where(
                            Expr::col((volunteer_name_prefix::Entity, volunteer_name_prefix::Column::VolunteerId))
                                .equals((volunteer::Entity, volunteer::Column::Id)),
                        )
                        .to_owned(),
                )
                .not(),
            )
            .limit(BACKFILL_BATCH)
            .into_tuple()
            .all(&self.db)
            .await?;
        db::write!(&self.db, |txn| {
            let mut indexed = 0;
            for (id, sealed) in &unindexed {
                let id = *id;
                let clear =
                    self.keys.cipher.decrypt(sealed, registry::VOLUNTEER_NAME.at(id)).map_err(AppError::internal)?;
                let name = PersonName::parse(&clear)
                    .map_err(|_| AppError::internal(anyhow::anyhow!("stored name unreadable")))?;
                if !name.search_prefixes().is_empty() {
                    index_name_prefixes(txn, &self.keys, id, &name).await?;
                    indexed += 1;
                }
            }
            Ok(indexed)
        })
    }
}
