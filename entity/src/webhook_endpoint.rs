//! A partner hospital's webhook endpoint and its signing secrets.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoint")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub hospital_id: Uuid,
    pub url: String,
    /// Ciphertext of the current `whsec_` secret: the service signs with it, so it is sealed,
    /// not hashed.
    pub secret: Vec<u8>,
    /// Ciphertext of the secret before the last rotation, signed with too until `previous_until`.
    pub previous_secret: Option<Vec<u8>>,
    pub previous_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
