//! What a database failure means for the client: "the database cannot answer now", "a lock or
//! a serialization failure, run the work again", or a fault of ours.
//!
//! Read from the driver's error kinds and SQLSTATE codes, never from message text, which
//! changes with versions and locales.

use sea_orm::sqlx::error::Error as SqlxError;
use sea_orm::{DbErr, RuntimeErr};

/// A database failure, by what the caller should do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No answer: no pooled connection in time, a statement timeout, or a connection that was
    /// dropped, reset, refused or terminated by the server (a restart, a failover).
    Unavailable,
    /// A write met another: SQLite's busy or locked database, a PostgreSQL deadlock, a
    /// serialization failure, or a lock not granted. Running the transaction again succeeds.
    Contended,
    /// Anything else: a constraint, a bug, a schema mismatch.
    Other,
}

/// Reads a database failure.
#[must_use]
pub fn classify(err: &DbErr) -> Fault {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Fault::Unavailable,
        DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause)) => classify_sqlx(cause),
        _ => Fault::Other,
    }
}

fn classify_sqlx(err: &SqlxError) -> Fault {
    match err {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::Protocol(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => Fault::Unavailable,
        SqlxError::Database(db) => db.code().map_or(Fault::Other, |code| classify_code(&code)),
        _ => Fault::Other,
    }
}

/// PostgreSQL SQLSTATEs (always five characters) and SQLite result codes (numbers of at most
/// four digits, extended codes included: their low byte is the primary code).
fn classify_code(code: &str) -> Fault {
    if code.len() < 5
        && let Ok(sqlite) = code.parse::<u32>()
    {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
        return if matches!(sqlite & 0xff, 5 | 6) { Fault::Contended } else { Fault::Other };
    }
    match code {
        // serialization_failure, deadlock_detected, lock_not_available
        "40001" | "40P01" | "55P03" => Fault::Contended,
        // query_canceled (statement_timeout), admin_shutdown, crash_shutdown, cannot_connect_now,
        // too_many_connections, read_only_sql_transaction (a replica promoted mid-failover)
        "57014" | "57P01" | "57P02" | "57P03" | "53300" | "25006" => Fault::Unavailable,
        // connection_exception and its subclasses
        _ if code.starts_with("08") => Fault::Unavailable,
        _ => Fault::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_their_meaning() {
        assert_eq!(classify_code("5"), Fault::Contended);
        assert_eq!(classify_code("517"), Fault::Contended); // SQLITE_BUSY_SNAPSHOT
        assert_eq!(classify_code("262"), Fault::Contended); // SQLITE_LOCKED_SHAREDCACHE
        assert_eq!(classify_code("2067"), Fault::Other); // SQLITE_CONSTRAINT_UNIQUE
        assert_eq!(classify_code("40P01"), Fault::Contended);
        assert_eq!(classify_code("40001"), Fault::Contended);
        assert_eq!(classify_code("57P01"), Fault::Unavailable);
        assert_eq!(classify_code("08006"), Fault::Unavailable);
        assert_eq!(classify_code("23505"), Fault::Other);
    }

    #[test]
    fn a_dropped_connection_is_unavailable() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let err = DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(SqlxError::Io(reset))));
        assert_eq!(classify(&err), Fault::Unavailable);
        assert_eq!(classify(&DbErr::Custom("x".into())), Fault::Other);
    }
}
