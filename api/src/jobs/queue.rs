//! The durable job table: work enqueued in the transaction of the change that causes it, run by
//! the handler of its kind, retried with backoff, and dead-lettered with an alert after its last
//! attempt.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use entity::job::{self, Column, Entity, JobStatus};
use futures::future::BoxFuture;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::claim::{Claimable, backoff};
use super::{Queue, WorkDone};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;

/// Raises the coordinators' alert for a dead job of their branch, in the transaction that
/// buries it. The service layer owns alerts and hands the engine this function, so that the
/// engine depends on nothing above it.
pub type DeadJobAlert = for<'a> fn(&'a DatabaseTransaction, &'a str) -> BoxFuture<'a, AppResult<()>>;

/// How long a claim holds before another worker may retake the job; handlers that run longer
/// renew it ([`Lease::renew`]).
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// Jobs of one kind a worker claims at once: jobs are few and each may be long.
const BATCH: u64 = 4;
/// The first retry waits about this long, each later one twice the one before.
const BACKOFF_BASE_MS: u64 = 5_000;
const BACKOFF_MAX_MS: u64 = 15 * 60 * 1_000;
/// How often an idle worker looks for due jobs that no wake-up announced (another replica's,
/// retries, retaken claims).
const POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// The job table, as the claim code sees it.
pub const JOBS: Claimable<Entity> = Claimable {
    id: Column::Id,
    status: Column::Status,
    due_at: Column::RunAt,
    claimed_by: Column::ClaimedBy,
    claimed_until: Column::ClaimedUntil,
    attempts: Column::Attempts,
    last_error: Column::LastError,
    updated_at: None,
    queued: "queued",
    claimed: "claimed",
    handed_over: "handed_over",
    lost: "dead",
    attempt_on_claim: true,
};

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: &'static str,
    pub subject_id: Option<Uuid>,
    pub branch_code: Option<String>,
    pub payload: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
}

impl NewJob {
    /// A job of `kind` about the row `subject_id`, due now, with ten attempts.
    #[must_use]
    pub fn about(kind: &'static str, subject_id: Uuid) -> Self {
        Self {
            kind,
            subject_id: Some(subject_id),
            branch_code: None,
            payload: None,
            run_at: Utc::now(),
            max_attempts: 10,
        }
    }

    /// The branch whose coordinators hear of the job if it dies.
    #[must_use]
    pub fn for_branch(mut self, branch_code: Option<String>) -> Self {
        self.branch_code = branch_code;
        self
    }
}

/// Enqueues `job` on `conn`, the transaction of the change that causes it, so that the job
/// exists exactly when the change does. A kind holds one job per subject: enqueueing again is a
/// no-op, and returns false.
///
/// # Errors
/// The database failed.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, job: NewJob) -> AppResult<bool> {
    let now = Utc::now();
    let inserted = Entity::insert(job::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(job.kind.to_owned()),
        subject_id: Set(job.subject_id),
        branch_code: Set(job.branch_code),
        payload: Set(job.payload),
        status: Set(JobStatus::Queued),
        attempts: Set(0),
        max_attempts: Set(job.max_attempts),
        run_at: Set(job.run_at),
        claimed_by: Set(None),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
    })
    .on_conflict(OnConflict::columns([Column::Kind, Column::SubjectId]).do_nothing().to_owned())
    .exec_without_returning(conn)
    .await?;
    Ok(inserted > 0)
}

/// What runs the jobs of one kind.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The stored kind, for example `campaign.launch`.
    fn kind(&self) -> &'static str;

    /// Runs one job. An error retries it later, until its attempts run out. A handler that
    /// reaches the outside world calls [`Lease::hand_over`] first and goes on only if it
    /// answers true; a handler whose work is idempotent may simply run again after a crash.
    /// Returns how much it did, for the caller and the logs.
    async fn run(&self, job: &job::Model, lease: &Lease<'_>) -> AppResult<u64>;

    /// The first retry's wait and the longest, in milliseconds: each retry waits twice the one
    /// before, with jitter. Kinds that reach a partner's server set their own.
    fn backoff(&self) -> (u64, u64) {
        (BACKOFF_BASE_MS, BACKOFF_MAX_MS)
    }

    /// Workers this process runs for the kind: more than one where a job waits on a partner
    /// who may be slow, so that one slow partner does not hold up the others.
    fn workers(&self) -> usize {
        1
    }
}

/// A worker's hold on one job.
#[derive(Debug)]
pub struct Lease<'a> {
    db: &'a DatabaseConnection,
    id: Uuid,
    worker: &'a str,
}

impl Lease<'_> {
    /// Extends the claim; false when another worker has retaken the job, which this one must
    /// then leave alone.
    ///
    /// # Errors
    /// The database failed.
    pub async fn renew(&self) -> AppResult<bool> {
        let renewed = JOBS.renew(self.worker, self.id, LEASE, Utc::now()).exec(self.db).await?;
        Ok(renewed.rows_affected == 1)
    }

    /// Marks the job as handed to the outside world: it is never run again, and if this worker
    /// dies before recording the outcome, the sweep dead-letters it. False when the claim was
    /// lost, in which case the handler must not go on.
    ///
    /// # Errors
    /// The database failed.
    pub async fn hand_over(&self) -> AppResult<bool> {
        let handed = JOBS.hand_over(self.worker, [self.id], LEASE, Utc::now()).exec(self.db).await?;
        Ok(handed.rows_affected == 1)
    }
}

/// The job table's claims and outcomes.
#[derive(Clone, Debug)]
pub struct JobQueue {
    db: DatabaseConnection,
    metrics: Arc<Metrics>,
    alert: DeadJobAlert,
}

