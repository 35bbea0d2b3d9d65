//! Sessions of every signed-in kind (staff, volunteers): a short-lived access token and an
//! opaque refresh token that is stored only as a hash, rotated on every use, and whose reuse
//! revokes its whole family.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::{refresh_token, staff_account, volunteer};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use uuid::Uuid;

use super::audit::{self, AuditAction, AuditEntry};
use super::{Principal, opaque_token};
use crate::auth::Tokens;
use crate::db;
use crate::error::{AppError, AppResult};

const REFRESH_PREFIX: &str = "rt_";
const REFRESH_LIFETIME_DAYS: i64 = 14;
/// Reported for every refresh token that cannot be used, whatever the reason.
const REFRESH_REFUSED: &str = "is not valid; sign in again";

/// The tokens of a signed-in session.
#[derive(Clone, Debug)]
pub struct Session {
    pub access_token: String,
    /// Opaque; shown once, stored only as a hash, replaced on every refresh.
    pub refresh_token: String,
    pub expires_in_secs: i64,
}

/// Opens, rotates and ends sessions.
#[derive(Clone, Debug)]
pub struct SessionService {
    db: DatabaseConnection,
    tokens: Arc<Tokens>,
}

/// Which refresh tokens to revoke: a whole session (a family), or everything a subject holds.
#[derive(Clone, Copy, Debug)]
pub enum Revoke {
    Family(Uuid),
    Subject(Uuid),
}

impl SessionService {
    #[must_use]
    pub fn new(db: DatabaseConnection, tokens: Arc<Tokens>) -> Self {
        Self { db, tokens }
    }

    /// Opens a new session for `principal` on `conn`, in the family `family_id` (a fresh id for
    /// a sign-in, the old family's for a refresh).
    ///
    /// # Errors
    /// Anonymous and hospital principals have no refresh sessions.
    pub async fn open<C: ConnectionTrait>(
        &self,
        conn: &C,
        principal: &Principal,
        credential_version: i32,
        family_id: Uuid,
    ) -> AppResult<Session> {
        let now = Utc::now();
        let (kind, id) = match principal {
            Principal::Staff { id, .. } => ("staff", *id),
            Principal::Volunteer { id } => ("volunteer", *id),
            Principal::Anonymous | Principal::Hospital { .. } => {
                return Err(AppError::internal(anyhow::anyhow!("a refresh session for a principal without one")));
            }
        };
        let refresh = new_refresh_token();
        refresh_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            family_id: Set(family_id),
            subject_kind: Set(kind.into()),
            subject_id: Set(id),
            token_hash: Set(opaque_token::hash(&refresh)),
            expires_at: Set(now + Duration::days(REFRESH_LIFETIME_DAYS)),
            rotated_at: Set(None),
            revoked_at: Set(None),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
        let access_token =
            self.tokens.issue(principal, credential_version, Some(family_id), now).map_err(AppError::internal)?;
        Ok(Session { access_token, refresh_token: refresh, expires_in_secs: self.tokens.ttl_secs() })
    }

