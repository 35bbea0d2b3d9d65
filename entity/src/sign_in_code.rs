//! A one-time code sent to a phone: to sign in, or to prove a new number before it replaces a
//! volunteer's phone. Only its keyed hash is stored.

use sea_orm::entity::prelude::*;

/// What a code proves; a code of one purpose never serves another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CodePurpose {
    #[sea_orm(string_value = "sign_in")]
    SignIn,
    #[sea_orm(string_value = "phone_change")]
    PhoneChange,
    /// Sent to the old phone or a backup contact, to reclaim a record from a new phone.
    #[sea_orm(string_value = "recovery")]
    Recovery,
}

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
    pub purpose: CodePurpose,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
