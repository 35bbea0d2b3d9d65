//! Re-encrypting stored personal data with the active field key, after a new key is configured.
//!
//! The operator adds the new key under `keys.field`, makes it `keys.field_active` (new writes
//! use it at once), runs `registry-admin rotate-field-keys`, and removes the old key once the
//! command reports nothing left. Work goes column by column in id order, one transaction per
//! batch; each row is rewritten only if it still holds the ciphertext that was read, so the
//! command can run beside the service, and stopping it loses at most one batch: a rerun skips
//! every value already under the active key.

use anyhow::Context;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use uuid::Uuid;

use super::FieldCipher;
use super::registry::SEALED_COLUMNS;
use crate::error::AppError;

/// What a rotation run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Values read.
    pub examined: u64,
    /// Values re-encrypted with the active key.
    pub rewritten: u64,
    /// Whether every column was gone through (false when stopped by `max_batches`).
    pub complete: bool,
}

/// Re-encrypts every value not under the active key, `batch_size` rows per transaction. With
/// `max_batches`, stops after that many batches (an interrupted run, in tests).
///
/// # Errors
/// A value that does not decrypt (an unconfigured key, a forged or moved value), or the
/// database failed. Batches committed before stay committed.
pub async fn rotate(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    batch_size: u64,
    max_batches: Option<u64>,
) -> anyhow::Result<RotationReport> {
    let mut report = RotationReport::default();
    let mut batches = 0;
    for sealed in SEALED_COLUMNS {
        let (table, column) = (sealed.table, sealed.column);
        let mut after: Option<Uuid> = None;
        loop {
            if max_batches.is_some_and(|max| batches >= max) {
                return Ok(report);
            }
            let rows = read_batch(db, table, column, after, batch_size).await?;
            let Some((last, _)) = rows.last() else { break };
            after = Some(*last);
            batches += 1;
            report.examined += rows.len() as u64;
            report.rewritten += crate::db::write!(db, |txn| {
                let mut rewritten = 0;
                for (id, stored) in &rows {
                    let row = || format!("{table}.{column} row {id}");
                    if !cipher.needs_rotation(stored).with_context(row).map_err(AppError::internal)? {
                        continue;
                    }
                    let binding = sealed.at(*id);
                    let clear = cipher.decrypt(stored, binding).with_context(row).map_err(AppError::internal)?;
                    let update = Query::update()
                        .table(Alias::new(table))
                        .value(Alias::new(column), cipher.encrypt(&clear, binding))
                        .and_where(Expr::col(Alias::new("id")).eq(*id))
                        .and_where(Expr::col(Alias::new(column)).eq(stored.clone()))
                        .to_owned();
                    rewritten += txn.execute(&update).await?.rows_affected();
                }
                Ok(rewritten)
            })
            .map_err(|err| anyhow::anyhow!("rotation batch failed: {err:?}"))?;
            tracing::info!(table, column, examined = report.examined, rewritten = report.rewritten, "rotation batch");
        }
    }
    report.complete = true;
    Ok(report)
}

async fn read_batch(
    db: &DatabaseConnection,
    table: &str,
    column: &str,
    after: Option<Uuid>,
    limit: u64,
) -> anyhow::Result<Vec<(Uuid, Vec<u8>)>> {
    let mut select = Query::select();
    select
        .columns([Alias::new("id"), Alias::new(column)])
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new(column)).is_not_null())
        .order_by(Alias::new("id"), Order::Asc)
        .limit(limit);
    if let Some(after) = after {
        select.and_where(Expr::col(Alias::new("id")).gt(Value::from(after)));
    }
    let rows = db.query_all(&select).await?;
    rows.iter()
        .map(|row| Ok((row.try_get::<Uuid>("", "id")?, row.try_get::<Vec<u8>>("", column)?)))
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(Into::into)
}
