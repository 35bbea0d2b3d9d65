//! A partner's idempotency key for one mutation, and the first answer it got.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_key")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Whose key: `hospital:<id>`. Two partners' keys never meet.
    pub owner: String,
    pub key: String,
    /// The mutation the key was first used with.
    pub operation: String,
    /// SHA-256 of the operation and its input.
    pub request_hash: Vec<u8>,
    /// Ciphertext of the first answer, replayed to a retry.
    pub answer: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
