//! Staff accounts and their sessions: password sign-in (Argon2id), refresh-token rotation with
//! reuse detection, sign-out, and disabling an account, each ending sessions at once.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::staff_account;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::audit::{self, AuditAction, AuditEntry};
use super::second_factor;
use super::sessions::{Revoke, Session, SessionService, principal_of, revoke};
use super::{NationalAdmin, Principal, StaffRole};
use crate::db;
use crate::domain::check_branch_code;
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::pii::registry;

/// Reported for every failed sign-in, so an attacker cannot tell a wrong name from a wrong password.
const SIGN_IN_REFUSED: &str = "wrong user name, password or one-time code";

/// A staff account to create.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub username: String,
    pub password: String,
    pub role: StaffRole,
    pub branch_code: String,
}

/// A created account. The TOTP URI is shown once, to be scanned into an authenticator app.
#[derive(Clone, Debug)]
pub struct CreatedStaff {
    pub id: Uuid,
    pub totp_uri: Option<String>,
}

#[derive(Clone, Debug)]
pub struct StaffService {
    db: DatabaseConnection,
    sessions: SessionService,
    keys: Arc<KeyRing>,
}

impl StaffService {
    #[must_use]
    pub fn new(db: DatabaseConnection, sessions: SessionService, keys: Arc<KeyRing>) -> Self {
        Self { db, sessions, keys }
    }

    /// Creates a staff account. Only national administrators hold the capability.
    ///
    /// # Errors
    /// BAD_USER_INPUT for a malformed name or a weak password; CONFLICT for a taken name.
    pub async fn create(
        &self,
        _admin: &NationalAdmin,
        actor: &Principal,
        input: NewStaff,
        request_id: Option<&str>,
    ) -> AppResult<CreatedStaff> {
        self.insert(actor, input, request_id).await
    }

    /// The first national administrator, for a fresh deployment (the `registry-admin` command);
    /// refused once one exists.
    ///
    /// # Errors
    /// FORBIDDEN once a national administrator exists; input errors as for [`Self::create`].
    pub async fn bootstrap_national_admin(&self, username: &str, password: &str) -> AppResult<CreatedStaff> {
        let existing = staff_account::Entity::find()
            .filter(staff_account::Column::Role.eq(StaffRole::NationalAdmin))
            .one(&self.db)
            .await?;
        if existing.is_some() {
            return Err(AppError::Forbidden);
        }
        let input = NewStaff {
            username: username.to_owned(),
            password: password.to_owned(),
            role: StaffRole::NationalAdmin,
            branch_code: "11".into(),
        };
        self.insert(&Principal::Anonymous, input, None).await
    }

