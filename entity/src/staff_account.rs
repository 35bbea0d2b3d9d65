//! A registry staff member's account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// `national_admin`, `branch_coordinator`, `branch_recruiter` or `auditor`.
    pub role: String,
    pub branch_code: String,
    /// Ciphertext of the TOTP secret, bound to this row.
    pub totp_secret: Option<Vec<u8>>,
    /// The last TOTP time step accepted: a code is good once (RFC 6238 §5.2).
    pub totp_last_step: Option<i64>,
    /// Bumped by a password change, a disable or a second-factor reset: sessions of older
    /// versions end at once.
    pub credential_version: i32,
    pub disabled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
