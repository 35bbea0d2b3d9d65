//! The retention tasks, run by the job engine's scheduler: the daily refresh of the
//! lost-contact work queue (with filling in the name prefixes of records written before they
//! existed), and the hourly attrition snapshot.
//!
//! Every replica ticks, but the engine's lease lets one replica run each task per period:
//! refreshing the queue of 3.6 million volunteers twice at once helps nobody. Both are safe to
//! run again after a crash half-way: the refresh and the snapshot rewrite what they derive.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use entity::{volunteer, volunteer_name_prefix};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{Attrition, WorkQueue};
use crate::db;
use crate::domain::PersonName;
use crate::error::{AppError, AppResult};
use crate::jobs::Periodic;
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::volunteer::index_name_prefixes;

/// Records given their name prefixes per run: the backfill of an upgrade, a batch a day.
const BACKFILL_BATCH: u64 = 5_000;

#[derive(Clone, Debug)]
pub struct RetentionJobs {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    work_queue: WorkQueue,
    attrition: Attrition,
}

impl RetentionJobs {
    pub(crate) fn new(db: DatabaseConnection, keys: Arc<KeyRing>, work_queue: WorkQueue, attrition: Attrition) -> Self {
        Self { db, keys, work_queue, attrition }
    }

    /// The tasks, for the job engine.
    #[must_use]
    pub fn periodic(&self) -> [Arc<dyn Periodic>; 2] {
        [Arc::new(QueueRefreshTask(self.clone())), Arc::new(AttritionTask(self.attrition.clone()))]
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

/// The daily refresh of the work queue, then the backfill. Daily less an hour, so that the run
/// does not creep later every day by its own length.
struct QueueRefreshTask(RetentionJobs);

#[async_trait]
impl Periodic for QueueRefreshTask {
    fn name(&self) -> &'static str {
        "retention.work_queue"
    }

    fn every(&self) -> Duration {
        Duration::hours(23)
    }

    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let refresh = self.0.work_queue.refresh(now).await?;
        let names = self.0.backfill_name_prefixes().await?;
        tracing::info!(queued = refresh.queued, left = refresh.left, names, "work queue refreshed");
        Ok(refresh.queued)
    }
}

/// The hourly attrition snapshot, a few minutes short of the hour for the same reason.
struct AttritionTask(Attrition);

#[async_trait]
impl Periodic for AttritionTask {
    fn name(&self) -> &'static str {
        "retention.attrition"
    }

    fn every(&self) -> Duration {
        Duration::minutes(55)
    }

    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64> {
        self.0.snapshot(now).await
    }
}
