//! Volunteers sign in with their phone and a one-time code sent by SMS.
//!
//! Every answer is the same whether or not the phone belongs to a volunteer: a code goes to any
//! valid mainland mobile (an unknown one may go on to enrol), and the limits count the same.
//! Only the holder of the phone, by entering the code, learns which it is.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use entity::sign_in_code;
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::rate_limit::{self, Limit};
use super::sessions::{Session, SessionService};
use super::volunteers::{self, VolunteerService};
use super::{ClientAddress, Principal};
use crate::config::VolunteerCodeSettings;
use crate::digest::hex;
use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::messaging::{Messaging, NewMessage, Recipient};
use crate::pii::KeyRing;

/// Reported for every code that cannot be used: wrong, expired, spent or locked.
const CODE_REFUSED: &str = "is wrong or has expired; request a new code";

/// What the caller is told after asking for a code: the same for every valid phone.
#[derive(Clone, Copy, Debug)]
pub struct CodeSent {
    pub expires_in_secs: i64,
    pub resend_after_secs: i64,
}

/// The result of a correct code.
#[derive(Clone, Debug)]
pub enum SignedIn {
    /// The phone is a volunteer's primary phone: their session.
    Volunteer(Session),
    /// No volunteer has this phone: the holder may enrol.
    Unregistered,
}

#[derive(Clone, Debug)]
pub struct VolunteerSignIn {
    db: DatabaseConnection,
    keys: std::sync::Arc<KeyRing>,
    messaging: Messaging,
    sessions: SessionService,
    volunteers: VolunteerService,
    settings: VolunteerCodeSettings,
}

impl VolunteerSignIn {
    #[must_use]
    pub fn new(
        db: DatabaseConnection,
        keys: std::sync::Arc<KeyRing>,
        messaging: Messaging,
        sessions: SessionService,
        volunteers: VolunteerService,
        settings: VolunteerCodeSettings,
    ) -> Self {
        Self { db, keys, messaging, sessions, volunteers, settings }
    }

