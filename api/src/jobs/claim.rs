//! The one way a worker takes work: a claim on a row, with a lease that another worker retakes
//! when it runs out, and the "handed over" state after which the row is never worked again.
//!
//! The outbox and the job table both have these columns, so both are claimed by this code:
//! claims take `FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers in many processes take
//! disjoint rows, and SQLite serialises writers, which gives the same guarantee.

use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Order, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, UpdateMany, Value};

use crate::error::AppResult;

/// A table whose rows workers claim: the columns the engine moves, and how the table spells
/// each state (the outbox says `sending` where the job table says `handed_over`).
#[derive(Clone, Copy, Debug)]
pub struct Claimable<E: EntityTrait> {
    pub id: E::Column,
    pub status: E::Column,
    /// When a queued row falls due.
    pub due_at: E::Column,
    pub claimed_by: E::Column,
    pub claimed_until: E::Column,
    pub attempts: E::Column,
    pub last_error: E::Column,
    /// Stamped on every change, where the table keeps one.
    pub updated_at: Option<E::Column>,
    pub queued: &'static str,
    pub claimed: &'static str,
    pub handed_over: &'static str,
    /// Where a row whose outcome is unknown ends.
    pub lost: &'static str,
    /// Whether a claim counts as an attempt (jobs), or only a hand-over does (messages, whose
    /// attempts are tries at the provider).
    pub attempt_on_claim: bool,
}