    async fn insert(&self, actor: &Principal, input: NewStaff, request_id: Option<&str>) -> AppResult<CreatedStaff> {
        let username = input.username.trim().to_lowercase();
        if !(3..=64).contains(&username.len())
            || !username.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(AppError::invalid("username", "must be 3 to 64 letters, digits, dots, dashes or underscores"));
        }
        check_password(&input.password)?;
        check_branch_code(&input.branch_code).map_err(AppError::field("branchCode"))?;
        let taken =
            staff_account::Entity::find().filter(staff_account::Column::Username.eq(&username)).one(&self.db).await?;
        if taken.is_some() {
            return Err(username_taken());
        }
        let hash = hash_password(&input.password)?;
        let now = Utc::now();
        let id = Uuid::now_v7();
        let enrolment = second_factor::required_for(input.role).then(|| second_factor::enrol(&username)).transpose()?;
        let totp_secret = enrolment.as_ref().map(|e| {
            self.keys.cipher.encrypt(&URL_SAFE_NO_PAD.encode(&e.secret), registry::STAFF_ACCOUNT_TOTP_SECRET.at(id))
        });
        db::write!(&self.db, |txn| {
            staff_account::ActiveModel {
                id: Set(id),
                username: Set(username.clone()),
                password_hash: Set(hash.clone()),
                role: Set(input.role),
                branch_code: Set(input.branch_code.clone()),
                totp_secret: Set(totp_secret.clone()),
                totp_last_step: Set(None),
                credential_version: Set(1),
                disabled_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|err| AppError::on_constraint(err, Some(username_taken()), Some(AppError::no_such_branch())))?;
            audit::record(
                txn,
                actor,
                AuditAction::StaffCreate,
                AuditEntry { subject: Some(("staff", id)), request_id, ..Default::default() },
            )
            .await?;
            Ok(())
        })?;
        Ok(CreatedStaff { id, totp_uri: enrolment.map(|e| e.uri) })
    }

    /// Signs a staff member in with name, password and, for the roles that need one, a
    /// one-time code.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `credentials`, the same for an unknown name, a wrong password, a
    /// missing, wrong or reused code and a disabled account.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        totp_code: Option<&str>,
        request_id: Option<&str>,
    ) -> AppResult<Session> {
        if password.len() > 512 || username.len() > 64 {
            return Err(AppError::invalid("credentials", SIGN_IN_REFUSED));
        }
        let username = username.trim().to_lowercase();
        let account =
            staff_account::Entity::find().filter(staff_account::Column::Username.eq(&username)).one(&self.db).await?;
        // Verify against a fixed hash when the name is unknown, so timing does not tell.
        let hash = account.as_ref().map_or(UNKNOWN_USER_HASH.as_str(), |account| account.password_hash.as_str());
        let password_ok = Argon2::default().verify_password(password.as_bytes(), hash).is_ok();
        let Some(account) = account.filter(|account| password_ok && account.disabled_at.is_none()) else {
            return Err(AppError::invalid("credentials", SIGN_IN_REFUSED));
        };
        let principal = principal_of(&account);
        db::write!(&self.db, |txn| {
            if let Some(sealed) = &account.totp_secret {
                self.spend_totp_code(txn, &account, sealed, totp_code).await?;
            }
            let session = self.sessions.open(txn, &principal, account.credential_version, Uuid::now_v7()).await?;
            audit::record(txn, &principal, AuditAction::StaffSignIn, AuditEntry { request_id, ..Default::default() })
                .await?;
            Ok(session)
        })
    }

    /// Accepts a code once: its time step must be later than the last one accepted.
    async fn spend_totp_code<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        account: &staff_account::Model,
        sealed: &[u8],
        code: Option<&str>,
    ) -> AppResult<()> {
        let refused = AppError::invalid("credentials", SIGN_IN_REFUSED);
        let encoded = self
            .keys
            .cipher
            .decrypt(sealed, registry::STAFF_ACCOUNT_TOTP_SECRET.at(account.id))
            .map_err(AppError::internal)?;
        let secret = URL_SAFE_NO_PAD.decode(encoded).map_err(AppError::internal)?;
        let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
        let step = code.and_then(|code| second_factor::accepted_step(&secret, code, now)).ok_or(refused)?;
        let step = i64::try_from(step).map_err(AppError::internal)?;
        let spent = staff_account::Entity::update_many()
            .col_expr(staff_account::Column::TotpLastStep, Expr::value(step))
            .filter(staff_account::Column::Id.eq(account.id))
            .filter(
                sea_orm::Condition::any()
                    .add(staff_account::Column::TotpLastStep.is_null())
                    .add(staff_account::Column::TotpLastStep.lt(step)),
            )
            .exec(conn)
            .await?;
        if spent.rows_affected == 1 { Ok(()) } else { Err(AppError::invalid("credentials", SIGN_IN_REFUSED)) }
    }

    /// Replaces an account's second factor (a lost phone): sessions end, and the new URI is
    /// shown once.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown account; BAD_USER_INPUT for a role without a second factor.
    pub async fn reset_second_factor(
        &self,
        _admin: &NationalAdmin,
        actor: &Principal,
        id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<String> {
        let account = staff_account::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "staff account" })?;
        let role = principal_of(&account);
        if !matches!(role, Principal::Staff { role, .. } if second_factor::required_for(role)) {
            return Err(AppError::invalid("id", "this account's role signs in without a second factor"));
        }
        let enrolment = second_factor::enrol(&account.username)?;
        let sealed = self
            .keys
            .cipher
            .encrypt(&URL_SAFE_NO_PAD.encode(&enrolment.secret), registry::STAFF_ACCOUNT_TOTP_SECRET.at(id));
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            staff_account::Entity::update_many()
                .col_expr(staff_account::Column::TotpSecret, Expr::value(sealed.clone()))
                .col_expr(staff_account::Column::TotpLastStep, Expr::value(Option::<i64>::None))
                .col_expr(staff_account::Column::CredentialVersion, Expr::cust("credential_version + 1"))
                .col_expr(staff_account::Column::UpdatedAt, Expr::value(now))
                .filter(staff_account::Column::Id.eq(id))
                .exec(txn)
                .await?;
            revoke(txn, Revoke::Subject(id), now).await?;
            let entry = AuditEntry { subject: Some(("staff", id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::StaffSecondFactorReset, entry).await?;
            Ok(())
        })?;
        Ok(enrolment.uri)
    }

    /// Changes the caller's own password. Every session of the account ends, this one included:
    /// after a credential change, only someone who knows the new password is signed in.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `currentPassword` when it is wrong, on `newPassword` when it breaks the
    /// policy; FORBIDDEN for callers that are not staff.
    pub async fn change_own_password(
        &self,
        actor: &Principal,
        current: &str,
        new: &str,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let Principal::Staff { id, .. } = actor else {
            return Err(actor.refusal());
        };
        let account = staff_account::Entity::find_by_id(*id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "staff account" })?;
        if current.len() > 512
            || Argon2::default().verify_password(current.as_bytes(), account.password_hash.as_str()).is_err()
        {
            return Err(AppError::invalid("currentPassword", "is wrong"));
        }
        check_password(new)
            .map_err(|_| AppError::invalid("newPassword", "must be 12 to 128 characters and not a common password"))?;
        let hash = hash_password(new)?;
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            staff_account::Entity::update_many()
                .col_expr(staff_account::Column::PasswordHash, Expr::value(hash.clone()))
                .col_expr(staff_account::Column::CredentialVersion, Expr::cust("credential_version + 1"))
                .col_expr(staff_account::Column::UpdatedAt, Expr::value(now))
                .filter(staff_account::Column::Id.eq(*id))
                .exec(txn)
                .await?;
            revoke(txn, Revoke::Subject(*id), now).await?;
            let entry = AuditEntry { subject: Some(("staff", *id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::StaffPasswordChange, entry).await?;
            Ok(())
        })
    }

    /// Disables an account: its live access tokens stop working on their next request and its
    /// refresh tokens are revoked.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown account.
    pub async fn disable(
        &self,
        _admin: &NationalAdmin,
        actor: &Principal,
        id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            let changed = staff_account::Entity::update_many()
                .col_expr(staff_account::Column::DisabledAt, Expr::value(now))
                .col_expr(staff_account::Column::CredentialVersion, Expr::cust("credential_version + 1"))
                .col_expr(staff_account::Column::UpdatedAt, Expr::value(now))
                .filter(staff_account::Column::Id.eq(id))
                .exec(txn)
                .await?;
            if changed.rows_affected == 0 {
                return Err(AppError::NotFound { resource: "staff account" });
            }
            revoke(txn, Revoke::Subject(id), now).await?;
            audit::record(
                txn,
                actor,
                AuditAction::StaffDisable,
                AuditEntry { subject: Some(("staff", id)), request_id, ..Default::default() },
            )
            .await?;
            Ok(())
        })
    }

    /// Whether a staff token still speaks for a live account at the version it was issued for.
    ///
    /// # Errors
    /// UNAUTHENTICATED when the account is gone, disabled, or its credentials changed since.
    pub async fn ensure_current(&self, id: Uuid, credential_version: i32) -> AppResult<()> {
        let account = staff_account::Entity::find_by_id(id).one(&self.db).await?;
        match account {
            Some(account) if account.disabled_at.is_none() && account.credential_version == credential_version => {
                Ok(())
            }
            _ => Err(AppError::Unauthenticated),
        }
    }
}

