//! Fixed-window rate limits kept in the database, so that every replica counts against the same
//! limit: one upsert per hit, atomic on PostgreSQL and SQLite alike.

use chrono::{DateTime, Duration, Utc};
use entity::rate_limit;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::error::{AppError, AppResult};

/// At most `max` hits per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// Counts a hit on `key` at `now`.
///
/// # Errors
/// RATE_LIMITED, with the seconds until the window resets, once the limit is passed; the hit
/// still counts, so hammering does not shorten the wait.
pub async fn hit<C: ConnectionTrait>(conn: &C, key: &str, limit: Limit, now: DateTime<Utc>) -> AppResult<()> {
    use rate_limit::Column::{Hits, WindowStartedAt};
    let expired = Expr::col((rate_limit::Entity, WindowStartedAt)).lte(now - limit.window);
    // Every right-hand side reads the row as it was, on both databases.
    let on_conflict = OnConflict::column(rate_limit::Column::Key)
        .value(
            WindowStartedAt,
            Expr::case(expired.clone(), now).finally(Expr::col((rate_limit::Entity, WindowStartedAt))),
        )
        .value(Hits, Expr::case(expired, 1).finally(Expr::col((rate_limit::Entity, Hits)).add(1)))
        .to_owned();
    let counted = rate_limit::Entity::insert(rate_limit::ActiveModel {
        key: Set(key.to_owned()),
        window_started_at: Set(now),
        hits: Set(1),
    })
    .on_conflict(on_conflict)
    .exec_with_returning(conn)
    .await?;
    if u32::try_from(counted.hits).unwrap_or(u32::MAX) <= limit.max {
        return Ok(());
    }
    Err(refusal(counted.window_started_at + limit.window, now))
}

/// Refuses, without counting, once `key` has used up `limit` in its current window: for a
/// limit that counts only failures, checked before each attempt and hit after a failed one.
///
/// # Errors
/// RATE_LIMITED, with the seconds until the window resets.
pub async fn spent<C: ConnectionTrait>(conn: &C, key: &str, limit: Limit, now: DateTime<Utc>) -> AppResult<()> {
    let Some(row) = rate_limit::Entity::find_by_id(key.to_owned()).one(conn).await? else { return Ok(()) };
    let reset = row.window_started_at + limit.window;
    if reset > now && u32::try_from(row.hits).unwrap_or(u32::MAX) >= limit.max {
        return Err(refusal(reset, now));
    }
    Ok(())
}

/// RATE_LIMITED until `reset`, at least a second.
fn refusal(reset: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    AppError::RateLimited { retry_after_secs: Ord::max(u64::try_from((reset - now).num_seconds()).unwrap_or(0), 1) }
}
