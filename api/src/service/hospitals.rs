//! Partner hospitals: registration, client credentials (shown once, stored hashed, rotated
//! with an overlap), and the exchange of credentials for a short-lived access token.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use entity::{hospital, hospital_credential};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit::{self, AuditAction, AuditEntry};
use super::{NationalAdmin, Principal, StaffRole};
use crate::auth::Tokens;
use crate::db;
use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::pii::registry;

/// How long a rotated credential keeps working beside its successor.
const ROTATION_OVERLAP_DAYS: i64 = 7;

/// A hospital to register.
#[derive(Clone, Debug)]
pub struct NewHospital {
    pub name: String,
    pub branch_code: String,
    pub contact_name: String,
    pub contact_phone: String,
}

/// A hospital as its readers see it; the contact is masked.
#[derive(Clone, Debug)]
pub struct HospitalView {
    pub id: Uuid,
    pub name: String,
    pub branch_code: String,
    pub contact_name_masked: String,
    pub contact_phone_masked: String,
}

/// Credentials just issued: the secret is shown this once.
#[derive(Clone, Debug)]
pub struct IssuedCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// When the credentials this replaces stop working, if there were any.
    pub previous_valid_until: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
struct Contact {
    name: String,
    phone: String,
}

#[derive(Clone, Debug)]
pub struct HospitalService {
    db: DatabaseConnection,
    tokens: Arc<Tokens>,
    keys: Arc<KeyRing>,
}

impl HospitalService {
    #[must_use]
    pub fn new(db: DatabaseConnection, tokens: Arc<Tokens>, keys: Arc<KeyRing>) -> Self {
        Self { db, tokens, keys }
    }

    /// Registers a partner hospital.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field for a bad name, branch, contact name or phone.
    pub async fn register(
        &self,
        _admin: &NationalAdmin,
        actor: &Principal,
        input: NewHospital,
        request_id: Option<&str>,
    ) -> AppResult<HospitalView> {
        let name = input.name.trim().to_owned();
        if !(2..=100).contains(&name.chars().count()) {
            return Err(AppError::invalid("name", "must be 2 to 100 characters"));
        }
        let contact_name = input.contact_name.trim().to_owned();
        if !(1..=50).contains(&contact_name.chars().count()) {
            return Err(AppError::invalid("contactName", "must be 1 to 50 characters"));
        }
        let phone = Phone::parse(&input.contact_phone).map_err(AppError::field("contactPhone"))?;
        let id = Uuid::now_v7();
        let contact = serde_json::to_string(&Contact { name: contact_name, phone: phone.expose().to_owned() })
            .map_err(AppError::internal)?;
        let now = Utc::now();
        let model = db::write!(&self.db, |txn| {
            let model = hospital::ActiveModel {
                id: Set(id),
                name: Set(name.clone()),
                branch_code: Set(input.branch_code.clone()),
                contact: Set(self.keys.cipher.encrypt(&contact, registry::HOSPITAL_CONTACT.at(id))),
                disabled_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|err| AppError::on_constraint(err, None, Some(AppError::no_such_branch())))?;
            audit::record(
                txn,
                actor,
                AuditAction::HospitalRegister,
                AuditEntry { subject: Some(("hospital", id)), request_id, ..Default::default() },
            )
            .await?;
            Ok(model)
        })?;
        self.view(&model)
    }

    /// A hospital's registration. National administrators read any; branch coordinators and
    /// recruiters read their branch's; a hospital reads its own.
    ///
    /// # Errors
    /// NOT_FOUND, or FORBIDDEN for anyone else.
    pub async fn get(&self, actor: &Principal, id: Uuid) -> AppResult<HospitalView> {
        if !matches!(actor, Principal::Staff { .. } | Principal::Hospital { .. }) {
            return Err(actor.refusal());
        }
        let model =
            hospital::Entity::find_by_id(id).one(&self.db).await?.ok_or(AppError::NotFound { resource: "hospital" })?;
        let allowed = match actor {
            Principal::Staff { role: StaffRole::NationalAdmin, .. } => true,
            Principal::Staff { role: StaffRole::BranchCoordinator | StaffRole::BranchRecruiter, branch, .. } => {
                *branch == model.branch_code
            }
            Principal::Hospital { id, .. } => *id == model.id,
            _ => false,
        };
        if !allowed {
            return Err(AppError::Forbidden);
        }
        self.view(&model)
    }

