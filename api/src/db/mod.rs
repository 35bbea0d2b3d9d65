//! The connection pool, on PostgreSQL or the embedded SQLite file; the one way to write
//! ([`write!`]); what a failure means ([`fault`]); writing rows in bulk.

pub mod bulk;
pub mod fault;

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use rand::Rng;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, PaginatorTrait, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;

/// Opens the pool and wires statement counting into the metrics.
///
/// # Errors
/// The database is unreachable, or the data directory cannot be created.
pub async fn connect(settings: &Settings, metrics: Arc<Metrics>) -> anyhow::Result<DatabaseConnection> {
    let url = settings.database_url();
    let url = url.expose_secret();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(settings.data_dir())?;
    }
    let db_settings = &settings.database;
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(db_settings.max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_millis(db_settings.acquire_timeout_ms))
        .connect_timeout(Duration::from_millis(db_settings.acquire_timeout_ms))
        .statement_timeout(Duration::from_millis(db_settings.statement_timeout_ms))
        // PostgreSQL's JIT compiles a plan once its estimated cost is high, which costs more
        // than it saves on the sub-second aggregates staff run (measured: +0.5 s on a
        // 50,000-volunteer segment count). An OLTP service is better off without it.
        .map_sqlx_postgres_opts(|postgres| postgres.options([("jit", "off")]))
        .map_sqlx_sqlite_opts(|sqlite| {
            // WAL lets readers proceed during a write; foreign keys are off in SQLite unless asked.
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(move |info| metrics.observe_statement(info.failed));
    Ok(db)
}

/// Applies pending migrations.
///
/// # Errors
/// A migration failed; it ran in a transaction on PostgreSQL and left nothing behind.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the database lives in the process's memory, where every connection has its own.
#[must_use]
pub fn in_memory(settings: &Settings) -> bool {
    let url = settings.database_url();
    let url = url.expose_secret();
    url.starts_with("sqlite:") && url.contains("memory")
}

/// Applies pending migrations on a connection of their own, closed before the service's pool
/// opens. The sqlx SQLite driver keeps the column names of the statements a connection has
/// prepared, and a schema change does not refresh them (transact-rs/sqlx#2517): a pool that
/// migrated its own tables could hand a later query stale columns.
///
/// # Errors
/// The database is unreachable, or a migration failed.
pub async fn migrate_apart(settings: &Settings, metrics: &Arc<Metrics>) -> anyhow::Result<()> {
    if in_memory(settings) {
        // Each connection to an in-memory database is a database of its own: the pool migrates.
        return Ok(());
    }
    let mut one = settings.clone();
    one.database.max_connections = 1;
    let db = connect(&one, Arc::clone(metrics)).await?;
    migrate(&db).await?;
    db.close().await?;
    Ok(())
}

/// Pool usage for the metrics: connections in use, idle, and the maximum.
#[must_use]
pub fn pool_usage(db: &DatabaseConnection, max: u32) -> (u32, u32) {
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u32::try_from(idle).unwrap_or(max);
    (size.saturating_sub(idle), idle)
}

/// Runs a block of work in one transaction that writes, commits it, and runs it again when it
/// met a lock or a serialization failure (a bounded number of times, with jittered backoff).
/// It is the one way to open a transaction: `.begin()` is refused by clippy outside this module.
/// (A single statement on its own is atomic and runs on the pool.)
///
/// ```ignore
/// let id = db::write!(&self.db, |txn| {
///     db::lock_volunteer(txn, me.id).await?;
///     let id = insert(txn, …).await?;
///     Ok(id)
/// })?;
/// ```
///
/// - The block is an `async` body that answers `AppResult<T>`; `?` and `return` leave the
///   block, and an `Err` rolls the transaction back.
/// - Everything inside reads and writes through `txn`. Reaching for the pool while holding a
///   transaction waits for a second connection, and a burst of such requests deadlocks the pool;
///   the contract test plays every client operation with a pool of one connection to catch it.
/// - On SQLite the transaction takes the write lock at its start (`BEGIN IMMEDIATE`), so that a
///   read followed by a write waits its turn instead of failing `database is locked`.
/// - The block may run more than once: it must not move what it captures (clone instead), and
///   must not act on the outside world (that is what the outbox is for).
macro_rules! write {
    ($db:expr, |$txn:ident| $body:block) => {{
        let db: &::sea_orm::DatabaseConnection = $db;
        let mut attempt: u32 = 0;
        loop {
            let outcome = match $crate::db::begin_writing(db).await {
                Ok(transaction) => {
                    let $txn = &transaction;
                    let result = $crate::db::work(async { $body }).await;
                    $crate::db::settle(transaction, result).await
                }
                Err(err) => Err($crate::error::AppError::from(err)),
            };
            match $crate::db::retry_delay(&outcome, &mut attempt) {
                Some(delay) => ::tokio::time::sleep(delay).await,
                None => break outcome,
            }
        }
    }};
}
pub(crate) use write;

/// How many times a contended write runs before the client is told to retry.
const WRITE_ATTEMPTS: u32 = 4;

/// Gives the block of [`write!`] its type: `?` inside it converts into [`AppError`].
#[doc(hidden)]
pub fn work<T, F: Future<Output = AppResult<T>>>(body: F) -> F {
    body
}

/// Commits after a success; after a failure, rolls back by dropping the transaction.
#[doc(hidden)]
pub async fn settle<T>(txn: DatabaseTransaction, result: AppResult<T>) -> AppResult<T> {
    let value = result?;
    txn.commit().await?;
    Ok(value)
}

/// Whether to run a write again, and after how long: only a contended one, a bounded number of
/// times, with exponential backoff and jitter so that the writers that met do not meet again.
#[doc(hidden)]
pub fn retry_delay<T>(outcome: &AppResult<T>, attempt: &mut u32) -> Option<Duration> {
    if !matches!(outcome, Err(AppError::Contended)) {
        return None;
    }
    *attempt += 1;
    if *attempt >= WRITE_ATTEMPTS {
        tracing::warn!(attempts = *attempt, "write still contended; the client is told to retry");
        return None;
    }
    let ceiling = 10u64 << (*attempt * 2); // 40, 160, 640 ms
    Some(Duration::from_millis(rand::thread_rng().gen_range(ceiling / 4..=ceiling)))
}

/// Takes the volunteer's row lock for the rest of the transaction, so that two writes to one
/// volunteer (the same request sent twice, a withdrawal racing an edit) run one after the
/// other and each gets the answer it would get alone. SQLite needs nothing more: its writes
/// already run one at a time ([`write!`] takes the write lock at the start).
///
/// # Errors
/// NOT_FOUND when the volunteer no longer exists (erased by a withdrawal meanwhile).
pub async fn lock_volunteer(txn: &DatabaseTransaction, volunteer_id: Uuid) -> AppResult<()> {
    let backend = txn.get_database_backend();
    let exists = if backend == DatabaseBackend::Postgres {
        txn.query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT 1 AS one FROM volunteer WHERE id = $1 FOR UPDATE",
            [volunteer_id.into()],
        ))
        .await?
        .is_some()
    } else {
        entity::volunteer::Entity::find_by_id(volunteer_id).count(txn).await? > 0
    };
    if exists { Ok(()) } else { Err(AppError::NotFound { resource: "volunteer" }) }
}

/// Starts a transaction that reads and then writes; on SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`). PostgreSQL ignores the mode. Use [`write!`], which calls it.
///
/// A deferred SQLite transaction that reads first cannot wait for the lock when it comes to
/// write: if another connection wrote in between, SQLite answers `database is locked` at once,
/// whatever the busy timeout. An immediate one waits its turn within the busy timeout.
///
/// # Errors
/// The database is unreachable, or SQLite's write lock stayed taken past the busy timeout.
#[allow(clippy::disallowed_methods)] // the one place a transaction begins
pub async fn begin_writing(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    db.begin_with_options(options).await
}