impl JobQueue {
    #[must_use]
    pub fn new(db: DatabaseConnection, metrics: Arc<Metrics>, alert: DeadJobAlert) -> Self {
        Self { db, metrics, alert }
    }

    /// Claims a batch of `handler`'s due jobs for `worker` and runs them one by one.
    ///
    /// # Errors
    /// The database failed while claiming or recording; claimed jobs are retaken later.
    pub async fn work(&self, handler: &dyn JobHandler, worker: &str) -> AppResult<WorkDone> {
        let kind = handler.kind();
        let claimed = JOBS.claim(&self.db, worker, LEASE, BATCH, Condition::all().add(Column::Kind.eq(kind))).await?;
        let mut done = WorkDone { claimed: claimed.len(), ..WorkDone::default() };
        for job in claimed {
            self.metrics.observe_job(kind, "claimed");
            let lease = Lease { db: &self.db, id: job.id, worker };
            match handler.run(&job, &lease).await {
                Ok(amount) => {
                    done.amount += amount;
                    self.finish(worker, &job).await?;
                }
                Err(err) => self.retry_or_bury(worker, &job, &err, handler.backoff()).await?,
            }
        }
        Ok(done)
    }

    async fn finish(&self, worker: &str, job: &job::Model) -> AppResult<()> {
        let now = Utc::now();
        JOBS.release(worker, job.id, now)
            .col_expr(Column::Status, Expr::value(JobStatus::Done))
            .col_expr(Column::FinishedAt, Expr::value(now))
            .col_expr(Column::LastError, Expr::value(Option::<String>::None))
            .exec(&self.db)
            .await?;
        self.metrics.observe_job(&job.kind, "done");
        Ok(())
    }

    /// A failed run goes back to the queue after a backoff, or, on its last attempt, to the dead
    /// letters with an alert for its branch.
    async fn retry_or_bury(
        &self,
        worker: &str,
        job: &job::Model,
        err: &AppError,
        (base_ms, max_ms): (u64, u64),
    ) -> AppResult<()> {
        let now = Utc::now();
        // The error's shape, never a value: errors name fields and rules, not their contents.
        let reason: String = format!("{err:?}").chars().take(500).collect();
        if job.attempts < job.max_attempts {
            tracing::warn!(kind = %job.kind, job = %job.id, attempt = job.attempts, error = ?err, "job failed; retrying");
            let at = now + backoff(job.attempts, base_ms, max_ms);
            JOBS.requeue(worker, job.id, at, &reason, now).exec(&self.db).await?;
            self.metrics.observe_job(&job.kind, "retried");
            return Ok(());
        }
        let (kind, id, branch) = (job.kind.clone(), job.id, job.branch_code.clone());
        db::write!(&self.db, |txn| {
            let buried = JOBS
                .release(worker, id, now)
                .col_expr(Column::Status, Expr::value(JobStatus::Dead))
                .col_expr(Column::FinishedAt, Expr::value(now))
                .col_expr(Column::LastError, Expr::value(reason.clone()))
                .exec(txn)
                .await?;
            if buried.rows_affected == 1 {
                self.bury(txn, &kind, id, branch.as_deref()).await?;
            }
            Ok(())
        })?;
        self.metrics.observe_job(&job.kind, "dead");
        Ok(())
    }

    /// Dead-letters the jobs handed over by a worker that vanished: what they did outside is
    /// unknown, so they are not run again. Returns how many.
    ///
    /// # Errors
    /// The database failed.
    pub async fn sweep(&self, kind: &'static str) -> AppResult<u64> {
        db::write!(&self.db, |txn| {
            let lost = JOBS
                .sweep_lost(
                    txn,
                    Condition::all().add(Column::Kind.eq(kind)),
                    "outcome unknown: the worker stopped after handing the job over; not run again",
                )
                .await?;
            for job in &lost {
                self.bury(txn, &job.kind, job.id, job.branch_code.as_deref()).await?;
            }
            Ok(lost.len())
        })
        .map(|lost| {
            for _ in 0..lost {
                self.metrics.observe_job(kind, "lost");
            }
            u64::try_from(lost).unwrap_or(u64::MAX)
        })
    }

    /// The alert that goes with a dead job: to its branch's coordinators when it names one, and
    /// always to the operators' log and the `jobs{event="dead"}` or `{event="lost"}` metric.
    async fn bury(&self, txn: &DatabaseTransaction, kind: &str, id: Uuid, branch: Option<&str>) -> AppResult<()> {
        tracing::error!(kind, job = %id, "job dead-lettered");
        if let Some(branch) = branch {
            (self.alert)(txn, branch).await?;
        }
        Ok(())
    }
}

/// A job handler as the engine runs it: its workers claim from the job table, a wake-up from
/// this process starts them at once, and the sweep dead-letters lost hand-overs.
pub(super) struct HandlerQueue {
    pub(super) jobs: JobQueue,
    pub(super) handler: Arc<dyn JobHandler>,
    pub(super) wake: Option<Arc<Notify>>,
}

#[async_trait]
impl Queue for HandlerQueue {
    fn kind(&self) -> &'static str {
        self.handler.kind()
    }

    fn workers(&self) -> usize {
        self.handler.workers()
    }

    fn poll(&self) -> std::time::Duration {
        POLL
    }

    fn batch_size(&self) -> usize {
        usize::try_from(BATCH).unwrap_or(usize::MAX)
    }

    async fn work(&self, worker: &str) -> AppResult<usize> {
        Ok(self.jobs.work(self.handler.as_ref(), worker).await?.claimed)
    }

    async fn sweep(&self) -> AppResult<u64> {
        self.jobs.sweep(self.handler.kind()).await
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        self.wake.clone()
    }
}