    /// Issues new client credentials; earlier ones keep working for the overlap, then stop.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown hospital.
    pub async fn issue_credentials(
        &self,
        _admin: &NationalAdmin,
        actor: &Principal,
        hospital_id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<IssuedCredentials> {
        hospital::Entity::find_by_id(hospital_id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "hospital" })?;
        let now = Utc::now();
        let until = now + Duration::days(ROTATION_OVERLAP_DAYS);
        let client_id = format!("hosp_{}", random_token(12));
        let client_secret = format!("hsk_{}", random_token(32));
        let replaced = db::write!(&self.db, |txn| {
            let replaced = hospital_credential::Entity::update_many()
                .col_expr(hospital_credential::Column::ExpiresAt, Expr::value(until))
                .filter(hospital_credential::Column::HospitalId.eq(hospital_id))
                .filter(hospital_credential::Column::ExpiresAt.is_null())
                .filter(hospital_credential::Column::RevokedAt.is_null())
                .exec(txn)
                .await?;
            hospital_credential::ActiveModel {
                id: Set(Uuid::now_v7()),
                hospital_id: Set(hospital_id),
                client_id: Set(client_id.clone()),
                secret_hash: Set(Sha256::digest(client_secret.as_bytes()).to_vec()),
                expires_at: Set(None),
                revoked_at: Set(None),
                created_at: Set(now),
            }
            .insert(txn)
            .await?;
            let entry = AuditEntry { subject: Some(("hospital", hospital_id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::HospitalCredentialsIssued, entry).await?;
            Ok(replaced)
        })?;
        Ok(IssuedCredentials {
            client_id,
            client_secret,
            previous_valid_until: (replaced.rows_affected > 0).then_some(until),
        })
    }

    /// Exchanges client credentials for an access token (client-credentials grant).
    ///
    /// # Errors
    /// BAD_USER_INPUT on `credentials` for unknown, wrong, expired or revoked credentials, or a
    /// disabled hospital.
    pub async fn exchange(&self, client_id: &str, client_secret: &str) -> AppResult<(String, i64)> {
        let refused = || AppError::invalid("credentials", "wrong client id or secret");
        let now = Utc::now();
        let credential = hospital_credential::Entity::find()
            .filter(hospital_credential::Column::ClientId.eq(client_id))
            .one(&self.db)
            .await?
            .ok_or_else(refused)?;
        let secret_ok = credential.secret_hash == Sha256::digest(client_secret.as_bytes()).to_vec();
        let live = credential.revoked_at.is_none() && credential.expires_at.is_none_or(|at| at > now);
        if !(secret_ok && live) {
            return Err(refused());
        }
        let hospital = hospital::Entity::find_by_id(credential.hospital_id)
            .one(&self.db)
            .await?
            .filter(|hospital| hospital.disabled_at.is_none())
            .ok_or_else(refused)?;
        let principal = Principal::Hospital { id: hospital.id, branch: hospital.branch_code };
        let token = self.tokens.issue(&principal, 1, None, now).map_err(AppError::internal)?;
        Ok((token, self.tokens.ttl_secs()))
    }

    /// Whether a hospital token still speaks for an enabled hospital.
    ///
    /// # Errors
    /// UNAUTHENTICATED when the hospital is gone or disabled.
    pub async fn ensure_current(&self, id: Uuid) -> AppResult<()> {
        let hospital = hospital::Entity::find_by_id(id).one(&self.db).await?;
        hospital.filter(|hospital| hospital.disabled_at.is_none()).map(|_| ()).ok_or(AppError::Unauthenticated)
    }

    fn view(&self, model: &hospital::Model) -> AppResult<HospitalView> {
        let contact = self
            .keys
            .cipher
            .decrypt(&model.contact, registry::HOSPITAL_CONTACT.at(model.id))
            .map_err(AppError::internal)?;
        let contact: Contact = serde_json::from_str(&contact).map_err(AppError::internal)?;
        let phone = Phone::parse(&contact.phone)
            .map_err(|_| AppError::internal(anyhow::anyhow!("stored contact phone unreadable")))?;
        let first: String = contact.name.chars().take(1).collect();
        Ok(HospitalView {
            id: model.id,
            name: model.name.clone(),
            branch_code: model.branch_code.clone(),
            contact_name_masked: format!(
                "{first}{}",
                "*".repeat(contact.name.chars().count().saturating_sub(1).max(1))
            ),
            contact_phone_masked: phone.masked(),
        })
    }
}

fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}
