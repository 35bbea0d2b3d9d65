//! Idempotency keys for partners' mutations, as the IETF Idempotency-Key draft and Stripe have
//! them: the same key with the same input replays the first answer, the same key with another
//! input is CONFLICT, and two concurrent calls with one key run once.
//!
//! The key is claimed first thing in the mutation's own transaction, and its answer is stored
//! in that transaction: the change and the answer commit together, or neither does. A second
//! call with the key waits on the claim (PostgreSQL's unique index holds it until the first
//! commits; SQLite writes one transaction at a time) and then replays. A call that fails
//! stores nothing, so a retry of a refused call runs again, as the draft allows for errors.

use chrono::{DateTime, Duration, Utc};
use entity::idempotency_key::{self, Column, Entity};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::pii::{KeyRing, registry};
use crate::service::PartnerHospital;

/// How long a key is kept: the longest answer deadline a request may set, and never less than
/// a day.
pub const KEEP: Duration = Duration::hours(super::green_channel::MAX_ANSWER_HOURS);
const _: () = assert!(super::green_channel::MAX_ANSWER_HOURS >= 24);

/// The longest key accepted: the draft suggests a UUID; we take any short visible text.
const MAX_KEY_CHARS: usize = 255;

/// One mutation call under an idempotency key.
#[derive(Clone, Debug)]
pub struct IdempotentCall {
    owner: String,
    key: String,
    operation: &'static str,
    digest: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug)]
enum Claim<T> {
    /// The key is new: run the mutation and store its answer.
    Fresh(Uuid),
    /// The key answered before: this is that answer.
    Replay(T),
}

impl IdempotentCall {
    /// A call by `hospital` of `operation` with `input`: keys are the hospital's own, and two
    /// hospitals' keys never meet.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `idempotencyKey` when the key is empty, too long or not visible ASCII.
    pub fn new(
        hospital: &PartnerHospital,
        key: &str,
        operation: &'static str,
        input: &impl Serialize,
    ) -> AppResult<Self> {
        let owner = format!("hospital:{}", hospital.id);
        if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(AppError::invalid("idempotencyKey", "must be 1 to 255 visible ASCII characters"));
        }
        let input = serde_json::to_vec(input).map_err(AppError::internal)?;
        let digest = Sha256::new().chain_update(operation.as_bytes()).chain_update([0]).chain_update(input).finalize();
        Ok(Self { owner, key: key.to_owned(), operation, digest: digest.to_vec() })
    }

    /// Runs `change` once for this key, on `txn`, the mutation's own transaction: claims the
    /// key, runs the change, stores its answer; or, for a key that answered before, replays
    /// that answer without running anything. The change answers what the client gets and what
    /// only a first run has to do after the commit (wake a worker), which a replay has as
    /// `None`.
    ///
    /// # Errors
    /// CONFLICT on `idempotencyKey` as [`Self::claim`]; the change's own refusal, which keeps
    /// no key; the database failed.
    pub async fn once<C, T, X, F, Fut>(
        &self,
        txn: &C,
        keys: &KeyRing,
        now: DateTime<Utc>,
        change: F,
    ) -> AppResult<(T, Option<X>)>
    where
        C: ConnectionTrait,
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<(T, X)>>,
    {
        let claimed = match self.claim(txn, keys, now).await? {
            Claim::Replay(answer) => return Ok((answer, None)),
            Claim::Fresh(claimed) => claimed,
        };
        let (answer, after) = change().await?;
        self.store(txn, keys, claimed, &answer).await?;
        Ok((answer, Some(after)))
    }

    /// Claims the key on `txn`, the mutation's own transaction.
    ///
    /// # Errors
    /// CONFLICT on `idempotencyKey` when the key was used with another operation or input;
    /// the database failed.
    async fn claim<C: ConnectionTrait, T: DeserializeOwned>(
        &self,
        txn: &C,
        keys: &KeyRing,
        now: DateTime<Utc>,
    ) -> AppResult<Claim<T>> {
        // A key past its time is forgotten, as if the purge had already run.
        Entity::delete_many()
            .filter(Column::Owner.eq(&self.owner))
            .filter(Column::Key.eq(&self.key))
            .filter(Column::ExpiresAt.lt(now))
            .exec(txn)
            .await?;
        let id = Uuid::now_v7();
        let claimed = Entity::insert(idempotency_key::ActiveModel {
            id: Set(id),
            owner: Set(self.owner.clone()),
            key: Set(self.key.clone()),
            operation: Set(self.operation.to_owned()),
            request_hash: Set(self.digest.clone()),
            answer: Set(Vec::new()),
            created_at: Set(now),
            expires_at: Set(now + KEEP),
        })
        .on_conflict(OnConflict::columns([Column::Owner, Column::Key]).do_nothing().to_owned())
        .exec_without_returning(txn)
        .await?;
        if claimed == 1 {
            return Ok(Claim::Fresh(id));
        }
        let earlier = Entity::find()
            .filter(Column::Owner.eq(&self.owner))
            .filter(Column::Key.eq(&self.key))
            .one(txn)
            .await?
            .ok_or(AppError::Contended)?;
        if earlier.operation != self.operation || earlier.request_hash != self.digest {
            return Err(AppError::Conflict {
                field: "idempotencyKey".into(),
                message: "this key was used with another request: use a new key for a new request".into(),
            });
        }
        let answer = keys
            .cipher
            .decrypt(&earlier.answer, registry::IDEMPOTENCY_KEY_ANSWER.at(earlier.id))
            .map_err(AppError::internal)?;
        Ok(Claim::Replay(serde_json::from_str(&answer).map_err(AppError::internal)?))
    }

    /// Stores `answer` as the one this key replays, on the transaction that claimed it.
    ///
    /// # Errors
    /// The database failed.
    async fn store<C: ConnectionTrait>(
        &self,
        txn: &C,
        keys: &KeyRing,
        claimed: Uuid,
        answer: &impl Serialize,
    ) -> AppResult<()> {
        let answer = serde_json::to_string(answer).map_err(AppError::internal)?;
        let sealed = keys.cipher.encrypt(&answer, registry::IDEMPOTENCY_KEY_ANSWER.at(claimed));
        Entity::update_many()
            .col_expr(Column::Answer, sea_orm::sea_query::Expr::value(sealed))
            .filter(Column::Id.eq(claimed))
            .exec(txn)
            .await?;
        Ok(())
    }
}

/// Forgets the keys past their time; returns how many.
///
/// # Errors
/// The database failed.
pub async fn purge<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(Entity::delete_many().filter(Column::ExpiresAt.lt(now)).exec(conn).await?.rows_affected)
}