    /// Sends a fresh code to `phone`. Earlier codes stop working.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `phone` when it is not a mainland mobile; RATE_LIMITED within the resend
    /// cooldown, or past the per-phone or per-address limit.
    pub async fn request_code(
        &self,
        phone: &str,
        client: ClientAddress,
        request_id: Option<&str>,
    ) -> AppResult<CodeSent> {
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        let phone_index = self.keys.blind_index.phone(&phone);
        let now = Utc::now();
        self.limit_address(client).await?;
        let latest = self.latest_code(&phone_index).await?;
        let resend_after = Duration::seconds(secs(self.settings.resend_after_secs));
        if let Some(latest) = latest.filter(|code| code.created_at + resend_after > now) {
            let wait = Ord::max((latest.created_at + resend_after - now).num_seconds(), 1);
            return Err(AppError::RateLimited { retry_after_secs: wait.unsigned_abs() });
        }
        let per_phone = Limit { max: self.settings.per_phone_per_hour, window: Duration::hours(1) };
        rate_limit::hit(&self.db, &format!("sign_in_code:phone:{}", hex(&phone_index)), per_phone, now).await?;

        let id = Uuid::now_v7();
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
        let ttl = Duration::seconds(secs(self.settings.ttl_secs));
        let holder = self.volunteers.by_primary_phone(&self.db, &phone_index).await?;
        let txn = self.db.begin().await?;
        sign_in_code::ActiveModel {
            id: Set(id),
            phone_index: Set(phone_index),
            code_hash: Set(self.code_hash(id, &code)),
            expires_at: Set(now + ttl),
            failed_attempts: Set(0),
            consumed_at: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let minutes = (ttl.num_seconds() + 59) / 60;
        let message = NewMessage {
            recipient: Recipient::Sms(phone),
            volunteer_id: holder.as_ref().map(|holder| holder.id),
            branch_code: holder.map_or_else(|| self.settings.default_branch.clone(), |holder| holder.branch_code),
            template_key: "login_code".into(),
            locale: "zh-CN".into(),
            variables: BTreeMap::from([("code".into(), code), ("minutes".into(), minutes.to_string())]),
            dedupe_key: format!("sign_in_code:{id}"),
            campaign_id: None,
        };
        self.messaging.queue(&txn, message).await?;
        txn.commit().await?;
        tracing::info!(code_id = %id, request_id, "sign-in code queued");
        Ok(CodeSent { expires_in_secs: ttl.num_seconds(), resend_after_secs: resend_after.num_seconds() })
    }

    /// Checks `code` against the latest one sent to `phone`. A wrong code counts against it; at
    /// the limit it is locked, even for the right code.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `phone` or `code`; RATE_LIMITED past the per-address limit.
    pub async fn sign_in(
        &self,
        phone: &str,
        code: &str,
        client: ClientAddress,
        request_id: Option<&str>,
    ) -> AppResult<SignedIn> {
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::invalid("code", "must be the 6 digits sent by SMS"));
        }
        self.limit_address(client).await?;
        let phone_index = self.keys.blind_index.phone(&phone);
        let now = Utc::now();
        let max_attempts = i32::try_from(self.settings.max_attempts).unwrap_or(i32::MAX);
        let latest = self.latest_code(&phone_index).await?.filter(|latest| {
            latest.consumed_at.is_none() && latest.expires_at > now && latest.failed_attempts < max_attempts
        });
        let Some(latest) = latest else {
            return Err(AppError::invalid("code", CODE_REFUSED));
        };
        if !crate::digest::constant_time_eq(&self.code_hash(latest.id, code), &latest.code_hash) {
            sign_in_code::Entity::update_many()
                .col_expr(sign_in_code::Column::FailedAttempts, Expr::col(sign_in_code::Column::FailedAttempts).add(1))
                .filter(sign_in_code::Column::Id.eq(latest.id))
                .exec(&self.db)
                .await?;
            return Err(AppError::invalid("code", CODE_REFUSED));
        }
        let txn = self.db.begin().await?;
        let spent = sign_in_code::Entity::update_many()
            .col_expr(sign_in_code::Column::ConsumedAt, Expr::value(now))
            .filter(sign_in_code::Column::Id.eq(latest.id))
            .filter(sign_in_code::Column::ConsumedAt.is_null())
            .filter(sign_in_code::Column::FailedAttempts.lt(max_attempts))
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            return Err(AppError::invalid("code", CODE_REFUSED));
        }
        let Some(holder) = self.volunteers.by_primary_phone(&txn, &latest.phone_index).await? else {
            txn.commit().await?;
            return Ok(SignedIn::Unregistered);
        };
        volunteers::mark_primary_phone_verified(&txn, holder.id, now).await?;
        let principal = Principal::Volunteer { id: holder.id };
        let session = self.sessions.open(&txn, &principal, holder.credential_version, Uuid::now_v7()).await?;
        audit::record(&txn, &principal, AuditEntry { action: "volunteer.sign_in", request_id, ..Default::default() })
            .await?;
        txn.commit().await?;
        Ok(SignedIn::Volunteer(session))
    }

    async fn limit_address(&self, client: ClientAddress) -> AppResult<()> {
        let address = self.keys.blind_index.digest("client_address", &client.limited_part());
        let limit = Limit { max: self.settings.per_address_per_hour, window: Duration::hours(1) };
        rate_limit::hit(&self.db, &format!("sign_in:address:{}", hex(&address)), limit, Utc::now()).await
    }

    async fn latest_code(&self, phone_index: &[u8]) -> AppResult<Option<sign_in_code::Model>> {
        Ok(sign_in_code::Entity::find()
            .filter(sign_in_code::Column::PhoneIndex.eq(phone_index.to_vec()))
            .order_by_desc(sign_in_code::Column::CreatedAt)
            .one(&self.db)
            .await?)
    }

    /// A keyed hash bound to the code's row: a stolen table cannot be brute-forced offline, and
    /// one code's hash says nothing about another's.
    fn code_hash(&self, id: Uuid, code: &str) -> Vec<u8> {
        self.keys.blind_index.digest("sign_in_code", &format!("{id}:{code}"))
    }
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX / 1_000_000)
}