impl<E: EntityTrait> Claimable<E> {
    /// Claims up to `limit` rows for `worker` until `now + lease`: queued ones that are due, and
    /// claims whose worker let the lease run out. `only` narrows the rows (one job kind).
    ///
    /// # Errors
    /// The database failed.
    pub async fn claim<C: ConnectionTrait>(
        &self,
        conn: &C,
        worker: &str,
        lease: chrono::Duration,
        limit: u64,
        only: Condition,
    ) -> AppResult<Vec<E::Model>> {
        let now = Utc::now();
        let due = Condition::any()
            .add(Condition::all().add(self.status.eq(self.queued)).add(self.due_at.lte(now)))
            .add(Condition::all().add(self.status.eq(self.claimed)).add(self.claimed_until.lt(now)));
        let mut pick = Query::select();
        pick.column(self.id)
            .from(E::default())
            .cond_where(only.add(due))
            .order_by(self.due_at, Order::Asc)
            .limit(limit);
        if conn.get_database_backend() == DbBackend::Postgres {
            pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let mut update = self
            .touch(E::update_many(), now)
            .col_expr(self.status, Expr::value(self.claimed))
            .col_expr(self.claimed_by, Expr::value(worker))
            .col_expr(self.claimed_until, Expr::value(now + lease))
            .filter(self.id.in_subquery(pick));
        if self.attempt_on_claim {
            update = update.col_expr(self.attempts, self.one_more_attempt());
        }
        Ok(update.exec_with_returning(conn).await?)
    }

    /// An update of one row that `worker` still holds, giving up the claim. The filter on the
    /// holder makes a claim that ran out and was retaken by another worker untouchable.
    #[must_use]
    pub fn release(&self, worker: &str, id: impl Into<Value>, now: DateTime<Utc>) -> UpdateMany<E> {
        self.touch(E::update_many(), now)
            .col_expr(self.claimed_by, Expr::value(Option::<String>::None))
            .col_expr(self.claimed_until, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(self.id.eq(id))
            .filter(self.claimed_by.eq(worker))
    }

    /// An update giving `worker`'s claimed rows back to the queue for `at`, with the reason.
    #[must_use]
    pub fn requeue(
        &self,
        worker: &str,
        id: impl Into<Value>,
        at: DateTime<Utc>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> UpdateMany<E> {
        self.release(worker, id, now)
            .col_expr(self.status, Expr::value(self.queued))
            .col_expr(self.due_at, Expr::value(at))
            .col_expr(self.last_error, Expr::value(reason))
    }

    /// An update marking `worker`'s claimed rows as handed to the outside world, holding them
    /// for `lease` more. From here a row is never worked again: if its worker vanishes, the
    /// sweep ends it as lost.
    #[must_use]
    pub fn hand_over(
        &self,
        worker: &str,
        ids: impl IntoIterator<Item = impl Into<Value>>,
        lease: chrono::Duration,
        now: DateTime<Utc>,
    ) -> UpdateMany<E> {
        let mut update = self
            .touch(E::update_many(), now)
            .col_expr(self.status, Expr::value(self.handed_over))
            .col_expr(self.claimed_until, Expr::value(now + lease))
            .filter(self.id.is_in(ids))
            .filter(self.claimed_by.eq(worker))
            .filter(self.status.eq(self.claimed));
        if !self.attempt_on_claim {
            update = update.col_expr(self.attempts, self.one_more_attempt());
        }
        update
    }

    /// An update extending `worker`'s claim on a row it still holds.
    #[must_use]
    pub fn renew(
        &self,
        worker: &str,
        id: impl Into<Value>,
        lease: chrono::Duration,
        now: DateTime<Utc>,
    ) -> UpdateMany<E> {
        self.touch(E::update_many(), now)
            .col_expr(self.claimed_until, Expr::value(now + lease))
            .filter(self.id.eq(id))
            .filter(self.claimed_by.eq(worker))
            .filter(self.status.is_in([self.claimed, self.handed_over]))
    }

    /// Ends as lost the rows handed over by a worker that then vanished: their outcome is
    /// unknown, and working them again could reach the outside world twice. Returns them.
    ///
    /// # Errors
    /// The database failed.
    pub async fn sweep_lost<C: ConnectionTrait>(
        &self,
        conn: &C,
        only: Condition,
        reason: &str,
    ) -> AppResult<Vec<E::Model>> {
        let now = Utc::now();
        Ok(self
            .touch(E::update_many(), now)
            .col_expr(self.status, Expr::value(self.lost))
            .col_expr(self.last_error, Expr::value(reason))
            .col_expr(self.claimed_by, Expr::value(Option::<String>::None))
            .filter(only)
            .filter(self.status.eq(self.handed_over))
            .filter(self.claimed_until.lt(now))
            .exec_with_returning(conn)
            .await?)
    }

    /// `attempts + 1`, for an update that counts a try.
    #[must_use]
    pub fn one_more_attempt(&self) -> Expr {
        // Scoped: `ExprTrait` would shadow `Ord::min` and friends across the module.
        use sea_orm::sea_query::ExprTrait;
        Expr::col(self.attempts).add(1)
    }

    fn touch(&self, update: UpdateMany<E>, now: DateTime<Utc>) -> UpdateMany<E> {
        match self.updated_at {
            Some(column) => update.col_expr(column, Expr::value(now)),
            None => update,
        }
    }
}

/// Exponential backoff from `base_ms` after `attempts` tries, capped at `max_ms`, with jitter
/// (half to all of the step) so that a burst of failures does not come back as a burst.
#[must_use]
pub fn backoff(attempts: i32, base_ms: u64, max_ms: u64) -> chrono::Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(20);
    let ceiling = base_ms.saturating_mul(1 << exponent).min(max_ms);
    let jittered = rand::thread_rng().gen_range(ceiling / 2..=ceiling.max(1));
    chrono::Duration::milliseconds(i64::try_from(jittered).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_within_its_ceiling_and_jitters_down_to_half() {
        for attempts in 1..=12 {
            let step = 1_000u64.saturating_mul(1 << (attempts - 1)).min(60_000);
            let drawn = u64::try_from(backoff(attempts, 1_000, 60_000).num_milliseconds()).unwrap();
            assert!((step / 2..=step).contains(&drawn), "attempt {attempts}: {drawn} ms outside {step}/2..={step}");
        }
    }
}
