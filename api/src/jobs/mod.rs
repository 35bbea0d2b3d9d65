//! One engine for work that leaves the request.
//!
//! - **Queues** ([`Queue`]): rows claimed by workers with a lease that another worker retakes
//!   ([`claim`]), attempts with backoff and jitter, the at-most-once "handed over" state and its
//!   sweep. The outbox is one queue (a message is its own job); the job table
//!   ([`queue::JobQueue`]) carries every other kind, each run by a [`JobHandler`] and
//!   dead-lettered with an alert after its last attempt.
//! - **Periodic tasks** ([`Periodic`]): scheduled work that one replica runs per period.
//!
//! A capability adds a kind by writing its handler (or its periodic task) and registering it
//! in [`crate::service::Services::new`]; [`Jobs::start`] runs them all, with metrics per kind
//! (`registry_jobs{kind,event}`), and stops them together.
//!
//! We looked at apalis 1.0 first. Its SQL backends (`apalis-postgres`, `apalis-sqlite`) keep
//! their own sqlx pools and push jobs through their own storage handle, on sqlx 0.8, while
//! SeaORM 2.0 runs on sqlx 0.9: a job cannot be enqueued inside the caller's SeaORM
//! transaction, so "the change and its work commit together" would be lost. Its storage also
//! has no state for work handed to the outside world, which our SMS and webhooks need.

pub mod claim;
mod periodic;
mod queue;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

pub use periodic::{Periodic, run_if_due};
pub use queue::{DeadJobAlert, JOBS, JobHandler, JobQueue, Lease, NewJob, enqueue};

use crate::error::AppResult;
use crate::metrics::Metrics;

/// How often a worker sweeps lost hand-overs.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// How often the scheduler looks whether a periodic task is due.
const TICK: Duration = Duration::from_secs(30);

/// What one round of a job handler did: jobs claimed, and the work they reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkDone {
    pub claimed: usize,
    pub amount: u64,
}

/// Work that workers claim in batches.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// The name in metrics and worker names.
    fn kind(&self) -> &'static str;

    /// Workers this process runs.
    fn workers(&self) -> usize {
        1
    }

    /// How long an idle worker waits before looking again.
    fn poll(&self) -> Duration;

    /// A full batch means more is waiting: the worker goes again at once.
    fn batch_size(&self) -> usize;

    /// Claims one batch and works it; returns how many rows it claimed.
    async fn work(&self, worker: &str) -> AppResult<usize>;

    /// Ends what a vanished worker handed to the outside world; returns how many.
    async fn sweep(&self) -> AppResult<u64>;

    /// Wakes an idle worker at once, when work is queued in this process.
    fn wake(&self) -> Option<Arc<Notify>> {
        None
    }
}

/// Every queue and periodic task of the service, run together.
#[derive(Clone)]
pub struct Jobs {
    db: DatabaseConnection,
    metrics: Arc<Metrics>,
    alert: DeadJobAlert,
    queues: Vec<Arc<dyn Queue>>,
    periodic: Vec<Arc<dyn Periodic>>,
    /// Names this process's workers in claims, for operators reading the tables.
    process_id: String,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("queues", &self.queues.iter().map(|queue| queue.kind()).collect::<Vec<_>>())
            .field("periodic", &self.periodic.iter().map(|task| task.name()).collect::<Vec<_>>())
            .field("process_id", &self.process_id)
            .finish_non_exhaustive()
    }
}

impl Jobs {
    #[must_use]
    pub fn new(db: DatabaseConnection, metrics: Arc<Metrics>, alert: DeadJobAlert) -> Self {
        Self {
            db,
            metrics,
            alert,
            queues: Vec::new(),
            periodic: Vec::new(),
            process_id: Uuid::new_v4().simple().to_string()[..8].to_owned(),
        }
    }

    /// Adds a queue with its own claim code (the outbox).
    #[must_use]
    pub fn queue(mut self, queue: Arc<dyn Queue>) -> Self {
        self.queues.push(queue);
        self
    }