    /// Exchanges a refresh token for a new session. The old token is spent; presenting a spent
    /// token again means it was stolen or replayed, so its whole family is revoked and audited.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `refreshToken` for an unknown, expired, revoked or reused token, or a
    /// subject that can no longer sign in: the token is this call's input, so its refusal is a
    /// client error.
    pub async fn refresh(&self, refresh_token: &str, request_id: Option<&str>) -> AppResult<Session> {
        let refused = || AppError::invalid("refreshToken", REFRESH_REFUSED);
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            let stored = refresh_token::Entity::find()
                .filter(refresh_token::Column::TokenHash.eq(opaque_token::hash(refresh_token)))
                .one(txn)
                .await?;
            let Some(stored) = stored else { return Ok(Err(refused())) };
            if stored.rotated_at.is_some() && stored.revoked_at.is_none() {
                revoke(txn, Revoke::Family(stored.family_id), now).await?;
                let subject_kind = if stored.subject_kind == "staff" { "staff" } else { "volunteer" };
                let entry = AuditEntry {
                    subject: Some((subject_kind, stored.subject_id)),
                    request_id,
                    detail: Some("a rotated refresh token was presented again; its family was revoked".into()),
                    ..Default::default()
                };
                audit::record(txn, &Principal::Anonymous, AuditAction::RefreshTokenReuse, entry).await?;
                tracing::warn!(family = %stored.family_id, "refresh token reuse: family revoked");
                return Ok(Err(refused())); // the revocation is committed
            }
            if stored.revoked_at.is_some() || stored.expires_at <= now {
                return Ok(Err(refused()));
            }
            let Some((principal, credential_version)) =
                current_subject(txn, &stored.subject_kind, stored.subject_id).await?
            else {
                return Ok(Err(refused()));
            };
            let spent = refresh_token::Entity::update_many()
                .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
                .filter(refresh_token::Column::Id.eq(stored.id))
                .filter(refresh_token::Column::RotatedAt.is_null())
                .exec(txn)
                .await?;
            if spent.rows_affected != 1 {
                // A concurrent refresh spent it first.
                return Ok(Err(refused()));
            }
            Ok(Ok(self.open(txn, &principal, credential_version, stored.family_id).await?))
        })?
    }

    /// Whether the refresh session an access token was issued in is still live (not signed
    /// out, not revoked for reuse): checked on every request that carries one.
    ///
    /// # Errors
    /// UNAUTHENTICATED when it has ended.
    pub async fn ensure_live(&self, session: Uuid) -> AppResult<()> {
        let count = || {
            refresh_token::Entity::find()
                .filter(refresh_token::Column::FamilyId.eq(session))
                .filter(refresh_token::Column::RevokedAt.is_null())
                .count(&self.db)
        };
        // A read that changes nothing: after a dropped connection (a database restart), once
        // more on a fresh one before the client is told to retry.
        let live = match count().await.map_err(AppError::from) {
            Err(AppError::ServiceUnavailable) => count().await?,
            other => other?,
        };
        if live > 0 { Ok(()) } else { Err(AppError::Unauthenticated) }
    }

    /// Ends the session a refresh token belongs to.
    ///
    /// # Errors
    /// The database failed. An unknown token is not an error: signing out twice is harmless.
    pub async fn sign_out(&self, refresh_token: &str) -> AppResult<()> {
        let stored = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(opaque_token::hash(refresh_token)))
            .one(&self.db)
            .await?;
        if let Some(stored) = stored {
            revoke(&self.db, Revoke::Family(stored.family_id), Utc::now()).await?;
        }
        Ok(())
    }
}

/// The principal a refresh token's subject signs in as now, with its credential version; `None`
/// when it can no longer sign in (disabled, purged).
async fn current_subject<C: ConnectionTrait>(conn: &C, kind: &str, id: Uuid) -> AppResult<Option<(Principal, i32)>> {
    match kind {
        "staff" => {
            let account = staff_account::Entity::find_by_id(id).one(conn).await?;
            let Some(account) = account.filter(|account| account.disabled_at.is_none()) else { return Ok(None) };
            Ok(Some((principal_of(&account), account.credential_version)))
        }
        "volunteer" => {
            let version = volunteer::Entity::find_by_id(id).one(conn).await?.map(|v| v.credential_version);
            Ok(version.map(|version| (Principal::Volunteer { id }, version)))
        }
        _ => Ok(None),
    }
}

/// Revokes the refresh tokens `which` chooses, on `conn` (the transaction of the change that
/// ends them).
///
/// # Errors
/// The database failed.
pub async fn revoke<C: ConnectionTrait>(conn: &C, which: Revoke, now: DateTime<Utc>) -> AppResult<()> {
    let chosen = match which {
        Revoke::Family(family) => refresh_token::Column::FamilyId.eq(family),
        Revoke::Subject(subject) => refresh_token::Column::SubjectId.eq(subject),
    };
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(chosen)
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

fn new_refresh_token() -> String {
    format!("{REFRESH_PREFIX}{}", opaque_token::new())
}

/// The principal of a staff account, as its sessions carry it.
pub(super) fn principal_of(account: &staff_account::Model) -> Principal {
    Principal::Staff { id: account.id, role: account.role, branch: account.branch_code.clone() }
}
