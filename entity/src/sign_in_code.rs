//! A one-time code sent to a phone for volunteer sign-in. Only its keyed hash is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_code")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Blind index of the phone the code was sent to.
    pub phone_index: Vec<u8>,
    /// HMAC of the code, keyed and bound to this row.
    pub code_hash: Vec<u8>,
    pub expires_at: DateTimeUtc,
    /// Wrong codes tried against it; at the limit it is locked.
    pub failed_attempts: i32,
    pub consumed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
