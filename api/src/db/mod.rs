//! The connection pool, on PostgreSQL or the embedded SQLite file; transactions that write at
//! once; writing rows in bulk.

pub mod bulk;

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use secrecy::ExposeSecret;

use crate::config::Settings;
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

/// Starts a transaction that reads and then writes; on SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`). PostgreSQL ignores the mode.
///
/// A deferred SQLite transaction that reads first cannot wait for the lock when it comes to
/// write: if another connection wrote in between, SQLite answers `database is locked` at once,
/// whatever the busy timeout (seen on a refresh racing the outbox workers). An immediate one
/// waits its turn within the busy timeout. The code inside must not write through another
/// connection meanwhile, which would wait on this very lock.
///
/// # Errors
/// The database is unreachable, or SQLite's write lock stayed taken past the busy timeout.
pub async fn begin_writing(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    db.begin_with_options(options).await
}