fn username_taken() -> AppError {
    AppError::Conflict { field: "username".into(), message: "is taken".into() }
}

/// An Argon2id hash of a random password nobody has, verified against when the user name is
/// unknown, so that an unknown name costs as much time as a wrong password.
static UNKNOWN_USER_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut random = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut random);
    hash_password(&URL_SAFE_NO_PAD.encode(random)).unwrap_or_default()
});

/// Passwords of 12 to 128 characters from the top million of a public breach corpus (see
/// `api/data/README.md`), lower-cased: the ones an attacker tries first.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../../data/common-passwords.txt").lines().collect());

/// 12 to 128 characters, and not one of the commonly used passwords.
fn check_password(password: &str) -> AppResult<()> {
    let length = password.chars().count();
    if !(12..=128).contains(&length) {
        return Err(AppError::invalid("password", "must be 12 to 128 characters"));
    }
    if COMMON_PASSWORDS.contains(password.to_lowercase().as_str()) {
        return Err(AppError::invalid("password", "is too common; choose one that is not on breach lists"));
    }
    Ok(())
}

fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| AppError::internal(anyhow::anyhow!("hashing a password: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_long_and_common_passwords() {
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(129)).is_err());
        for common in ["123456789012", "QWERTYUIOPASDFGHJKL", "passwordpassword"] {
            assert!(check_password(common).is_err(), "{common}");
        }
        assert!(check_password("a long enough password").is_ok());
    }
}
