//! A hospital's client id and hashed secret. Rotation keeps the old one valid until it expires.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hospital_credential")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub hospital_id: Uuid,
    #[sea_orm(unique)]
    pub client_id: String,
    /// SHA-256 of the secret: 256 random bits need no slow hash, and the secret is never stored.
    pub secret_hash: Vec<u8>,
    /// Set when a newer credential was issued: the overlap during which both work.
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
