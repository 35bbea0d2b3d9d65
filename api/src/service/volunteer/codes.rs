//! One-time codes sent by SMS: to sign in, and to prove a new number before it replaces a
//! volunteer's phone. One implementation of the rules both need: six digits, a short life, a
//! resend cooldown, a per-phone hourly limit, and a lock after a number of wrong tries.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use entity::sign_in_code::{self, CodePurpose};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::config::VolunteerCodeSettings;
use crate::db;
use crate::digest::hex;
use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::messaging::{Messaging, NewMessage, Recipient};
use crate::pii::KeyRing;
use crate::service::rate_limit::{self, Limit};

/// No code is left to try: none was sent, it expired or was used, or wrong tries locked it.
const CODE_USED_UP: &str = "has expired or can no longer be used; request a new code";

/// What the caller is told after asking for a code.
#[derive(Clone, Copy, Debug)]
pub struct CodeSent {
    pub expires_in_secs: i64,
    pub resend_after_secs: i64,
}

/// Where a code's SMS is signed from and whom it concerns.
#[derive(Clone, Debug)]
pub(super) struct CodeRecipient {
    pub phone: Phone,
    pub volunteer_id: Option<Uuid>,
    pub branch_code: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Codes {
    db: DatabaseConnection,
    keys: std::sync::Arc<KeyRing>,
    messaging: Messaging,
    settings: VolunteerCodeSettings,
}

impl Codes {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: std::sync::Arc<KeyRing>,
        messaging: Messaging,
        settings: VolunteerCodeSettings,
    ) -> Self {
        Self { db, keys, messaging, settings }
    }

    pub(super) fn settings(&self) -> &VolunteerCodeSettings {
        &self.settings
    }

    /// Sends a fresh code for `purpose`; earlier codes of that purpose to the phone stop working.
    ///
    /// # Errors
    /// RATE_LIMITED within the resend cooldown or past the per-phone limit (both count codes of
    /// every purpose: a phone is not to be flooded either way).
    pub(super) async fn send(
        &self,
        purpose: CodePurpose,
        to: CodeRecipient,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> AppResult<CodeSent> {
        let phone_index = self.keys.blind_index.phone(&to.phone);
        let resend_after = Duration::seconds(secs(self.settings.resend_after_secs));
        let latest = sign_in_code::Entity::find()
            .filter(sign_in_code::Column::PhoneIndex.eq(phone_index.clone()))
            .order_by_desc(sign_in_code::Column::CreatedAt)
            .one(&self.db)
            .await?;
        if let Some(latest) = latest.filter(|code| code.created_at + resend_after > now) {
            let wait = Ord::max((latest.created_at + resend_after - now).num_seconds(), 1);
            return Err(AppError::RateLimited { retry_after_secs: wait.unsigned_abs() });
        }
        let per_phone = Limit { max: self.settings.per_phone_per_hour, window: Duration::hours(1) };
        rate_limit::hit(&self.db, &format!("sign_in_code:phone:{}", hex(&phone_index)), per_phone, now).await?;

        let id = Uuid::now_v7();
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
        let minutes = (ttl.num_seconds() + 59) / 60;
        let message = NewMessage {
            recipient: Recipient::Sms(to.phone),
            volunteer_id: to.volunteer_id,
            branch_code: to.branch_code,
            template_key: match purpose {
                CodePurpose::SignIn | CodePurpose::PhoneChange => "login_code",
                CodePurpose::Recovery => "recovery_code",
            }
            .into(),
            locale: "zh-CN".into(),
            variables: BTreeMap::from([("code".into(), code.clone()), ("minutes".into(), minutes.to_string())]),
            dedupe_key: format!("sign_in_code:{id}"),
            campaign_id: None,
        };
        db::write!(&self.db, |txn| {
            sign_in_code::ActiveModel {
                id: Set(id),
                phone_index: Set(phone_index.clone()),
                code_hash: Set(self.code_hash(id, &code)),
                expires_at: Set(now + ttl),
                failed_attempts: Set(0),
                consumed_at: Set(None),
                created_at: Set(now),
                purpose: Set(purpose),
            }
            .insert(txn)
            .await?;
            self.messaging.queue(txn, message.clone()).await
        })?;
        tracing::info!(code_id = %id, purpose = ?purpose, "one-time code queued");
        Ok(CodeSent { expires_in_secs: ttl.num_seconds(), resend_after_secs: resend_after.num_seconds() })
    }

    /// Spends `code` against the latest code of `purpose` sent to the phone, in the caller's
    /// transaction, so that the code is spent only if what it authorises commits.
    ///
    /// A wrong code must count even though nothing else happens, so a refusal is an `Ok(Err)`:
    /// the caller commits the count and then answers the refusal (see [`db::write!`]). The two
    /// refusals differ, so that the app can tell "retype it" from "ask for a new code".
    ///
    /// # Errors
    /// The outer error is a database failure. The inner one is BAD_USER_INPUT on `code`: a
    /// malformed or wrong code (with the tries left), or no code left to try (none sent,
    /// expired, spent, or locked after the last wrong try, even for the right digits).
    pub(super) async fn spend(
        &self,
        txn: &DatabaseTransaction,
        purpose: CodePurpose,
        phone_index: &[u8],
        code: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Result<(), AppError>> {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Err(AppError::invalid("code", "must be the 6 digits sent by SMS")));
        }
        let max_attempts = i32::try_from(self.settings.max_attempts).unwrap_or(i32::MAX);
        let latest = sign_in_code::Entity::find()
            .filter(sign_in_code::Column::PhoneIndex.eq(phone_index.to_vec()))
            .filter(sign_in_code::Column::Purpose.eq(purpose))
            .order_by_desc(sign_in_code::Column::CreatedAt)
            .one(txn)
            .await?
            .filter(|latest| {
                latest.consumed_at.is_none() && latest.expires_at > now && latest.failed_attempts < max_attempts
            });
        let Some(latest) = latest else {
            return Ok(Err(AppError::invalid("code", CODE_USED_UP)));
        };
        if !crate::digest::constant_time_eq(&self.code_hash(latest.id, code), &latest.code_hash) {
            sign_in_code::Entity::update_many()
                .col_expr(sign_in_code::Column::FailedAttempts, Expr::col(sign_in_code::Column::FailedAttempts).add(1))
                .filter(sign_in_code::Column::Id.eq(latest.id))
                .exec(txn)
                .await?;
            let left = max_attempts - latest.failed_attempts - 1;
            return Ok(Err(if left > 0 {
                AppError::invalid("code", format!("is wrong; check it and try again ({left} tries left)"))
            } else {
                AppError::invalid("code", CODE_USED_UP)
            }));
        }
        sign_in_code::Entity::update_many()
            .col_expr(sign_in_code::Column::ConsumedAt, Expr::value(now))
            .filter(sign_in_code::Column::Id.eq(latest.id))
            .exec(txn)
            .await?;
        Ok(Ok(()))
    }

    /// A keyed hash bound to the code's row: a stolen table cannot be brute-forced offline, and
    /// one code's hash says nothing about another's.
    fn code_hash(&self, id: Uuid, code: &str) -> Vec<u8> {
        self.keys.blind_index.digest("sign_in_code", &format!("{id}:{code}"))
    }
}

pub(super) fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX / 1_000_000)
}