    /// Adds a kind of the job table, run by `handler`; `wake` starts a worker at once when this
    /// process enqueues one.
    #[must_use]
    pub fn handler(mut self, handler: Arc<dyn JobHandler>, wake: Option<Arc<Notify>>) -> Self {
        let jobs = JobQueue::new(self.db.clone(), Arc::clone(&self.metrics), self.alert);
        self.queues.push(Arc::new(queue::HandlerQueue { jobs, handler, wake }));
        self
    }

    /// Adds a periodic task.
    #[must_use]
    pub fn periodic(mut self, task: Arc<dyn Periodic>) -> Self {
        self.periodic.push(task);
        self
    }

    /// Starts every queue's workers and the scheduler; they stop taking work when `shutdown`
    /// turns true and finish what they hold.
    #[must_use]
    pub fn start(&self, shutdown: &watch::Receiver<bool>) -> JoinSet<()> {
        let mut workers = JoinSet::new();
        for queue in &self.queues {
            for n in 0..queue.workers() {
                let (queue, metrics, mut shutdown) = (Arc::clone(queue), Arc::clone(&self.metrics), shutdown.clone());
                let name = format!("{}-{}-{n}", self.process_id, queue.kind());
                workers.spawn(async move { work(queue.as_ref(), &metrics, &name, &mut shutdown).await });
            }
        }
        let (this, mut shutdown) = (self.clone(), shutdown.clone());
        workers.spawn(async move { this.schedule(&mut shutdown).await });
        workers
    }

    /// Runs each periodic task that no replica holds at `now`, in order; returns what each did
    /// (`None` when another replica held it).
    ///
    /// # Errors
    /// The database failed; tasks after the failing one are left for the next tick.
    pub async fn run_periodic(&self, now: chrono::DateTime<Utc>) -> AppResult<Vec<(&'static str, Option<u64>)>> {
        let mut runs = Vec::with_capacity(self.periodic.len());
        for task in &self.periodic {
            runs.push((task.name(), self.run_one(task.as_ref(), now).await?));
        }
        Ok(runs)
    }

    async fn run_one(&self, task: &dyn Periodic, now: chrono::DateTime<Utc>) -> AppResult<Option<u64>> {
        let outcome = run_if_due(&self.db, task, now).await;
        match &outcome {
            Ok(Some(amount)) => {
                self.metrics.observe_job(task.name(), "done");
                tracing::info!(task = task.name(), amount, "periodic task ran");
            }
            Ok(None) => {}
            Err(err) => {
                self.metrics.observe_job(task.name(), "retried");
                tracing::warn!(task = task.name(), error = ?err, "periodic task failed; retrying later");
            }
        }
        outcome
    }

    async fn schedule(&self, shutdown: &mut watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            for task in &self.periodic {
                // A failure is logged and counted in `run_one`; the other tasks still run.
                let _ = self.run_one(task.as_ref(), Utc::now()).await;
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }
}

/// One worker of a queue: sweep now and then, claim and work batches while they come full,
/// then wait for the poll interval, a wake-up, or shutdown.
async fn work(queue: &dyn Queue, metrics: &Metrics, worker: &str, shutdown: &mut watch::Receiver<bool>) {
    let wake = queue.wake();
    let mut swept: Option<tokio::time::Instant> = None;
    while !*shutdown.borrow() {
        if swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
            if let Err(err) = queue.sweep().await {
                tracing::warn!(kind = queue.kind(), error = ?err, "could not sweep lost hand-overs");
            }
            swept = Some(tokio::time::Instant::now());
        }
        let claimed = queue.work(worker).await.unwrap_or_else(|err| {
            metrics.observe_job(queue.kind(), "round_failed");
            tracing::warn!(worker, error = ?err, "work round failed");
            0
        });
        if claimed < queue.batch_size() {
            let woken = async {
                match &wake {
                    Some(wake) => wake.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.changed() => {}
                () = woken => {}
                () = tokio::time::sleep(queue.poll()) => {}
            }
        }
    }
    tracing::debug!(worker, "worker stopped");
}
